//! The client core, sans-IO: the peer set and the sync coordinator wired
//! together. The runtime (browser or native) opens sockets, carries bytes and
//! the time in, and acts on the [`NodeOutput`]s; everything else happens here.

pub mod chain;
mod clock;
pub mod engine;
pub mod hashing;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use crate::chain::HashedHeader;
use crate::hash::{BlockHash, Sha256dHash};
use crate::network::Network;
use crate::peer::ban::Penalty;
use crate::peer::set::{PeerId, PeerOutput, PeerSet, PeerSetConfig, SocketCommand};
use crate::protocol::bloom::{BloomFilter, MerkleBlock};
use crate::protocol::chainlock::ClSig;
use crate::protocol::headers::GetHeaders;
use crate::protocol::inventory::{InvType, Inventory};
use crate::protocol::isdlock::InstantLock;
use crate::protocol::message::NetworkMessage;
use crate::protocol::mnlistdiff::{GetMnListDiff, MnListDiff};
use crate::protocol::qrinfo::{GetQrInfo, QrInfo};
use crate::protocol::version::PROTOCOL_VERSION;
use crate::sync::chain_view::ExtendableChain;
use crate::sync::config::SyncConfig;
use crate::sync::coordinator::Coordinator;
use crate::sync::engine::SyncEngine;
use crate::sync::events::{HeldRequests, NetworkEvent, SyncEvent};
use crate::sync::inventory::InventoryFilter;
use crate::sync::progress::SyncProgress;
use crate::sync::requests::{Output, Request};
use crate::sync::time::{Millis, Now, Timestamp};
use clock::AwakeClock;
use hashing::{HashRequest, HeaderHashing, Offer};
use std::collections::HashMap;

/// What the runtime must do, or may show.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeOutput {
    /// Something to do with a WebSocket.
    Socket(SocketCommand),
    /// Something to tell the application.
    Notify(Notification),
    /// Check these quorums in the checking workers, one share (encoded checks, for
    /// `check_encoded`) per worker, and hand the answers, in the shares' order, to
    /// [`Node::quorum_checks_done`] with the same `batch` (answers missing or not fitting
    /// are checked in the node's thread; without an answer the node does so at a deadline).
    CheckQuorums {
        /// Which batch the answers are for.
        batch: u64,
        /// The encoded checks, one share per worker.
        shares: Vec<Vec<u8>>,
    },
    /// Hash these headers in the same workers, one share per worker ([`hashing::hash_share`]
    /// of each), and hand the answers, in the shares' order, to [`Node::headers_hashed`] with
    /// the same job (what is missing or does not fit is hashed in the node's thread, as is
    /// the whole batch at a deadline).
    HashHeaders(HashRequest),
}

/// What happened, for the application (events, logs, persistence hooks).
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    /// A peer sent an InstantSend lock (not verified yet).
    InstantLock(Box<InstantLock>),
    /// A peer sent a filtered block (not checked yet).
    MerkleBlock(Box<MerkleBlock>),
    /// A sync output: a state change, a routed event (headers stored,
    /// ChainLock verified, …).
    Sync(Output),
    /// A peer finished its handshake.
    PeerReady {
        /// The peer.
        peer: PeerId,
        /// Its user agent.
        user_agent: String,
        /// Its best height.
        best_height: u32,
    },
    /// A connection closed before its handshake finished.
    ConnectFailed {
        /// The bridge URL.
        url: String,
        /// Why.
        reason: String,
        /// What it cost the address, if the peer misbehaved (its score, and a ban at the
        /// threshold).
        penalty: Option<Penalty>,
    },
    /// A peer went away.
    PeerGone {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
        /// What it cost the peer's address, if it misbehaved (its score, and a ban at the
        /// threshold).
        penalty: Option<Penalty>,
    },
}

/// The client core.
pub struct Node<C: ExtendableChain, E: SyncEngine> {
    peers: PeerSet,
    sync: Coordinator<C, E>,
    running: bool,
    clock: AwakeClock,
    /// Peers that announced a block we did not hold, each with the last such block, in the
    /// order they first did: `getheaders` go to the first whose block is still missing
    /// (another peer may not have it yet).
    announced: Vec<(PeerId, BlockHash)>,
    /// Which peer holds each request: only its answer is taken.
    requests: RequestHolders,
    /// How long a request goes unanswered before asking it again counts against its holder
    /// (the first timeout of the header ladder).
    unanswered_after: Millis,
    /// Answers dropped because another peer than the one asked sent them.
    unsolicited: u64,
    inventory: InventoryFilter<PeerId>,
    /// Long `headers` batches out with the hashing workers.
    hashing: HeaderHashing,
}

