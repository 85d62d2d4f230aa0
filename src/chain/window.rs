//! The recent end of the best chain, with full headers and chain work: what
//! the retargeting, median-time and fork-choice rules read.

use super::pow::Work;
use crate::block::BlockHeader;
use crate::hash::BlockHash;
use std::collections::VecDeque;

/// A validated header with its hash and the chain work up to and including it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The header.
    pub header: BlockHeader,
    /// Its block hash.
    pub hash: BlockHash,
    /// Cumulative work from genesis through this block.
    pub chain_work: Work,
}

/// The last `capacity` entries of the best chain.
#[derive(Debug, Clone)]
pub struct Window {
    entries: VecDeque<Entry>,
    /// Height of `entries[0]`.
    first_height: u32,
    capacity: usize,
}

impl Window {
    /// A window holding `first` at `height`, keeping at most `capacity` entries.
    pub fn new(height: u32, first: Entry, capacity: usize) -> Window {
        let mut entries = VecDeque::with_capacity(capacity.min(1 << 16));
        entries.push_back(first);
        Window {
            entries,
            first_height: height,
            capacity: capacity.max(1),
        }
    }

    /// The height of the oldest entry held.
    pub fn first_height(&self) -> u32 {
        self.first_height
    }

    /// The entry at `height`, if held.
    pub fn get(&self, height: u32) -> Option<&Entry> {
        self.entries
            .get(height.checked_sub(self.first_height)? as usize)
    }

    /// The newest entry.
    pub fn last(&self) -> Option<&Entry> {
        self.entries.back()
    }

    /// Appends the entry after the newest, dropping the oldest beyond capacity.
    pub fn push(&mut self, entry: Entry) {
        self.entries.push_back(entry);
        while self.entries.len() > self.capacity {
            self.entries.pop_front();
            self.first_height += 1;
        }
    }

    /// Removes and returns the entries above `height`, lowest first; the
    /// entry at `height` stays.
    pub fn split_off_above(&mut self, height: u32) -> Vec<Entry> {
        let keep = (height.saturating_sub(self.first_height) as usize + 1).min(self.entries.len());
        self.entries.split_off(keep).into()
    }

    /// Entries from `height` to the newest, if `height` is held.
    pub fn entries_from(&self, height: u32) -> Option<impl Iterator<Item = &Entry>> {
        let offset = height.checked_sub(self.first_height)? as usize;
        (offset <= self.entries.len()).then(|| self.entries.range(offset..))
    }
}
