//! Looking blocks up on the best header chain by height or hash: what the
//! masternode engine, the sync managers and the tools need from a chain, and
//! [`HeaderMap`], a chain given as known blocks.

use crate::block::{BlockHeader, HEADER_SIZE};
use crate::hash::BlockHash;
use std::collections::HashMap;

/// Height, hash and header lookups on the best header chain.
pub trait HeaderLookup {
    /// The height of the block with this hash, if it is on the best chain.
    fn height_of(&self, hash: &BlockHash) -> Option<u32>;

    /// The full header at `height` on the best chain, if the chain holds it
    /// (a light chain keeps only recent headers in full).
    fn header_at(&self, height: u32) -> Option<BlockHeader>;

    /// The hash of the block at `height` on the best chain, if the chain reaches it.
    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.header_at(height).map(|h| h.block_hash())
    }
}

impl<T: HeaderLookup + ?Sized> HeaderLookup for &T {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        (**self).height_of(hash)
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        (**self).header_at(height)
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        (**self).hash_at(height)
    }
}

/// A chain given as the blocks known of it: headers with their hashes, blocks
/// known only by hash, and heights known only by hash.
#[derive(Debug, Default, Clone)]
pub struct HeaderMap {
    headers: HashMap<u32, BlockHeader>,
    hashes: HashMap<u32, BlockHash>,
    heights: HashMap<BlockHash, u32>,
}

impl HeaderMap {
    /// Adds a run of consecutive serialized headers starting at `start`. Each
    /// hash is read from the next header's `prev_blockhash`; only the last is hashed.
    pub fn add_run(&mut self, bytes: &[u8], start: u32) {
        let headers: Vec<BlockHeader> = bytes
            .chunks_exact(HEADER_SIZE)
            .filter_map(|c| <&[u8; HEADER_SIZE]>::try_from(c).ok())
            .map(BlockHeader::from_bytes)
            .collect();
        for (i, header) in headers.iter().enumerate() {
            let hash = headers
                .get(i + 1)
                .map_or_else(|| header.block_hash(), |next| next.prev_blockhash);
            self.add(start.saturating_add(i as u32), *header, hash);
        }
    }

    /// Adds the blocks of a `height,hash,header_hex` CSV (after its title
    /// line). A malformed line stops it: its line number (from 1) is the error.
    pub fn add_csv(&mut self, text: &str) -> Result<(), usize> {
        for (i, line) in text.lines().enumerate().skip(1) {
            let mut fields = line.split(',');
            let parsed = (|| {
                let height: u32 = fields.next()?.trim().parse().ok()?;
                let hash: BlockHash = fields.next()?.trim().parse().ok()?;
                let mut bytes = [0u8; HEADER_SIZE];
                hex::decode_to_slice(fields.next()?.trim(), &mut bytes).ok()?;
                Some((height, hash, BlockHeader::from_bytes(&bytes)))
            })();
            let (height, hash, header) = parsed.ok_or(i + 1)?;
            self.add(height, header, hash);
        }
        Ok(())
    }

    /// Adds the block at `height`: its header and hash.
    pub fn add(&mut self, height: u32, header: BlockHeader, hash: BlockHash) {
        self.headers.insert(height, header);
        self.add_hash(height, hash);
    }

    /// Adds the block at `height` known only by its hash.
    pub fn add_hash(&mut self, height: u32, hash: BlockHash) {
        self.hashes.insert(height, hash);
        self.heights.insert(hash, height);
    }

    /// Records the height of the block `hash` unless it is known already;
    /// `hash_at(height)` does not learn it.
    pub fn learn_height(&mut self, hash: BlockHash, height: u32) {
        self.heights.entry(hash).or_insert(height);
    }

    /// Whether no header is held.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }
}

impl HeaderLookup for HeaderMap {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.headers.get(&height).copied()
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.hashes.get(&height).copied()
    }
}
