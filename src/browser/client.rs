//! The browser client: opens storage, restores the chain, runs the node in
//! the runtime loop, persists what it verifies and reports to JavaScript.

use super::clock::{monotonic_ms, Clocks, TestClock};
use super::idb::{request_persistence, AcquireCancel, IdbError, SyncLock};
use super::runtime::{self, Command, Observer, Persisted, Persister, RuntimeHandle};
use super::status::{
    state_cause, state_name, ClientNode, ErrorInfo, HeaderInfo, Status, StorageStatus,
    VerifiedChainLock,
};
use super::store::IdbStore;
use crate::chain::{ChainConfig, ChainTip, HeaderChain, SyncBase, Work};
use crate::hash::BlockHash;
use crate::mnlist::MasternodeEngine;
use crate::network::Network;
use crate::node::chain::{ClientChain, ViewHeaders};
use crate::node::engine::ClientEngine;
use crate::node::{Node, Notification};
use crate::peer::ban::{Penalty, BAN_THRESHOLD};
use crate::peer::set::PeerSetConfig;
use crate::protocol::bloom::MerkleBlock;
use crate::protocol::isdlock::InstantLock;
use crate::storage::{
    restore_chain, restore_masternodes, save_masternodes, ChainSaver, HeaderStore, StorageError,
};
use crate::sync::config::SyncConfig;
use crate::sync::events::SyncEvent;
use crate::sync::masternodes::MasternodeWork;
use crate::sync::requests::{ManagerKind, Output};
use crate::sync::time::Millis;
use core::fmt;
use std::cell::RefCell;
use std::rc::Rc;

/// Checked client options.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// The network.
    pub network: Network,
    /// Bridge URLs.
    pub bridges: Vec<String>,
    /// IndexedDB database name.
    pub storage_name: String,
    /// Peers to keep.
    pub max_peers: usize,
    /// Start from the checkpoint at or below this height (default: the newest).
    pub base_height: Option<u32>,
    /// Multiplies every timeout (tests use a small factor).
    pub timeout_scale: f64,
    /// The least work the best chain must have to be reported as synced
    /// (default: the network's compiled-in
    /// [`minimum_chain_work`](crate::chain::checkpoints::minimum_chain_work);
    /// replays of recorded history set a lower one).
    pub minimum_chain_work: Work,
    /// A wall clock for tests (a start time and a rate), instead of the browser's.
    pub clock: Option<TestClock>,
}

/// Why the client could not do what was asked; `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// Stable code (see `js/index.d.ts`).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<StorageError> for ClientError {
    fn from(error: StorageError) -> Self {
        let code = match error {
            StorageError::QuotaExceeded => "storage_quota_exceeded",
            _ => "storage_failed",
        };
        ClientError {
            code,
            message: error.to_string(),
        }
    }
}

/// Where JavaScript events go: `emit(name, detail)`.
pub trait EventSink {
    /// Delivers one event.
    fn emit(&self, name: &str, detail: &dyn erased::Detail);
}

/// Event payloads, serialised by the sink.
pub mod erased {
    /// A payload the sink can serialise.
    pub trait Detail {
        /// The payload as a JavaScript value.
        fn to_js(&self) -> wasm_bindgen::JsValue;
    }

    impl<T: serde::Serialize> Detail for T {
        fn to_js(&self) -> wasm_bindgen::JsValue {
            self.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
                .unwrap_or(wasm_bindgen::JsValue::NULL)
        }
    }
}

