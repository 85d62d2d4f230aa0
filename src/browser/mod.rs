//! Browser glue: WebSockets, the browser's connectivity events, clocks and
//! IndexedDB, around the sans-IO core.

pub mod client;
pub mod clock;
pub mod connectivity;
pub mod error;
pub mod header_query;
pub mod idb;
pub mod observer;
pub mod persister;
pub mod runtime;
pub mod shared;
pub mod socket;
pub mod status;
pub mod store;
pub mod wallet;
