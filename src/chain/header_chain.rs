//! The header chain: the best (most-work) chain from a sync base, with
//! competing branches kept aside and reorganisations up to a bounded depth.

use super::checkpoints::{checkpoint, last_checkpoint_at_or_below, minimum_chain_work};
use super::difficulty::{Ancestry, MAX_LOOKBACK};
use super::fork::{SideBranch, SideBranches};
use super::index::HeightIndex;
use super::lookup::HeaderLookup;
use super::params::ConsensusParams;
use super::pow::Work;
use super::sync_base::SyncBase;
use super::validation::{check_header, HashedHeader, ValidationError};
use super::window::{Entry, Window};
use crate::block::BlockHeader;
use crate::hash::BlockHash;
use crate::network::Network;
use core::fmt;

/// Limits of a [`HeaderChain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainConfig {
    /// The most best-chain blocks a reorganisation may disconnect.
    pub max_reorg_depth: u32,
    /// The most side branches kept.
    pub max_side_branches: usize,
    /// The most headers kept on side branches in all.
    pub max_side_headers: usize,
    /// The least work the best chain must have to be trusted: below it the
    /// chain is not reported as synced, and the reorganisation limit does not
    /// protect it: a branch with more work replaces it however deep the fork,
    /// as far as the headers held reach (a cheap low-difficulty chain offered
    /// first must not lock the real one out).
    ///
    /// [`ChainConfig::for_network`] sets the network's compiled-in
    /// [`minimum_chain_work`] (Dash Core's, which lies past the newest
    /// checkpoint); the [`Default`] sets none, for replays of recorded history
    /// that ends below it. Forks deeper than the headers held (the limit plus
    /// the retargeting lookback) still cannot be weighed.
    pub minimum_chain_work: Work,
}

impl ChainConfig {
    /// The default limits with `network`'s compiled-in minimum chain work.
    pub fn for_network(network: Network) -> ChainConfig {
        ChainConfig {
            minimum_chain_work: minimum_chain_work(network),
            ..ChainConfig::default()
        }
    }
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            max_reorg_depth: 1_000,
            max_side_branches: 8,
            max_side_headers: 4_000,
            minimum_chain_work: Work::ZERO,
        }
    }
}

/// A block named by height and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockId {
    /// The height.
    pub height: u32,
    /// The hash.
    pub hash: BlockHash,
}

/// The tip of the best chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainTip {
    /// Height of the last block.
    pub height: u32,
    /// Hash of the last block.
    pub hash: BlockHash,
    /// Cumulative work from genesis through the last block.
    pub chain_work: Work,
}

impl From<ChainTip> for BlockId {
    fn from(tip: ChainTip) -> BlockId {
        BlockId {
            height: tip.height,
            hash: tip.hash,
        }
    }
}

/// What a batch of headers did to the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changed: every header was already known, or the first was invalid.
    Unchanged,
    /// The best chain grew.
    Extended {
        /// Height of the first new block.
        first_height: u32,
        /// The new tip.
        tip: BlockId,
    },
    /// A branch with more work replaced the top of the best chain.
    Reorganized {
        /// The old tip.
        from: BlockId,
        /// The new tip.
        to: BlockId,
        /// Height of the last block both chains share.
        fork_height: u32,
        /// Blocks of the old best chain disconnected.
        depth: u32,
    },
    /// The headers went to a branch with no more work than the best chain.
    SideBranch {
        /// Height of the last block the branch shares with the best chain.
        fork_height: u32,
        /// The branch's tip.
        tip: BlockId,
        /// Whether the branch is kept (false: dropped by the side-branch limits).
        kept: bool,
    },
}

/// The first invalid header of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// Its position in the batch.
    pub index: usize,
    /// Its height, when its parent is known.
    pub height: Option<u32>,
    /// Its hash.
    pub hash: BlockHash,
    /// What is wrong with it.
    pub reason: ValidationError,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.height {
            Some(height) => write!(
                f,
                "header {} at height {height}: {}",
                self.hash, self.reason
            ),
            None => write!(f, "header {}: {}", self.hash, self.reason),
        }
    }
}

