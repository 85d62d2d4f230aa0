//! The browser client: its options and errors, the state the API reads, and its launch:
//! opens storage, restores the chain and the masternode state, and runs the node in the
//! runtime loop with the observer ([`super::observer`]) and the persister
//! ([`super::persister`]).

use super::clock::{Clocks, TestClock};
pub use super::error::ClientError;
use super::idb::{request_persistence, AcquireCancel, IdbError, SyncLock};
use super::observer::{log_before_start, EventSink, JsObserver};
use super::persister::IdbPersister;
use super::runtime::{self, Command, RuntimeHandle};
pub use super::shared::Shared;
use super::status::{ClientNode, StorageStatus};
use super::store::IdbStore;
use crate::chain::{ChainConfig, HeaderChain, SyncBase, Work};
use crate::mnlist::MasternodeEngine;
use crate::network::Network;
use crate::node::engine::ClientEngine;
use crate::node::Node;
use crate::peer::set::PeerSetConfig;
use crate::storage::{restore_chain, restore_masternodes, HeaderStore};
use crate::sync::config::SyncConfig;
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
    /// Checking workers the client's worker runs for quorum checks (0: checks run in the
    /// client's worker).
    pub check_workers: usize,
}

/// The running client: its handle and what it holds on to.
pub struct Running {
    /// Commands for the loop.
    pub handle: RuntimeHandle<HeaderChain, ClientEngine>,
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
            log_before_start(
                &sink,
                "warn",
                format!("stored headers unusable, starting over: {error}"),
            );
            new_chain(&mut store, options, config).await?
        }
    };
    let stored = chain.tip();
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
        SyncConfig {
            check_workers: options.check_workers,
            ..SyncConfig::for_network(options.network).scaled(scale)
        },
        chain,
        ClientEngine::new(engine),
        seed,
    );
    shared.borrow_mut().storage = Some(StorageStatus::Ok {
        stored_height: stored.height,
    });
    let persister = IdbPersister::new(store, stored, engine_revision, Rc::clone(&shared));
    let observer = JsObserver::new(sink, shared);
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
    chain: &HeaderChain,
    sink: &S,
) -> MasternodeEngine {
    let mut engine = MasternodeEngine::new(network);
    let (level, message) =
        match restore_masternodes(store, &mut engine, chain).await {
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
    log_before_start(sink, level, message);
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

/// Asks the loop to run `inspect` on the node and waits for its answer.
pub async fn inspect<T: 'static>(
    handle: &RuntimeHandle<HeaderChain, ClientEngine>,
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
