//! Sans-IO sync state machines: events and the current time in, requests, events and
//! progress out. No sockets, timers or clocks.
//!
//! The [`coordinator::Coordinator`] owns a header chain ([`chain_view::ExtendableChain`]) and a
//! masternode list engine ([`engine::SyncEngine`]) and drives three managers that share
//! the [`state::SyncState`] vocabulary: [`headers`], [`masternodes`] and [`chainlocks`]. The
//! runtime feeds it [`events::NetworkEvent`]s, each peer message through its handler
//! (`handle_headers`, `handle_qrinfo`, …) and `tick(now)` (at
//! [`coordinator::Coordinator::next_deadline`] or periodically), sends the
//! [`requests::Request`]s it returns and shows its [`progress::SyncProgress`].
//! `sim` is a deterministic simulated network for tests: compiled in unit tests and with the
//! `simulation` feature (which the integration tests enable).

pub mod chain_view;
pub mod chainlocks;
pub mod config;
pub mod coordinator;
pub mod engine;
pub mod events;
pub mod headers;
pub mod inventory;
pub mod masternodes;
pub mod pipeline;
pub mod progress;
pub mod requests;
#[cfg(any(test, feature = "simulation"))]
pub mod sim;
pub mod state;
pub mod time;