/// The result of offering a batch of headers: valid headers before the first
/// invalid one are kept, the rest of the batch is not looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    /// What the valid headers did.
    pub outcome: Outcome,
    /// The first invalid header, if any.
    pub rejected: Option<Rejection>,
}

/// Why stored headers could not be restored into a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreError {
    /// The first stored header does not build on the sync base.
    BrokenLink {
        /// Its height.
        height: u32,
    },
    /// A stored block at a checkpoint height is not the checkpoint.
    CheckpointMismatch {
        /// The height.
        height: u32,
    },
    /// The last stored header is not the stored tip.
    TipMismatch {
        /// The stored tip.
        expected: BlockId,
        /// The last header restored.
        found: BlockId,
    },
    /// The work of the stored headers does not add up to the stored tip's.
    WorkMismatch,
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BrokenLink { height } => {
                write!(f, "stored header {height} does not follow the sync base")
            }
            Self::CheckpointMismatch { height } => {
                write!(
                    f,
                    "stored block at height {height} contradicts its checkpoint"
                )
            }
            Self::TipMismatch { expected, found } => write!(
                f,
                "stored tip is {} at {}, headers end with {} at {}",
                expected.hash, expected.height, found.hash, found.height
            ),
            Self::WorkMismatch => f.write_str("stored chain work does not add up"),
        }
    }
}

impl std::error::Error for RestoreError {}

/// The ancestry a header is validated against: the best chain up to
/// `fork_height`, then `branch`.
struct View<'a> {
    window: &'a Window,
    fork_height: u32,
    branch: &'a [Entry],
}

impl View<'_> {
    fn entry(&self, height: u32) -> Option<&Entry> {
        match height.checked_sub(self.fork_height) {
            Some(0) | None => self.window.get(height),
            Some(above) => self.branch.get(above as usize - 1),
        }
    }

    fn tip(&self) -> Option<&Entry> {
        self.entry(self.tip_height())
    }
}

impl Ancestry for View<'_> {
    fn tip_height(&self) -> u32 {
        self.fork_height + self.branch.len() as u32
    }

    fn header_at(&self, height: u32) -> Option<&BlockHeader> {
        self.entry(height).map(|e| &e.header)
    }
}

/// The best header chain from a sync base, with bounded side branches.
///
/// Full headers are kept only for a recent window (enough for the
/// retargeting rules, the median time and the reorganisation limit); every
/// height's hash is kept in a compact index, so any block from the base to
/// the tip can be named by height or by hash.
#[derive(Debug, Clone)]
pub struct HeaderChain {
    params: ConsensusParams,
    base: SyncBase,
    config: ChainConfig,
    index: HeightIndex,
    window: Window,
    side: SideBranches,
}

impl HeaderChain {
    /// A chain holding only `base`, with the default limits.
    pub fn new(base: SyncBase) -> HeaderChain {
        HeaderChain::with_config(base, ChainConfig::default())
    }

    /// A chain holding only `base`.
    pub fn with_config(base: SyncBase, config: ChainConfig) -> HeaderChain {
        let first = Entry {
            header: *base.header(),
            hash: base.hash(),
            chain_work: base.chain_work(),
        };
        let capacity = config.max_reorg_depth as usize + MAX_LOOKBACK as usize + 2;
        HeaderChain {
            params: ConsensusParams::for_network(base.network()),
            base,
            config,
            index: HeightIndex::new(base.height(), base.hash()),
            window: Window::new(base.height(), first, capacity),
            side: SideBranches::new(config.max_side_branches, config.max_side_headers),
        }
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.params.network
    }

    /// The block the chain starts from.
    pub fn base(&self) -> &SyncBase {
        &self.base
    }