/// The peers holding the requests in flight.
#[derive(Debug, Clone, Default)]
struct RequestHolders {
    /// The last `getheaders`.
    headers: Option<Holder>,
    /// The last `getqrinfo`.
    qrinfo: Option<Holder>,
    /// Each `getmnlistd` awaited, by the block asked for (the oldest forgotten beyond
    /// [`MAX_DIFFS_HELD`]).
    diffs: Vec<(BlockHash, PeerId)>,
    /// `getheaders` each peer let go unanswered in a row (a peer that answers anything it
    /// was asked is forgotten).
    unanswered: HashMap<PeerId, u32>,
}

/// Who holds the last request of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// Sent to `peer` at `since`; no answer yet.
    Awaiting { peer: PeerId, since: Timestamp },
    /// `peer` answered it.
    Answered { peer: PeerId },
}

impl Holder {
    /// The peer holding the request.
    fn peer(self) -> PeerId {
        match self {
            Holder::Awaiting { peer, .. } | Holder::Answered { peer } => peer,
        }
    }
}

/// The most `getmnlistd` holders remembered (the pipeline has far fewer in flight).
const MAX_DIFFS_HELD: usize = 64;

/// `getheaders` a peer may let go unanswered in a row before it is rotated out
/// (disconnected without blame, dialled again after its backoff).
pub const MAX_UNANSWERED: u32 = 3;

/// The most times one tick runs the sync machines again after rotating a peer out.
const MAX_ROTATION_ROUNDS: usize = 4;

