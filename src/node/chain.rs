//! The validated header chain as the sync managers see it: its view for them
//! ([`ChainView`]), connecting batches ([`ExtendableChain`]) and what a rejected batch
//! says about its sender ([`HeaderError`]).

use crate::chain::header_chain::{BlockId, HeaderChain, Outcome, Rejection};
use crate::chain::validation::{HashedHeader, ValidationError};
use crate::hash::BlockHash;
use crate::sync::chain_view::{
    ChainView, ExtendableChain, HeaderError, HeaderFault, HeadersConnected,
};
use crate::sync::time::Millis;

impl HeaderError for Rejection {
    fn fault(&self) -> HeaderFault {
        match self.reason {
            ValidationError::TimeTooNew { time, max_allowed } => HeaderFault::TooNew {
                wait: Millis::from_secs(u64::from(time).saturating_sub(max_allowed)),
            },
            ValidationError::ReorgTooDeep { .. } | ValidationError::UnknownParent { .. } => {
                HeaderFault::NotBlamed
            }
            ValidationError::BadPrevHash { .. }
            | ValidationError::BadProofOfWork { .. }
            | ValidationError::TargetOutOfRange { .. }
            | ValidationError::BadDifficulty { .. }
            | ValidationError::TimeTooOld { .. }
            | ValidationError::CheckpointMismatch { .. }
            | ValidationError::ForkBelowCheckpoint { .. }
            | ValidationError::HeightOutOfRange => HeaderFault::Invalid,
        }
    }
}

impl ChainView for HeaderChain {
    fn tip(&self) -> BlockId {
        HeaderChain::tip(self).into()
    }

    fn locator(&self) -> Vec<BlockHash> {
        HeaderChain::locator(self)
    }

    fn has_minimum_work(&self) -> bool {
        HeaderChain::has_minimum_work(self)
    }
}

impl ExtendableChain for HeaderChain {
    type Error = Rejection;

    /// Accepts the headers and reports how many joined the best chain, or the rejection if
    /// none did.
    fn connect_headers(
        &mut self,
        headers: &[HashedHeader],
        unix_secs: u64,
    ) -> Result<HeadersConnected, Rejection> {
        let report = self.accept(headers, unix_secs);
        let new_headers = match report.outcome {
            Outcome::Extended { first_height, tip } => {
                tip.height.saturating_sub(first_height) as usize + 1
            }
            Outcome::Reorganized {
                to, fork_height, ..
            } => to.height.saturating_sub(fork_height) as usize,
            Outcome::Unchanged | Outcome::SideBranch { .. } => 0,
        };
        match report.rejected {
            Some(rejection) if new_headers == 0 => Err(rejection),
            _ => Ok(HeadersConnected {
                new_headers,
                tip: ChainView::tip(self),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(reason: ValidationError) -> HeaderFault {
        Rejection {
            index: 0,
            height: Some(1),
            hash: BlockHash::ZERO,
            reason,
        }
        .fault()
    }

    #[test]
    fn only_what_breaks_the_rules_is_blamed() {
        assert_eq!(
            fault(ValidationError::TimeTooNew {
                time: 10_000,
                max_allowed: 9_000
            }),
            HeaderFault::TooNew {
                wait: Millis::from_secs(1_000)
            }
        );
        assert_eq!(
            fault(ValidationError::ReorgTooDeep {
                depth: 2_000,
                max_depth: 1_000
            }),
            HeaderFault::NotBlamed
        );
        assert_eq!(
            fault(ValidationError::UnknownParent {
                prev: BlockHash::ZERO
            }),
            HeaderFault::NotBlamed
        );
        assert_eq!(
            fault(ValidationError::BadProofOfWork {
                hash: BlockHash::ZERO,
                bits: 0x1d00_ffff
            }),
            HeaderFault::Invalid
        );
        assert_eq!(
            fault(ValidationError::TimeTooOld {
                time: 1,
                median_time_past: 2
            }),
            HeaderFault::Invalid
        );
    }
}
