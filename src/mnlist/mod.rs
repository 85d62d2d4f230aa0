//! The deterministic masternode list engine: applies `mnlistdiff` and `qrinfo`
//! messages, checks them against the header chain and the coinbase merkle
//! roots, verifies quorum commitments and ChainLocks. Sans-IO: the caller
//! feeds messages and a header lookup, and reads which lists are missing.
//! [`MasternodeEngine::save_state`] and [`MasternodeEngine::load_state`]
//! carry the state across a reload (format in `engine/saved.rs`).

mod apply;
mod chainlock;
pub mod check;
mod engine;
mod errors;
mod instantlock;
mod keys;
mod list;
pub mod merkle;
pub mod split;
mod status;
mod timings;

pub use apply::{apply_diff, ApplyError};
pub use chainlock::{ChainLockCheck, ChainLockFailure};
pub use engine::{
    DiffReport, LoadReport, MasternodeEngine, QrInfoReport, QuorumPriority, QuorumRecord,
    StateError, VerifyOnApply, STATE_VERSION, WORK_BLOCK_OFFSET,
};
pub use errors::{DiffError, EngineError, EngineErrorKind};
pub use instantlock::{InstantLockCheck, InstantLockFailure};
pub use keys::{KeySource, KeyUnavailable, ProvenQuorum};
pub use list::{ListEntry, MasternodeList, QuorumEntry, QuorumKey};
pub use status::{QuorumStatus, Unverifiable};
pub use timings::{Clock, Phase, Timings};
