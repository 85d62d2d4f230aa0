//! Contextual validation of one header against the headers it builds on,
//! and the reasons a header is rejected.

use super::checkpoints::{checkpoint, HashFingerprint};
use super::difficulty::{next_work_required, Ancestry};
use super::params::{ConsensusParams, MAX_FUTURE_BLOCK_TIME, MEDIAN_TIME_SPAN};
use super::pow::{check_proof_of_work, PowError};
use crate::block::{BlockHeader, HEADER_SIZE};
use crate::hash::BlockHash;
use core::fmt;

/// A header together with its block hash (X11 of its 80 bytes).
///
/// Hashing is nearly all the cost of header validation, so the hash may be
/// computed elsewhere (e.g. in Web Workers) and passed in with
/// [`HashedHeader::with_hash`]; validation trusts it to be X11 of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashedHeader {
    /// The header.
    pub header: BlockHeader,
    /// Its block hash.
    pub hash: BlockHash,
}

impl HashedHeader {
    /// Hashes `header`.
    pub fn new(header: BlockHeader) -> HashedHeader {
        HashedHeader {
            hash: header.block_hash(),
            header,
        }
    }

    /// Pairs `header` with a hash computed elsewhere; it must be X11 of the header.
    pub fn with_hash(header: BlockHeader, hash: BlockHash) -> HashedHeader {
        HashedHeader { header, hash }
    }

    /// Parses and hashes concatenated 80-byte headers; a trailing partial header is ignored.
    pub fn parse_all(bytes: &[u8]) -> Vec<HashedHeader> {
        bytes
            .chunks_exact(HEADER_SIZE)
            .map(|chunk| {
                let mut raw = [0u8; HEADER_SIZE];
                raw.copy_from_slice(chunk);
                HashedHeader::new(BlockHeader::from_bytes(&raw))
            })
            .collect()
    }
}

/// Why a header was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationError {
    /// The header does not build on the block it must follow.
    BadPrevHash {
        /// The hash of the block it must follow.
        expected: BlockHash,
        /// Its `prev_blockhash`.
        found: BlockHash,
    },
    /// The header's parent is neither on the best chain nor on a kept branch.
    UnknownParent {
        /// Its `prev_blockhash`.
        prev: BlockHash,
    },
    /// The block hash does not meet the target in `bits`.
    BadProofOfWork {
        /// The block hash.
        hash: BlockHash,
        /// The header's `bits`.
        bits: u32,
    },
    /// `bits` is negative, zero, overflowing or easier than the network allows.
    TargetOutOfRange {
        /// The header's `bits`.
        bits: u32,
    },
    /// `bits` is not what the difficulty retargeting requires.
    BadDifficulty {
        /// The `bits` required.
        expected: u32,
        /// The header's `bits`.
        found: u32,
    },
    /// The time is not after the median time of the previous 11 blocks.
    TimeTooOld {
        /// The header's time.
        time: u32,
        /// The median time past it must exceed.
        median_time_past: u32,
    },
    /// The time is more than 2 hours ahead of the current time.
    TimeTooNew {
        /// The header's time.
        time: u32,
        /// The latest time allowed.
        max_allowed: u64,
    },
    /// The block at a checkpoint height is not the checkpoint.
    CheckpointMismatch {
        /// The height.
        height: u32,
        /// The checkpoint's fingerprint of the hash.
        expected: HashFingerprint,
        /// The header's hash.
        found: BlockHash,
    },
    /// The branch leaves the best chain below a checkpoint the best chain has passed.
    ForkBelowCheckpoint {
        /// The height of the last block the branch shares with the best chain.
        fork_height: u32,
        /// The checkpoint above it.
        checkpoint_height: u32,
    },
    /// The branch leaves the best chain deeper than the reorganisation limit.
    ReorgTooDeep {
        /// Blocks of the best chain above the fork point.
        depth: u32,
        /// The limit.
        max_depth: u32,
    },
    /// The header would be above the highest representable height.
    HeightOutOfRange,
}

impl ValidationError {
    /// The variant's name, for logs and machine-readable output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadPrevHash { .. } => "BadPrevHash",
            Self::UnknownParent { .. } => "UnknownParent",
            Self::BadProofOfWork { .. } => "BadProofOfWork",
            Self::TargetOutOfRange { .. } => "TargetOutOfRange",
            Self::BadDifficulty { .. } => "BadDifficulty",
            Self::TimeTooOld { .. } => "TimeTooOld",
            Self::TimeTooNew { .. } => "TimeTooNew",
            Self::CheckpointMismatch { .. } => "CheckpointMismatch",
            Self::ForkBelowCheckpoint { .. } => "ForkBelowCheckpoint",
            Self::ReorgTooDeep { .. } => "ReorgTooDeep",
            Self::HeightOutOfRange => "HeightOutOfRange",
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadPrevHash { expected, found } => {
                write!(f, "previous block hash {found} is not {expected}")
            }
            Self::UnknownParent { prev } => write!(f, "previous block {prev} is unknown"),
            Self::BadProofOfWork { hash, bits } => {
                write!(f, "hash {hash} does not meet target {bits:#010x}")
            }
            Self::TargetOutOfRange { bits } => write!(f, "target {bits:#010x} is out of range"),
            Self::BadDifficulty { expected, found } => {
                write!(
                    f,
                    "bits {found:#010x}, retargeting requires {expected:#010x}"
                )
            }
            Self::TimeTooOld {
                time,
                median_time_past,
            } => write!(
                f,
                "time {time} is not after the median time past {median_time_past}"
            ),
            Self::TimeTooNew { time, max_allowed } => {
                write!(f, "time {time} is after the allowed {max_allowed}")
            }
            Self::CheckpointMismatch {
                height,
                expected,
                found,
            } => write!(
                f,
                "block {found} at height {height} contradicts checkpoint {expected}"
            ),
            Self::ForkBelowCheckpoint {
                fork_height,
                checkpoint_height,
            } => write!(
                f,
                "branch forks at height {fork_height}, below checkpoint {checkpoint_height}"
            ),
            Self::ReorgTooDeep { depth, max_depth } => write!(
                f,
                "branch would reorganise {depth} blocks, more than {max_depth}"
            ),
            Self::HeightOutOfRange => f.write_str("height out of range"),
        }
    }
}

