//! The JavaScript-facing API, compiled only for `wasm32`. `js/worker.js`
//! hosts a [`WasmClient`] in a Web Worker and `js/index.js` wraps it.

use crate::bls::KeyCache;
use crate::browser::client::{self, ClientOptions, Running};
use crate::browser::clock::TestClock;
use crate::browser::error::ClientError;
use crate::browser::header_query::{self, BlockRef};
use crate::browser::idb::{AcquireCancel, SyncLock};
use crate::browser::observer::{erased::Detail, EventSink};
use crate::browser::runtime::{Command, RuntimeHandle};
use crate::browser::shared::Shared;
use crate::browser::status::{
    masternode_list, quorums, ErrorInfo, HeaderInfo, Status, VerifiedChainLock,
};
use crate::browser::wallet;
use crate::chain::checkpoints::{minimum_chain_work, parse_minimum_chain_work};
use crate::chain::HeaderChain;
use crate::encode::{deserialize, serialize};
use crate::hash::{BlockHash, MerkleNode, Txid};
use crate::mnlist::check::check_share;
use crate::network::Network;
use crate::node::engine::ClientEngine;
use crate::node::hashing::hash_share;
use crate::proof::TransactionProof;
use crate::protocol::bloom::BloomFilter;
use crate::protocol::chainlock::ClSig;
use crate::protocol::isdlock::InstantLock;
use gloo_timers::future::TimeoutFuture;
use serde::Deserialize;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// The version of the dashlight package.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// A JavaScript `Error` with a stable `code` property.
fn js_error(error: ClientError) -> JsValue {
    let js = js_sys::Error::new(&error.message);
    let _ = js_sys::Reflect::set(
        &js,
        &JsValue::from_str("code"),
        &JsValue::from_str(error.code),
    );
    js.into()
}

/// A height (a whole number in `u32`) or a block hash (64 hex digits).
fn block_ref(value: &JsValue) -> Result<BlockRef, ClientError> {
    let invalid = || ClientError {
        code: "invalid_argument",
        message: "a block is named by its height (a whole number) or its hash (64 hex digits)"
            .into(),
    };
    if let Some(number) = value.as_f64() {
        return (number.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&number))
            .then_some(BlockRef::Height(number as u32))
            .ok_or_else(invalid);
    }
    value
        .as_string()
        .and_then(|text| text.parse::<BlockHash>().ok())
        .map(BlockRef::Hash)
        .ok_or_else(invalid)
}

/// A transaction proof as JavaScript passes it.
enum ProofInput {
    /// Bytes of a (`merkleblock`-style) partial merkle tree.
    Bytes(Vec<u8>),
    /// A merkle branch and the transaction's position.
    Branch(Vec<MerkleNode>, u32),
}

/// Reads `{ txid, blockHash, proof }`.
fn proof_request(request: &JsValue) -> Result<(Txid, BlockHash, ProofInput), ClientError> {
    let invalid = |message: &str| ClientError {
        code: "invalid_argument",
        message: message.to_owned(),
    };
    let field = |name: &str| js_sys::Reflect::get(request, &JsValue::from_str(name)).ok();
    let txid: Txid = field("txid")
        .and_then(|v| v.as_string())
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| invalid("txid must be 64 hex digits (display order)"))?;
    let block_hash: BlockHash = field("blockHash")
        .and_then(|v| v.as_string())
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| invalid("blockHash must be 64 hex digits (display order)"))?;
    let proof = field("proof").unwrap_or(JsValue::UNDEFINED);
    if proof.is_instance_of::<js_sys::Uint8Array>() {
        return Ok((
            txid,
            block_hash,
            ProofInput::Bytes(js_sys::Uint8Array::new(&proof).to_vec()),
        ));
    }
    let bad_branch = || invalid("proof must be a Uint8Array or { branch: [hex…], position }");
    let get = |name: &str| js_sys::Reflect::get(&proof, &JsValue::from_str(name)).ok();
    let branch = get("branch")
        .filter(js_sys::Array::is_array)
        .map(|v| js_sys::Array::from(&v))
        .ok_or_else(bad_branch)?;
    let siblings = branch
        .iter()
        .map(|v| v.as_string().and_then(|t| t.parse::<MerkleNode>().ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad_branch)?;
    let position = get("position")
        .and_then(|v| v.as_f64())
        .filter(|p| p.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(p))
        .ok_or_else(bad_branch)? as u32;
    Ok((txid, block_hash, ProofInput::Branch(siblings, position)))
}

