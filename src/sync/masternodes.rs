//! The masternode list manager: QRInfo for the tip once headers are synced, then the lists
//! its quorums still need through the `getmnlistd` pipeline, then new blocks incrementally.
//!
//! A manager made over an engine that already holds lists from a QRInfo (restored from
//! storage after a reload) does not start over: once headers are synced it checks the quorums
//! it has, reports `Synced` and brings the lists up to the tip from the newest one it holds,
//! like a manager that has been synced all along (see [`MasternodeManager::new`]). The same
//! holds after every peer was lost and one came back.
//!
//! Quorums are verified what the wallet needs first: applying a QRInfo or a diff is reported
//! at once ([`SyncEvent::ListsApplied`]) so that the ChainLock manager verifies held
//! ChainLocks (the client's engine verifies a ChainLock's own signing quorum then, and no
//! other); the quorums are verified after, most urgent first, a bounded slice per tick
//! ([`MasternodeWork::Verifying`]), so that messages are handled between slices. The lists a
//! QRInfo's quorums still need are fetched once every quorum was tried, and `Synced` (with
//! [`SyncEvent::MasternodeListsSynced`]) waits until the quorums of the fetched lists are
//! tried too: it means lists and quorums are synced, not only the ChainLock quorums.
//!
//! A slice's signature checks run in the sync's own thread, or, with
//! [`SyncConfig::check_workers`], leave as [`Output::CheckQuorums`] for the runtime's checking
//! workers and come back through [`MasternodeManager::handle_quorum_checks`]
//! ([`MasternodeWork::AwaitingChecks`]); answers that are late, stale or do not fit are
//! checked here, so the statuses are the same either way.
//!
//! The quorum a ChainLock waits for ([`SyncEvent::QuorumWanted`]) goes before the rest:
//! while verifying with two checking workers or more, alone in a batch whose shares are
//! parts of its key aggregation ([`CheckBatch::split`]); otherwise it is checked in the
//! sync's own thread at once. Either way [`SyncEvent::QuorumChecked`] follows.
//!
//! Everything in flight lives in one [`MasternodeWork`] value, so
//! [`MasternodeManager::clear_in_flight_state`] resets it all by construction: no request,
//! attempt count, wait start or retry deadline (the ChainLock-signature retry included) can
//! survive a reset.

use super::chain_view::ChainView;
use super::config::SyncConfig;
use super::engine::{ClassifiedError, EngineVerdict, QuorumId, QuorumNeed, SyncEngine};
use super::events::{NetworkEvent, SyncEvent};
use super::pipeline::{DiffPipeline, DiffTarget, DroppedDiff};
use super::progress::{change_state, Progress};
use super::requests::{Attempt, InvalidMessage, ManagerKind, MessageKind, Output, Request};
use super::state::{SyncFailure, SyncState};
use super::time::{Millis, Timestamp};
use crate::chain::BlockId;
use crate::hash::BlockHash;
use std::collections::VecDeque;

/// A `getqrinfo` as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrInfoRequest {
    /// The tip it asks for.
    pub tip: BlockId,
    /// The base hashes it carries (at most one anchor).
    pub base_block_hashes: Vec<BlockHash>,
}

/// The QRInfo part of the in-flight state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QrInfoState {
    /// A `getqrinfo` is on the wire.
    Awaiting {
        /// What was asked.
        request: QrInfoRequest,
        /// The attempt on the wire.
        attempt: Attempt,
        /// Automatic recoveries from `Error` so far (sets the next backoff).
        round: u32,
    },
    /// A `getqrinfo` is to be sent at `at`: after an answer that could not be checked yet
    /// (e.g. a required rotated ChainLock signature not present), or as the automatic
    /// retry from `Error`.
    RetryAt {
        /// When to send it.
        at: Timestamp,
        /// Which attempt it will be (1-based).
        attempt: u8,
        /// Automatic recoveries from `Error` so far.
        round: u32,
    },
}

/// What the masternode manager does once every queued quorum was tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterVerifying {
    /// Fetch the lists the quorums of the QRInfo just applied still need.
    FetchLists,
    /// Report `Synced` with the quorums left unverified: those given up already
    /// (`left_unverified`) and those still missing a list.
    Finish {
        /// Quorums whose list could not be fetched.
        left_unverified: Vec<QuorumNeed>,
    },
    /// Report the newest list (a tip update while `Synced`).
    Publish,
}

/// A slice's quorum checks out with the runtime's checking workers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckBatch {
    /// Which batch: answers naming another one are stale.
    pub id: u64,
    /// The encoded checks sent, one share per worker.
    pub shares: Vec<Vec<u8>>,
    /// The quorum whose one check the shares split (parts of its key aggregation), if
    /// they are not whole checks: the one a ChainLock waits for.
    pub split: Option<QuorumId>,
    /// When the manager stops waiting and checks the shares itself.
    pub deadline: Timestamp,
}

/// Everything the masternode manager has in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasternodeWork {
    /// Nothing.
    Idle,
    /// Getting a QRInfo.
    QrInfo(QrInfoState),
    /// Verifying the quorums the last message left pending, a slice per tick.
    Verifying {
        /// Quorums not tried yet, most urgent first.
        queue: VecDeque<QuorumId>,
        /// When the next slice is due.
        due: Timestamp,
        /// What comes once the queue is empty.
        then: AfterVerifying,
    },
    /// Waiting for the checking workers' answers to a slice, then verifying the rest.
    AwaitingChecks {
        /// The slice's checks.
        batch: CheckBatch,
        /// Quorums not tried yet, most urgent first.
        queue: VecDeque<QuorumId>,
        /// What comes once the queue is empty.
        then: AfterVerifying,
    },
    /// Fetching the lists the QRInfo's quorums need.
    QuorumLists {
        /// The `getmnlistd` requests.
        pipeline: DiffPipeline,
        /// Quorums whose list could not be fetched.
        unfetched: Vec<QuorumNeed>,
        /// Quorums waiting for a list in the pipeline.
        needs: Vec<QuorumNeed>,
    },
    /// Bringing the newest list up to the header tip.
    TipUpdate {
        /// The `getmnlistd` request.
        pipeline: DiffPipeline,
    },
}

/// Syncs masternode lists and quorums.
#[derive(Clone, Debug)]
pub struct MasternodeManager {
    config: SyncConfig,
    state: SyncState,
    /// The height of the newest list.
    list_height: u32,
    /// What only the UI reads: the target height, the counters, the last activity and the
    /// last error. Its state, current height and unverified count are left unset: the
    /// manager's own fields give them (see [`MasternodeManager::progress`]).
    stats: Progress,
    work: MasternodeWork,
    /// Quorums the last sync left unverified (see [`MasternodeManager::unverifiable_quorums`]).
    unverifiable: Vec<QuorumNeed>,
    last_qrinfo_cycle: Option<u32>,
    /// Check batches sent so far, never reset: the id of the last one.
    batches_sent: u64,
}

impl MasternodeManager {
    /// A manager waiting for peers, over `engine` and what it already holds (lists restored
    /// from storage): its newest list is the current height, and its last QRInfo the cycle
    /// the lists cover.
    pub fn new<E: SyncEngine>(config: SyncConfig, engine: &E) -> Self {
        let mut manager = MasternodeManager {
            config,
            state: SyncState::WaitingForConnections,
            list_height: engine.list_height_at_or_below(u32::MAX).unwrap_or(0),
            stats: Progress::default(),
            work: MasternodeWork::Idle,
            unverifiable: Vec::new(),
            last_qrinfo_cycle: None,
            batches_sent: 0,
        };
        manager.last_qrinfo_cycle = engine
            .last_qrinfo_height()
            .map(|height| manager.cycle_start(height));
        manager
    }

    /// The current state.
    pub fn state(&self) -> &SyncState {
        &self.state
    }

    /// The progress, for the UI: the state, the newest list's height and the number of
    /// quorums left unverified, with the counters.
    pub fn progress(&self) -> Progress {
        Progress {
            state: self.state.clone(),
            current_height: self.list_height,
            unverified_quorums: u32::try_from(self.unverifiable.len()).unwrap_or(u32::MAX),
            pending_quorums: match &self.work {
                MasternodeWork::Verifying { queue, .. }
                | MasternodeWork::AwaitingChecks { queue, .. } => {
                    u32::try_from(queue.len()).unwrap_or(u32::MAX)
                }
                _ => 0,
            },
            ..self.stats.clone()
        }
    }

    /// What is in flight.
    pub fn work(&self) -> &MasternodeWork {
        &self.work
    }

    /// Whether a `getqrinfo` is on the wire.
    pub fn waiting_for_qrinfo(&self) -> bool {
        matches!(
            self.work,
            MasternodeWork::QrInfo(QrInfoState::Awaiting { .. })
        )
    }

    /// Quorums the last sync left unverified: a list they need could not be fetched, or the
    /// engine still lacked one.
    pub fn unverifiable_quorums(&self) -> &[QuorumNeed] {
        &self.unverifiable
    }

