//! A deterministic simulation of the live Dash testnet, over real captured data, for the whole
//! client core: the `Node` with its peer set, header chain, masternode engine and sync machines.
//!
//! No real time and no sockets. One simulated clock drives everything: the network "mines" the
//! real testnet headers at their real timestamps, its peers announce them as dashd does
//! (`headers` for a client known to hold the previous tip, `inv` otherwise), relay the real
//! ChainLocks at their heights, and answer `getqrinfo`/`getmnlistd` from the captures where they
//! exist and not at all where they do not. The client only ever runs when an input arrives or its
//! own `next_deadline()` is due, as in the browser runtime.
//!
//! Faults come from the seed: latency and jitter, ignored requests, peers leaving and joining,
//! the browser going offline, the computer sleeping (time leaps of minutes to a day, with a
//! monotonic clock that stands still or not), wall-clock corrections, page reloads (a new node
//! restored from what its store held) and a peer lagging behind the tip. Hostile peers beside
//! the honest ones attack as [`hostile`] describes.
//!
//! A scenario may give the client checking workers ([`Scenario::workers`]): the node then sends
//! quorum checks (split ones for a ChainLock's quorum among them) and long header batches out,
//! and simulated workers answer them with the real worker functions after a while, late, with
//! garbage, or never; they stop while the computer sleeps and die with the page.
//!
//! Invariants are checked after every step ([`Violation`] says which one broke, with the seed and
//! step that reproduce it); the figures of a run are in [`Report`].

#![allow(dead_code)]

#[path = "../poll_once/mod.rs"]
mod poll_once;

mod hostile;

pub use hostile::Attacks;

use dashlight::block::BlockHeader;
use dashlight::bls::KeyCache;
use dashlight::chain::header_chain::HeaderChain;
use dashlight::chain::sync_base::SyncBase;
use dashlight::chain::ChainConfig;
use dashlight::encode::{Decodable, Reader};
use dashlight::hash::{sha256d, BlockHash, Sha256dHash};
use dashlight::mnlist::check::{check_share, decode_share, CheckShare};
use dashlight::mnlist::{MasternodeEngine, QuorumStatus};
use dashlight::network::Network;
use dashlight::node::engine::ClientEngine;
use dashlight::node::hashing::{hash_share, HashRequest};
use dashlight::node::{Node, NodeOutput, Notification};
use dashlight::peer::ban::Penalty;
use dashlight::peer::set::{PeerId, PeerSetConfig, SocketCommand};
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder};
use dashlight::protocol::handshake::{NetAddress, VersionMessage};
use dashlight::protocol::inventory::{InvType, Inventory};
use dashlight::protocol::message::NetworkMessage;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use dashlight::protocol::version::PROTOCOL_VERSION;
use dashlight::storage::{restore_chain, restore_masternodes, save_chain, save_masternodes};
use dashlight::storage::{HeaderStore, MemoryStore};
use dashlight::sync::config::SyncConfig;
use dashlight::sync::masternodes::{MasternodeWork, QrInfoState};
use dashlight::sync::requests::Output;
use dashlight::sync::state::SyncState;
use dashlight::sync::time::{Millis, Now, Timestamp};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The first height of the captured header run (a checkpoint: the client's sync base).
pub const FIRST_HEIGHT: u32 = 898_560;
/// The last captured height.
pub const LAST_HEIGHT: u32 = 947_248;
/// The tip the network has when a scenario starts by default: a fresh client's QRInfo for it
/// is captured (fixtures README, scenario A).
pub const DEFAULT_START_TIP: u32 = 905_294;

/// How long after an announcement the header tip must have caught up, fault-free.
pub const HEADER_CATCH_UP: Millis = Millis::from_secs(5 * 60);
/// How long after its arrival a ChainLock the engine can verify must be the verified one.
pub const CHAINLOCK_DELAY: Millis = Millis::from_secs(10 * 60);
/// How long the client has, once the network has stopped and faults are over, to be synced at
/// the network's tip.
pub const SETTLE: Millis = Millis::from_secs(2 * 3_600);
/// The most side branches the chain may hold.
pub const MAX_SIDE_BRANCHES: usize = 16;
/// The most masternode lists the engine may hold.
pub const MAX_LISTS: usize = 64;

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/testnet")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The captured testnet data the simulated network serves.
pub struct Captures {
    /// Headers from [`FIRST_HEIGHT`], in height order.
    pub headers: Vec<BlockHeader>,
    /// Their hashes.
    pub hashes: Vec<BlockHash>,
    heights: HashMap<BlockHash, u32>,
    /// QRInfo payloads by the block of their tip diff.
    qrinfos: HashMap<BlockHash, Vec<u8>>,
    /// MnListDiff payloads by block: (base block, payload).
    diffs: HashMap<BlockHash, Vec<(BlockHash, Vec<u8>)>>,
    /// ChainLock payloads by height.
    pub clsigs: BTreeMap<u32, Vec<u8>>,
}

impl Captures {
    /// Loads the captures once per process.
    pub fn get() -> Arc<Captures> {
        static CAPTURES: OnceLock<Arc<Captures>> = OnceLock::new();
        Arc::clone(CAPTURES.get_or_init(|| Arc::new(Captures::load())))
    }

    fn load() -> Captures {
        let headers: Vec<BlockHeader> = fixture("headers/testnet_headers_898560_947248.bin")
            .chunks_exact(80)
            .map(|c| BlockHeader::from_bytes(c.try_into().expect("80 bytes")))
            .collect();
        let hashes: Vec<BlockHash> = headers.iter().map(BlockHeader::block_hash).collect();
        let heights = hashes.iter().copied().zip(FIRST_HEIGHT..).collect();
        let dir = |sub: &str| {
            let mut names: Vec<String> = std::fs::read_dir(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../shared/fixtures/testnet")
                    .join(sub),
            )
            .expect("fixture folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".bin") && !n.contains("LAYOUT"))
            .collect();
            names.sort();
            names
        };
        let mut qrinfos = HashMap::new();
        for name in dir("qrinfo") {
            let payload = fixture(&format!("qrinfo/{name}"));
            let qrinfo = QrInfo::decode(&mut Reader::new(&payload), PROTOCOL_VERSION)
                .expect("captured QRInfo decodes");
            qrinfos.insert(qrinfo.diff_tip.block_hash, payload);
        }
        let mut diffs: HashMap<BlockHash, Vec<(BlockHash, Vec<u8>)>> = HashMap::new();
        for name in dir("mnlistdiff") {
            let payload = fixture(&format!("mnlistdiff/{name}"));
            let diff = MnListDiff::decode(&mut Reader::new(&payload), PROTOCOL_VERSION)
                .expect("captured MnListDiff decodes");
            diffs
                .entry(diff.block_hash)
                .or_default()
                .push((diff.base_block_hash, payload));
        }
        let mut clsigs = BTreeMap::new();
        clsigs.insert(905_775, fixture("clsig/clsig_905775.bin"));
        let csv = String::from_utf8(fixture("clsig/clsigs_derived_from_cbtx.csv")).expect("utf-8");
        for line in csv.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let height: u32 = fields[0].parse().expect("height");
            let hash: BlockHash = fields[1].parse().expect("hash");
            let mut payload = (height as i32).to_le_bytes().to_vec();
            payload.extend_from_slice(hash.as_bytes());
            payload.extend(hex::decode(fields[2]).expect("signature hex"));
            clsigs.insert(height, payload);
        }
        Captures {
            headers,
            hashes,
            heights,
            qrinfos,
            diffs,
            clsigs,
        }
    }

    /// The hash at `height`.
    pub fn hash_at(&self, height: u32) -> BlockHash {
        self.hashes[(height - FIRST_HEIGHT) as usize]
    }

    /// The header at `height`.
    pub fn header_at(&self, height: u32) -> BlockHeader {
        self.headers[(height - FIRST_HEIGHT) as usize]
    }
}

/// A small deterministic random source (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A source seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EED_DA5E_11C0_FFEE)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// What can go wrong, and how often.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Mean time between two faults of the schedule (offline, sleep, reload, peer churn, clock
    /// corrections); `None`: none.
    pub mean_gap: Option<Millis>,
    /// Probability that a peer ignores a `getheaders`/`getqrinfo`/`getmnlistd`/`getdata`.
    pub ignore_request: f64,
    /// One-way latency range, ms.
    pub latency_ms: (u64, u64),
    /// Probability of a latency spike (a few seconds) on one message.
    pub spike: f64,
    /// Probability that the checking workers never answer a batch (a worker died).
    pub worker_lost: f64,
    /// Probability that they answer a batch with bytes that do not decode.
    pub worker_garbage: f64,
}

