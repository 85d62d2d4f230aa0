//! dashlight-bridge: a WebSocket-to-TCP bridge that lets browsers reach a
//! Dash node, safe to expose on the public internet.
//!
//! Clients connect with WebSocket (binary frames) and are relayed to one of
//! the targets of an allow-list, never to an address they choose. In
//! Dash-aware mode (the default) the bridge checks both directions are Dash
//! P2P messages of the configured network (magic, framing, checksum) and
//! that the client sends only allowed commands, within per-client budgets
//! for the expensive ones. Connections are capped in total, per client
//! address (from TCP accept) and per trusted proxy, rate-limited, and timed
//! out when idle; messages from the node are streamed through so that the
//! memory a connection holds is bounded by the settings ([`memory`]). TLS
//! and Prometheus metrics are built in.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod admission;
pub mod budget;
pub mod commands;
pub mod config;
pub mod health;
pub mod inspect;
pub mod limits;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod rate;
pub mod relay;
pub mod server;
pub mod stats;
pub mod target;
pub mod tls;

pub use config::{Cli, Config, Mode, RateLimit};
pub use server::{Bridge, StartError};
pub use target::Target;
