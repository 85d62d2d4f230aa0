//! Peers, sans-IO: each connection's handshake and keep-alive, and the set
//! of connections with reconnection backoff and a ban list.

pub mod backoff;
pub mod ban;
pub mod connection;
pub mod set;
