//! The header manager: keeps the header chain caught up with the peers.
//!
//! Sends `getheaders` with the chain's locator until a peer returns a short batch, then
//! reports [`SyncEvent::HeaderSyncComplete`]. Announced headers are connected while synced;
//! whenever a `getheaders` is in flight (initial sync or catching up) the state is `Syncing`.

use super::chain_view::{ChainView, ExtendableChain, HeaderError, HeaderFault};
use super::config::SyncConfig;
use super::events::{NetworkEvent, SyncEvent};
use super::progress::Progress;
use super::requests::{Attempt, InvalidMessage, ManagerKind, MessageKind, Output, Request};
use super::state::{SyncFailure, SyncState};
use super::time::{Millis, Timestamp};
use crate::chain::validation::HashedHeader;
use crate::hash::BlockHash;

/// The longest the manager waits before asking again for headers that were too far ahead of
/// our wall clock: a header stamped years ahead is asked for again every so often (honest
/// peers may have more by then), not waited for.
pub const MAX_TOO_NEW_WAIT: Millis = Millis::from_secs(600);

/// The header manager's in-flight state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderRequest {
    /// Nothing in flight.
    Idle,
    /// A `getheaders` is on the wire.
    Awaiting {
        /// The attempt on the wire.
        attempt: Attempt,
        /// Automatic recoveries from `Error` so far (sets the next backoff).
        round: u32,
        /// Blocks announced meanwhile that the chain did not hold: the answer may predate
        /// them, so unless the chain then holds them all, ask once more before completing.
        missed_announcement: MissedAnnouncements,
    },
    /// The last batch was stamped too far ahead of our wall clock (our clock may be
    /// wrong, or the peer's): everything acceptable is connected; ask again at `until`.
    Deferred {
        /// When to ask again.
        until: Timestamp,
    },
    /// In `Error`: the next automatic retry.
    RetryAt {
        /// When to retry.
        at: Timestamp,
        /// Automatic recoveries from `Error` so far, this one included.
        round: u32,
    },
}

/// How many announced blocks a `getheaders` in flight remembers.
const MISSED_HELD: usize = 4;

/// Blocks announced while a `getheaders` was in flight, not on our chain then. The earliest
/// still missing are kept (a lagging peer announcing a lower block must not make the sync
/// end below a block another peer announced), and when every slot holds a missing block the
/// newest announcement takes the last one (a peer ahead announcing a burst of blocks must
/// not make it end below the burst's last).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MissedAnnouncements([Option<BlockHash>; MISSED_HELD]);

impl MissedAnnouncements {
    /// Remembers `block`.
    fn note(&mut self, block: BlockHash) {
        if self.0.contains(&Some(block)) {
            return;
        }
        let slot = self
            .0
            .iter()
            .position(Option::is_none)
            .unwrap_or(MISSED_HELD - 1);
        self.0[slot] = Some(block);
    }

    /// Frees the slots of blocks the chain now holds.
    fn forget_arrived<C: ChainView>(&mut self, chain: &C) {
        for slot in &mut self.0 {
            if slot.is_some_and(|block| chain.height_of(&block).is_some()) {
                *slot = None;
            }
        }
    }

    /// Whether a remembered block is still not on the chain.
    pub fn any_missing<C: ChainView>(&self, chain: &C) -> bool {
        self.0
            .iter()
            .flatten()
            .any(|block| chain.height_of(block).is_none())
    }
}

/// Keeps the header chain caught up.
#[derive(Clone, Debug)]
pub struct HeaderManager {
    config: SyncConfig,
    progress: Progress,
    request: HeaderRequest,
}

impl HeaderManager {
    /// A manager for a chain whose tip is at `tip_height`, waiting for peers.
    pub fn new(config: SyncConfig, tip_height: u32) -> Self {
        HeaderManager {
            config,
            progress: Progress {
                state: SyncState::WaitingForConnections,
                current_height: tip_height,
                target_height: tip_height,
                ..Progress::default()
            },
            request: HeaderRequest::Idle,
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
    pub fn request(&self) -> &HeaderRequest {
        &self.request
    }

    /// The next time [`HeaderManager::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        match self.request {
            HeaderRequest::Idle => None,
            HeaderRequest::Awaiting { attempt, .. } => Some(attempt.deadline),
            HeaderRequest::RetryAt { at, .. } => Some(at),
            HeaderRequest::Deferred { until } => Some(until),
        }
    }