    /// The limits in force.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The tip of the best chain.
    pub fn tip(&self) -> ChainTip {
        let chain_work = self
            .window
            .last()
            .map_or(self.base.chain_work(), |e| e.chain_work);
        ChainTip {
            height: self.index.tip_height(),
            hash: self.index.tip_hash(),
            chain_work,
        }
    }

    /// The least work the best chain must have to be trusted (see
    /// [`ChainConfig::minimum_chain_work`]).
    pub fn minimum_chain_work(&self) -> Work {
        self.config.minimum_chain_work
    }

    /// Whether the best chain has at least the minimum chain work: only then
    /// may it be reported as synced.
    pub fn has_minimum_work(&self) -> bool {
        self.tip().chain_work >= self.config.minimum_chain_work
    }

    /// The hash of the best-chain block at `height`.
    pub fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.index.hash_at(height)
    }

    /// The height of `hash`, if it is on the best chain.
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.index.height_of(hash)
    }

    /// The header at `height`, if it is on the best chain and recent enough to be held.
    pub fn header_at(&self, height: u32) -> Option<&BlockHeader> {
        self.window.get(height).map(|e| &e.header)
    }

    /// Cumulative work through the best-chain block at `height`, if it is recent enough to be held.
    pub fn chain_work_at(&self, height: u32) -> Option<Work> {
        self.window.get(height).map(|e| e.chain_work)
    }

    /// The height of the oldest best-chain header held in full.
    pub fn oldest_held_height(&self) -> u32 {
        self.window.first_height()
    }

    /// The best chain's headers from `height` to the tip, if they are all held.
    pub fn headers_from(&self, height: u32) -> Option<Vec<BlockHeader>> {
        Some(
            self.window
                .entries_from(height)?
                .map(|e| e.header)
                .collect(),
        )
    }

    /// Whether `hash` is on the best chain or on a kept side branch.
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.index.height_of(hash).is_some() || self.side.locate(hash).is_some()
    }

    /// The side branches kept.
    pub fn side_branches(&self) -> &[SideBranch] {
        self.side.branches()
    }

    /// Hashes for a `getheaders` locator: the last 10 blocks, then
    /// exponentially sparser, ending with the sync base.
    pub fn locator(&self) -> Vec<BlockHash> {
        let base = self.base.height();
        let mut height = self.index.tip_height();
        let mut step = 1u32;
        let mut hashes = Vec::new();
        loop {
            hashes.extend(self.index.hash_at(height));
            if height == base {
                return hashes;
            }
            if hashes.len() >= 10 {
                step = step.saturating_mul(2);
            }
            height = height.saturating_sub(step).max(base);
        }
    }

    /// Bytes of heap memory held by the height ↔ hash index.
    pub fn index_heap_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// Validates `headers` as the continuation of the tip, in order, keeping
    /// each valid one until the first invalid one. The first header must
    /// build on the tip (else [`ValidationError::BadPrevHash`]).
    ///
    /// `now` is the current Unix time in seconds (for the future-time limit).
    pub fn extend(&mut self, headers: &[HashedHeader], now: u64) -> BatchReport {
        self.extend_from(headers, 0, now)
    }

    /// Offers headers received from a peer: already-known headers at the start
    /// are skipped, the rest extend the best chain, or grow a side branch that
    /// replaces the best chain once it has more work.
    pub fn accept(&mut self, headers: &[HashedHeader], now: u64) -> BatchReport {
        let start = headers
            .iter()
            .take_while(|h| self.contains(&h.hash))
            .count();
        let Some(first) = headers.get(start) else {
            return BatchReport {
                outcome: Outcome::Unchanged,
                rejected: None,
            };
        };
        let prev = first.header.prev_blockhash;
        if prev == self.index.tip_hash() {
            return self.extend_from(headers, start, now);
        }
        if let Some(fork_height) = self.index.height_of(&prev) {
            let branch = SideBranch {
                fork_height,
                entries: Vec::new(),
            };
            return self.grow_branch(branch, false, headers, start, now);
        }
        let found = self
            .side
            .locate(&prev)
            .and_then(|at| self.side.take_for_growth(at));
        match found {
            Some((branch, taken)) => self.grow_branch(branch, taken, headers, start, now),
            None => BatchReport {
                outcome: Outcome::Unchanged,
                rejected: Some(Rejection {
                    index: start,
                    height: None,
                    hash: first.hash,
                    reason: ValidationError::UnknownParent { prev },
                }),
            },
        }
    }

    fn extend_from(&mut self, headers: &[HashedHeader], start: usize, now: u64) -> BatchReport {
        let first_height = self.index.tip_height().saturating_add(1);
        let mut rejected = None;
        let mut added = 0;
        for (index, new) in headers.iter().enumerate().skip(start) {
            let tip = self.tip();
            let view = View {
                window: &self.window,
                fork_height: tip.height,
                branch: &[],
            };
            if let Err(reason) = check_header(&self.params, &view, tip.hash, new, now) {
                rejected = Some(Rejection {
                    index,
                    height: tip.height.checked_add(1),
                    hash: new.hash,
                    reason,
                });
                break;
            }
            self.push_best(Entry {
                header: new.header,
                hash: new.hash,
                chain_work: tip.chain_work + Work::from_bits(new.header.bits),
            });
            added += 1;
        }
        let outcome = if added > 0 {
            self.prune_side_branches();
            let tip = self.tip();
            Outcome::Extended {
                first_height,
                tip: BlockId {
                    height: tip.height,
                    hash: tip.hash,
                },
            }
        } else {
            Outcome::Unchanged
        };
        BatchReport { outcome, rejected }
    }

    fn push_best(&mut self, entry: Entry) {
        self.index.push(entry.hash);
        self.window.push(entry);
    }

    /// Why a branch leaving the best chain after `fork_height` cannot be
    /// considered, if it cannot.
    fn fork_point_error(&self, fork_height: u32) -> Option<ValidationError> {
        let tip_height = self.index.tip_height();
        let depth = tip_height.saturating_sub(fork_height);
        // Validating the branch needs the window to reach back over the lookback.
        let needed = fork_height
            .saturating_sub(MAX_LOOKBACK)
            .max(self.base.height());
        let checkpoint = last_checkpoint_at_or_below(self.network(), tip_height);
        if checkpoint.height > fork_height {
            return Some(ValidationError::ForkBelowCheckpoint {
                fork_height,
                checkpoint_height: checkpoint.height,
            });
        }
        // A best chain below the minimum work is not trusted yet: only the
        // headers held limit how deep a branch with more work may replace it.
        let too_deep = depth > self.config.max_reorg_depth && self.has_minimum_work();
        if too_deep || self.window.first_height() > needed {
            return Some(ValidationError::ReorgTooDeep {
                depth,
                max_depth: self.config.max_reorg_depth,
            });
        }
        None
    }

    /// Validates `headers[start..]` on top of `branch`, which was removed from
    /// the side branches if `taken` (it is then kept again, or replaces the
    /// best chain).
    fn grow_branch(
        &mut self,
        mut branch: SideBranch,
        taken: bool,
        headers: &[HashedHeader],
        start: usize,
        now: u64,
    ) -> BatchReport {
        let mut rejected = None;
        let mut added = 0;
        if let Some(reason) = self.fork_point_error(branch.fork_height) {
            if let Some(new) = headers.get(start) {
                rejected = Some(Rejection {
                    index: start,
                    height: branch.tip_height().checked_add(1),
                    hash: new.hash,
                    reason,
                });
            }
            // A branch that can no longer win is not kept either.
            return BatchReport {
                outcome: Outcome::Unchanged,
                rejected,
            };
        }
        for (index, new) in headers.iter().enumerate().skip(start) {
            let view = View {
                window: &self.window,
                fork_height: branch.fork_height,
                branch: &branch.entries,
            };
            let Some(parent) = view.tip().copied() else {
                break;
            };
            if let Err(reason) = check_header(&self.params, &view, parent.hash, new, now) {
                rejected = Some(Rejection {
                    index,
                    height: view.tip_height().checked_add(1),
                    hash: new.hash,
                    reason,
                });
                break;
            }
            branch.entries.push(Entry {
                header: new.header,
                hash: new.hash,
                chain_work: parent.chain_work + Work::from_bits(new.header.bits),
            });
            added += 1;
        }
        if added == 0 {
            if taken {
                self.side.insert(branch);
            }
            return BatchReport {
                outcome: Outcome::Unchanged,
                rejected,
            };
        }
        let outcome = if branch.chain_work() > self.tip().chain_work {
            self.reorganize(branch)
        } else {
            let fork_height = branch.fork_height;
            let tip = branch.entries.last().map(|e| BlockId {
                height: branch.tip_height(),
                hash: e.hash,
            });
            let kept = self.side.insert(branch);
            match tip {
                Some(tip) => Outcome::SideBranch {
                    fork_height,
                    tip,
                    kept,
                },
                None => Outcome::Unchanged,
            }
        };
        BatchReport { outcome, rejected }
    }

    /// Makes `branch` (with more work than the best chain) the best chain.
    fn reorganize(&mut self, branch: SideBranch) -> Outcome {
        let old = self.tip();
        let fork_height = branch.fork_height;
        let disconnected = self.window.split_off_above(fork_height);
        self.index.truncate_above(fork_height);
        // Branches that left the old chain above the fork now leave the new
        // one at the fork, through the disconnected blocks.
        for mut other in self.side.take_forking_above(fork_height) {
            let shared = (other.fork_height - fork_height) as usize;
            let mut entries: Vec<Entry> = disconnected.iter().take(shared).copied().collect();
            entries.append(&mut other.entries);
            self.side.insert(SideBranch {
                fork_height,
                entries,
            });
        }
        for entry in branch.entries {
            self.push_best(entry);
        }
        self.side.insert(SideBranch {
            fork_height,
            entries: disconnected,
        });
        self.prune_side_branches();
        let new = self.tip();
        Outcome::Reorganized {
            from: BlockId {
                height: old.height,
                hash: old.hash,
            },
            to: BlockId {
                height: new.height,
                hash: new.hash,
            },
            fork_height,
            depth: old.height.saturating_sub(fork_height),
        }
    }

    /// Drops side branches that can no longer replace the best chain.
    fn prune_side_branches(&mut self) {
        let tip_height = self.index.tip_height();
        let max_depth = self.config.max_reorg_depth;
        let network = self.network();
        let checkpoint = last_checkpoint_at_or_below(network, tip_height).height;
        // Below the minimum work, deep branches may still replace the best chain.
        let trusted = self.has_minimum_work();
        self.side.retain(|b| {
            let within_reach = !trusted || tip_height.saturating_sub(b.fork_height) <= max_depth;
            within_reach && b.fork_height >= checkpoint
        });
    }

    /// Starts rebuilding a chain from stored headers (see [`ChainRestorer`]).
    pub fn restore(base: SyncBase, config: ChainConfig) -> ChainRestorer {
        ChainRestorer {
            chain: HeaderChain::with_config(base, config),
            pending: None,
            chain_work: base.chain_work(),
        }
    }
}

