//! Counters shared by all connections, reported by the health endpoint.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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
    refusals: Mutex<BTreeMap<&'static str, u64>>,
    closes: Mutex<BTreeMap<&'static str, u64>>,
    budget_hits: Mutex<BTreeMap<String, u64>>,
    targets: Mutex<BTreeMap<String, Arc<TargetStats>>>,
}

/// Counters of one target.
#[derive(Debug, Default)]
pub struct TargetStats {
    /// Relays to it running now.
    pub relays_active: AtomicU64,
    /// Relays to it started since start.
    pub relays_total: AtomicU64,
    /// Bytes forwarded to it.
    pub bytes_to_target: AtomicU64,
    /// Bytes forwarded from it to clients.
    pub bytes_to_client: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Stats {
    /// A connection was refused for `reason` (a short label such as
    /// `"per_client"`); also counted in the rejected total.
    pub fn refused(&self, reason: &'static str) {
        self.rejected();
        *lock(&self.refusals).entry(reason).or_insert(0) += 1;
    }

    /// A relay ended for `reason` (a short label such as `"idle"`).
    pub fn closed(&self, reason: &'static str) {
        *lock(&self.closes).entry(reason).or_insert(0) += 1;
    }

    /// A client went over its budget of `command`.
    pub fn budget_hit(&self, command: &str) {
        let mut hits = lock(&self.budget_hits);
        match hits.get_mut(command) {
            Some(count) => *count += 1,
            None => {
                hits.insert(command.to_owned(), 1);
            }
        }
    }

    /// The counters of the target named `name`, created on first use.
    pub fn target(&self, name: &str) -> Arc<TargetStats> {
        Arc::clone(lock(&self.targets).entry(name.to_owned()).or_default())
    }

    /// Refusals by reason.
    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        lock(&self.refusals).iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Relay closes by reason.
    pub fn closes(&self) -> Vec<(&'static str, u64)> {
        lock(&self.closes).iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Budget hits by command.
    pub fn budget_hits(&self) -> Vec<(String, u64)> {
        lock(&self.budget_hits)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Every target's counters, by name.
    pub fn targets(&self) -> Vec<(String, Arc<TargetStats>)> {
        lock(&self.targets)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect()
    }

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
