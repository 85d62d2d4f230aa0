//! A compact index of the best chain: height → hash for every block from the
//! sync base to the tip, and hash → height through an open-addressing table
//! of heights that stores no keys of its own.
//!
//! Memory: 32 bytes per block for the hashes (grown 65,536 at a time) plus
//! 4 bytes per table slot (the table is between 3/8 and 3/4 full, so 5.3 to
//! 10.7 bytes per block): under 43 bytes per header, about 100 MB for
//! mainnet's 2.5 million blocks.

use crate::hash::BlockHash;

/// Marks a free slot in the table.
const EMPTY: u32 = u32::MAX;

/// Hashes per segment of the height → hash array (2 MB): the array grows a
/// segment at a time, never copying what it holds nor reserving double.
const SEGMENT: usize = 1 << 16;

/// Block hashes by offset from the base, in fixed-size segments.
#[derive(Debug, Clone, Default)]
struct Segmented {
    segments: Vec<Vec<BlockHash>>,
    len: usize,
}

impl Segmented {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, offset: usize) -> Option<&BlockHash> {
        self.segments.get(offset / SEGMENT)?.get(offset % SEGMENT)
    }

    fn last(&self) -> Option<&BlockHash> {
        self.get(self.len.checked_sub(1)?)
    }

    fn push(&mut self, hash: BlockHash) {
        if self.len % SEGMENT == 0 {
            self.segments.push(Vec::with_capacity(SEGMENT));
        }
        if let Some(segment) = self.segments.last_mut() {
            segment.push(hash);
            self.len += 1;
        }
    }

    fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        if len == 0 {
            self.segments.clear();
            self.len = 0;
            return;
        }
        self.segments.truncate(len.div_ceil(SEGMENT));
        if let Some(segment) = self.segments.last_mut() {
            segment.truncate(len - (len - 1) / SEGMENT * SEGMENT);
        }
        self.len = len;
    }

    fn iter_from(&self, offset: usize) -> impl Iterator<Item = &BlockHash> {
        let first = self.segments.get(offset / SEGMENT..).unwrap_or(&[]);
        first.iter().flatten().skip(offset % SEGMENT)
    }

    fn heap_bytes(&self) -> usize {
        self.segments.len() * SEGMENT * core::mem::size_of::<BlockHash>()
            + self.segments.capacity() * core::mem::size_of::<Vec<BlockHash>>()
    }
}

/// Height ↔ hash index of the best chain.
#[derive(Debug, Clone)]
pub struct HeightIndex {
    /// Height of `hashes[0]`.
    base_height: u32,
    /// Block hashes by height, from the base.
    hashes: Segmented,
    /// Open-addressing table of offsets into `hashes`; a power of two long.
    /// Entries whose hash no longer matches (after a reorganisation) are stale
    /// and skipped; they are dropped when the table grows.
    slots: Vec<u32>,
    /// Slots in use, stale ones included.
    used: usize,
}

impl HeightIndex {
    /// An index holding only `base_hash` at `base_height`.
    pub fn new(base_height: u32, base_hash: BlockHash) -> HeightIndex {
        let mut index = HeightIndex {
            base_height,
            hashes: Segmented::default(),
            slots: vec![EMPTY; 1024],
            used: 0,
        };
        index.push(base_hash);
        index
    }

    /// The height of the first block indexed.
    pub fn base_height(&self) -> u32 {
        self.base_height
    }

    /// The height of the last block indexed.
    pub fn tip_height(&self) -> u32 {
        // The base is never removed, so there is always at least one hash.
        self.base_height + (self.hashes.len() as u32).saturating_sub(1)
    }

    /// The hash of the last block indexed.
    pub fn tip_hash(&self) -> BlockHash {
        self.hashes.last().copied().unwrap_or_default()
    }

    /// The hash at `height`, if it is on the indexed chain.
    pub fn hash_at(&self, height: u32) -> Option<BlockHash> {
        let offset = height.checked_sub(self.base_height)?;
        self.hashes.get(offset as usize).copied()
    }

