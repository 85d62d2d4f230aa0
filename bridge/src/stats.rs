//! Counters shared by all connections, reported by the health endpoint.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals since start.
#[derive(Debug, Default)]
pub struct Stats {
    accepted: AtomicU64,
    rejected: AtomicU64,
    relays_active: AtomicU64,
    relays_total: AtomicU64,
    violations: AtomicU64,
    bytes_to_target: AtomicU64,
    bytes_to_client: AtomicU64,
}

impl Stats {
    /// A TCP connection was accepted.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection was refused (cap, origin, target, handshake).
    pub fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// A relay to a target started.
    pub fn relay_started(&self) {
        self.relays_active.fetch_add(1, Ordering::Relaxed);
        self.relays_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A relay ended.
    pub fn relay_ended(&self) {
        self.relays_active.fetch_sub(1, Ordering::Relaxed);
    }

    /// A connection was closed for traffic the bridge does not allow.
    pub fn violation(&self) {
        self.violations.fetch_add(1, Ordering::Relaxed);
    }

    /// Bytes forwarded from a client to its target.
    pub fn to_target(&self, bytes: usize) {
        self.bytes_to_target
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Bytes forwarded from a target to its client.
    pub fn to_client(&self, bytes: usize) {
        self.bytes_to_client
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            accepted_total: self.accepted.load(Ordering::Relaxed),
            rejected_total: self.rejected.load(Ordering::Relaxed),
            relays_active: self.relays_active.load(Ordering::Relaxed),
            relays_total: self.relays_total.load(Ordering::Relaxed),
            violations_total: self.violations.load(Ordering::Relaxed),
            bytes_to_target: self.bytes_to_target.load(Ordering::Relaxed),
            bytes_to_client: self.bytes_to_client.load(Ordering::Relaxed),
        }
    }
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// TCP connections accepted since start.
    pub accepted_total: u64,
    /// Connections refused since start.
    pub rejected_total: u64,
    /// Relays running now.
    pub relays_active: u64,
    /// Relays started since start.
    pub relays_total: u64,
    /// Connections closed for disallowed traffic since start.
    pub violations_total: u64,
    /// Bytes forwarded client→target since start.
    pub bytes_to_target: u64,
    /// Bytes forwarded target→client since start.
    pub bytes_to_client: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up() {
        let stats = Stats::default();
        stats.accepted();
        stats.relay_started();
        stats.to_client(100);
        stats.to_target(7);
        stats.relay_ended();
        let s = stats.snapshot();
        assert_eq!(
            (s.accepted_total, s.relays_active, s.relays_total),
            (1, 0, 1)
        );
        assert_eq!((s.bytes_to_client, s.bytes_to_target), (100, 7));
    }
}
