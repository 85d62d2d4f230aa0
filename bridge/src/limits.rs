//! Caps on the connections held at once, in total and per client address.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

/// The key a client is counted under: its IPv4 address, or the /64 prefix of
/// its IPv6 address (one host usually holds a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key for a client address.
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(_) => ClientKey(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    ClientKey(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_client: HashMap<ClientKey, usize>,
}

/// Shared connection counters. Permits release their slots when dropped.
#[derive(Debug)]
pub struct ConnectionLimits {
    max_total: usize,
    max_per_client: usize,
    counts: Mutex<Counts>,
}

impl ConnectionLimits {
    /// Limits of `max_total` connections and `max_per_client` per client key.
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<ConnectionLimits> {
        Arc::new(ConnectionLimits {
            max_total,
            max_per_client,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A slot out of the total, or `None` when all are taken.
    pub fn try_acquire(self: &Arc<Self>) -> Option<ConnectionPermit> {
        let mut counts = self.counts();
        if counts.total >= self.max_total {
            return None;
        }
        counts.total += 1;
        Some(ConnectionPermit {
            limits: Arc::clone(self),
            client: None,
        })
    }

    /// Connections held now.
    pub fn total(&self) -> usize {
        self.counts().total
    }

    /// Distinct clients holding connections now.
    pub fn clients(&self) -> usize {
        self.counts().per_client.len()
    }
}

/// One held connection slot, possibly bound to a client key.
#[derive(Debug)]
pub struct ConnectionPermit {
    limits: Arc<ConnectionLimits>,
    client: Option<ClientKey>,
}

impl ConnectionPermit {
    /// Counts this connection against `client`'s cap. Fails, leaving the
    /// permit unbound, when the client already holds as many as allowed.
    /// Binding twice moves the count to the new key.
    pub fn bind(&mut self, client: ClientKey) -> Result<(), PerClientLimit> {
        let mut counts = self.limits.counts();
        if let Some(previous) = self.client.take() {
            release(&mut counts, previous);
        }
        let held = counts.per_client.entry(client).or_insert(0);
        if *held >= self.limits.max_per_client {
            let held = *held;
            if held == 0 {
                counts.per_client.remove(&client);
            }
            return Err(PerClientLimit {
                client,
                max: self.limits.max_per_client,
            });
        }
        *held += 1;
        self.client = Some(client);
        Ok(())
    }
}

fn release(counts: &mut Counts, client: ClientKey) {
    if let Some(held) = counts.per_client.get_mut(&client) {
        *held = held.saturating_sub(1);
        if *held == 0 {
            counts.per_client.remove(&client);
        }
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.limits.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(client) = self.client.take() {
            release(&mut counts, client);
        }
    }
}

/// A client already holds its maximum number of connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerClientLimit {
    /// The client.
    pub client: ClientKey,
    /// The cap.
    pub max: usize,
}

impl fmt::Display for PerClientLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "client {} already holds {} connections",
            self.client, self.max
        )
    }
}

impl std::error::Error for PerClientLimit {}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> ClientKey {
        ClientKey::of(ip.parse().unwrap())
    }

    #[test]
    fn total_cap_and_release() {
        let limits = ConnectionLimits::new(2, 10);
        let a = limits.try_acquire().unwrap();
        let _b = limits.try_acquire().unwrap();
        assert!(limits.try_acquire().is_none());
        drop(a);
        assert_eq!(limits.total(), 1);
        assert!(limits.try_acquire().is_some());
    }

    #[test]
    fn per_client_cap() {
        let limits = ConnectionLimits::new(10, 2);
        let mut permits: Vec<_> = (0..3).map(|_| limits.try_acquire().unwrap()).collect();
        assert!(permits[0].bind(key("1.2.3.4")).is_ok());
        assert!(permits[1].bind(key("1.2.3.4")).is_ok());
        assert!(permits[2].bind(key("1.2.3.4")).is_err());
        assert!(permits[2].bind(key("1.2.3.5")).is_ok());
        assert_eq!(limits.clients(), 2);
        permits.remove(0);
        let mut again = limits.try_acquire().unwrap();
        assert!(again.bind(key("1.2.3.4")).is_ok());
        drop(permits);
        drop(again);
        assert_eq!((limits.total(), limits.clients()), (0, 0));
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:1.2.3.4"), key("1.2.3.4"));
        assert_eq!(key("2001:db8:1:2::1").to_string(), "2001:db8:1:2::/64");
    }
}
