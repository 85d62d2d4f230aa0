//! The browser's I/O loop around the sans-IO [`Node`]: it owns the sockets,
//! feeds socket events, connectivity changes, commands and the time into the
//! node, and carries out what the node asks. One loop owns the node, so no
//! state is shared between callbacks.

use super::clock::{monotonic_ms, Clocks};
use super::connectivity::{ConnectivityEvent, ConnectivityListener};
use super::socket::{Socket, SocketEvent};
use crate::node::{Node, NodeOutput, Notification};
use crate::peer::set::{PeerId, SocketCommand};
use crate::protocol::chainlock::ClSig;
use crate::protocol::mnlistdiff::MnListDiff;
use crate::protocol::qrinfo::QrInfo;
use crate::sync::chain_view::ExtendableChain;
use crate::sync::engine::SyncEngine;
use crate::sync::events::SyncEvent;
use crate::sync::requests::Output;
use crate::sync::time::Now;
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::channel::oneshot;
use futures::{FutureExt, StreamExt};
use gloo_timers::future::TimeoutFuture;
use std::collections::HashMap;

/// The shortest time between two progress publications (`after_activity`).
const PUBLISH_INTERVAL_MS: u64 = 100;

/// A read-only function run on the node inside the loop.
pub type Inspector<C, E> = Box<dyn FnOnce(&Node<C, E>)>;

/// A function run on the node inside the loop that may send messages: its
/// outputs are carried out like the node's own.
pub type Request<C, E> = Box<dyn FnOnce(&mut Node<C, E>) -> Vec<NodeOutput>>;

/// A question or order for the loop from the JavaScript API.
pub enum Command<C: ExtendableChain, E: SyncEngine> {
    /// Start syncing.
    Start,
    /// Stop syncing and close every connection.
    Stop,
    /// Close every connection now (they reconnect by themselves).
    DropConnections,
    /// The page became visible: check that connections are alive.
    NotifyVisible,
    /// The page saw the browser go offline (`false`) or online (`true`): a
    /// worker does not always get these events itself.
    SetOnline(bool),
    /// Run a read-only function on the node (status, lists, verification).
    Inspect(Inspector<C, E>),
    /// Run a function that may send messages (a proof request).
    Request(Request<C, E>),
    /// The checking workers answered a batch of quorum checks
    /// ([`Observer::check_quorums`]): one answer per share, in order; none if they failed.
    QuorumChecksDone {
        /// The batch answered.
        batch: u64,
        /// The answers.
        answers: Vec<Vec<u8>>,
    },
    /// The workers answered a batch of headers to hash ([`Observer::hash_headers`]): one
    /// answer per share, in order; none if they failed.
    HeadersHashed {
        /// The batch answered.
        job: u64,
        /// The answers.
        answers: Vec<Vec<u8>>,
    },
    /// End the loop.
    Shutdown,
}

/// What the loop reports to the application, besides the node's notifications.
pub trait Observer<C: ExtendableChain, E: SyncEngine> {
    /// The node produced a notification. `node` is the node after it.
    fn notify(&mut self, notification: &Notification, node: &Node<C, E>);
    /// The browser went offline or came back online.
    fn connectivity(&mut self, online: bool, node: &Node<C, E>);
    /// A runtime problem (not a failed save: see [`Observer::storage_failed`]).
    fn runtime_error(&mut self, code: &str, message: &str);
    /// Saving what the node verified failed (it is retried after the next change).
    fn storage_failed(&mut self, message: &str);
    /// Saving works again after failures; `note` says what was caught up.
    fn storage_recovered(&mut self, note: &str);
    /// Called at most every [`PUBLISH_INTERVAL_MS`] after anything happened: a good moment
    /// to publish progress.
    fn after_activity(&mut self, node: &Node<C, E>);
    /// The node asks for quorum checks in the checking workers: `shares`, one per worker,
    /// whose answers come back as [`Command::QuorumChecksDone`] with `batch`.
    fn check_quorums(&mut self, batch: u64, shares: &[Vec<u8>]);
    /// The node asks for headers to be hashed in the same workers: `shares`, one per worker,
    /// whose answers come back as [`Command::HeadersHashed`] with `job`.
    fn hash_headers(&mut self, job: u64, shares: &[Vec<u8>]);
    /// The loop woke up for a timer; `wakeups` counts such wake-ups so far (it sleeps until
    /// the node's next deadline, or an event, otherwise).
    fn timer_woke(&mut self, wakeups: u64);
}

/// What a successful [`Persister::persist`] call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persisted {
    /// Everything is stored, as after the previous call.
    Stored,
    /// Everything is stored again after failed calls: what was caught up.
    Recovered(String),
}

