//! One client connection, sans-IO: decoded messages, timer ticks and tip
//! changes in; messages to send (and when to close) out.
//!
//! Like an inbound dashd connection it waits for the client's `version`,
//! answers `version`, `sendaddrv2` and `verack`, and after the client's
//! `verack` sends `sendheaders` and a `ping`. Messages other than the
//! handshake's are ignored until then.

use crate::catalog::CAPTURE_PROTOCOL_VERSION;
use crate::catalog::{Capture, Versioned};
use crate::faults::{forge_clsig, forge_diff, forge_qrinfo, ConnectionFaults, SendFault};
use crate::state::ReplayState;
use core::fmt;
use dashlight::block::BlockHeader;
use dashlight::encode::serialize;
use dashlight::hash::{sha256d, BlockHash, Sha256dHash};
use dashlight::protocol::bloom::{BloomFilter, MerkleBlock};
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::framing::{Command, RawMessage};
use dashlight::protocol::handshake::{NetAddress, VersionMessage};
use dashlight::protocol::headers::{GetHeaders, MAX_HEADERS};
use dashlight::protocol::inventory::{InvType, Inventory};
use dashlight::protocol::mnlistdiff::GetMnListDiff;
use dashlight::protocol::partial_merkle_tree::PartialMerkleTree;
use dashlight::protocol::qrinfo::GetQrInfo;
use dashlight::protocol::{NetworkMessage, MIN_PEER_PROTO_VERSION};
use std::net::SocketAddr;
use tracing::{debug, info, warn};

/// The protocol version the peer announces: the layout of the captures.
pub const PEER_PROTOCOL_VERSION: u32 = CAPTURE_PROTOCOL_VERSION;

/// The user agent the peer announces.
pub const USER_AGENT: &str = concat!("/dashlight-replay-peer:", env!("CARGO_PKG_VERSION"), "/");

/// Services the peer announces: NODE_NETWORK, NODE_BLOOM, NODE_NETWORK_LIMITED.
pub const PEER_SERVICES: u64 = 1 | 4 | 1024;

/// The most new blocks announced with `headers`; more are announced with an
/// `inv` of the tip, as dashd does.
pub const MAX_BLOCKS_TO_ANNOUNCE: usize = 8;

/// Something for the I/O layer to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Send the message.
    Send(RawMessage),
    /// Send the message with a payload that does not match its checksum.
    SendCorrupted(RawMessage),
    /// Close the connection.
    Close(CloseReason),
}

/// Why the peer closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client's protocol version is older than dashd accepts.
    ObsoleteVersion(i32),
    /// `--disconnect-after`: this many messages were sent.
    MessagesSent(u64),
    /// `--disconnect-on-qrinfo`: a `getqrinfo` arrived.
    QrInfoRequested,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ObsoleteVersion(v) => write!(
                f,
                "protocol version {v} is older than {MIN_PEER_PROTO_VERSION}"
            ),
            Self::MessagesSent(n) => write!(f, "--disconnect-after: {n} messages sent"),
            Self::QrInfoRequested => f.write_str("--disconnect-on-qrinfo: getqrinfo received"),
        }
    }
}

/// What a sent message means for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    None,
    Headers {
        first: u32,
        count: usize,
        announced: bool,
    },
    /// `forged`: served provably invalid (`--invalid-*`).
    QrInfoAnswered {
        forged: bool,
    },
    MnListDiffAnswered {
        forged: bool,
    },
    ClSigAnnounced,
    ClSigSent {
        forged: bool,
    },
    PingSent,
}

/// A message about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reply {
    message: RawMessage,
    effect: Effect,
}

/// What handling a message leads to, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Send a message.
    Send(Reply),
    /// Close the connection.
    Close(CloseReason),
}

impl From<Reply> for Step {
    fn from(reply: Reply) -> Step {
        Step::Send(reply)
    }
}

/// Where the connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Waiting for the client's `version`.
    AwaitingVersion,
    /// Our `verack` is sent; waiting for the client's.
    AwaitingVerack {
        /// The negotiated protocol version.
        version: u32,
    },
    /// Handshake done.
    Ready(Ready),
    /// The peer closes the connection: nothing more is handled or sent.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Ready {
    /// The negotiated protocol version.
    version: u32,
    /// Whether the client asked for `headers` announcements.
    send_headers: bool,
    /// The highest block the client is known to have.
    peer_best: u32,
    /// The tip the client has been told about.
    announced_tip: u32,
    ping: PingState,
    chainlock: ChainLockDelivery,
    /// The client's `filterload` filter, for `merkleblock` answers.
    filter: Option<BloomFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PingState {
    Idle,
    AwaitingPong { nonce: u64 },
}

