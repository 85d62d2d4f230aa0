//! The node against peers replaying real testnet data (fixtures README, scenario A), one of
//! them with a single bit flipped in a message: the peer that sends provably invalid data is
//! dropped and banned, and the sync goes on with the other one.

use super::*;
use crate::block::BlockHeader;
use crate::bls::KeyCache;
use crate::chain::header_chain::HeaderChain;
use crate::chain::sync_base::SyncBase;
use crate::chain::BlockId;
use crate::encode::{Decodable, Reader};
use crate::mnlist::check::{check_share, decode_share, CheckShare};
use crate::mnlist::MasternodeEngine;
use crate::node::engine::ClientEngine;
use crate::node::hashing::hash_share;
use crate::protocol::framing::{Command, RawMessage, StreamDecoder};
use crate::protocol::handshake::{NetAddress, VersionMessage};
use crate::sync::engine::{ChainLockSigner, ChainLockTarget};
use crate::sync::events::SyncEvent;
use crate::sync::requests::Output;
use crate::sync::state::SyncState;
use crate::sync::time::{Millis, Now};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

const FIRST_HEIGHT: u32 = 898_560;
const QRINFO_TIP: u32 = 905_294;
const SIGNING_LIST: u32 = 905_762;
const TIP_AFTER_QRINFO: u32 = 905_770;
const TIP_AFTER_DIFF: u32 = 905_800;
const CHAINLOCK_HEIGHT: u32 = 905_775;
/// Where the signature starts in a `clsig` payload (height, block hash).
const CLSIG_SIGNATURE_OFFSET: usize = 4 + 32;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../shared/fixtures/testnet/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// `payload` with one bit flipped in `part`, which occurs in it exactly once.
fn flip_bit_in(payload: &[u8], part: &[u8]) -> Vec<u8> {
    let mut found = payload
        .windows(part.len())
        .enumerate()
        .filter(|(_, window)| *window == part)
        .map(|(at, _)| at);
    let at = found.next().expect("in the payload");
    assert_eq!(found.next(), None, "only once in the payload");
    let mut bytes = payload.to_vec();
    bytes[at] ^= 1;
    bytes
}

/// A diff's proof of its coinbase: change it and the proof no longer hashes to the block's
/// merkle root.
fn coinbase_proof(diff: &MnListDiff) -> &[u8] {
    let hash = diff.coinbase_merkle_tree.hashes.last().expect("a proof");
    &hash.0
}

/// `qrinfo_905294.bin` with one bit flipped in the tip diff's coinbase merkle proof.
fn corrupt_qrinfo(payload: &[u8]) -> Vec<u8> {
    let qrinfo = QrInfo::decode(&mut Reader::new(payload), PROTOCOL_VERSION).expect("decodes");
    flip_bit_in(payload, coinbase_proof(&qrinfo.diff_tip))
}

/// `mnlistdiff_0_905762.bin` with one bit flipped in its coinbase merkle proof.
fn corrupt_mnlistdiff(payload: &[u8]) -> Vec<u8> {
    let diff = MnListDiff::decode(&mut Reader::new(payload), PROTOCOL_VERSION).expect("decodes");
    flip_bit_in(payload, coinbase_proof(&diff))
}

/// `clsig_905775.bin` with one bit of its BLS signature flipped.
fn corrupt_clsig(payload: &[u8]) -> Vec<u8> {
    let mut bytes = payload.to_vec();
    bytes[CLSIG_SIGNATURE_OFFSET + 40] ^= 1;
    bytes
}

/// The real testnet headers from the 898560 checkpoint on.
struct Headers {
    headers: Vec<BlockHeader>,
    heights: HashMap<BlockHash, u32>,
}

impl Headers {
    fn load() -> Rc<Headers> {
        let bytes = fixture("headers/testnet_headers_898560_947248.bin");
        let headers: Vec<BlockHeader> = bytes
            .chunks_exact(80)
            .take((TIP_AFTER_DIFF - FIRST_HEIGHT + 1) as usize)
            .map(|c| BlockHeader::from_bytes(c.try_into().expect("80 bytes")))
            .collect();
        let heights = headers
            .iter()
            .zip(FIRST_HEIGHT..)
            .map(|(h, height)| (h.block_hash(), height))
            .collect();
        Rc::new(Headers { headers, heights })
    }

    fn range(&self, from: u32, to: u32) -> Vec<BlockHeader> {
        self.headers[(from - FIRST_HEIGHT) as usize..=(to - FIRST_HEIGHT) as usize].to_vec()
    }
}

/// A dashd stand-in answering from the captured data (scenario A): headers, the QRInfo for
/// 905294 (then the chain grows to 905770), the diff for 905762 (then the chain grows to
/// 905800 and the ChainLock for 905775 is relayed).
struct ReplayPeer {
    chain: Rc<Headers>,
    served_tip: u32,
    qrinfo: Vec<u8>,
    mnlistdiff: Vec<u8>,
    clsig: Vec<u8>,
    decoder: StreamDecoder,
    outbox: Vec<u8>,
    qrinfo_requests: u32,
    signing_list_requests: u32,
    /// Counts `getqrinfo`s but never answers them.
    ignores_qrinfo: bool,
    /// Relays its ChainLock once it has served the signing list (dashd relays each once).
    relays_clsig_after_diff: bool,
    getheaders_requests: u32,
    getdata_requests: u32,
}

impl ReplayPeer {
    fn honest(chain: &Rc<Headers>, served_tip: u32) -> ReplayPeer {
        ReplayPeer {
            chain: Rc::clone(chain),
            served_tip,
            qrinfo: fixture("qrinfo/qrinfo_905294.bin"),
            mnlistdiff: fixture("mnlistdiff/mnlistdiff_0_905762.bin"),
            clsig: fixture("clsig/clsig_905775.bin"),
            decoder: StreamDecoder::new(Network::Testnet),
            outbox: Vec::new(),
            qrinfo_requests: 0,
            signing_list_requests: 0,
            ignores_qrinfo: false,
            relays_clsig_after_diff: true,
            getheaders_requests: 0,
            getdata_requests: 0,
        }
    }

    fn hash_at(&self, height: u32) -> BlockHash {
        self.chain.headers[(height - FIRST_HEIGHT) as usize].block_hash()
    }

    fn send(&mut self, message: &NetworkMessage) {
        self.outbox
            .extend(message.encode(PROTOCOL_VERSION).to_wire(Network::Testnet));
    }

