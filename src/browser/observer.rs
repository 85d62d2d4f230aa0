//! The node's notifications as JavaScript events (`statechange`, `peers`, `chainlock`,
//! `log`, …), through an [`EventSink`] the wasm API supplies.

use super::clock::monotonic_ms;
use super::runtime::Observer;
use super::shared::Shared;
use super::status::{state_cause, state_name, ClientNode, ErrorInfo, Status, VerifiedChainLock};
use crate::chain::HeaderChain;
use crate::network::Network;
use crate::node::engine::ClientEngine;
use crate::node::Notification;
use crate::peer::ban::{Penalty, BAN_THRESHOLD};
use crate::protocol::bloom::MerkleBlock;
use crate::protocol::isdlock::InstantLock;
use crate::sync::events::SyncEvent;
use crate::sync::requests::{ManagerKind, Output};
use crate::sync::time::Millis;
use std::cell::RefCell;
use std::rc::Rc;

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

/// Reports the node's notifications as JavaScript events.
pub struct JsObserver<S: EventSink> {
    sink: S,
    shared: Rc<RefCell<Shared>>,
    started_ms: u64,
    /// When the first QRInfo arrived, on this thread's `performance.now()` clock (the
    /// node's own timestamps leave out the time spent storing and verifying).
    first_qrinfo_ms: Option<u64>,
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

/// Emits a `log` event from before the loop started (at 0 ms).
pub fn log_before_start(sink: &impl EventSink, level: &'static str, message: String) {
    sink.emit(
        "log",
        &Log {
            level,
            message,
            at: 0,
        },
    );
}

impl<S: EventSink> JsObserver<S> {
    /// An observer reporting to `sink` from now on, keeping what the API reads in `shared`.
    pub fn new(sink: S, shared: Rc<RefCell<Shared>>) -> JsObserver<S> {
        JsObserver {
            sink,
            shared,
            started_ms: monotonic_ms(),
            first_qrinfo_ms: None,
        }
    }

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

impl<S: EventSink> Observer<HeaderChain, ClientEngine> for JsObserver<S> {
    fn notify(&mut self, notification: &Notification, node: &ClientNode) {
        if self.first_qrinfo_ms.is_none() {
            // Read while the QRInfo's input is being carried out (applying it notifies).
            self.first_qrinfo_ms = node
                .sync()
                .masternodes()
                .progress()
                .first_qrinfo_received
                .map(|at| node.caller_time(at).as_millis());
        }
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
            Notification::Sync(Output::Event(SyncEvent::ChainLockVerified { target, signer })) => {
                let verified = VerifiedChainLock::from_sync(*target, *signer);
                self.sink.emit("chainlock", &verified);
                let mut shared = self.shared.borrow_mut();
                if let Some(received) = self.first_qrinfo_ms {
                    let after = monotonic_ms().saturating_sub(received);
                    shared.first_chainlock_after_qrinfo_ms.get_or_insert(after);
                    if verified.quorum_verified() {
                        shared
                            .first_verified_quorum_chainlock_after_qrinfo_ms
                            .get_or_insert(after);
                    }
                }
                shared.last_chainlock = Some(verified);
                shared.chainlocks_verified += 1;
                drop(shared);
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

    fn check_quorums(&mut self, batch: u64, shares: &[Vec<u8>]) {
        self.sink
            .emit("checkquorums", &WorkerBatch { batch, shares });
    }

    fn hash_headers(&mut self, job: u64, shares: &[Vec<u8>]) {
        self.sink
            .emit("hashheaders", &WorkerBatch { batch: job, shares });
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
    node.sync().chain().network()
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

/// The `checkquorums` and `hashheaders` events, for the client's worker to hand to its
/// checking workers (they are not forwarded to the page): `{ batch, shares }`, each share a
/// `Uint8Array` of encoded quorum checks or of 80-byte headers.
struct WorkerBatch<'a> {
    batch: u64,
    shares: &'a [Vec<u8>],
}

impl erased::Detail for WorkerBatch<'_> {
    fn to_js(&self) -> wasm_bindgen::JsValue {
        let shares: js_sys::Array = self
            .shares
            .iter()
            .map(|share| js_sys::Uint8Array::from(share.as_slice()))
            .collect();
        let request = js_sys::Object::new();
        // Setting a property of a new plain object does not fail.
        let _ = js_sys::Reflect::set(&request, &"batch".into(), &(self.batch as f64).into());
        let _ = js_sys::Reflect::set(&request, &"shares".into(), &shares);
        request.into()
    }
}