/// How far the ChainLock has gone to this client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChainLockDelivery {
    /// Nothing announced.
    NotAnnounced,
    /// Announced with `inv` at this height; not asked for yet.
    Announced { height: i32 },
    /// Announced again once the client had the block; not asked for yet.
    Reannounced { height: i32 },
    /// Sent (asked for, or pushed).
    Delivered { height: i32 },
}

/// A small deterministic source of nonces (SplitMix64).
#[derive(Debug, Clone)]
struct Nonces(u64);

impl Nonces {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn challenge(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        out
    }
}

/// One client connection.
#[derive(Debug, Clone)]
pub struct Session {
    id: u64,
    peer: SocketAddr,
    phase: Phase,
    faults: ConnectionFaults,
    nonces: Nonces,
}

impl Session {
    /// A new connection `id` from `peer`; `nonce_seed` seeds its nonces.
    pub fn new(state: &ReplayState, id: u64, peer: SocketAddr, nonce_seed: u64) -> Session {
        Session {
            id,
            peer,
            phase: Phase::AwaitingVersion,
            faults: ConnectionFaults::new(&state.settings().faults),
            nonces: Nonces(nonce_seed),
        }
    }

    /// The connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The protocol version messages are read and written in.
    pub fn protocol_version(&self) -> u32 {
        match &self.phase {
            Phase::AwaitingVersion | Phase::Closed => PEER_PROTOCOL_VERSION,
            Phase::AwaitingVerack { version } => *version,
            Phase::Ready(ready) => ready.version,
        }
    }

    /// Handles a message from the client; `unix_time` is the current time.
    pub fn on_message(
        &mut self,
        state: &ReplayState,
        message: NetworkMessage,
        unix_time: i64,
    ) -> Vec<Outbound> {
        if self.phase == Phase::Closed {
            return Vec::new();
        }
        state.run().counters.received(&message.command().name());
        let steps = match &mut self.phase {
            Phase::AwaitingVersion => match message {
                NetworkMessage::Version(version) => self.on_version(state, &version, unix_time),
                other => {
                    debug!(conn = self.id, "ignored {} before version", other.command());
                    Vec::new()
                }
            },
            Phase::AwaitingVerack { version } => match message {
                NetworkMessage::Verack => {
                    let version = *version;
                    self.on_verack(state, version)
                }
                other => {
                    debug!(conn = self.id, "ignored {} before verack", other.command());
                    Vec::new()
                }
            },
            Phase::Ready(ready) => on_ready_message(self.id, ready, state, message),
            Phase::Closed => Vec::new(),
        };
        self.emit(state, steps)
    }

    /// Sends a ping if none is outstanding.
    pub fn on_ping_due(&mut self, state: &ReplayState) -> Vec<Outbound> {
        let Phase::Ready(ready) = &mut self.phase else {
            return Vec::new();
        };
        if let PingState::AwaitingPong { nonce } = ready.ping {
            debug!(conn = self.id, nonce, "no pong yet");
            return Vec::new();
        }
        let nonce = self.nonces.next();
        ready.ping = PingState::AwaitingPong { nonce };
        let ping = reply(NetworkMessage::Ping(nonce), ready.version, Effect::PingSent);
        self.emit(state, vec![ping.into()])
    }

    /// Announces blocks above what this client was told about, and the
    /// ChainLock if the new tip reaches it.
    pub fn on_tip_changed(&mut self, state: &ReplayState) -> Vec<Outbound> {
        let Phase::Ready(ready) = &mut self.phase else {
            return Vec::new();
        };
        let tip = state.tip();
        if tip <= ready.announced_tip {
            return Vec::new();
        }
        let chain = state.chain();
        let first = ready.announced_tip.saturating_add(1);
        let new_headers = chain.headers_between(first, tip);
        let caught_up = ready.peer_best >= ready.announced_tip;
        let mut steps = Vec::new();
        if ready.send_headers && caught_up && new_headers.len() <= MAX_BLOCKS_TO_ANNOUNCE {
            info!(conn = self.id, first, tip, "announcing new headers");
            steps.push(headers_reply(new_headers, first, true, ready.version).into());
            ready.peer_best = tip;
        } else if let Some(hash) = chain.hash_at(tip) {
            info!(conn = self.id, tip, "announcing the new tip with inv");
            let inv = Inventory {
                inv_type: InvType::Block,
                hash: Sha256dHash(*hash.as_bytes()),
            };
            steps.push(reply(NetworkMessage::Inv(vec![inv]), ready.version, Effect::None).into());
        }
        ready.announced_tip = tip;
        steps.extend(chainlock_due(self.id, ready, state));
        self.emit(state, steps)
    }

