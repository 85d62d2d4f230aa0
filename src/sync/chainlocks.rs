//! The ChainLock manager: verifies `clsig` messages once masternode lists are synced.
//!
//! A ChainLock that arrives before the lists (or before the list its quorum needs) is held,
//! only the highest one, and verified when the masternode manager reports new lists.

use super::chain_view::ChainView;
use super::engine::{ChainLockTarget, EngineError, MasternodeEngine, Rejection};
use super::events::{NetworkEvent, SyncEvent};
use super::progress::Progress;
use super::requests::{ManagerKind, Output};
use super::state::{SyncFailure, SyncState};
use super::time::Timestamp;

/// Verifies ChainLocks and keeps the best one.
#[derive(Clone, Debug)]
pub struct ChainLockManager<L> {
    progress: Progress,
    best: Option<ChainLockTarget>,
    held: Option<(ChainLockTarget, L)>,
}

impl<L> ChainLockManager<L> {
    /// A manager waiting for peers.
    pub fn new() -> Self {
        ChainLockManager {
            progress: Progress {
                state: SyncState::WaitingForConnections,
                ..Progress::default()
            },
            best: None,
            held: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> &SyncState {
        &self.progress.state
    }

    /// The progress (`current_height` is the best ChainLock's height).
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The best verified ChainLock.
    pub fn best(&self) -> Option<ChainLockTarget> {
        self.best
    }

    /// The ChainLock held until it can be verified.
    pub fn held(&self) -> Option<ChainLockTarget> {
        self.held.as_ref().map(|(target, _)| *target)
    }

    fn set_state(&mut self, to: SyncState, out: &mut Vec<Output>) {
        self.progress.set_state(ManagerKind::ChainLocks, to, out);
    }

    /// Reacts to a change in the peer set.
    pub fn handle_network(&mut self, event: &NetworkEvent, out: &mut Vec<Output>) {
        match *event {
            NetworkEvent::PeersUpdated {
                connected_count: 0, ..
            } => self.set_state(SyncState::WaitingForConnections, out),
            NetworkEvent::PeersUpdated { .. } => {
                if self.progress.state == SyncState::WaitingForConnections {
                    self.set_state(SyncState::WaitForEvents, out);
                }
            }
            NetworkEvent::PeerConnected | NetworkEvent::PeerDisconnected => {}
        }
    }

    /// Reacts to the masternode manager: new lists make held ChainLocks verifiable.
    pub fn handle_sync_event<C: ChainView, E: MasternodeEngine<ChainLock = L>>(
        &mut self,
        now: Timestamp,
        event: &SyncEvent,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        if let SyncEvent::MasternodeListsSynced { .. } = event {
            if self.progress.state == SyncState::WaitingForConnections {
                return;
            }
            self.set_state(SyncState::Synced, out);
            if let Some((_, chainlock)) = self.held.take() {
                self.verify(now, chainlock, chain, engine, out);
            }
        }
    }

    /// Handles a `clsig` message.
    pub fn handle_chainlock<C: ChainView, E: MasternodeEngine<ChainLock = L>>(
        &mut self,
        now: Timestamp,
        chainlock: L,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        let target = engine.chainlock_target(&chainlock);
        let known = self.best.iter().chain(self.held.as_ref().map(|(t, _)| t));
        if known.into_iter().any(|seen| seen.height >= target.height) {
            self.progress.responses_dropped = self.progress.responses_dropped.saturating_add(1);
            return;
        }
        if self.progress.state != SyncState::Synced {
            self.held = Some((target, chainlock));
            return;
        }
        self.verify(now, chainlock, chain, engine, out);
    }

    fn verify<C: ChainView, E: MasternodeEngine<ChainLock = L>>(
        &mut self,
        now: Timestamp,
        chainlock: L,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        let target = engine.chainlock_target(&chainlock);
        if chain
            .hash_at(target.height)
            .is_some_and(|ours| ours != target.hash)
        {
            self.progress.last_error = Some(SyncFailure::ChainLockRejected {
                reason: format!("locks {} at {}, not our block", target.hash, target.height),
            });
            return;
        }
        match engine.verify_chainlock(&chainlock, chain) {
            Ok(()) => {
                self.best = Some(target);
                self.progress.current_height = target.height;
                self.progress.raise_target(target.height);
                self.progress.last_activity = Some(now);
                out.push(Output::Event(SyncEvent::ChainLockVerified { target }));
            }
            Err(error) => {
                self.progress.last_error = Some(SyncFailure::ChainLockRejected {
                    reason: error.to_string(),
                });
                if error.rejection() == Rejection::NotYetAvailable {
                    self.held = Some((target, chainlock));
                }
            }
        }
    }
}

impl<L> Default for ChainLockManager<L> {
    fn default() -> Self {
        Self::new()
    }
}
