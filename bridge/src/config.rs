//! The bridge's settings: command-line flags, an optional TOML file, defaults
//! and their validation.

use crate::address::forbidden_reason;
use crate::budget::{Budget, BudgetTable};
use crate::commands::CommandSet;
use crate::target::{Target, TargetError};
use clap::Parser;
use dashlight::network::Network;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Whether the bridge checks that the traffic is Dash P2P.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Checks magic, framing and checksum both ways and the client's commands.
    Dash,
    /// Relays bytes untouched, like websockify.
    Raw,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A byte-rate limit applied to each direction of each connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained rate in bytes per second.
    pub bytes_per_sec: u64,
    /// Bytes that may pass at once after a quiet period.
    pub burst_bytes: u64,
}

/// The complete, validated settings of a bridge.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where WebSocket clients connect.
    pub listen: SocketAddr,
    /// Where `GET /health` is answered, if anywhere.
    pub health_listen: Option<SocketAddr>,
    /// PEM certificate chain for built-in TLS (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for built-in TLS (with `tls_cert`).
    pub tls_key: Option<PathBuf>,
    /// The network whose magic Dash-aware mode expects.
    pub network: Network,
    /// Dash-aware or raw relaying.
    pub mode: Mode,
    /// The nodes clients may reach; the first is the default.
    pub targets: Vec<Target>,
    /// Whether targets may resolve to loopback, private or other non-public addresses.
    pub allow_private: bool,
    /// Whether the client address is taken from `X-Forwarded-For` (set by a reverse proxy).
    pub trust_proxy: bool,
    /// Origins allowed to connect; empty means any (and none).
    pub allowed_origins: Vec<String>,
    /// Whether an empty origin allow-list is accepted on a non-loopback
    /// listen address.
    pub any_origin: bool,
    /// Most connections held at once (including those still in their handshake).
    pub max_connections: usize,
    /// Most connections from one client address (IPv6: one prefix of
    /// `ipv6_prefix` bits), counted from TCP accept for direct clients.
    pub max_connections_per_ip: usize,
    /// Most connections from one trusted proxy (with `trust_proxy`).
    pub max_connections_per_proxy: usize,
    /// IPv6 clients are counted per prefix of this many bits (16 to 128).
    pub ipv6_prefix: u8,
    /// Per-client budgets of the expensive commands (Dash mode).
    pub command_budgets: BudgetTable,
    /// Bytes per second forwarded to all clients together; `None` is unlimited.
    pub global_rate_limit: Option<u64>,
    /// Time allowed for the WebSocket handshake.
    pub handshake_timeout: Duration,
    /// A connection with no traffic either way for this long is closed.
    pub idle_timeout: Duration,
    /// Time allowed to open the TCP connection to the target.
    pub connect_timeout: Duration,
    /// Per-direction byte-rate limit of each connection; `None` is unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Largest WebSocket frame payload accepted from a client.
    pub max_frame_size: usize,
    /// Largest WebSocket message (and, in Dash mode, message payload) accepted from a client.
    pub max_message_size: usize,
    /// Largest Dash message payload accepted from the target (Dash mode).
    pub max_target_message_size: usize,
    /// Commands a client may send to the target (Dash mode).
    pub client_commands: CommandSet,
    /// How long shutdown waits for connections to close after sending close frames.
    pub shutdown_grace: Duration,
    /// Log line format.
    pub log_format: LogFormat,
    /// `tracing` filter directive, such as `info` or `dashlight_bridge=debug`.
    pub log_level: String,
}