    fn send_raw(&mut self, command: &str, payload: Vec<u8>) {
        let raw = RawMessage {
            command: Command::new(command),
            payload,
        };
        self.outbox.extend(raw.to_wire(Network::Testnet));
    }

    /// Extends the served chain to `height` and announces the new headers.
    fn grow(&mut self, height: u32) {
        if height > self.served_tip {
            let new = self.chain.range(self.served_tip + 1, height);
            self.served_tip = height;
            self.send(&NetworkMessage::Headers(new));
        }
    }

    fn relay_clsig(&mut self) {
        let clsig = self.clsig.clone();
        self.send_raw("clsig", clsig);
    }

    fn receive(&mut self, bytes: &[u8]) {
        self.decoder.feed(bytes);
        while let Some(raw) = self
            .decoder
            .next_message()
            .expect("the node frames correctly")
        {
            let message =
                NetworkMessage::from_raw(&raw, PROTOCOL_VERSION).expect("the node encodes well");
            match message {
                NetworkMessage::Version(_) => {
                    self.send(&NetworkMessage::Version(VersionMessage {
                        version: PROTOCOL_VERSION as i32,
                        services: 5,
                        timestamp: 1_700_000_000,
                        receiver: NetAddress::default(),
                        sender: NetAddress::default(),
                        nonce: 1,
                        user_agent: b"/replay-peer/".to_vec(),
                        start_height: self.served_tip as i32,
                        relay: Some(true),
                        mnauth_challenge: None,
                        masternode_connection: None,
                    }));
                    self.send(&NetworkMessage::Verack);
                }
                NetworkMessage::Ping(nonce) => self.send(&NetworkMessage::Pong(nonce)),
                NetworkMessage::GetData(_) => self.getdata_requests += 1,
                NetworkMessage::GetHeaders(request) => {
                    self.getheaders_requests += 1;
                    let start = request
                        .locator
                        .iter()
                        .find_map(|h| self.chain.heights.get(h))
                        .copied()
                        .unwrap_or(FIRST_HEIGHT);
                    let end = self.served_tip.min(start + 2_000);
                    let batch = if end > start {
                        self.chain.range(start + 1, end)
                    } else {
                        Vec::new()
                    };
                    self.send(&NetworkMessage::Headers(batch));
                }
                NetworkMessage::GetQrInfo(request)
                    if request.block_request_hash == self.hash_at(QRINFO_TIP) =>
                {
                    self.qrinfo_requests += 1;
                    if self.ignores_qrinfo {
                        continue;
                    }
                    let qrinfo = self.qrinfo.clone();
                    self.send_raw("qrinfo", qrinfo);
                    self.grow(TIP_AFTER_QRINFO);
                }
                NetworkMessage::GetMnListDiff(request)
                    if request.block_hash == self.hash_at(SIGNING_LIST) =>
                {
                    self.signing_list_requests += 1;
                    let diff = self.mnlistdiff.clone();
                    self.send_raw("mnlistdiff", diff);
                    self.grow(TIP_AFTER_DIFF);
                    if self.relays_clsig_after_diff {
                        self.relay_clsig();
                    }
                }
                _ => {}
            }
        }
    }
}

/// How the simulated checking workers of a [`Net`] answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workers {
    /// No workers: the node checks quorums in its own thread.
    None,
    /// This many workers, each running `check_share` with its own key cache.
    Checking(usize),
    /// Two workers answering bytes that fit no check (and one answer too many).
    Garbage,
    /// Two workers that never answer: the node waits for its deadline.
    Silent,
}

impl Workers {
    /// How many workers the node is told it has.
    fn count(self) -> usize {
        match self {
            Workers::None => 0,
            Workers::Checking(count) => count,
            Workers::Garbage | Workers::Silent => 2,
        }
    }
}

/// A node and its replay peers (bridge `i` is `peers[i]`), in simulated time.
struct Net {
    node: Node<HeaderChain, ClientEngine>,
    peers: Vec<ReplayPeer>,
    urls: Vec<String>,
    dials: HashMap<String, PeerId>,
    sockets: HashMap<PeerId, usize>,
    owners: HashMap<PeerId, usize>,
    closed: Vec<usize>,
    gone: Vec<(usize, String, Option<Penalty>)>,
    /// The ChainLocks the sync reported verified, with their signers.
    chainlocks: Vec<(ChainLockTarget, ChainLockSigner)>,
    paused: Option<usize>,
    /// How the simulated checking workers answer.
    workers: Workers,
    /// Check batches sent out, not answered yet.
    batches: VecDeque<(u64, Vec<Vec<u8>>)>,
    /// How many check batches were parts of one quorum's key aggregation.
    split_batches: usize,
    /// Header batches sent out to hash, not answered yet.
    hash_jobs: VecDeque<HashRequest>,
    /// The key cache of each simulated checking worker.
    worker_keys: Vec<KeyCache>,
    now: Timestamp,
    unix: u64,
}

impl Net {
    fn new(peers: Vec<ReplayPeer>) -> Net {
        Net::with_workers(peers, Workers::None)
    }

    /// A net whose node sends its quorum checks to simulated workers answering as `workers`.
    fn with_workers(peers: Vec<ReplayPeer>, workers: Workers) -> Net {
        Net::with_config(peers, workers, SyncConfig::for_network(Network::Testnet))
    }

    /// A net whose node has `config`, and `workers`.
    fn with_config(peers: Vec<ReplayPeer>, workers: Workers, config: SyncConfig) -> Net {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let base = SyncBase::at_or_below(Network::Testnet, FIRST_HEIGHT);
        let chain = HeaderChain::new(base);
        let engine = ClientEngine::new(MasternodeEngine::new(Network::Testnet));
        let urls: Vec<String> = (0..peers.len()).map(|i| format!("sim://{i}")).collect();
        // Dials stay pending until a test opens them.
        let peer_config = PeerSetConfig {
            connect_timeout: Millis::from_secs(24 * 3600),
            ..PeerSetConfig::default()
        };
        let node = Node::new(
            Network::Testnet,
            &urls,
            peer_config,
            SyncConfig {
                check_workers: workers.count(),
                ..config
            },
            chain,
            engine,
            7,
        );
        let mut net = Net {
            node,
            peers,
            urls,
            dials: HashMap::new(),
            sockets: HashMap::new(),
            owners: HashMap::new(),
            closed: Vec::new(),
            gone: Vec::new(),
            chainlocks: Vec::new(),
            paused: None,
            worker_keys: (0..workers.count()).map(|_| KeyCache::new()).collect(),
            workers,
            batches: VecDeque::new(),
            split_batches: 0,
            hash_jobs: VecDeque::new(),
            now: Timestamp(0),
            unix,
        };
        let outputs = net.node.start(net.clock());
        net.handle(outputs);
        net
    }

