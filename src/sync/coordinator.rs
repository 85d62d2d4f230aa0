//! The coordinator: owns the chain, the engine and the managers, routes events between the
//! managers and aggregates their states.

use super::chain_view::ExtendableChain;
use super::chainlocks::ChainLockManager;
use super::config::SyncConfig;
use super::engine::SyncEngine;
use super::events::{NetworkEvent, SyncEvent};
use super::headers::HeaderManager;
use super::masternodes::MasternodeManager;
use super::progress::SyncProgress;
use super::requests::Output;
use super::state::SyncState;
use super::time::{Now, Timestamp};
use crate::chain::validation::HashedHeader;
use crate::hash::BlockHash;

/// Drives header, masternode and ChainLock sync from one set of inputs.
pub struct Coordinator<C: ExtendableChain, E: SyncEngine> {
    chain: C,
    engine: E,
    headers: HeaderManager,
    masternodes: MasternodeManager,
    chainlocks: ChainLockManager<E::ChainLock>,
    state: SyncState,
}

impl<C: ExtendableChain, E: SyncEngine> Coordinator<C, E> {
    /// A coordinator over `chain` and `engine`, waiting for peers.
    pub fn new(config: SyncConfig, chain: C, engine: E) -> Self {
        let tip_height = chain.tip().height;
        Coordinator {
            headers: HeaderManager::new(config, tip_height),
            masternodes: MasternodeManager::new(config, &engine),
            chainlocks: ChainLockManager::new().deferring_signers(config.check_workers >= 2),
            state: SyncState::WaitingForConnections,
            chain,
            engine,
        }
    }

    /// The aggregate state.
    pub fn state(&self) -> &SyncState {
        &self.state
    }

    /// The header chain.
    pub fn chain(&self) -> &C {
        &self.chain
    }

    /// The masternode list engine.
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// The header manager.
    pub fn headers(&self) -> &HeaderManager {
        &self.headers
    }

    /// The masternode manager.
    pub fn masternodes(&self) -> &MasternodeManager {
        &self.masternodes
    }

    /// The ChainLock manager.
    pub fn chainlocks(&self) -> &ChainLockManager<E::ChainLock> {
        &self.chainlocks
    }

    /// Progress of every manager.
    pub fn progress(&self) -> SyncProgress {
        SyncProgress {
            state: self.state.clone(),
            headers: self.headers.progress().clone(),
            masternodes: self.masternodes.progress(),
            chainlocks: self.chainlocks.progress().clone(),
            best_chainlock: self.chainlocks.best(),
        }
    }

    /// The earliest time [`Coordinator::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        [
            self.headers.next_deadline(),
            self.masternodes.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Resets everything in flight in every manager.
    pub fn clear_in_flight_state(&mut self) {
        self.headers.clear_in_flight_state();
        self.masternodes.clear_in_flight_state();
    }

    /// Handles a network event.
    pub fn handle_network(&mut self, now: Timestamp, event: NetworkEvent) -> Vec<Output> {
        let mut out = Vec::new();
        self.headers
            .handle_network(now, &event, &self.chain, &mut out);
        self.masternodes
            .handle_network(now, &event, &self.chain, &self.engine, &mut out);
        self.chainlocks.handle_network(&event, &mut out);
        self.finish(now, out)
    }

    /// Handles a `headers` message delivered at `at` (header times are judged against its
    /// wall clock).
    pub fn handle_headers(&mut self, at: Now, headers: &[HashedHeader]) -> Vec<Output> {
        let now = at.monotonic;
        let mut out = Vec::new();
        self.headers
            .handle_headers(now, at.unix_secs, headers, &mut self.chain, &mut out);
        self.finish(now, out)
    }

    /// A `headers` batch arrived and is being hashed elsewhere until `until` at the latest
    /// (see [`HeaderManager::answer_in_hand`]).
    pub fn headers_in_hand(&mut self, until: Timestamp) {
        self.headers.answer_in_hand(until);
    }

    /// Handles blocks a peer announced by hash (an `inv`), in the order announced.
    pub fn handle_blocks_announced(&mut self, now: Timestamp, hashes: &[BlockHash]) -> Vec<Output> {
        let mut out = Vec::new();
        self.headers
            .handle_blocks_announced(now, hashes, &self.chain, &mut out);
        self.finish(now, out)
    }