    /// The next time [`MasternodeManager::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        match &self.work {
            MasternodeWork::Idle => None,
            MasternodeWork::QrInfo(QrInfoState::Awaiting { attempt, .. }) => Some(attempt.deadline),
            MasternodeWork::QrInfo(QrInfoState::RetryAt { at, .. }) => Some(*at),
            MasternodeWork::Verifying { due, .. } => Some(*due),
            MasternodeWork::AwaitingChecks { batch, .. } => Some(batch.deadline),
            MasternodeWork::QuorumLists { pipeline, .. }
            | MasternodeWork::TipUpdate { pipeline } => pipeline.next_deadline(),
        }
    }

    /// Forgets everything in flight: pending and in-flight requests, wait starts, attempt
    /// counts and every scheduled retry deadline. Every reset goes through here.
    pub fn clear_in_flight_state(&mut self) {
        self.work = MasternodeWork::Idle;
    }

    fn set_state(&mut self, to: SyncState, out: &mut Vec<Output>) {
        change_state(
            ManagerKind::Masternodes,
            &mut self.state,
            &mut self.stats.last_error,
            to,
            out,
        );
    }

    fn count_dropped(&mut self) {
        self.stats.responses_dropped = self.stats.responses_dropped.saturating_add(1);
    }

    /// Reacts to a change in the peer set.
    pub fn handle_network<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        event: &NetworkEvent,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        match *event {
            NetworkEvent::PeerDisconnected { held } if held.masternodes => {
                self.expire_in_flight(now)
            }
            NetworkEvent::PeerConnected | NetworkEvent::PeerDisconnected { .. } => {}
            NetworkEvent::PeersUpdated {
                connected_count: 0, ..
            } => {
                self.clear_in_flight_state();
                self.set_state(SyncState::WaitingForConnections, out);
            }
            NetworkEvent::PeersUpdated { best_height, .. } => {
                if let Some(height) = best_height {
                    self.stats.raise_target(height);
                }
                match self.state {
                    SyncState::WaitingForConnections => {
                        self.clear_in_flight_state();
                        self.set_state(SyncState::WaitForEvents, out);
                    }
                    SyncState::Error(_) => self.restart(now, chain, engine, out),
                    SyncState::WaitForEvents | SyncState::Syncing | SyncState::Synced => {}
                }
            }
        }
    }

    /// Reacts to the header manager.
    pub fn handle_sync_event<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        event: &SyncEvent,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        match *event {
            SyncEvent::HeaderSyncComplete { tip } => {
                self.stats.raise_target(tip.height);
                match self.state {
                    SyncState::WaitForEvents if self.holds_synced_lists(engine) => {
                        self.clear_in_flight_state();
                        let left_unverified = self.unverifiable.clone();
                        let then = AfterVerifying::Finish { left_unverified };
                        self.verify(now, then, chain, engine, out);
                    }
                    SyncState::WaitForEvents | SyncState::Error(_) => {
                        self.restart(now, chain, engine, out)
                    }
                    SyncState::Synced => self.follow_tip(now, chain, engine, out),
                    SyncState::WaitingForConnections | SyncState::Syncing => {}
                }
            }
            SyncEvent::HeadersStored { tip } => {
                self.stats.raise_target(tip.height);
                if self.state == SyncState::Synced {
                    self.follow_tip(now, chain, engine, out);
                }
            }
            SyncEvent::QuorumWanted { quorum } => {
                self.check_wanted(now, quorum, chain, engine, out)
            }
            SyncEvent::ListsApplied { .. }
            | SyncEvent::MasternodeListsSynced { .. }
            | SyncEvent::QuorumChecked { .. }
            | SyncEvent::ChainLockVerified { .. } => {}
        }
    }

    /// Whether the engine holds the lists of an applied QRInfo (this session's or restored):
    /// then the manager goes on from them instead of starting over.
    fn holds_synced_lists<E: SyncEngine>(&self, engine: &E) -> bool {
        self.last_qrinfo_cycle.is_some() && engine.list_height_at_or_below(u32::MAX).is_some()
    }

    /// Starts over: clears everything in flight and asks for a QRInfo for the tip at once.
    fn restart<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        self.clear_in_flight_state();
        self.send_qrinfo(now, chain, engine, 1, 0, out);
    }

    /// The QRInfo base: the newest stored list at least `anchor_cycles_behind` DKG cycles
    /// before the tip's cycle. One bounded anchor, never the set of every known hash.
    fn qrinfo_anchor<C: ChainView, E: SyncEngine>(
        &self,
        tip_height: u32,
        chain: &C,
        engine: &E,
    ) -> Option<BlockHash> {
        let interval = self.config.dkg_interval;
        let cycle_start = tip_height.checked_sub(tip_height.checked_rem(interval)?)?;
        let behind = self.config.anchor_cycles_behind.checked_mul(interval)?;
        let max_anchor = cycle_start.checked_sub(behind)?;
        let anchor_height = engine.list_height_at_or_below(max_anchor)?;
        chain.hash_at(anchor_height)
    }

    fn send_qrinfo<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &E,
        attempt: u8,
        round: u32,
        out: &mut Vec<Output>,
    ) {
        let tip = chain.tip();
        if tip.height == 0 {
            // Nothing to sync before the first block: wait for the headers.
            self.clear_in_flight_state();
            if self.state != SyncState::Synced {
                self.set_state(SyncState::WaitForEvents, out);
            }
            return;
        }
        let base_block_hashes: Vec<BlockHash> = self
            .qrinfo_anchor(tip.height, chain, engine)
            .into_iter()
            .collect();
        out.push(Output::Send(Request::GetQrInfo {
            base_block_hashes: base_block_hashes.clone(),
            block_request_hash: tip.hash,
            extra_share: true,
        }));
        self.stats.qrinfos_requested = self.stats.qrinfos_requested.saturating_add(1);
        self.stats.last_activity = Some(now);
        self.work = MasternodeWork::QrInfo(QrInfoState::Awaiting {
            request: QrInfoRequest {
                tip,
                base_block_hashes,
            },
            attempt: Attempt::sent(&self.config.qrinfo, attempt, now),
            round,
        });
        if self.state != SyncState::Synced {
            self.set_state(SyncState::Syncing, out);
        }
    }

    /// Gives up the current attempt run. While initially syncing this is `Error`, with an
    /// automatic retry after a backoff; once synced, the lists stay usable and the next
    /// block tries again.
    fn fail(&mut self, now: Timestamp, failure: SyncFailure, round: u32, out: &mut Vec<Output>) {
        if self.state == SyncState::Synced {
            self.stats.last_error = Some(failure);
            self.clear_in_flight_state();
            return;
        }
        self.work = MasternodeWork::QrInfo(QrInfoState::RetryAt {
            at: now + self.config.error_backoff(round),
            attempt: 1,
            round: round.saturating_add(1),
        });
        self.set_state(SyncState::Error(failure), out);
    }

    fn expire_in_flight(&mut self, now: Timestamp) {
        match &mut self.work {
            MasternodeWork::QrInfo(QrInfoState::Awaiting { attempt, .. }) => attempt.expire(now),
            MasternodeWork::QuorumLists { pipeline, .. }
            | MasternodeWork::TipUpdate { pipeline } => {
                pipeline.expire_in_flight(now);
            }
            MasternodeWork::Idle
            | MasternodeWork::QrInfo(QrInfoState::RetryAt { .. })
            | MasternodeWork::Verifying { .. }
            | MasternodeWork::AwaitingChecks { .. } => {}
        }
    }

    /// Handles a `qrinfo` message: only the answer to the `getqrinfo` on the wire is applied;
    /// unsolicited, duplicate and stale ones are dropped.
    pub fn handle_qrinfo<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        qrinfo: E::QrInfo,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let answered_tip = engine.qrinfo_tip(&qrinfo);
        let (request, attempt, round) = match &self.work {
            MasternodeWork::QrInfo(QrInfoState::Awaiting {
                request,
                attempt,
                round,
                ..
            }) if request.tip.hash == answered_tip => (request.clone(), attempt.number, *round),
            _ => return self.count_dropped(),
        };
        self.stats.last_activity = Some(now);
        self.stats.first_qrinfo_received.get_or_insert(now);
        match engine.apply_qrinfo(qrinfo, chain) {
            Ok(list_height) => {
                self.last_qrinfo_cycle = Some(self.cycle_start(request.tip.height));
                self.list_height = self.list_height.max(list_height);
                report_applied(engine, out);
                self.verify(now, AfterVerifying::FetchLists, chain, engine, out);
            }
            Err(error) => {
                let reason = error.to_string();
                let rejection = error.verdict();
                if rejection == EngineVerdict::Invalid {
                    out.push(Output::InvalidMessage(InvalidMessage {
                        kind: MessageKind::QrInfo,
                        reason: reason.clone(),
                    }));
                }
                let failure = SyncFailure::QrInfoRejected { reason };
                self.stats.last_error = Some(failure.clone());
                if attempt >= self.config.qrinfo.max_attempts() {
                    return self.fail(now, failure, round, out);
                }
                let next = attempt.saturating_add(1);
                match rejection {
                    EngineVerdict::Invalid | EngineVerdict::Inconclusive => {
                        self.send_qrinfo(now, chain, engine, next, round, out)
                    }
                    EngineVerdict::NotYetAvailable => {
                        self.work = MasternodeWork::QrInfo(QrInfoState::RetryAt {
                            at: now + self.config.not_yet_available_delay,
                            attempt: next,
                            round,
                        });
                    }
                }
            }
        }
    }

    fn cycle_start(&self, height: u32) -> u32 {
        let offset = height.checked_rem(self.config.dkg_interval).unwrap_or(0);
        height.saturating_sub(offset)
    }

    /// Queues `getmnlistd` for every list the QRInfo's quorums need.
    fn fetch_quorum_lists<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        needs: Vec<QuorumNeed>,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let mut pipeline =
            DiffPipeline::new(self.config.mnlistdiff, self.config.max_diffs_in_flight);
        let mut unfetched = Vec::new();
        let mut waiting = Vec::new();
        for need in needs {
            let height = need.list_height;
            if engine.list_height_at_or_below(height) == Some(height) {
                continue;
            }
            let Some(block) = chain.hash_at(height) else {
                unfetched.push(need);
                continue;
            };
            let base = height
                .checked_sub(1)
                .and_then(|below| engine.list_height_at_or_below(below))
                .and_then(|base_height| chain.hash_at(base_height))
                .unwrap_or(BlockHash::ZERO);
            pipeline.queue(DiffTarget {
                base,
                block,
                list_height: height,
            });
            waiting.push(need);
        }
        out.extend(pipeline.send_ready(now).into_iter().map(Output::Send));
        self.work = MasternodeWork::QuorumLists {
            pipeline,
            unfetched,
            needs: waiting,
        };
        self.complete_if_drained(now, chain, engine, out);
    }

    /// Handles an `mnlistdiff` message: only answers to a `getmnlistd` on the wire are applied.
    pub fn handle_mnlistdiff<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        diff: E::MnListDiff,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let blocks = engine.mnlistdiff_blocks(&diff);
        let (pipeline, quorum_lists) = match &mut self.work {
            MasternodeWork::QuorumLists {
                pipeline,
                needs,
                unfetched,
            } => (pipeline, Some((needs, unfetched))),
            MasternodeWork::TipUpdate { pipeline } => (pipeline, None),
            MasternodeWork::Idle
            | MasternodeWork::QrInfo(_)
            | MasternodeWork::Verifying { .. }
            | MasternodeWork::AwaitingChecks { .. } => return self.count_dropped(),
        };
        let Some(answered) = pipeline.take_answered(&blocks) else {
            return self.count_dropped();
        };
        self.stats.last_activity = Some(now);
        match engine.apply_mnlistdiff(diff, chain) {
            Ok(height) => {
                self.stats.diffs_processed = self.stats.diffs_processed.saturating_add(1);
                self.list_height = self.list_height.max(height);
                report_applied(engine, out);
                if quorum_lists.is_none() {
                    // A tip update asks for one list: once applied, its quorums are next.
                    return self.verify(now, AfterVerifying::Publish, chain, engine, out);
                }
            }
            Err(error) => {
                let reason = error.to_string();
                if error.verdict() == EngineVerdict::Invalid {
                    out.push(Output::InvalidMessage(InvalidMessage {
                        kind: MessageKind::MnListDiff,
                        reason: reason.clone(),
                    }));
                }
                self.stats.last_error = Some(SyncFailure::MnListDiffRejected { reason });
                match pipeline.retry(answered, now) {
                    Ok(request) => out.push(Output::Send(request)),
                    Err(dropped) => {
                        if let Some((needs, unfetched)) = quorum_lists {
                            give_up_list(dropped, needs, unfetched);
                        }
                    }
                }
            }
        }
        out.extend(pipeline.send_ready(now).into_iter().map(Output::Send));
        self.complete_if_drained(now, chain, engine, out);
    }

    /// Fires due deadlines: QRInfo timeouts and retries, pipeline timeouts.
    pub fn tick<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        match &mut self.work {
            MasternodeWork::Idle => {}
            MasternodeWork::Verifying { .. } => self.verify_slice(now, chain, engine, out),
            MasternodeWork::AwaitingChecks { batch, .. } => {
                if batch.deadline <= now {
                    self.finish_checks(now, &[], chain, engine, out);
                }
            }
            MasternodeWork::QrInfo(QrInfoState::Awaiting { attempt, round, .. }) => {
                if attempt.deadline > now {
                    return;
                }
                let (attempt, round) = (attempt.number, *round);
                if attempt < self.config.qrinfo.max_attempts() {
                    self.send_qrinfo(now, chain, engine, attempt.saturating_add(1), round, out);
                } else {
                    let failure = SyncFailure::QrInfoUnanswered { attempts: attempt };
                    self.fail(now, failure, round, out);
                }
            }
            MasternodeWork::QrInfo(QrInfoState::RetryAt { at, attempt, round }) => {
                if *at > now {
                    return;
                }
                let (attempt, round) = (*attempt, *round);
                self.send_qrinfo(now, chain, engine, attempt, round, out);
            }
            MasternodeWork::QuorumLists {
                pipeline,
                needs,
                unfetched,
            } => {
                let ticked = pipeline.tick(now);
                out.extend(ticked.requests.into_iter().map(Output::Send));
                for dropped in ticked.dropped {
                    self.stats.last_error = Some(SyncFailure::MnListDiffUnanswered {
                        list_height: dropped.target.list_height,
                        attempts: dropped.attempts,
                    });
                    give_up_list(dropped, needs, unfetched);
                }
                self.complete_if_drained(now, chain, engine, out);
            }
            MasternodeWork::TipUpdate { pipeline } => {
                let ticked = pipeline.tick(now);
                out.extend(ticked.requests.into_iter().map(Output::Send));
                if let Some(dropped) = ticked.dropped.last() {
                    self.stats.last_error = Some(SyncFailure::MnListDiffUnanswered {
                        list_height: dropped.target.list_height,
                        attempts: dropped.attempts,
                    });
                }
                self.complete_if_drained(now, chain, engine, out);
            }
        }
    }

    /// Verifies the next slice of the queue once it is due: here, or, with checking workers,
    /// by sending its checks out ([`MasternodeWork::AwaitingChecks`]).
    fn verify_slice<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let MasternodeWork::Verifying { queue, due, then } = &mut self.work else {
            return;
        };
        if *due > now {
            return;
        }
        let workers = self.config.check_workers;
        let per_slice = self.config.quorums_per_slice.max(1);
        let take = per_slice.saturating_mul(workers.max(1)).min(queue.len());
        let slice: Vec<QuorumId> = queue.drain(..take).collect();
        *due = now + SLICE_GAP;
        if workers == 0 {
            return match engine.verify_quorum_set(&slice, chain) {
                Ok(()) => self.complete_if_drained(now, chain, engine, out),
                Err(error) => self.verification_failed(now, &error, out),
            };
        }
        let shares = match engine.prepare_quorum_checks(&slice, workers, chain) {
            Ok(shares) if shares.is_empty() => {
                return self.complete_if_drained(now, chain, engine, out)
            }
            Ok(shares) => shares,
            Err(error) => return self.verification_failed(now, &error, out),
        };
        let queue = core::mem::take(queue);
        let then = core::mem::replace(then, AfterVerifying::Publish);
        self.send_checks(now, shares, None, queue, then, out);
    }

    /// Sends `shares` to the checking workers as a new batch (the parts of `split`'s check,
    /// if named) and waits for their answers, with `queue` and `then` still to do.
    fn send_checks(
        &mut self,
        now: Timestamp,
        shares: Vec<Vec<u8>>,
        split: Option<QuorumId>,
        queue: VecDeque<QuorumId>,
        then: AfterVerifying,
        out: &mut Vec<Output>,
    ) {
        self.batches_sent = self.batches_sent.wrapping_add(1);
        let batch = CheckBatch {
            id: self.batches_sent,
            shares: shares.clone(),
            split,
            deadline: now + self.config.check_timeout,
        };
        out.push(Output::CheckQuorums {
            batch: batch.id,
            shares,
        });
        self.work = MasternodeWork::AwaitingChecks { batch, queue, then };
    }

    /// Checks the quorum a ChainLock waits for before the rest, and says so
    /// ([`SyncEvent::QuorumChecked`]): while verifying with two checking workers or more,
    /// with its key aggregation split over them (the answer comes with the batch's); in
    /// this thread otherwise, at once.
    fn check_wanted<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        quorum: QuorumId,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let workers = self.config.check_workers;
        if let (true, MasternodeWork::Verifying { queue, then, .. }) =
            (workers >= 2, &mut self.work)
        {
            queue.retain(|queued| *queued != quorum);
            match engine.prepare_split_check(&quorum, workers, chain) {
                Ok(Some(shares)) => {
                    let queue = core::mem::take(queue);
                    let then = core::mem::replace(then, AfterVerifying::Publish);
                    return self.send_checks(now, shares, Some(quorum), queue, then, out);
                }
                Ok(None) => {}
                Err(error) => {
                    out.push(Output::Event(SyncEvent::QuorumChecked { quorum }));
                    return self.verification_failed(now, &error, out);
                }
            }
        }
        if let Err(error) = engine.verify_quorum_set(&[quorum], chain) {
            // Not this manager's sync: the ChainLock's own check reports what it finds.
            self.stats.last_error = Some(SyncFailure::QuorumVerificationFailed {
                reason: error.to_string(),
            });
        }
        out.push(Output::Event(SyncEvent::QuorumChecked { quorum }));
    }

    /// Handles the checking workers' answers to batch `batch` (one per share, in order):
    /// those of the batch awaited are applied (a share whose answer is missing or does not
    /// fit is checked here) and the next slice follows; stale ones are ignored.
    pub fn handle_quorum_checks<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        batch: u64,
        answers: &[Vec<u8>],
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        if matches!(&self.work, MasternodeWork::AwaitingChecks { batch: awaited, .. } if awaited.id == batch)
        {
            self.finish_checks(now, answers, chain, engine, out);
        }
    }

    /// Applies `answers` to the batch awaited (none: its deadline passed) and goes back to
    /// verifying the queue.
    fn finish_checks<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        answers: &[Vec<u8>],
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let work = core::mem::replace(&mut self.work, MasternodeWork::Idle);
        let MasternodeWork::AwaitingChecks { batch, queue, then } = work else {
            self.work = work;
            return;
        };
        let applied = match batch.split {
            Some(quorum) => {
                let applied = engine.apply_split_check(&quorum, answers, chain);
                out.push(Output::Event(SyncEvent::QuorumChecked { quorum }));
                applied.map(u32::from)
            }
            None => engine.apply_quorum_checks(&batch.shares, answers, chain),
        };
        match applied {
            Ok(from_workers) => {
                let stats = &mut self.stats;
                stats.quorums_checked_in_workers = stats
                    .quorums_checked_in_workers
                    .saturating_add(from_workers);
                self.work = MasternodeWork::Verifying {
                    queue,
                    due: now + SLICE_GAP,
                    then,
                };
                self.complete_if_drained(now, chain, engine, out);
            }
            Err(error) => self.verification_failed(now, &error, out),
        }
    }

    fn verification_failed(
        &mut self,
        now: Timestamp,
        error: &impl ClassifiedError,
        out: &mut Vec<Output>,
    ) {
        let failure = SyncFailure::QuorumVerificationFailed {
            reason: error.to_string(),
        };
        self.fail(now, failure, 0, out);
    }

    /// Goes on once the work in hand is done: the lists fetched (or given up), the tip
    /// update dropped, or every queued quorum tried.
    fn complete_if_drained<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let then = match &mut self.work {
            MasternodeWork::QuorumLists {
                pipeline,
                unfetched,
                ..
            } if pipeline.is_empty() => {
                let then = AfterVerifying::Finish {
                    left_unverified: core::mem::take(unfetched),
                };
                return self.verify(now, then, chain, engine, out);
            }
            MasternodeWork::TipUpdate { pipeline } if pipeline.is_empty() => {
                // The update was dropped (an applied one goes on to verify its quorums): it
                // is retried with the next block, not in a loop.
                self.clear_in_flight_state();
                return;
            }
            MasternodeWork::Verifying { queue, then, .. } if queue.is_empty() => {
                core::mem::replace(then, AfterVerifying::Publish)
            }
            _ => return,
        };
        self.clear_in_flight_state();
        match then {
            AfterVerifying::FetchLists => {
                let needs = engine.quorum_check().unverifiable;
                self.fetch_quorum_lists(now, needs, chain, engine, out);
            }
            AfterVerifying::Finish { left_unverified } => {
                let mut all = left_unverified;
                all.extend(engine.quorum_check().unverifiable);
                all.sort_unstable();
                all.dedup();
                self.unverifiable = all;
                self.set_state(SyncState::Synced, out);
                self.publish_lists(now, chain, engine, out);
            }
            AfterVerifying::Publish => self.publish_lists(now, chain, engine, out),
        }
    }

    /// Queues every pending quorum for verification, most urgent first, then does `then`;
    /// the first slice is verified on the next tick, after what arrived meanwhile.
    fn verify<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        then: AfterVerifying,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        self.work = MasternodeWork::Verifying {
            queue: engine.pending_quorums().into(),
            due: now + SLICE_GAP,
            then,
        };
        self.complete_if_drained(now, chain, engine, out);
    }

    /// Reports the newest list, then keeps following the header tip.
    fn publish_lists<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        if let Some(list_height) = engine.list_height_at_or_below(u32::MAX) {
            self.list_height = list_height;
            out.push(Output::Event(SyncEvent::MasternodeListsSynced {
                list_height,
            }));
        }
        self.follow_tip(now, chain, engine, out);
    }

    /// Once synced, keeps the newest list at the signing height of the header tip (tip − 8:
    /// ChainLocks and InstantSend locks at a height are signed by the quorums active 8 blocks
    /// below it): a QRInfo when a new DKG cycle's rotated quorums have been mined, otherwise
    /// one `getmnlistd` from the newest list.
    fn follow_tip<C: ChainView, E: SyncEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        if self.work != MasternodeWork::Idle || self.state != SyncState::Synced {
            return;
        }
        let tip = chain.tip();
        let target_height = tip.height.saturating_sub(SIGNING_LIST_OFFSET);
        let newest = engine.list_height_at_or_below(u32::MAX);
        if newest.is_some_and(|height| height >= target_height) {
            return;
        }
        let Some(target_hash) = chain.hash_at(target_height) else {
            return;
        };
        let cycle = self.cycle_start(tip.height);
        let new_cycle = self.last_qrinfo_cycle.map_or(true, |last| last < cycle);
        let mined = tip.height >= cycle.saturating_add(self.config.mining_window_end);
        if new_cycle && mined {
            return self.send_qrinfo(now, chain, engine, 1, 0, out);
        }
        let base = newest
            .and_then(|height| chain.hash_at(height))
            .unwrap_or(BlockHash::ZERO);
        let mut pipeline = DiffPipeline::new(self.config.mnlistdiff, 1);
        pipeline.queue(DiffTarget {
            base,
            block: target_hash,
            list_height: target_height,
        });
        out.extend(pipeline.send_ready(now).into_iter().map(Output::Send));
        self.work = MasternodeWork::TipUpdate { pipeline };
    }
}

