//! The ChainLock manager: verifies `clsig` messages once masternode lists are synced.
//!
//! A ChainLock that arrives before the lists (or before the list its quorum needs) is held,
//! only the highest one, and verified when the masternode manager reports new lists.

use super::chain_view::ChainView;
use super::engine::{ChainLockTarget, EngineError, MasternodeEngine, Rejection};
use super::events::{NetworkEvent, SyncEvent};
use super::progress::Progress;
use super::requests::{InvalidMessage, ManagerKind, MessageKind, Output};
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
                // Held since an earlier message: whoever delivered the message being handled
                // now did not send it, so a forgery is only recorded, not reported.
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
        if let Some(reason) = self.verify(now, chainlock, chain, engine, out) {
            out.push(Output::InvalidMessage(InvalidMessage {
                kind: MessageKind::ChainLock,
                reason,
            }));
        }
    }

    /// Verifies `chainlock`; returns why, if its signature is provably invalid.
    fn verify<C: ChainView, E: MasternodeEngine<ChainLock = L>>(
        &mut self,
        now: Timestamp,
        chainlock: L,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) -> Option<String> {
        let target = engine.chainlock_target(&chainlock);
        if chain
            .hash_at(target.height)
            .is_some_and(|ours| ours != target.hash)
        {
            // Another chain's ChainLock, or ours is the wrong chain: not checked, not blamed.
            self.progress.last_error = Some(SyncFailure::ChainLockRejected {
                reason: format!("locks {} at {}, not our block", target.hash, target.height),
            });
            return None;
        }
        match engine.verify_chainlock(&chainlock, chain) {
            Ok(()) => {
                self.best = Some(target);
                self.progress.current_height = target.height;
                self.progress.raise_target(target.height);
                self.progress.last_activity = Some(now);
                out.push(Output::Event(SyncEvent::ChainLockVerified { target }));
                None
            }
            Err(error) => {
                let reason = error.to_string();
                self.progress.last_error = Some(SyncFailure::ChainLockRejected {
                    reason: reason.clone(),
                });
                match error.rejection() {
                    Rejection::Invalid => Some(reason),
                    Rejection::NotYetAvailable => {
                        self.held = Some((target, chainlock));
                        None
                    }
                    Rejection::Inconclusive => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::sim::{
        invalid_messages, SimBlocks, SimChain, SimChainLock, SimEngine, SimVerdict,
    };

    struct Rig {
        blocks: SimBlocks,
        chain: SimChain,
        engine: SimEngine,
        manager: ChainLockManager<SimChainLock>,
    }

    impl Rig {
        fn new() -> Self {
            let blocks = SimBlocks::new(40);
            let chain = SimChain::with_blocks(&blocks, 40);
            let mut rig = Rig {
                blocks,
                chain,
                engine: SimEngine::new(24),
                manager: ChainLockManager::new(),
            };
            let mut out = Vec::new();
            let event = NetworkEvent::PeersUpdated {
                connected_count: 1,
                best_height: None,
            };
            rig.manager.handle_network(&event, &mut out);
            rig
        }

        fn clsig(&self, height: u32, verdict: SimVerdict) -> SimChainLock {
            SimChainLock {
                height,
                hash: self.blocks.hash_at(height).expect("on chain"),
                verdict,
            }
        }

        fn receive(&mut self, chainlock: SimChainLock) -> Vec<Output> {
            let mut out = Vec::new();
            self.manager.handle_chainlock(
                Timestamp(0),
                chainlock,
                &self.chain,
                &self.engine,
                &mut out,
            );
            out
        }

        fn lists_synced(&mut self, list_height: u32) -> Vec<Output> {
            let hash = self.blocks.hash_at(list_height).expect("on chain");
            self.engine.store_list(list_height, hash);
            let mut out = Vec::new();
            let event = SyncEvent::MasternodeListsSynced { list_height };
            self.manager.handle_sync_event(
                Timestamp(0),
                &event,
                &self.chain,
                &self.engine,
                &mut out,
            );
            out
        }
    }

    #[test]
    fn a_chainlock_before_the_lists_is_held_then_verified() {
        let mut rig = Rig::new();
        assert_eq!(*rig.manager.state(), SyncState::WaitForEvents);
        let clsig = rig.clsig(30, SimVerdict::Valid);
        assert!(rig.receive(clsig).is_empty());
        assert_eq!(rig.manager.held().map(|t| t.height), Some(30));
        let out = rig.lists_synced(30);
        let target = ChainLockTarget {
            height: 30,
            hash: rig.blocks.hash_at(30).expect("on chain"),
        };
        assert!(out.contains(&Output::Event(SyncEvent::ChainLockVerified { target })));
        assert_eq!(rig.manager.best(), Some(target));
        assert_eq!(*rig.manager.state(), SyncState::Synced);
    }

    #[test]
    fn old_duplicate_and_forged_chainlocks_are_not_accepted() {
        let mut rig = Rig::new();
        rig.lists_synced(20);
        let clsig = rig.clsig(30, SimVerdict::Valid);
        assert_eq!(rig.receive(clsig.clone()).len(), 1);
        assert!(rig.receive(clsig).is_empty());
        let older = rig.clsig(25, SimVerdict::Valid);
        assert!(rig.receive(older).is_empty());
        assert_eq!(rig.manager.progress().responses_dropped, 2);
        let forged = rig.clsig(35, SimVerdict::Invalid);
        assert_eq!(
            rig.receive(forged),
            vec![Output::InvalidMessage(InvalidMessage {
                kind: MessageKind::ChainLock,
                reason: "signature does not verify".into(),
            })]
        );
        assert_eq!(rig.manager.best().map(|t| t.height), Some(30));
        assert!(matches!(
            rig.manager.progress().last_error,
            Some(SyncFailure::ChainLockRejected { .. })
        ));
    }

    #[test]
    fn a_chainlock_whose_quorum_is_not_known_yet_is_held_not_reported() {
        let mut rig = Rig::new();
        rig.lists_synced(20);
        // No list at or below 15 tells which quorum signs there.
        let clsig = rig.clsig(15, SimVerdict::Valid);
        assert!(rig.receive(clsig).is_empty());
        assert_eq!(rig.manager.held().map(|t| t.height), Some(15));
        assert_eq!(rig.manager.best(), None);
    }

    #[test]
    fn a_held_forgery_is_not_reported_against_a_later_message() {
        let mut rig = Rig::new();
        let forged = rig.clsig(30, SimVerdict::Invalid);
        assert!(rig.receive(forged).is_empty());
        let out = rig.lists_synced(30);
        assert!(invalid_messages(&out).is_empty(), "{out:?}");
        assert_eq!(rig.manager.best(), None);
        assert_eq!(rig.manager.held(), None);
        assert!(matches!(
            rig.manager.progress().last_error,
            Some(SyncFailure::ChainLockRejected { .. })
        ));
    }

    #[test]
    fn a_chainlock_on_another_chain_is_rejected() {
        let mut rig = Rig::new();
        rig.lists_synced(20);
        let mut clsig = rig.clsig(30, SimVerdict::Valid);
        clsig.hash = rig.blocks.hash_at(31).expect("on chain");
        assert!(rig.receive(clsig).is_empty());
        assert_eq!(rig.manager.best(), None);
    }
}