fn invalid(message: String) -> JsValue {
    js_error(ClientError {
        code: "invalid_options",
        message,
    })
}

/// Options as JavaScript passes them (already checked by `validateOptions`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOptions {
    network: String,
    bridges: Vec<String>,
    storage_name: String,
    max_peers: usize,
    base_height: Option<u32>,
    timeout_scale: Option<f64>,
    minimum_chain_work: Option<String>,
    clock: Option<RawClock>,
    check_workers: Option<usize>,
}

/// The test clock as JavaScript passes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawClock {
    start_unix: f64,
    rate: f64,
}

/// Calls the JavaScript `emit(name, detail)` function.
struct JsSink(js_sys::Function);

impl EventSink for JsSink {
    fn emit(&self, name: &str, detail: &dyn Detail) {
        let _ = self
            .0
            .call2(&JsValue::NULL, &JsValue::from_str(name), &detail.to_js());
    }
}

/// Where a client stands with its storage's sync lock.
enum Lifecycle {
    /// Not started, or its storage cleared.
    Idle,
    /// Taking the lock, opening storage and restoring the chain.
    Starting,
    /// Refused the lock (another context syncs this storage): waiting in the
    /// browser's queue for it, to start once that context closes.
    WaitingForLock(AcquireCancel),
    /// Holding the lock, its loop running (syncing, or stopped by `stop`).
    Running(Running),
}

/// The `storagelock` event.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LockEvent<'a> {
    /// `waiting` (another context syncs the storage) or `acquired` (this client takes over).
    state: &'static str,
    storage_name: &'a str,
}

struct Inner {
    options: ClientOptions,
    emit: js_sys::Function,
    shared: Rc<RefCell<Shared>>,
    state: RefCell<Lifecycle>,
}

impl Inner {
    /// Delivers one event to JavaScript.
    fn emit(&self, name: &str, detail: &dyn Detail) {
        JsSink(self.emit.clone()).emit(name, detail);
    }

    /// Launches the loop on the storage `lock` guards and starts syncing.
    async fn launch(&self, lock: SyncLock) -> Result<(), ClientError> {
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        let launched = client::launch(
            &self.options,
            lock,
            JsSink(self.emit.clone()),
            Rc::clone(&self.shared),
            seed,
        )
        .await;
        let mut state = self.state.borrow_mut();
        match launched {
            Ok(running) => {
                running.handle.send(Command::Start);
                *state = Lifecycle::Running(running);
                Ok(())
            }
            Err(error) => {
                *state = Lifecycle::Idle;
                Err(error)
            }
        }
    }

    /// Waits while this client's own `start` is under way (taking the lock,
    /// opening storage), so that `stop` and `clearStorage` act on what it
    /// started; at most [`START_SETTLE_LIMIT_MS`] (a start held up longer, by
    /// blocked storage, is left to finish: `stop` then does nothing and
    /// `clearStorage` finds the lock taken, as before this wait).
    async fn start_settled(&self) {
        let mut waited = 0;
        while matches!(*self.state.borrow(), Lifecycle::Starting) && waited < START_SETTLE_LIMIT_MS
        {
            TimeoutFuture::new(START_POLL_MS).await;
            waited += START_POLL_MS;
        }
    }

    /// Waits for the lock another context holds, then starts (unless
    /// `stop` or `clearStorage` cancelled the wait meanwhile, or the client
    /// is gone).
    async fn take_over(client: Weak<Inner>, name: String, cancel: AcquireCancel) {
        let waited = client::wait_for_lock(&name, &cancel).await;
        // Dropping a lock granted after all releases it.
        let Some(inner) = client.upgrade() else {
            return;
        };
        let still_wanted =
            matches!(&*inner.state.borrow(), Lifecycle::WaitingForLock(c) if c.same_as(&cancel));
        if !still_wanted {
            return;
        }
        let result = match waited {
            Ok(Some(lock)) => {
                *inner.state.borrow_mut() = Lifecycle::Starting;
                inner.emit(
                    "storagelock",
                    &LockEvent {
                        state: "acquired",
                        storage_name: &name,
                    },
                );
                inner.launch(lock).await
            }
            Ok(None) => return,
            Err(error) => {
                *inner.state.borrow_mut() = Lifecycle::Idle;
                Err(error)
            }
        };
        if let Err(error) = result {
            inner.emit(
                "error",
                &ErrorInfo {
                    code: error.code.to_owned(),
                    message: format!("taking over {name:?}: {}", error.message),
                },
            );
        }
    }