    fn on_version(
        &mut self,
        state: &ReplayState,
        version: &VersionMessage,
        unix_time: i64,
    ) -> Vec<Step> {
        let theirs = version.version;
        info!(
            conn = self.id,
            version = theirs,
            agent = ?version.user_agent_lossy(),
            height = version.start_height,
            "version"
        );
        let negotiated = match u32::try_from(theirs) {
            Ok(v) if v >= MIN_PEER_PROTO_VERSION => v.min(PEER_PROTOCOL_VERSION),
            _ => return vec![Step::Close(CloseReason::ObsoleteVersion(theirs))],
        };
        let ours = VersionMessage {
            version: i32::try_from(PEER_PROTOCOL_VERSION).unwrap_or(i32::MAX),
            services: PEER_SERVICES,
            timestamp: unix_time,
            receiver: NetAddress {
                services: version.services,
                address: self.peer.into(),
            },
            sender: NetAddress::default(),
            nonce: self.nonces.next(),
            user_agent: USER_AGENT.as_bytes().to_vec(),
            start_height: i32::try_from(state.tip()).unwrap_or(i32::MAX),
            relay: Some(true),
            mnauth_challenge: Some(self.nonces.challenge()),
            masternode_connection: Some(false),
        };
        self.phase = Phase::AwaitingVerack {
            version: negotiated,
        };
        vec![
            reply(NetworkMessage::Version(ours), negotiated, Effect::None).into(),
            reply(NetworkMessage::SendAddrV2, negotiated, Effect::None).into(),
            reply(NetworkMessage::Verack, negotiated, Effect::None).into(),
        ]
    }

    fn on_verack(&mut self, state: &ReplayState, version: u32) -> Vec<Step> {
        state.run().counters.handshake();
        let nonce = self.nonces.next();
        let tip = state.tip();
        info!(conn = self.id, version, tip, "handshake done");
        let mut ready = Ready {
            version,
            send_headers: false,
            peer_best: 0,
            announced_tip: tip,
            ping: PingState::AwaitingPong { nonce },
            chainlock: ChainLockDelivery::NotAnnounced,
            filter: None,
        };
        let mut steps: Vec<Step> = vec![
            reply(NetworkMessage::SendHeaders, version, Effect::None).into(),
            reply(NetworkMessage::Ping(nonce), version, Effect::PingSent).into(),
        ];
        steps.extend(chainlock_due(self.id, &mut ready, state));
        let locks: Vec<Inventory> = state
            .catalog()
            .instant_locks()
            .iter()
            .map(|lock| Inventory {
                inv_type: InvType::IsDLock,
                hash: lock.hash(),
            })
            .collect();
        if state.settings().announce_isdlocks && !locks.is_empty() {
            steps.push(reply(NetworkMessage::Inv(locks), version, Effect::None).into());
        }
        self.phase = Phase::Ready(ready);
        steps
    }