    /// The height of `hash`, if it is on the indexed chain.
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut slot = slot_of(hash, mask);
        loop {
            let offset = *self.slots.get(slot)?;
            if offset == EMPTY {
                return None;
            }
            if self.hashes.get(offset as usize) == Some(hash) {
                return Some(self.base_height + offset);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Appends the hash of the block after the tip.
    pub fn push(&mut self, hash: BlockHash) {
        if (self.used + 1) * 4 > self.slots.len() * 3 {
            self.rebuild(self.slots.len() * 2);
        }
        let offset = self.hashes.len() as u32;
        self.hashes.push(hash);
        self.insert(offset);
    }

    /// Removes every block above `height` (the base always stays).
    pub fn truncate_above(&mut self, height: u32) {
        let keep = height.saturating_sub(self.base_height) as usize + 1;
        self.hashes.truncate(keep.max(1));
    }

    /// Hashes from `height` to the tip.
    pub fn hashes_from(&self, height: u32) -> impl Iterator<Item = &BlockHash> {
        let offset = height.saturating_sub(self.base_height) as usize;
        self.hashes.iter_from(offset)
    }

    /// Bytes of heap memory held.
    pub fn heap_bytes(&self) -> usize {
        self.hashes.heap_bytes() + self.slots.capacity() * core::mem::size_of::<u32>()
    }

    fn insert(&mut self, offset: u32) {
        let mask = self.slots.len() - 1;
        let Some(hash) = self.hashes.get(offset as usize) else {
            return;
        };
        let mut slot = slot_of(hash, mask);
        while let Some(entry) = self.slots.get_mut(slot) {
            if *entry == EMPTY {
                *entry = offset;
                self.used += 1;
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Re-creates the table with `capacity` slots, dropping stale entries.
    fn rebuild(&mut self, capacity: usize) {
        let mut capacity = capacity.max(1024);
        while (self.hashes.len() + 1) * 4 > capacity * 3 {
            capacity *= 2;
        }
        self.slots = vec![EMPTY; capacity];
        self.used = 0;
        for offset in 0..self.hashes.len() as u32 {
            self.insert(offset);
        }
    }
}

/// The first slot to probe for `hash`: its low 8 bytes (uniformly random in a
/// block hash, whose high bytes are the zeros of the proof of work), mixed.
fn slot_of(hash: &BlockHash, mask: usize) -> usize {
    let bytes = hash.as_bytes();
    let low = u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]);
    (low.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u32) -> BlockHash {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_le_bytes());
        bytes[4..8].copy_from_slice(&n.to_le_bytes());
        BlockHash(bytes)
    }

    #[test]
    fn finds_every_height_after_growing() {
        let mut index = HeightIndex::new(100, hash(0));
        for n in 1..10_000 {
            index.push(hash(n));
        }
        assert_eq!(index.tip_height(), 100 + 9_999);
        for n in (0..10_000).step_by(7) {
            assert_eq!(index.height_of(&hash(n)), Some(100 + n));
            assert_eq!(index.hash_at(100 + n), Some(hash(n)));
        }
        assert_eq!(index.height_of(&hash(20_000)), None);
        assert_eq!(index.hash_at(99), None);
    }

    #[test]
    fn truncation_forgets_the_removed_blocks() {
        let mut index = HeightIndex::new(0, hash(0));
        for n in 1..100 {
            index.push(hash(n));
        }
        index.truncate_above(49);
        assert_eq!(index.tip_height(), 49);
        assert_eq!(index.height_of(&hash(60)), None);
        // A different block at a reused height replaces the old one.
        index.push(hash(1_000));
        assert_eq!(index.height_of(&hash(1_000)), Some(50));
        assert_eq!(index.height_of(&hash(50)), None);
        let tail: Vec<BlockHash> = index.hashes_from(48).copied().collect();
        assert_eq!(tail, [hash(48), hash(49), hash(1_000)]);
        index.truncate_above(0);
        assert_eq!(index.tip_height(), 0);
        assert_eq!(index.tip_hash(), hash(0));
    }

    #[test]
    fn stays_under_43_bytes_per_block() {
        let mut index = HeightIndex::new(0, hash(0));
        for n in 1..1_000_000 {
            index.push(hash(n));
        }
        assert!(
            index.heap_bytes() / 1_000_000 < 43,
            "{}",
            index.heap_bytes()
        );
    }
}