impl Config {
    /// Default settings for one network and its allowed targets.
    pub fn new(network: Network, targets: Vec<Target>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            health_listen: None,
            tls_cert: None,
            tls_key: None,
            network,
            mode: Mode::Dash,
            targets,
            allow_private: false,
            trust_proxy: false,
            allowed_origins: Vec::new(),
            any_origin: false,
            max_connections: 1024,
            max_connections_per_ip: 8,
            max_connections_per_proxy: 1024,
            ipv6_prefix: 48,
            command_budgets: BudgetTable::defaults(),
            global_rate_limit: None,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            rate_limit: Some(RateLimit {
                bytes_per_sec: 4 * 1024 * 1024,
                burst_bytes: 8 * 1024 * 1024,
            }),
            max_frame_size: 256 * 1024,
            max_message_size: 256 * 1024,
            max_target_message_size: dashlight::protocol::framing::MAX_PAYLOAD,
            client_commands: CommandSet::default_client_commands(),
            shutdown_grace: Duration::from_secs(5),
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
        }
    }

    /// Settings from the command line, over those of its `--config` file if
    /// given, over the defaults; validated.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        let file = match &cli.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let config = Self::merge(cli, file)?;
        config.validate()?;
        Ok(config)
    }

    fn merge(cli: Cli, file: FileConfig) -> Result<Config, ConfigError> {
        let network = cli.network.or(file.network).unwrap_or(Network::Mainnet);
        let target_specs: Vec<TargetSpec> = if cli.target.is_empty() {
            file.targets
        } else {
            cli.target
                .iter()
                .map(|spec| TargetSpec::parse(spec))
                .collect::<Result<_, _>>()?
        };
        let targets = target_specs
            .into_iter()
            .map(|spec| {
                Target::new(&spec.name, &spec.address).map_err(|source| ConfigError::Target {
                    spec: format!("{}={}", spec.name, spec.address),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut config = Config::new(network, targets);
        let d = Config::new(network, Vec::new());

        config.listen = cli.listen.or(file.listen).unwrap_or(d.listen);
        config.health_listen = cli.health_listen.or(file.health_listen);
        config.tls_cert = cli.tls_cert.or(file.tls_cert);
        config.tls_key = cli.tls_key.or(file.tls_key);
        config.mode = if cli.raw || file.raw.unwrap_or(false) {
            Mode::Raw
        } else {
            Mode::Dash
        };
        config.allow_private = cli.allow_private || file.allow_private.unwrap_or(false);
        config.trust_proxy = cli.trust_proxy || file.trust_proxy.unwrap_or(false);
        config.allowed_origins = if cli.allow_origin.is_empty() {
            file.allowed_origins.unwrap_or_default()
        } else {
            cli.allow_origin
        };
        config.any_origin = cli.any_origin || file.any_origin.unwrap_or(false);
        config.max_connections_per_proxy = cli
            .max_connections_per_proxy
            .or(file.max_connections_per_proxy)
            .unwrap_or(d.max_connections_per_proxy);
        config.ipv6_prefix = cli
            .ipv6_prefix
            .or(file.ipv6_prefix)
            .unwrap_or(d.ipv6_prefix);
        config.global_rate_limit = cli
            .global_rate_limit
            .or(file.global_rate_limit)
            .filter(|rate| *rate > 0);
        for (name, spec) in file.command_budgets.unwrap_or_default() {
            CommandSet::from_names(&[name.as_str()]).map_err(ConfigError::InvalidCommand)?;
            let command = dashlight::protocol::framing::Command::new(&name);
            if spec.burst == 0 || !spec.per_second.is_finite() || spec.per_second < 0.0 {
                return Err(ConfigError::Invalid {
                    field: "command_budgets",
                    reason: format!(
                        "{name}: burst must be at least 1 and per_second a number of at least 0"
                    ),
                });
            }
            config.command_budgets.set(
                command,
                Budget {
                    burst: spec.burst,
                    per_second: spec.per_second,
                },
            );
        }
        config.max_connections = cli
            .max_connections
            .or(file.max_connections)
            .unwrap_or(d.max_connections);
        config.max_connections_per_ip = cli
            .max_connections_per_ip
            .or(file.max_connections_per_ip)
            .unwrap_or(d.max_connections_per_ip);
        config.handshake_timeout = seconds(
            "handshake_timeout",
            cli.handshake_timeout.or(file.handshake_timeout),
            d.handshake_timeout,
        )?;
        config.idle_timeout = seconds(
            "idle_timeout",
            cli.idle_timeout.or(file.idle_timeout),
            d.idle_timeout,
        )?;
        config.connect_timeout = seconds(
            "connect_timeout",
            cli.connect_timeout.or(file.connect_timeout),
            d.connect_timeout,
        )?;
        config.shutdown_grace = seconds(
            "shutdown_grace",
            cli.shutdown_grace.or(file.shutdown_grace),
            d.shutdown_grace,
        )?;
        let default_rate = d.rate_limit.map(|r| r.bytes_per_sec).unwrap_or(0);
        let default_burst = d.rate_limit.map(|r| r.burst_bytes).unwrap_or(0);
        let rate = cli.rate_limit.or(file.rate_limit).unwrap_or(default_rate);
        let burst = cli.rate_burst.or(file.rate_burst).unwrap_or(default_burst);
        config.rate_limit = (rate > 0).then_some(RateLimit {
            bytes_per_sec: rate,
            burst_bytes: burst.max(rate),
        });
        config.max_frame_size = cli
            .max_frame_size
            .or(file.max_frame_size)
            .unwrap_or(d.max_frame_size);
        config.max_message_size = cli
            .max_message_size
            .or(file.max_message_size)
            .unwrap_or(d.max_message_size);
        config.max_target_message_size = cli
            .max_target_message_size
            .or(file.max_target_message_size)
            .unwrap_or(d.max_target_message_size);
        let commands = if cli.allow_command.is_empty() {
            file.client_commands
        } else {
            Some(cli.allow_command)
        };
        if let Some(names) = commands {
            config.client_commands =
                CommandSet::from_names(&names).map_err(ConfigError::InvalidCommand)?;
        }
        config.log_format = cli.log_format.or(file.log_format).unwrap_or(d.log_format);
        config.log_level = cli.log_level.or(file.log_level).unwrap_or(d.log_level);
        Ok(config)
    }

    /// Checks the settings are usable and safe: at least one target, unique
    /// names, no literal non-public target address unless allowed, sane sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.targets.is_empty() {
            return Err(ConfigError::NoTarget);
        }
        for (i, target) in self.targets.iter().enumerate() {
            if self
                .targets
                .iter()
                .skip(i + 1)
                .any(|t| t.name == target.name)
            {
                return Err(ConfigError::DuplicateTarget(target.name.clone()));
            }
            if let Some(ip) = target.literal_ip() {
                if let (false, Some(reason)) = (self.allow_private, forbidden_reason(ip)) {
                    return Err(ConfigError::PrivateTarget {
                        name: target.name.clone(),
                        address: target.address(),
                        reason,
                    });
                }
            }
        }
        if !self.listen.ip().is_loopback() && self.allowed_origins.is_empty() && !self.any_origin {
            return Err(ConfigError::Invalid {
                field: "allowed_origins",
                reason: format!(
                    "listening on {} (not loopback) needs an origin allow-list (--allow-origin), or --any-origin to accept every web page",
                    self.listen
                ),
            });
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Invalid {
                field: "tls_cert",
                reason: "--tls-cert and --tls-key go together".to_owned(),
            });
        }
        if !(16..=128).contains(&self.ipv6_prefix) {
            return Err(ConfigError::Invalid {
                field: "ipv6_prefix",
                reason: format!("{} is not between 16 and 128", self.ipv6_prefix),
            });
        }
        let positive = [
            ("max_connections", self.max_connections),
            ("max_connections_per_ip", self.max_connections_per_ip),
            ("max_connections_per_proxy", self.max_connections_per_proxy),
            ("max_frame_size", self.max_frame_size),
            ("max_message_size", self.max_message_size),
            ("max_target_message_size", self.max_target_message_size),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid {
                field,
                reason: "must be greater than zero".to_owned(),
            });
        }
        for origin in &self.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                return Err(ConfigError::Invalid {
                    field: "allowed_origins",
                    reason: format!(
                        "{origin:?} is not an origin like \"https://wallet.example\" (scheme and host, no path)"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The longest timeout accepted (30 days).
const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;

fn seconds(
    field: &'static str,
    value: Option<f64>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(secs) if secs > MAX_SECONDS => Err(ConfigError::Invalid {
            field,
            reason: format!("{secs} seconds is more than the {MAX_SECONDS} allowed"),
        }),
        Some(secs) if secs > 0.0 => {
            Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::Invalid {
                field,
                reason: format!("{secs} is not a usable number of seconds"),
            })
        }
        Some(secs) => Err(ConfigError::Invalid {
            field,
            reason: format!("{secs} must be greater than zero seconds"),
        }),
    }
}

/// Command-line flags. Every flag overrides the same setting of the
/// `--config` file; repeatable flags replace the file's list.
#[derive(Debug, Default, Parser)]
#[command(name = "dashlight-bridge", version, about)]
pub struct Cli {
    /// TOML file with settings: flag names with underscores; lists are
    /// `[[targets]]` (name, address), `allowed_origins`, `client_commands`;
    /// `[command_budgets]` maps commands to `{ burst = N, per_second = R }`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address for WebSocket clients [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Address answering `GET /health` with JSON counters and `GET /metrics`
    /// [default: none].
    #[arg(long, value_name = "ADDR")]
    pub health_listen: Option<SocketAddr>,
    /// PEM certificate chain: serve `wss://` (TLS) instead of `ws://`;
    /// reloaded with the key on SIGHUP.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Network whose magic is expected: mainnet or testnet [default: mainnet].
    #[arg(long)]
    pub network: Option<Network>,
    /// Allowed target `[NAME=]HOST:PORT` (repeatable; the first is the
    /// default; clients pick another with `/NAME` or `/?target=NAME`).
    #[arg(long, value_name = "[NAME=]HOST:PORT")]
    pub target: Vec<String>,
    /// Relay bytes untouched instead of checking Dash P2P framing.
    #[arg(long)]
    pub raw: bool,
    /// Allow targets on loopback, private and other non-public addresses.
    #[arg(long)]
    pub allow_private: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy).
    #[arg(long)]
    pub trust_proxy: bool,
    /// Allowed `Origin` (repeatable); without any, every origin is allowed,
    /// which a non-loopback `--listen` accepts only with `--any-origin`.
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Accept every origin even when listening on a non-loopback address.
    #[arg(long)]
    pub any_origin: bool,
    /// Most connections at once [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Most connections per client address, counted from TCP accept (IPv6:
    /// per --ipv6-prefix) [default: 8].
    #[arg(long, value_name = "N")]
    pub max_connections_per_ip: Option<usize>,
    /// Most connections per trusted proxy (with --trust-proxy) [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_connections_per_proxy: Option<usize>,
    /// IPv6 clients are counted per prefix of this many bits [default: 48].
    #[arg(long, value_name = "BITS")]
    pub ipv6_prefix: Option<u8>,
    /// Bytes per second to all clients together, 0 for no limit [default: 0].
    #[arg(long, value_name = "BYTES")]
    pub global_rate_limit: Option<u64>,
    /// Seconds allowed for the WebSocket handshake [default: 10].
    #[arg(long, value_name = "SECS")]
    pub handshake_timeout: Option<f64>,
    /// Seconds without traffic before a connection is closed [default: 300].
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<f64>,
    /// Seconds allowed to connect to the target [default: 10].
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<f64>,
    /// Bytes per second per direction per connection, 0 for no limit [default: 4194304].
    #[arg(long, value_name = "BYTES")]
    pub rate_limit: Option<u64>,
    /// Burst allowance of the rate limit in bytes [default: 8388608].
    #[arg(long, value_name = "BYTES")]
    pub rate_burst: Option<u64>,
    /// Largest WebSocket frame from a client [default: 262144].
    #[arg(long, value_name = "BYTES")]
    pub max_frame_size: Option<usize>,
    /// Largest WebSocket message (and Dash payload) from a client [default: 262144].
    #[arg(long, value_name = "BYTES")]
    pub max_message_size: Option<usize>,
    /// Largest Dash payload from the target [default: 8388608].
    #[arg(long, value_name = "BYTES")]
    pub max_target_message_size: Option<usize>,
    /// Command a client may send (repeatable; replaces the default list).
    #[arg(long, value_name = "COMMAND")]
    pub allow_command: Vec<String>,
    /// Seconds shutdown waits for connections to close [default: 5].
    #[arg(long, value_name = "SECS")]
    pub shutdown_grace: Option<f64>,
    /// Log format [default: text].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter such as `info` or `dashlight_bridge=debug` [default: info].
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
}

/// One `[[targets]]` table of the file, or one `--target` flag.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetSpec {
    name: String,
    address: String,
}