    /// Forgets everything in flight: the request, its attempt count, its deadline and any
    /// scheduled retry. Every reset goes through here.
    pub fn clear_in_flight_state(&mut self) {
        self.request = HeaderRequest::Idle;
    }

    fn set_state(&mut self, to: SyncState, out: &mut Vec<Output>) {
        self.progress.set_state(ManagerKind::Headers, to, out);
    }

    /// Reacts to a change in the peer set.
    pub fn handle_network<C: ChainView>(
        &mut self,
        now: Timestamp,
        event: &NetworkEvent,
        chain: &C,
        out: &mut Vec<Output>,
    ) {
        match *event {
            NetworkEvent::PeerDisconnected { held } if held.headers => {
                if let HeaderRequest::Awaiting { attempt, .. } = &mut self.request {
                    attempt.expire(now);
                }
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
                    self.progress.raise_target(height);
                }
                match self.progress.state {
                    SyncState::WaitingForConnections | SyncState::Error(_) => {
                        self.clear_in_flight_state();
                        self.send_getheaders(now, chain, 1, 0, out);
                    }
                    SyncState::Synced | SyncState::WaitForEvents => {
                        let behind = chain.tip().height < self.progress.target_height;
                        if behind && self.request == HeaderRequest::Idle {
                            self.send_getheaders(now, chain, 1, 0, out);
                        }
                    }
                    SyncState::Syncing => {}
                }
            }
        }
    }

    /// Connects a `headers` message, answer or announcement, that arrived when the wall
    /// clock read `unix_secs`.
    pub fn handle_headers<C: ExtendableChain>(
        &mut self,
        now: Timestamp,
        unix_secs: u64,
        headers: &[HashedHeader],
        chain: &mut C,
        out: &mut Vec<Output>,
    ) {
        if self.progress.state == SyncState::WaitingForConnections {
            self.progress.responses_dropped = self.progress.responses_dropped.saturating_add(1);
            return;
        }
        let awaiting = match self.request {
            HeaderRequest::Awaiting { attempt, round, .. } => Some((attempt.number, round)),
            HeaderRequest::Idle
            | HeaderRequest::RetryAt { .. }
            | HeaderRequest::Deferred { .. } => None,
        };
        if headers.is_empty() {
            match awaiting {
                Some(_) => self.complete_or_ask_again(now, chain, out),
                None => {
                    self.progress.responses_dropped =
                        self.progress.responses_dropped.saturating_add(1);
                }
            }
            return;
        }
        // Judged before connecting: only a batch that builds on our chain can be proven
        // invalid; one that does not connect may just be beyond what we have.
        let connects = connects_to(chain, headers);
        match chain.connect_headers(headers, unix_secs) {
            Ok(connected) => {
                self.progress.last_activity = Some(now);
                self.progress.current_height = connected.tip.height;
                self.progress.raise_target(connected.tip.height);
                if connected.new_headers > 0 {
                    out.push(Output::Event(SyncEvent::HeadersStored {
                        tip: connected.tip,
                    }));
                }
                let full_batch = headers.len() >= self.config.max_headers_per_message;
                match awaiting {
                    // Only known headers: a stale or duplicate batch, not the answer.
                    _ if connected.new_headers == 0 => {
                        self.progress.responses_dropped =
                            self.progress.responses_dropped.saturating_add(1);
                    }
                    _ if full_batch => self.send_getheaders(now, chain, 1, 0, out),
                    // A short batch may be an announcement rather than the answer: while a
                    // peer announced more, ask again (an empty answer ends it).
                    Some(_) if connected.tip.height < self.progress.target_height => {
                        self.send_getheaders(now, chain, 1, 0, out)
                    }
                    Some(_) => self.complete_or_ask_again(now, chain, out),
                    None => {}
                }
            }
            Err(_) if awaiting.is_some() && !connects => {
                // Not an answer to our request: an announcement beyond our tip. The answer
                // is still to come; it may predate the announced blocks, so the sync asks
                // once more before it completes.
                self.progress.responses_dropped = self.progress.responses_dropped.saturating_add(1);
                self.note_missed_announcement(headers);
            }
            Err(error) => {
                let fault = error.fault();
                let reason = error.to_string();
                if let HeaderFault::TooNew { wait } = fault {
                    self.defer(now, wait, reason, &*chain, out);
                    return;
                }
                if connects && fault == HeaderFault::Invalid {
                    // Headers on our chain that break consensus rules: the peer is lying
                    // or on another chain.
                    out.push(Output::InvalidMessage(InvalidMessage {
                        kind: MessageKind::Headers,
                        reason: reason.clone(),
                    }));
                }
                let failure = SyncFailure::HeadersRejected { reason };
                self.progress.last_error = Some(failure.clone());
                match awaiting {
                    Some((attempt, round)) if attempt < self.config.headers.max_attempts() => {
                        self.send_getheaders(now, chain, attempt.saturating_add(1), round, out);
                    }
                    Some((_, round)) => self.fail(now, failure, round, out),
                    None => {
                        // An announcement that does not connect, with nothing in flight: we
                        // missed blocks, so ask for them. Until the answer comes, a short
                        // batch that connects (another announcement) does not end the sync.
                        self.send_getheaders(now, chain, 1, 0, out);
                        self.note_missed_announcement(headers);
                    }
                }
            }
        }
    }

    /// A batch answering the request in flight arrived and is being hashed elsewhere until
    /// `until` at the latest (by the runtime's workers): the peer has answered, so the
    /// request does not time out before the batch is handed in.
    pub fn answer_in_hand(&mut self, until: Timestamp) {
        if let HeaderRequest::Awaiting { attempt, .. } = &mut self.request {
            attempt.deadline = attempt.deadline.max(until);
        }
    }

    /// A peer announced blocks by hash. If one is unknown, ask for the headers up to it, with
    /// the request's timeout and retries (an announcement whose answer is lost must not
    /// leave the chain behind until the next block); while a request is in flight, make sure
    /// the sync does not end before the announced block is in. Following the tip this way
    /// does not leave `Synced`.
    pub fn handle_blocks_announced<C: ChainView>(
        &mut self,
        now: Timestamp,
        hashes: &[BlockHash],
        chain: &C,
        out: &mut Vec<Output>,
    ) {
        if self.progress.state == SyncState::WaitingForConnections {
            return;
        }
        let Some(&unknown) = hashes.iter().rev().find(|h| chain.height_of(h).is_none()) else {
            return;
        };
        match self.request {
            HeaderRequest::Idle | HeaderRequest::Deferred { .. } => {
                self.ask_for_headers(now, chain, 1, 0, out)
            }
            HeaderRequest::Awaiting { .. } => {}
            HeaderRequest::RetryAt { .. } => return,
        }
        if let HeaderRequest::Awaiting {
            missed_announcement,
            ..
        } = &mut self.request
        {
            missed_announcement.forget_arrived(chain);
            missed_announcement.note(unknown);
        }
    }

    /// Fires due deadlines: request timeouts and the automatic retry from `Error`.
    pub fn tick<C: ChainView>(&mut self, now: Timestamp, chain: &C, out: &mut Vec<Output>) {
        match self.request {
            HeaderRequest::Awaiting {
                attempt,
                round,
                missed_announcement,
            } if attempt.deadline <= now => {
                if attempt.number < self.config.headers.max_attempts() {
                    self.send_getheaders(now, chain, attempt.number.saturating_add(1), round, out);
                    // The retry is still for the announced block.
                    if let HeaderRequest::Awaiting {
                        missed_announcement: missed,
                        ..
                    } = &mut self.request
                    {
                        *missed = missed_announcement;
                    }
                } else {
                    self.fail(
                        now,
                        SyncFailure::HeadersUnanswered {
                            attempts: attempt.number,
                        },
                        round,
                        out,
                    );
                }
            }
            HeaderRequest::RetryAt { at, round } if at <= now => {
                self.send_getheaders(now, chain, 1, round, out);
            }
            HeaderRequest::Deferred { until } if until <= now => {
                self.send_getheaders(now, chain, 1, 0, out);
            }
            HeaderRequest::Idle
            | HeaderRequest::Awaiting { .. }
            | HeaderRequest::RetryAt { .. }
            | HeaderRequest::Deferred { .. } => {}
        }
    }

    /// Headers stamped too far ahead of our wall clock arrived. Nobody is blamed (our clock
    /// may be behind): what was acceptable is connected, and the manager asks again once the
    /// headers should be acceptable by our clock (at most [`MAX_TOO_NEW_WAIT`] later), unless
    /// it is in `Error`, whose own retry comes first. A sync in flight completes with what
    /// the chain holds.
    fn defer<C: ChainView>(
        &mut self,
        now: Timestamp,
        wait: Millis,
        reason: String,
        chain: &C,
        out: &mut Vec<Output>,
    ) {
        self.progress.last_error = Some(SyncFailure::HeadersRejected { reason });
        match self.request {
            HeaderRequest::RetryAt { .. } => return,
            HeaderRequest::Awaiting { .. } => self.complete(now, chain, out),
            HeaderRequest::Idle | HeaderRequest::Deferred { .. } => {}
        }
        self.request = HeaderRequest::Deferred {
            until: now + wait.clamp(Millis::from_secs(1), MAX_TOO_NEW_WAIT),
        };
    }

    fn send_getheaders<C: ChainView>(
        &mut self,
        now: Timestamp,
        chain: &C,
        attempt: u8,
        round: u32,
        out: &mut Vec<Output>,
    ) {
        self.ask_for_headers(now, chain, attempt, round, out);
        self.set_state(SyncState::Syncing, out);
    }

    /// Sends a `getheaders` from the tip and awaits its answer (the state is the caller's).
    fn ask_for_headers<C: ChainView>(
        &mut self,
        now: Timestamp,
        chain: &C,
        attempt: u8,
        round: u32,
        out: &mut Vec<Output>,
    ) {
        out.push(Output::Send(Request::GetHeaders {
            locator: chain.locator(),
            stop: BlockHash::ZERO,
        }));
        self.request = HeaderRequest::Awaiting {
            attempt: Attempt::sent(&self.config.headers, attempt, now),
            round,
            missed_announcement: MissedAnnouncements::default(),
        };
        self.progress.last_activity = Some(now);
    }

    /// Records, on the request in flight, an announcement that did not connect.
    fn note_missed_announcement(&mut self, announced: &[HashedHeader]) {
        if let (
            HeaderRequest::Awaiting {
                missed_announcement,
                ..
            },
            Some(last),
        ) = (&mut self.request, announced.last())
        {
            missed_announcement.note(last.hash);
        }
    }

    /// The awaited answer ended the sync: complete, unless an announcement that
    /// did not connect arrived meanwhile and its block is still unknown (then ask
    /// once more).
    fn complete_or_ask_again<C: ChainView>(
        &mut self,
        now: Timestamp,
        chain: &C,
        out: &mut Vec<Output>,
    ) {
        match self.request {
            HeaderRequest::Awaiting {
                missed_announcement,
                round,
                ..
            } if missed_announcement.any_missing(chain) => {
                self.send_getheaders(now, chain, 1, round, out)
            }
            _ => self.complete(now, chain, out),
        }
    }

    fn complete<C: ChainView>(&mut self, now: Timestamp, chain: &C, out: &mut Vec<Output>) {
        let tip = chain.tip();
        if !chain.has_minimum_work() {
            // What the peers served is not the network's chain (or not all of it): not synced,
            // and nothing downstream starts from it. Ask again with backoff; a peer with the
            // real chain answers with headers that replace it.
            let round = match self.request {
                HeaderRequest::Awaiting { round, .. } | HeaderRequest::RetryAt { round, .. } => {
                    round
                }
                HeaderRequest::Idle | HeaderRequest::Deferred { .. } => 0,
            };
            let failure = SyncFailure::BelowMinimumWork {
                tip_height: tip.height,
            };
            self.progress.last_error = Some(failure.clone());
            self.fail(now, failure, round, out);
            return;
        }
        self.clear_in_flight_state();
        self.progress.last_activity = Some(now);
        self.progress.current_height = tip.height;
        self.set_state(SyncState::Synced, out);
        out.push(Output::Event(SyncEvent::HeaderSyncComplete { tip }));
    }

    fn fail(&mut self, now: Timestamp, failure: SyncFailure, round: u32, out: &mut Vec<Output>) {
        self.request = HeaderRequest::RetryAt {
            at: now + self.config.error_backoff(round),
            round: round.saturating_add(1),
        };
        self.set_state(SyncState::Error(failure), out);
    }
}