/// Shared state the API reads between commands.
#[derive(Default)]
pub struct Shared {
    /// The last error reported.
    pub last_error: Option<ErrorInfo>,
    /// The browser's answer to `navigator.storage.persist()`.
    pub persistent: Option<bool>,
    /// Whether saves succeed (set by the persister once running).
    pub storage: Option<StorageStatus>,
    /// The best ChainLock verified, as reported when it was (not re-verified for each status).
    pub last_chainlock: Option<VerifiedChainLock>,
    /// Milliseconds from the first QRInfo's arrival to the first ChainLock verified.
    pub first_chainlock_after_qrinfo_ms: Option<u64>,
    /// The same, to the first ChainLock verified whose signing quorum is verified too.
    pub first_verified_quorum_chainlock_after_qrinfo_ms: Option<u64>,
    /// How often the runtime loop woke up for a timer (it sleeps until the node's next
    /// deadline otherwise).
    pub timer_wakeups: u64,
    /// InstantSend locks from peers waiting for their quorum.
    pub pending_locks: super::wallet::PendingLocks,
    /// `proveTransaction` calls waiting for a filtered block.
    pub pending_merkle_blocks: Vec<(BlockHash, futures::channel::oneshot::Sender<MerkleBlock>)>,
}

/// Reports the node's notifications as JavaScript events.
struct JsObserver<S: EventSink> {
    sink: S,
    shared: Rc<RefCell<Shared>>,
    started_ms: u64,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StateChange {
    manager: &'static str,
    from: &'static str,
    to: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<String>,
    at: u64,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PeerView {
    url: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
}

#[derive(serde::Serialize)]
struct Peers {
    connected: usize,
    peers: Vec<PeerView>,
}

#[derive(serde::Serialize)]
struct Log {
    level: &'static str,
    message: String,
    at: u64,
}

impl<S: EventSink> JsObserver<S> {
    fn at(&self) -> u64 {
        monotonic_ms().saturating_sub(self.started_ms)
    }

    fn log(&self, level: &'static str, message: String) {
        self.sink.emit(
            "log",
            &Log {
                level,
                message,
                at: self.at(),
            },
        );
    }

    /// Emits the `storage` event with the persister's latest status.
    fn storage_event(&self) {
        if let Some(status) = self.shared.borrow().storage.clone() {
            self.sink.emit("storage", &status);
        }
    }

    /// Logs why a connection went (a warning when the peer misbehaved, with what it cost
    /// it) and the peer list.
    fn departure(&self, node: &ClientNode, what: &str, reason: &str, penalty: Option<Penalty>) {
        let (level, cost) = match penalty {
            None => ("info", String::new()),
            Some(Penalty { ban: Some(ban), .. }) => (
                "warn",
                format!(
                    " (banned for {}, ban {} of this address)",
                    spoken_duration(ban.duration),
                    ban.count
                ),
            ),
            Some(Penalty { weight, score, .. }) => (
                "warn",
                format!(" (misbehaviour +{weight}, score {score} of {BAN_THRESHOLD})"),
            ),
        };
        self.log(level, format!("{what}: {reason}{cost}"));
        self.peers(node);
    }

    fn peers(&self, node: &ClientNode) {
        let ready: Vec<(String, String, u32)> = node
            .peers()
            .ready_peers()
            .map(|(_, url, info)| (url.to_owned(), info.user_agent.clone(), info.best_height))
            .collect();
        let peers = node
            .endpoint_states()
            .into_iter()
            .map(|(url, state)| {
                let info = ready.iter().find(|(u, _, _)| *u == url);
                PeerView {
                    user_agent: info.map(|i| i.1.clone()),
                    height: info.map(|i| i.2),
                    url,
                    state,
                }
            })
            .collect();
        self.sink.emit(
            "peers",
            &Peers {
                connected: ready.len(),
                peers,
            },
        );
    }
}

fn manager_name(manager: ManagerKind) -> &'static str {
    match manager {
        ManagerKind::Headers => "headers",
        ManagerKind::Masternodes => "masternodes",
        ManagerKind::ChainLocks => "chainlocks",
    }
}

impl<S: EventSink> Observer<ClientChain, ClientEngine> for JsObserver<S> {
    fn notify(&mut self, notification: &Notification, node: &ClientNode) {
        match notification {
            Notification::Sync(Output::StateChanged { manager, from, to }) => {
                let change = StateChange {
                    manager: manager_name(*manager),
                    from: state_name(from),
                    to: state_name(to),
                    cause: state_cause(to),
                    at: self.at(),
                };
                if let Some(cause) = &change.cause {
                    let error = ErrorInfo {
                        code: "sync_error".into(),
                        message: format!("{}: {cause}", change.manager),
                    };
                    self.sink.emit("error", &error);
                    self.shared.borrow_mut().last_error = Some(error);
                }
                self.sink.emit("statechange", &change);
            }
            Notification::Sync(Output::SyncStateChanged { from, to }) => {
                let change = StateChange {
                    manager: "sync",
                    from: state_name(from),
                    to: state_name(to),
                    cause: state_cause(to),
                    at: self.at(),
                };
                self.sink.emit("statechange", &change);
            }
            Notification::Sync(Output::Event(SyncEvent::ChainLockVerified { target })) => {
                let check = node
                    .last_chainlock()
                    .filter(|c| c.block_hash == target.hash)
                    .map(|c| {
                        node.sync()
                            .engine()
                            .inner()
                            .verify_chainlock(c, &ViewHeaders(node.sync().chain()))
                    });
                if let Some(verified) = check.as_ref().and_then(VerifiedChainLock::from_check) {
                    self.sink.emit("chainlock", &verified);
                    let mut shared = self.shared.borrow_mut();
                    if let Some(received) = node.progress().masternodes.first_qrinfo_received {
                        let after = monotonic_ms().saturating_sub(received.as_millis());
                        shared.first_chainlock_after_qrinfo_ms.get_or_insert(after);
                        if verified.quorum_verified() {
                            shared
                                .first_verified_quorum_chainlock_after_qrinfo_ms
                                .get_or_insert(after);
                        }
                    }
                    shared.last_chainlock = Some(verified);
                }
                self.log(
                    "info",
                    format!(
                        "ChainLock verified for block {} at {}",
                        target.hash, target.height
                    ),
                );
            }
            Notification::Sync(_) => {}
            Notification::MerkleBlock(block) => {
                let hash = block.header.block_hash();
                let mut shared = self.shared.borrow_mut();
                let (answered, waiting) = std::mem::take(&mut shared.pending_merkle_blocks)
                    .into_iter()
                    .partition(|(h, _)| *h == hash);
                shared.pending_merkle_blocks = waiting;
                for (_, sender) in answered {
                    let _ = sender.send(MerkleBlock::clone(block));
                }
            }
            Notification::InstantLock(lock) => {
                let result = self
                    .shared
                    .borrow_mut()
                    .pending_locks
                    .receive(node, InstantLock::clone(lock));
                if let Some(result) = result {
                    self.sink.emit("instantlock", &result);
                }
            }
            Notification::PeerReady {
                user_agent,
                best_height,
                ..
            } => {
                self.log(
                    "info",
                    format!("peer ready: {user_agent} at height {best_height}"),
                );
                self.peers(node);
            }
            Notification::ConnectFailed {
                url,
                reason,
                penalty,
            } => self.departure(
                node,
                &format!("connection to {url} failed before its handshake"),
                reason,
                *penalty,
            ),
            Notification::PeerGone {
                reason, penalty, ..
            } => self.departure(node, "peer gone", reason, *penalty),
        }
    }