impl TargetSpec {
    fn parse(spec: &str) -> Result<TargetSpec, ConfigError> {
        let (name, address) = spec.split_once('=').unwrap_or(("default", spec));
        if name.is_empty() || address.is_empty() {
            return Err(ConfigError::Target {
                spec: spec.to_owned(),
                source: TargetError::Empty,
            });
        }
        Ok(TargetSpec {
            name: name.to_owned(),
            address: address.to_owned(),
        })
    }
}

/// One entry of the file's `[command_budgets]` table.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetSpec {
    burst: u32,
    per_second: f64,
}

/// The TOML file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    health_listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default, deserialize_with = "network_name")]
    network: Option<Network>,
    #[serde(default)]
    targets: Vec<TargetSpec>,
    raw: Option<bool>,
    allow_private: Option<bool>,
    trust_proxy: Option<bool>,
    allowed_origins: Option<Vec<String>>,
    any_origin: Option<bool>,
    max_connections: Option<usize>,
    max_connections_per_ip: Option<usize>,
    max_connections_per_proxy: Option<usize>,
    ipv6_prefix: Option<u8>,
    global_rate_limit: Option<u64>,
    command_budgets: Option<BTreeMap<String, BudgetSpec>>,
    handshake_timeout: Option<f64>,
    idle_timeout: Option<f64>,
    connect_timeout: Option<f64>,
    rate_limit: Option<u64>,
    rate_burst: Option<u64>,
    max_frame_size: Option<usize>,
    max_message_size: Option<usize>,
    max_target_message_size: Option<usize>,
    client_commands: Option<Vec<String>>,
    shutdown_grace: Option<f64>,
    log_format: Option<LogFormat>,
    log_level: Option<String>,
}