    /// The header of `hash` on the verified best chain, or `not_synced`.
    async fn verified_header(
        &self,
        handle: &RuntimeHandle<HeaderChain, ClientEngine>,
        hash: BlockHash,
    ) -> Result<HeaderInfo, ClientError> {
        let locked_height = self
            .shared
            .borrow()
            .last_chainlock
            .as_ref()
            .and_then(|lock| u32::try_from(lock.height()).ok());
        header_query::header(
            handle,
            &self.options.storage_name,
            BlockRef::Hash(hash),
            locked_height,
        )
        .await?
        .ok_or_else(|| ClientError {
            code: "not_synced",
            message: format!("block {hash} is not on the verified header chain"),
        })
    }

    fn handle(&self) -> Result<RuntimeHandle<HeaderChain, ClientEngine>, ClientError> {
        match &*self.state.borrow() {
            Lifecycle::Running(running) => Ok(running.handle.clone()),
            _ => Err(ClientError {
                code: "not_running",
                message: "start the client first".into(),
            }),
        }
    }
}

/// A dashlight client.
#[wasm_bindgen]
pub struct WasmClient {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl WasmClient {
    /// A stopped client. `options`: `{ network, bridges, storageName, maxPeers, baseHeight?, timeoutScale?, minimumChainWork?, clock?, checkWorkers? }`;
    /// `emit(name, detail)` receives events, `checkquorums` and `hashheaders` among them when
    /// `checkWorkers` is above 0: their shares go to the checking workers ([`check_jobs`],
    /// [`hash_headers`]), their answers to [`WasmClient::quorum_checks_done`] and
    /// [`WasmClient::headers_hashed`].
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, emit: js_sys::Function) -> Result<WasmClient, JsValue> {
        let raw: RawOptions =
            serde_wasm_bindgen::from_value(options).map_err(|e| invalid(e.to_string()))?;
        let network: Network = raw
            .network
            .parse()
            .map_err(|e: crate::network::UnknownNetwork| invalid(e.to_string()))?;
        let timeout_scale = raw.timeout_scale.unwrap_or(1.0);
        if !(timeout_scale > 0.0 && timeout_scale <= 10.0) {
            return Err(invalid(format!(
                "timeoutScale must be in (0, 10], got {timeout_scale}"
            )));
        }
        let minimum_chain_work = match raw.minimum_chain_work.as_deref() {
            None => minimum_chain_work(network),
            Some(option) => parse_minimum_chain_work(network, option)
                .map_err(|e| invalid(format!("minimumChainWork: {e}")))?,
        };
        let clock = match raw.clock {
            Some(RawClock { start_unix, rate })
                if start_unix >= 0.0 && rate > 0.0 && rate <= 10_000.0 =>
            {
                Some(TestClock {
                    start_unix_secs: start_unix,
                    rate,
                })
            }
            Some(RawClock { start_unix, rate }) => {
                return Err(invalid(format!(
                "clock must have startUnix ≥ 0 and rate in (0, 10000], got {start_unix} and {rate}"
            )))
            }
            None => None,
        };
        let options = ClientOptions {
            network,
            bridges: raw.bridges,
            storage_name: raw.storage_name,
            max_peers: raw.max_peers,
            base_height: raw.base_height,
            timeout_scale,
            minimum_chain_work,
            clock,
            check_workers: raw.check_workers.unwrap_or(0).min(MAX_CHECK_WORKERS),
        };
        Ok(WasmClient {
            inner: Rc::new(Inner {
                options,
                emit,
                shared: Rc::new(RefCell::new(Shared::default())),
                state: RefCell::new(Lifecycle::Idle),
            }),
        })
    }