    /// Both clocks: the wall clock moves with the simulated time.
    fn clock(&self) -> Now {
        Now::new(self.now, self.unix + self.now.as_millis() / 1000)
    }

    fn handle(&mut self, outputs: Vec<NodeOutput>) {
        for output in outputs {
            match output {
                NodeOutput::Socket(SocketCommand::Connect { peer, url }) => {
                    self.dials.insert(url, peer);
                }
                NodeOutput::Socket(SocketCommand::Send { peer, bytes }) => {
                    if let Some(&index) = self.sockets.get(&peer) {
                        self.peers[index].receive(&bytes);
                    }
                }
                NodeOutput::Socket(SocketCommand::Close { peer }) => {
                    if let Some(index) = self.sockets.remove(&peer) {
                        self.peers[index].outbox.clear();
                        self.closed.push(index);
                    }
                }
                NodeOutput::Notify(Notification::PeerGone {
                    peer,
                    reason,
                    penalty,
                }) => self.gone.push((self.owners[&peer], reason, penalty)),
                NodeOutput::Notify(Notification::Sync(Output::Event(
                    SyncEvent::ChainLockVerified { target, signer },
                ))) => self.chainlocks.push((target, signer)),
                NodeOutput::Notify(_) => {}
                NodeOutput::CheckQuorums { batch, shares } => {
                    assert_ne!(
                        self.workers,
                        Workers::None,
                        "no checking workers configured"
                    );
                    assert!(shares.len() <= self.workers.count() && !shares.is_empty());
                    if let Ok(CheckShare::Part(_)) = decode_share(&shares[0]) {
                        self.split_batches += 1;
                    }
                    self.batches.push_back((batch, shares));
                }
                NodeOutput::HashHeaders(request) => {
                    assert_ne!(self.workers, Workers::None, "no workers configured");
                    assert!(request.shares.len() <= self.workers.count());
                    self.hash_jobs.push_back(request);
                }
            }
        }
    }

    /// The simulated workers' answers to the oldest batch sent out, if they answer.
    fn answer_checks(&mut self) -> Option<Vec<NodeOutput>> {
        let (batch, shares) = self.batches.pop_front()?;
        let answers: Vec<Vec<u8>> = match self.workers {
            Workers::None | Workers::Silent => return Some(Vec::new()),
            Workers::Checking(_) => shares
                .iter()
                .zip(self.worker_keys.iter_mut())
                .map(|(share, keys)| check_share(share, keys).expect("the node's own checks"))
                .collect(),
            Workers::Garbage => vec![vec![0xff, 1, 2]; shares.len() + 1],
        };
        Some(self.node.quorum_checks_done(batch, &answers, self.clock()))
    }

    /// The simulated workers' answers to the oldest header batch sent out to hash, if they
    /// answer.
    fn answer_hashes(&mut self) -> Option<Vec<NodeOutput>> {
        let request = self.hash_jobs.pop_front()?;
        let answers: Vec<Vec<u8>> = match self.workers {
            Workers::None | Workers::Silent => return Some(Vec::new()),
            Workers::Checking(_) => request.shares.iter().map(|s| hash_share(s)).collect(),
            Workers::Garbage => vec![vec![0xff; 64]; request.shares.len()],
        };
        Some(
            self.node
                .headers_hashed(request.job, &answers, self.clock()),
        )
    }

    /// Opens the pending socket to bridge `index`.
    fn open(&mut self, index: usize) {
        let peer = self
            .dials
            .remove(&self.urls[index])
            .expect("a pending dial");
        self.sockets.insert(peer, index);
        self.owners.insert(peer, index);
        let outputs = self.node.socket_opened(peer, self.clock());
        self.handle(outputs);
    }

    /// Delivers what the peers sent (all of one peer's bytes in one read), ticking every
    /// 100 ms when nothing is left, until `done` holds; false if it never did.
    fn run_until(&mut self, done: impl Fn(&Net) -> bool) -> bool {
        for _ in 0..50_000 {
            if done(self) {
                return true;
            }
            let sender = self
                .sockets
                .iter()
                .map(|(&peer, &index)| (peer, index))
                .filter(|&(_, index)| Some(index) != self.paused)
                .find(|&(_, index)| !self.peers[index].outbox.is_empty());
            let outputs = match sender {
                Some((peer, index)) => {
                    let bytes = core::mem::take(&mut self.peers[index].outbox);
                    self.node.socket_data(peer, &bytes, self.clock())
                }
                None if !self.batches.is_empty() => self.answer_checks().unwrap_or_default(),
                None if !self.hash_jobs.is_empty() => self.answer_hashes().unwrap_or_default(),
                None => {
                    self.now = self.now + Millis(100);
                    self.node.tick(self.clock())
                }
            };
            self.handle(outputs);
        }
        done(self)
    }

    fn is_ready(&self, index: usize) -> bool {
        self.sockets.iter().any(|(peer, &i)| {
            i == index && self.node.peers().ready_peers().any(|(p, ..)| p == *peer)
        })
    }

    fn endpoint_state(&self, index: usize) -> &'static str {
        self.node.endpoint_states()[index].1
    }

    /// Opens bridge `index` while the other peer's bytes wait, until it is ready.
    fn join(&mut self, index: usize, waiting: usize) {
        self.paused = Some(waiting);
        self.open(index);
        assert!(self.run_until(|net| net.is_ready(index) && net.peers[index].outbox.is_empty()));
        self.paused = None;
    }

    /// Whether the node synced everything and verified the ChainLock for 905775.
    fn synced_with_chainlock(&self) -> bool {
        let progress = self.node.progress();
        progress.state == SyncState::Synced
            && progress.best_chainlock.map(|t| t.height) == Some(CHAINLOCK_HEIGHT)
    }

    fn assert_banned(&self, index: usize, what: &str) {
        assert_eq!(self.closed, vec![index], "only the lying peer is dropped");
        assert_eq!(self.endpoint_state(index), "banned");
        let (who, reason, penalty) = self.gone.first().expect("a peer left");
        assert_eq!(*who, index);
        assert!(penalty.is_some_and(|p| p.ban.is_some()), "{penalty:?}");
        assert!(
            reason.starts_with(&format!("invalid {what}: ")),
            "reason: {reason}"
        );
    }
}