    fn connectivity(&mut self, online: bool, node: &ClientNode) {
        self.log(
            "info",
            format!("browser is {}", if online { "online" } else { "offline" }),
        );
        self.peers(node);
    }

    fn runtime_error(&mut self, code: &str, message: &str) {
        let error = ErrorInfo {
            code: code.to_owned(),
            message: message.to_owned(),
        };
        self.sink.emit("error", &error);
        self.shared.borrow_mut().last_error = Some(error);
    }

    fn storage_failed(&mut self, message: &str) {
        self.runtime_error("storage_failed", message);
        self.storage_event();
    }

    fn storage_recovered(&mut self, note: &str) {
        self.log("info", format!("saving works again: {note}"));
        let mut shared = self.shared.borrow_mut();
        if shared
            .last_error
            .as_ref()
            .is_some_and(|e| e.code == "storage_failed")
        {
            shared.last_error = None;
        }
        drop(shared);
        self.storage_event();
    }

    fn timer_woke(&mut self, wakeups: u64) {
        self.shared.borrow_mut().timer_wakeups = wakeups;
    }

    fn after_activity(&mut self, node: &ClientNode) {
        let decided = self.shared.borrow_mut().pending_locks.recheck(node);
        for result in &decided {
            self.sink.emit("instantlock", result);
        }
        let status = Status::of(node, node_network(node), &self.shared.borrow());
        self.sink.emit("progress", &status);
    }
}

fn node_network(node: &ClientNode) -> Network {
    node.sync().chain().inner().network()
}

/// Writes new best-chain headers to IndexedDB after each change, and the
/// masternode engine's state after it changed, once the lists a QRInfo needs
/// are in (not after each of their diffs). After failed saves it keeps what
/// they missed ([`ChainSaver`]) and reports failing and recovering in
/// [`Shared::storage`].
struct IdbPersister {
    store: IdbStore,
    /// Keeps the headers of failed saves.
    saver: ChainSaver,
    /// The tip last written, to skip the store when nothing changed.
    stored: ChainTip,
    /// The engine revision last written.
    engine_revision: u64,
    /// Saves failed in a row.
    failed_saves: u32,
    shared: Rc<RefCell<Shared>>,
}

impl IdbPersister {
    /// Writes what changed since the last successful call.
    async fn save(&mut self, node: &ClientNode) -> Result<(), StorageError> {
        let chain = node.sync().chain().inner();
        let tip = chain.tip();
        if tip.hash != self.stored.hash {
            self.saver.save(&mut self.store, chain).await?;
            self.stored = tip;
        }
        let engine = node.sync().engine().inner();
        let fetching_lists = matches!(
            node.sync().masternodes().work(),
            MasternodeWork::QuorumLists { .. }
        );
        if engine.revision() != self.engine_revision && !fetching_lists {
            save_masternodes(&mut self.store, engine).await?;
            self.engine_revision = engine.revision();
        }
        Ok(())
    }
}

impl Persister<ClientChain, ClientEngine> for IdbPersister {
    async fn persist(&mut self, node: &ClientNode) -> Result<Persisted, String> {
        let result = self.save(node).await;
        let stored_height = self.stored.height;
        let (status, outcome) = match result {
            Ok(()) if self.failed_saves == 0 => {
                (StorageStatus::Ok { stored_height }, Ok(Persisted::Stored))
            }
            Ok(()) => {
                let note = format!(
                    "stored up to height {stored_height} after {} failed saves",
                    self.failed_saves
                );
                self.failed_saves = 0;
                (
                    StorageStatus::Ok { stored_height },
                    Ok(Persisted::Recovered(note)),
                )
            }
            Err(error) => {
                self.failed_saves = self.failed_saves.saturating_add(1);
                let status = StorageStatus::Failing {
                    stored_height,
                    unsaved_headers: self.saver.unsaved_headers(),
                    failed_saves: self.failed_saves,
                    error: error.to_string(),
                };
                (status, Err(error.to_string()))
            }
        };
        self.shared.borrow_mut().storage = Some(status);
        outcome
    }
}

/// The running client: its handle and what it holds on to.
pub struct Running {
    /// Commands for the loop.
    pub handle: RuntimeHandle<ClientChain, ClientEngine>,
    /// Completes once the loop has ended.
    ended: futures::channel::oneshot::Receiver<()>,
    lock: SyncLock,
}

impl Running {
    /// Ends the loop and waits until it has (no write of it is under way
    /// any more), keeping the lock on its storage.
    pub async fn shut_down(self) -> SyncLock {
        self.handle.send(Command::Shutdown);
        // A closed channel means the loop is gone as well.
        let _ = self.ended.await;
        self.lock
    }
}

/// The error for a storage another context holds the lock of.
pub fn storage_locked(name: &str, what: &str) -> ClientError {
    ClientError {
        code: "storage_locked",
        message: format!("another tab or worker is syncing {name:?}: {what}"),
    }
}

fn lock_failed(error: IdbError) -> ClientError {
    ClientError {
        code: "storage_failed",
        message: format!("the Web Lock on the storage: {error}"),
    }
}

/// The sync lock on the storage `name` if no other context holds it.
pub async fn try_lock(name: &str) -> Result<Option<SyncLock>, ClientError> {
    SyncLock::try_acquire(name).await.map_err(lock_failed)
}

/// The sync lock on the storage `name` once the context holding it
/// releases it or closes; `None` if `cancel` was cancelled first.
pub async fn wait_for_lock(
    name: &str,
    cancel: &AcquireCancel,
) -> Result<Option<SyncLock>, ClientError> {
    SyncLock::acquire(name, cancel).await.map_err(lock_failed)
}

/// A handle to cancel [`wait_for_lock`] with.
pub fn lock_canceller() -> Result<AcquireCancel, ClientError> {
    AcquireCancel::new().map_err(lock_failed)
}

/// Opens the storage `lock` guards, restores or starts the chain and spawns the loop.
pub async fn launch<S: EventSink + 'static>(
    options: &ClientOptions,
    lock: SyncLock,
    sink: S,
    shared: Rc<RefCell<Shared>>,
    seed: u64,
) -> Result<Running, ClientError> {
    shared.borrow_mut().persistent = request_persistence().await.ok().flatten();
    let mut store = IdbStore::open(&options.storage_name).await?;
    let config = ChainConfig {
        minimum_chain_work: options.minimum_chain_work,
        ..ChainConfig::default()
    };
    let chain = match restore_chain(&store, options.network, config).await {
        Ok(Some(chain)) => chain,
        Ok(None) => new_chain(&mut store, options, config).await?,
        Err(error) => {
            sink.emit(
                "log",
                &Log {
                    level: "warn",
                    message: format!("stored headers unusable, starting over: {error}"),
                    at: 0,
                },
            );
            new_chain(&mut store, options, config).await?
        }
    };
    let stored = chain.tip();
    let chain = ClientChain::new(chain);
    let engine = restore_engine(&store, options.network, &chain, &sink).await;
    let engine_revision = engine.revision();
    let scale = options.timeout_scale;
    let peer_config = PeerSetConfig {
        max_peers: options.max_peers,
        ..PeerSetConfig::default()
    }
    .scaled(scale);
    let node = Node::new(
        options.network,
        &options.bridges,
        peer_config,
        SyncConfig::for_network(options.network).scaled(scale),
        chain,
        ClientEngine::new(engine),
        seed,
    );
    shared.borrow_mut().storage = Some(StorageStatus::Ok {
        stored_height: stored.height,
    });
    let persister = IdbPersister {
        store,
        saver: ChainSaver::new(),
        stored,
        engine_revision,
        failed_saves: 0,
        shared: Rc::clone(&shared),
    };
    let observer = JsObserver {
        sink,
        shared,
        started_ms: monotonic_ms(),
    };
    let (handle, ended) = runtime::spawn(node, Clocks::new(options.clock), observer, persister);
    Ok(Running {
        handle,
        ended,
        lock,
    })
}

