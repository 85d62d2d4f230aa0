//! What the engine needs from the header chain.

use crate::block::BlockHeader;
use crate::hash::BlockHash;

/// Height and hash lookups on the best header chain, supplied by the sync layer.
pub trait HeaderChain {
    /// The height of the block with this hash, if it is on the best chain.
    fn height_of(&self, hash: &BlockHash) -> Option<u32>;

    /// The header of the best chain at `height`.
    fn header_at(&self, height: u32) -> Option<BlockHeader>;

    /// The block hash of the best chain at `height`.
    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.header_at(height).map(|h| h.block_hash())
    }
}