/// Persists what the node has verified (headers, lists) after it changes.
pub trait Persister<C: ExtendableChain, E: SyncEngine> {
    /// Writes the headers that changed since the last successful call and, once
    /// `lists_settled` said so (here or in a call that failed since), the masternode state;
    /// awaited before the loop goes on.
    fn persist(
        &mut self,
        node: &Node<C, E>,
        lists_settled: bool,
    ) -> impl core::future::Future<Output = Result<Persisted, String>>;
}

/// The handle the API keeps: sends commands to the loop.
pub struct RuntimeHandle<C: ExtendableChain, E: SyncEngine> {
    commands: UnboundedSender<Command<C, E>>,
}

impl<C: ExtendableChain, E: SyncEngine> Clone for RuntimeHandle<C, E> {
    fn clone(&self) -> Self {
        RuntimeHandle {
            commands: self.commands.clone(),
        }
    }
}

impl<C: ExtendableChain, E: SyncEngine> RuntimeHandle<C, E> {
    /// Sends a command; false if the loop has ended.
    pub fn send(&self, command: Command<C, E>) -> bool {
        self.commands.unbounded_send(command).is_ok()
    }
}

/// Spawns the loop on the browser's event loop and returns its handle, and a receiver that
/// completes once the loop has ended (after [`Command::Shutdown`], or when every handle is
/// gone). Every input to the node carries `clocks`' readings.
pub fn spawn<C, E, O, P>(
    node: Node<C, E>,
    clocks: Clocks,
    observer: O,
    persister: P,
) -> (RuntimeHandle<C, E>, oneshot::Receiver<()>)
where
    C: ExtendableChain + 'static,
    E: SyncEngine<QrInfo = QrInfo, MnListDiff = MnListDiff, ChainLock = ClSig> + 'static,
    O: Observer<C, E> + 'static,
    P: Persister<C, E> + 'static,
{
    let (commands, command_rx) = unbounded();
    let (ended_tx, ended) = oneshot::channel();
    wasm_bindgen_futures::spawn_local(async move {
        run(node, clocks, observer, persister, command_rx).await;
        let _ = ended_tx.send(());
    });
    (RuntimeHandle { commands }, ended)
}

/// Hands one socket event to the node (a closed socket is forgotten).
fn socket_event<C, E>(
    node: &mut Node<C, E>,
    sockets: &mut HashMap<PeerId, Socket>,
    peer: PeerId,
    event: SocketEvent,
    now: Now,
) -> Vec<NodeOutput>
where
    C: ExtendableChain,
    E: SyncEngine<QrInfo = QrInfo, MnListDiff = MnListDiff, ChainLock = ClSig>,
{
    match event {
        SocketEvent::Opened => node.socket_opened(peer, now),
        SocketEvent::Data(bytes) => node.socket_data(peer, &bytes, now),
        SocketEvent::Closed { .. } => {
            sockets.remove(&peer);
            node.socket_closed(peer, now)
        }
    }
}