#[test]
fn a_peer_sending_an_invalid_qrinfo_is_banned_and_another_is_asked() {
    let chain = Headers::load();
    let mut liar = ReplayPeer::honest(&chain, QRINFO_TIP);
    liar.qrinfo = corrupt_qrinfo(&liar.qrinfo);
    let honest = ReplayPeer::honest(&chain, QRINFO_TIP);
    let mut net = Net::new(vec![liar, honest]);
    net.open(0);
    assert!(net.run_until(|net| net.peers[0].qrinfo_requests == 1));
    // The QRInfo went to the liar; its answer waits while the honest peer joins.
    net.join(1, 0);
    assert!(net.run_until(|net| !net.closed.is_empty()));
    net.assert_banned(0, "qrinfo");
    assert!(net.gone[0].1.contains("merkle"), "{}", net.gone[0].1);
    // The headers the liar announced in the same read were not used.
    assert_eq!(net.node.sync().chain().tip().height, QRINFO_TIP);
    assert_eq!(
        net.peers[1].qrinfo_requests, 1,
        "the retry went to the other peer"
    );
    assert!(net.run_until(Net::synced_with_chainlock));
    assert_eq!(net.closed, vec![0]);
    assert_eq!(net.endpoint_state(0), "banned");
}

#[test]
fn a_peer_sending_an_invalid_mnlistdiff_is_banned_and_another_is_asked() {
    let chain = Headers::load();
    let mut liar = ReplayPeer::honest(&chain, QRINFO_TIP);
    liar.mnlistdiff = corrupt_mnlistdiff(&liar.mnlistdiff);
    let honest = ReplayPeer::honest(&chain, TIP_AFTER_QRINFO);
    let mut net = Net::new(vec![liar, honest]);
    net.open(0);
    assert!(net.run_until(|net| net.peers[0].signing_list_requests == 1));
    net.join(1, 0);
    assert!(net.run_until(|net| !net.closed.is_empty()));
    net.assert_banned(0, "mnlistdiff");
    assert_eq!(
        net.peers[1].signing_list_requests, 1,
        "the retry went to the other peer"
    );
    assert!(net.run_until(Net::synced_with_chainlock));
    assert_eq!(net.closed, vec![0]);
}

#[test]
fn a_peer_relaying_a_forged_chainlock_is_banned_and_a_real_one_is_taken_from_another() {
    let chain = Headers::load();
    let mut liar = ReplayPeer::honest(&chain, QRINFO_TIP);
    liar.clsig = corrupt_clsig(&liar.clsig);
    let honest = ReplayPeer::honest(&chain, TIP_AFTER_QRINFO);
    let mut net = Net::new(vec![liar, honest]);
    net.open(0);
    assert!(net.run_until(|net| net.peers[0].signing_list_requests == 1));
    net.join(1, 0);
    // The liar's diff is good and applied; the forged ChainLock after it is not.
    assert!(net.run_until(|net| !net.closed.is_empty()));
    net.assert_banned(0, "clsig");
    assert_eq!(net.node.progress().best_chainlock, None);
    assert_eq!(net.node.progress().masternodes.current_height, SIGNING_LIST);
    net.peers[1].grow(TIP_AFTER_DIFF);
    net.peers[1].relay_clsig();
    assert!(net.run_until(Net::synced_with_chainlock));
    assert_eq!(net.closed, vec![0]);
}

#[test]
fn a_chainlock_not_checkable_yet_is_not_blamed_a_checkable_forgery_bans_the_only_peer_for_a_while()
{
    let chain = Headers::load();
    let mut peer = ReplayPeer::honest(&chain, QRINFO_TIP);
    let real = core::mem::take(&mut peer.clsig);
    peer.clsig = corrupt_clsig(&real);
    let mut net = Net::new(vec![peer]);
    net.open(0);
    assert!(net.run_until(|net| net.is_ready(0)));
    // Before any masternode list no quorum is known to check it against: it is held, and
    // found forged only once the lists arrive, while another message is being handled.
    net.peers[0].relay_clsig();
    net.peers[0].clsig = real;
    assert!(net.run_until(Net::synced_with_chainlock));
    assert!(net.closed.is_empty());
    assert!(net.gone.is_empty());
    // Once its quorum is known, a forgery gets its peer banned: 905777 is signed by the
    // quorum of 905775, whose signature it reuses.
    let forged = ClSig {
        height: CHAINLOCK_HEIGHT as i32 + 2,
        block_hash: chain.headers[(CHAINLOCK_HEIGHT + 2 - FIRST_HEIGHT) as usize].block_hash(),
        signature: ClSig::decode(&mut Reader::new(&net.peers[0].clsig))
            .expect("decodes")
            .signature,
    };
    net.peers[0].send(&NetworkMessage::ClSig(forged));
    assert!(net.run_until(|net| !net.closed.is_empty()));
    net.assert_banned(0, "clsig");
    assert!(
        net.gone[0].1.contains("does not verify"),
        "{}",
        net.gone[0].1
    );
    // It was the only peer: the sync waits for one, and the peer is dialled again once
    // its ban is over.
    assert_eq!(net.node.progress().state, SyncState::WaitingForConnections);
    let banned_at = net.now;
    let ban = PeerSetConfig::default().ban_duration;
    assert!(net.run_until(|net| net.dials.contains_key(&net.urls[0])));
    assert!(net.now >= banned_at + ban, "redialled during the ban");
    net.open(0);
    assert!(net.run_until(|net| net.is_ready(0)));
    // The sync resumes with it from the lists the engine holds: Synced again, without
    // asking a QRInfo from genesis again.
    let qrinfos = net.node.progress().masternodes.qrinfos_requested;
    assert!(net.run_until(|net| net.node.progress().state == SyncState::Synced));
    assert_eq!(*net.node.sync().masternodes().state(), SyncState::Synced);
    assert_eq!(net.node.progress().masternodes.qrinfos_requested, qrinfos);
}