impl<C, E> Node<C, E>
where
    C: ExtendableChain,
    E: SyncEngine<QrInfo = QrInfo, MnListDiff = MnListDiff, ChainLock = ClSig>,
{
    /// A stopped node for `network` dialling `bridges`, over `chain` and `engine`.
    pub fn new(
        network: Network,
        bridges: &[String],
        peer_config: PeerSetConfig,
        sync_config: SyncConfig,
        chain: C,
        engine: E,
        seed: u64,
    ) -> Node<C, E> {
        Node {
            peers: PeerSet::new(network, bridges, peer_config, seed),
            sync: Coordinator::new(sync_config, chain, engine),
            running: false,
            clock: AwakeClock::new(peer_config.connection.keep_alive_timeout()),
            announced: Vec::new(),
            requests: RequestHolders::default(),
            unanswered_after: sync_config.headers.timeout(1),
            unsolicited: 0,
            inventory: InventoryFilter::new(),
            hashing: HeaderHashing::new(sync_config.check_workers, sync_config.check_timeout),
        }
    }

    /// How many headers had their hashes computed by the hashing workers.
    pub fn headers_hashed_in_workers(&self) -> u64 {
        self.hashing.hashed_in_workers()
    }

    /// How many answers were dropped because another peer than the one asked sent them.
    pub fn unsolicited_dropped(&self) -> u64 {
        self.unsolicited
    }

    /// Asks one ready peer for a filtered block of `block_hash` matching
    /// `filter` (`filterload`, then `getdata` of `MSG_FILTERED_BLOCK`); the
    /// answer arrives as [`Notification::MerkleBlock`]. Nothing is sent
    /// without a ready peer.
    pub fn request_merkle_block(
        &mut self,
        filter: BloomFilter,
        block_hash: BlockHash,
    ) -> Vec<NodeOutput> {
        let Some(peer) = self.peers.ready_peers().map(|(peer, ..)| peer).next() else {
            return Vec::new();
        };
        let messages = [
            NetworkMessage::FilterLoad(filter),
            NetworkMessage::GetData(vec![Inventory {
                inv_type: InvType::FilteredBlock,
                hash: Sha256dHash(block_hash.0),
            }]),
        ];
        messages
            .iter()
            .filter_map(|m| self.peers.send_to(peer, m))
            .map(NodeOutput::Socket)
            .collect()
    }

    /// The sync coordinator (chain, engine, managers).
    pub fn sync(&self) -> &Coordinator<C, E> {
        &self.sync
    }

    /// The peers.
    pub fn peers(&self) -> &PeerSet {
        &self.peers
    }

    /// Each bridge URL and a word for its state ("ready", "banned", …), as of the last input.
    pub fn endpoint_states(&self) -> Vec<(String, &'static str)> {
        self.peers.endpoint_states(self.clock.last_awake())
    }

    /// Progress of every manager.
    pub fn progress(&self) -> SyncProgress {
        self.sync.progress()
    }

    /// Whether the node is running.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Starts: peers are dialled on this and every later tick.
    pub fn start(&mut self, now: Now) -> Vec<NodeOutput> {
        self.running = true;
        self.tick(now)
    }

    /// Stops: every connection closes and the sync machines are told there are no peers.
    pub fn stop(&mut self, now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        self.running = false;
        self.hashing.clear();
        let outputs = self.peers.drop_all("client stopped", at.monotonic);
        out.extend(self.route_peers(outputs, at));
        out
    }

    /// Advances every timer: dialling, handshakes, pings, sync timeouts and retries.
    pub fn tick(&mut self, now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        if !self.running {
            return out;
        }
        if let Some(batch) = self.hashing.expired(at.monotonic) {
            self.deliver_headers(batch.peer, batch.headers, at, &mut out);
        }
        let outputs = self.peers.tick(at.monotonic);
        out.extend(self.route_peers(outputs, at));
        // A peer rotated out may have held a request: its retry is due at once, so the
        // sync machines run again (each round rotates out a different peer, so few rounds).
        for _ in 0..=MAX_ROTATION_ROUNDS {
            let sync = self.sync.tick(at.monotonic);
            let departures = self.route_sync(sync, at, &mut out);
            if departures.is_empty() {
                break;
            }
            out.extend(self.route_peers(departures, at));
        }
        out
    }

    /// When the node next has something to do, on the caller's monotonic clock: the runtime
    /// calls [`Node::tick`] then (or earlier, when an event arrives). `None`: nothing is
    /// scheduled, wait for an event.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timer_deadline().map(|at| self.clock.to_caller(at))
    }

    /// A time the node reported (its progress' timestamps run on the node's clock, which
    /// takes out sleep and the time the caller spent carrying out outputs) on the caller's
    /// monotonic clock. Exact for the last input's time until [`Node::input_handled`].
    pub fn caller_time(&self, at: Timestamp) -> Timestamp {
        self.clock.to_caller(at)
    }

    /// The caller finished carrying out the outputs of the last input (sending, storing) at
    /// `done` on its monotonic clock: the requests that input made went out only then, so
    /// the time it took is not counted against them (nor against any other timer: nothing
    /// could be read meanwhile).
    pub fn input_handled(&mut self, done: Timestamp) {
        self.clock.busy_until(done);
    }

    /// The earliest timer of the peers and the sync machines, on the node's awake clock.
    fn timer_deadline(&self) -> Option<Timestamp> {
        if !self.running {
            return None;
        }
        [
            self.peers.next_deadline(),
            self.sync.next_deadline(),
            self.hashing.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The socket of `peer` opened.
    pub fn socket_opened(&mut self, peer: PeerId, now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        let height = self.sync.chain().tip().height;
        let unix_secs = i64::try_from(at.unix_secs).unwrap_or(i64::MAX);
        let outputs = self
            .peers
            .socket_opened(peer, at.monotonic, unix_secs, height);
        out.extend(self.route_peers(outputs, at));
        out
    }

    /// Bytes arrived on `peer`'s socket.
    pub fn socket_data(&mut self, peer: PeerId, bytes: &[u8], now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        let outputs = self.peers.socket_data(peer, bytes, at.monotonic);
        out.extend(self.route_peers(outputs, at));
        out
    }

    /// `peer`'s socket closed.
    pub fn socket_closed(&mut self, peer: PeerId, now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        let outputs = self.peers.socket_closed(peer, at.monotonic);
        out.extend(self.route_peers(outputs, at));
        out
    }

    /// The checking workers answered quorum check batch `batch` ([`NodeOutput::CheckQuorums`]):
    /// `answers`, one per share in order (fewer, or none, if workers failed). A batch the
    /// node no longer awaits (answered late, or sent before a reset) is ignored.
    pub fn quorum_checks_done(
        &mut self,
        batch: u64,
        answers: &[Vec<u8>],
        now: Now,
    ) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        let outputs = self.sync.handle_quorum_checks(at.monotonic, batch, answers);
        let departures = self.route_sync(outputs, at, &mut out);
        out.extend(self.route_peers(departures, at));
        out
    }

    /// The hashing workers answered header batch `job` ([`NodeOutput::HashHeaders`]):
    /// `answers`, one per share in order (fewer, or none, if workers failed). A job the node
    /// no longer awaits (answered after its deadline, or sent before a stop) is ignored.
    pub fn headers_hashed(&mut self, job: u64, answers: &[Vec<u8>], now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        if let Some(batch) = self.hashing.answered(job, answers) {
            self.deliver_headers(batch.peer, batch.headers, at, &mut out);
        }
        out
    }

    /// The browser went offline or came back online.
    pub fn set_online(&mut self, online: bool, now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        let outputs = self.peers.set_online(online, at.monotonic);
        if !self.running {
            return Vec::new();
        }
        out.extend(self.route_peers(outputs, at));
        out
    }

    /// Closes every connection now (they are dialled again after a backoff).
    pub fn drop_connections(&mut self, now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        let outputs = self
            .peers
            .drop_all("connections dropped on request", at.monotonic);
        out.extend(self.route_peers(outputs, at));
        out
    }

    /// Checks that every connection is alive (pings; what does not answer is dropped and
    /// dialled again): the tab became visible or resumed, and sockets may be dead.
    pub fn check_liveness(&mut self, now: Now) -> Vec<NodeOutput> {
        let (at, mut out) = self.enter(now);
        let outputs = self.peers.check_liveness(at.monotonic);
        out.extend(self.route_peers(outputs, at));
        out
    }

    /// Reads the clocks of an input. After a leap (the machine slept, the tab was frozen,
    /// or timers ran far late) the node's timers resume where they were due instead of
    /// all expiring at once, and every peer is checked for liveness.
    fn enter(&mut self, now: Now) -> (Now, Vec<NodeOutput>) {
        let due = self.timer_deadline();
        let (at, woke) = self.clock.observe(now, due);
        let mut out = Vec::new();
        if woke && self.running {
            let outputs = self.peers.check_liveness(at.monotonic);
            out.extend(self.route_peers(outputs, at));
        }
        (at, out)
    }

    fn peers_updated(&self) -> NetworkEvent {
        NetworkEvent::PeersUpdated {
            connected_count: self.peers.ready_count(),
            best_height: self.peers.best_height(),
        }
    }

    fn route_peers(&mut self, outputs: Vec<PeerOutput>, at: Now) -> Vec<NodeOutput> {
        let mut out = Vec::new();
        let mut departures = Vec::new();
        for output in outputs {
            match output {
                PeerOutput::Socket(command) => out.push(NodeOutput::Socket(command)),
                PeerOutput::Ready { peer, info } => {
                    out.push(NodeOutput::Notify(Notification::PeerReady {
                        peer,
                        user_agent: info.user_agent,
                        best_height: info.best_height,
                    }));
                    departures.extend(self.network_event(
                        NetworkEvent::PeerConnected,
                        at,
                        &mut out,
                    ));
                    departures.extend(self.network_event(self.peers_updated(), at, &mut out));
                }
                PeerOutput::ConnectFailed {
                    url,
                    reason,
                    penalty,
                } => {
                    out.push(NodeOutput::Notify(Notification::ConnectFailed {
                        url,
                        reason: reason.to_string(),
                        penalty,
                    }));
                }
                PeerOutput::Gone {
                    peer,
                    reason,
                    penalty,
                } => {
                    out.push(NodeOutput::Notify(Notification::PeerGone {
                        peer,
                        reason: reason.to_string(),
                        penalty,
                    }));
                    self.requests.unanswered.remove(&peer);
                    // Only the managers whose requests the peer held wait for answers that
                    // will not come (a peer rotated out for not answering has its request
                    // already asked of another).
                    let held = self.requests.held_by(peer);
                    if held != HeldRequests::default() {
                        departures.extend(self.network_event(
                            NetworkEvent::PeerDisconnected { held },
                            at,
                            &mut out,
                        ));
                    }
                    departures.extend(self.network_event(self.peers_updated(), at, &mut out));
                }
                PeerOutput::Deliver { peer, message } => self.deliver(peer, message, at, &mut out),
            }
        }
        if !departures.is_empty() {
            out.extend(self.route_peers(departures, at));
        }
        out
    }

    /// Hands a network event to the sync machines and routes their outputs; returns the
    /// departures of peers rotated out for not answering.
    fn network_event(
        &mut self,
        event: NetworkEvent,
        at: Now,
        out: &mut Vec<NodeOutput>,
    ) -> Vec<PeerOutput> {
        let outputs = self.sync.handle_network(at.monotonic, event);
        self.route_sync(outputs, at, out)
    }

    fn deliver(
        &mut self,
        peer: PeerId,
        message: NetworkMessage,
        at: Now,
        out: &mut Vec<NodeOutput>,
    ) {
        let now = at.monotonic;
        // A ban earlier in the same read leaves messages from the banned peer behind.
        if !self.peers.ready_peers().any(|(ready, ..)| ready == peer) {
            return;
        }
        let outputs = match message {
            // An empty `headers` can only be an answer ("nothing after your locator"): from
            // another peer than the one asked it would end a sync that peer is serving.
            NetworkMessage::Headers(headers)
                if headers.is_empty() && self.requests.headers.map(Holder::peer) != Some(peer) =>
            {
                self.unsolicited += 1;
                return;
            }
            NetworkMessage::Headers(headers) => {
                let connects = headers.first().map(|first| first.prev_blockhash);
                match self.hashing.offer(peer, headers, now) {
                    Offer::Sent(request) => {
                        // The holder answered: neither it nor the request is held to account
                        // for the time the batch spends with the workers (a batch from
                        // another peer, or one that does not connect, answers nothing).
                        let chain = self.sync.chain();
                        let holder = self.requests.headers.map(Holder::peer) == Some(peer);
                        if holder && connects.is_some_and(|prev| chain.height_of(&prev).is_some()) {
                            self.requests.answered_headers(peer);
                            if let Some(until) = self.hashing.deadline() {
                                self.sync.headers_in_hand(until);
                            }
                        }
                        out.push(NodeOutput::HashHeaders(request));
                    }
                    Offer::Hashed(headers) => self.deliver_headers(peer, headers, at, out),
                }
                return;
            }
            NetworkMessage::QrInfo(_) if self.requests.qrinfo.map(Holder::peer) != Some(peer) => {
                self.unsolicited += 1;
                return;
            }
            NetworkMessage::QrInfo(qrinfo) => {
                self.requests.qrinfo = Some(Holder::Answered { peer });
                self.requests.unanswered.remove(&peer);
                self.sync.handle_qrinfo(now, *qrinfo)
            }
            NetworkMessage::MnListDiff(diff) => {
                let asked = self
                    .requests
                    .diffs
                    .iter()
                    .position(|&(block, holder)| block == diff.block_hash && holder == peer);
                match asked {
                    Some(index) => {
                        self.requests.diffs.remove(index);
                        self.requests.unanswered.remove(&peer);
                        self.sync.handle_mnlistdiff(now, *diff)
                    }
                    None => {
                        self.unsolicited += 1;
                        return;
                    }
                }
            }
            NetworkMessage::ClSig(clsig) => self.sync.handle_chainlock(now, clsig),
            NetworkMessage::IsDLock(lock) => {
                out.push(NodeOutput::Notify(Notification::InstantLock(lock)));
                return;
            }
            NetworkMessage::MerkleBlock(block) => {
                out.push(NodeOutput::Notify(Notification::MerkleBlock(block)));
                return;
            }
            NetworkMessage::Inv(items) => {
                // ChainLocks and InstantSend locks are asked for once, at the peer's rate;
                // blocks not on our chain go to the header manager, which coalesces them.
                let chain = self.sync.chain();
                let requests = self
                    .inventory
                    .announce(peer, &items, now, |hash| chain.height_of(hash).is_some());
                if !requests.get_data.is_empty() {
                    let get_data = NetworkMessage::GetData(requests.get_data);
                    if let Some(send) = self.peers.send_to(peer, &get_data) {
                        out.push(NodeOutput::Socket(send));
                    }
                }
                let blocks = requests.blocks;
                if blocks.is_empty() {
                    return;
                }
                self.note_announcement(peer, blocks.last().copied());
                // The header manager asks for them, with a timeout and retries.
                self.sync.handle_blocks_announced(now, &blocks)
            }
            _ => return,
        };
        self.conclude(peer, outputs, at, out);
    }

    /// Connects a `headers` batch `peer` sent, hashed (by the node or the hashing workers),
    /// if the peer is still ready.
    fn deliver_headers(
        &mut self,
        peer: PeerId,
        headers: Vec<HashedHeader>,
        at: Now,
        out: &mut Vec<NodeOutput>,
    ) {
        if !self.peers.ready_peers().any(|(ready, ..)| ready == peer) {
            return;
        }
        // Only an empty batch or one that builds on our chain answers a `getheaders`:
        // headers that do not connect must not keep a silent holder looking useful.
        let chain = self.sync.chain();
        let answers = match headers.first() {
            None => true,
            Some(first) => chain.height_of(&first.header.prev_blockhash).is_some(),
        };
        if answers {
            self.requests.answered_headers(peer);
        }
        if headers.is_empty() {
            // Nothing after our tip: whatever the peer claimed or announced, it cannot
            // serve more than we hold.
            let tip = self.sync.chain().tip().height;
            self.peers.settle_height(peer, tip);
            self.announced.retain(|&(by, _)| by != peer);
        }
        let announced = headers.last().map(|last| last.hash);
        self.note_announcement(peer, announced);
        let outputs = self.sync.handle_headers(at, &headers);
        if let Some(height) = announced.and_then(|hash| self.sync.chain().height_of(&hash)) {
            self.peers.note_height(peer, height);
        }
        self.conclude(peer, outputs, at, out);
    }

    /// Routes the sync outputs of a message `peer` delivered.
    fn conclude(&mut self, peer: PeerId, outputs: Vec<Output>, at: Now, out: &mut Vec<NodeOutput>) {
        let now = at.monotonic;
        // A verdict on this message can only blame the peer that delivered it. It is closed
        // before the managers' requests are routed, so their retries go to other peers; its
        // departure reaches the managers after the outputs of the message that caused it.
        let mut departure = Vec::new();
        let mut routed = Vec::with_capacity(outputs.len());
        for output in outputs {
            match output {
                Output::InvalidMessage(invalid) => {
                    departure.extend(self.peers.misbehaved(peer, invalid.to_string(), now));
                }
                other => routed.push(other),
            }
        }
        let source = departure.is_empty().then_some(peer);
        departure.extend(self.route_sync_from(routed, source, at, out));
        out.extend(self.route_peers(departure, at));
    }

    /// Remembers that `peer` announced `block`, if the chain does not hold it: a peer's
    /// newer announcement replaces its older one and keeps its place, so a lagging peer's
    /// lower block announced later does not take the requests away from the peer ahead.
    fn note_announcement(&mut self, peer: PeerId, block: Option<BlockHash>) {
        let chain = self.sync.chain();
        let Some(block) = block.filter(|b| chain.height_of(b).is_none()) else {
            return;
        };
        self.forget_served_announcements();
        match self.announced.iter_mut().find(|(by, _)| *by == peer) {
            Some(entry) => entry.1 = block,
            None => self.announced.push((peer, block)),
        }
    }

    /// Forgets the announcements of peers no longer ready and of blocks the chain now holds.
    fn forget_served_announcements(&mut self) {
        let chain = self.sync.chain();
        let peers = &self.peers;
        self.announced.retain(|&(peer, block)| {
            chain.height_of(&block).is_none() && peers.ready_peers().any(|(p, ..)| p == peer)
        });
    }

    /// The first peer, other than `avoid`, that announced a block we still lack.
    fn announcer(&mut self, avoid: Option<PeerId>) -> Option<(PeerId, BlockHash)> {
        self.forget_served_announcements();
        self.announced
            .iter()
            .copied()
            .find(|&(peer, _)| Some(peer) != avoid)
    }

    /// Where a `getheaders` goes: to the first peer other than `avoid` (the holder that left
    /// the last one unanswered) that announced a block we still lack, else to the peer that
    /// claims the highest block if that is above our tip, else back to `source`.
    fn headers_peer(&mut self, source: Option<PeerId>, avoid: Option<PeerId>) -> Option<PeerId> {
        if let Some((peer, _)) = self.announcer(avoid) {
            return Some(peer);
        }
        let tip = self.sync.chain().tip().height;
        match self.peers.best_peer() {
            Some((peer, height)) if height > tip => Some(peer),
            _ => source,
        }
    }

    /// Routes sync outputs made on a timer or a network event; returns the departures of
    /// peers rotated out for not answering.
    fn route_sync(
        &mut self,
        outputs: Vec<Output>,
        at: Now,
        out: &mut Vec<NodeOutput>,
    ) -> Vec<PeerOutput> {
        self.route_sync_from(outputs, None, at, out)
    }

    /// Routes sync outputs. A `getheaders` goes to the peer that announced a block we lack,
    /// else back to `source` when made in answer to its message, while that peer is ready;
    /// every other request goes to any ready peer. A request asked again while its holder
    /// has not answered it for [`Node::unanswered_after`] goes to another peer, and a
    /// `getheaders` so left counts against the holder: at [`MAX_UNANSWERED`] in a row the
    /// holder is rotated out while another peer is ready (the departures are returned for
    /// the caller to route).
    fn route_sync_from(
        &mut self,
        outputs: Vec<Output>,
        source: Option<PeerId>,
        at: Now,
        out: &mut Vec<NodeOutput>,
    ) -> Vec<PeerOutput> {
        let now = at.monotonic;
        let mut departures = Vec::new();
        let mut header_sync_completed = false;
        for output in outputs {
            let request = match output {
                Output::Send(request) => request,
                Output::CheckQuorums { batch, shares } => {
                    out.push(NodeOutput::CheckQuorums { batch, shares });
                    continue;
                }
                other => {
                    header_sync_completed |=
                        matches!(other, Output::Event(SyncEvent::HeaderSyncComplete { .. }));
                    out.push(NodeOutput::Notify(Notification::Sync(other)));
                    continue;
                }
            };
            let failed = self
                .requests
                .unanswered_holder(&request, now, self.unanswered_after)
                .filter(|&peer| self.peers.ready_peers().any(|(ready, ..)| ready == peer));
            // Only `getheaders` count: every peer can serve headers, while a QRInfo or a
            // list may be beyond what an honest peer can build (and a QRInfo's diffs time
            // out together).
            let counted = failed.filter(|_| matches!(request, Request::GetHeaders { .. }));
            if let Some(peer) = counted {
                // Rotating out the only peer would leave no one to ask.
                let others = self.peers.ready_count() > 1;
                if self.requests.count_unanswered(peer) >= MAX_UNANSWERED && others {
                    self.requests.unanswered.remove(&peer);
                    departures.extend(self.peers.rotate_out(peer, MAX_UNANSWERED, now));
                }
            }
            // Retries go to another peer than the one that last held the request.
            let (target, avoid) = match &request {
                Request::GetHeaders { .. } => (self.headers_peer(source, failed), failed),
                Request::GetQrInfo { .. } => {
                    (None, self.requests.qrinfo.map(Holder::peer).or(failed))
                }
                Request::GetMnListDiff { .. } => (None, failed),
            };
            let target = target.filter(|&peer| Some(peer) != failed);
            let message = to_message(request.clone());
            let send = match target {
                Some(peer) => self
                    .peers
                    .send_to(peer, &message)
                    .or_else(|| self.peers.send_to_any_but(&message, avoid)),
                None => self.peers.send_to_any_but(&message, avoid),
            };
            if let Some(send) = send {
                if let SocketCommand::Send { peer, .. } = &send {
                    self.requests.record(&request, *peer, now);
                }
                out.push(NodeOutput::Socket(send));
            }
        }
        if header_sync_completed {
            departures.extend(self.resync_if_behind(at, out));
        }
        departures
    }

    /// The header sync ended although a ready peer announced a block we lack (its holder
    /// of the last requests may have been a lagging peer) or claims a higher tip (the peer
    /// that was ahead may have left): sync again, from that peer. This ends: each empty
    /// answer settles its sender's height and forgets its announcement, and a peer that
    /// does not answer is rotated out.
    fn resync_if_behind(&mut self, at: Now, out: &mut Vec<NodeOutput>) -> Vec<PeerOutput> {
        let tip = self.sync.chain().tip().height;
        if let Some((_, block)) = self.announcer(None) {
            let outputs = self.sync.handle_blocks_announced(at.monotonic, &[block]);
            return self.route_sync(outputs, at, out);
        }
        if self.peers.best_height().is_some_and(|best| best > tip) {
            return self.network_event(self.peers_updated(), at, out);
        }
        Vec::new()
    }
}

