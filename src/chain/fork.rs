//! Branches that leave the best chain with less work than it: kept aside,
//! within bounds, in case they overtake it later.

use super::pow::Work;
use super::window::Entry;
use crate::hash::BlockHash;

/// A chain of validated headers that leaves the best chain after `fork_height`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideBranch {
    /// Height of the last block shared with the best chain.
    pub fork_height: u32,
    /// The branch's headers from `fork_height + 1` on; never empty when stored.
    pub entries: Vec<Entry>,
}

impl SideBranch {
    /// Height of the branch's last header.
    pub fn tip_height(&self) -> u32 {
        self.fork_height + self.entries.len() as u32
    }

    /// Chain work through the branch's last header.
    pub fn chain_work(&self) -> Work {
        self.entries.last().map_or(Work::ZERO, |e| e.chain_work)
    }
}

/// Where a hash was found among the side branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchPosition {
    /// Which branch.
    pub branch: usize,
    /// Offset of the header within the branch's entries.
    pub offset: usize,
}

/// The side branches, bounded in number and in total headers.
#[derive(Debug, Clone, Default)]
pub struct SideBranches {
    branches: Vec<SideBranch>,
    max_branches: usize,
    max_headers: usize,
}

impl SideBranches {
    /// An empty store keeping at most `max_branches` branches of `max_headers` headers in all.
    pub fn new(max_branches: usize, max_headers: usize) -> SideBranches {
        SideBranches {
            branches: Vec::new(),
            max_branches,
            max_headers,
        }
    }

    /// The branches kept.
    pub fn branches(&self) -> &[SideBranch] {
        &self.branches
    }

    /// Finds the header with `hash`.
    pub fn locate(&self, hash: &BlockHash) -> Option<BranchPosition> {
        self.branches.iter().enumerate().find_map(|(branch, b)| {
            b.entries
                .iter()
                .position(|e| &e.hash == hash)
                .map(|offset| BranchPosition { branch, offset })
        })
    }

    /// The branch a new header with parent at `at` grows: the branch itself,
    /// removed from the store (`true`), when `at` is its tip; otherwise a copy
    /// of it up to `at` (`false`).
    pub fn take_for_growth(&mut self, at: BranchPosition) -> Option<(SideBranch, bool)> {
        let branch = self.branches.get(at.branch)?;
        if at.offset + 1 == branch.entries.len() {
            return Some((self.branches.remove(at.branch), true));
        }
        let copy = SideBranch {
            fork_height: branch.fork_height,
            entries: branch.entries.get(..=at.offset)?.to_vec(),
        };
        Some((copy, false))
    }

    /// Keeps `branch` if the bounds allow, evicting the branches with the
    /// least work first; returns whether `branch` itself was kept.
    pub fn insert(&mut self, branch: SideBranch) -> bool {
        if branch.entries.is_empty() {
            return false;
        }
        let tip = branch.entries.last().map(|e| e.hash);
        self.branches.push(branch);
        self.enforce_bounds();
        self.branches
            .iter()
            .any(|b| b.entries.last().map(|e| e.hash) == tip)
    }

    /// Removes and returns every branch that forks above `height`.
    pub fn take_forking_above(&mut self, height: u32) -> Vec<SideBranch> {
        let (above, rest) = core::mem::take(&mut self.branches)
            .into_iter()
            .partition(|b| b.fork_height > height);
        self.branches = rest;
        above
    }

    /// Drops every branch for which `keep` is false.
    pub fn retain(&mut self, keep: impl FnMut(&SideBranch) -> bool) {
        self.branches.retain(keep);
    }

    fn enforce_bounds(&mut self) {
        loop {
            let headers: usize = self.branches.iter().map(|b| b.entries.len()).sum();
            if self.branches.len() <= self.max_branches && headers <= self.max_headers {
                return;
            }
            let weakest = self
                .branches
                .iter()
                .enumerate()
                .min_by_key(|(_, b)| b.chain_work())
                .map(|(i, _)| i);
            match weakest {
                Some(i) => {
                    self.branches.remove(i);
                }
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockHeader;
    use crate::chain::u256::U256;
    use crate::hash::MerkleNode;

    fn entry(id: u8, work: u64) -> Entry {
        Entry {
            header: BlockHeader {
                version: 1,
                prev_blockhash: BlockHash::ZERO,
                merkle_root: MerkleNode::ZERO,
                time: 0,
                bits: 0,
                nonce: u32::from(id),
            },
            hash: BlockHash([id; 32]),
            chain_work: Work::from_be_bytes(&U256::from_u64(work).to_be_bytes()),
        }
    }

    fn branch(fork_height: u32, ids: &[u8], work: u64) -> SideBranch {
        SideBranch {
            fork_height,
            entries: ids.iter().map(|&id| entry(id, work)).collect(),
        }
    }

    #[test]
    fn growth_takes_the_tip_branch_and_copies_from_the_middle() {
        let mut side = SideBranches::new(4, 100);
        assert!(side.insert(branch(10, &[1, 2, 3], 5)));
        let middle = side.locate(&BlockHash([2; 32])).unwrap();
        let (copy, taken) = side.take_for_growth(middle).unwrap();
        assert!(!taken);
        assert_eq!(copy.entries.len(), 2);
        assert_eq!(side.branches().len(), 1);
        let tip = side.locate(&BlockHash([3; 32])).unwrap();
        let (grown, taken) = side.take_for_growth(tip).unwrap();
        assert!(taken);
        assert_eq!(grown.tip_height(), 13);
        assert!(side.branches().is_empty());
    }

    #[test]
    fn bounds_evict_the_least_work() {
        let mut side = SideBranches::new(2, 5);
        assert!(side.insert(branch(10, &[1, 2], 50)));
        assert!(side.insert(branch(10, &[3, 4], 70)));
        // Over the branch count: the weakest goes, even the newcomer.
        assert!(!side.insert(branch(10, &[5], 10)));
        assert!(side.insert(branch(10, &[6], 60)));
        assert!(side.locate(&BlockHash([1; 32])).is_none());
        // Over the header count.
        assert!(!side.insert(branch(10, &[7, 8, 9], 55)));
        assert_eq!(side.branches().len(), 2);
    }

    #[test]
    fn branches_above_a_height_are_taken_out() {
        let mut side = SideBranches::new(4, 100);
        side.insert(branch(10, &[1], 5));
        side.insert(branch(20, &[2], 5));
        let above = side.take_forking_above(15);
        assert_eq!(above.len(), 1);
        assert_eq!(above[0].fork_height, 20);
        assert_eq!(side.branches().len(), 1);
    }
}
