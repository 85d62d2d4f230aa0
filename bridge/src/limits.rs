//! Caps on the connections held at once: in total, per client address
//! (IPv6: per prefix) and, behind a trusted reverse proxy, per proxy.
//!
//! Clients that connect directly are counted from the moment their TCP
//! connection is accepted, so that silent sockets from one address cannot
//! hold more than that address's share. Behind a proxy the TCP peer is the
//! proxy: its connections are counted against the per-proxy cap at accept,
//! and the client address it forwards against the per-client cap once the
//! request has been parsed.

use crate::budget::{BudgetTable, ClientBudget, SharedBudget};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

/// The key a client is counted under: its IPv4 address, or the prefix of
/// its IPv6 address (one site usually holds a whole /48).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey {
    ip: IpAddr,
    prefix: u8,
}

impl ClientKey {
    /// The key for a client address, IPv6 addresses cut to `ipv6_prefix`
    /// bits (at most 128). IPv4-mapped IPv6 addresses count as IPv4.
    pub fn of(ip: IpAddr, ipv6_prefix: u8) -> ClientKey {
        match ip {
            IpAddr::V4(_) => ClientKey { ip, prefix: 32 },
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey {
                    ip: IpAddr::V4(v4),
                    prefix: 32,
                },
                None => {
                    let prefix = ipv6_prefix.min(128);
                    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                    ClientKey {
                        ip: IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)),
                        prefix,
                    }
                }
            },
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/{}", self.prefix),
        }
    }
}

/// The caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Most connections held at once.
    pub max_total: usize,
    /// Most connections per client key.
    pub max_per_client: usize,
    /// Most connections per trusted proxy.
    pub max_per_proxy: usize,
    /// IPv6 clients are counted per prefix of this many bits.
    pub ipv6_prefix: u8,
}

#[derive(Debug)]
struct ClientEntry {
    held: usize,
    budget: SharedBudget,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    proxies: HashMap<ClientKey, usize>,
    clients: HashMap<ClientKey, ClientEntry>,
}

/// Shared connection counters and the clients' command budgets. Permits
/// release their slots when dropped; a client's budget lives as long as it
/// holds a connection.
#[derive(Debug)]
pub struct ConnectionLimits {
    settings: LimitSettings,
    budgets: Arc<BudgetTable>,
    counts: Mutex<Counts>,
}

impl ConnectionLimits {
    /// Limits with these caps and command budgets.
    pub fn new(settings: LimitSettings, budgets: Arc<BudgetTable>) -> Arc<ConnectionLimits> {
        Arc::new(ConnectionLimits {
            settings,
            budgets,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The key `ip` is counted under.
    pub fn key(&self, ip: IpAddr) -> ClientKey {
        ClientKey::of(ip, self.settings.ipv6_prefix)
    }

    /// A slot for a connection just accepted from `peer`: counted against
    /// the total and, for a direct client, against its per-client cap; for
    /// a trusted proxy (`via_proxy`), against the per-proxy cap.
    pub fn try_acquire(
        self: &Arc<Self>,
        peer: IpAddr,
        via_proxy: bool,
    ) -> Result<ConnectionPermit, Refused> {
        let key = self.key(peer);
        let mut counts = self.counts();
        if counts.total >= self.settings.max_total {
            return Err(Refused::Total {
                max: self.settings.max_total,
            });
        }
        let permit = if via_proxy {
            let held = counts.proxies.get(&key).copied().unwrap_or(0);
            if held >= self.settings.max_per_proxy {
                return Err(Refused::PerProxy {
                    proxy: key,
                    max: self.settings.max_per_proxy,
                });
            }
            counts.proxies.insert(key, held + 1);
            ConnectionPermit {
                limits: Arc::clone(self),
                proxy: Some(key),
                client: None,
            }
        } else {
            self.count_client(&mut counts, key)
                .map_err(Refused::PerClient)?;
            ConnectionPermit {
                limits: Arc::clone(self),
                proxy: None,
                client: Some(key),
            }
        };
        counts.total += 1;
        Ok(permit)
    }

    fn count_client(&self, counts: &mut Counts, key: ClientKey) -> Result<(), PerClientLimit> {
        match counts.clients.get_mut(&key) {
            Some(entry) if entry.held >= self.settings.max_per_client => Err(PerClientLimit {
                client: key,
                max: self.settings.max_per_client,
            }),
            Some(entry) => {
                entry.held += 1;
                Ok(())
            }
            None => {
                counts.clients.insert(
                    key,
                    ClientEntry {
                        held: 1,
                        budget: ClientBudget::shared(Arc::clone(&self.budgets)),
                    },
                );
                Ok(())
            }
        }
    }

    /// Connections held now.
    pub fn total(&self) -> usize {
        self.counts().total
    }

    /// Distinct clients holding connections now (not counting connections
    /// through a proxy whose client is not known yet).
    pub fn clients(&self) -> usize {
        self.counts().clients.len()
    }
}

/// One held connection slot.
#[derive(Debug)]
pub struct ConnectionPermit {
    limits: Arc<ConnectionLimits>,
    proxy: Option<ClientKey>,
    client: Option<ClientKey>,
}

impl ConnectionPermit {
    /// Counts a connection through a proxy against the cap of the client
    /// address `ip` the proxy forwarded. Fails, leaving the permit without
    /// a client, when that client already holds as many as allowed. A
    /// direct connection is already counted under its peer address, and
    /// binding it does nothing.
    pub fn bind_forwarded(&mut self, ip: IpAddr) -> Result<(), PerClientLimit> {
        if self.proxy.is_none() {
            return Ok(());
        }
        let key = self.limits.key(ip);
        let mut counts = self.limits.counts();
        if let Some(previous) = self.client.take() {
            release_client(&mut counts, previous);
        }
        self.limits.count_client(&mut counts, key)?;
        self.client = Some(key);
        Ok(())
    }

    /// The command budget of this connection's client, once known.
    pub fn budget(&self) -> Option<SharedBudget> {
        let client = self.client?;
        self.limits
            .counts()
            .clients
            .get(&client)
            .map(|entry| Arc::clone(&entry.budget))
    }
}

fn release_client(counts: &mut Counts, client: ClientKey) {
    if let Some(entry) = counts.clients.get_mut(&client) {
        entry.held = entry.held.saturating_sub(1);
        if entry.held == 0 {
            counts.clients.remove(&client);
        }
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.limits.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(client) = self.client.take() {
            release_client(&mut counts, client);
        }
        if let Some(proxy) = self.proxy.take() {
            if let Some(held) = counts.proxies.get_mut(&proxy) {
                *held = held.saturating_sub(1);
                if *held == 0 {
                    counts.proxies.remove(&proxy);
                }
            }
        }
    }
}

/// Why a connection got no slot at accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Every slot is taken.
    Total {
        /// The cap.
        max: usize,
    },
    /// The client already holds its share.
    PerClient(PerClientLimit),
    /// The proxy already holds its share.
    PerProxy {
        /// The proxy.
        proxy: ClientKey,
        /// The cap.
        max: usize,
    },
}

impl Refused {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Total { .. } => "capacity",
            Self::PerClient(_) => "per_client",
            Self::PerProxy { .. } => "per_proxy",
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Total { max } => write!(f, "all {max} connection slots are taken"),
            Self::PerClient(limit) => write!(f, "{limit}"),
            Self::PerProxy { proxy, max } => {
                write!(f, "proxy {proxy} already holds {max} connections")
            }
        }
    }
}

