//! Live mode (`--live --speed S`): the captured chain served as a live
//! network. A live clock starts at the timestamp of the starting tip's block
//! and runs at `S` × real time; block `h` becomes the served tip once the
//! clock has reached its timestamp and the timestamps of every block before
//! it (real timestamps are not monotonic, blocks are released in height
//! order). Tip moves are announced like any other (see `Session::on_tip_changed`).

use crate::chain::ServedChain;
use crate::server::GrowStart;
use crate::state::ReplayState;
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// The largest speed factor accepted.
pub const MAX_SPEED: f64 = 1_000_000.0;

/// How often the live task checks whether the clock may start (with
/// `--grow-start after-qrinfo`).
const START_POLL: Duration = Duration::from_millis(50);

/// When each block above the starting tip is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSchedule {
    start_height: u32,
    start_unix: u64,
    /// `release[i]`: the clock time (Unix seconds) at which block
    /// `start_height + 1 + i` is released: the latest timestamp of the blocks
    /// from `start_height + 1` to it, never before `start_unix`.
    release: Vec<u64>,
}

impl LiveSchedule {
    /// The schedule of `chain` from the tip `start_height` (clamped to the
    /// chain): the clock starts at that block's timestamp.
    pub fn new(chain: &ServedChain, start_height: u32) -> LiveSchedule {
        let start_height = chain.clamp_tip(start_height);
        let start_unix = chain
            .header_at(start_height)
            .map_or(0, |header| u64::from(header.time));
        let mut latest = start_unix;
        let release = match start_height.checked_add(1) {
            Some(above) if above <= chain.last_height() => chain
                .headers_between(above, chain.last_height())
                .iter()
                .map(|header| {
                    latest = latest.max(u64::from(header.time));
                    latest
                })
                .collect(),
            _ => Vec::new(),
        };
        LiveSchedule {
            start_height,
            start_unix,
            release,
        }
    }

    /// The starting tip.
    pub fn start_height(&self) -> u32 {
        self.start_height
    }

    /// The clock's start: the starting tip's timestamp (Unix seconds).
    pub fn start_unix(&self) -> u64 {
        self.start_unix
    }

    /// The served tip when the clock shows `clock_unix`.
    pub fn tip_at(&self, clock_unix: u64) -> u32 {
        let released = self.release.partition_point(|&at| at <= clock_unix);
        let released = u32::try_from(released).unwrap_or(u32::MAX);
        self.start_height.saturating_add(released)
    }

    /// When `height` is released (`None`: at or below the starting tip, or
    /// beyond the chain).
    pub fn release_time(&self, height: u32) -> Option<u64> {
        let index = height.checked_sub(self.start_height)?.checked_sub(1)?;
        self.release.get(usize::try_from(index).ok()?).copied()
    }
}

/// The live clock: [`LiveSchedule::start_unix`] plus the real time since
/// it started, times the speed.
#[derive(Debug)]
pub struct LiveClock {
    schedule: LiveSchedule,
    speed: f64,
    started: OnceLock<Instant>,
}

impl LiveClock {
    /// A clock over `schedule` running at `speed` × real time once started.
    pub fn new(schedule: LiveSchedule, speed: f64) -> LiveClock {
        LiveClock {
            schedule,
            speed,
            started: OnceLock::new(),
        }
    }

    /// The release schedule.
    pub fn schedule(&self) -> &LiveSchedule {
        &self.schedule
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Starts the clock (later calls do nothing).
    pub fn start(&self) {
        let _ = self.started.set(Instant::now());
    }

    /// Whether the clock runs.
    pub fn is_running(&self) -> bool {
        self.started.get().is_some()
    }

    /// The clock's time after `elapsed` real time.
    pub fn clock_after(&self, elapsed: Duration) -> u64 {
        // Saturating float-to-integer conversion; the speed is at most MAX_SPEED.
        let simulated = (elapsed.as_secs_f64() * self.speed).floor() as u64;
        self.schedule.start_unix().saturating_add(simulated)
    }

    /// The clock's time now (its start until it is started).
    pub fn now_unix(&self) -> u64 {
        self.clock_after(self.started.get().map_or(Duration::ZERO, Instant::elapsed))
    }

    /// Real time from now until the clock shows `unix` (zero if it already
    /// does; `None` while the clock is not running).
    pub fn real_time_until(&self, unix: u64) -> Option<Duration> {
        let started = self.started.get()?;
        let simulated = unix.saturating_sub(self.schedule.start_unix());
        let due = Duration::try_from_secs_f64(simulated as f64 / self.speed).ok()?;
        Some(due.saturating_sub(started.elapsed()))
    }
}

/// `GET /live`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveReport {
    /// The clock's start (Unix seconds): the starting tip's timestamp.
    pub start_unix: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// The served tip.
    pub tip_height: u32,
    /// The served tip's timestamp.
    pub tip_time: u32,
    /// The clock's time now (Unix seconds).
    pub clock_unix: u64,
}