impl RequestHolders {
    /// `peer` now holds `request`, sent at `now`.
    fn record(&mut self, request: &Request, peer: PeerId, now: Timestamp) {
        let holder = Some(Holder::Awaiting { peer, since: now });
        match request {
            Request::GetHeaders { .. } => self.headers = holder,
            Request::GetQrInfo { .. } => {
                // The masternode manager asks a QRInfo with no diff in flight: those it asked
                // before are abandoned, and must not make their holders look busy.
                self.diffs.clear();
                self.qrinfo = holder;
            }
            Request::GetMnListDiff { block_hash, .. } => {
                self.diffs.retain(|(block, _)| block != block_hash);
                if self.diffs.len() >= MAX_DIFFS_HELD {
                    self.diffs.remove(0);
                }
                self.diffs.push((*block_hash, peer));
            }
        }
    }

    /// Whose requests `peer` holds, not answered yet.
    fn held_by(&self, peer: PeerId) -> HeldRequests {
        let awaits = |holder: Option<Holder>| matches!(holder, Some(Holder::Awaiting { peer: p, .. }) if p == peer);
        HeldRequests {
            headers: awaits(self.headers),
            masternodes: awaits(self.qrinfo) || self.diffs.iter().any(|&(_, p)| p == peer),
        }
    }

