//! The header manager: keeps the header chain caught up with the peers.
//!
//! Sends `getheaders` with the chain's locator until a peer returns a short batch, then
//! reports [`SyncEvent::HeaderSyncComplete`]. Announced headers are connected while synced.

use super::chain_view::{ChainView, HeaderChain};
use super::config::SyncConfig;
use super::events::{NetworkEvent, SyncEvent};
use super::progress::Progress;
use super::requests::{ManagerKind, Output, Request};
use super::state::{SyncFailure, SyncState};
use super::time::Timestamp;
use crate::block::BlockHeader;
use crate::hash::BlockHash;

/// The header manager's in-flight state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderRequest {
    /// Nothing in flight.
    Idle,
    /// A `getheaders` is on the wire.
    Awaiting {
        /// When it was sent.
        sent_at: Timestamp,
        /// When it times out.
        deadline: Timestamp,
        /// Which attempt it is (1-based).
        attempt: u8,
        /// Automatic recoveries from `Error` so far (sets the next backoff).
        round: u32,
    },
    /// In `Error`: the next automatic retry.
    RetryAt {
        /// When to retry.
        at: Timestamp,
        /// Automatic recoveries from `Error` so far, this one included.
        round: u32,
    },
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
            HeaderRequest::Awaiting { deadline, .. } => Some(deadline),
            HeaderRequest::RetryAt { at, .. } => Some(at),
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
            NetworkEvent::PeerConnected => {}
            NetworkEvent::PeerDisconnected => {
                if let HeaderRequest::Awaiting { deadline, .. } = &mut self.request {
                    *deadline = (*deadline).min(now);
                }
            }
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
                        self.set_state(SyncState::Syncing, out);
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

    /// Connects a `headers` message, answer or announcement.
    pub fn handle_headers<C: HeaderChain>(
        &mut self,
        now: Timestamp,
        headers: &[BlockHeader],
        chain: &mut C,
        out: &mut Vec<Output>,
    ) {
        if self.progress.state == SyncState::WaitingForConnections {
            self.progress.responses_dropped = self.progress.responses_dropped.saturating_add(1);
            return;
        }
        let awaiting = match self.request {
            HeaderRequest::Awaiting { attempt, round, .. } => Some((attempt, round)),
            HeaderRequest::Idle | HeaderRequest::RetryAt { .. } => None,
        };
        if headers.is_empty() {
            match awaiting {
                Some(_) => self.complete(now, chain, out),
                None => {
                    self.progress.responses_dropped =
                        self.progress.responses_dropped.saturating_add(1);
                }
            }
            return;
        }
        match chain.connect_headers(headers) {
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
                    Some(_) if full_batch => self.send_getheaders(now, chain, 1, 0, out),
                    Some(_) => self.complete(now, chain, out),
                    None if full_batch => self.send_getheaders(now, chain, 1, 0, out),
                    None if connected.new_headers == 0 => {
                        self.progress.responses_dropped =
                            self.progress.responses_dropped.saturating_add(1);
                    }
                    None => {}
                }
            }
            Err(error) => {
                let failure = SyncFailure::HeadersRejected {
                    reason: error.to_string(),
                };
                self.progress.last_error = Some(failure.clone());
                match awaiting {
                    Some((attempt, round)) if attempt < self.config.headers.max_attempts() => {
                        self.send_getheaders(now, chain, attempt.saturating_add(1), round, out);
                    }
                    Some((_, round)) => self.fail(now, failure, round, out),
                    None if self.progress.state == SyncState::Synced => {
                        // An announcement that does not connect: we missed blocks.
                        self.send_getheaders(now, chain, 1, 0, out);
                    }
                    None => {}
                }
            }
        }
    }

    /// Fires due deadlines: request timeouts and the automatic retry from `Error`.
    pub fn tick<C: ChainView>(&mut self, now: Timestamp, chain: &C, out: &mut Vec<Output>) {
        match self.request {
            HeaderRequest::Awaiting {
                deadline,
                attempt,
                round,
                ..
            } if deadline <= now => {
                if attempt < self.config.headers.max_attempts() {
                    self.send_getheaders(now, chain, attempt.saturating_add(1), round, out);
                } else {
                    self.fail(
                        now,
                        SyncFailure::HeadersUnanswered { attempts: attempt },
                        round,
                        out,
                    );
                }
            }
            HeaderRequest::RetryAt { at, round } if at <= now => {
                self.send_getheaders(now, chain, 1, round, out);
                self.set_state(SyncState::Syncing, out);
            }
            HeaderRequest::Idle
            | HeaderRequest::Awaiting { .. }
            | HeaderRequest::RetryAt { .. } => {}
        }
    }

    fn send_getheaders<C: ChainView>(
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
            sent_at: now,
            deadline: now + self.config.headers.timeout(attempt),
            attempt,
            round,
        };
        self.progress.last_activity = Some(now);
    }

    fn complete<C: ChainView>(&mut self, now: Timestamp, chain: &C, out: &mut Vec<Output>) {
        self.clear_in_flight_state();
        let tip = chain.tip();
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
