//! Command-line options.

use crate::faults::{FaultPlan, InvalidPayloads};
use crate::fixtures::FixtureSource;
use crate::live::MAX_SPEED;
use crate::server::{GrowPlan, GrowStart, Timing};
use crate::state::PeerSettings;
use clap::Parser;
use dashlight::network::Network;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// The fixtures folder: `shared/fixtures` beside the repository.
pub const DEFAULT_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures");

/// Heights the served tip moves to in turn; `none` for no steps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TipSteps(pub Vec<u32>);

impl FromStr for TipSteps {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s == "none" {
            return Ok(TipSteps(Vec::new()));
        }
        let mut steps = s
            .split(',')
            .map(|h| {
                h.trim()
                    .parse::<u32>()
                    .map_err(|e| format!("{h:?} is not a height: {e}"))
            })
            .collect::<Result<Vec<u32>, String>>()?;
        steps.sort_unstable();
        steps.dedup();
        Ok(TipSteps(steps))
    }
}

/// A duration in (possibly fractional) seconds.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let seconds: f64 = s
        .parse()
        .map_err(|e| format!("{s:?} is not a number of seconds: {e}"))?;
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{s:?}: {e}"))
}

/// A live speed factor: a positive number of simulated seconds per real
/// second, at most [`MAX_SPEED`].
fn parse_speed(s: &str) -> Result<f64, String> {
    let speed: f64 = s
        .parse()
        .map_err(|e| format!("{s:?} is not a number: {e}"))?;
    if speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED {
        Ok(speed)
    } else {
        Err(format!(
            "{s:?}: the speed must be above 0 and at most {MAX_SPEED}"
        ))
    }
}

/// A dashd stand-in that serves captured Dash data over P2P, with fault injection.
#[derive(Debug, Clone, Parser)]
#[command(name = "dashlight-replay-peer", version, about)]
pub struct Options {
    /// Address to accept P2P connections on [default: 127.0.0.1 and the network's port].
    #[arg(long)]
    pub listen: Option<SocketAddr>,

    /// The network: testnet or mainnet.
    #[arg(long, default_value = "testnet")]
    pub network: Network,

    /// The fixtures folder.
    #[arg(long, default_value = DEFAULT_FIXTURES)]
    pub fixtures: PathBuf,

    /// Headers file (80-byte headers at consecutive heights); relative paths
    /// are taken from the fixtures folder [default: testnet's
    /// testnet/headers/testnet_headers_898560_947248.bin; mainnet: none].
    #[arg(long)]
    pub headers: Option<PathBuf>,

    /// Height of the headers file's first header [default: from the file
    /// name, `..._<first>_<last>.bin`].
    #[arg(long)]
    pub headers_start_height: Option<u32>,

    /// The served tip at start (clamped to the headers available).
    #[arg(long, default_value_t = 905_294, conflicts_with = "live")]
    pub tip_height: u32,

    /// Live mode: serve the chain as a live network. A live clock starts at
    /// the timestamp of the --live-start block and runs at --speed × real
    /// time; each block becomes the tip once the clock reaches its
    /// timestamp (and every earlier block's). Also serves the ChainLocks
    /// derived from coinbase transactions as the tip passes them.
    #[arg(long, conflicts_with_all = ["tip_steps", "tip_step_every", "grow_every"])]
    pub live: bool,

    /// Live mode: simulated seconds per real second.
    #[arg(long, default_value = "60", value_parser = parse_speed, requires = "live")]
    pub speed: f64,

    /// Live mode: the served tip at start, whose timestamp starts the live clock.
    #[arg(long, default_value_t = 905_294, requires = "live")]
    pub live_start: u32,

    /// Heights the served tip then moves to, one step per --tip-step-every,
    /// comma-separated; `none` for no steps.
    #[arg(long, default_value = "905770,905800")]
    pub tip_steps: TipSteps,

    /// Seconds between two tip steps.
    #[arg(long, default_value = "20", value_parser = parse_seconds)]
    pub tip_step_every: Duration,

    /// After the steps, add one header every this many seconds (a growing chain).
    #[arg(long, value_parser = parse_seconds)]
    pub grow_every: Option<Duration>,