impl Faults {
    /// No faults, a steady 50 ms.
    pub fn none() -> Faults {
        Faults {
            mean_gap: None,
            ignore_request: 0.0,
            latency_ms: (50, 50),
            spike: 0.0,
            worker_lost: 0.0,
            worker_garbage: 0.0,
        }
    }

    /// The standard mix: a fault every few hours on average, 2 % of requests ignored,
    /// 20–400 ms latency with occasional spikes; of the workers' batches 2 % are never
    /// answered and 1 % answered with garbage.
    pub fn standard() -> Faults {
        Faults {
            mean_gap: Some(Millis::from_secs(4 * 3_600)),
            ignore_request: 0.02,
            latency_ms: (20, 400),
            spike: 0.01,
            worker_lost: 0.02,
            worker_garbage: 0.01,
        }
    }
}

/// One scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Seeds every random choice.
    pub seed: u64,
    /// The network's tip when the client starts (the client starts from [`FIRST_HEIGHT`]).
    pub start_tip: u32,
    /// The network mines up to here, then stops.
    pub end_height: u32,
    /// Honest peers (bridges).
    pub peers: usize,
    /// Whether the last peer lags a few blocks behind the tip.
    pub lagging_peer: bool,
    /// The fault mix.
    pub faults: Faults,
    /// Hostile peers, dialled after the honest ones.
    pub hostile_peers: usize,
    /// What the hostile peers do.
    pub attacks: Attacks,
    /// The client's checking workers (`SyncConfig::check_workers`); 0: none.
    pub workers: usize,
}

/// Blocks per day on testnet (2.5-minute spacing).
const BLOCKS_PER_DAY: u32 = 576;

impl Scenario {
    /// The soak's scenario for `seed`: a span of at most `days` from a start the seed picks
    /// (the fresh-client QRInfo tip every fourth seed), one to three peers, a lagging one for
    /// two seeds in three, and none, two or three checking workers.
    pub fn soak(seed: u64, days: u64) -> Scenario {
        let mut rng = Rng::new(seed);
        let span = u32::try_from(days)
            .unwrap_or(u32::MAX)
            .saturating_mul(BLOCKS_PER_DAY)
            .max(100);
        let start = if seed % 4 == 0 {
            DEFAULT_START_TIP
        } else {
            rng.range(u64::from(FIRST_HEIGHT + 100), u64::from(LAST_HEIGHT - 100)) as u32
        };
        let mut scenario = Scenario::new(seed, start, start.saturating_add(span).min(LAST_HEIGHT));
        scenario.lagging_peer = seed % 3 != 0;
        scenario.peers = 1 + (seed % 3) as usize;
        scenario.workers = [0, 2, 3][Rng::new(seed ^ 0x574F_524B).range(0, 2) as usize];
        scenario
    }

    /// This scenario without checking workers (as the soak's were before the simulation had
    /// them: the seeds found then replay as they did).
    pub fn without_workers(self) -> Scenario {
        Scenario { workers: 0, ..self }
    }

    /// The adversarial soak's scenario for `seed`: the soak's, with one or two hostile peers
    /// whose attacks the seed draws (every attack at once every fifth seed), and at least two
    /// honest peers.
    pub fn hostile(seed: u64, days: u64) -> Scenario {
        let mut scenario = Scenario::soak(seed, days);
        let mut rng = Rng::new(seed ^ 0x4057_11E5);
        scenario.peers = scenario.peers.max(2);
        scenario.hostile_peers = 1 + (seed % 2) as usize;
        scenario.attacks = if seed % 5 == 0 {
            Attacks::ALL
        } else {
            Attacks::from_rng(&mut rng)
        };
        scenario
    }

    /// A scenario from `start_tip` to `end_height` with the standard faults.
    pub fn new(seed: u64, start_tip: u32, end_height: u32) -> Scenario {
        Scenario {
            seed,
            start_tip,
            end_height,
            peers: 2,
            lagging_peer: true,
            faults: Faults::standard(),
            hostile_peers: 0,
            attacks: Attacks::default(),
            workers: 0,
        }
    }
}

/// An invariant that broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The scenario's seed.
    pub seed: u64,
    /// The step at which it was found.
    pub step: u64,
    /// Simulated time since the start, seconds.
    pub at_secs: u64,
    /// What broke.
    pub what: String,
}

/// The figures of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Steps (inputs to the node).
    pub steps: u64,
    /// Simulated time, seconds.
    pub simulated_secs: u64,
    /// Blocks mined.
    pub blocks: u32,
    /// Faults injected.
    pub faults: u32,
    /// ChainLocks the client verified (events).
    pub chainlocks_verified: u32,
    /// Reloads of the page.
    pub reloads: u32,
    /// Punishments of hostile peers (scores and bans).
    pub hostile_punished: u32,
    /// What the checking workers were given and did.
    pub workers: WorkerFigures,
    /// Peaks of the bounded quantities.
    pub peaks: Peaks,
    /// Invariants broken.
    pub violations: Vec<Violation>,
    /// The client's final header tip.
    pub final_tip: u32,
    /// The client's final best ChainLock height.
    pub final_chainlock: Option<u32>,
}

