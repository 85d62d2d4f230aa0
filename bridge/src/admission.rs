//! Deciding, from the WebSocket upgrade request, whether a client may
//! connect and to which target.

use crate::config::Config;
use crate::limits::ConnectionPermit;
use crate::target::{select, Target};
use std::fmt;
use std::net::IpAddr;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};
use tokio_tungstenite::tungstenite::http::{header, StatusCode};

/// A client allowed in.
#[derive(Debug, Clone)]
pub struct Admission {
    /// The client's address (from `X-Forwarded-For` when trusted).
    pub client: IpAddr,
    /// The target it selected.
    pub target: Target,
}

/// Why a client was refused during the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The `Origin` header is missing or not allowed.
    Origin(Option<String>),
    /// The request does not name an allowed target.
    Target(String),
    /// The client already holds its maximum number of connections.
    PerClientLimit(String),
    /// `X-Forwarded-For` is set but not a list of IP addresses.
    BadForwardedFor(String),
}

impl Refusal {
    /// The HTTP status the handshake is refused with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Origin(_) => StatusCode::FORBIDDEN,
            Self::Target(_) => StatusCode::NOT_FOUND,
            Self::PerClientLimit(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BadForwardedFor(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Origin(_) => "origin",
            Self::Target(_) => "target",
            Self::PerClientLimit(_) => "per_client",
            Self::BadForwardedFor(_) => "bad_forwarded_for",
        }
    }

    /// The HTTP response refusing the handshake.
    pub fn response(&self) -> ErrorResponse {
        let mut response = ErrorResponse::new(Some(format!("{self}\n")));
        *response.status_mut() = self.status();
        response
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Origin(Some(origin)) => write!(f, "origin {origin:?} is not allowed"),
            Self::Origin(None) => f.write_str("an Origin header is required"),
            Self::Target(why) => f.write_str(why),
            Self::PerClientLimit(why) => f.write_str(why),
            Self::BadForwardedFor(value) => write!(f, "invalid X-Forwarded-For {value:?}"),
        }
    }
}

impl std::error::Error for Refusal {}

/// Checks an upgrade request from socket address `peer`: client address,
/// origin, target, and behind a trusted proxy the per-client cap of the
/// forwarded address (counted on `permit`; a direct client was counted at
/// accept).
pub fn admit(
    request: &Request,
    peer: IpAddr,
    permit: &mut ConnectionPermit,
    config: &Config,
) -> Result<Admission, Refusal> {
    let client = if config.trust_proxy {
        forwarded_client(request)?.unwrap_or(peer)
    } else {
        peer
    };
    if !config.allowed_origins.is_empty() {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let allowed = origin.as_deref().is_some_and(|origin| {
            config
                .allowed_origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin))
        });
        if !allowed {
            return Err(Refusal::Origin(origin));
        }
    }
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = select(&config.targets, path)
        .map_err(|err| Refusal::Target(err.to_string()))?
        .clone();
    permit
        .bind_forwarded(client)
        .map_err(|err| Refusal::PerClientLimit(err.to_string()))?;
    Ok(Admission { client, target })
}

/// The client address a trusted reverse proxy reports: the last (rightmost)
/// entry of the last `X-Forwarded-For` header, which is the one the proxy
/// itself appended. `None` when the header is absent.
fn forwarded_client(request: &Request) -> Result<Option<IpAddr>, Refusal> {
    let Some(value) = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
    else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let last = text.rsplit(',').next().unwrap_or_default().trim();
    parse_forwarded_ip(last)
        .map(Some)
        .ok_or_else(|| Refusal::BadForwardedFor(text.chars().take(100).collect()))
}