#[test]
fn an_empty_headers_message_from_a_peer_not_asked_does_not_end_the_sync_another_serves() {
    let chain = Headers::load();
    let serving = ReplayPeer::honest(&chain, QRINFO_TIP);
    let other = ReplayPeer::honest(&chain, QRINFO_TIP);
    let mut net = Net::new(vec![serving, other]);
    net.open(0);
    assert!(net.run_until(|net| net.is_ready(0)));
    // The header sync is asked of peer 0, whose answers wait while peer 1 joins and sends an
    // empty `headers`, as if it answered.
    net.join(1, 0);
    net.paused = Some(0);
    net.peers[1].send(&NetworkMessage::Headers(Vec::new()));
    assert!(net.run_until(|net| net.peers[1].outbox.is_empty()));
    assert_eq!(net.node.unsolicited_dropped(), 1);
    assert_eq!(
        *net.node.sync().headers().state(),
        SyncState::Syncing,
        "the sync peer 0 serves is still on"
    );
    net.paused = None;
    assert!(net.run_until(|net| net.node.sync().chain().tip().height == QRINFO_TIP));
    assert!(net.gone.is_empty());
}

#[test]
fn a_timed_out_getqrinfo_is_retried_with_the_other_peer() {
    let chain = Headers::load();
    let mut silent = ReplayPeer::honest(&chain, QRINFO_TIP);
    silent.ignores_qrinfo = true;
    let honest = ReplayPeer::honest(&chain, QRINFO_TIP);
    let mut net = Net::new(vec![silent, honest]);
    net.open(0);
    assert!(net.run_until(|net| net.peers[0].qrinfo_requests == 1));
    net.join(1, 0);
    assert!(net.run_until(|net| net.peers[1].qrinfo_requests == 1));
    assert!(net.run_until(|net| net.node.progress().masternodes.diffs_processed > 0));
    assert_eq!(
        net.peers[0].qrinfo_requests, 1,
        "the retry went to the peer that had not failed it"
    );
    assert!(net.gone.is_empty(), "a slow peer is not banned");
}

#[test]
fn a_far_future_chainlock_does_not_shadow_the_real_one() {
    let chain = Headers::load();
    let mut net = Net::new(vec![ReplayPeer::honest(&chain, QRINFO_TIP)]);
    net.open(0);
    assert!(net.run_until(|net| net.is_ready(0)));
    // A ChainLock for the highest height an `i32` holds, with a real signature: before the
    // lists it cannot be checked, and it must not make the real one look old.
    let real = ClSig::decode(&mut Reader::new(&net.peers[0].clsig)).expect("decodes");
    let far = ClSig {
        height: i32::MAX,
        ..real
    };
    net.peers[0].send(&NetworkMessage::ClSig(far));
    assert!(net.run_until(Net::synced_with_chainlock));
    assert!(net.closed.is_empty());
    assert!(net.gone.is_empty());
}

#[test]
fn each_chainlock_is_verified_once_and_its_event_names_the_signing_quorum() {
    let chain = Headers::load();
    let mut net = Net::new(vec![ReplayPeer::honest(&chain, QRINFO_TIP)]);
    net.open(0);
    assert!(net.run_until(Net::synced_with_chainlock));
    let [(target, signer)] = net.chainlocks[..] else {
        panic!("one ChainLock verified: {:?}", net.chainlocks);
    };
    assert_eq!(target.height, CHAINLOCK_HEIGHT);
    // The engine's own check names the same quorum, and that check is the second signature
    // check of this ChainLock: the sync's was the first and only one.
    let engine = net.node.sync().engine().inner();
    assert_eq!(engine.chainlock_signature_checks(), 1);
    let clsig = ClSig::decode(&mut Reader::new(&net.peers[0].clsig)).expect("decodes");
    let check = engine.verify_chainlock(&clsig, net.node.sync().chain());
    assert_eq!(engine.chainlock_signature_checks(), 2);
    let (llmq_type, quorum_hash) = check.quorum.expect("a signing quorum");
    assert_eq!(signer.quorum.llmq_type, llmq_type.0);
    assert_eq!(signer.quorum.quorum_hash, quorum_hash);
    assert_eq!(
        signer.quorum_verified,
        check.quorum_status.is_some_and(|s| s.is_verified())
    );
}

#[test]
fn a_diff_with_a_future_entry_version_bans_no_one() {
    let chain = Headers::load();
    let mut peer = ReplayPeer::honest(&chain, QRINFO_TIP);
    // The real diff, re-encoded with its first entry in a version this client does not know.
    let mut diff = MnListDiff::from_payload(&peer.mnlistdiff, PROTOCOL_VERSION).expect("decodes");
    diff.new_masternodes[0].version = 4;
    peer.mnlistdiff = diff.to_payload(PROTOCOL_VERSION);
    let mut net = Net::new(vec![peer]);
    net.open(0);
    assert!(net.run_until(|net| !net.closed.is_empty()));
    assert_eq!(net.peers[0].signing_list_requests, 1);
    assert_eq!(net.closed, vec![0]);
    assert_ne!(net.endpoint_state(0), "banned");
    assert!(net.gone.iter().all(|(_, _, penalty)| penalty.is_none()));
    // The diff was not applied, and the sync did not end on it.
    assert_eq!(net.node.progress().masternodes.current_height, QRINFO_TIP);
}

#[test]
fn repeated_and_flooded_announcements_cause_bounded_requests() {
    use crate::hash::Sha256dHash;
    use crate::protocol::inventory::{InvType, Inventory};
    let chain = Headers::load();
    let mut net = Net::new(vec![ReplayPeer::honest(&chain, QRINFO_TIP)]);
    net.open(0);
    assert!(net.run_until(Net::synced_with_chainlock));
    let (headers_before, getdata_before) = (
        net.peers[0].getheaders_requests,
        net.peers[0].getdata_requests,
    );
    // The same unknown block and ChainLock announced 50 times: asked for once each.
    let block = Inventory {
        inv_type: InvType::Block,
        hash: Sha256dHash([0xab; 32]),
    };
    let clsig = Inventory {
        inv_type: InvType::ClSig,
        hash: Sha256dHash([0xcd; 32]),
    };
    for _ in 0..50 {
        net.peers[0].send(&NetworkMessage::Inv(vec![block, clsig]));
    }
    assert!(net.run_until(|net| net.peers[0].outbox.is_empty()));
    // One `getheaders`, and one more when its answer lacks the announced block.
    assert_eq!(net.peers[0].getheaders_requests, headers_before + 2);
    assert_eq!(net.peers[0].getdata_requests, getdata_before + 1);
    // A flood of distinct ChainLocks: only the peer's allowance is asked for.
    for n in 0..200u8 {
        let clsig = Inventory {
            inv_type: InvType::ClSig,
            hash: Sha256dHash([n; 32]),
        };
        net.peers[0].send(&NetworkMessage::Inv(vec![clsig]));
    }
    assert!(net.run_until(|net| net.peers[0].outbox.is_empty()));
    let asked = net.peers[0].getdata_requests - getdata_before - 1;
    assert!(asked < 20, "{asked} getdata for a flood of 200");
    assert!(net.closed.is_empty());
}