/// What the simulated checking workers were given and what became of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerFigures {
    /// Quorum check batches sent out.
    pub check_batches: u32,
    /// Of them, a ChainLock's quorum split in parts.
    pub split_batches: u32,
    /// Header batches sent out to hash.
    pub hash_batches: u32,
    /// Batches never answered.
    pub lost: u32,
    /// Batches answered with garbage.
    pub garbage: u32,
    /// Answers that came back after the page reloaded (its workers died with it).
    pub dropped: u32,
}

/// The largest value each bounded quantity reached.
#[derive(Debug, Clone, Copy, Default)]
pub struct Peaks {
    /// Bytes of the chain's height index.
    pub chain_index_bytes: usize,
    /// Side branches held.
    pub side_branches: usize,
    /// Masternode lists held.
    pub lists: usize,
    /// Sockets the node held open at once.
    pub sockets: usize,
    /// Messages in flight in the simulated network.
    pub in_flight: usize,
    /// Bytes in the store.
    pub stored_bytes: usize,
}

type SimNode = Node<HeaderChain, ClientEngine>;

/// What happens next in the simulated world.
#[derive(Debug)]
enum Event {
    /// The next block is due.
    Mine,
    /// Bytes from a peer reach the client's socket.
    ToClient { socket: PeerId, bytes: Vec<u8> },
    /// Bytes from the client reach a peer.
    ToPeer { socket: PeerId, bytes: Vec<u8> },
    /// A socket the client dialled opened.
    Opened { socket: PeerId },
    /// A socket closed under the client.
    Closed { socket: PeerId },
    /// Peers relay the ChainLock at this height.
    RelayChainLock { height: u32 },
    /// A hostile peer's periodic attack is due.
    Attack { peer: usize },
    /// A scheduled fault starts.
    Fault(Fault),
    /// The browser comes back online.
    Online,
    /// The computer wakes.
    Wake,
    /// A peer comes back.
    PeerBack { peer: usize },
    /// The checking workers of page `page` (the count of reloads before it) answer.
    WorkersAnswer { page: u32, answer: WorkerAnswer },
}

/// What the simulated workers hand back to the node.
#[derive(Debug)]
enum WorkerAnswer {
    /// Answers to a quorum check batch.
    Checks { batch: u64, answers: Vec<Vec<u8>> },
    /// Answers to a header batch to hash.
    Hashes { job: u64, answers: Vec<Vec<u8>> },
}

/// A fault of the schedule.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Offline {
        secs: u64,
    },
    Sleep {
        secs: u64,
        monotonic_stands_still: bool,
    },
    Reload,
    PeerLeaves {
        peer: usize,
        secs: u64,
    },
    WallClockCorrection {
        secs: i64,
    },
}

/// The peer side of one client connection.
#[derive(Debug)]
struct PeerConnection {
    socket: PeerId,
    decoder: StreamDecoder,
    ready: bool,
    /// The client's tip as the peer believes it (what it sent, or the client's locator).
    client_has: u32,
    /// Last delivery time in each direction (connections are FIFO).
    last_to_client: u64,
    last_to_peer: u64,
}

/// A peer of the simulated network: honest, or hostile with its attacks.
#[derive(Debug)]
struct SimPeer {
    /// What it does besides serving the real chain, if it is hostile.
    hostile: Option<Attacks>,
    /// Blocks behind the network tip.
    lag: u32,
    up: bool,
    tip: u32,
    connection: Option<PeerConnection>,
}

/// The simulated world around one client.
pub struct Sim {
    scenario: Scenario,
    data: Arc<Captures>,
    rng: Rng,
    /// Simulated time since the start, ms (the network's clock).
    t: u64,
    /// The wall clock at `t = 0`, Unix seconds.
    start_unix: u64,
    /// Wall-clock correction of the client's machine, seconds.
    wall_skew: i64,
    /// Time the client's monotonic clock stood still (sleeps), ms.
    monotonic_lost: u64,
    asleep: bool,
    online: bool,
    node: SimNode,
    store: MemoryStore,
    stored_tip: BlockHash,
    stored_revision: u64,
    peers: Vec<SimPeer>,
    /// Sockets the client dialled, by id: which peer.
    dials: BTreeMap<PeerId, usize>,
    /// Every socket this page dialled, open or closed: which peer (to name the peer a
    /// notification is about after its socket closed).
    socket_owners: HashMap<PeerId, usize>,
    network_tip: u32,
    events: BinaryHeap<Reverse<(u64, u64, usize)>>,
    payloads: HashMap<usize, Event>,
    next_event: u64,
    report: Report,
    /// Bumped at every fault: checks only hold over fault-free windows.
    fault_epoch: u64,
    header_checks: Vec<(u64, u32, u64)>,
    chainlock_checks: Vec<(u64, ClSig, u64)>,
    /// The last `getqrinfo` the client sent: the socket it went to.
    qrinfo_socket: Option<PeerId>,
    /// The deadline of the `getqrinfo` awaited after the previous input.
    qrinfo_deadline: Option<Timestamp>,
    faults_until: u64,
    /// Each checking worker's key cache (a worker keeps its own; gone with the page).
    worker_keys: Vec<KeyCache>,
    /// Worker answers due while the computer slept: delivered after it wakes.
    work_on_wake: Vec<Event>,
}

impl Sim {
    /// A world for `scenario`: the network at `start_tip`, a fresh client from [`FIRST_HEIGHT`].
    pub fn new(scenario: Scenario) -> Sim {
        let data = Captures::get();
        let mut rng = Rng::new(scenario.seed);
        let start_unix = u64::from(data.header_at(scenario.start_tip).time) + rng.range(0, 120);
        let mut store = MemoryStore::new();
        let base = SyncBase::at_or_below(Network::Testnet, FIRST_HEIGHT);
        poll_once::run(store.initialize(&base)).expect("initialise the store");
        let node = new_node(
            HeaderChain::new(base),
            MasternodeEngine::new(Network::Testnet),
            &scenario,
            0,
        );
        let peers = (0..scenario.peers)
            .map(|i| {
                let lag = if scenario.lagging_peer && i + 1 == scenario.peers && i > 0 {
                    3
                } else {
                    0
                };
                SimPeer {
                    hostile: None,
                    lag,
                    up: true,
                    tip: scenario.start_tip - lag,
                    connection: None,
                }
            })
            .chain((0..scenario.hostile_peers).map(|_| SimPeer {
                hostile: Some(scenario.attacks),
                lag: 0,
                up: true,
                tip: scenario.start_tip,
                connection: None,
            }))
            .collect();
        let mut sim = Sim {
            scenario,
            data,
            rng,
            t: 0,
            start_unix,
            wall_skew: 0,
            monotonic_lost: 0,
            asleep: false,
            online: true,
            node,
            store,
            stored_tip: BlockHash::ZERO,
            stored_revision: 0,
            peers,
            dials: BTreeMap::new(),
            socket_owners: HashMap::new(),
            network_tip: scenario.start_tip,
            events: BinaryHeap::new(),
            payloads: HashMap::new(),
            next_event: 0,
            report: Report::default(),
            fault_epoch: 0,
            header_checks: Vec::new(),
            chainlock_checks: Vec::new(),
            qrinfo_socket: None,
            qrinfo_deadline: None,
            faults_until: 0,
            worker_keys: (0..scenario.workers).map(|_| KeyCache::new()).collect(),
            work_on_wake: Vec::new(),
        };
        sim.schedule_mining();
        sim.schedule_faults();
        for index in scenario.peers..sim.peers.len() {
            sim.schedule_attack(index);
        }
        let outputs = sim.node.start(sim.now());
        sim.handle(outputs);
        sim
    }