/// An IP address as proxies write it: plain, or IPv6 in brackets, optionally
/// with a port.
fn parse_forwarded_ip(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::BudgetTable;
    use crate::limits::{ConnectionLimits, LimitSettings};
    use dashlight::network::Network;
    use std::sync::Arc;

    fn limits(max_per_client: usize) -> Arc<ConnectionLimits> {
        ConnectionLimits::new(
            LimitSettings {
                max_total: 10,
                max_per_client,
                max_per_proxy: 10,
                ipv6_prefix: 48,
            },
            Arc::new(BudgetTable::none()),
        )
    }

    fn config() -> Config {
        Config::new(
            Network::Testnet,
            vec![
                Target::new("a", "node-a.example:19999").unwrap(),
                Target::new("b", "node-b.example:19999").unwrap(),
            ],
        )
    }

    fn request(path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri(path);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).unwrap()
    }

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 114, 7));
    const PROXY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn picks_the_requested_target() {
        let limits = limits(10);
        let mut permit = limits.try_acquire(PROXY, true).unwrap();
        let admission = admit(&request("/?target=b", &[]), PEER, &mut permit, &config()).unwrap();
        assert_eq!(admission.target.name, "b");
        assert_eq!(admission.client, PEER);
        let mut permit = limits.try_acquire(PROXY, true).unwrap();
        let refusal = admit(
            &request("/?target=evil.example:80", &[]),
            PEER,
            &mut permit,
            &config(),
        )
        .unwrap_err();
        assert_eq!(refusal.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn origin_allow_list() {
        let mut config = config();
        config.allowed_origins = vec!["https://wallet.example".to_owned()];
        let limits = limits(10);
        let mut permit = limits.try_acquire(PROXY, true).unwrap();
        assert_eq!(
            admit(&request("/", &[]), PEER, &mut permit, &config).unwrap_err(),
            Refusal::Origin(None)
        );
        let refusal = admit(
            &request("/", &[("origin", "https://evil.example")]),
            PEER,
            &mut permit,
            &config,
        )
        .unwrap_err();
        assert_eq!(refusal.status(), StatusCode::FORBIDDEN);
        assert!(admit(
            &request("/", &[("origin", "https://Wallet.example")]),
            PEER,
            &mut permit,
            &config
        )
        .is_ok());
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let mut config = config();
        let limits = limits(10);
        let xff = [("x-forwarded-for", "198.51.100.1, 192.0.2.9")];
        let mut permit = limits.try_acquire(PROXY, true).unwrap();
        assert_eq!(
            admit(&request("/", &xff), PEER, &mut permit, &config)
                .unwrap()
                .client,
            PEER
        );
        config.trust_proxy = true;
        let mut permit = limits.try_acquire(PROXY, true).unwrap();
        assert_eq!(
            admit(&request("/", &xff), PEER, &mut permit, &config)
                .unwrap()
                .client,
            "192.0.2.9".parse::<IpAddr>().unwrap()
        );
        let mut permit = limits.try_acquire(PROXY, true).unwrap();
        assert_eq!(
            admit(&request("/", &[]), PEER, &mut permit, &config)
                .unwrap()
                .client,
            PEER
        );
        let mut permit = limits.try_acquire(PROXY, true).unwrap();
        assert!(matches!(
            admit(
                &request("/", &[("x-forwarded-for", "unknown")]),
                PEER,
                &mut permit,
                &config
            ),
            Err(Refusal::BadForwardedFor(_))
        ));
        assert_eq!(
            parse_forwarded_ip("[2001:db8::1]:443"),
            "2001:db8::1".parse().ok()
        );
        assert_eq!(
            parse_forwarded_ip("[2001:db8::1]"),
            "2001:db8::1".parse().ok()
        );
        assert_eq!(parse_forwarded_ip("192.0.2.1:80"), "192.0.2.1".parse().ok());
    }

    #[test]
    fn per_forwarded_client_cap_refuses_with_429() {
        let mut config = config();
        config.trust_proxy = true;
        let limits = limits(1);
        let mut first = limits.try_acquire(PROXY, true).unwrap();
        assert!(admit(&request("/", &[]), PEER, &mut first, &config).is_ok());
        let mut second = limits.try_acquire(PROXY, true).unwrap();
        let refusal = admit(&request("/", &[]), PEER, &mut second, &config).unwrap_err();
        assert_eq!(refusal.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}