/// Rebuilds a [`HeaderChain`] from headers stored after validation, without
/// validating or hashing them again: each header's hash is read from the
/// next header's `prev_blockhash`, and only the last one is hashed, to be
/// compared with the stored tip.
#[derive(Debug)]
pub struct ChainRestorer {
    chain: HeaderChain,
    /// The last header pushed, whose hash is known only once the next arrives.
    pending: Option<(BlockHeader, Work)>,
    /// Chain work through the last header pushed.
    chain_work: Work,
}

impl ChainRestorer {
    /// The height of the next header to push.
    pub fn next_height(&self) -> u32 {
        let committed = self.chain.index.tip_height();
        committed + 1 + u32::from(self.pending.is_some())
    }

    /// Adds stored headers that follow those pushed so far (the first one
    /// follows the sync base).
    pub fn push(&mut self, headers: &[BlockHeader]) -> Result<(), RestoreError> {
        for header in headers {
            let height = self.next_height();
            match self.pending.take() {
                Some((previous, chain_work)) => self.commit(
                    height - 1,
                    Entry {
                        header: previous,
                        hash: header.prev_blockhash,
                        chain_work,
                    },
                )?,
                None => {
                    if header.prev_blockhash != self.chain.base.hash() {
                        return Err(RestoreError::BrokenLink { height });
                    }
                }
            }
            self.chain_work = self.chain_work + Work::from_bits(header.bits);
            self.pending = Some((*header, self.chain_work));
        }
        Ok(())
    }

