//! The validated header chain as the sync managers and the masternode engine
//! see it.

use crate::block::BlockHeader;
use crate::chain::header_chain::{HeaderChain, Outcome, Rejection};
use crate::chain::validation::HashedHeader;
use crate::hash::BlockHash;
use crate::mnlist::HeaderChain as EngineHeaders;
use crate::sync::chain_view::{
    ChainTip, ChainView, HeaderChain as SyncHeaderChain, HeadersConnected,
};

/// A [`HeaderChain`] with the clock and the bookkeeping the client needs.
#[derive(Debug, Clone)]
pub struct ClientChain {
    chain: HeaderChain,
    unix_time: u64,
}

impl ClientChain {
    /// Wraps `chain`; `unix_time` (seconds) bounds header times from above.
    pub fn new(chain: HeaderChain, unix_time: u64) -> ClientChain {
        ClientChain { chain, unix_time }
    }

    /// The chain.
    pub fn inner(&self) -> &HeaderChain {
        &self.chain
    }

    /// Sets the wall-clock time used for the future-time check.
    pub fn set_unix_time(&mut self, unix_time: u64) {
        self.unix_time = unix_time;
    }
}

impl ChainView for ClientChain {
    fn tip(&self) -> ChainTip {
        let tip = self.chain.tip();
        ChainTip {
            height: tip.height,
            hash: tip.hash,
        }
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.chain.hash_at(height)
    }

    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.chain.height_of(hash)
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.chain.header_at(height).copied()
    }

    fn locator(&self) -> Vec<BlockHash> {
        self.chain.locator()
    }
}

impl SyncHeaderChain for ClientChain {
    type Error = Rejection;

    fn connect_headers(&mut self, headers: &[BlockHeader]) -> Result<HeadersConnected, Rejection> {
        let hashed: Vec<HashedHeader> = headers.iter().map(|h| HashedHeader::new(*h)).collect();
        let report = self.chain.accept(&hashed, self.unix_time);
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

/// The engine's lookups through the sync layer's object-safe chain view.
pub(crate) struct ViewHeaders<'a>(pub &'a dyn ChainView);

impl EngineHeaders for ViewHeaders<'_> {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.0.height_of(hash)
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.0.header_at(height)
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.0.hash_at(height)
    }
}