#[test]
fn a_header_stamped_hours_ahead_of_our_clock_is_deferred_not_blamed() {
    let chain = Headers::load();
    let mut peer = ReplayPeer::honest(&chain, QRINFO_TIP);
    peer.ignores_qrinfo = true;
    let mut net = Net::new(vec![peer]);
    net.open(0);
    assert!(net.run_until(|net| {
        net.node.sync().chain().tip().height == QRINFO_TIP
            && *net.node.sync().headers().state() == SyncState::Synced
    }));
    // The next real header restamped three hours ahead of our wall clock: not acceptable yet
    // (the time is checked before the proof of work), and nobody's fault: it may be our clock.
    let mut ahead = chain.range(QRINFO_TIP + 1, QRINFO_TIP + 1)[0];
    ahead.time = u32::try_from(net.clock().unix_secs + 3 * 3_600).expect("fits");
    net.peers[0].send(&NetworkMessage::Headers(vec![ahead]));
    assert!(net.run_until(|net| net.peers[0].outbox.is_empty()));
    assert!(
        net.gone.is_empty() && net.closed.is_empty(),
        "{:?}",
        net.gone
    );
    assert!(matches!(
        net.node.sync().headers().request(),
        crate::sync::headers::HeaderRequest::Deferred { .. }
    ));
    assert_eq!(*net.node.sync().headers().state(), SyncState::Synced);
    // It asks again later, and gets the real header.
    net.peers[0].served_tip = QRINFO_TIP + 1;
    assert!(net.run_until(|net| net.node.sync().chain().tip().height == QRINFO_TIP + 1));
    assert!(net.gone.is_empty());
}

/// The statuses of every quorum `engine` has seen.
fn quorum_statuses(engine: &MasternodeEngine) -> Vec<(u8, BlockHash, String)> {
    engine
        .quorum_records()
        .map(|r| (r.llmq_type.0, r.quorum_hash, r.status.to_string()))
        .collect()
}

/// Whether the masternode manager has quorums queued for verification or out with workers.
fn verifying(net: &Net) -> bool {
    matches!(
        net.node.sync().masternodes().work(),
        crate::sync::masternodes::MasternodeWork::Verifying { .. }
            | crate::sync::masternodes::MasternodeWork::AwaitingChecks { .. }
    )
}

#[test]
fn the_chainlock_is_verified_while_quorums_are_pending_and_all_end_as_verified_at_once() {
    let chain = Headers::load();
    let mut net = Net::new(vec![ReplayPeer::honest(&chain, QRINFO_TIP)]);
    net.open(0);
    assert!(net.run_until(|net| !net.chainlocks.is_empty()));
    // The diff for 905762, the headers to 905800 and the ChainLock came in one read: the
    // ChainLock was verified before the diff's other quorums.
    let [(target, _)] = net.chainlocks[..] else {
        panic!("one ChainLock verified: {:?}", net.chainlocks);
    };
    assert_eq!(target.height, CHAINLOCK_HEIGHT);
    let pending = net.node.progress().masternodes.pending_quorums;
    assert!(verifying(&net) && pending > 0, "{pending} quorums pending");
    assert!(net.run_until(|net| !verifying(net)));
    assert!(net.synced_with_chainlock());
    assert_eq!(net.node.progress().masternodes.pending_quorums, 0);

    // The same messages applied to an engine that verifies every quorum as it applies them.
    let mut all_at_once = MasternodeEngine::new(Network::Testnet);
    let headers = net.node.sync().chain();
    let qrinfo = QrInfo::from_payload(&net.peers[0].qrinfo, PROTOCOL_VERSION).expect("decodes");
    all_at_once.apply_qrinfo(&qrinfo, headers).expect("applies");
    let diff =
        MnListDiff::from_payload(&net.peers[0].mnlistdiff, PROTOCOL_VERSION).expect("decodes");
    all_at_once.apply_diff(&diff, headers).expect("applies");
    all_at_once.verify_quorums(headers);
    let sliced = quorum_statuses(net.node.sync().engine().inner());
    assert_eq!(sliced, quorum_statuses(&all_at_once));
    assert!(
        sliced
            .iter()
            .filter(|(.., s)| s.starts_with("verified"))
            .count()
            >= 37
    );
}

/// The ChainLock of our block at `height` with the signature `hex` (read from a coinbase).
fn coinbase_clsig(chain: &Headers, height: u32, hex: &str) -> ClSig {
    let mut signature = [0u8; 96];
    for (byte, pair) in signature.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let pair = core::str::from_utf8(pair).expect("ascii");
        *byte = u8::from_str_radix(pair, 16).expect("hex");
    }
    ClSig {
        height: height as i32,
        block_hash: chain.headers[(height - FIRST_HEIGHT) as usize].block_hash(),
        signature,
    }
}

/// The ChainLock for 905302, read from the coinbase of 905304: signed by a quorum of the
/// list at 905294, the QRInfo's.
fn clsig_905302(chain: &Headers) -> ClSig {
    coinbase_clsig(chain, 905_302, "a255d21f94008502cd000a59837d25a7c90bc1fbc735acd78feee6beea8b90655d0c466108b4b97a636d4cb17c142ae50b085d0311849afa0a0d73503f4dc6adf4959f537b0ddd04a72b4216dbf5c2e76e5c10af37e2e5b2b8bdfca2628b041f")
}

/// The ChainLock for 905768, read from the coinbase of 905770: signed by the quorum mined at
/// 905304, which the QRInfo and the diff to 905762 let verify (members from a nearby list).
fn clsig_905768(chain: &Headers) -> ClSig {
    coinbase_clsig(chain, 905_768, "92828e7a5178ace1f3863d0a697ed436dcb3d6579d23bcb0fd7b5bbee9262192d4dd2346576196282ae62b14d9295d710af6a65020021b94dbf090180e9bbc9fe84a877cd3e7dc3a9fabf3560ec26b1215f323e95609db638e3c6bbe715c1502")
}

/// A net with `workers` whose node applied the QRInfo and the signing list's diff, and is
/// verifying the diff's quorums when its peer sends 905768's ChainLock (not delivered yet).
fn chainlock_905768_sent_while_verifying(workers: Workers) -> Net {
    let chain = Headers::load();
    let mut peer = ReplayPeer::honest(&chain, QRINFO_TIP);
    peer.relays_clsig_after_diff = false;
    let mut net = Net::with_workers(vec![peer], workers);
    net.open(0);
    assert!(net.run_until(|net| net.node.progress().masternodes.diffs_processed == 1));
    assert!(
        verifying(&net),
        "{workers:?}: the diff's quorums are being verified"
    );
    net.peers[0].send(&NetworkMessage::ClSig(clsig_905768(&chain)));
    net
}

