//! What the sync managers need from the header chain.
//!
//! The header chain implements these traits; the sync managers never store headers
//! themselves. [`ChainView`] is object safe so the masternode engine can be handed a
//! `&dyn ChainView` to resolve block heights and hashes.

use crate::block::BlockHeader;
use crate::hash::BlockHash;
use core::fmt;

/// The best block of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainTip {
    /// Height of the best block.
    pub height: u32,
    /// Hash of the best block.
    pub hash: BlockHash,
}

/// Read access to the best header chain.
pub trait ChainView {
    /// The best block.
    fn tip(&self) -> ChainTip;

    /// The hash of the block at `height` on the best chain, if the chain reaches it.
    fn hash_at(&self, height: u32) -> Option<BlockHash>;

    /// The height of `hash` if it is on the best chain.
    fn height_of(&self, hash: &BlockHash) -> Option<u32>;

    /// A block locator for `getheaders`: hashes from the tip back towards the start,
    /// densely at first and then exponentially spaced.
    fn locator(&self) -> Vec<BlockHash>;
}

/// What connecting a batch of headers did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadersConnected {
    /// How many headers were new (already known ones are skipped, not counted).
    pub new_headers: usize,
    /// The best block afterwards.
    pub tip: ChainTip,
}

/// A header chain the header manager can extend.
pub trait HeaderChain: ChainView {
    /// Why a batch of headers was rejected (bad proof of work, does not connect, …).
    type Error: fmt::Display + fmt::Debug;

    /// Validates `headers` (consecutive, in order) and connects them to the chain.
    fn connect_headers(&mut self, headers: &[BlockHeader])
        -> Result<HeadersConnected, Self::Error>;
}
