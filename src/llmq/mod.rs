//! Long-living masternode quorums (LLMQs): their parameters, member selection
//! (DIP-6 and DIP-24 rotation) and the verification of final commitments.

pub mod hashes;
pub mod members;
pub mod params;
pub mod signing;
pub mod verify;

pub use params::{ChainRules, LlmqParams, LlmqType};