    /// Handles a `qrinfo` message.
    pub fn handle_qrinfo(&mut self, now: Timestamp, qrinfo: E::QrInfo) -> Vec<Output> {
        let mut out = Vec::new();
        self.masternodes
            .handle_qrinfo(now, qrinfo, &self.chain, &mut self.engine, &mut out);
        self.finish(now, out)
    }

    /// Handles an `mnlistdiff` message.
    pub fn handle_mnlistdiff(&mut self, now: Timestamp, diff: E::MnListDiff) -> Vec<Output> {
        let mut out = Vec::new();
        self.masternodes
            .handle_mnlistdiff(now, diff, &self.chain, &mut self.engine, &mut out);
        self.finish(now, out)
    }

    /// Handles a `clsig` message.
    pub fn handle_chainlock(&mut self, now: Timestamp, chainlock: E::ChainLock) -> Vec<Output> {
        let mut out = Vec::new();
        self.chainlocks
            .handle_chainlock(now, chainlock, &self.chain, &mut self.engine, &mut out);
        self.finish(now, out)
    }

    /// Handles the checking workers' answers to quorum check batch `batch`
    /// ([`Output::CheckQuorums`]), one per share in order; a stale batch is ignored.
    pub fn handle_quorum_checks(
        &mut self,
        now: Timestamp,
        batch: u64,
        answers: &[Vec<u8>],
    ) -> Vec<Output> {
        let mut out = Vec::new();
        self.masternodes.handle_quorum_checks(
            now,
            batch,
            answers,
            &self.chain,
            &mut self.engine,
            &mut out,
        );
        self.finish(now, out)
    }

    /// Fires due deadlines in every manager.
    pub fn tick(&mut self, now: Timestamp) -> Vec<Output> {
        let mut out = Vec::new();
        self.headers.tick(now, &self.chain, &mut out);
        self.masternodes
            .tick(now, &self.chain, &mut self.engine, &mut out);
        self.finish(now, out)
    }