    /// When the tip starts to move.
    #[arg(long, value_enum, default_value = "after-qrinfo")]
    pub grow_start: GrowStart,

    /// Seconds between pings to each client; 0 for only the first ping.
    #[arg(long, default_value = "30", value_parser = parse_seconds)]
    pub ping_every: Duration,

    /// Address of the HTTP control endpoint (GET /counters, POST /reset,
    /// POST /kill-connections, POST /tip?height=H, GET /live); off when not given.
    #[arg(long)]
    pub control: Option<SocketAddr>,

    /// Ignore the first N `getqrinfo` requests of the run.
    #[arg(long, default_value_t = 0)]
    pub drop_qrinfo: u32,

    /// Wait this many milliseconds before sending each message.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,

    /// Close each connection after sending it N messages.
    #[arg(long)]
    pub disconnect_after: Option<u64>,

    /// Close the connection when the run's first `getqrinfo` arrives.
    #[arg(long)]
    pub disconnect_on_qrinfo: bool,

    /// On each connection, send the message after the first N with a bad checksum.
    #[arg(long)]
    pub corrupt_after: Option<u64>,

    /// Serve every `qrinfo` with one bit of its tip diff's coinbase merkle
    /// proof flipped (well framed, decodes, fails verification).
    #[arg(long)]
    pub invalid_qrinfo: bool,

    /// Serve every `mnlistdiff` with one bit of its coinbase merkle proof
    /// flipped (well framed, decodes, fails verification).
    #[arg(long)]
    pub invalid_mnlistdiff: bool,

    /// Serve (and announce) every ChainLock with one bit of its signature
    /// flipped (well framed, decodes, fails verification).
    #[arg(long)]
    pub invalid_clsig: bool,

    /// Serve the stale testnet fork (headers 899760-902320) and answer every
    /// `getqrinfo` with the QRInfo captured on it.
    #[arg(long)]
    pub fork: bool,

    /// Send `clsig` directly once the client has the locked block, instead
    /// of announcing it with `inv` and waiting for `getdata`.
    #[arg(long)]
    pub push_clsig: bool,

    /// Announce the real mainnet `isdlock`s of `tests/vectors/isdlocks.txt`
    /// (`inv` after the handshake, `isdlock` on `getdata`).
    #[arg(long)]
    pub isdlocks: bool,

    /// Also serve the ChainLocks derived from coinbase transactions (live
    /// mode always does): the highest one at or below the served tip is
    /// relayed after the handshake and whenever the tip reaches a new one,
    /// as dashd relays the ChainLock of its tip.
    #[arg(long, conflicts_with = "live")]
    pub chainlock_at_tip: bool,
}

