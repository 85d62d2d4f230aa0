//! The masternode list manager: QRInfo for the tip once headers are synced, then the lists
//! its quorums still need through the `getmnlistd` pipeline, then new blocks incrementally.
//!
//! Everything in flight lives in one [`MasternodeWork`] value, so
//! [`MasternodeManager::clear_in_flight_state`] resets it all by construction: no request,
//! attempt count, wait start or retry deadline (the ChainLock-signature retry included) can
//! survive a reset.

use super::chain_view::{ChainTip, ChainView};
use super::config::SyncConfig;
use super::engine::{EngineError, MasternodeEngine, QuorumNeed, Rejection};
use super::events::{NetworkEvent, SyncEvent};
use super::pipeline::{DiffPipeline, DiffTarget, DroppedDiff};
use super::progress::Progress;
use super::requests::{ManagerKind, Output, Request};
use super::state::{SyncFailure, SyncState};
use super::time::Timestamp;
use crate::hash::BlockHash;

/// A `getqrinfo` as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrInfoRequest {
    /// The tip it asks for.
    pub tip: ChainTip,
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
        /// When it was sent.
        sent_at: Timestamp,
        /// When it times out.
        deadline: Timestamp,
        /// Which attempt it is (1-based).
        attempt: u8,
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

/// Everything the masternode manager has in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasternodeWork {
    /// Nothing.
    Idle,
    /// Getting a QRInfo.
    QrInfo(QrInfoState),
    /// Fetching the lists the QRInfo's quorums need.
    QuorumLists {
        /// The `getmnlistd` requests.
        pipeline: DiffPipeline,
        /// Quorums whose list could not be fetched.
        unverifiable: Vec<QuorumNeed>,
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
    progress: Progress,
    work: MasternodeWork,
    unverifiable: Vec<QuorumNeed>,
    last_qrinfo_cycle: Option<u32>,
}

