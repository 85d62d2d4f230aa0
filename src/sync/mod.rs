//! Sans-IO sync state machines: events and the current time in, requests, events and
//! progress out. No sockets, timers or clocks.

pub mod chain_view;
pub mod config;
pub mod engine;
pub mod events;
pub mod pipeline;
pub mod progress;
pub mod requests;
pub mod state;
pub mod time;