impl std::error::Error for ValidationError {}

/// Validates `new`, which claims to follow the tip of `ancestry` (whose hash
/// is `parent_hash`), at `now` (Unix seconds).
///
/// The checks run in a fixed order, so a damaged header is rejected for the
/// first thing wrong with it: linkage, checkpoint, median time past, future
/// time, difficulty, then proof of work.
pub fn check_header(
    params: &ConsensusParams,
    ancestry: &impl Ancestry,
    parent_hash: BlockHash,
    new: &HashedHeader,
    now: u64,
) -> Result<(), ValidationError> {
    let header = &new.header;
    if header.prev_blockhash != parent_hash {
        return Err(ValidationError::BadPrevHash {
            expected: parent_hash,
            found: header.prev_blockhash,
        });
    }
    let height = ancestry
        .tip_height()
        .checked_add(1)
        .ok_or(ValidationError::HeightOutOfRange)?;
    if let Some(expected) = checkpoint(params.network, height) {
        if !expected.matches(&new.hash) {
            return Err(ValidationError::CheckpointMismatch {
                height,
                expected,
                found: new.hash,
            });
        }
    }
    if let Some(median_time_past) = median_time_past(ancestry) {
        if header.time <= median_time_past {
            return Err(ValidationError::TimeTooOld {
                time: header.time,
                median_time_past,
            });
        }
    }
    let max_allowed = now.saturating_add(MAX_FUTURE_BLOCK_TIME);
    if u64::from(header.time) > max_allowed {
        return Err(ValidationError::TimeTooNew {
            time: header.time,
            max_allowed,
        });
    }
    if let Some(expected) = next_work_required(params, ancestry, header.time) {
        if header.bits != expected {
            return Err(ValidationError::BadDifficulty {
                expected,
                found: header.bits,
            });
        }
    }
    check_proof_of_work(&new.hash, header.bits, params.pow_limit).map_err(|e| match e {
        PowError::TargetOutOfRange => ValidationError::TargetOutOfRange { bits: header.bits },
        PowError::HashAboveTarget => ValidationError::BadProofOfWork {
            hash: new.hash,
            bits: header.bits,
        },
    })
}

/// The median time of the last 11 blocks of `ancestry` (fewer near genesis),
/// or `None` when fewer are known because the chain starts at a sync base.
pub fn median_time_past(ancestry: &impl Ancestry) -> Option<u32> {
    let mut times = [0u32; MEDIAN_TIME_SPAN as usize];
    let mut count = 0;
    let mut height = ancestry.tip_height();
    loop {
        let header = ancestry.header_at(height)?;
        times[count] = header.time;
        count += 1;
        if count == times.len() || height == 0 {
            break;
        }
        height -= 1;
    }
    let known = &mut times[..count];
    known.sort_unstable();
    Some(known[count / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::MerkleNode;

    struct Headers(Vec<BlockHeader>, u32);

    impl Ancestry for Headers {
        fn tip_height(&self) -> u32 {
            self.1 + self.0.len() as u32 - 1
        }
        fn header_at(&self, height: u32) -> Option<&BlockHeader> {
            self.0.get(height.checked_sub(self.1)? as usize)
        }
    }

    fn at_times(first_height: u32, times: &[u32]) -> Headers {
        Headers(
            times
                .iter()
                .map(|&time| BlockHeader {
                    version: 1,
                    prev_blockhash: BlockHash::ZERO,
                    merkle_root: MerkleNode::ZERO,
                    time,
                    bits: 0x1e0ffff0,
                    nonce: 0,
                })
                .collect(),
            first_height,
        )
    }

    #[test]
    fn median_of_the_last_eleven() {
        let times: Vec<u32> = (0..20).map(|i| 1000 + (i * 7919) % 101).collect();
        let chain = at_times(5000, &times);
        let mut last: Vec<u32> = times[9..].to_vec();
        last.sort();
        assert_eq!(median_time_past(&chain), Some(last[5]));
    }

    #[test]
    fn median_near_genesis_uses_what_there_is() {
        assert_eq!(median_time_past(&at_times(0, &[10, 30, 20])), Some(20));
    }

    #[test]
    fn median_above_a_sync_base_needs_eleven_blocks() {
        assert_eq!(median_time_past(&at_times(7000, &[10, 30, 20])), None);
    }
}