impl MasternodeManager {
    /// A manager waiting for peers; `list_height` is the newest list the engine holds.
    pub fn new(config: SyncConfig, list_height: Option<u32>) -> Self {
        MasternodeManager {
            config,
            progress: Progress {
                state: SyncState::WaitingForConnections,
                current_height: list_height.unwrap_or(0),
                ..Progress::default()
            },
            work: MasternodeWork::Idle,
            unverifiable: Vec::new(),
            last_qrinfo_cycle: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> &SyncState {
        &self.progress.state
    }

    /// The progress.
    pub fn progress(&self) -> &Progress {
        &self.progress
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

    /// Quorums left unverified because a list they need could not be fetched.
    pub fn unverifiable_quorums(&self) -> &[QuorumNeed] {
        &self.unverifiable
    }

    /// The next time [`MasternodeManager::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        match &self.work {
            MasternodeWork::Idle => None,
            MasternodeWork::QrInfo(QrInfoState::Awaiting { deadline, .. }) => Some(*deadline),
            MasternodeWork::QrInfo(QrInfoState::RetryAt { at, .. }) => Some(*at),
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
        self.progress.set_state(ManagerKind::Masternodes, to, out);
    }

    fn count_dropped(&mut self) {
        self.progress.responses_dropped = self.progress.responses_dropped.saturating_add(1);
    }

    /// Reacts to a change in the peer set.
    pub fn handle_network<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        event: &NetworkEvent,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        match *event {
            NetworkEvent::PeerConnected => {}
            NetworkEvent::PeerDisconnected => self.expire_in_flight(now),
            NetworkEvent::PeersUpdated {
                connected_count: 0, ..
            } => {
                self.clear_in_flight_state();
                self.set_state(SyncState::WaitingForConnections, out);
            }
            NetworkEvent::PeersUpdated { best_height, .. } => {
                if let Some(height) = best_height {
                    self.progress.raise_target(height);
                }
                match self.progress.state {
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
    pub fn handle_sync_event<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        event: &SyncEvent,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        match *event {
            SyncEvent::HeaderSyncComplete { tip } => {
                self.progress.raise_target(tip.height);
                match self.progress.state {
                    SyncState::WaitForEvents | SyncState::Error(_) => {
                        self.restart(now, chain, engine, out)
                    }
                    SyncState::Synced => self.follow_tip(now, chain, engine, out),
                    SyncState::WaitingForConnections | SyncState::Syncing => {}
                }
            }
            SyncEvent::HeadersStored { tip } => {
                self.progress.raise_target(tip.height);
                if self.progress.state == SyncState::Synced {
                    self.follow_tip(now, chain, engine, out);
                }
            }
            SyncEvent::MasternodeListsSynced { .. } | SyncEvent::ChainLockVerified { .. } => {}
        }
    }

    /// Starts over: clears everything in flight and asks for a QRInfo for the tip at once.
    fn restart<C: ChainView, E: MasternodeEngine>(
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
    fn qrinfo_anchor<C: ChainView, E: MasternodeEngine>(
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

    fn send_qrinfo<C: ChainView, E: MasternodeEngine>(
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
            self.work = MasternodeWork::Idle;
            if self.progress.state != SyncState::Synced {
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
        self.progress.qrinfos_requested = self.progress.qrinfos_requested.saturating_add(1);
        self.progress.last_activity = Some(now);
        self.work = MasternodeWork::QrInfo(QrInfoState::Awaiting {
            request: QrInfoRequest {
                tip,
                base_block_hashes,
            },
            sent_at: now,
            deadline: now + self.config.qrinfo.timeout(attempt),
            attempt,
            round,
        });
        if self.progress.state != SyncState::Synced {
            self.set_state(SyncState::Syncing, out);
        }
    }

    /// Gives up the current attempt run. While initially syncing this is `Error`, with an
    /// automatic retry after a backoff; once synced, the lists stay usable and the next
    /// block tries again.
    fn fail(&mut self, now: Timestamp, failure: SyncFailure, round: u32, out: &mut Vec<Output>) {
        if self.progress.state == SyncState::Synced {
            self.progress.last_error = Some(failure);
            self.work = MasternodeWork::Idle;
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
            MasternodeWork::QrInfo(QrInfoState::Awaiting { deadline, .. }) => {
                *deadline = (*deadline).min(now);
            }
            MasternodeWork::QuorumLists { pipeline, .. }
            | MasternodeWork::TipUpdate { pipeline } => {
                pipeline.expire_in_flight(now);
            }
            MasternodeWork::Idle | MasternodeWork::QrInfo(QrInfoState::RetryAt { .. }) => {}
        }
    }

    /// Handles a `qrinfo` message: only the answer to the `getqrinfo` on the wire is applied;
    /// unsolicited, duplicate and stale ones are dropped.
    pub fn handle_qrinfo<C: ChainView, E: MasternodeEngine>(
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
            }) if request.tip.hash == answered_tip => (request.clone(), *attempt, *round),
            _ => return self.count_dropped(),
        };
        self.progress.last_activity = Some(now);
        match engine.apply_qrinfo(qrinfo, chain) {
            Ok(report) => {
                self.last_qrinfo_cycle = Some(self.cycle_start(request.tip.height));
                self.progress.current_height = self.progress.current_height.max(report.list_height);
                self.fetch_quorum_lists(now, report.needs, chain, engine, out);
            }
            Err(error) => {
                let failure = SyncFailure::QrInfoRejected {
                    reason: error.to_string(),
                };
                self.progress.last_error = Some(failure.clone());
                if attempt >= self.config.qrinfo.max_attempts() {
                    return self.fail(now, failure, round, out);
                }
                let next = attempt.saturating_add(1);
                match error.rejection() {
                    Rejection::Invalid => self.send_qrinfo(now, chain, engine, next, round, out),
                    Rejection::NotYetAvailable => {
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
    fn fetch_quorum_lists<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        needs: Vec<QuorumNeed>,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let mut pipeline =
            DiffPipeline::new(self.config.mnlistdiff, self.config.max_diffs_in_flight);
        let mut unverifiable = Vec::new();
        let mut waiting = Vec::new();
        for need in needs {
            let height = need.list_height;
            if engine.list_height_at_or_below(height) == Some(height) {
                continue;
            }
            let Some(block) = chain.hash_at(height) else {
                unverifiable.push(need);
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
            unverifiable,
            needs: waiting,
        };
        self.complete_if_drained(now, chain, engine, out);
    }

    /// Handles an `mnlistdiff` message: only answers to a `getmnlistd` on the wire are applied.
    pub fn handle_mnlistdiff<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        diff: E::MnListDiff,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let blocks = engine.mnlistdiff_blocks(&diff);
        let (pipeline, needs, unverifiable) = match &mut self.work {
            MasternodeWork::QuorumLists {
                pipeline,
                needs,
                unverifiable,
            } => (pipeline, Some(needs), Some(unverifiable)),
            MasternodeWork::TipUpdate { pipeline } => (pipeline, None, None),
            MasternodeWork::Idle | MasternodeWork::QrInfo(_) => return self.count_dropped(),
        };
        let Some(answered) = pipeline.take_answered(&blocks) else {
            return self.count_dropped();
        };
        self.progress.last_activity = Some(now);
        match engine.apply_mnlistdiff(diff, chain) {
            Ok(_) => {
                self.progress.diffs_processed = self.progress.diffs_processed.saturating_add(1);
            }
            Err(error) => {
                self.progress.last_error = Some(SyncFailure::MnListDiffRejected {
                    reason: error.to_string(),
                });
                match pipeline.retry(answered, now) {
                    Ok(request) => out.push(Output::Send(request)),
                    Err(dropped) => {
                        if let (Some(needs), Some(unverifiable)) = (needs, unverifiable) {
                            give_up_list(dropped, needs, unverifiable);
                        }
                    }
                }
            }
        }
        out.extend(pipeline.send_ready(now).into_iter().map(Output::Send));
        self.complete_if_drained(now, chain, engine, out);
    }

    /// Fires due deadlines: QRInfo timeouts and retries, pipeline timeouts.
    pub fn tick<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        match &mut self.work {
            MasternodeWork::Idle => {}
            MasternodeWork::QrInfo(QrInfoState::Awaiting {
                deadline,
                attempt,
                round,
                ..
            }) => {
                if *deadline > now {
                    return;
                }
                let (attempt, round) = (*attempt, *round);
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
                unverifiable,
            } => {
                let ticked = pipeline.tick(now);
                out.extend(ticked.requests.into_iter().map(Output::Send));
                for dropped in ticked.dropped {
                    self.progress.last_error = Some(SyncFailure::MnListDiffUnanswered {
                        list_height: dropped.target.list_height,
                        attempts: dropped.attempts,
                    });
                    give_up_list(dropped, needs, unverifiable);
                }
                self.complete_if_drained(now, chain, engine, out);
            }
            MasternodeWork::TipUpdate { pipeline } => {
                let ticked = pipeline.tick(now);
                out.extend(ticked.requests.into_iter().map(Output::Send));
                if let Some(dropped) = ticked.dropped.last() {
                    self.progress.last_error = Some(SyncFailure::MnListDiffUnanswered {
                        list_height: dropped.target.list_height,
                        attempts: dropped.attempts,
                    });
                }
                self.complete_if_drained(now, chain, engine, out);
            }
        }
    }

    fn complete_if_drained<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &mut E,
        out: &mut Vec<Output>,
    ) {
        let unverifiable = match &mut self.work {
            MasternodeWork::QuorumLists {
                pipeline,
                unverifiable,
                ..
            } if pipeline.is_empty() => core::mem::take(unverifiable),
            MasternodeWork::TipUpdate { pipeline } if pipeline.is_empty() => {
                self.clear_in_flight_state();
                let before = self.progress.current_height;
                let advanced = engine
                    .list_height_at_or_below(u32::MAX)
                    .is_some_and(|height| height > before);
                // A dropped update is retried with the next block, not in a loop.
                if advanced {
                    self.publish_lists(now, chain, engine, true, out);
                }
                return;
            }
            _ => return,
        };
        match engine.verify_quorums(chain) {
            Ok(check) => {
                self.clear_in_flight_state();
                let mut all = unverifiable;
                all.extend(check.unverifiable);
                all.sort();
                all.dedup();
                self.progress.unverified_quorums = u32::try_from(all.len()).unwrap_or(u32::MAX);
                self.unverifiable = all;
                self.set_state(SyncState::Synced, out);
                self.publish_lists(now, chain, engine, true, out);
            }
            Err(error) => {
                let failure = SyncFailure::QuorumVerificationFailed {
                    reason: error.to_string(),
                };
                self.fail(now, failure, 0, out);
            }
        }
    }

    /// Reports the newest list; `follow`: then keep following the header tip.
    fn publish_lists<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &E,
        follow: bool,
        out: &mut Vec<Output>,
    ) {
        if let Some(list_height) = engine.list_height_at_or_below(u32::MAX) {
            self.progress.current_height = list_height;
            out.push(Output::Event(SyncEvent::MasternodeListsSynced {
                list_height,
            }));
        }
        if follow {
            self.follow_tip(now, chain, engine, out);
        }
    }

    /// Once synced, keeps the newest list at the header tip: a QRInfo when a new DKG cycle's
    /// rotated quorums have been mined, otherwise one `getmnlistd` from the newest list.
    fn follow_tip<C: ChainView, E: MasternodeEngine>(
        &mut self,
        now: Timestamp,
        chain: &C,
        engine: &E,
        out: &mut Vec<Output>,
    ) {
        if self.work != MasternodeWork::Idle || self.progress.state != SyncState::Synced {
            return;
        }
        let tip = chain.tip();
        let newest = engine.list_height_at_or_below(u32::MAX);
        if newest.is_some_and(|height| height >= tip.height) {
            return;
        }
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
            block: tip.hash,
            list_height: tip.height,
        });
        out.extend(pipeline.send_ready(now).into_iter().map(Output::Send));
        self.work = MasternodeWork::TipUpdate { pipeline };
    }
}

/// Moves the quorums that needed a dropped list to the unverifiable ones.
fn give_up_list(
    dropped: DroppedDiff,
    needs: &mut Vec<QuorumNeed>,
    unverifiable: &mut Vec<QuorumNeed>,
) {
    let height = dropped.target.list_height;
    let (gone, kept): (Vec<QuorumNeed>, Vec<QuorumNeed>) =
        needs.drain(..).partition(|need| need.list_height == height);
    *needs = kept;
    unverifiable.extend(gone);
}
