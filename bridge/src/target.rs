//! The allowed targets: naming, selection from the request URL, and
//! connecting only to addresses the policy permits.

use crate::address::forbidden_reason;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpStream;

/// A node clients may reach, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The name clients select it by (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Target {
    /// A target from a name and a `HOST:PORT` (IPv6 as `[ADDR]:PORT`).
    pub fn new(name: &str, address: &str) -> Result<Target, TargetError> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(TargetError::BadName(name.to_owned()));
        }
        let (host, port) = match address.parse::<SocketAddr>() {
            Ok(addr) => (addr.ip().to_string(), addr.port()),
            Err(_) => {
                let (host, port) = address
                    .rsplit_once(':')
                    .ok_or_else(|| TargetError::MissingPort(address.to_owned()))?;
                let port = port
                    .parse::<u16>()
                    .map_err(|_| TargetError::BadPort(address.to_owned()))?;
                if host.is_empty()
                    || host.contains(['[', ']', ':', '/', '@', ' '])
                    || host.parse::<IpAddr>().is_ok()
                {
                    return Err(TargetError::BadHost(address.to_owned()));
                }
                (host.to_owned(), port)
            }
        };
        if port == 0 {
            return Err(TargetError::BadPort(address.to_owned()));
        }
        Ok(Target {
            name: name.to_owned(),
            host,
            port,
        })
    }

    /// The host when it is an IP address rather than a name.
    pub fn literal_ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `HOST:PORT` as written in logs and settings.
    pub fn address(&self) -> String {
        match self.literal_ip() {
            Some(ip) => SocketAddr::new(ip, self.port).to_string(),
            None => format!("{}:{}", self.host, self.port),
        }
    }

    /// Resolves the target and connects to the first address the policy
    /// permits. Every resolved address is checked, so a name that resolves to
    /// an internal address is refused unless `allow_private` is set.
    pub async fn connect(
        &self,
        allow_private: bool,
        timeout: Duration,
    ) -> Result<TcpStream, ConnectError> {
        let attempt = async {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((self.host.as_str(), self.port))
                    .await
                    .map_err(ConnectError::Resolve)?
                    .collect();
            let mut refused = None;
            let mut last_error = None;
            for addr in resolved {
                if let (false, Some(reason)) = (allow_private, forbidden_reason(addr.ip())) {
                    refused = Some((addr, reason));
                    continue;
                }
                match TcpStream::connect(addr).await {
                    Ok(stream) => return Ok(stream),
                    Err(err) => last_error = Some(err),
                }
            }
            Err(match (last_error, refused) {
                (Some(err), _) => ConnectError::Connect(err),
                (None, Some((addr, reason))) => ConnectError::Forbidden { addr, reason },
                (None, None) => ConnectError::NoAddress,
            })
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or(Err(ConnectError::Timeout))
    }
}

/// Picks the target a request asks for: `/NAME`, `/?target=NAME`, or the
/// first target for `/`. Anything that does not name an allowed target
/// exactly is refused; a client can never supply an address.
pub fn select<'a>(targets: &'a [Target], path_and_query: &str) -> Result<&'a Target, SelectError> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let from_path = path.trim_start_matches('/');
    let mut from_query = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "target" {
            if from_query.is_some() {
                return Err(SelectError::Ambiguous);
            }
            from_query = Some(value);
        }
    }
    let name = match (from_path, from_query) {
        ("", None) => return targets.first().ok_or(SelectError::NoTargets),
        (name, None) | ("", Some(name)) => name,
        (a, Some(b)) if a == b => a,
        _ => return Err(SelectError::Ambiguous),
    };
    targets
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| SelectError::Unknown(name.chars().take(64).collect()))
}