impl LiveReport {
    /// The report for `clock` with `state`'s served tip.
    pub fn new(clock: &LiveClock, state: &ReplayState) -> LiveReport {
        let tip_height = state.tip();
        LiveReport {
            start_unix: clock.schedule().start_unix(),
            speed: clock.speed(),
            tip_height,
            tip_time: state.chain().header_at(tip_height).map_or(0, |h| h.time),
            clock_unix: clock.now_unix(),
        }
    }
}

/// Starts the live clock (`start` tells when) and moves the served tip as
/// it runs, until the chain's last block is served or the task is dropped.
/// Does nothing when live mode is off.
pub async fn run(state: Arc<ReplayState>, start: GrowStart) {
    let Some(clock) = state.live() else {
        return;
    };
    if start == GrowStart::AfterQrinfo {
        while !state.run().qrinfo_answered {
            tokio::time::sleep(START_POLL).await;
        }
    }
    clock.start();
    info!(
        start_unix = clock.schedule().start_unix(),
        speed = clock.speed(),
        tip = state.tip(),
        "live clock started"
    );
    loop {
        let target = clock.schedule().tip_at(clock.now_unix());
        if target > state.tip() {
            match state.advance_tip(target) {
                Ok(tip) => info!(tip, clock = clock.now_unix(), "live: new tip"),
                Err(error) => warn!(%error, "live: served tip not advanced"),
            }
        }
        let next = state.tip().saturating_add(1);
        let Some(release) = clock.schedule().release_time(next) else {
            info!(tip = state.tip(), "live: the last block is served");
            return;
        };
        let wait = clock.real_time_until(release).unwrap_or(START_POLL);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dashlight::block::BlockHeader;
    use dashlight::chain::sync_base::genesis_header;
    use dashlight::hash::{BlockHash, MerkleNode};
    use dashlight::network::Network;

    /// Linked headers at heights 100.. with the given timestamps.
    fn chain(times: &[u32]) -> ServedChain {
        let mut prev = BlockHash([7; 32]);
        let headers = times
            .iter()
            .enumerate()
            .map(|(i, &time)| {
                let header = BlockHeader {
                    version: 0x2000_0000,
                    prev_blockhash: prev,
                    merkle_root: MerkleNode([1; 32]),
                    time,
                    bits: 0x1e0f_fff0,
                    nonce: u32::try_from(i).unwrap(),
                };
                prev = header.block_hash();
                header
            })
            .collect();
        ServedChain::new(Network::Testnet, headers, 100).unwrap()
    }

    #[test]
    fn blocks_are_released_in_height_order_once_every_earlier_time_is_reached() {
        // Heights 100..=105; 103 is stamped before 102 and 104 before the start.
        let c = chain(&[1_000, 1_150, 1_400, 1_300, 900, 1_600]);
        let s = LiveSchedule::new(&c, 101);
        assert_eq!((s.start_height(), s.start_unix()), (101, 1_150));
        assert_eq!(s.release_time(101), None);
        assert_eq!(s.release_time(102), Some(1_400));
        assert_eq!(s.release_time(103), Some(1_400));
        assert_eq!(s.release_time(104), Some(1_400));
        assert_eq!(s.release_time(105), Some(1_600));
        assert_eq!(s.release_time(106), None);
        assert_eq!(s.tip_at(1_150), 101);
        assert_eq!(s.tip_at(1_399), 101);
        assert_eq!(s.tip_at(1_400), 104);
        assert_eq!(s.tip_at(1_599), 104);
        assert_eq!(s.tip_at(u64::MAX), 105);
    }

    #[test]
    fn a_start_beyond_the_chain_is_clamped_and_releases_nothing() {
        let c = chain(&[1_000, 1_100]);
        let s = LiveSchedule::new(&c, 5_000);
        assert_eq!((s.start_height(), s.start_unix()), (101, 1_100));
        assert_eq!(s.tip_at(u64::MAX), 101);
        assert_eq!(s.release_time(102), None);
        let genesis = LiveSchedule::new(&c, 0);
        assert_eq!(
            genesis.start_unix(),
            u64::from(genesis_header(Network::Testnet).time)
        );
    }

    #[test]
    fn the_clock_runs_at_its_speed_once_started() {
        let c = chain(&[1_000, 1_100, 1_700]);
        let clock = LiveClock::new(LiveSchedule::new(&c, 100), 60.0);
        assert!(!clock.is_running());
        assert_eq!(clock.now_unix(), 1_000);
        assert_eq!(clock.real_time_until(1_100), None);
        assert_eq!(clock.clock_after(Duration::from_millis(2_500)), 1_150);
        clock.start();
        assert!(clock.is_running());
        let wait = clock.real_time_until(1_600).unwrap();
        assert!(wait <= Duration::from_secs(10) && wait > Duration::from_secs(9));
        assert_eq!(clock.real_time_until(900), Some(Duration::ZERO));
    }
}