async fn run<C, E, O, P>(
    mut node: Node<C, E>,
    clocks: Clocks,
    mut observer: O,
    mut persister: P,
    mut commands: UnboundedReceiver<Command<C, E>>,
) where
    C: ExtendableChain,
    E: SyncEngine<QrInfo = QrInfo, MnListDiff = MnListDiff, ChainLock = ClSig>,
    O: Observer<C, E>,
    P: Persister<C, E>,
{
    let (socket_tx, mut socket_rx) = unbounded::<(PeerId, SocketEvent)>();
    let (connectivity_tx, mut connectivity_rx) = unbounded::<ConnectivityEvent>();
    let listener = ConnectivityListener::install(connectivity_tx);
    if let Err(error) = &listener {
        observer.runtime_error(
            "internal",
            &format!("cannot listen for online/offline: {error:?}"),
        );
    }
    let mut sockets: HashMap<PeerId, Socket> = HashMap::new();
    let now = || clocks.now();
    if !ConnectivityListener::is_online() {
        node.set_online(false, now());
    }
    let mut dirty = true;
    let mut published_at = 0u64;
    let mut wakeups = 0u64;
    loop {
        // Sleep until the node's next deadline, or until progress is due to be published;
        // with neither, until an event arrives.
        let publish_at = dirty.then_some(published_at.saturating_add(PUBLISH_INTERVAL_MS));
        let wake_at = [node.next_deadline().map(|t| t.as_millis()), publish_at]
            .into_iter()
            .flatten()
            .min();
        let sleep = async move {
            match wake_at {
                Some(at) => {
                    let delay = at.saturating_sub(monotonic_ms());
                    TimeoutFuture::new(u32::try_from(delay).unwrap_or(u32::MAX)).await
                }
                None => futures::future::pending::<()>().await,
            }
        }
        .fuse();
        futures::pin_mut!(sleep);
        let outputs = futures::select! {
            event = socket_rx.next() => match event {
                Some((peer, event)) => socket_event(&mut node, &mut sockets, peer, event, now()),
                None => break,
            },
            event = connectivity_rx.next() => match event {
                Some(ConnectivityEvent::Online) => {
                    observer.connectivity(true, &node);
                    node.set_online(true, now())
                }
                Some(ConnectivityEvent::Offline) => {
                    observer.connectivity(false, &node);
                    node.set_online(false, now())
                }
                Some(ConnectivityEvent::Visible) => node.check_liveness(now()),
                None => Vec::new(),
            },
            command = commands.next() => match command {
                Some(Command::Start) => node.start(now()),
                Some(Command::Stop) => node.stop(now()),
                Some(Command::DropConnections) => node.drop_connections(now()),
                Some(Command::NotifyVisible) => node.check_liveness(now()),
                Some(Command::SetOnline(online)) => {
                    observer.connectivity(online, &node);
                    node.set_online(online, now())
                }
                Some(Command::Request(request)) => request(&mut node),
                Some(Command::QuorumChecksDone { batch, answers }) => {
                    node.quorum_checks_done(batch, &answers, now())
                }
                Some(Command::HeadersHashed { job, answers }) => {
                    node.headers_hashed(job, &answers, now())
                }
                Some(Command::Inspect(inspect)) => {
                    inspect(&node);
                    Vec::new()
                }
                Some(Command::Shutdown) | None => {
                    node.stop(now());
                    break;
                }
            },
            _ = sleep => {
                wakeups += 1;
                observer.timer_woke(wakeups);
                let at = monotonic_ms();
                if dirty && at >= published_at.saturating_add(PUBLISH_INTERVAL_MS) {
                    observer.after_activity(&node);
                    published_at = at;
                    dirty = false;
                }
                // What the sockets delivered before the timer fired comes first: an answer
                // waiting in the queue while the worker was busy must not time out.
                let mut outputs = Vec::new();
                while let Ok((peer, event)) = socket_rx.try_recv() {
                    outputs.extend(socket_event(&mut node, &mut sockets, peer, event, now()));
                }
                outputs.extend(node.tick(now()));
                outputs
            },
        };
        if outputs.is_empty() {
            continue;
        }
        dirty = true;
        let mut persist = false;
        let mut lists_settled = false;
        for output in outputs {
            match output {
                NodeOutput::Socket(SocketCommand::Connect { peer, url }) => {
                    match Socket::connect(&url, peer, socket_tx.clone()) {
                        Ok(socket) => {
                            sockets.insert(peer, socket);
                        }
                        Err(_) => {
                            let _ = socket_tx.unbounded_send((
                                peer,
                                SocketEvent::Closed {
                                    code: 1006,
                                    reason: "could not open".into(),
                                },
                            ));
                        }
                    }
                }
                NodeOutput::Socket(SocketCommand::Send { peer, bytes }) => {
                    if let Some(socket) = sockets.get(&peer) {
                        if socket.send(&bytes).is_err() {
                            let _ = socket_tx.unbounded_send((
                                peer,
                                SocketEvent::Closed {
                                    code: 1006,
                                    reason: "send failed".into(),
                                },
                            ));
                        }
                    }
                }
                NodeOutput::Socket(SocketCommand::Close { peer }) => {
                    sockets.remove(&peer);
                }
                NodeOutput::CheckQuorums { batch, shares } => {
                    observer.check_quorums(batch, &shares)
                }
                NodeOutput::HashHeaders(request) => {
                    observer.hash_headers(request.job, &request.shares)
                }
                NodeOutput::Notify(notification) => {
                    persist |= matches!(notification, Notification::Sync(_));
                    // The sync says when the lists a QRInfo needs are all in: the engine's
                    // state is complete and worth saving (not after each of their diffs).
                    lists_settled |= matches!(
                        notification,
                        Notification::Sync(Output::Event(SyncEvent::MasternodeListsSynced { .. }))
                    );
                    observer.notify(&notification, &node);
                }
            }
        }
        if persist {
            match persister.persist(&node, lists_settled).await {
                Ok(Persisted::Stored) => {}
                Ok(Persisted::Recovered(note)) => observer.storage_recovered(&note),
                Err(message) => observer.storage_failed(&message),
            }
        }
        // Validating, verifying and storing may have taken a while: the requests this input
        // made went out only now.
        node.input_handled(now().monotonic);
    }
    drop(listener);
}
