//! What the engine knows about each quorum.

use crate::llmq::verify::CommitmentFailure;
use crate::llmq::LlmqType;
use core::fmt;

/// Why a quorum cannot be verified with the data at hand (yet).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unverifiable {
    /// The masternode list at this height is needed (fetch it with `getmnlistd`).
    MissingList {
        /// The height.
        height: u32,
    },
    /// The DIP-24 quorum snapshot of the cycle at this height is needed (from a `qrinfo`).
    MissingSnapshot {
        /// The cycle's height.
        height: u32,
    },
    /// The quorum's base block is not on the header chain.
    UnknownBaseBlock,
    /// dashlight does not know this LLMQ type.
    UnknownType(LlmqType),
    /// The snapshot cannot be turned into quarters.
    UnusableSnapshot {
        /// The cycle's height.
        height: u32,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Unverifiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unverifiable::MissingList { height } => write!(f, "missing list at height {height}"),
            Unverifiable::MissingSnapshot { height } => {
                write!(f, "missing quorum snapshot at height {height}")
            }
            Unverifiable::UnknownBaseBlock => f.write_str("base block not on the header chain"),
            Unverifiable::UnknownType(t) => write!(f, "unknown LLMQ type {}", t.0),
            Unverifiable::UnusableSnapshot { height, reason } => {
                write!(f, "snapshot at height {height} unusable: {reason}")
            }
        }
    }
}

/// The verification state of one quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumStatus {
    /// Both signatures verified against the members the rules select.
    Verified {
        /// Height of the list the members were selected from.
        members_list_height: u32,
    },
    /// The commitment does not verify.
    Failed(CommitmentFailure),
    /// Not verifiable with the data at hand; never counted as verified.
    NotVerifiable(Unverifiable),
}

impl QuorumStatus {
    /// Whether the quorum verified.
    pub fn is_verified(&self) -> bool {
        matches!(self, QuorumStatus::Verified { .. })
    }

    /// Whether more data cannot change the status.
    pub fn is_final(&self) -> bool {
        !matches!(self, QuorumStatus::NotVerifiable(_))
    }
}

impl fmt::Display for QuorumStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuorumStatus::Verified {
                members_list_height,
            } => write!(f, "verified (members from list at {members_list_height})"),
            QuorumStatus::Failed(why) => write!(f, "failed: {why}"),
            QuorumStatus::NotVerifiable(why) => write!(f, "not verifiable: {why}"),
        }
    }
}