impl Options {
    /// The P2P listen address.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, self.network.default_port())))
    }

    /// What to load.
    pub fn fixture_source(&self) -> FixtureSource {
        FixtureSource {
            root: self.fixtures.clone(),
            network: self.network,
            headers: self.headers.clone(),
            headers_start_height: self.headers_start_height,
            stale_fork: self.fork,
            derived_chainlocks: self.live || self.chainlock_at_tip,
        }
    }

    /// The served tip at start: `--live-start` in live mode, else `--tip-height`.
    pub fn initial_tip(&self) -> u32 {
        if self.live {
            self.live_start
        } else {
            self.tip_height
        }
    }

    /// The live clock's speed, in live mode.
    pub fn live_speed(&self) -> Option<f64> {
        self.live.then_some(self.speed)
    }

    /// The faults to inject.
    pub fn fault_plan(&self) -> FaultPlan {
        FaultPlan {
            drop_qrinfo: self.drop_qrinfo,
            delay: Duration::from_millis(self.delay_ms),
            disconnect_after: self.disconnect_after,
            disconnect_on_qrinfo: self.disconnect_on_qrinfo,
            corrupt_after: self.corrupt_after,
            invalid: InvalidPayloads {
                qrinfo: self.invalid_qrinfo,
                mnlistdiff: self.invalid_mnlistdiff,
                clsig: self.invalid_clsig,
            },
        }
    }

    /// The peer's behaviour.
    pub fn peer_settings(&self) -> PeerSettings {
        PeerSettings {
            network: self.network,
            faults: self.fault_plan(),
            push_clsig: self.push_clsig,
            announce_isdlocks: self.isdlocks,
        }
    }

    /// Pings and tip growth.
    pub fn timing(&self) -> Timing {
        Timing {
            ping_every: (!self.ping_every.is_zero()).then_some(self.ping_every),
            grow: GrowPlan {
                steps: self.tip_steps.0.clone(),
                step_every: self.tip_step_every,
                one_every: self.grow_every,
                start: self.grow_start,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_describe_scenario_a() {
        let options = Options::parse_from(["dashlight-replay-peer"]);
        assert_eq!(options.listen_addr().to_string(), "127.0.0.1:19999");
        assert_eq!(options.network, Network::Testnet);
        assert_eq!(options.tip_height, 905_294);
        assert_eq!(options.tip_steps, TipSteps(vec![905_770, 905_800]));
        assert_eq!(options.tip_step_every, Duration::from_secs(20));
        assert_eq!(options.fault_plan(), FaultPlan::default());
        assert_eq!(options.timing().grow.start, GrowStart::AfterQrinfo);
        assert_eq!(options.timing().ping_every, Some(Duration::from_secs(30)));
    }

    #[test]
    fn flags_parse() {
        let options = Options::parse_from([
            "x",
            "--network",
            "mainnet",
            "--tip-steps",
            "none",
            "--grow-every",
            "0.5",
            "--ping-every",
            "0",
            "--drop-qrinfo",
            "3",
            "--delay-ms",
            "20",
            "--disconnect-after",
            "7",
            "--disconnect-on-qrinfo",
            "--corrupt-after",
            "4",
            "--grow-start",
            "now",
            "--invalid-qrinfo",
            "--invalid-clsig",
        ]);
        assert_eq!(options.listen_addr().to_string(), "127.0.0.1:9999");
        assert!(options.tip_steps.0.is_empty());
        let timing = options.timing();
        assert_eq!(timing.grow.one_every, Some(Duration::from_millis(500)));
        assert_eq!(timing.ping_every, None);
        assert_eq!(timing.grow.start, GrowStart::Now);
        assert_eq!(
            options.fault_plan(),
            FaultPlan {
                drop_qrinfo: 3,
                delay: Duration::from_millis(20),
                disconnect_after: Some(7),
                disconnect_on_qrinfo: true,
                corrupt_after: Some(4),
                invalid: InvalidPayloads {
                    qrinfo: true,
                    mnlistdiff: false,
                    clsig: true,
                },
            }
        );
        assert!("1,x".parse::<TipSteps>().is_err());
        assert_eq!(options.live_speed(), None);
        assert_eq!(options.initial_tip(), 905_294);
        assert!(Options::try_parse_from(["x", "--grow-every", "-1"]).is_err());
    }

    #[test]
    fn live_flags_parse_and_exclude_the_other_tip_movers() {
        let live = Options::parse_from(["x", "--live"]);
        assert_eq!(live.live_speed(), Some(60.0));
        assert_eq!(live.initial_tip(), 905_294);
        assert!(live.fixture_source().derived_chainlocks);
        let fast =
            Options::parse_from(["x", "--live", "--speed", "6000", "--live-start", "905700"]);
        assert_eq!(fast.live_speed(), Some(6000.0));
        assert_eq!(fast.initial_tip(), 905_700);
        assert!(
            !Options::parse_from(["x"])
                .fixture_source()
                .derived_chainlocks
        );
        assert!(
            Options::parse_from(["x", "--chainlock-at-tip"])
                .fixture_source()
                .derived_chainlocks
        );
        for bad in [
            &["x", "--speed", "10"][..],
            &["x", "--live-start", "905300"],
            &["x", "--live", "--speed", "0"],
            &["x", "--live", "--speed", "-5"],
            &["x", "--live", "--speed", "NaN"],
            &["x", "--live", "--speed", "1e9"],
            &["x", "--live", "--tip-steps", "905300"],
            &["x", "--live", "--grow-every", "1"],
            &["x", "--live", "--tip-height", "905300"],
            &["x", "--live", "--chainlock-at-tip"],
        ] {
            assert!(Options::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