    /// Opens storage (resuming from it) and starts syncing. If another tab
    /// or worker syncs the same storage, rejects with `storage_locked` and
    /// waits for it in the background: once that context closes, this one
    /// takes over and starts (a `storagelock` event says when it waits and
    /// when it takes over); `stop` and `clearStorage` end the wait.
    pub fn start(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let name = inner.options.storage_name.clone();
            let previous = std::mem::replace(&mut *inner.state.borrow_mut(), Lifecycle::Starting);
            match previous {
                Lifecycle::Idle => {}
                Lifecycle::Running(running) => {
                    running.handle.send(Command::Start);
                    *inner.state.borrow_mut() = Lifecycle::Running(running);
                    return Ok(JsValue::UNDEFINED);
                }
                // The first call reports how starting went.
                Lifecycle::Starting => return Ok(JsValue::UNDEFINED),
                waiting @ Lifecycle::WaitingForLock(_) => {
                    *inner.state.borrow_mut() = waiting;
                    return Err(js_error(client::storage_locked(
                        &name,
                        "this client starts once that one closes",
                    )));
                }
            }
            let lock = match client::try_lock(&name).await {
                Ok(Some(lock)) => lock,
                Ok(None) => {
                    let cancel = match client::lock_canceller() {
                        Ok(cancel) => cancel,
                        Err(error) => {
                            *inner.state.borrow_mut() = Lifecycle::Idle;
                            return Err(js_error(error));
                        }
                    };
                    *inner.state.borrow_mut() = Lifecycle::WaitingForLock(cancel.clone());
                    wasm_bindgen_futures::spawn_local(Inner::take_over(
                        Rc::downgrade(&inner),
                        name.clone(),
                        cancel,
                    ));
                    inner.emit(
                        "storagelock",
                        &LockEvent {
                            state: "waiting",
                            storage_name: &name,
                        },
                    );
                    return Err(js_error(client::storage_locked(
                        &name,
                        "this client takes over once that one closes",
                    )));
                }
                Err(error) => {
                    *inner.state.borrow_mut() = Lifecycle::Idle;
                    return Err(js_error(error));
                }
            };
            inner.launch(lock).await.map_err(js_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Closes every connection and stops syncing; stored data stays (and
    /// the storage stays locked for this client). Ends a wait for the lock.
    /// Called while `start` is under way, it stops what that start starts.
    pub fn stop(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            inner.start_settled().await;
            let mut state = inner.state.borrow_mut();
            match &*state {
                Lifecycle::Running(running) => {
                    running.handle.send(Command::Stop);
                }
                Lifecycle::WaitingForLock(cancel) => {
                    cancel.cancel();
                    *state = Lifecycle::Idle;
                }
                Lifecycle::Idle | Lifecycle::Starting => {}
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The status of every manager.
    pub fn status(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let handle = inner.handle().map_err(js_error)?;
            let shared = Rc::clone(&inner.shared);
            let network = inner.options.network;
            let status = client::inspect(&handle, move |node| {
                let shared = shared.borrow();
                Status::of(node, network, &shared).to_js()
            })
            .await
            .map_err(js_error)?;
            Ok(status)
        })
    }

    /// Verifies a raw `clsig` payload against the stored lists.
    #[wasm_bindgen(js_name = verifyChainLock)]
    pub fn verify_chain_lock(&self, bytes: Vec<u8>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let clsig: ClSig = deserialize(&bytes).map_err(|e| {
                js_error(ClientError {
                    code: "invalid_message",
                    message: format!("clsig: {e}"),
                })
            })?;
            let handle = inner.handle().map_err(js_error)?;
            client::inspect(&handle, move |node| {
                let check = node
                    .sync()
                    .engine()
                    .inner()
                    .verify_chainlock(&clsig, node.sync().chain());
                match VerifiedChainLock::from_check(&check) {
                    Some(verified) => {
                        let value = verified.to_js();
                        let _ = js_sys::Reflect::set(&value, &"valid".into(), &JsValue::TRUE);
                        value
                    }
                    None => {
                        let reason = match &check.result {
                            Err(failure) => failure.to_string(),
                            Ok(()) => "no signing quorum".to_owned(),
                        };
                        let value = js_sys::Object::new();
                        let _ = js_sys::Reflect::set(&value, &"valid".into(), &JsValue::FALSE);
                        let _ =
                            js_sys::Reflect::set(&value, &"height".into(), &check.height.into());
                        let _ = js_sys::Reflect::set(
                            &value,
                            &"blockHash".into(),
                            &check.block_hash.to_string().into(),
                        );
                        let _ = js_sys::Reflect::set(&value, &"reason".into(), &reason.into());
                        value.into()
                    }
                }
            })
            .await
            .map_err(js_error)
        })
    }

    /// Verifies a raw `isdlock` payload against the stored lists and headers:
    /// `{ verified, txid, outpoints, llmqType, quorumHash, cycleHeight, reason?, … }`.
    #[wasm_bindgen(js_name = verifyInstantLock)]
    pub fn verify_instant_lock(&self, bytes: Vec<u8>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let lock: InstantLock = deserialize(&bytes).map_err(|e| {
                js_error(ClientError {
                    code: "invalid_message",
                    message: format!("isdlock: {e}"),
                })
            })?;
            let handle = inner.handle().map_err(js_error)?;
            client::inspect(&handle, move |node| {
                wallet::verify_instant_lock(node, &lock).to_js()
            })
            .await
            .map_err(js_error)
        })
    }

    /// Checks `{ txid, blockHash, proof }` (proof: the bytes of a partial
    /// merkle tree, bare or after its 80-byte block header as in `merkleblock`,
    /// or `{ branch: [hex…], position }`) against the verified header chain.
    #[wasm_bindgen(js_name = verifyTransactionProof)]
    pub fn verify_transaction_proof(&self, request: JsValue) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let (txid, block_hash, proof) = proof_request(&request).map_err(js_error)?;
            let handle = inner.handle().map_err(js_error)?;
            let header = inner
                .verified_header(&handle, block_hash)
                .await
                .map_err(js_error)?;
            let proof = match proof {
                ProofInput::Bytes(bytes) => TransactionProof::from_bytes(&bytes, &block_hash)
                    .map_err(|e| {
                        js_error(ClientError {
                            code: "verification_failed",
                            message: format!("transaction proof: {e}"),
                        })
                    })?,
                ProofInput::Branch(siblings, position) => {
                    TransactionProof::Branch { siblings, position }
                }
            };
            wallet::check_proof(&proof, &txid, &header)
                .map(|r| r.to_js())
                .map_err(js_error)
        })
    }

    /// Fetches a proof that `txid` is in `blockHash` from a peer (`filterload`
    /// with a filter of that txid, `getdata` of the filtered block) and checks
    /// it as `verifyTransactionProof` does; the result adds the `merkleblock`
    /// payload as `proof` (hex).
    #[wasm_bindgen(js_name = proveTransaction)]
    pub fn prove_transaction(&self, txid: String, block_hash: String) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let invalid = |what: &str| ClientError {
                code: "invalid_argument",
                message: format!("{what} must be 64 hex digits (display order)"),
            };
            let txid: Txid = txid.parse().map_err(|_| js_error(invalid("txid")))?;
            let hash: BlockHash = block_hash
                .parse()
                .map_err(|_| js_error(invalid("blockHash")))?;
            let handle = inner.handle().map_err(js_error)?;
            let header = inner
                .verified_header(&handle, hash)
                .await
                .map_err(js_error)?;
            let (sender, receiver) = futures::channel::oneshot::channel();
            inner
                .shared
                .borrow_mut()
                .pending_merkle_blocks
                .push((hash, sender));
            let tweak = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
            let filter = BloomFilter::for_txid(&txid, tweak);
            handle.send(Command::Request(Box::new(move |node| {
                node.request_merkle_block(filter, hash)
            })));
            let wait_ms = (15_000.0 * inner.options.timeout_scale).max(500.0) as u32;
            let timeout = gloo_timers::future::TimeoutFuture::new(wait_ms);
            let answer = futures::future::select(receiver, timeout).await;
            let block = match answer {
                futures::future::Either::Left((Ok(block), _)) => block,
                unanswered => {
                    // Dropping the receiver cancels this call's sender.
                    drop(unanswered);
                    inner
                        .shared
                        .borrow_mut()
                        .pending_merkle_blocks
                        .retain(|(_, s)| !s.is_canceled());
                    return Err(js_error(ClientError {
                        code: "timeout",
                        message: format!(
                            "no peer sent a filtered block {hash} within {wait_ms} ms"
                        ),
                    }));
                }
            };
            let payload = hex::encode(serialize(&block));
            let proof = TransactionProof::MerkleBlock {
                header: block.header,
                tree: block.tree,
            };
            let result = wallet::check_proof(&proof, &txid, &header)
                .map(|r| r.to_js())
                .map_err(js_error)?;
            let _ = js_sys::Reflect::set(&result, &"proof".into(), &payload.into());
            Ok(result)
        })
    }

    /// The public key of a quorum whose commitment dashlight verified:
    /// `{ llmqType, quorumHash, key }`, `key` null with `code` and `reason` otherwise.
    #[wasm_bindgen(js_name = quorumPublicKey)]
    pub fn quorum_public_key(&self, llmq_type: u8, quorum_hash: String) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let hash: BlockHash = quorum_hash.parse().map_err(|_| {
                js_error(ClientError {
                    code: "invalid_argument",
                    message: "quorumHash must be 64 hex digits (display order)".into(),
                })
            })?;
            let handle = inner.handle().map_err(js_error)?;
            client::inspect(&handle, move |node| {
                wallet::quorum_key(node, llmq_type, hash).to_js()
            })
            .await
            .map_err(js_error)
        })
    }

    /// The active Platform quorums dashlight verified, in the trusted
    /// endpoint's shape (`current` as `/quorums`, `previous` as `/previous`),
    /// or `null` before any list is held.
    #[wasm_bindgen(js_name = platformQuorums)]
    pub fn platform_quorums(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let handle = inner.handle().map_err(js_error)?;
            client::inspect(&handle, |node| {
                wallet::platform(node).map_or(JsValue::NULL, |q| q.to_js())
            })
            .await
            .map_err(js_error)
        })
    }

    /// The best chain's header at a height (a number) or with a hash (a hex
    /// string in display order), or `null` if the best chain has no such block.
    pub fn header(&self, block: JsValue) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let block = block_ref(&block).map_err(js_error)?;
            let handle = inner.handle().map_err(js_error)?;
            let locked_height = inner
                .shared
                .borrow()
                .last_chainlock
                .as_ref()
                .and_then(|lock| u32::try_from(lock.height()).ok());
            let info =
                header_query::header(&handle, &inner.options.storage_name, block, locked_height)
                    .await
                    .map_err(js_error)?;
            Ok(info.map_or(JsValue::NULL, |info| info.to_js()))
        })
    }

    /// The newest masternode list.
    #[wasm_bindgen(js_name = masternodeList)]
    pub fn masternode_list(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let handle = inner.handle().map_err(js_error)?;
            client::inspect(&handle, |node| {
                masternode_list(node.sync().engine().inner()).to_js()
            })
            .await
            .map_err(js_error)
        })
    }

    /// The quorums of the newest list.
    pub fn quorums(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let handle = inner.handle().map_err(js_error)?;
            client::inspect(&handle, |node| {
                quorums(node.sync().engine().inner()).to_js()
            })
            .await
            .map_err(js_error)
        })
    }

    /// The checking workers' answers to the `checkquorums` event of `batch`: one
    /// `Uint8Array` per share, in order; fewer or none if workers failed (those shares are
    /// checked in this thread, as are answers that do not fit).
    #[wasm_bindgen(js_name = quorumChecksDone)]
    pub fn quorum_checks_done(&self, batch: f64, answers: js_sys::Array) {
        let Ok(handle) = self.inner.handle() else {
            return;
        };
        if let Some((batch, answers)) = worker_answers(batch, answers) {
            handle.send(Command::QuorumChecksDone { batch, answers });
        }
    }

    /// The checking workers' answers to the `hashheaders` event of `batch`: one
    /// `Uint8Array` per share, in order; fewer or none if workers failed (those headers are
    /// hashed in this thread, as are answers that do not fit).
    #[wasm_bindgen(js_name = headersHashed)]
    pub fn headers_hashed(&self, batch: f64, answers: js_sys::Array) {
        let Ok(handle) = self.inner.handle() else {
            return;
        };
        if let Some((job, answers)) = worker_answers(batch, answers) {
            handle.send(Command::HeadersHashed { job, answers });
        }
    }

    /// Closes every connection now; the client reconnects by itself.
    #[wasm_bindgen(js_name = dropConnections)]
    pub fn drop_connections(&self) {
        if let Ok(handle) = self.inner.handle() {
            handle.send(Command::DropConnections);
        }
    }

    /// The page became visible again: check that connections are alive.
    #[wasm_bindgen(js_name = notifyVisible)]
    pub fn notify_visible(&self) {
        if let Ok(handle) = self.inner.handle() {
            handle.send(Command::NotifyVisible);
        }
    }

    /// The page saw the browser go offline or online: pass it on (Web Workers
    /// do not always receive `online`/`offline` themselves).
    #[wasm_bindgen(js_name = setOnline)]
    pub fn set_online(&self, online: bool) {
        if let Ok(handle) = self.inner.handle() {
            handle.send(Command::SetOnline(online));
        }
    }

    /// Stops the client and deletes everything stored for it, holding the
    /// storage's sync lock meanwhile. Rejects with `storage_locked` (and
    /// deletes nothing) while another tab or worker syncs it: waiting could
    /// last as long as that tab stays open. Called while this client's own
    /// `start` is under way, it lets that start finish, then stops and clears.
    #[wasm_bindgen(js_name = clearStorage)]
    pub fn clear_storage(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let name = inner.options.storage_name.clone();
            inner.start_settled().await;
            let previous = std::mem::replace(&mut *inner.state.borrow_mut(), Lifecycle::Idle);
            let lock = match previous {
                Lifecycle::Running(running) => Some(running.shut_down().await),
                Lifecycle::WaitingForLock(cancel) => {
                    cancel.cancel();
                    client::try_lock(&name).await.map_err(js_error)?
                }
                Lifecycle::Idle | Lifecycle::Starting => {
                    client::try_lock(&name).await.map_err(js_error)?
                }
            };
            let lock = lock.ok_or_else(|| {
                js_error(client::storage_locked(
                    &name,
                    "its storage is not cleared while it syncs",
                ))
            })?;
            client::clear_storage(&lock).await.map_err(js_error)?;
            lock.release().await;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// The batch number and the answers of a checking workers' answer from JavaScript (an
/// answer that is not a `Uint8Array` becomes an empty one, which fits no share); `None` for a
/// batch that is not a safe integer.
fn worker_answers(batch: f64, answers: js_sys::Array) -> Option<(u64, Vec<Vec<u8>>)> {
    if !(batch.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&batch)) {
        return None;
    }
    let answers = answers
        .iter()
        .map(|answer| match answer.dyn_into::<js_sys::Uint8Array>() {
            Ok(bytes) => bytes.to_vec(),
            Err(_) => Vec::new(),
        })
        .collect();
    Some((batch as u64, answers))
}

