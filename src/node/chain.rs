//! The validated header chain as the sync managers and the masternode engine
//! see it.

use crate::block::BlockHeader;
use crate::chain::header_chain::{BlockId, HeaderChain, Outcome, Rejection};
use crate::chain::lookup::HeaderLookup;
use crate::chain::validation::{HashedHeader, ValidationError};
use crate::hash::BlockHash;
use crate::sync::chain_view::{
    ChainView, ExtendableChain, HeaderError, HeaderFault, HeadersConnected,
};
use crate::sync::time::Millis;

/// A [`HeaderChain`] as the sync managers see it. It holds no clock: the wall-clock time
/// of each batch comes with the batch.
#[derive(Debug, Clone)]
pub struct ClientChain {
    chain: HeaderChain,
}

impl ClientChain {
    /// Wraps `chain`.
    pub fn new(chain: HeaderChain) -> ClientChain {
        ClientChain { chain }
    }

    /// The chain.
    pub fn inner(&self) -> &HeaderChain {
        &self.chain
    }
}

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

impl HeaderLookup for ClientChain {
    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.chain.hash_at(height)
    }

    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.chain.height_of(hash)
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.chain.header_at(height).copied()
    }
}

impl ChainView for ClientChain {
    fn tip(&self) -> BlockId {
        self.chain.tip().into()
    }

    fn locator(&self) -> Vec<BlockHash> {
        self.chain.locator()
    }

    fn has_minimum_work(&self) -> bool {
        self.chain.has_minimum_work()
    }
}

impl ExtendableChain for ClientChain {
    type Error = Rejection;

    fn connect_headers(
        &mut self,
        headers: &[BlockHeader],
        unix_secs: u64,
    ) -> Result<HeadersConnected, Rejection> {
        let hashed: Vec<HashedHeader> = headers.iter().map(|h| HashedHeader::new(*h)).collect();
        let report = self.chain.accept(&hashed, unix_secs);
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
                tip: self.tip(),
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