/// The stored masternode engine state checked against the restored `chain`,
/// or a fresh engine if none is stored or it is unusable (then logged).
async fn restore_engine<S: EventSink>(
    store: &IdbStore,
    network: Network,
    chain: &ClientChain,
    sink: &S,
) -> MasternodeEngine {
    let mut engine = MasternodeEngine::new(network);
    let (level, message) =
        match restore_masternodes(store, &mut engine, &ViewHeaders(chain)).await {
            Ok(None) => return engine,
            Ok(Some(report)) => (
                "info",
                format!(
                    "restored {} masternode lists ({} dropped: not on the header chain), {} quorums verified",
                    report.lists.len(),
                    report.dropped_lists.len(),
                    report.quorums_verified
                ),
            ),
            Err(error) => (
                "warn",
                format!("stored masternode lists unusable, fetching them again: {error}"),
            ),
        };
    sink.emit(
        "log",
        &Log {
            level,
            message,
            at: 0,
        },
    );
    engine
}

async fn new_chain(
    store: &mut IdbStore,
    options: &ClientOptions,
    config: ChainConfig,
) -> Result<HeaderChain, ClientError> {
    let base = SyncBase::at_or_below(options.network, options.base_height.unwrap_or(u32::MAX));
    store.initialize(&base).await?;
    Ok(HeaderChain::with_config(base, config))
}