fn network_name<'de, D>(deserializer: D) -> Result<Option<Network>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let name = String::deserialize(deserializer)?;
    name.parse().map(Some).map_err(serde::de::Error::custom)
}

impl FileConfig {
    fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }
}

/// Why the settings are unusable.
#[derive(Debug)]
pub enum ConfigError {
    /// The config file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for these settings.
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: Box<toml::de::Error>,
    },
    /// A target is malformed.
    Target {
        /// The target as given.
        spec: String,
        /// What is wrong with it.
        source: TargetError,
    },
    /// No target is configured.
    NoTarget,
    /// Two targets share a name.
    DuplicateTarget(String),
    /// A target's literal address is not public and `allow_private` is off.
    PrivateTarget {
        /// The target's name.
        name: String,
        /// Its address.
        address: String,
        /// Which kind of non-public address it is.
        reason: &'static str,
    },
    /// A command name in the allow-list is not a valid command.
    InvalidCommand(String),
    /// A setting has an unusable value.
    Invalid {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::Parse { path, source } => write!(f, "invalid config {}: {source}", path.display()),
            Self::Target { spec, source } => write!(f, "invalid target {spec:?}: {source}"),
            Self::NoTarget => f.write_str("no target configured (use --target HOST:PORT)"),
            Self::DuplicateTarget(name) => write!(f, "two targets are named {name:?}"),
            Self::PrivateTarget {
                name,
                address,
                reason,
            } => write!(
                f,
                "target {name:?} ({address}) is a {reason} address; pass --allow-private to allow it"
            ),
            Self::InvalidCommand(name) => write!(
                f,
                "invalid command {name:?} (1 to 12 printable ASCII characters)"
            ),
            Self::Invalid { field, reason } => write!(f, "{field}: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::Parse { source, .. } => Some(source),
            Self::Target { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["dashlight-bridge"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn flags_build_a_config() {
        let config = Config::from_cli(cli(&[
            "--network",
            "testnet",
            "--target",
            "seed.example:19999",
            "--target",
            "second=[2001:4860::1]:19999",
            "--raw",
            "--idle-timeout",
            "1.5",
            "--rate-limit",
            "0",
        ]))
        .unwrap();
        assert_eq!(config.network, Network::Testnet);
        assert_eq!(config.mode, Mode::Raw);
        assert_eq!(config.targets[0].name, "default");
        assert_eq!(config.targets[1].name, "second");
        assert_eq!(config.idle_timeout, Duration::from_millis(1500));
        assert_eq!(config.rate_limit, None);
    }

    #[test]
    fn file_settings_are_overridden_by_flags() {
        let file: FileConfig = toml::from_str(
            r#"
            network = "testnet"
            listen = "0.0.0.0:9000"
            max_connections_per_ip = 3
            client_commands = ["version", "verack"]
            [[targets]]
            name = "a"
            address = "node.example:19999"
            "#,
        )
        .unwrap();
        let config = Config::merge(cli(&["--max-connections-per-ip", "5"]), file).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.max_connections_per_ip, 5);
        assert_eq!(config.targets[0].name, "a");
        assert!(config
            .client_commands
            .contains(&dashlight::protocol::framing::Command::new("verack")));
        assert!(!config
            .client_commands
            .contains(&dashlight::protocol::framing::Command::new("ping")));
    }

    #[test]
    fn public_listening_needs_an_origin_list_or_any_origin() {
        let public = ["--target", "x.example:1", "--listen", "0.0.0.0:8080"];
        let err = Config::from_cli(cli(&public)).unwrap_err();
        assert!(err.to_string().contains("--any-origin"), "{err}");
        let mut with_origin = public.to_vec();
        with_origin.extend(["--allow-origin", "https://wallet.example"]);
        assert!(Config::from_cli(cli(&with_origin)).is_ok());
        let mut any = public.to_vec();
        any.push("--any-origin");
        assert!(Config::from_cli(cli(&any)).is_ok());
        assert!(
            Config::from_cli(cli(&["--target", "x.example:1", "--listen", "[::1]:8080"])).is_ok()
        );
    }

    #[test]
    fn budgets_and_prefix_come_from_the_file() {
        let file: FileConfig = toml::from_str(
            r#"
            ipv6_prefix = 56
            [command_budgets]
            getqrinfo = { burst = 3, per_second = 0.5 }
            getnothing = { burst = 1, per_second = 0 }
            "#,
        )
        .unwrap();
        let config = Config::merge(cli(&["--target", "x.example:1"]), file).unwrap();
        assert_eq!(config.ipv6_prefix, 56);
        let budget = |name| {
            config
                .command_budgets
                .get(&dashlight::protocol::framing::Command::new(name))
        };
        assert_eq!(budget("getqrinfo").map(|b| b.burst), Some(3));
        assert_eq!(budget("getnothing").map(|b| b.burst), Some(1));
        assert!(budget("getmnlistd").is_some(), "defaults stay");
        let bad: FileConfig =
            toml::from_str("[command_budgets]\ngetqrinfo = { burst = 0, per_second = 1 }").unwrap();
        assert!(Config::merge(cli(&["--target", "x.example:1"]), bad).is_err());
        assert!(matches!(
            Config::from_cli(cli(&["--target", "x.example:1", "--ipv6-prefix", "8"])),
            Err(ConfigError::Invalid {
                field: "ipv6_prefix",
                ..
            })
        ));
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        assert!(toml::from_str::<FileConfig>("listn = \"0.0.0.0:1\"").is_err());
        assert!(toml::from_str::<FileConfig>("network = \"regtest\"").is_err());
    }

    #[test]
    fn private_literal_targets_need_the_flag() {
        let err = Config::from_cli(cli(&["--target", "127.0.0.1:19999"])).unwrap_err();
        assert!(matches!(err, ConfigError::PrivateTarget { .. }), "{err}");
        let err = Config::from_cli(cli(&["--target", "10.1.2.3:19999"])).unwrap_err();
        assert!(matches!(err, ConfigError::PrivateTarget { .. }), "{err}");
        assert!(Config::from_cli(cli(&["--target", "127.0.0.1:19999", "--allow-private"])).is_ok());
    }

    #[test]
    fn bad_settings_are_reported() {
        assert!(matches!(
            Config::from_cli(cli(&[])),
            Err(ConfigError::NoTarget)
        ));
        assert!(matches!(
            Config::from_cli(cli(&[
                "--target",
                "a=x.example:1",
                "--target",
                "a=y.example:1"
            ])),
            Err(ConfigError::DuplicateTarget(_))
        ));
        for secs in ["0", "-1", "NaN", "1e30"] {
            assert!(
                matches!(
                    Config::from_cli(cli(&[
                        "--target",
                        "x.example:1",
                        &format!("--idle-timeout={secs}")
                    ])),
                    Err(ConfigError::Invalid { .. })
                ),
                "{secs}"
            );
        }
        assert!(matches!(
            Config::from_cli(cli(&[
                "--target",
                "x.example:1",
                "--allow-origin",
                "https://a.example/"
            ])),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            Config::from_cli(cli(&[
                "--target",
                "x.example:1",
                "--allow-command",
                "waytoolongcommand"
            ])),
            Err(ConfigError::InvalidCommand(_))
        ));
        assert!(matches!(
            Config::from_cli(cli(&["--target", "x.example"])),
            Err(ConfigError::Target { .. })
        ));
    }
}
