//! dashlight: a Dash light client that verifies the header chain, the
//! deterministic masternode list, LLMQ quorums and ChainLocks itself.
//!
//! Protocol and sync logic is sans-IO and platform independent; the browser
//! glue is compiled only for `wasm32`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod block;
pub mod bls;
#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod chain;
pub mod encode;
pub mod hash;
pub mod llmq;
pub mod mnlist;
pub mod network;
pub mod node;
pub mod peer;
pub mod platform;
pub mod proof;
pub mod protocol;
pub mod storage;
pub mod sync;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