/// Whether the first header's parent is on our chain.
fn connects_to<C: ChainView>(chain: &C, headers: &[HashedHeader]) -> bool {
    headers
        .first()
        .is_some_and(|first| chain.height_of(&first.header.prev_blockhash).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockHeader;
    use crate::sync::sim::{invalid_messages, sim_config, SimBlocks, SimChain};

    struct Rig {
        blocks: SimBlocks,
        chain: SimChain,
        manager: HeaderManager,
        now: Timestamp,
    }

    impl Rig {
        fn new(network_height: u32) -> Self {
            let blocks = SimBlocks::new(network_height);
            let chain = SimChain::new(&blocks.genesis());
            Rig {
                blocks,
                chain,
                manager: HeaderManager::new(sim_config(), 0),
                now: Timestamp(0),
            }
        }

        fn peers(&mut self, connected_count: usize) -> Vec<Output> {
            let mut out = Vec::new();
            let event = NetworkEvent::PeersUpdated {
                connected_count,
                best_height: Some(self.blocks.tip().height),
            };
            self.manager
                .handle_network(self.now, &event, &self.chain, &mut out);
            out
        }

        fn answer(&mut self, out: &[Output]) -> Vec<Output> {
            let Some(Output::Send(Request::GetHeaders { locator, .. })) = out
                .iter()
                .find(|o| matches!(o, Output::Send(Request::GetHeaders { .. })))
            else {
                panic!("no getheaders in {out:?}");
            };
            let headers = self.blocks.answer_getheaders(locator, 50);
            self.headers(&headers)
        }

        fn headers(&mut self, headers: &[BlockHeader]) -> Vec<Output> {
            let mut out = Vec::new();
            let hashed: Vec<HashedHeader> =
                headers.iter().copied().map(HashedHeader::new).collect();
            self.manager
                .handle_headers(self.now, 0, &hashed, &mut self.chain, &mut out);
            out
        }

        fn at(&mut self, now: Timestamp) -> Vec<Output> {
            self.now = now;
            let mut out = Vec::new();
            self.manager.tick(now, &self.chain, &mut out);
            out
        }
    }

    fn getheaders_count(out: &[Output]) -> usize {
        out.iter()
            .filter(|o| matches!(o, Output::Send(Request::GetHeaders { .. })))
            .count()
    }

    #[test]
    fn syncs_in_batches_until_a_short_one() {
        let mut rig = Rig::new(120);
        let mut out = rig.peers(1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        for _ in 0..2 {
            out = rig.answer(&out);
            assert_eq!(getheaders_count(&out), 1);
        }
        out = rig.answer(&out);
        assert_eq!(getheaders_count(&out), 0);
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        let tip = rig.blocks.tip();
        assert_eq!(rig.chain.tip(), tip);
        assert!(out.contains(&Output::Event(SyncEvent::HeaderSyncComplete { tip })));
        assert_eq!(rig.manager.progress().current_height, 120);
    }

    #[test]
    fn an_empty_answer_completes_and_a_stale_batch_is_dropped() {
        let mut rig = Rig::new(20);
        let out = rig.peers(1);
        let headers = rig.blocks.headers(1, 20);
        rig.answer(&out);
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        // The same batch again, unasked: nothing new, dropped.
        assert!(rig.headers(&headers).is_empty());
        assert_eq!(rig.manager.progress().responses_dropped, 1);
        let mut rig = Rig::new(0);
        rig.peers(1);
        let out = rig.headers(&[]);
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn timeouts_escalate_then_error_then_backoff_retry() {
        let mut rig = Rig::new(20);
        rig.peers(1);
        assert!(rig.at(Timestamp(9_999)).is_empty());
        assert_eq!(getheaders_count(&rig.at(Timestamp(10_000))), 1);
        assert_eq!(getheaders_count(&rig.at(Timestamp(40_000))), 1);
        let out = rig.at(Timestamp(100_000));
        assert_eq!(getheaders_count(&out), 0);
        assert_eq!(
            *rig.manager.state(),
            SyncState::Error(SyncFailure::HeadersUnanswered { attempts: 3 })
        );
        assert_eq!(getheaders_count(&rig.at(Timestamp(105_000))), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
    }

    #[test]
    fn reconnecting_in_error_restarts_at_once() {
        let mut rig = Rig::new(20);
        rig.peers(1);
        rig.at(Timestamp(10_000));
        rig.at(Timestamp(40_000));
        rig.at(Timestamp(100_000));
        assert!(rig.manager.state().is_error());
        rig.now = Timestamp(101_000);
        let out = rig.peers(2);
        assert_eq!(getheaders_count(&out), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        assert_eq!(
            *rig.manager.request(),
            HeaderRequest::Awaiting {
                attempt: Attempt {
                    number: 1,
                    sent_at: Timestamp(101_000),
                    deadline: Timestamp(111_000),
                },
                round: 0,
                missed_announcement: MissedAnnouncements::default(),
            }
        );
    }

    #[test]
    fn rejected_headers_are_asked_again() {
        let mut rig = Rig::new(20);
        rig.peers(1);
        let mut headers = rig.blocks.headers(1, 20);
        headers[0].bits = 0;
        let out = rig.headers(&headers);
        assert_eq!(getheaders_count(&out), 1);
        assert!(matches!(
            rig.manager.request(),
            HeaderRequest::Awaiting {
                attempt: Attempt { number: 2, .. },
                ..
            }
        ));
        assert!(matches!(
            rig.manager.progress().last_error,
            Some(SyncFailure::HeadersRejected { .. })
        ));
        // A batch that does not connect at all is an announcement, not the answer.
        let beyond = rig.blocks.headers(5, 20);
        assert!(rig.headers(&beyond).is_empty());
        assert!(matches!(
            rig.manager.request(),
            HeaderRequest::Awaiting {
                attempt: Attempt { number: 2, .. },
                ..
            }
        ));
        assert_eq!(rig.manager.progress().responses_dropped, 1);
    }

    #[test]
    fn a_connecting_batch_that_breaks_the_rules_is_reported() {
        let mut rig = Rig::new(20);
        rig.peers(1);
        let mut headers = rig.blocks.headers(1, 20);
        headers[0].bits = 0;
        let out = rig.headers(&headers);
        let reported = invalid_messages(&out);
        assert_eq!(reported.len(), 1, "{out:?}");
        assert_eq!(reported[0].kind, MessageKind::Headers);
        assert!(
            reported[0].to_string().starts_with("invalid headers: "),
            "{}",
            reported[0]
        );
        // The same failure again is reported again.
        assert_eq!(invalid_messages(&rig.headers(&headers)).len(), 1);
        // Synced, an announcement that connects but is invalid is reported too.
        let mut rig = Rig::new(10);
        let out = rig.peers(1);
        rig.answer(&out);
        let mut new = rig.blocks.grow(1);
        new[0].bits = 0;
        assert_eq!(invalid_messages(&rig.headers(&new)).len(), 1);
    }

    #[test]
    fn headers_that_do_not_connect_are_not_reported() {
        let mut rig = Rig::new(20);
        rig.peers(1);
        // Awaiting an answer: an announcement beyond our tip.
        let mut beyond = rig.blocks.headers(5, 20);
        beyond[1].bits = 0;
        assert!(rig.headers(&beyond).is_empty());
        // Synced: an announcement that does not connect makes us ask, not blame.
        let mut rig = Rig::new(10);
        let out = rig.peers(1);
        rig.answer(&out);
        rig.blocks.grow(3);
        let orphan = rig.blocks.headers(12, 13);
        let out = rig.headers(&orphan);
        assert!(invalid_messages(&out).is_empty(), "{out:?}");
        assert_eq!(getheaders_count(&out), 1);
    }

    #[test]
    fn announcements_extend_a_synced_chain() {
        let mut rig = Rig::new(10);
        let out = rig.peers(1);
        rig.answer(&out);
        let new = rig.blocks.grow(2);
        let out = rig.headers(&new);
        let tip = rig.blocks.tip();
        assert_eq!(out, vec![Output::Event(SyncEvent::HeadersStored { tip })]);
        // An announcement that does not connect: ask for what we missed.
        rig.blocks.grow(3);
        let orphan = rig.blocks.headers(15, 15);
        let out = rig.headers(&orphan);
        assert_eq!(getheaders_count(&out), 1);
        assert_eq!(*rig.manager.state(), SyncState::Syncing);
        rig.answer(&out);
        assert_eq!(*rig.manager.state(), SyncState::Synced);
        assert_eq!(rig.chain.tip(), rig.blocks.tip());
    }

    #[test]
    fn all_peers_gone_clears_and_waits() {
        let mut rig = Rig::new(10);
        rig.peers(1);
        rig.peers(0);
        assert_eq!(*rig.manager.state(), SyncState::WaitingForConnections);
        assert_eq!(*rig.manager.request(), HeaderRequest::Idle);
        assert!(rig.at(Timestamp(1_000_000)).is_empty());
        assert_eq!(getheaders_count(&rig.peers(1)), 1);
    }
}
