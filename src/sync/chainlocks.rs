//! The ChainLock manager: verifies `clsig` messages once masternode lists are applied.
//!
//! A ChainLock that arrives before the lists (or before the list its quorum needs) is held
//! and verified when the masternode manager reports new lists: as soon as a QRInfo or a diff
//! is applied ([`SyncEvent::ListsApplied`]; the engine verifies the ChainLock's own signing
//! quorum if it is still pending), not only once every quorum is
//! ([`SyncEvent::MasternodeListsSynced`]). A ChainLock above the header tip is held too: a
//! wallet waking after hours gets the tip's ChainLock with the tip, hundreds of blocks above
//! its headers, and verifies it once headers and the list its quorum needs have caught up.
//! Holding is bounded: a ChainLock more than [`MAX_AHEAD_OF_TIP`] blocks above the header
//! tip is not held, at most [`MAX_HELD`] are held, one above the tip (the most speculative)
//! is let go first, so forged far-future heights never push out ChainLocks of known blocks,
//! and a held ChainLock never makes a newer one be dropped: only a verified ChainLock does.
//!
//! With two checking workers or more ([`ChainLockManager::deferring_signers`]), a ChainLock
//! whose signature verifies against a signing quorum still pending waits for that quorum
//! instead of having it checked in this thread: it is held, [`SyncEvent::QuorumWanted`]
//! asks the masternode manager to check the quorum first (its key aggregation split over
//! the workers), and [`SyncEvent::QuorumChecked`] brings the ChainLock back, its signature
//! not checked again. A ChainLock waits so at most once, so a quorum that stays
//! unverifiable cannot keep it waiting, and a forgery is reported at once (its signature
//! is checked before it could wait).

use super::chain_view::ChainView;
use super::engine::{ChainLockTarget, ClassifiedError, EngineVerdict, SyncEngine};
use super::events::{NetworkEvent, SyncEvent};
use super::progress::Progress;
use super::requests::{InvalidMessage, ManagerKind, MessageKind, Output};
use super::state::{SyncFailure, SyncState};
use super::time::Timestamp;

/// How far above the header tip a ChainLock may be and still be held: about a week of
/// blocks (2.5 minutes each), so that a wallet waking from a week's sleep keeps the ChainLock
/// relayed with the tip while its headers catch up. Beyond that a height is not plausible
/// enough to keep; the next block's ChainLock follows anyway.
pub const MAX_AHEAD_OF_TIP: u32 = 7 * 576;

/// The most ChainLocks held at once, waiting to be verifiable.
pub const MAX_HELD: usize = 4;