    /// Turns steps into outbound actions, applying the per-connection
    /// faults and counting what is actually sent.
    fn emit(&mut self, state: &ReplayState, steps: Vec<Step>) -> Vec<Outbound> {
        let mut out = Vec::with_capacity(steps.len());
        let mut run = state.run();
        for step in steps {
            if self.phase == Phase::Closed || self.faults.exhausted() {
                break;
            }
            let Reply { message, effect } = match step {
                Step::Send(reply) => reply,
                Step::Close(reason) => {
                    self.phase = Phase::Closed;
                    out.push(Outbound::Close(reason));
                    break;
                }
            };
            let counters = &mut run.counters;
            counters.sent(&message.command.name());
            match effect {
                Effect::None => {}
                Effect::Headers {
                    first,
                    count,
                    announced,
                } => counters.headers_sent(state.chain(), self.id, first, count, announced),
                Effect::QrInfoAnswered { forged } => {
                    counters.qrinfo().answered += 1;
                    counters.faults().invalid_qrinfo += u64::from(forged);
                    run.qrinfo_answered = true;
                }
                Effect::MnListDiffAnswered { forged } => {
                    counters.mnlistdiff().answered += 1;
                    counters.faults().invalid_mnlistdiff += u64::from(forged);
                }
                Effect::ClSigAnnounced => counters.clsig_announced(),
                Effect::ClSigSent { forged } => {
                    counters.clsig_sent();
                    counters.faults().invalid_clsig += u64::from(forged);
                }
                Effect::PingSent => counters.ping_sent(),
            }
            match self.faults.next_send() {
                SendFault::None => out.push(Outbound::Send(message)),
                SendFault::Corrupt => {
                    warn!(conn = self.id, command = %message.command, "--corrupt-after: sending it corrupted");
                    run.counters.faults().corrupted += 1;
                    out.push(Outbound::SendCorrupted(message));
                }
            }
        }
        if self.phase != Phase::Closed && self.faults.exhausted() {
            run.counters.faults().disconnect_after += 1;
            self.phase = Phase::Closed;
            out.push(Outbound::Close(CloseReason::MessagesSent(
                self.faults.sent(),
            )));
        }
        out
    }
}

fn on_ready_message(
    id: u64,
    ready: &mut Ready,
    state: &ReplayState,
    message: NetworkMessage,
) -> Vec<Step> {
    match message {
        NetworkMessage::Ping(nonce) => {
            vec![reply(NetworkMessage::Pong(nonce), ready.version, Effect::None).into()]
        }
        NetworkMessage::Pong(nonce) => {
            if ready.ping == (PingState::AwaitingPong { nonce }) {
                ready.ping = PingState::Idle;
                state.run().counters.pong_received();
            }
            Vec::new()
        }
        NetworkMessage::SendHeaders => {
            ready.send_headers = true;
            Vec::new()
        }
        NetworkMessage::FilterLoad(filter) => {
            ready.filter = Some(filter);
            Vec::new()
        }
        NetworkMessage::GetHeaders(request) => on_getheaders(id, ready, state, &request),
        NetworkMessage::GetQrInfo(request) => on_getqrinfo(id, ready, state, &request),
        NetworkMessage::GetMnListDiff(request) => on_getmnlistd(id, ready, state, &request),
        NetworkMessage::GetData(items) => on_getdata(id, ready, state, items),
        other => {
            debug!(conn = id, "ignored {}", other.command());
            Vec::new()
        }
    }
}

fn reply(message: NetworkMessage, version: u32, effect: Effect) -> Reply {
    Reply {
        message: message.encode(version),
        effect,
    }
}

fn headers_reply(headers: &[BlockHeader], first: u32, announced: bool, version: u32) -> Reply {
    reply(
        NetworkMessage::Headers(headers.to_vec()),
        version,
        Effect::Headers {
            first,
            count: headers.len(),
            announced,
        },
    )
}

fn on_getheaders(
    id: u64,
    ready: &mut Ready,
    state: &ReplayState,
    request: &GetHeaders,
) -> Vec<Step> {
    state.run().counters.getheaders();
    let tip = state.tip();
    let run = state
        .chain()
        .headers_after(&request.locator, &request.stop_hash, tip, MAX_HEADERS);
    if let Some(best) = run.last_height().into_iter().chain(run.locator_match).max() {
        ready.peer_best = ready.peer_best.max(best);
    }
    match run.last_height() {
        Some(last) => info!(
            conn = id,
            from = run.first_height,
            to = last,
            "getheaders: serving {} headers",
            run.headers.len()
        ),
        None => info!(conn = id, tip, "getheaders: nothing after the locator"),
    }
    let mut steps: Vec<Step> =
        vec![headers_reply(run.headers, run.first_height, false, ready.version).into()];
    steps.extend(chainlock_due(id, ready, state));
    steps
}

