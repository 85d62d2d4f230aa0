//! The header chain, sans-IO: proof of work, difficulty retargeting,
//! checkpoints, contextual validation, fork choice and reorganisation.
//!
//! Headers go in as [`HashedHeader`]s (hashed here or elsewhere, e.g. in Web
//! Workers) with the current time; [`HeaderChain`] reports what they did as a
//! [`BatchReport`]. Nothing here reads a clock or does I/O.

pub mod checkpoints;
pub mod difficulty;
pub mod fork;
pub mod header_chain;
pub mod index;
pub mod lookup;
pub mod params;
pub mod pow;
pub mod sync_base;
pub mod u256;
pub mod validation;
pub mod window;

pub use header_chain::{
    BatchReport, BlockId, ChainConfig, ChainRestorer, ChainTip, HeaderChain, Outcome, Rejection,
    RestoreError,
};
pub use lookup::{HeaderLookup, HeaderMap};
pub use params::ConsensusParams;
pub use pow::Work;
pub use sync_base::{SyncBase, SyncBaseError};
pub use validation::{HashedHeader, ValidationError};