/// The most checking workers a client runs.
const MAX_CHECK_WORKERS: usize = 8;

/// How often `stop` and `clearStorage` look whether a `start` under way has
/// finished, ms.
const START_POLL_MS: u32 = 10;

/// How long `stop` and `clearStorage` wait for a `start` under way, at most, ms
/// (a start restores the stored chain in well under a second).
const START_SETTLE_LIMIT_MS: u32 = 10_000;

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Decoded operator keys a checking worker keeps; past this it starts over (a list holds a
/// few thousand operators).
const MAX_CHECK_KEYS: usize = 8_192;

thread_local! {
    /// A checking worker's decoded operator keys.
    static CHECK_KEYS: RefCell<KeyCache> = RefCell::new(KeyCache::new());
}

/// A checking worker's task: the answer to a share of the `checkquorums` event (the
/// outcomes of quorum checks, or the sum of a part of one check's key aggregation:
/// [`check_share`]), with this worker's key cache (bounded: emptied past
/// [`MAX_CHECK_KEYS`] keys).
#[wasm_bindgen(js_name = checkJobs)]
pub fn check_jobs(jobs: &[u8]) -> Result<Vec<u8>, JsValue> {
    CHECK_KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if keys.len() > MAX_CHECK_KEYS {
            *keys = KeyCache::new();
        }
        check_share(jobs, &mut keys).map_err(|error| {
            js_error(ClientError {
                code: "invalid_checks",
                message: error.to_string(),
            })
        })
    })
}

/// A checking worker's other task: X11 of each 80-byte header of a share of the
/// `hashheaders` event, concatenated.
#[wasm_bindgen(js_name = hashHeaders)]
pub fn hash_headers(share: &[u8]) -> Vec<u8> {
    hash_share(share)
}
