//! The coordinator: owns the chain, the engine and the managers, routes events between the
//! managers and aggregates their states.

use super::chain_view::HeaderChain;
use super::chainlocks::ChainLockManager;
use super::config::SyncConfig;
use super::engine::MasternodeEngine;
use super::events::{NetworkEvent, SyncEvent, SyncMessage};
use super::headers::HeaderManager;
use super::masternodes::MasternodeManager;
use super::progress::SyncProgress;
use super::requests::Output;
use super::state::SyncState;
use super::time::Timestamp;

/// Drives header, masternode and ChainLock sync from one set of inputs.
pub struct Coordinator<C: HeaderChain, E: MasternodeEngine> {
    chain: C,
    engine: E,
    headers: HeaderManager,
    masternodes: MasternodeManager,
    chainlocks: ChainLockManager<E::ChainLock>,
    state: SyncState,
}

impl<C: HeaderChain, E: MasternodeEngine> Coordinator<C, E> {
    /// A coordinator over `chain` and `engine`, waiting for peers.
    pub fn new(config: SyncConfig, chain: C, engine: E) -> Self {
        let tip_height = chain.tip().height;
        let list_height = engine.list_height_at_or_below(u32::MAX);
        Coordinator {
            headers: HeaderManager::new(config, tip_height),
            masternodes: MasternodeManager::new(config, list_height),
            chainlocks: ChainLockManager::new(),
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
            masternodes: self.masternodes.progress().clone(),
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

    /// Handles a message from a peer.
    pub fn handle_message(&mut self, now: Timestamp, message: SyncMessage<E>) -> Vec<Output> {
        let mut out = Vec::new();
        match message {
            SyncMessage::Headers(headers) => {
                self.headers
                    .handle_headers(now, &headers, &mut self.chain, &mut out)
            }
            SyncMessage::QrInfo(qrinfo) => {
                self.masternodes
                    .handle_qrinfo(now, qrinfo, &self.chain, &mut self.engine, &mut out)
            }
            SyncMessage::MnListDiff(diff) => self.masternodes.handle_mnlistdiff(
                now,
                diff,
                &self.chain,
                &mut self.engine,
                &mut out,
            ),
            SyncMessage::ChainLock(chainlock) => self.chainlocks.handle_chainlock(
                now,
                chainlock,
                &self.chain,
                &self.engine,
                &mut out,
            ),
        }
        self.finish(now, out)
    }

    /// Handles an event from outside the managers (e.g. headers stored by another path).
    pub fn handle_sync_event(&mut self, now: Timestamp, event: SyncEvent) -> Vec<Output> {
        self.finish(now, vec![Output::Event(event)])
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
                SyncEvent::HeadersStored { .. } | SyncEvent::HeaderSyncComplete { .. } => self
                    .masternodes
                    .handle_sync_event(now, &event, &self.chain, &self.engine, &mut routed),
                SyncEvent::MasternodeListsSynced { .. } => self.chainlocks.handle_sync_event(
                    now,
                    &event,
                    &self.chain,
                    &self.engine,
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
}