    fn commit(&mut self, height: u32, entry: Entry) -> Result<(), RestoreError> {
        if let Some(expected) = checkpoint(self.chain.network(), height) {
            if !expected.matches(&entry.hash) {
                return Err(RestoreError::CheckpointMismatch { height });
            }
        }
        self.chain.push_best(entry);
        Ok(())
    }

    /// Finishes the chain, checking that the headers end with the stored tip.
    pub fn finish(mut self, tip: ChainTip) -> Result<HeaderChain, RestoreError> {
        if let Some((header, chain_work)) = self.pending.take() {
            let height = self.chain.index.tip_height() + 1;
            let hash = header.block_hash();
            if height != tip.height || hash != tip.hash {
                return Err(RestoreError::TipMismatch {
                    expected: BlockId {
                        height: tip.height,
                        hash: tip.hash,
                    },
                    found: BlockId { height, hash },
                });
            }
            self.commit(
                height,
                Entry {
                    header,
                    hash,
                    chain_work,
                },
            )?;
        }
        let restored = self.chain.tip();
        if restored.height != tip.height || restored.hash != tip.hash {
            return Err(RestoreError::TipMismatch {
                expected: BlockId {
                    height: tip.height,
                    hash: tip.hash,
                },
                found: BlockId {
                    height: restored.height,
                    hash: restored.hash,
                },
            });
        }
        if restored.chain_work != tip.chain_work {
            return Err(RestoreError::WorkMismatch);
        }
        Ok(self.chain)
    }
}