fn on_getqrinfo(id: u64, ready: &Ready, state: &ReplayState, request: &GetQrInfo) -> Vec<Step> {
    let requested = request.block_request_hash;
    {
        let from_genesis = request
            .base_block_hashes
            .iter()
            .all(|base| state.catalog().is_genesis(base));
        let mut run = state.run();
        run.counters.qrinfo().received += 1;
        if from_genesis {
            run.counters.qrinfo().from_genesis += 1;
        }
        if run.faults.take_disconnect_on_qrinfo() {
            run.counters.faults().disconnect_on_qrinfo += 1;
            warn!(conn = id, block = %requested, "--disconnect-on-qrinfo: closing");
            return vec![Step::Close(CloseReason::QrInfoRequested)];
        }
        if run.faults.take_qrinfo_drop() {
            run.counters.qrinfo().dropped += 1;
            warn!(conn = id, block = %requested, "--drop-qrinfo: ignoring getqrinfo");
            return Vec::new();
        }
    }
    let capture = match state.catalog().stale_fork_qrinfo() {
        Some(fork) => Some(fork),
        None => state
            .chain()
            .height_of(&requested, state.tip())
            .and_then(|_| state.catalog().qrinfo_for(request)),
    };
    let Some(capture) = capture else {
        state.run().counters.qrinfo().unknown += 1;
        info!(conn = id, block = %requested, "getqrinfo: no capture for this block, not answering");
        return Vec::new();
    };
    info!(conn = id, block = %requested, "getqrinfo: answering with {}", capture.name);
    let forged = state.settings().faults.invalid.qrinfo;
    vec![Step::Send(Reply {
        message: RawMessage {
            command: Command::new("qrinfo"),
            payload: served_payload(id, capture, forged, forge_qrinfo, ready.version),
        },
        effect: Effect::QrInfoAnswered { forged },
    })]
}

fn on_getmnlistd(
    id: u64,
    ready: &Ready,
    state: &ReplayState,
    request: &GetMnListDiff,
) -> Vec<Step> {
    state.run().counters.mnlistdiff().received += 1;
    let capture = state
        .chain()
        .height_of(&request.block_hash, state.tip())
        .and_then(|_| state.catalog().diff_for(request));
    let Some(capture) = capture else {
        state.run().counters.mnlistdiff().unknown += 1;
        info!(conn = id, block = %request.block_hash, "getmnlistd: no capture for this block, not answering");
        return Vec::new();
    };
    info!(
        conn = id,
        block = %request.block_hash,
        asked_base = %request.base_block_hash,
        "getmnlistd: answering with {}",
        capture.name
    );
    let forged = state.settings().faults.invalid.mnlistdiff;
    vec![Step::Send(Reply {
        message: RawMessage {
            command: Command::new("mnlistdiff"),
            payload: served_payload(id, capture, forged, forge_diff, ready.version),
        },
        effect: Effect::MnListDiffAnswered { forged },
    })]
}

/// The payload answering with `capture`: as captured (or re-encoded for an
/// older protocol version), or when `forged`, made provably invalid by
/// `forge` and encoded for `version`.
fn served_payload<T: Versioned>(
    id: u64,
    capture: &Capture<T>,
    forged: bool,
    forge: impl Fn(&T) -> T,
    version: u32,
) -> Vec<u8> {
    if forged {
        warn!(conn = id, "--invalid-*: serving {} forged", capture.name);
        forge(&capture.message).payload_for(version)
    } else {
        capture.payload_for(version)
    }
}

/// The ChainLock as this peer serves it: forged with `--invalid-clsig`.
fn served_clsig(state: &ReplayState, clsig: &ClSig) -> ClSig {
    if state.settings().faults.invalid.clsig {
        forge_clsig(clsig)
    } else {
        *clsig
    }
}