/// 905768's ChainLock is the one verified, with its signing quorum verified and its
/// signature checked once.
fn assert_905768_verified_once(net: &Net, what: &str) {
    let [(target, signer)] = net.chainlocks[..] else {
        panic!("{what}: one ChainLock verified: {:?}", net.chainlocks);
    };
    assert_eq!(target.height, 905_768, "{what}");
    assert!(signer.quorum_verified, "{what}: {signer:?}");
    let engine = net.node.sync().engine().inner();
    assert_eq!(
        engine.chainlock_signature_checks(),
        1,
        "{what}: checked once"
    );
}

/// A ChainLock that comes while the quorums of a new list are being verified waits for its
/// signing quorum, which the masternode manager checks first, its key aggregation split
/// over the checking workers; the ChainLock is then verified with that quorum verified,
/// whatever the workers answer (parts that fit, bytes that fit nothing, or no answer until
/// the deadline: then the node checks the quorum itself).
#[test]
fn a_chainlock_waits_for_its_signing_quorum_checked_in_parts_by_the_workers() {
    for workers in [Workers::Checking(2), Workers::Garbage, Workers::Silent] {
        let mut net = chainlock_905768_sent_while_verifying(workers);
        assert!(
            net.run_until(|net| !net.chainlocks.is_empty()),
            "{workers:?}"
        );
        assert_905768_verified_once(&net, &format!("{workers:?}"));
        assert_eq!(net.split_batches, 1, "{workers:?}");
        assert!(net.gone.is_empty(), "{workers:?}: {:?}", net.gone);
        assert!(net.run_until(|net| net.node.progress().state == SyncState::Synced));
    }
}

/// The browser goes offline while a ChainLock's signing quorum is out in parts with the
/// workers: the batch ends with the rest of the in-flight state, the workers' answers coming
/// after are ignored, and once online again the ChainLock is verified with its quorum
/// verified, its signature still checked once.
#[test]
fn going_offline_while_the_chainlocks_quorum_is_out_in_parts_loses_nothing() {
    let mut net = chainlock_905768_sent_while_verifying(Workers::Checking(2));
    assert!(net.run_until(|net| net.split_batches == 1));
    assert!(
        net.chainlocks.is_empty(),
        "the ChainLock waits for its quorum"
    );
    let outputs = net.node.set_online(false, net.clock());
    net.handle(outputs);
    assert!(net.sockets.is_empty(), "offline closes every socket");
    assert!(!verifying(&net), "the batch ended with the in-flight state");
    while let Some(outputs) = net.answer_checks() {
        assert!(outputs.is_empty(), "a late answer is ignored: {outputs:?}");
    }
    assert!(net.chainlocks.is_empty());
    net.peers[0].decoder = StreamDecoder::new(Network::Testnet);
    let outputs = net.node.set_online(true, net.clock());
    net.handle(outputs);
    assert!(net.run_until(|net| net.dials.contains_key(&net.urls[0])));
    net.open(0);
    assert!(net.run_until(|net| !net.chainlocks.is_empty()));
    assert_905768_verified_once(&net, "back online");
    assert!(
        net.gone.iter().all(|(_, _, penalty)| penalty.is_none()),
        "no one punished: {:?}",
        net.gone
    );
    assert!(net.run_until(|net| net.node.progress().state == SyncState::Synced));
}

/// The node's timestamps leave out the time the caller spent carrying out outputs (storing,
/// verifying); `caller_time` puts them back on the caller's clock: the first QRInfo arrived
/// when the caller handed it over, not seconds earlier (the browser's "QRInfo received →
/// first ChainLock" figure once counted the header sync's storing in).
#[test]
fn the_first_qrinfo_arrival_reads_on_the_callers_clock_after_busy_inputs() {
    let chain = Headers::load();
    let mut net = Net::new(vec![ReplayPeer::honest(&chain, QRINFO_TIP)]);
    net.open(0);
    assert!(net.run_until(|net| net.peers[0].qrinfo_requests == 1));
    net.now = net.now + Millis::from_secs(5);
    net.node.input_handled(net.now);
    let handed_over = net.now;
    assert!(net.run_until(|net| {
        net.node
            .progress()
            .masternodes
            .first_qrinfo_received
            .is_some()
    }));
    let received = net.node.progress().masternodes.first_qrinfo_received;
    let received = received.expect("the QRInfo arrived");
    assert!(
        received < handed_over,
        "the node's clock left the busy time out"
    );
    assert_eq!(net.node.caller_time(received), handed_over);
}

#[test]
fn a_chainlock_held_before_the_qrinfo_is_verified_before_the_lists_its_quorums_need() {
    let chain = Headers::load();
    let mut net = Net::new(vec![ReplayPeer::honest(&chain, QRINFO_TIP)]);
    net.open(0);
    assert!(net.run_until(|net| net.peers[0].qrinfo_requests == 1));
    // The headers to 905770 and the ChainLock for 905302 come before the QRInfo's answer:
    // the ChainLock is held, the QRInfo applied, and then it is verified at once.
    let peer = &mut net.peers[0];
    peer.outbox.clear();
    peer.send(&NetworkMessage::Headers(
        chain.range(QRINFO_TIP + 1, TIP_AFTER_QRINFO),
    ));
    peer.send(&NetworkMessage::ClSig(clsig_905302(&chain)));
    let qrinfo = peer.qrinfo.clone();
    peer.send_raw("qrinfo", qrinfo);
    assert!(net.run_until(|net| net.peers[0].outbox.is_empty()));
    let [(target, _)] = net.chainlocks[..] else {
        panic!("one ChainLock verified: {:?}", net.chainlocks);
    };
    assert_eq!(target.height, 905_302);
    assert!(matches!(
        net.node.sync().masternodes().work(),
        crate::sync::masternodes::MasternodeWork::Verifying {
            then: crate::sync::masternodes::AfterVerifying::FetchLists,
            ..
        }
    ));
    assert!(net.node.progress().masternodes.pending_quorums > 0);
    assert_eq!(net.node.progress().masternodes.diffs_processed, 0);
    assert_eq!(
        *net.node.sync().masternodes().state(),
        SyncState::Syncing,
        "the lists and the other quorums are still to come"
    );
    assert!(net.run_until(|net| net.node.progress().state == SyncState::Synced));
}

