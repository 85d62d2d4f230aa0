//! Sans-IO sync state machines: events and the current time in, requests, events and
//! progress out. No sockets, timers or clocks.

pub mod chain_view;
pub mod chainlocks;
pub mod config;
pub mod coordinator;
pub mod engine;
pub mod events;
pub mod headers;
pub mod masternodes;
pub mod pipeline;
pub mod progress;
pub mod requests;
pub mod sim;
pub mod state;
pub mod time;