/// Why a target specification is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Name or address missing.
    Empty,
    /// The name has characters other than letters, digits, `-`, `_`, `.`.
    BadName(String),
    /// No `:PORT`.
    MissingPort(String),
    /// The port is not a number from 1 to 65535.
    BadPort(String),
    /// The host is not a host name or an IP address (IPv6 needs brackets).
    BadHost(String),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("expected [NAME=]HOST:PORT"),
            Self::BadName(name) => write!(
                f,
                "name {name:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
            ),
            Self::MissingPort(a) => write!(f, "{a:?} has no port"),
            Self::BadPort(a) => write!(f, "{a:?} has no valid port"),
            Self::BadHost(a) => write!(f, "{a:?} has no valid host (write IPv6 as [ADDR]:PORT)"),
        }
    }
}

impl std::error::Error for TargetError {}

/// Why a request names no allowed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// The name is not in the allow-list.
    Unknown(String),
    /// The path and the query name different targets, or the query names several.
    Ambiguous,
    /// No target is configured.
    NoTargets,
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(name) => write!(f, "target {name:?} is not allowed"),
            Self::Ambiguous => f.write_str("the request names more than one target"),
            Self::NoTargets => f.write_str("no target is configured"),
        }
    }
}

impl std::error::Error for SelectError {}

/// Why the bridge could not connect to a target.
#[derive(Debug)]
pub enum ConnectError {
    /// Name resolution failed.
    Resolve(io::Error),
    /// The name resolved to nothing.
    NoAddress,
    /// Every resolved address is non-public and `allow_private` is off.
    Forbidden {
        /// The refused address.
        addr: SocketAddr,
        /// Which kind of non-public address it is.
        reason: &'static str,
    },
    /// Every permitted address refused or failed the connection.
    Connect(io::Error),
    /// Resolving and connecting took longer than the connect timeout.
    Timeout,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resolve(err) => write!(f, "cannot resolve target: {err}"),
            Self::NoAddress => f.write_str("target resolves to no address"),
            Self::Forbidden { addr, reason } => {
                write!(f, "target address {addr} is {reason} and not allowed")
            }
            Self::Connect(err) => write!(f, "cannot connect to target: {err}"),
            Self::Timeout => f.write_str("timed out connecting to target"),
        }
    }
}

impl std::error::Error for ConnectError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Vec<Target> {
        vec![
            Target::new("main", "seed.example:19999").unwrap(),
            Target::new("backup", "[2001:db8::1]:19999").unwrap(),
        ]
    }

    #[test]
    fn addresses_are_parsed() {
        let t = Target::new("a", "1.2.3.4:9999").unwrap();
        assert_eq!(t.literal_ip(), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(t.address(), "1.2.3.4:9999");
        assert_eq!(
            Target::new("a", "[::1]:9").unwrap().address(),
            "[::1]:9".to_owned()
        );
        assert_eq!(
            Target::new("a", "node.example:1").unwrap().literal_ip(),
            None
        );
        for bad in [
            "node.example",
            "node.example:0",
            "node.example:x",
            ":1",
            "::1:5",
            "a/b:1",
        ] {
            assert!(Target::new("a", bad).is_err(), "{bad}");
        }
        assert!(Target::new("bad name", "node.example:1").is_err());
    }

    #[test]
    fn selection_by_path_or_query() {
        let t = targets();
        assert_eq!(select(&t, "/").unwrap().name, "main");
        assert_eq!(select(&t, "").unwrap().name, "main");
        assert_eq!(select(&t, "/?foo=1").unwrap().name, "main");
        assert_eq!(select(&t, "/backup").unwrap().name, "backup");
        assert_eq!(select(&t, "/?target=backup").unwrap().name, "backup");
        assert_eq!(select(&t, "/backup?target=backup").unwrap().name, "backup");
    }

    #[test]
    fn selection_never_takes_an_address() {
        let t = targets();
        for bad in [
            "/?target=10.0.0.1:19999",
            "/127.0.0.1:19999",
            "/?target=seed.example:19999",
            "/main/x",
            "/%6dain",
            "/?target=",
        ] {
            assert!(
                matches!(select(&t, bad), Err(SelectError::Unknown(_))),
                "{bad}"
            );
        }
        assert_eq!(
            select(&t, "/main?target=backup"),
            Err(SelectError::Ambiguous)
        );
        assert_eq!(
            select(&t, "/?target=main&target=backup"),
            Err(SelectError::Ambiguous)
        );
    }
}