    /// A fault-free world in which, one hour in, the browser goes offline and the computer
    /// sleeps for `sleep_secs` with its monotonic clock standing still; a minute after waking
    /// the browser is online again.
    pub fn sleep_scenario(start_tip: u32, end_height: u32, sleep_secs: u64) -> Sim {
        let mut scenario = Scenario::new(2, start_tip, end_height);
        scenario.faults = Faults::none();
        let mut sim = Sim::new(scenario);
        let hour = 3_600_000;
        sim.push(
            hour,
            Event::Fault(Fault::Offline {
                secs: sleep_secs + 70,
            }),
        );
        sim.push(
            hour + 10_000,
            Event::Fault(Fault::Sleep {
                secs: sleep_secs,
                monotonic_stands_still: true,
            }),
        );
        sim.faults_until = hour + (sleep_secs + 70) * 1000;
        sim
    }

    /// The client's clocks now.
    fn now(&self) -> Now {
        let monotonic = Timestamp(self.t - self.monotonic_lost);
        let wall = (self.start_unix as i64 + (self.t / 1000) as i64 + self.wall_skew).max(0);
        Now::new(monotonic, wall as u64)
    }

    /// The network's wall clock, Unix seconds.
    fn network_unix(&self) -> u64 {
        self.start_unix + self.t / 1000
    }

    fn push(&mut self, at: u64, event: Event) {
        let id = self.next_event as usize;
        self.next_event += 1;
        self.payloads.insert(id, event);
        self.events.push(Reverse((at, self.next_event, id)));
    }

    fn latency(&mut self) -> u64 {
        let (lo, hi) = self.scenario.faults.latency_ms;
        let spike = if self.rng.chance(self.scenario.faults.spike) {
            self.rng.range(1_000, 8_000)
        } else {
            0
        };
        self.rng.range(lo, hi) + spike
    }

    fn schedule_mining(&mut self) {
        if self.network_tip >= self.scenario.end_height {
            return;
        }
        let next = self.data.header_at(self.network_tip + 1).time as u64;
        let due_unix = next.max(self.network_unix());
        let at = (due_unix - self.start_unix) * 1000;
        self.push(at.max(self.t), Event::Mine);
    }

    /// Lays out the fault schedule: from the start to the last block.
    fn schedule_faults(&mut self) {
        let Some(mean) = self.scenario.faults.mean_gap else {
            return;
        };
        let end_unix = u64::from(self.data.header_at(self.scenario.end_height).time);
        let end = end_unix.saturating_sub(self.start_unix) * 1000;
        self.faults_until = end;
        let mut at = 0u64;
        loop {
            at += self
                .rng
                .range(mean.as_millis() / 4, mean.as_millis() * 7 / 4);
            if at >= end {
                break;
            }
            let fault = match self.rng.range(0, 9) {
                0 | 1 => Fault::Offline {
                    secs: self.rng.range(5, 2 * 3_600),
                },
                2 | 3 => Fault::Sleep {
                    secs: self.rng.range(60, 24 * 3_600),
                    monotonic_stands_still: self.rng.chance(0.5),
                },
                4 => Fault::Reload,
                5 | 6 => Fault::PeerLeaves {
                    peer: self.rng.range(0, self.scenario.peers as u64 - 1) as usize,
                    secs: self.rng.range(60, 6 * 3_600),
                },
                _ => Fault::WallClockCorrection {
                    secs: self.rng.range(0, 1_200) as i64 - 600,
                },
            };
            self.push(at, Event::Fault(fault));
        }
    }

    /// Runs until the network has mined `end_height` and the settle time has passed; checks
    /// every invariant after every step and at the end.
    pub fn run(mut self) -> Report {
        let end_of_mining = (u64::from(self.data.header_at(self.scenario.end_height).time)
            .max(self.start_unix)
            - self.start_unix)
            * 1000;
        while let Some(at) = self.next_time() {
            if at > end_of_mining.max(self.faults_until) + SETTLE.as_millis() {
                break;
            }
            self.t = at.max(self.t);
            self.step();
            self.check_step();
            if self.report.violations.len() >= 10 {
                break;
            }
        }
        self.check_end();
        self.report.simulated_secs = self.t / 1000;
        self.report.final_tip = self.node.sync().chain().tip().height;
        self.report.final_chainlock = self.node.progress().best_chainlock.map(|c| c.height);
        self.report
    }

    fn client_deadline(&self) -> Option<u64> {
        if self.asleep {
            return None;
        }
        self.node
            .next_deadline()
            .map(|d| d.as_millis() + self.monotonic_lost)
    }

    fn next_time(&self) -> Option<u64> {
        let event = self.events.peek().map(|Reverse((at, ..))| *at);
        [event, self.client_deadline()].into_iter().flatten().min()
    }