    /// Routes every event in `out` (including those routing produces) to the managers,
    /// then publishes a change of the aggregate state.
    fn finish(&mut self, now: Timestamp, mut out: Vec<Output>) -> Vec<Output> {
        let mut next = 0;
        while let Some(output) = out.get(next) {
            next += 1;
            let Output::Event(event) = output else {
                continue;
            };
            let event = *event;
            let mut routed = Vec::new();
            match event {
                SyncEvent::HeadersStored { .. }
                | SyncEvent::HeaderSyncComplete { .. }
                | SyncEvent::QuorumWanted { .. } => self.masternodes.handle_sync_event(
                    now,
                    &event,
                    &self.chain,
                    &mut self.engine,
                    &mut routed,
                ),
                SyncEvent::ListsApplied { .. }
                | SyncEvent::MasternodeListsSynced { .. }
                | SyncEvent::QuorumChecked { .. } => self.chainlocks.handle_sync_event(
                    now,
                    &event,
                    &self.chain,
                    &mut self.engine,
                    &mut routed,
                ),
                SyncEvent::ChainLockVerified { .. } => {}
            }
            out.extend(routed);
        }
        let aggregate = SyncState::aggregate([
            self.headers.state(),
            self.masternodes.state(),
            self.chainlocks.state(),
        ]);
        if aggregate != self.state {
            let from = core::mem::replace(&mut self.state, aggregate.clone());
            out.push(Output::SyncStateChanged {
                from,
                to: aggregate,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::sim::{sim_config, SimNetwork, SimVerdict};
    use crate::sync::time::Millis;

    #[test]
    fn a_fresh_client_syncs_everything() {
        let mut net = SimNetwork::new(sim_config(), 130);
        net.connect();
        let ticks = net.run_until_synced(Millis::from_secs(1), 10);
        assert_eq!(ticks, Some(0));
        let progress = net.client.progress();
        assert_eq!(progress.state, SyncState::Synced);
        assert_eq!(progress.headers.current_height, 130);
        assert_eq!(progress.masternodes.current_height, 130);
        assert_eq!(progress.masternodes.qrinfos_requested, 1);
        assert_eq!(progress.masternodes.diffs_processed, 3);
        assert_eq!(progress.masternodes.unverified_quorums, 0);
        assert_eq!(net.qrinfo_overlaps, 0);
        let chainlock = net.chainlock(130, SimVerdict::Valid).expect("block 130");
        net.inject(chainlock);
        net.step();
        assert_eq!(net.client.progress().chainlocks.current_height, 130);
    }

    #[test]
    fn a_chainlock_held_before_the_lists_is_verified_before_the_remaining_quorums() {
        use crate::sync::chain_view::ChainView;
        use crate::sync::config::SyncConfig;
        use crate::sync::engine::SyncEngine;
        use crate::sync::masternodes::{AfterVerifying, MasternodeWork};
        let config = SyncConfig {
            quorums_per_slice: 1,
            ..sim_config()
        };
        let mut net = SimNetwork::new(config, 130);
        net.connect();
        for _ in 0..10 {
            if net.client.masternodes().waiting_for_qrinfo() {
                break;
            }
            net.step();
        }
        assert!(net.client.masternodes().waiting_for_qrinfo());
        // The ChainLock arrives before the QRInfo's answer: held, then verified as soon as
        // the QRInfo is applied, in the same input.
        let chainlock = net.chainlock(130, SimVerdict::Valid).expect("block 130");
        net.inject(chainlock);
        let before = net.outputs.len();
        net.step();
        let verified_at = net.outputs[before..]
            .iter()
            .position(|o| matches!(o, Output::Event(SyncEvent::ChainLockVerified { .. })))
            .expect("the held ChainLock verified with the QRInfo");
        assert!(net.outputs[before..before + verified_at]
            .iter()
            .any(|o| matches!(o, Output::Event(SyncEvent::ListsApplied { .. }))));
        let progress = net.client.progress();
        assert_eq!(progress.best_chainlock.map(|t| t.height), Some(130));
        assert_eq!(progress.chainlocks.state, SyncState::Synced);
        // The other quorums wait for their slices, the lists they need for them.
        assert_eq!(progress.masternodes.state, SyncState::Syncing);
        assert!(matches!(
            net.client.masternodes().work(),
            MasternodeWork::Verifying {
                then: AfterVerifying::FetchLists,
                ..
            }
        ));
        let pending = progress.masternodes.pending_quorums;
        assert!(pending > 1, "{pending} quorums pending");
        assert_eq!(net.client.engine().pending_quorums().len() as u32, pending);
        // A headers batch is handled between two slices.
        net.mine(1);
        net.advance(crate::sync::time::Millis(1));
        net.step();
        assert_eq!(net.client.chain().tip().height, 131);
        assert_eq!(
            net.client.progress().masternodes.pending_quorums,
            pending - 1
        );
        assert_eq!(net.run_until_synced(Millis::from_secs(1), 10), Some(0));
        let synced_at = net
            .outputs
            .iter()
            .position(|o| matches!(o, Output::Event(SyncEvent::MasternodeListsSynced { .. })))
            .expect("lists synced");
        assert!(synced_at > before + verified_at);
        let engine = net.client.engine();
        assert!(engine.pending_quorums().is_empty());
        assert_eq!(engine.quorum_check().verified, 8);
        assert_eq!(net.client.progress().masternodes.pending_quorums, 0);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use crate::sync::chain_view::ChainView;
    use crate::sync::headers::HeaderRequest;
    use crate::sync::masternodes::{MasternodeWork, QrInfoState};
    use crate::sync::sim::{
        sim_config, Fault, SimMessage, SimMnListDiff, SimNetwork, SimQrInfo, SimVerdict,
    };
    use crate::sync::time::Millis;
    use proptest::prelude::*;

    /// One thing that happens to the client while its peer misbehaves.
    #[derive(Clone, Debug)]
    enum Action {
        Advance(u64),
        Step,
        StepReordered,
        Disconnect,
        Connect,
        SilentPeers(usize),
        Mine(u32),
        Faults(Vec<Fault>),
        UnsolicitedQrInfo(u32, SimVerdict),
        UnsolicitedDiff(u32),
        UnsolicitedHeaders(u32),
        ChainLock(u32, SimVerdict),
    }

    fn verdict() -> impl Strategy<Value = SimVerdict> {
        prop_oneof![
            Just(SimVerdict::Valid),
            Just(SimVerdict::Invalid),
            Just(SimVerdict::NotYetAvailable),
        ]
    }

    fn fault() -> impl Strategy<Value = Fault> {
        prop_oneof![
            Just(Fault::None),
            Just(Fault::Drop),
            Just(Fault::Duplicate),
            Just(Fault::Delay),
            Just(Fault::Invalid),
            Just(Fault::NotYetAvailable),
        ]
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            4 => (0u64..70_000).prop_map(Action::Advance),
            4 => Just(Action::Step),
            1 => Just(Action::StepReordered),
            1 => Just(Action::Disconnect),
            1 => Just(Action::Connect),
            1 => (0usize..3).prop_map(Action::SilentPeers),
            1 => (1u32..30).prop_map(Action::Mine),
            2 => proptest::collection::vec(fault(), 1..6).prop_map(Action::Faults),
            1 => (0u32..200, verdict()).prop_map(|(h, v)| Action::UnsolicitedQrInfo(h, v)),
            1 => (0u32..200).prop_map(Action::UnsolicitedDiff),
            1 => (0u32..200).prop_map(Action::UnsolicitedHeaders),
            1 => (0u32..200, verdict()).prop_map(|(h, v)| Action::ChainLock(h, v)),
        ]
    }

    fn apply(net: &mut SimNetwork, action: Action) {
        let at = |net: &SimNetwork, height: u32| {
            net.blocks.hash_at(height % (net.blocks.tip().height + 1))
        };
        match action {
            Action::Advance(ms) => net.advance(Millis(ms)),
            Action::Step => net.step(),
            Action::StepReordered => net.step_with(true),
            Action::Disconnect => net.disconnect(),
            Action::Connect => net.connect(),
            Action::SilentPeers(count) => net.set_silent_peers(count),
            Action::Mine(count) => net.mine(count),
            Action::Faults(faults) => net.push_faults(faults),
            Action::UnsolicitedQrInfo(height, verdict) => {
                if let Some(tip) = at(net, height) {
                    net.inject(SimMessage::QrInfo(SimQrInfo {
                        tip,
                        base_block_hashes: Vec::new(),
                        verdict,
                    }));
                }
            }
            Action::UnsolicitedDiff(height) => {
                if let Some(block) = at(net, height) {
                    net.inject(SimMessage::MnListDiff(SimMnListDiff {
                        base: crate::hash::BlockHash::ZERO,
                        block,
                        verdict: SimVerdict::Valid,
                    }));
                }
            }
            Action::UnsolicitedHeaders(height) => {
                let from = height % (net.blocks.tip().height + 1);
                let headers = net.blocks.headers(from, from.saturating_add(3));
                net.inject(SimMessage::Headers(headers));
            }
            Action::ChainLock(height, verdict) => {
                let height = height % (net.blocks.tip().height + 1);
                if let Some(message) = net.chainlock(height, verdict) {
                    net.inject(message);
                }
            }
        }
    }

    /// `Syncing` always has something in flight, and `Error` always has a retry scheduled.
    fn no_dead_end(net: &SimNetwork) -> Result<(), TestCaseError> {
        let masternodes = net.client.masternodes();
        match masternodes.state() {
            SyncState::Syncing => prop_assert_ne!(masternodes.work(), &MasternodeWork::Idle),
            SyncState::Error(_) => prop_assert!(
                matches!(
                    masternodes.work(),
                    MasternodeWork::QrInfo(QrInfoState::RetryAt { .. })
                ),
                "masternodes in Error without a retry: {:?}",
                masternodes.work()
            ),
            SyncState::WaitingForConnections => {
                prop_assert_eq!(masternodes.work(), &MasternodeWork::Idle)
            }
            SyncState::WaitForEvents | SyncState::Synced => {}
        }
        let headers = net.client.headers();
        match headers.state() {
            SyncState::Syncing => prop_assert!(
                matches!(headers.request(), HeaderRequest::Awaiting { .. }),
                "headers Syncing with nothing in flight: {:?}",
                headers.request()
            ),
            SyncState::Error(_) => prop_assert!(
                matches!(headers.request(), HeaderRequest::RetryAt { .. }),
                "headers in Error without a retry: {:?}",
                headers.request()
            ),
            SyncState::WaitingForConnections => {
                prop_assert_eq!(headers.request(), &HeaderRequest::Idle)
            }
            SyncState::WaitForEvents | SyncState::Synced => {}
        }
        Ok(())
    }

    /// Found by the property test below: two blocks announced in reverse order, and the
    /// answer to the `getheaders` the first (unconnectable) announcement triggered is lost.
    /// The second announcement, which connects, must not end the sync one block short.
    #[test]
    fn a_connecting_announcement_does_not_end_a_sync_an_unconnected_one_started() {
        let mut net = SimNetwork::new(sim_config(), 100);
        net.connect();
        assert!(net.run_until_synced(Millis::from_secs(1), 10).is_some());
        net.mine(1);
        net.mine(1);
        // 102 first (does not connect: the client asks), then 101 (connects).
        net.step_with(true);
        net.push_faults(vec![Fault::Drop]);
        net.step();
        net.clear_faults();
        assert!(net.run_until_synced(Millis::from_secs(1), 100).is_some());
        assert_eq!(net.client.chain().tip(), net.blocks.tip());
    }

    /// The peer turns well-behaved: what it sent before arrives (and may get it banned)
    /// with no dead end, it connects again, and within a bounded number of one-second
    /// ticks the machines are `Synced` at the network's tip, with never more than one
    /// QRInfo outstanding and no intact message blamed.
    fn reaches_synced_once_well_behaved(net: &mut SimNetwork) -> Result<(), TestCaseError> {
        net.clear_faults();
        net.step();
        no_dead_end(net)?;
        net.connect();
        let ticks = net.run_until_synced(Millis::from_secs(1), 400);
        prop_assert!(ticks.is_some(), "not synced: {:?}", net.client.progress());
        prop_assert_eq!(net.client.state(), &SyncState::Synced);
        prop_assert_eq!(net.client.chain().tip(), net.blocks.tip());
        prop_assert_eq!(net.qrinfo_overlaps, 0);
        prop_assert_eq!(net.honest_messages_blamed, 0);
        Ok(())
    }

    proptest! {
        // A fixed seed keeps CI deterministic; to explore, use `RngSeed::Random` and raise
        // `cases` (12,000 random cases passed on 2026-11-28; the counterexample found that
        // way before is the test above).
        #![proptest_config(ProptestConfig {
            cases: 256,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_da54),
            ..ProptestConfig::default()
        })]

        /// Whatever happened before, once a well-behaved peer stays connected the machines
        /// reach `Synced` within a bounded number of one-second ticks, at the network's tip,
        /// and never has more than one QRInfo outstanding. At every step in between, no
        /// manager is in a dead end, also when the peer is dropped for an invalid message
        /// (`bans`), and no message the peer sent intact is ever reported invalid.
        #[test]
        fn a_well_behaved_peer_always_brings_the_machines_to_synced(
            height in 30u32..160,
            start_connected in any::<bool>(),
            bans in any::<bool>(),
            actions in proptest::collection::vec(action(), 0..80),
        ) {
            let mut net = SimNetwork::new(sim_config(), height);
            net.set_bans(bans);
            if start_connected {
                net.connect();
            }
            for action in actions {
                apply(&mut net, action);
                no_dead_end(&net)?;
            }
            reaches_synced_once_well_behaved(&mut net)?;
        }

        /// A client restored from storage (the chain and engine a synced client left,
        /// reloaded while the network moved on by `mined` blocks) keeps every property above.
        #[test]
        fn a_client_restored_from_storage_reaches_synced_from_its_lists(
            height in 30u32..160,
            mined in 0u32..80,
            bans in any::<bool>(),
            actions in proptest::collection::vec(action(), 0..40),
        ) {
            let mut first = SimNetwork::new(sim_config(), height);
            first.connect();
            prop_assert!(first.run_until_synced(Millis::from_secs(1), 400).is_some());
            let mut blocks = first.blocks.clone();
            blocks.grow(mined);
            let mut net = SimNetwork::with_client(
                sim_config(),
                blocks,
                first.client.chain().clone(),
                first.client.engine().clone(),
            );
            net.set_bans(bans);
            no_dead_end(&net)?;
            for action in actions {
                apply(&mut net, action);
                no_dead_end(&net)?;
            }
            reaches_synced_once_well_behaved(&mut net)?;
        }
    }
}
