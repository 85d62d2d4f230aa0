//! Errors of applying diffs and QRInfos.

use super::apply::ApplyError;
use super::merkle::PartialTreeError;
use crate::hash::{BlockHash, MerkleNode};
use core::fmt;

/// Why one diff was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffError {
    /// The diff's block is not on the header chain (e.g. a stale fork).
    UnknownBlock,
    /// The base block is not on the header chain.
    UnknownBaseBlock(BlockHash),
    /// The engine has no list at the base block.
    MissingBaseList {
        /// The base block.
        base_hash: BlockHash,
        /// Its height.
        height: u32,
    },
    /// The base block is not below the diff's block.
    BaseNotBelow {
        /// Height of the base block.
        base_height: u32,
    },
    /// The coinbase's height is not the block's.
    CoinbaseHeight {
        /// Height in the coinbase payload.
        coinbase: u32,
    },
    /// The header chain has no header at the diff's height.
    MissingHeader,
    /// The partial merkle tree is malformed.
    PartialTree(PartialTreeError),
    /// The partial merkle tree does not prove the coinbase as the block's first transaction.
    CoinbaseNotProven,
    /// The partial merkle tree's root is not the header's merkle root.
    BlockMerkleRoot {
        /// Root in the header.
        header: MerkleNode,
        /// Root the tree hashes to.
        proven: MerkleNode,
    },
    /// The diff does not fit its base list.
    Apply(ApplyError),
    /// The new list's root is not the coinbase's `merkleRootMNList`.
    MnListRoot {
        /// Root in the coinbase.
        coinbase: MerkleNode,
        /// Root of the list built.
        computed: MerkleNode,
    },
    /// The new list's quorums do not hash to the coinbase's `merkleRootQuorums`.
    QuorumsRoot {
        /// Root in the coinbase.
        coinbase: MerkleNode,
        /// Root of the quorums of the list built.
        computed: MerkleNode,
    },
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiffError::UnknownBlock => f.write_str("block is not on the header chain"),
            DiffError::UnknownBaseBlock(h) => write!(f, "base block {h} is not on the header chain"),
            DiffError::MissingBaseList { base_hash, height } => {
                write!(f, "no list at base block {base_hash} (height {height})")
            }
            DiffError::BaseNotBelow { base_height } => {
                write!(f, "base block at {base_height} is not below the block")
            }
            DiffError::CoinbaseHeight { coinbase } => {
                write!(f, "coinbase claims height {coinbase}")
            }
            DiffError::MissingHeader => f.write_str("no header at the block's height"),
            DiffError::PartialTree(e) => write!(f, "coinbase merkle proof: {e}"),
            DiffError::CoinbaseNotProven => {
                f.write_str("merkle proof does not prove the coinbase as the first transaction")
            }
            DiffError::BlockMerkleRoot { header, proven } => write!(
                f,
                "coinbase merkle proof hashes to {proven}, the header's merkle root is {header}"
            ),
            DiffError::Apply(e) => write!(f, "diff does not fit its base: {e}"),
            DiffError::MnListRoot { coinbase, computed } => write!(
                f,
                "merkleRootMNList mismatch: coinbase has {coinbase}, the list hashes to {computed}"
            ),
            DiffError::QuorumsRoot { coinbase, computed } => write!(
                f,
                "merkleRootQuorums mismatch: coinbase has {coinbase}, the quorums hash to {computed}"
            ),
        }
    }
}

impl std::error::Error for DiffError {}

/// A rejected message: which diff of it, at which block, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    /// Which diff: `mnlistdiff`, or the QRInfo part (`qrinfo tip`, `qrinfo h-c`, `qrinfo list[2]`).
    pub diff: String,
    /// The diff's block.
    pub block_hash: BlockHash,
    /// The block's height, if known.
    pub height: Option<u32>,
    /// What was wrong.
    pub error: Box<EngineErrorKind>,
}

/// What was wrong with a rejected message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineErrorKind {
    /// One diff was invalid.
    Diff(DiffError),
    /// The QRInfo's extra snapshots and diffs differ in number.
    SnapshotCount {
        /// Snapshots.
        snapshots: usize,
        /// Diffs.
        diffs: usize,
    },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (block {}", self.diff, self.block_hash)?;
        if let Some(h) = self.height {
            write!(f, " at height {h}")?;
        }
        f.write_str("): ")?;
        match self.error.as_ref() {
            EngineErrorKind::Diff(e) => write!(f, "{e}"),
            EngineErrorKind::SnapshotCount { snapshots, diffs } => {
                write!(f, "{snapshots} extra snapshots but {diffs} extra diffs")
            }
        }
    }
}

impl std::error::Error for EngineError {}

impl EngineError {
    /// Whether the diff was only missing its base list (data to fetch), not invalid.
    pub fn is_missing_base(&self) -> bool {
        matches!(
            self.error.as_ref(),
            EngineErrorKind::Diff(DiffError::MissingBaseList { .. })
        )
    }
}
