//! The validated header chain as the sync managers and the masternode engine
//! see it.

use crate::block::BlockHeader;
use crate::chain::header_chain::{HeaderChain, Rejection};
use crate::chain::validation::HashedHeader;
use crate::hash::BlockHash;
use crate::mnlist::HeaderChain as EngineHeaders;
use crate::sync::chain_view::{
    ChainTip, ChainView, HeaderChain as SyncHeaderChain, HeadersConnected,
};

/// Headers of the best chain that changed since they were last stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnstoredHeaders {
    /// Height of the first header.
    pub first_height: u32,
    /// The headers from `first_height` to the tip.
    pub headers: Vec<BlockHeader>,
    /// The tip they lead to.
    pub tip: ChainTip,
}

/// A [`HeaderChain`] with the clock and the bookkeeping the client needs.
#[derive(Debug, Clone)]
pub struct ClientChain {
    chain: HeaderChain,
    unix_time: u64,
    unstored_from: Option<u32>,
}

impl ClientChain {
    /// Wraps `chain`; `unix_time` (seconds) bounds header times from above.
    pub fn new(chain: HeaderChain, unix_time: u64) -> ClientChain {
        ClientChain {
            chain,
            unix_time,
            unstored_from: None,
        }
    }

    /// The chain.
    pub fn inner(&self) -> &HeaderChain {
        &self.chain
    }

    /// Sets the wall-clock time used for the future-time check.
    pub fn set_unix_time(&mut self, unix_time: u64) {
        self.unix_time = unix_time;
    }

    /// Takes the headers changed since the last call, for storage. `None`
    /// when nothing changed, or when the changed headers have left the
    /// window of recent headers the chain holds (they then cannot be stored
    /// without their data; store more often).
    pub fn take_unstored(&mut self) -> Option<UnstoredHeaders> {
        let first_height = self.unstored_from.take()?;
        let headers = self.chain.headers_from(first_height)?;
        Some(UnstoredHeaders {
            first_height,
            headers,
            tip: self.tip(),
        })
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
        let before = self.chain.tip().height;
        let report = self.chain.accept(&hashed, self.unix_time);
        let new_headers = match report.outcome.first_changed_height() {
            Some(first) => {
                self.unstored_from =
                    Some(self.unstored_from.map_or(first, |known| known.min(first)));
                self.chain
                    .tip()
                    .height
                    .saturating_sub(first.min(before + 1)) as usize
                    + 1
            }
            None => 0,
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