    fn step(&mut self) {
        self.report.steps += 1;
        let event_due = self.events.peek().map(|Reverse((at, ..))| *at);
        let timer_due = self.client_deadline();
        if timer_due.is_some_and(|d| !event_due.is_some_and(|e| e <= d)) {
            let now = self.now();
            let outputs = self.node.tick(now);
            self.handle(outputs);
            if let Some(next) = self.node.next_deadline() {
                if next <= now.monotonic {
                    self.violation(format!(
                        "next deadline {next} is not after the tick at {}: the runtime would spin",
                        now.monotonic
                    ));
                }
            }
            return;
        }
        let Some(Reverse((_, _, id))) = self.events.pop() else {
            return;
        };
        let Some(event) = self.payloads.remove(&id) else {
            return;
        };
        self.apply(event);
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Mine => self.mine(),
            Event::ToClient { socket, bytes } => {
                if self.asleep || !self.socket_alive(socket) {
                    return;
                }
                self.note_arrival(&bytes);
                if std::env::var_os("SIM_TRACE").is_some() && bytes.len() >= 16 {
                    eprintln!(
                        "[{} s] received {} from {socket}",
                        self.t / 1000,
                        String::from_utf8_lossy(&bytes[4..16]).trim_end_matches('\0')
                    );
                }
                let outputs = self.node.socket_data(socket, &bytes, self.now());
                self.handle(outputs);
            }
            Event::ToPeer { socket, bytes } => self.peer_receives(socket, &bytes),
            Event::Opened { socket } => {
                if self.asleep {
                    return;
                }
                let outputs = self.node.socket_opened(socket, self.now());
                self.handle(outputs);
            }
            Event::Closed { socket } => {
                if self.asleep {
                    return;
                }
                self.dials.remove(&socket);
                let outputs = self.node.socket_closed(socket, self.now());
                self.handle(outputs);
            }
            Event::RelayChainLock { height } => self.relay_chainlock(height),
            Event::Attack { peer } => self.attack(peer),
            Event::Fault(fault) => self.start_fault(fault),
            Event::Online => {
                self.online = true;
                if !self.asleep {
                    let outputs = self.node.set_online(true, self.now());
                    self.handle(outputs);
                }
            }
            Event::Wake => {
                self.asleep = false;
                for work in std::mem::take(&mut self.work_on_wake) {
                    let at = self.t + self.rng.range(20, 2_000);
                    self.push(at, work);
                }
                // Sockets died while asleep: the browser reports some closed; others stay
                // open but dead, and only the keep-alive can find them out.
                let dead: Vec<PeerId> = self.dials.keys().copied().collect();
                for socket in dead {
                    if self.rng.chance(0.5) {
                        let at = self.t + self.latency();
                        self.push(at, Event::Closed { socket });
                    }
                }
                let outputs = self.node.set_online(self.online, self.now());
                self.handle(outputs);
            }
            Event::PeerBack { peer } => {
                self.peers[peer].up = true;
                self.peers[peer].tip = self.network_tip.saturating_sub(self.peers[peer].lag);
            }
            Event::WorkersAnswer { page, answer } => self.workers_answer(page, answer),
        }
    }

    /// The checking workers take `work`: they answer with the real worker functions a while
    /// later (a few seconds for some, past the node's deadline for a few), with garbage, or
    /// never.
    fn workers_take(&mut self, shares: usize, work: impl FnOnce(&mut Sim, bool) -> WorkerAnswer) {
        if shares == 0 || shares > self.scenario.workers {
            self.violation(format!(
                "{shares} shares sent to {} workers",
                self.scenario.workers
            ));
            return;
        }
        let faults = self.scenario.faults;
        if self.rng.chance(faults.worker_lost) {
            self.report.workers.lost += 1;
            return;
        }
        let garbage = self.rng.chance(faults.worker_garbage);
        if garbage {
            self.report.workers.garbage += 1;
        }
        let answer = work(self, garbage);
        let busy = if self.rng.chance(faults.spike) {
            self.rng.range(5_000, 30_000)
        } else {
            self.rng.range(20, 2_000)
        };
        let page = self.report.reloads;
        self.push(self.t + busy, Event::WorkersAnswer { page, answer });
    }

    /// A quorum check batch for the workers: one share each, checked with its own key cache.
    fn check_in_workers(&mut self, batch: u64, shares: Vec<Vec<u8>>) {
        self.report.workers.check_batches += 1;
        if let Some(Ok(CheckShare::Part(_))) = shares.first().map(|s| decode_share(s)) {
            self.report.workers.split_batches += 1;
        }
        self.workers_take(shares.len(), |sim, garbage| {
            let mut answers = Vec::with_capacity(shares.len());
            for (share, worker) in shares.iter().zip(0..) {
                if garbage {
                    answers.push(vec![0xff, 1, 2]);
                    continue;
                }
                match check_share(share, &mut sim.worker_keys[worker]) {
                    Ok(answer) => answers.push(answer),
                    Err(error) => {
                        sim.violation(format!("a share the node sent does not decode: {error}"));
                        answers.push(Vec::new());
                    }
                }
            }
            WorkerAnswer::Checks { batch, answers }
        });
    }

    /// A header batch for the workers to hash.
    fn hash_in_workers(&mut self, request: HashRequest) {
        self.report.workers.hash_batches += 1;
        let HashRequest { job, shares } = request;
        self.workers_take(shares.len(), |_, garbage| {
            let answers = shares
                .iter()
                .map(|share| match garbage {
                    false => hash_share(share),
                    true => vec![0xff, 1, 2],
                })
                .collect();
            WorkerAnswer::Hashes { job, answers }
        });
    }

    /// The workers' answer reaches the page: dropped if the page reloaded since (its workers
    /// died with it), held until waking if the computer sleeps.
    fn workers_answer(&mut self, page: u32, answer: WorkerAnswer) {
        if page != self.report.reloads {
            self.report.workers.dropped += 1;
            return;
        }
        if self.asleep {
            self.work_on_wake
                .push(Event::WorkersAnswer { page, answer });
            return;
        }
        let now = self.now();
        let outputs = match answer {
            WorkerAnswer::Checks { batch, answers } => {
                self.node.quorum_checks_done(batch, &answers, now)
            }
            WorkerAnswer::Hashes { job, answers } => self.node.headers_hashed(job, &answers, now),
        };
        self.handle(outputs);
    }

    fn socket_alive(&self, socket: PeerId) -> bool {
        self.peers
            .iter()
            .any(|p| p.connection.as_ref().is_some_and(|c| c.socket == socket))
    }

    fn start_fault(&mut self, fault: Fault) {
        self.report.faults += 1;
        self.fault_epoch += 1;
        match fault {
            Fault::Offline { secs } => {
                if !self.online || self.asleep {
                    return;
                }
                self.online = false;
                for peer in &mut self.peers {
                    peer.connection = None;
                }
                let outputs = self.node.set_online(false, self.now());
                self.handle(outputs);
                self.push(self.t + secs * 1000, Event::Online);
                self.faults_until = self.faults_until.max(self.t + secs * 1000);
            }
            Fault::Sleep {
                secs,
                monotonic_stands_still,
            } => {
                if self.asleep {
                    return;
                }
                self.asleep = true;
                for peer in &mut self.peers {
                    peer.connection = None;
                }
                if monotonic_stands_still {
                    self.monotonic_lost += secs * 1000;
                }
                self.push(self.t + secs * 1000, Event::Wake);
                self.faults_until = self.faults_until.max(self.t + secs * 1000);
            }
            Fault::Reload => {
                if self.asleep {
                    return;
                }
                self.reload();
            }
            Fault::PeerLeaves { peer, secs } => {
                let leaving = &mut self.peers[peer];
                leaving.up = false;
                if let Some(connection) = leaving.connection.take() {
                    let at = self.t + 50;
                    self.push(
                        at,
                        Event::Closed {
                            socket: connection.socket,
                        },
                    );
                }
                self.push(self.t + secs * 1000, Event::PeerBack { peer });
                self.faults_until = self.faults_until.max(self.t + secs * 1000);
            }
            Fault::WallClockCorrection { secs } => {
                self.wall_skew = (self.wall_skew + secs).clamp(-1_800, 1_800);
            }
        }
    }

    /// The page reloads: a new node from what the store holds. The old page's sockets are
    /// gone with it: nothing in flight on them reaches the new page (whose socket ids start
    /// over).
    fn reload(&mut self) {
        self.report.reloads += 1;
        self.payloads.retain(|_, event| {
            !matches!(
                event,
                Event::ToClient { .. }
                    | Event::ToPeer { .. }
                    | Event::Opened { .. }
                    | Event::Closed { .. }
            )
        });
        for peer in &mut self.peers {
            peer.connection = None;
        }
        self.dials.clear();
        self.socket_owners.clear();
        let chain = poll_once::run(restore_chain(
            &self.store,
            Network::Testnet,
            ChainConfig::default(),
        ))
        .expect("the stored chain restores")
        .expect("a chain is stored");
        let mut engine = MasternodeEngine::new(Network::Testnet);
        let client_chain = chain.clone();
        if let Err(error) =
            poll_once::run(restore_masternodes(&self.store, &mut engine, &client_chain))
        {
            self.violation(format!(
                "stored masternode state does not restore: {error:?}"
            ));
            engine = MasternodeEngine::new(Network::Testnet);
        }
        self.stored_tip = chain.tip().hash;
        self.stored_revision = engine.revision();
        self.qrinfo_deadline = None;
        self.worker_keys = (0..self.scenario.workers)
            .map(|_| KeyCache::new())
            .collect();
        self.work_on_wake.clear();
        self.node = new_node(chain, engine, &self.scenario, self.report.reloads as u64);
        let outputs = self.node.start(self.now());
        self.handle(outputs);
    }

    fn mine(&mut self) {
        self.network_tip += 1;
        self.report.blocks += 1;
        let height = self.network_tip;
        for index in 0..self.peers.len() {
            if self.peers[index].up {
                let tip = height.saturating_sub(self.peers[index].lag);
                if tip > self.peers[index].tip {
                    self.peers[index].tip = tip;
                    self.announce(index);
                }
            }
        }
        if self.data.clsigs.contains_key(&height) {
            let at = self.t + self.rng.range(1_000, 10_000);
            self.push(at, Event::RelayChainLock { height });
        }
        // What the client's connected honest peers announced is what it must catch up with.
        let announced = self
            .peers
            .iter()
            .filter(|p| p.hostile.is_none() && p.connection.as_ref().is_some_and(|c| c.ready))
            .map(|p| p.tip)
            .max();
        if let (false, true, Some(announced)) = (self.asleep, self.online, announced) {
            let epoch = self.fault_epoch;
            self.header_checks
                .push((self.t + HEADER_CATCH_UP.as_millis(), announced, epoch));
        }
        self.schedule_mining();
    }

    /// A peer's tip moved: it announces the new block as dashd does.
    fn announce(&mut self, index: usize) {
        let tip = self.peers[index].tip;
        let Some(connection) = &self.peers[index].connection else {
            return;
        };
        if !connection.ready {
            return;
        }
        let use_headers = connection.client_has + 1 == tip && self.rng.chance(0.7);
        let message = if use_headers {
            NetworkMessage::Headers(vec![self.data.header_at(tip)])
        } else {
            NetworkMessage::Inv(vec![Inventory {
                inv_type: InvType::Block,
                hash: Sha256dHash(self.data.hash_at(tip).0),
            }])
        };
        if use_headers {
            if let Some(connection) = &mut self.peers[index].connection {
                connection.client_has = tip;
            }
        }
        self.send_to_client(index, wire(&message));
    }

    fn relay_chainlock(&mut self, height: u32) {
        let Some(payload) = self.data.clsigs.get(&height) else {
            return;
        };
        let hash = Sha256dHash(sha256d(payload));
        for index in 0..self.peers.len() {
            let ready = self.peers[index]
                .connection
                .as_ref()
                .is_some_and(|c| c.ready);
            if ready && self.peers[index].tip >= height {
                let inv = NetworkMessage::Inv(vec![Inventory {
                    inv_type: InvType::ClSig,
                    hash,
                }]);
                self.send_to_client(index, wire(&inv));
            }
        }
    }

    fn send_to_client(&mut self, index: usize, bytes: Vec<u8>) {
        self.send_to_client_after(index, bytes, 0);
    }

    /// Sends `bytes` from peer `index` to the client `delay` ms later than its latency.
    fn send_to_client_after(&mut self, index: usize, bytes: Vec<u8>, delay: u64) {
        let latency = self.latency() + delay;
        let Some(connection) = &mut self.peers[index].connection else {
            return;
        };
        let at = (self.t + latency).max(connection.last_to_client);
        connection.last_to_client = at;
        let socket = connection.socket;
        self.push(at, Event::ToClient { socket, bytes });
    }

    /// What the client sent reaches the peer holding `socket`.
    fn peer_receives(&mut self, socket: PeerId, bytes: &[u8]) {
        let Some(index) = self
            .peers
            .iter()
            .position(|p| p.connection.as_ref().is_some_and(|c| c.socket == socket))
        else {
            return;
        };
        let mut messages = Vec::new();
        if let Some(connection) = &mut self.peers[index].connection {
            connection.decoder.feed(bytes);
            while let Ok(Some(raw)) = connection.decoder.next_message() {
                match NetworkMessage::from_raw(&raw, PROTOCOL_VERSION) {
                    Ok(message) => messages.push(message),
                    Err(error) => {
                        let what =
                            format!("the client sent a message that does not decode: {error}");
                        self.report.violations.push(Violation {
                            seed: self.scenario.seed,
                            step: self.report.steps,
                            at_secs: self.t / 1000,
                            what,
                        });
                    }
                }
            }
        }
        for message in messages {
            self.peer_answers(index, message);
        }
    }

    fn peer_answers(&mut self, index: usize, message: NetworkMessage) {
        let tip = self.peers[index].tip;
        let ignore = self.rng.chance(self.scenario.faults.ignore_request);
        // A hostile peer may never answer, or answer just in time.
        let delay = self.request_delay(index);
        let ignore = ignore || delay.is_none();
        let delay = delay.unwrap_or(0);
        match message {
            NetworkMessage::Version(_) => {
                let version = NetworkMessage::Version(VersionMessage {
                    version: PROTOCOL_VERSION as i32,
                    services: 5,
                    timestamp: self.network_unix() as i64,
                    receiver: NetAddress::default(),
                    sender: NetAddress::default(),
                    nonce: self.rng.next_u64(),
                    user_agent: b"/sim-dashd/".to_vec(),
                    start_height: self.claimed_height(index, tip) as i32,
                    relay: Some(true),
                    mnauth_challenge: None,
                    masternode_connection: None,
                });
                self.send_to_client(index, wire(&version));
                self.send_to_client(index, wire(&NetworkMessage::Verack));
            }
            NetworkMessage::Verack => {
                if let Some(connection) = &mut self.peers[index].connection {
                    connection.ready = true;
                }
            }
            NetworkMessage::Ping(nonce) => {
                self.send_to_client(index, wire(&NetworkMessage::Pong(nonce)))
            }
            NetworkMessage::GetHeaders(request) if !ignore => {
                let start = request
                    .locator
                    .iter()
                    .find_map(|h| self.data.heights.get(h).copied().filter(|&h| h <= tip))
                    .unwrap_or(FIRST_HEIGHT);
                let end = tip.min(start + 2_000);
                let first = start + 1 + self.headers_skipped(index);
                let batch: Vec<BlockHeader> =
                    (first..=end).map(|h| self.data.header_at(h)).collect();
                if let Some(connection) = &mut self.peers[index].connection {
                    connection.client_has = connection.client_has.max(end).max(start);
                }
                self.send_to_client_after(index, wire(&NetworkMessage::Headers(batch)), delay);
            }
            NetworkMessage::GetQrInfo(request) if !ignore => {
                let known = self
                    .data
                    .heights
                    .get(&request.block_request_hash)
                    .is_some_and(|&h| h <= tip);
                if let Some(payload) = self.data.qrinfos.get(&request.block_request_hash) {
                    if known {
                        let payload = self.served_qrinfo(index, payload.clone());
                        self.send_to_client_after(index, raw("qrinfo", payload), delay);
                    }
                }
            }
            NetworkMessage::GetMnListDiff(request) if !ignore => {
                let known = self
                    .data
                    .heights
                    .get(&request.block_hash)
                    .is_some_and(|&h| h <= tip);
                let genesis = Network::Testnet.genesis_hash();
                let chosen = self.data.diffs.get(&request.block_hash).and_then(|diffs| {
                    diffs
                        .iter()
                        .find(|(base, _)| *base == request.base_block_hash)
                        .or_else(|| {
                            diffs
                                .iter()
                                .find(|(base, _)| base.is_zero() || *base == genesis)
                        })
                        .map(|(_, payload)| payload.clone())
                });
                if let (true, Some(payload)) = (known, chosen) {
                    self.send_to_client_after(index, raw("mnlistdiff", payload), delay);
                }
            }
            NetworkMessage::GetData(items) if !ignore => {
                for item in items {
                    let found = self.data.clsigs.iter().find(|(height, payload)| {
                        **height <= tip && Sha256dHash(sha256d(payload)) == item.hash
                    });
                    if let (InvType::ClSig, Some((_, payload))) = (item.inv_type, found) {
                        let payload = payload.clone();
                        self.send_to_client_after(index, raw("clsig", payload), delay);
                    }
                }
            }
            _ => {}
        }
    }

    /// Records a ChainLock arriving at the client, for the ChainLock invariant.
    fn note_arrival(&mut self, bytes: &[u8]) {
        if bytes.len() >= 24 && &bytes[4..11] == b"qrinfo\0" {
            // The answer resolves the awaited request, whatever the manager does next.
            self.qrinfo_deadline = None;
        }
        if bytes.len() < 24 || &bytes[4..10] != b"clsig\0" {
            return;
        }
        if let Ok(clsig) = ClSig::decode(&mut Reader::new(&bytes[24..])) {
            let epoch = self.fault_epoch;
            self.chainlock_checks
                .push((self.t + CHAINLOCK_DELAY.as_millis(), clsig, epoch));
        }
    }

    fn handle(&mut self, outputs: Vec<NodeOutput>) {
        if std::env::var_os("SIM_TRACE").is_some() {
            for output in &outputs {
                let line = match output {
                    NodeOutput::Socket(SocketCommand::Send { peer, bytes }) => format!(
                        "send {} to {peer}",
                        String::from_utf8_lossy(&bytes[4..16]).trim_end_matches('\0')
                    ),
                    other => format!("{other:?}"),
                };
                eprintln!("[{} s] {}", self.t / 1000, &line[..line.len().min(300)]);
            }
        }
        let qrinfo_before = self.qrinfo_deadline.take();
        let qrinfo_socket_before = self.qrinfo_socket;
        let mut closed = Vec::new();
        let mut qrinfos_sent = 0;
        for output in outputs {
            match output {
                NodeOutput::Socket(SocketCommand::Connect { peer: socket, url }) => {
                    let index: usize = url
                        .trim_start_matches("sim://")
                        .parse()
                        .expect("a sim:// URL");
                    self.dials.insert(socket, index);
                    self.socket_owners.insert(socket, index);
                    let latency = self.latency();
                    if self.peers[index].up && self.online && !self.asleep {
                        self.peers[index].connection = Some(PeerConnection {
                            socket,
                            decoder: StreamDecoder::new(Network::Testnet),
                            ready: false,
                            client_has: 0,
                            last_to_client: 0,
                            last_to_peer: 0,
                        });
                        self.push(self.t + latency, Event::Opened { socket });
                    } else {
                        self.push(self.t + latency, Event::Closed { socket });
                    }
                }
                NodeOutput::Socket(SocketCommand::Send {
                    peer: socket,
                    bytes,
                }) => {
                    if bytes.len() >= 24 && &bytes[4..13] == b"getqrinfo" {
                        qrinfos_sent += 1;
                        self.qrinfo_socket = Some(socket);
                    }
                    self.answer_for_others(socket, &bytes);
                    let latency = self.latency();
                    let connection = self
                        .peers
                        .iter_mut()
                        .filter_map(|p| p.connection.as_mut())
                        .find(|c| c.socket == socket);
                    if let Some(connection) = connection {
                        let at = (self.t + latency).max(connection.last_to_peer);
                        connection.last_to_peer = at;
                        self.push(at, Event::ToPeer { socket, bytes });
                    }
                }
                NodeOutput::Socket(SocketCommand::Close { peer: socket }) => {
                    closed.push(socket);
                    self.dials.remove(&socket);
                    for peer in &mut self.peers {
                        if peer.connection.as_ref().is_some_and(|c| c.socket == socket) {
                            peer.connection = None;
                        }
                    }
                }
                NodeOutput::Notify(Notification::PeerGone {
                    peer: socket,
                    reason,
                    penalty: Some(penalty),
                }) => {
                    let index = self.socket_owners.get(&socket).copied();
                    self.check_punished(index, &reason, penalty);
                }
                NodeOutput::Notify(Notification::ConnectFailed {
                    url,
                    reason,
                    penalty: Some(penalty),
                }) => {
                    let index = url.trim_start_matches("sim://").parse().ok();
                    self.check_punished(index, &reason, penalty);
                }
                NodeOutput::Notify(Notification::Sync(Output::Event(
                    dashlight::sync::events::SyncEvent::ChainLockVerified { .. },
                ))) => self.report.chainlocks_verified += 1,
                NodeOutput::Notify(_) => {}
                NodeOutput::CheckQuorums { batch, shares } => self.check_in_workers(batch, shares),
                NodeOutput::HashHeaders(request) => self.hash_in_workers(request),
            }
        }
        if qrinfos_sent > 1 {
            self.violation(format!("{qrinfos_sent} getqrinfo sent at once"));
        }
        // Asking again at once is right when the peer holding the awaited one left.
        let holder_left = qrinfo_socket_before.is_some_and(|socket| closed.contains(&socket));
        if qrinfos_sent == 1
            && !holder_left
            && qrinfo_before.is_some_and(|deadline| deadline > self.now().monotonic)
        {
            self.violation("a getqrinfo sent while another was awaited".into());
        }
        self.qrinfo_deadline = self.qrinfo_awaited();
        self.persist();
    }

    /// The deadline of the `getqrinfo` the masternode manager awaits, if any.
    fn qrinfo_awaited(&self) -> Option<Timestamp> {
        match self.node.sync().masternodes().work() {
            MasternodeWork::QrInfo(QrInfoState::Awaiting { attempt, .. }) => Some(attempt.deadline),
            _ => None,
        }
    }

    /// Saves what changed, as the browser's persister does.
    fn persist(&mut self) {
        let chain = self.node.sync().chain();
        if chain.tip().hash != self.stored_tip {
            if let Err(error) = poll_once::run(save_chain(&mut self.store, chain)) {
                self.violation(format!("saving the chain failed: {error}"));
            }
            self.stored_tip = self.node.sync().chain().tip().hash;
        }
        let engine = self.node.sync().engine().inner();
        let fetching_lists = matches!(
            self.node.sync().masternodes().work(),
            MasternodeWork::QuorumLists { .. }
        );
        if engine.revision() != self.stored_revision && !fetching_lists {
            let revision = engine.revision();
            if let Err(error) = poll_once::run(save_masternodes(&mut self.store, engine)) {
                self.violation(format!("saving the masternode state failed: {error}"));
            }
            self.stored_revision = revision;
        }
    }

    /// A peer was punished: a violation unless it is hostile.
    fn check_punished(&mut self, index: Option<usize>, reason: &str, penalty: Penalty) {
        if index.is_some_and(|i| self.attacks(i).is_some()) {
            self.report.hostile_punished += 1;
        } else {
            self.violation(format!(
                "an honest peer was punished: {reason} ({penalty:?})"
            ));
        }
    }

    fn violation(&mut self, what: String) {
        self.report.violations.push(Violation {
            seed: self.scenario.seed,
            step: self.report.steps,
            at_secs: self.t / 1000,
            what,
        });
    }

    fn check_step(&mut self) {
        let chain = self.node.sync().chain();
        let peaks = &mut self.report.peaks;
        peaks.chain_index_bytes = peaks.chain_index_bytes.max(chain.index_heap_bytes());
        peaks.side_branches = peaks.side_branches.max(chain.side_branches().len());
        peaks.lists = peaks
            .lists
            .max(self.node.sync().engine().inner().list_heights().count());
        peaks.sockets = peaks.sockets.max(self.dials.len());
        peaks.in_flight = peaks.in_flight.max(self.payloads.len());
        peaks.stored_bytes = peaks.stored_bytes.max(self.store.stored_bytes());
        if chain.side_branches().len() > MAX_SIDE_BRANCHES {
            self.violation(format!(
                "{} side branches held",
                chain.side_branches().len()
            ));
        }
        let lists = self.node.sync().engine().inner().list_heights().count();
        if lists > MAX_LISTS {
            self.violation(format!("{lists} masternode lists held"));
        }
        let tip = self.node.sync().chain().tip().height;
        let (due, pending): (Vec<_>, Vec<_>) = self
            .header_checks
            .drain(..)
            .partition(|(at, ..)| *at <= self.t);
        self.header_checks = pending;
        for (_, height, epoch) in due {
            if epoch == self.fault_epoch && tip < height {
                self.violation(format!(
                    "header tip {tip} has not caught up with block {height} announced {} s ago",
                    HEADER_CATCH_UP.as_millis() / 1000
                ));
            }
        }
        let (due, pending): (Vec<_>, Vec<_>) = self
            .chainlock_checks
            .drain(..)
            .partition(|(at, ..)| *at <= self.t);
        self.chainlock_checks = pending;
        for (_, clsig, epoch) in due {
            if epoch != self.fault_epoch {
                continue;
            }
            let best = self.node.progress().best_chainlock.map_or(0, |c| c.height);
            let sync = self.node.sync();
            // Read-only: the signature holds and the signing quorum did not fail (the client
            // verifies a pending signing quorum when the ChainLock comes).
            let check = sync.engine().inner().verify_chainlock(&clsig, sync.chain());
            let verifiable = check.result.is_ok()
                && !matches!(check.quorum_status, Some(QuorumStatus::Failed(_)));
            if verifiable && best < clsig.height as u32 {
                self.violation(format!(
                    "the ChainLock for {} verifies but the best is {best}",
                    clsig.height
                ));
            }
        }
    }

    fn check_end(&mut self) {
        let progress = self.node.progress();
        let tip = self.node.sync().chain().tip().height;
        if tip != self.network_tip {
            self.violation(format!(
                "settled at header tip {tip}, the network's is {}",
                self.network_tip
            ));
        }
        if *self.node.sync().headers().state() != SyncState::Synced {
            self.violation(format!(
                "headers settled in {:?}",
                self.node.sync().headers().state()
            ));
        }
        let dead_end = matches!(progress.state, SyncState::Error(_) | SyncState::Syncing)
            && self.node.next_deadline().is_none();
        if dead_end {
            self.violation(format!(
                "dead end: {:?} with nothing scheduled",
                progress.state
            ));
        }
    }
}

fn new_node(
    chain: HeaderChain,
    engine: MasternodeEngine,
    scenario: &Scenario,
    salt: u64,
) -> SimNode {
    let urls: Vec<String> = (0..scenario.peers + scenario.hostile_peers)
        .map(|i| format!("sim://{i}"))
        .collect();
    Node::new(
        Network::Testnet,
        &urls,
        PeerSetConfig::default(),
        SyncConfig {
            check_workers: scenario.workers,
            ..SyncConfig::for_network(Network::Testnet)
        },
        chain,
        ClientEngine::new(engine),
        scenario.seed ^ salt,
    )
}

fn wire(message: &NetworkMessage) -> Vec<u8> {
    message.encode(PROTOCOL_VERSION).to_wire(Network::Testnet)
}

fn raw(command: &str, payload: Vec<u8>) -> Vec<u8> {
    RawMessage {
        command: Command::new(command),
        payload,
    }
    .to_wire(Network::Testnet)
}
