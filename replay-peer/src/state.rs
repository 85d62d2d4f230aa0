//! What every connection shares: the loaded data, the served tip, the
//! counters and the run-wide fault progress.

use crate::catalog::Catalog;
use crate::chain::ServedChain;
use crate::counters::{Counters, CountersReport};
use crate::faults::{FaultPlan, FaultProgress};
use crate::fixtures::Fixtures;
use crate::live::{LiveClock, LiveSchedule};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::watch;

/// How the peer behaves, beyond the data it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSettings {
    /// The network.
    pub network: Network,
    /// The faults to inject.
    pub faults: FaultPlan,
    /// Send `clsig` directly once the client has the locked block, instead of
    /// announcing it with `inv` and waiting for `getdata`.
    pub push_clsig: bool,
    /// Announce the real `isdlock`s of `tests/vectors/isdlocks.txt` after the handshake.
    pub announce_isdlocks: bool,
}

/// Counters and faults of the current run.
#[derive(Debug)]
pub struct RunState {
    /// The counters.
    pub counters: Counters,
    /// The run-wide faults.
    pub faults: FaultProgress,
    /// Whether a `getqrinfo` has been answered this run.
    pub qrinfo_answered: bool,
}

/// The state shared by all connections.
#[derive(Debug)]
pub struct ReplayState {
    chain: ServedChain,
    catalog: Catalog,
    settings: PeerSettings,
    tip: watch::Sender<u32>,
    kill: watch::Sender<u64>,
    run: Mutex<RunState>,
    next_connection: AtomicU64,
    live: Option<LiveClock>,
}

/// Why the tip cannot be moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipError {
    /// The served tip only grows.
    Backwards {
        /// The current tip.
        tip: u32,
        /// The height asked for.
        requested: u32,
    },
}

impl core::fmt::Display for TipError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Backwards { tip, requested } => write!(
                f,
                "the served tip only grows: it is at {tip}, {requested} was asked for"
            ),
        }
    }
}

impl std::error::Error for TipError {}

impl ReplayState {
    /// The state serving `fixtures` from `initial_tip` (clamped to the
    /// chain); with `live_speed`, in live mode: a live clock starting at the
    /// initial tip's timestamp and running at that speed moves the tip.
    pub fn new(
        fixtures: Fixtures,
        settings: PeerSettings,
        initial_tip: u32,
        live_speed: Option<f64>,
    ) -> ReplayState {
        let Fixtures { chain, catalog, .. } = fixtures;
        let tip = chain.clamp_tip(initial_tip);
        let live = live_speed.map(|speed| LiveClock::new(LiveSchedule::new(&chain, tip), speed));
        let run = RunState {
            counters: Counters::new(chain.len()),
            faults: FaultProgress::new(&settings.faults),
            qrinfo_answered: false,
        };
        ReplayState {
            chain,
            catalog,
            settings,
            tip: watch::Sender::new(tip),
            kill: watch::Sender::new(0),
            run: Mutex::new(run),
            next_connection: AtomicU64::new(1),
            live,
        }
    }

    /// The live clock, in live mode.
    pub fn live(&self) -> Option<&LiveClock> {
        self.live.as_ref()
    }

    /// The header chain.
    pub fn chain(&self) -> &ServedChain {
        &self.chain
    }

    /// The captured messages.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The settings.
    pub fn settings(&self) -> &PeerSettings {
        &self.settings
    }

    /// The served tip height.
    pub fn tip(&self) -> u32 {
        *self.tip.borrow()
    }

    /// Watches the served tip.
    pub fn subscribe_tip(&self) -> watch::Receiver<u32> {
        self.tip.subscribe()
    }

    /// Moves the served tip up to `height` (clamped to the chain) and
    /// returns the new tip.
    pub fn advance_tip(&self, height: u32) -> Result<u32, TipError> {
        let target = self.chain.clamp_tip(height);
        let mut result = Ok(target);
        self.tip.send_if_modified(|tip| {
            if target < *tip {
                result = Err(TipError::Backwards {
                    tip: *tip,
                    requested: height,
                });
                false
            } else {
                let changed = target != *tip;
                *tip = target;
                changed
            }
        });
        result
    }

    /// Watches the kill signal: its value changes when every connection is to be dropped.
    pub fn subscribe_kill(&self) -> watch::Receiver<u64> {
        self.kill.subscribe()
    }

    /// Drops every open connection; returns how many were open.
    pub fn kill_connections(&self) -> u64 {
        let open = self.run().counters.connections_open();
        self.kill
            .send_modify(|generation| *generation = generation.wrapping_add(1));
        open
    }

    /// An id for a new connection.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// The run state, locked.
    pub fn run(&self) -> MutexGuard<'_, RunState> {
        self.run
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The counters report.
    pub fn report(&self) -> CountersReport {
        self.run().counters.report(&self.chain, self.tip())
    }

    /// Zeroes the counters and re-arms the run-wide faults.
    pub fn reset(&self) {
        let mut run = self.run();
        run.counters.reset();
        run.faults = FaultProgress::new(&self.settings.faults);
        run.qrinfo_answered = false;
    }

    /// The highest ChainLock whose block is on the served chain at or below `tip`.
    pub fn latest_chainlock(&self, tip: u32) -> Option<ClSig> {
        self.catalog
            .chainlocks()
            .iter()
            .rev()
            .find(|clsig| {
                u32::try_from(clsig.height).ok().is_some_and(|height| {
                    self.chain.height_of(&clsig.block_hash, tip) == Some(height)
                })
            })
            .copied()
    }
}