/// A wallet waking after hours: the tip's ChainLock is relayed with the tip, hundreds of
/// blocks above the headers, and not again. It is held until the headers and the list its
/// quorum needs are in, then verified (it used to be dropped: more than 6 blocks ahead).
#[test]
fn a_chainlock_relayed_far_above_the_headers_is_verified_once_they_and_its_list_come() {
    let chain = Headers::load();
    let mut peer = ReplayPeer::honest(&chain, QRINFO_TIP);
    peer.relays_clsig_after_diff = false;
    let mut net = Net::new(vec![peer]);
    net.open(0);
    assert!(net.run_until(|net| net.peers[0].qrinfo_requests == 1));
    assert_eq!(net.node.sync().chain().tip().height, QRINFO_TIP);
    // The ChainLock for 905775 first, 481 blocks above the header tip, then the QRInfo's
    // answer and the headers to 905770.
    let peer = &mut net.peers[0];
    peer.outbox.clear();
    peer.relay_clsig();
    let qrinfo = peer.qrinfo.clone();
    peer.send_raw("qrinfo", qrinfo);
    peer.send(&NetworkMessage::Headers(
        chain.range(QRINFO_TIP + 1, TIP_AFTER_QRINFO),
    ));
    assert!(net.run_until(Net::synced_with_chainlock));
    let heights: Vec<u32> = net.chainlocks.iter().map(|(t, _)| t.height).collect();
    assert_eq!(heights, vec![CHAINLOCK_HEIGHT]);
    assert!(net.gone.is_empty());
}

/// What a sync with workers ended with.
#[derive(Debug, PartialEq, Eq)]
struct WorkersRun {
    /// The final quorum statuses.
    statuses: Vec<(u8, BlockHash, String)>,
    /// How many quorum checks the workers answered.
    checked_in_workers: u32,
    /// The chain tip.
    tip: BlockId,
    /// How many headers the workers hashed.
    hashed_in_workers: u64,
    /// How many ChainLock signatures were checked, and how many ChainLocks verified.
    signature_checks: (u64, usize),
}

/// Syncs from a replay peer to the ChainLock at 905775 with the node's workers answering as
/// `workers`.
fn sync_with_workers(workers: Workers) -> WorkersRun {
    let chain = Headers::load();
    let mut net = Net::with_workers(vec![ReplayPeer::honest(&chain, QRINFO_TIP)], workers);
    net.open(0);
    assert!(net.run_until(|net| net.synced_with_chainlock() && !verifying(net)));
    assert_eq!(net.node.progress().masternodes.pending_quorums, 0);
    WorkersRun {
        statuses: quorum_statuses(net.node.sync().engine().inner()),
        checked_in_workers: net.node.progress().masternodes.quorums_checked_in_workers,
        tip: net.node.sync().chain().tip().into(),
        hashed_in_workers: net.node.headers_hashed_in_workers(),
        signature_checks: (
            net.node
                .sync()
                .engine()
                .inner()
                .chainlock_signature_checks(),
            net.chainlocks.len(),
        ),
    }
}

#[test]
fn quorum_checks_and_header_hashes_in_workers_end_as_in_the_node_thread_whatever_the_workers_answer(
) {
    let here = sync_with_workers(Workers::None);
    assert_eq!(here.checked_in_workers, 0);
    assert_eq!(here.hashed_in_workers, 0);
    let verified = here
        .statuses
        .iter()
        .filter(|(.., s)| s.starts_with("verified"))
        .count();
    assert!(verified >= 37, "{verified} verified");

    let two = sync_with_workers(Workers::Checking(2));
    assert_eq!((&two.statuses, two.tip), (&here.statuses, here.tip));
    // Each ChainLock's signature is checked once, also one that waited for its quorum.
    for run in [&here, &two] {
        let (checks, verified) = run.signature_checks;
        assert_eq!(checks, verified as u64, "{run:?}");
    }
    assert!(two.checked_in_workers > 0);
    // Every header but the last of each batch long enough for the workers has its hash from
    // them: the sync to the QRInfo's tip (four batches), then the 476 headers the tip grows
    // by; not the last 30, which come as a short batch hashed in the node.
    let long_batches = u64::from(QRINFO_TIP - FIRST_HEIGHT) - 4;
    let after_qrinfo = u64::from(TIP_AFTER_QRINFO - QRINFO_TIP) - 1;
    assert_eq!(two.tip.height, TIP_AFTER_DIFF);
    assert_eq!(two.hashed_in_workers, long_batches + after_qrinfo);
    let one = sync_with_workers(Workers::Checking(1));
    assert_eq!((&one.statuses, one.tip), (&here.statuses, here.tip));
    assert_eq!(one.checked_in_workers, two.checked_in_workers);
    assert_eq!(one.hashed_in_workers, two.hashed_in_workers);

    // Answers that fit no check or hash, and no answer until the deadline: done in the node.
    for workers in [Workers::Garbage, Workers::Silent] {
        let run = sync_with_workers(workers);
        assert_eq!(
            (&run.statuses, run.tip),
            (&here.statuses, here.tip),
            "{workers:?}"
        );
        assert_eq!(run.checked_in_workers, 0, "{workers:?}");
        assert_eq!(run.hashed_in_workers, 0, "{workers:?}");
    }
}

#[test]
fn a_batch_waiting_for_silent_workers_is_not_asked_for_again() {
    // Requests time out after 1 s, the workers are awaited for 10 s: the batch is the peer's
    // answer, so while it waits nothing is asked again and no one is blamed.
    let config = SyncConfig::for_network(Network::Testnet).scaled(0.1);
    assert!(config.headers.timeout(1) < config.check_timeout);
    let chain = Headers::load();
    let mut net = Net::with_config(
        vec![ReplayPeer::honest(&chain, QRINFO_TIP)],
        Workers::Silent,
        config,
    );
    net.open(0);
    assert!(net.run_until(|net| net.node.sync().chain().tip().height == QRINFO_TIP));
    // Four batches, the last short (it ends the sync): one `getheaders` each.
    assert_eq!(net.peers[0].getheaders_requests, 4);
    assert_eq!(net.node.progress().headers.responses_dropped, 0);
    assert!(net.gone.is_empty(), "{:?}", net.gone);
    assert_eq!(net.node.headers_hashed_in_workers(), 0);
}