impl std::error::Error for Refused {}

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

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn limits(
        max_total: usize,
        max_per_client: usize,
        max_per_proxy: usize,
    ) -> Arc<ConnectionLimits> {
        ConnectionLimits::new(
            LimitSettings {
                max_total,
                max_per_client,
                max_per_proxy,
                ipv6_prefix: 48,
            },
            Arc::new(BudgetTable::defaults()),
        )
    }

    #[test]
    fn total_cap_and_release() {
        let limits = limits(2, 10, 10);
        let a = limits.try_acquire(ip("1.1.1.1"), false).unwrap();
        let _b = limits.try_acquire(ip("1.1.1.2"), false).unwrap();
        assert_eq!(
            limits.try_acquire(ip("1.1.1.3"), false).unwrap_err(),
            Refused::Total { max: 2 }
        );
        drop(a);
        assert_eq!(limits.total(), 1);
        assert!(limits.try_acquire(ip("1.1.1.3"), false).is_ok());
    }

    #[test]
    fn direct_clients_are_capped_at_accept() {
        let limits = limits(10, 2, 10);
        let a = limits.try_acquire(ip("1.2.3.4"), false).unwrap();
        let _b = limits.try_acquire(ip("1.2.3.4"), false).unwrap();
        assert!(matches!(
            limits.try_acquire(ip("1.2.3.4"), false),
            Err(Refused::PerClient(_))
        ));
        let _c = limits.try_acquire(ip("1.2.3.5"), false).unwrap();
        assert_eq!((limits.total(), limits.clients()), (3, 2));
        drop(a);
        let _d = limits.try_acquire(ip("1.2.3.4"), false).unwrap();
    }

    #[test]
    fn proxies_are_capped_and_their_clients_counted_after_parsing() {
        let limits = limits(10, 1, 3);
        let proxy = ip("10.0.0.1");
        let mut permits: Vec<_> = (0..3)
            .map(|_| limits.try_acquire(proxy, true).unwrap())
            .collect();
        assert!(matches!(
            limits.try_acquire(proxy, true),
            Err(Refused::PerProxy { .. })
        ));
        assert_eq!(limits.clients(), 0);
        assert!(permits[0].bind_forwarded(ip("198.51.100.1")).is_ok());
        assert!(permits[1].bind_forwarded(ip("198.51.100.1")).is_err());
        assert!(permits[1].bind_forwarded(ip("198.51.100.2")).is_ok());
        assert!(permits[0].budget().is_some() && permits[2].budget().is_none());
        assert_eq!(limits.clients(), 2);
        permits.clear();
        assert_eq!((limits.total(), limits.clients()), (0, 0));
        assert!(limits.try_acquire(proxy, true).is_ok());
    }

    #[test]
    fn connections_of_one_client_share_a_budget() {
        let limits = limits(10, 10, 10);
        let a = limits.try_acquire(ip("1.2.3.4"), false).unwrap();
        let b = limits.try_acquire(ip("1.2.3.4"), false).unwrap();
        assert!(Arc::ptr_eq(&a.budget().unwrap(), &b.budget().unwrap()));
    }

    #[test]
    fn ipv6_clients_count_per_prefix() {
        let key = |text: &str, prefix| ClientKey::of(ip(text), prefix);
        assert_eq!(key("2001:db8:1:2::1", 48), key("2001:db8:1:ffff::9", 48));
        assert_ne!(key("2001:db8:1:2::1", 48), key("2001:db8:2:2::1", 48));
        assert_ne!(key("2001:db8:1:2::1", 64), key("2001:db8:1:3::1", 64));
        assert_eq!(key("::ffff:1.2.3.4", 48), key("1.2.3.4", 48));
        assert_eq!(key("2001:db8:1:2::1", 48).to_string(), "2001:db8:1::/48");
        assert_eq!(key("2001:db8::1", 128).to_string(), "2001:db8::1/128");
        assert_eq!(key("2001:db8::1", 0).to_string(), "::/0");
    }
}