    /// `peer` sent headers while holding the `getheaders`: it answers.
    fn answered_headers(&mut self, peer: PeerId) {
        if self.headers.map(Holder::peer) == Some(peer) {
            self.headers = Some(Holder::Answered { peer });
            self.unanswered.remove(&peer);
        }
    }

    /// The peer that let the previous copy of `request` go unanswered for at least `after`
    /// until `now`, if one did (asking again supersedes it).
    fn unanswered_holder(
        &self,
        request: &Request,
        now: Timestamp,
        after: Millis,
    ) -> Option<PeerId> {
        let late = |since: Timestamp| now.since(since) >= after;
        match request {
            Request::GetHeaders { .. } => match self.headers {
                Some(Holder::Awaiting { peer, since }) if late(since) => Some(peer),
                _ => None,
            },
            Request::GetQrInfo { .. } => match self.qrinfo {
                Some(Holder::Awaiting { peer, since }) if late(since) => Some(peer),
                _ => None,
            },
            // Diffs are asked again only after their timeout.
            Request::GetMnListDiff { block_hash, .. } => self
                .diffs
                .iter()
                .find(|(block, _)| block == block_hash)
                .map(|&(_, peer)| peer),
        }
    }

    /// Counts one more request `peer` let go unanswered; returns how many in a row.
    fn count_unanswered(&mut self, peer: PeerId) -> u32 {
        let count = self.unanswered.entry(peer).or_insert(0);
        *count += 1;
        *count
    }
}

/// The wire message for a sync request.
fn to_message(request: Request) -> NetworkMessage {
    match request {
        Request::GetHeaders { locator, stop } => NetworkMessage::GetHeaders(GetHeaders {
            version: PROTOCOL_VERSION,
            locator,
            stop_hash: stop,
        }),
        Request::GetQrInfo {
            base_block_hashes,
            block_request_hash,
            extra_share,
        } => NetworkMessage::GetQrInfo(GetQrInfo {
            base_block_hashes,
            block_request_hash,
            extra_share,
        }),
        Request::GetMnListDiff {
            base_block_hash,
            block_hash,
        } => NetworkMessage::GetMnListDiff(GetMnListDiff {
            base_block_hash,
            block_hash,
        }),
    }
}