/// The chain's lookups, as the masternode engine, the sync managers and the tools use them.
impl HeaderLookup for HeaderChain {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        HeaderChain::height_of(self, hash)
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        HeaderChain::header_at(self, height).copied()
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        HeaderChain::hash_at(self, height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::HEADER_SIZE;

    static HEADERS: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
    ));

    fn chain_with(count: usize) -> HeaderChain {
        let base = SyncBase::at_checkpoint(Network::Testnet, 898_560).unwrap();
        let mut chain = HeaderChain::new(base);
        let bytes = &HEADERS[HEADER_SIZE..(count + 1) * HEADER_SIZE];
        let report = chain.extend(&HashedHeader::parse_all(bytes), 1_735_689_600);
        assert_eq!(report.rejected, None);
        chain
    }

    #[test]
    fn locator_is_dense_then_sparse_and_ends_at_the_base() {
        let chain = chain_with(100);
        let locator = chain.locator();
        let heights: Vec<u32> = locator
            .iter()
            .map(|h| chain.height_of(h).unwrap() - 898_560)
            .collect();
        assert_eq!(
            heights,
            [100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 89, 85, 77, 61, 29, 0]
        );
    }

    #[test]
    fn headers_and_work_are_held_for_the_recent_window() {
        let chain = chain_with(50);
        assert_eq!(chain.headers_from(898_600).map(|h| h.len()), Some(11));
        assert!(chain.chain_work_at(898_610) > chain.chain_work_at(898_609));
        assert_eq!(chain.chain_work_at(898_611), None);
        assert_eq!(chain.header_at(898_560), Some(chain.base().header()));
    }
}