/// Blocks between a height and the list whose quorums sign at that height.
const SIGNING_LIST_OFFSET: u32 = 8;

/// The pause between two verification slices: the runtime handles what arrived meanwhile
/// first, and a deadline after the tick keeps it from spinning.
const SLICE_GAP: Millis = Millis(1);

/// Tells the ChainLock manager that lists were applied (held ChainLocks may verify now).
fn report_applied<E: SyncEngine>(engine: &E, out: &mut Vec<Output>) {
    if let Some(list_height) = engine.list_height_at_or_below(u32::MAX) {
        out.push(Output::Event(SyncEvent::ListsApplied { list_height }));
    }
}

/// Moves the quorums that needed a dropped list to the unfetched ones.
fn give_up_list(
    dropped: DroppedDiff,
    needs: &mut Vec<QuorumNeed>,
    unfetched: &mut Vec<QuorumNeed>,
) {
    let height = dropped.target.list_height;
    let (gone, kept): (Vec<QuorumNeed>, Vec<QuorumNeed>) =
        needs.drain(..).partition(|need| need.list_height == height);
    *needs = kept;
    unfetched.extend(gone);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{HashedHeader, HeaderLookup};
    use crate::sync::chain_view::ExtendableChain;
    use crate::sync::events::HeldRequests;
    use crate::sync::sim::{
        invalid_messages, sim_check, sim_config, SimBlocks, SimChain, SimEngine, SimMnListDiff,
        SimQrInfo, SimVerdict,
    };
    use crate::sync::time::Millis;

    /// A masternode manager over a chain that has headers up to 130.
    struct Rig {
        blocks: SimBlocks,
        chain: SimChain,
        engine: SimEngine,
        manager: MasternodeManager,
        now: Timestamp,
    }

    const TIP: u32 = 130;

    fn secs(s: u64) -> Millis {
        Millis::from_secs(s)
    }

    fn qrinfos(out: &[Output]) -> Vec<&Request> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send(request @ Request::GetQrInfo { .. }) => Some(request),
                _ => None,
            })
            .collect()
    }

    fn diffs(out: &[Output]) -> Vec<(BlockHash, BlockHash)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send(Request::GetMnListDiff {
                    base_block_hash,
                    block_hash,
                }) => Some((*base_block_hash, *block_hash)),
                _ => None,
            })
            .collect()
    }

    impl Rig {
        fn new() -> Self {
            let blocks = SimBlocks::new(TIP);
            let chain = SimChain::with_blocks(&blocks, TIP);
            let engine = SimEngine::new(sim_config().dkg_interval);
            Rig {
                blocks,
                chain,
                manager: MasternodeManager::new(sim_config(), &engine),
                engine,
                now: Timestamp(1_000),
            }
        }

        fn tip_hash(&self) -> BlockHash {
            self.chain.tip().hash
        }

        fn peers(&mut self, connected_count: usize) -> Vec<Output> {
            let mut out = Vec::new();
            let event = NetworkEvent::PeersUpdated {
                connected_count,
                best_height: Some(TIP),
            };
            self.manager
                .handle_network(self.now, &event, &self.chain, &self.engine, &mut out);
            out
        }

        fn network(&mut self, event: NetworkEvent) -> Vec<Output> {
            let mut out = Vec::new();
            self.manager
                .handle_network(self.now, &event, &self.chain, &self.engine, &mut out);
            out
        }

        fn headers_synced(&mut self) -> Vec<Output> {
            let out = self.sync_event(SyncEvent::HeaderSyncComplete {
                tip: self.chain.tip(),
            });
            self.settle(out)
        }

        /// What the manager does on `event` from another manager.
        fn sync_event(&mut self, event: SyncEvent) -> Vec<Output> {
            let mut out = Vec::new();
            self.manager.handle_sync_event(
                self.now,
                &event,
                &self.chain,
                &mut self.engine,
                &mut out,
            );
            out
        }

        /// Ticks at `now`, then runs the verification slices that tick queued.
        fn at(&mut self, now: Timestamp) -> Vec<Output> {
            let out = self.tick_at(now);
            self.settle(out)
        }

        fn tick_at(&mut self, now: Timestamp) -> Vec<Output> {
            self.now = now;
            let mut out = Vec::new();
            self.manager
                .tick(now, &self.chain, &mut self.engine, &mut out);
            out
        }

        fn after(&mut self, span: Millis) -> Vec<Output> {
            let now = self.now + span;
            self.at(now)
        }

        /// Runs the verification slices at their deadlines, as the runtime does, until
        /// none is queued; returns `out` followed by what they produced.
        fn settle(&mut self, mut out: Vec<Output>) -> Vec<Output> {
            while let MasternodeWork::Verifying { due, .. } = self.manager.work() {
                let due = *due;
                out.extend(self.tick_at(due));
            }
            out
        }

        fn qrinfo(&mut self, tip: BlockHash, verdict: SimVerdict) -> Vec<Output> {
            let mut out = Vec::new();
            let qrinfo = SimQrInfo {
                tip,
                base_block_hashes: Vec::new(),
                verdict,
            };
            self.manager
                .handle_qrinfo(self.now, qrinfo, &self.chain, &mut self.engine, &mut out);
            self.settle(out)
        }

        fn diff(&mut self, base: BlockHash, block: BlockHash, verdict: SimVerdict) -> Vec<Output> {
            let mut out = Vec::new();
            let diff = SimMnListDiff {
                base,
                block,
                verdict,
            };
            self.manager
                .handle_mnlistdiff(self.now, diff, &self.chain, &mut self.engine, &mut out);
            self.settle(out)
        }

        /// Connected, headers synced, one QRInfo in flight.
        fn syncing() -> (Rig, Vec<Output>) {
            let mut rig = Rig::new();
            assert!(rig.peers(2).iter().all(|o| !matches!(o, Output::Send(_))));
            let out = rig.headers_synced();
            assert_eq!(*rig.manager.state(), SyncState::Syncing);
            (rig, out)
        }

        /// Every QRInfo attempt timed out: `Error`, peers still connected.
        fn in_error() -> Rig {
            let (mut rig, _) = Rig::syncing();
            let start = rig.now;
            assert_eq!(qrinfos(&rig.at(start + secs(10))).len(), 1);
            assert_eq!(qrinfos(&rig.at(start + secs(40))).len(), 1);
            assert!(qrinfos(&rig.at(start + secs(100))).is_empty());
            assert_eq!(
                *rig.manager.state(),
                SyncState::Error(SyncFailure::QrInfoUnanswered { attempts: 3 })
            );
            rig
        }

        /// QRInfo and every list it needs applied.
        fn synced() -> Rig {
            let (mut rig, _) = Rig::syncing();
            let tip = rig.tip_hash();
            let requested = diffs(&rig.qrinfo(tip, SimVerdict::Valid));
            assert_eq!(requested.len(), 3);
            for (base, block) in requested {
                rig.diff(base, block, SimVerdict::Valid);
            }
            assert_eq!(*rig.manager.state(), SyncState::Synced);
            rig
        }

        fn assert_awaiting_fresh_qrinfo(&self, sent_at: Timestamp) {
            match self.manager.work() {
                MasternodeWork::QrInfo(QrInfoState::Awaiting {
                    request,
                    attempt,
                    round,
                }) => {
                    assert_eq!(request.tip, self.chain.tip());
                    assert_eq!(attempt.sent_at, sent_at);
                    assert_eq!(attempt.deadline, sent_at + secs(10));
                    assert_eq!(attempt.number, 1);
                    assert_eq!(*round, 0);
                }
                other => panic!("expected a fresh QRInfo in flight, got {other:?}"),
            }
        }
    }

    #[test]
    fn recovery_from_error_on_reconnect_sends_exactly_one_qrinfo_for_the_tip() {
        let mut rig = Rig::in_error();
        rig.now = rig.now + secs(1);
        let mut out = rig.network(NetworkEvent::PeerDisconnected {
            held: HeldRequests::ALL,
        });
        out.extend(rig.peers(1));
        out.extend(rig.network(NetworkEvent::PeerConnected));
        out.extend(rig.peers(2));
        let sent = qrinfos(&out);
        assert_eq!(
            sent,
            vec![&Request::GetQrInfo {
                base_block_hashes: Vec::new(),
                block_request_hash: rig.tip_hash(),
                extra_share: true,
            }]
        );
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        assert!(rig.manager.waiting_for_qrinfo());
        let now = rig.now;
        rig.assert_awaiting_fresh_qrinfo(now);
    }

    #[test]
    fn recovery_resets_the_retry_count() {
        let mut rig = Rig::in_error();
        rig.now = rig.now + secs(1);
        rig.peers(2);
        let now = rig.now;
        rig.assert_awaiting_fresh_qrinfo(now);
        // A fresh attempt run: three more attempts before the next Error.
        assert_eq!(qrinfos(&rig.after(secs(10))).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        assert_eq!(qrinfos(&rig.after(secs(30))).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        assert!(qrinfos(&rig.after(secs(60))).is_empty());
        assert!(rig.manager.state().is_error());
    }

    #[test]
    fn no_recovery_with_zero_peers() {
        let mut rig = Rig::in_error();
        let out = rig.peers(0);
        assert!(qrinfos(&out).is_empty());
        assert_eq!(*rig.manager.state(), SyncState::WaitingForConnections);
        assert_eq!(*rig.manager.work(), MasternodeWork::Idle);
        assert_eq!(rig.manager.next_deadline(), None);
        // Nothing fires later either: no dead deadline, no request without peers.
        assert!(rig.after(secs(600)).is_empty());
    }

    #[test]
    fn waiting_for_connections_still_starts_sync() {
        let mut rig = Rig::new();
        assert_eq!(*rig.manager.state(), SyncState::WaitingForConnections);
        let out = rig.peers(1);
        assert!(qrinfos(&out).is_empty());
        assert_eq!(*rig.manager.state(), SyncState::WaitForEvents);
        let out = rig.headers_synced();
        assert_eq!(qrinfos(&out).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        let now = rig.now;
        rig.assert_awaiting_fresh_qrinfo(now);
    }

    #[test]
    fn synced_is_not_disturbed_by_peer_updates() {
        let mut rig = Rig::synced();
        for count in [3, 1, 5] {
            let out = rig.peers(count);
            assert!(out.is_empty(), "{out:?}");
            assert_eq!(*rig.manager.state(), SyncState::Synced);
            assert_eq!(*rig.manager.work(), MasternodeWork::Idle);
        }
    }

    #[test]
    fn full_disconnect_reconnect_cycle() {
        let (mut rig, _) = Rig::syncing();
        let out = rig.peers(0);
        assert!(out.iter().all(|o| !matches!(o, Output::Send(_))));
        assert_eq!(*rig.manager.state(), SyncState::WaitingForConnections);
        assert_eq!(*rig.manager.work(), MasternodeWork::Idle);
        assert!(rig.after(secs(120)).is_empty());
        let out = rig.peers(1);
        assert!(qrinfos(&out).is_empty());
        assert_eq!(*rig.manager.state(), SyncState::WaitForEvents);
        let out = rig.headers_synced();
        assert_eq!(qrinfos(&out).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        let tip = rig.tip_hash();
        for (base, block) in diffs(&rig.qrinfo(tip, SimVerdict::Valid)) {
            rig.diff(base, block, SimVerdict::Valid);
        }
        assert_eq!(*rig.manager.state(), SyncState::Synced);
    }

    #[test]
    fn error_retries_on_its_own_with_backoff_while_connected() {
        let mut rig = Rig::in_error();
        let failed_at = rig.now;
        assert_eq!(rig.manager.next_deadline(), Some(failed_at + secs(5)));
        assert!(rig.at(failed_at + secs(5) - Millis(1)).is_empty());
        let out = rig.at(failed_at + secs(5));
        assert_eq!(qrinfos(&out).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        // The second run fails too: the backoff doubles.
        let restarted = rig.now;
        rig.at(restarted + secs(10));
        rig.at(restarted + secs(40));
        rig.at(restarted + secs(100));
        assert!(rig.manager.state().is_error());
        assert_eq!(rig.manager.next_deadline(), Some(rig.now + secs(10)));
    }

    #[test]
    fn recovery_without_prior_disconnect() {
        // Error while a peer stays connected all along; another peer joining recovers.
        let mut rig = Rig::in_error();
        rig.now = rig.now + secs(2);
        let out = rig.peers(3);
        assert_eq!(qrinfos(&out).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        let tip = rig.tip_hash();
        for (base, block) in diffs(&rig.qrinfo(tip, SimVerdict::Valid)) {
            rig.diff(base, block, SimVerdict::Valid);
        }
        assert_eq!(*rig.manager.state(), SyncState::Synced);
    }

    #[test]
    fn regression_chainlock_retry_deadline_does_not_survive_recovery() {
        let (mut rig, _) = Rig::syncing();
        let start = rig.now;
        rig.at(start + secs(10));
        rig.at(start + secs(40));
        // The last attempt is answered, but a required rotated ChainLock signature is
        // missing: Error, with the retry scheduled for later.
        rig.now = start + secs(41);
        let tip = rig.tip_hash();
        rig.qrinfo(tip, SimVerdict::NotYetAvailable);
        assert_eq!(
            *rig.manager.state(),
            SyncState::Error(SyncFailure::QrInfoRejected {
                reason: "required rotated ChainLock signature not present".into()
            })
        );
        let stale_deadline = rig.now + secs(5);
        assert_eq!(rig.manager.next_deadline(), Some(stale_deadline));

        // A peer reconnects one second later.
        rig.now = rig.now + secs(1);
        let reconnected_at = rig.now;
        let out = rig.peers(2);
        assert_eq!(qrinfos(&out).len(), 1);
        rig.assert_awaiting_fresh_qrinfo(reconnected_at);
        assert_eq!(rig.manager.next_deadline(), Some(reconnected_at + secs(10)));

        // The stale deadline passes: no duplicate QRInfo.
        assert!(rig.at(stale_deadline).is_empty());
        assert!(rig.at(reconnected_at + secs(10) - Millis(1)).is_empty());
        // The QRInfo timeout fires on time.
        let out = rig.at(reconnected_at + secs(10));
        assert_eq!(qrinfos(&out).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
    }

    #[test]
    fn regression_chainlock_retry_deadline_does_not_survive_a_full_disconnect() {
        let (mut rig, _) = Rig::syncing();
        rig.now = rig.now + secs(1);
        let tip = rig.tip_hash();
        let out = rig.qrinfo(tip, SimVerdict::NotYetAvailable);
        assert!(qrinfos(&out).is_empty());
        let retry_at = rig.now + secs(5);
        assert_eq!(
            *rig.manager.work(),
            MasternodeWork::QrInfo(QrInfoState::RetryAt {
                at: retry_at,
                attempt: 2,
                round: 0
            })
        );
        rig.peers(0);
        rig.peers(1);
        assert_eq!(rig.manager.next_deadline(), None);
        assert!(rig.at(retry_at).is_empty());
        let out = rig.headers_synced();
        assert_eq!(qrinfos(&out).len(), 1);
        let now = rig.now;
        rig.assert_awaiting_fresh_qrinfo(now);
        assert_eq!(qrinfos(&rig.at(now + secs(10))).len(), 1);
    }

    #[test]
    fn a_not_yet_checkable_qrinfo_is_asked_again_after_the_delay() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        rig.qrinfo(tip, SimVerdict::NotYetAvailable);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        assert!(rig.after(secs(5) - Millis(1)).is_empty());
        assert_eq!(qrinfos(&rig.after(Millis(1))).len(), 1);
        assert!(rig.manager.waiting_for_qrinfo());
    }

    #[test]
    fn a_rejected_qrinfo_is_retried_with_a_fresh_request() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        let out = rig.qrinfo(tip, SimVerdict::Invalid);
        assert_eq!(qrinfos(&out).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        assert!(rig.manager.waiting_for_qrinfo());
        assert_eq!(
            rig.manager.progress().last_error,
            Some(SyncFailure::QrInfoRejected {
                reason: "signature does not verify".into()
            })
        );
        let requested = diffs(&rig.qrinfo(tip, SimVerdict::Valid));
        for (base, block) in requested {
            rig.diff(base, block, SimVerdict::Valid);
        }
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        assert_eq!(rig.manager.progress().qrinfos_requested, 2);
    }

    #[test]
    fn an_invalid_qrinfo_is_reported_before_it_is_asked_again() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        let out = rig.qrinfo(tip, SimVerdict::Invalid);
        assert_eq!(
            out.first(),
            Some(&Output::InvalidMessage(InvalidMessage {
                kind: MessageKind::QrInfo,
                reason: "signature does not verify".into(),
            }))
        );
        assert_eq!(invalid_messages(&out).len(), 1);
        assert_eq!(qrinfos(&out).len(), 1);
        // The last attempt's answer is reported too, as the manager gives up.
        let out = rig.qrinfo(tip, SimVerdict::Invalid);
        assert_eq!(invalid_messages(&out).len(), 1);
        let out = rig.qrinfo(tip, SimVerdict::Invalid);
        assert_eq!(invalid_messages(&out).len(), 1);
        assert!(rig.manager.state().is_error());
    }

    #[test]
    fn not_yet_checkable_unsolicited_and_late_qrinfos_are_not_reported() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        assert!(invalid_messages(&rig.qrinfo(tip, SimVerdict::NotYetAvailable)).is_empty());
        // Nothing on the wire now (a retry is scheduled): an invalid answer is unsolicited.
        assert!(rig.qrinfo(tip, SimVerdict::Invalid).is_empty());
        let other = rig.blocks.hash_at(100).expect("block 100");
        rig.after(secs(5));
        assert!(rig.manager.waiting_for_qrinfo());
        assert!(rig.qrinfo(other, SimVerdict::Invalid).is_empty());
        assert_eq!(rig.manager.progress().responses_dropped, 2);
    }

    #[test]
    fn an_invalid_mnlistdiff_is_reported_an_unsolicited_one_is_not() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        let requested = diffs(&rig.qrinfo(tip, SimVerdict::Valid));
        let (base, block) = requested[0];
        let out = rig.diff(base, block, SimVerdict::Invalid);
        assert_eq!(
            invalid_messages(&out),
            vec![&InvalidMessage {
                kind: MessageKind::MnListDiff,
                reason: "signature does not verify".into(),
            }]
        );
        let stray = rig.blocks.hash_at(77).expect("block 77");
        assert!(rig
            .diff(BlockHash::ZERO, stray, SimVerdict::Invalid)
            .is_empty());
    }

    #[test]
    fn qrinfo_timeouts_escalate_10_30_60() {
        let (mut rig, _) = Rig::syncing();
        let start = rig.now;
        assert!(rig.at(start + secs(10) - Millis(1)).is_empty());
        assert_eq!(qrinfos(&rig.at(start + secs(10))).len(), 1);
        assert!(rig.at(start + secs(40) - Millis(1)).is_empty());
        assert_eq!(qrinfos(&rig.at(start + secs(40))).len(), 1);
        assert!(rig.at(start + secs(100) - Millis(1)).is_empty());
        let out = rig.at(start + secs(100));
        assert!(qrinfos(&out).is_empty());
        let failure = SyncFailure::QrInfoUnanswered { attempts: 3 };
        assert!(out.contains(&Output::StateChanged {
            manager: ManagerKind::Masternodes,
            from: SyncState::Syncing,
            to: SyncState::Error(failure.clone()),
        }));
        assert_eq!(rig.manager.progress().last_error, Some(failure));
        assert_eq!(rig.manager.progress().qrinfos_requested, 3);
    }

    #[test]
    fn unsolicited_and_duplicate_qrinfos_are_dropped() {
        let mut rig = Rig::new();
        rig.peers(1);
        let tip = rig.tip_hash();
        assert!(rig.qrinfo(tip, SimVerdict::Valid).is_empty());
        assert_eq!(rig.engine.list_heights(), Vec::<u32>::new());
        assert_eq!(rig.manager.progress().responses_dropped, 1);

        rig.headers_synced();
        let other = rig.blocks.hash_at(100).expect("block 100");
        assert!(rig.qrinfo(other, SimVerdict::Valid).is_empty());
        assert_eq!(rig.manager.progress().responses_dropped, 2);
        assert!(rig.manager.waiting_for_qrinfo());

        assert_eq!(diffs(&rig.qrinfo(tip, SimVerdict::Valid)).len(), 3);
        let lists = rig.engine.list_heights();
        assert!(rig.qrinfo(tip, SimVerdict::Valid).is_empty());
        assert_eq!(rig.manager.progress().responses_dropped, 3);
        assert_eq!(rig.engine.list_heights(), lists);
    }

    #[test]
    fn unsolicited_and_duplicate_mnlistdiffs_are_dropped() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        let stray = rig.blocks.hash_at(77).expect("block 77");
        assert!(rig
            .diff(BlockHash::ZERO, stray, SimVerdict::Valid)
            .is_empty());
        assert_eq!(rig.manager.progress().responses_dropped, 1);
        let requested = diffs(&rig.qrinfo(tip, SimVerdict::Valid));
        let (base, block) = requested[0];
        rig.diff(base, block, SimVerdict::Valid);
        assert_eq!(rig.manager.progress().diffs_processed, 1);
        rig.diff(base, block, SimVerdict::Valid);
        rig.diff(BlockHash::ZERO, stray, SimVerdict::Valid);
        assert_eq!(rig.manager.progress().diffs_processed, 1);
        assert_eq!(rig.manager.progress().responses_dropped, 3);
        assert!(!rig.engine.list_heights().contains(&77));
    }

    #[test]
    fn an_unanswerable_mnlistdiff_is_dropped_and_sync_completes_with_unverified_quorums() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        let requested = diffs(&rig.qrinfo(tip, SimVerdict::Valid));
        assert_eq!(requested.len(), 3);
        let (lost_base, lost_block) = requested[0];
        for &(base, block) in &requested[1..] {
            rig.diff(base, block, SimVerdict::Valid);
        }
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        let start = rig.now;
        assert_eq!(
            diffs(&rig.at(start + secs(15))),
            vec![(lost_base, lost_block)]
        );
        assert_eq!(
            diffs(&rig.at(start + secs(45))),
            vec![(lost_base, lost_block)]
        );
        assert!(rig.at(start + secs(105) - Millis(1)).is_empty());
        rig.at(start + secs(105));
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        let lost_height = rig.chain.height_of(&lost_block).expect("on chain");
        assert_eq!(rig.manager.progress().unverified_quorums, 1);
        let unverifiable = rig.manager.unverifiable_quorums();
        assert_eq!(unverifiable.len(), 1);
        assert_eq!(unverifiable[0].list_height, lost_height);
        assert_eq!(
            rig.manager.progress().last_error,
            Some(SyncFailure::MnListDiffUnanswered {
                list_height: lost_height,
                attempts: 3
            })
        );
    }

    #[test]
    fn a_rejected_mnlistdiff_is_asked_again() {
        let (mut rig, _) = Rig::syncing();
        let tip = rig.tip_hash();
        let requested = diffs(&rig.qrinfo(tip, SimVerdict::Valid));
        let (base, block) = requested[0];
        let out = rig.diff(base, block, SimVerdict::Invalid);
        assert_eq!(diffs(&out), vec![(base, block)]);
        assert_eq!(rig.manager.progress().diffs_processed, 0);
    }

    #[test]
    fn the_pipeline_bounds_concurrency() {
        let config = SyncConfig {
            max_diffs_in_flight: 1,
            ..sim_config()
        };
        let mut rig = Rig::new();
        rig.manager = MasternodeManager::new(config, &rig.engine);
        rig.peers(1);
        rig.headers_synced();
        let tip = rig.tip_hash();
        let first = diffs(&rig.qrinfo(tip, SimVerdict::Valid));
        assert_eq!(first.len(), 1);
        let second = diffs(&rig.diff(first[0].0, first[0].1, SimVerdict::Valid));
        assert_eq!(second.len(), 1);
        let third = diffs(&rig.diff(second[0].0, second[0].1, SimVerdict::Valid));
        assert_eq!(third.len(), 1);
        assert!(diffs(&rig.diff(third[0].0, third[0].1, SimVerdict::Valid)).is_empty());
        assert_eq!(*rig.manager.state(), SyncState::Synced);
    }

    #[test]
    fn the_qrinfo_base_is_one_anchor_several_cycles_behind() {
        let mut rig = Rig::new();
        // Tip 130 is in the cycle starting at 120; the anchor must be at or before
        // 120 - 4 * 24 = 24.
        for height in [10, 20, 30, 100] {
            let hash = rig.blocks.hash_at(height).expect("on chain");
            rig.engine.store_list(height, hash);
        }
        rig.peers(1);
        let out = rig.headers_synced();
        let anchor = rig.blocks.hash_at(20).expect("on chain");
        assert_eq!(
            qrinfos(&out),
            vec![&Request::GetQrInfo {
                base_block_hashes: vec![anchor],
                block_request_hash: rig.tip_hash(),
                extra_share: true,
            }]
        );
    }

    #[test]
    fn without_an_old_enough_list_the_qrinfo_is_based_on_genesis() {
        let mut rig = Rig::new();
        let hash = rig.blocks.hash_at(100).expect("on chain");
        rig.engine.store_list(100, hash);
        rig.peers(1);
        let out = rig.headers_synced();
        let Some(Request::GetQrInfo {
            base_block_hashes, ..
        }) = qrinfos(&out).first()
        else {
            panic!("no QRInfo sent");
        };
        assert!(base_block_hashes.is_empty());
    }

    fn extend_chain(rig: &mut Rig, count: u32) -> Vec<Output> {
        let headers = rig.blocks.grow(count);
        let hashed: Vec<HashedHeader> = headers.into_iter().map(HashedHeader::new).collect();
        let connected = rig.chain.connect_headers(&hashed, 0).expect("connects");
        let mut out = Vec::new();
        let event = SyncEvent::HeadersStored { tip: connected.tip };
        rig.manager
            .handle_sync_event(rig.now, &event, &rig.chain, &mut rig.engine, &mut out);
        rig.settle(out)
    }

    #[test]
    fn new_blocks_are_followed_incrementally_once_synced() {
        let mut rig = Rig::synced();
        // One block is not enough: the list followed is the signing list, 8 below the tip.
        assert!(diffs(&extend_chain(&mut rig, 1)).is_empty());
        // 139 is early in the cycle starting at 120 (already covered by the QRInfo); its
        // signing list is at 131.
        let out = extend_chain(&mut rig, 8);
        let list_hash = rig.blocks.hash_at(TIP).expect("on chain");
        let signing = rig.blocks.hash_at(TIP + 1).expect("on chain");
        assert_eq!(diffs(&out), vec![(list_hash, signing)]);
        let out = rig.diff(list_hash, signing, SimVerdict::Valid);
        assert!(
            out.contains(&Output::Event(SyncEvent::MasternodeListsSynced {
                list_height: TIP + 1
            }))
        );
        assert_eq!(rig.manager.progress().current_height, TIP + 1);
        assert_eq!(*rig.manager.state(), SyncState::Synced);
    }

    #[test]
    fn a_new_cycle_is_fetched_with_a_qrinfo_while_staying_synced() {
        let mut rig = Rig::synced();
        // Past 144 + mining window end 10.
        let out = extend_chain(&mut rig, 25);
        assert_eq!(qrinfos(&out).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        // It keeps failing: the lists stay usable, the manager stays Synced.
        let start = rig.now;
        rig.at(start + secs(10));
        rig.at(start + secs(40));
        rig.at(start + secs(100));
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        assert_eq!(*rig.manager.work(), MasternodeWork::Idle);
    }

    #[test]
    fn a_lost_peer_makes_the_qrinfo_retry_on_the_next_tick() {
        let (mut rig, _) = Rig::syncing();
        rig.now = rig.now + secs(1);
        rig.network(NetworkEvent::PeerDisconnected {
            held: HeldRequests::ALL,
        });
        rig.peers(1);
        let out = rig.after(Millis(0));
        assert_eq!(qrinfos(&out).len(), 1);
    }

    /// A manager made after a reload over the engine a synced session left (its lists
    /// restored from storage), connected, headers synced.
    fn restored() -> (Rig, Vec<Output>) {
        let synced = Rig::synced();
        let mut rig = Rig::new();
        rig.engine = synced.engine;
        rig.manager = MasternodeManager::new(sim_config(), &rig.engine);
        assert_eq!(rig.manager.progress().current_height, TIP);
        assert_eq!(*rig.manager.state(), SyncState::WaitingForConnections);
        rig.peers(1);
        let out = rig.headers_synced();
        (rig, out)
    }

    #[test]
    fn restored_lists_are_synced_at_once_without_a_qrinfo() {
        let (rig, out) = restored();
        assert!(qrinfos(&out).is_empty(), "{out:?}");
        assert!(diffs(&out).is_empty());
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        assert_eq!(*rig.manager.work(), MasternodeWork::Idle);
        assert!(
            out.contains(&Output::Event(SyncEvent::MasternodeListsSynced {
                list_height: TIP
            }))
        );
        assert_eq!(rig.manager.progress().qrinfos_requested, 0);
    }

    #[test]
    fn restored_lists_are_brought_to_the_tip_from_the_newest_one() {
        let (mut rig, _) = restored();
        let out = extend_chain(&mut rig, 9);
        let newest = rig.blocks.hash_at(TIP).expect("on chain");
        let signing = rig.blocks.hash_at(TIP + 1).expect("on chain");
        assert_eq!(diffs(&out), vec![(newest, signing)]);
        assert!(qrinfos(&out).is_empty());
    }

    #[test]
    fn after_a_restore_a_new_cycle_is_asked_from_a_restored_anchor() {
        let (mut rig, _) = restored();
        // Past the cycle at 144 and its mining window: a QRInfo, based on the restored
        // list at 48 (at least four cycles of 24 before 144), not on genesis.
        let out = extend_chain(&mut rig, 25);
        let anchor = rig.blocks.hash_at(48).expect("on chain");
        assert_eq!(
            qrinfos(&out),
            vec![&Request::GetQrInfo {
                base_block_hashes: vec![anchor],
                block_request_hash: rig.tip_hash(),
                extra_share: true,
            }]
        );
        assert_eq!(*rig.manager.state(), SyncState::Synced);
    }

    /// The check batches in `out`.
    fn check_batches(out: &[Output]) -> Vec<(u64, Vec<Vec<u8>>)> {
        out.iter()
            .filter_map(|o| match o {
                Output::CheckQuorums { batch, shares } => Some((*batch, shares.clone())),
                _ => None,
            })
            .collect()
    }

    impl Rig {
        /// A rig whose manager sends its quorum checks to two workers.
        fn with_workers() -> Rig {
            let mut rig = Rig::new();
            let config = SyncConfig {
                check_workers: 2,
                ..sim_config()
            };
            rig.manager = MasternodeManager::new(config, &rig.engine);
            rig
        }

        fn checks_done(&mut self, batch: u64, answers: &[Vec<u8>]) -> Vec<Output> {
            let mut out = Vec::new();
            self.manager.handle_quorum_checks(
                self.now,
                batch,
                answers,
                &self.chain,
                &mut self.engine,
                &mut out,
            );
            self.settle(out)
        }

        /// The batch awaited, if any.
        fn awaited(&self) -> Option<u64> {
            match self.manager.work() {
                MasternodeWork::AwaitingChecks { batch, .. } => Some(batch.id),
                _ => None,
            }
        }
    }

    #[test]
    fn stale_check_answers_are_ignored_and_a_reset_forgets_the_batch() {
        let (mut rig, _) = {
            let mut rig = Rig::with_workers();
            rig.peers(1);
            let out = rig.headers_synced();
            (rig, out)
        };
        let tip = rig.tip_hash();
        let out = rig.qrinfo(tip, SimVerdict::Valid);
        let [(first, shares)] = &check_batches(&out)[..] else {
            panic!("one batch sent: {out:?}");
        };
        assert!(!shares.is_empty() && shares.len() <= 2);
        assert_eq!(rig.awaited(), Some(*first));
        let answers: Vec<Vec<u8>> = shares.iter().map(|s| sim_check(s)).collect();
        // An answer naming another batch changes nothing.
        assert!(rig.checks_done(first + 1, &answers).is_empty());
        assert_eq!(rig.awaited(), Some(*first));

        // Every peer lost: the batch is forgotten, and its answer arriving late is ignored.
        rig.peers(0);
        assert_eq!(*rig.manager.work(), MasternodeWork::Idle);
        assert_eq!(rig.manager.next_deadline(), None);
        assert!(rig.checks_done(*first, &answers).is_empty());
        assert_eq!(*rig.manager.work(), MasternodeWork::Idle);
        assert_eq!(rig.manager.progress().quorums_checked_in_workers, 0);

        // Back: the lists held are synced again from their pending quorums, in a new batch
        // with a new id, answered this time.
        rig.peers(1);
        let out = rig.headers_synced();
        let [(second, shares)] = &check_batches(&out)[..] else {
            panic!("one batch sent: {out:?}");
        };
        assert_ne!(second, first);
        let answers: Vec<Vec<u8>> = shares.iter().map(|s| sim_check(s)).collect();
        rig.checks_done(*second, &answers);
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        assert_eq!(rig.awaited(), None);
        let sent: usize = answers.iter().map(Vec::len).sum();
        assert!(sent > 0);
        assert_eq!(
            rig.manager.progress().quorums_checked_in_workers as usize,
            sent
        );
        // The same answer again is stale.
        assert!(rig.checks_done(*second, &answers).is_empty());
    }

    #[test]
    fn unanswered_or_unfitting_checks_are_run_here_and_the_sync_completes() {
        let mut rig = Rig::with_workers();
        rig.peers(1);
        rig.headers_synced();
        let tip = rig.tip_hash();
        let out = rig.qrinfo(tip, SimVerdict::Valid);
        let [(batch, _)] = &check_batches(&out)[..] else {
            panic!("one batch sent: {out:?}");
        };
        // No answer: nothing happens before the deadline, then the checks run here.
        let sent = rig.now;
        let deadline = sent + sim_config().check_timeout;
        assert_eq!(rig.manager.next_deadline(), Some(deadline));
        assert!(rig.at(deadline - Millis(1)).is_empty());
        assert_eq!(rig.awaited(), Some(*batch));
        let requested = diffs(&rig.at(deadline));
        assert_eq!(requested.len(), 3);
        assert_eq!(rig.manager.progress().quorums_checked_in_workers, 0);
        // Each list's quorums go out as a batch; garbage answers are checked here.
        for (base, block) in requested {
            let out = rig.diff(base, block, SimVerdict::Valid);
            for (batch, shares) in check_batches(&out) {
                let garbage = vec![vec![7u8; 5]; shares.len()];
                rig.checks_done(batch, &garbage);
            }
        }
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        assert_eq!(rig.manager.progress().quorums_checked_in_workers, 0);
        assert_eq!(rig.manager.progress().unverified_quorums, 0);
    }

    impl Rig {
        fn wanted(&mut self, quorum: QuorumId) -> Vec<Output> {
            self.sync_event(SyncEvent::QuorumWanted { quorum })
        }

        /// The quorums still queued for verification.
        fn queued(&self) -> Vec<QuorumId> {
            match self.manager.work() {
                MasternodeWork::Verifying { queue, .. }
                | MasternodeWork::AwaitingChecks { queue, .. } => queue.iter().copied().collect(),
                _ => Vec::new(),
            }
        }
    }

    /// Whether `out` says `quorum` was checked.
    fn checked(out: &[Output], quorum: QuorumId) -> bool {
        out.contains(&Output::Event(SyncEvent::QuorumChecked { quorum }))
    }

    #[test]
    fn a_wanted_quorum_is_checked_first_split_over_the_workers_or_here_at_once() {
        let mut rig = Rig::with_workers();
        rig.engine.set_split_checks(true);
        rig.peers(1);
        rig.headers_synced();
        let qrinfo = SimQrInfo {
            tip: rig.tip_hash(),
            base_block_hashes: Vec::new(),
            verdict: SimVerdict::Valid,
        };
        let mut out = Vec::new();
        rig.manager
            .handle_qrinfo(rig.now, qrinfo, &rig.chain, &mut rig.engine, &mut out);
        assert!(matches!(
            rig.manager.work(),
            MasternodeWork::Verifying { .. }
        ));
        // Quorums whose list is stored (split) and ChainLock quorums whose list is not.
        let (listed, unlisted): (Vec<QuorumId>, Vec<QuorumId>) =
            rig.queued().into_iter().partition(|q| q.llmq_type == 2);
        assert!(listed.len() >= 2 && !unlisted.is_empty());

        // Wanted while verifying: split over the two workers before the rest, and checked
        // once they answer.
        let out = rig.wanted(listed[0]);
        let [(batch, shares)] = &check_batches(&out)[..] else {
            panic!("one batch: {out:?}");
        };
        assert_eq!(shares.len(), 2);
        assert!(!checked(&out, listed[0]));
        assert!(!rig.queued().contains(&listed[0]));
        let answers: Vec<Vec<u8>> = shares.iter().map(|s| sim_check(s)).collect();
        let out = rig.checks_done(*batch, &answers);
        assert!(checked(&out, listed[0]), "{out:?}");
        assert!(rig.engine.is_verified(&listed[0]));
        assert_eq!(rig.manager.progress().quorums_checked_in_workers, 1);

        // One the workers cannot help with (its list is missing): checked here at once.
        let mut rig2 = Rig::with_workers();
        rig2.engine.set_split_checks(true);
        rig2.peers(1);
        rig2.headers_synced();
        let mut out = Vec::new();
        let qrinfo = SimQrInfo {
            tip: rig2.tip_hash(),
            base_block_hashes: Vec::new(),
            verdict: SimVerdict::Valid,
        };
        rig2.manager
            .handle_qrinfo(rig2.now, qrinfo, &rig2.chain, &mut rig2.engine, &mut out);
        let out = rig2.wanted(unlisted[0]);
        assert!(checked(&out, unlisted[0]) && check_batches(&out).is_empty());

        // Workers that never answer: at the deadline the quorum is checked here.
        let out = rig2.wanted(listed[1]);
        assert_eq!(check_batches(&out).len(), 1);
        let deadline = rig2.now + sim_config().check_timeout;
        assert!(!checked(&rig2.at(deadline - Millis(1)), listed[1]));
        assert!(checked(&rig2.at(deadline), listed[1]));
        assert!(rig2.engine.is_verified(&listed[1]));
        assert_eq!(rig2.manager.progress().quorums_checked_in_workers, 0);

        // A manager not verifying (here: no peer yet, no list) answers at once, even when
        // the quorum cannot be checked: a ChainLock never waits on it.
        let mut idle = Rig::with_workers();
        let out = idle.wanted(listed[0]);
        assert!(checked(&out, listed[0]) && check_batches(&out).is_empty());
        assert_eq!(*idle.manager.work(), MasternodeWork::Idle);
    }

    #[test]
    fn lists_without_a_qrinfo_still_start_with_one() {
        let mut rig = Rig::new();
        let hash = rig.blocks.hash_at(100).expect("on chain");
        rig.engine.store_list(100, hash);
        rig.manager = MasternodeManager::new(sim_config(), &rig.engine);
        rig.peers(1);
        assert_eq!(qrinfos(&rig.headers_synced()).len(), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
    }
}