fn on_getdata(id: u64, ready: &mut Ready, state: &ReplayState, items: Vec<Inventory>) -> Vec<Step> {
    let tip = state.tip();
    let mut steps = Vec::new();
    let mut missing = Vec::new();
    let forged = state.settings().faults.invalid.clsig;
    for item in items {
        if item.inv_type == InvType::FilteredBlock {
            match filtered_block(ready, state, &BlockHash(item.hash.0)) {
                Some(block) => {
                    info!(conn = id, block = %block.header.block_hash(), "getdata: sending merkleblock");
                    let message = NetworkMessage::MerkleBlock(Box::new(block));
                    steps.push(reply(message, ready.version, Effect::None).into());
                }
                None => missing.push(item),
            }
            continue;
        }
        if item.inv_type == InvType::IsDLock {
            match state
                .catalog()
                .instant_locks()
                .iter()
                .find(|lock| lock.hash() == item.hash)
            {
                Some(lock) => {
                    info!(conn = id, txid = %lock.txid, "getdata: sending isdlock");
                    let message = NetworkMessage::IsDLock(Box::new(lock.clone()));
                    steps.push(reply(message, ready.version, Effect::None).into());
                }
                None => missing.push(item),
            }
            continue;
        }
        let found = match item.inv_type {
            InvType::ClSig => state
                .catalog()
                .chainlocks()
                .iter()
                .map(|clsig| served_clsig(state, clsig))
                .find(|clsig| {
                    clsig_inv_hash(clsig) == item.hash
                        && state.chain().height_of(&clsig.block_hash, tip).is_some()
                }),
            _ => None,
        };
        match found {
            Some(clsig) => {
                info!(conn = id, height = clsig.height, "getdata: sending clsig");
                ready.chainlock = ChainLockDelivery::Delivered {
                    height: clsig.height,
                };
                steps.push(
                    reply(
                        NetworkMessage::ClSig(clsig),
                        ready.version,
                        Effect::ClSigSent { forged },
                    )
                    .into(),
                );
            }
            None => missing.push(item),
        }
    }
    if !missing.is_empty() {
        steps.push(
            reply(
                NetworkMessage::NotFound(missing),
                ready.version,
                Effect::None,
            )
            .into(),
        );
    }
    steps
}

/// A `merkleblock` for a block whose coinbase proof a captured diff holds:
/// the coinbase's partial merkle tree if the client's filter matches the
/// coinbase, else a tree that matches nothing (the root alone). `None`
/// without a filter, a header or a captured coinbase proof of the block.
fn filtered_block(ready: &Ready, state: &ReplayState, hash: &BlockHash) -> Option<MerkleBlock> {
    let filter = ready.filter.as_ref()?;
    let height = state.chain().height_of(hash, state.tip())?;
    let header = *state.chain().header_at(height)?;
    let diff = &state.catalog().diff_of_block(hash)?.message;
    let tree = if filter.contains(diff.coinbase_tx.txid().as_bytes()) {
        diff.coinbase_merkle_tree.clone()
    } else {
        PartialMerkleTree {
            total_transactions: diff.coinbase_merkle_tree.total_transactions,
            hashes: vec![header.merkle_root],
            flags: vec![0],
        }
    };
    Some(MerkleBlock { header, tree })
}

/// The `inv` hash of a ChainLock: double SHA-256 of its serialization.
pub fn clsig_inv_hash(clsig: &ClSig) -> Sha256dHash {
    Sha256dHash(sha256d(&serialize(clsig)))
}

/// What to send about the latest ChainLock the served tip reaches: an `inv`
/// when it is new to the client, the same `inv` again once the client has
/// the locked block if it has not asked for it yet; with `--push-clsig`,
/// the `clsig` itself once the client has the block.
fn chainlock_due(id: u64, ready: &mut Ready, state: &ReplayState) -> Vec<Step> {
    let Some(clsig) = state.latest_chainlock(state.tip()) else {
        return Vec::new();
    };
    let clsig = served_clsig(state, &clsig);
    let forged = state.settings().faults.invalid.clsig;
    let height = clsig.height;
    let client_has_block = u32::try_from(height).is_ok_and(|h| ready.peer_best >= h);
    let announcement = Step::Send(reply(
        NetworkMessage::Inv(vec![Inventory {
            inv_type: InvType::ClSig,
            hash: clsig_inv_hash(&clsig),
        }]),
        ready.version,
        Effect::ClSigAnnounced,
    ));
    let (next, step) = match ready.chainlock {
        ChainLockDelivery::Delivered { height: h }
        | ChainLockDelivery::Reannounced { height: h }
            if h >= height =>
        {
            return Vec::new()
        }
        _ if state.settings().push_clsig => {
            if !client_has_block {
                return Vec::new();
            }
            info!(conn = id, height, "pushing clsig");
            let sent = reply(
                NetworkMessage::ClSig(clsig),
                ready.version,
                Effect::ClSigSent { forged },
            );
            (ChainLockDelivery::Delivered { height }, sent.into())
        }
        ChainLockDelivery::Announced { height: h } if h >= height => {
            if !client_has_block {
                return Vec::new();
            }
            info!(
                conn = id,
                height, "announcing clsig again: the client has the block now"
            );
            (ChainLockDelivery::Reannounced { height }, announcement)
        }
        _ => {
            info!(conn = id, height, "announcing clsig");
            (ChainLockDelivery::Announced { height }, announcement)
        }
    };
    ready.chainlock = next;
    vec![step]
}