/// Verifies ChainLocks and keeps the best one.
#[derive(Clone, Debug)]
pub struct ChainLockManager<L> {
    progress: Progress,
    best: Option<ChainLockTarget>,
    /// ChainLocks waiting for lists, lowest height first, at most [`MAX_HELD`].
    held: Vec<(ChainLockTarget, L)>,
    /// Whether a ChainLock whose signing quorum is pending waits for the masternode manager
    /// to check that quorum ([`SyncEvent::QuorumWanted`]) instead of having the engine
    /// check it in this thread (see [`ChainLockManager::deferring_signers`]).
    defer_signers: bool,
    /// The held ChainLocks that waited so once: each waits at most once, so that a quorum
    /// that stays unverifiable cannot keep a ChainLock waiting.
    deferred: Vec<ChainLockTarget>,
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
            held: Vec::new(),
            defer_signers: false,
            deferred: Vec::new(),
        }
    }

    /// The same manager, letting a ChainLock whose signing quorum is pending wait for the
    /// masternode manager to check that quorum (split over its checking workers) if `on`:
    /// the ChainLock is held, [`SyncEvent::QuorumWanted`] goes out, and it is verified
    /// when [`SyncEvent::QuorumChecked`] comes back, its signature checked once.
    pub fn deferring_signers(mut self, on: bool) -> Self {
        self.defer_signers = on;
        self
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

    /// The highest ChainLock held until it can be verified.
    pub fn held(&self) -> Option<ChainLockTarget> {
        self.held.last().map(|(target, _)| *target)
    }

    /// Every ChainLock held until it can be verified, lowest first.
    pub fn held_all(&self) -> impl Iterator<Item = ChainLockTarget> + '_ {
        self.held.iter().map(|(target, _)| *target)
    }

    /// Holds `chainlock` until lists can verify it, unless it is already held. When more than
    /// [`MAX_HELD`] would be held, one is let go: the highest if it is above the header tip
    /// `tip_height` (the most speculative: its block is not even known), else the lowest (a
    /// newer ChainLock supersedes it once verified, and an old one may wait for a list that
    /// is never fetched).
    fn hold(&mut self, target: ChainLockTarget, chainlock: L, tip_height: u32) {
        if self.held.iter().any(|(held, _)| *held == target) {
            return;
        }
        let at = self
            .held
            .partition_point(|(held, _)| held.height <= target.height);
        self.held.insert(at, (target, chainlock));
        if self.held.len() > MAX_HELD {
            let speculative = self
                .held
                .last()
                .is_some_and(|(highest, _)| highest.height > tip_height);
            if speculative {
                self.held.pop();
            } else {
                self.held.remove(0);
            }
            self.progress.responses_dropped = self.progress.responses_dropped.saturating_add(1);
        }
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
            NetworkEvent::PeerConnected | NetworkEvent::PeerDisconnected { .. } => {}
        }
    }

    /// Reacts to the masternode manager: new lists (applied, or synced) make held ChainLocks
    /// verifiable.
    pub fn handle_sync_event<C: ChainView, E: SyncEngine<ChainLock = L>>(
        &mut self,
        now: Timestamp,
        event: &SyncEvent,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        if let SyncEvent::ListsApplied { .. }
        | SyncEvent::MasternodeListsSynced { .. }
        | SyncEvent::QuorumChecked { .. } = event
        {
            if self.progress.state == SyncState::WaitingForConnections {
                return;
            }
            self.set_state(SyncState::Synced, out);
            // Held since earlier messages: whoever delivered the message being handled now
            // did not send them, so a forgery is only recorded, not reported. The highest is
            // tried first; once one verifies, the lower ones are moot.
            let held = core::mem::take(&mut self.held);
            for (target, chainlock) in held.into_iter().rev() {
                if self.best.is_some_and(|best| best.height >= target.height) {
                    continue;
                }
                self.verify(now, chainlock, chain, engine, out);
            }
            let held = &self.held;
            self.deferred
                .retain(|target| held.iter().any(|(h, _)| h == target));
        }
    }

    /// Handles a `clsig` message.
    pub fn handle_chainlock<C: ChainView, E: SyncEngine<ChainLock = L>>(
        &mut self,
        now: Timestamp,
        chainlock: L,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let target = engine.chainlock_target(&chainlock);
        let superseded = self.best.is_some_and(|best| best.height >= target.height);
        // Implausibly far above our headers: not held, not blamed (the gap may be ours).
        let too_far = target.height > chain.tip().height.saturating_add(MAX_AHEAD_OF_TIP);
        if superseded || too_far {
            self.progress.responses_dropped = self.progress.responses_dropped.saturating_add(1);
            return;
        }
        if self.progress.state != SyncState::Synced {
            self.hold(target, chainlock, chain.tip().height);
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
    fn verify<C: ChainView, E: SyncEngine<ChainLock = L>>(
        &mut self,
        now: Timestamp,
        chainlock: L,
        chain: &C,
        engine: &mut E,
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
        if self.defer_signers && !self.deferred.contains(&target) {
            if let Some(quorum) = engine.pending_signer(&chainlock, chain) {
                // Pruned to the held ones after each pass over them (not here: the pass
                // takes them out while it runs); this only bounds a burst.
                if self.deferred.len() >= 2 * MAX_HELD {
                    self.deferred.remove(0);
                }
                self.deferred.push(target);
                self.hold(target, chainlock, chain.tip().height);
                out.push(Output::Event(SyncEvent::QuorumWanted { quorum }));
                return None;
            }
        }
        match engine.verify_chainlock(&chainlock, chain) {
            Ok(signer) => {
                self.best = Some(target);
                self.progress.current_height = target.height;
                self.progress.raise_target(target.height);
                self.progress.last_activity = Some(now);
                out.push(Output::Event(SyncEvent::ChainLockVerified {
                    target,
                    signer,
                }));
                None
            }
            Err(error) => {
                let reason = error.to_string();
                self.progress.last_error = Some(SyncFailure::ChainLockRejected {
                    reason: reason.clone(),
                });
                match error.verdict() {
                    EngineVerdict::Invalid => Some(reason),
                    EngineVerdict::NotYetAvailable => {
                        self.hold(target, chainlock, chain.tip().height);
                        None
                    }
                    EngineVerdict::Inconclusive => None,
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
    use crate::hash::BlockHash;
    use crate::sync::engine::{ChainLockSigner, QuorumId};
    use crate::sync::sim::{
        invalid_messages, SimBlocks, SimChain, SimChainLock, SimEngine, SimQrInfo, SimVerdict,
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
                &mut self.engine,
                &mut out,
            );
            out
        }

        fn lists_synced(&mut self, list_height: u32) -> Vec<Output> {
            let hash = self.blocks.hash_at(list_height).expect("on chain");
            self.engine.store_list(list_height, hash);
            self.event(SyncEvent::MasternodeListsSynced { list_height })
        }
    }

    impl Rig {
        /// A rig whose manager lets ChainLocks wait for a pending signer, over an engine
        /// that leaves it pending (as with checking workers) and has applied a QRInfo at 40.
        fn deferring() -> Rig {
            let mut rig = Rig::new();
            rig.manager = ChainLockManager::new().deferring_signers(true);
            let event = NetworkEvent::PeersUpdated {
                connected_count: 1,
                best_height: None,
            };
            rig.manager.handle_network(&event, &mut Vec::new());
            rig.engine.set_split_checks(true);
            let qrinfo = SimQrInfo {
                tip: rig.blocks.hash_at(40).expect("on chain"),
                base_block_hashes: Vec::new(),
                verdict: SimVerdict::Valid,
            };
            rig.engine
                .apply_qrinfo(qrinfo, &rig.chain)
                .expect("applies");
            rig
        }

        fn event(&mut self, event: SyncEvent) -> Vec<Output> {
            let mut out = Vec::new();
            self.manager.handle_sync_event(
                Timestamp(0),
                &event,
                &self.chain,
                &mut self.engine,
                &mut out,
            );
            out
        }

        /// The quorum the only output of `out` asks for.
        fn wanted(out: &[Output]) -> QuorumId {
            match out {
                [Output::Event(SyncEvent::QuorumWanted { quorum })] => *quorum,
                other => panic!("one quorum wanted: {other:?}"),
            }
        }

        fn verified(out: &[Output]) -> Vec<(u32, ChainLockSigner)> {
            out.iter()
                .filter_map(|o| match o {
                    Output::Event(SyncEvent::ChainLockVerified { target, signer }) => {
                        Some((target.height, *signer))
                    }
                    _ => None,
                })
                .collect()
        }
    }

    #[test]
    fn a_chainlock_whose_signer_is_pending_waits_for_its_check_then_is_verified() {
        let mut rig = Rig::deferring();
        for height in 1..=40 {
            let hash = rig.blocks.hash_at(height).expect("on chain");
            rig.engine.store_list(height, hash);
        }
        rig.lists_synced(40);
        let clsig = rig.clsig(40, SimVerdict::Valid);
        let quorum = Rig::wanted(&rig.receive(clsig));
        assert_eq!(rig.manager.held().map(|t| t.height), Some(40));
        assert_eq!(rig.manager.best(), None);
        // The masternode manager checks the quorum (here: the engine alone) and says so.
        rig.engine
            .verify_quorum_set(&[quorum], &rig.chain)
            .expect("lists");
        assert!(rig.engine.is_verified(&quorum));
        let out = rig.event(SyncEvent::QuorumChecked { quorum });
        let signer = ChainLockSigner {
            quorum,
            quorum_verified: true,
        };
        assert_eq!(Rig::verified(&out), vec![(40, signer)]);
        assert_eq!(rig.manager.held(), None);
        assert_eq!(rig.manager.best().map(|t| t.height), Some(40));
    }

    #[test]
    fn a_chainlock_waits_once_and_a_forgery_is_reported_without_waiting() {
        let mut rig = Rig::deferring();
        rig.lists_synced(40);
        // A forgery does not wait: its signature is checked first and its sender reported.
        let forged = rig.clsig(39, SimVerdict::Invalid);
        assert_eq!(invalid_messages(&rig.receive(forged)).len(), 1);
        // The signer's list is missing: checked, the quorum stays unverifiable, and the
        // ChainLock does not wait again: it is verified with its quorum not verified.
        let clsig = rig.clsig(40, SimVerdict::Valid);
        let quorum = Rig::wanted(&rig.receive(clsig));
        rig.engine
            .verify_quorum_set(&[quorum], &rig.chain)
            .expect("lists");
        assert!(!rig.engine.is_verified(&quorum));
        let out = rig.event(SyncEvent::QuorumChecked { quorum });
        let signer = ChainLockSigner {
            quorum,
            quorum_verified: false,
        };
        assert_eq!(Rig::verified(&out), vec![(40, signer)]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(rig.manager.held(), None);
        // Nothing is left waiting: a later check of the quorum changes nothing.
        assert!(rig.event(SyncEvent::QuorumChecked { quorum }).is_empty());
    }

    #[test]
    fn a_chainlock_that_waited_does_not_wait_again_when_another_starts_waiting() {
        let mut rig = Rig::deferring();
        rig.lists_synced(40);
        let lower = rig.clsig(39, SimVerdict::Valid);
        let quorum = Rig::wanted(&rig.receive(lower));
        // The higher one comes while no peer is left: held, not checked, not waiting.
        let event = |connected_count| NetworkEvent::PeersUpdated {
            connected_count,
            best_height: None,
        };
        rig.manager.handle_network(&event(0), &mut Vec::new());
        let higher = rig.clsig(40, SimVerdict::Valid);
        assert!(rig.receive(higher).is_empty());
        rig.manager.handle_network(&event(1), &mut Vec::new());
        // The quorum was checked (it stays unverifiable): the higher one starts waiting, the
        // lower one, which waited already, is verified.
        rig.engine
            .verify_quorum_set(&[quorum], &rig.chain)
            .expect("lists");
        let out = rig.event(SyncEvent::QuorumChecked { quorum });
        let wanted: Vec<&Output> = out
            .iter()
            .filter(|o| matches!(o, Output::Event(SyncEvent::QuorumWanted { .. })))
            .collect();
        assert_eq!(wanted.len(), 1, "{out:?}");
        let verified: Vec<u32> = Rig::verified(&out).iter().map(|(h, _)| *h).collect();
        assert_eq!(verified, vec![39]);
        assert_eq!(rig.manager.held().map(|t| t.height), Some(40));
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
        assert!(out
            .iter()
            .any(|o| matches!(o, Output::Event(SyncEvent::ChainLockVerified { target: t, .. }) if *t == target)));
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

    #[test]
    fn a_far_future_chainlock_is_not_held_and_does_not_shadow_a_real_one() {
        let mut rig = Rig::new();
        let far = SimChainLock {
            height: i32::MAX as u32,
            hash: rig.blocks.hash_at(40).expect("on chain"),
            verdict: SimVerdict::Valid,
        };
        assert!(rig.receive(far).is_empty());
        assert_eq!(rig.manager.held(), None);
        assert_eq!(rig.manager.progress().responses_dropped, 1);
        let real = rig.clsig(30, SimVerdict::Valid);
        assert!(rig.receive(real).is_empty());
        assert_eq!(rig.manager.held().map(|t| t.height), Some(30));
        rig.lists_synced(30);
        assert_eq!(rig.manager.best().map(|t| t.height), Some(30));
    }

    #[test]
    fn a_held_forgery_does_not_block_a_lower_real_chainlock() {
        let mut rig = Rig::new();
        let forged = rig.clsig(38, SimVerdict::Invalid);
        assert!(rig.receive(forged).is_empty());
        let real = rig.clsig(30, SimVerdict::Valid);
        assert!(rig.receive(real).is_empty());
        assert_eq!(
            rig.manager.held_all().map(|t| t.height).collect::<Vec<_>>(),
            vec![30, 38]
        );
        let out = rig.lists_synced(30);
        assert!(invalid_messages(&out).is_empty(), "{out:?}");
        assert_eq!(rig.manager.best().map(|t| t.height), Some(30));
        assert_eq!(rig.manager.held(), None);
    }

    #[test]
    fn held_chainlocks_are_bounded_keeping_the_newest_known_blocks() {
        let mut rig = Rig::new();
        for height in 31..=40 {
            let clsig = rig.clsig(height, SimVerdict::Invalid);
            assert!(rig.receive(clsig).is_empty());
        }
        let held: Vec<u32> = rig.manager.held_all().map(|t| t.height).collect();
        assert_eq!(held, vec![37, 38, 39, 40]);
        assert_eq!(held.len(), MAX_HELD);
        // A duplicate of a held one is not held twice.
        let again = rig.clsig(40, SimVerdict::Invalid);
        assert!(rig.receive(again).is_empty());
        assert_eq!(rig.manager.held_all().count(), MAX_HELD);
        // ChainLocks above the header tip (blocks not known yet) never push out those of
        // known blocks.
        let tip = rig.chain.tip().height;
        for ahead in (1..=6).chain([500, 4_000, MAX_AHEAD_OF_TIP]) {
            let speculative = SimChainLock {
                height: tip + ahead,
                hash: BlockHash([ahead as u8; 32]),
                verdict: SimVerdict::Invalid,
            };
            assert!(rig.receive(speculative).is_empty());
        }
        let held: Vec<u32> = rig.manager.held_all().map(|t| t.height).collect();
        assert_eq!(held, vec![37, 38, 39, 40]);
    }

    /// Found by the hostile soak (seed 8, 20 days): four older ChainLocks waiting for lists
    /// that are never fetched made the newest, verifiable one be dropped.
    #[test]
    fn a_newer_chainlock_is_not_dropped_for_older_held_ones() {
        let mut rig = Rig::new();
        for height in 31..=34 {
            let clsig = rig.clsig(height, SimVerdict::Valid);
            assert!(rig.receive(clsig).is_empty());
        }
        let newest = rig.clsig(40, SimVerdict::Valid);
        assert!(rig.receive(newest).is_empty());
        assert_eq!(rig.manager.held().map(|t| t.height), Some(40));
        let out = rig.lists_synced(30);
        assert!(invalid_messages(&out).is_empty(), "{out:?}");
        assert_eq!(rig.manager.best().map(|t| t.height), Some(40));
    }

    #[test]
    fn a_chainlock_just_above_the_header_tip_is_held() {
        let mut rig = Rig::new();
        let tip = rig.chain.tip().height;
        let ahead = SimChainLock {
            height: tip + 1,
            hash: BlockHash([7; 32]),
            verdict: SimVerdict::Valid,
        };
        assert!(rig.receive(ahead).is_empty());
        assert_eq!(rig.manager.held().map(|t| t.height), Some(tip + 1));
    }

    /// A wallet waking after hours: the tip's ChainLock comes with the tip, hundreds of
    /// blocks above the headers, and is the last one relayed for a while. It is held until
    /// the lists its quorum needs are applied, then verified (it used to be dropped).
    #[test]
    fn a_chainlock_far_above_the_header_tip_is_held_until_its_lists_come() {
        let mut rig = Rig::new();
        let tip = rig.chain.tip().height;
        let far = SimChainLock {
            height: tip + 468,
            hash: BlockHash([9; 32]),
            verdict: SimVerdict::Valid,
        };
        assert!(rig.receive(far).is_empty());
        assert_eq!(rig.manager.held().map(|t| t.height), Some(tip + 468));
        assert_eq!(rig.manager.best(), None);
        let mut out = Vec::new();
        rig.engine.store_list(tip + 460, BlockHash([8; 32]));
        let event = SyncEvent::ListsApplied {
            list_height: tip + 460,
        };
        rig.manager
            .handle_sync_event(Timestamp(0), &event, &rig.chain, &mut rig.engine, &mut out);
        assert!(invalid_messages(&out).is_empty(), "{out:?}");
        assert_eq!(rig.manager.best().map(|t| t.height), Some(tip + 468));
        assert_eq!(rig.manager.held(), None);
    }

    #[test]
    fn an_implausibly_far_chainlock_is_not_held() {
        let mut rig = Rig::new();
        let tip = rig.chain.tip().height;
        let beyond = SimChainLock {
            height: tip + MAX_AHEAD_OF_TIP + 1,
            hash: BlockHash([7; 32]),
            verdict: SimVerdict::Valid,
        };
        assert!(rig.receive(beyond).is_empty());
        assert_eq!(rig.manager.held_all().count(), 0);
        assert_eq!(rig.manager.progress().responses_dropped, 1);
    }
}