/// Deletes everything stored under the storage `lock` guards (the lock's
/// name), so no other context can be syncing it (the loop must be ended).
pub async fn clear_storage(lock: &SyncLock) -> Result<(), ClientError> {
    let mut store = IdbStore::open(lock.name()).await?;
    store.clear().await?;
    Ok(())
}

/// The block a header query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRef {
    /// The best chain's block at this height.
    Height(u32),
    /// The block with this hash, if on the best chain.
    Hash(BlockHash),
}

/// Where a queried header is.
enum HeaderLookup {
    /// Held in memory.
    Held(HeaderInfo),
    /// On the best chain, but only in storage now.
    Stored {
        height: u32,
        hash: BlockHash,
        tip_height: u32,
    },
    /// Not on the best chain.
    Absent,
}

/// The best chain's header at `block` (from memory, else from the database
/// `storage_name`), or `None` if the best chain has no such block.
/// `locked_height` is the height of the last verified ChainLock.
pub async fn header(
    handle: &RuntimeHandle<ClientChain, ClientEngine>,
    storage_name: &str,
    block: BlockRef,
    locked_height: Option<u32>,
) -> Result<Option<HeaderInfo>, ClientError> {
    let lookup = inspect(handle, move |node| {
        let chain = node.sync().chain().inner();
        let tip_height = chain.tip().height;
        let found = match block {
            BlockRef::Height(height) => chain.hash_at(height).map(|hash| (height, hash)),
            BlockRef::Hash(hash) => chain.height_of(&hash).map(|height| (height, hash)),
        };
        match found {
            None => HeaderLookup::Absent,
            Some((height, hash)) => match chain.header_at(height) {
                Some(header) => HeaderLookup::Held(HeaderInfo::new(
                    height,
                    hash,
                    header,
                    tip_height,
                    locked_height,
                )),
                None => HeaderLookup::Stored {
                    height,
                    hash,
                    tip_height,
                },
            },
        }
    })
    .await?;
    let (height, hash, tip_height) = match lookup {
        HeaderLookup::Held(info) => return Ok(Some(info)),
        HeaderLookup::Absent => return Ok(None),
        HeaderLookup::Stored {
            height,
            hash,
            tip_height,
        } => (height, hash, tip_height),
    };
    let store = IdbStore::open(storage_name).await?;
    let stored = store.read_headers(height, 1).await?;
    match stored.first() {
        Some(header) if header.block_hash() == hash => Ok(Some(HeaderInfo::new(
            height,
            hash,
            header,
            tip_height,
            locked_height,
        ))),
        _ => Err(ClientError {
            code: "storage_failed",
            message: format!("the stored header at height {height} is not block {hash}"),
        }),
    }
}

/// Asks the loop to run `inspect` on the node and waits for its answer.
pub async fn inspect<T: 'static>(
    handle: &RuntimeHandle<ClientChain, ClientEngine>,
    inspect: impl FnOnce(&ClientNode) -> T + 'static,
) -> Result<T, ClientError> {
    let (tx, rx) = futures::channel::oneshot::channel();
    let sent = handle.send(Command::Inspect(Box::new(move |node| {
        let _ = tx.send(inspect(node));
    })));
    let stopped = || ClientError {
        code: "not_running",
        message: "the client is not running".into(),
    };
    if !sent {
        return Err(stopped());
    }
    rx.await.map_err(|_| stopped())
}

/// A duration as a person says it: seconds under a minute, minutes under two hours, else
/// hours.
fn spoken_duration(duration: Millis) -> String {
    let secs = duration.as_millis() / 1000;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=7_199 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3_600),
    }
}
