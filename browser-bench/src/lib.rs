//! What the header-sync benchmark page (`page/`) calls in wasm: X11 of a run
//! of headers (for hashing workers and for the raw-X11 reference), and the
//! client's header pipeline — validation into a `HeaderChain` and saving each
//! batch to IndexedDB with `save_chain`, as the browser client does.
//!
//! The masternode benchmark's calls are in `mnlist.rs`.
//!
//! Built and run by `npm run bench` (`browser-bench/run.mjs`).
#![cfg(target_arch = "wasm32")]

mod mnlist;

use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::browser::idb::HeaderDb;
use dashlight::browser::store::IdbStore;
use dashlight::chain::{ChainTip, HashedHeader, HeaderChain, SyncBase};
use dashlight::hash::{x11, BlockHash};
use dashlight::network::Network;
use dashlight::storage::{save_chain, HeaderStore};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::WorkerGlobalScope;

/// The X11 hashes (32 bytes each, wire order) of the concatenated 80-byte
/// headers in `headers`.
#[wasm_bindgen(js_name = x11Hashes)]
pub fn x11_hashes(headers: &[u8]) -> Vec<u8> {
    headers
        .chunks_exact(HEADER_SIZE)
        .flat_map(|raw| x11(&array(raw)))
        .collect()
}

/// `N` bytes from a slice of exactly `N` (as `chunks_exact` yields).
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0; N];
    array.copy_from_slice(bytes);
    array
}

/// A testnet header chain from genesis, the database it is saved to, and
/// where the time went.
struct Pipeline {
    chain: HeaderChain,
    store: IdbStore,
    /// Milliseconds spent parsing, hashing (unless given) and validating.
    validating_ms: f64,
    /// Milliseconds spent saving, including the wait for IndexedDB.
    saving_ms: f64,
}

/// `performance.now()` of this worker.
fn now_ms() -> f64 {
    js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .performance()
        .map_or(0.0, |performance| performance.now())
}

thread_local! {
    /// The pipeline of this worker, between calls.
    static PIPELINE: RefCell<Option<Pipeline>> = const { RefCell::new(None) };
}

/// Takes the pipeline out of its cell for the length of an async call.
fn take_pipeline() -> Result<Pipeline, JsError> {
    PIPELINE
        .with(|cell| cell.borrow_mut().take())
        .ok_or_else(|| JsError::new("openPipeline first"))
}

/// Puts the pipeline back after an async call.
fn put_back(pipeline: Pipeline) {
    PIPELINE.with(|cell| *cell.borrow_mut() = Some(pipeline));
}

/// Deletes the database `name`, then opens it with a testnet chain at
/// genesis, ready for `acceptHeaders`.
#[wasm_bindgen(js_name = openPipeline)]
pub async fn open_pipeline(name: String) -> Result<(), JsError> {
    HeaderDb::delete_database(&name).await?;
    let mut store = IdbStore::open(&name).await?;
    let base = SyncBase::genesis(Network::Testnet);
    store.initialize(&base).await?;
    let chain = HeaderChain::new(base);
    put_back(Pipeline {
        chain,
        store,
        validating_ms: 0.0,
        saving_ms: 0.0,
    });
    Ok(())
}

/// Validates the concatenated headers in `headers` (their X11 hashes in
/// `hashes` if computed elsewhere, else hashed here) at unix time `now`,
/// then saves the chain; returns the new tip height.
#[wasm_bindgen(js_name = acceptHeaders)]
pub async fn accept_headers(
    headers: Vec<u8>,
    hashes: Option<Vec<u8>>,
    now: f64,
) -> Result<u32, JsError> {
    let mut pipeline = take_pipeline()?;
    let result = accept_into(&mut pipeline, &headers, hashes.as_deref(), now as u64).await;
    put_back(pipeline);
    result
}

async fn accept_into(
    pipeline: &mut Pipeline,
    headers: &[u8],
    hashes: Option<&[u8]>,
    now: u64,
) -> Result<u32, JsError> {
    let started = now_ms();
    let parsed = match hashes {
        None => HashedHeader::parse_all(headers),
        Some(hashes) if hashes.len() / 32 == headers.len() / HEADER_SIZE => headers
            .chunks_exact(HEADER_SIZE)
            .zip(hashes.chunks_exact(32))
            .map(|(raw, hash)| {
                HashedHeader::with_hash(
                    BlockHeader::from_bytes(&array(raw)),
                    BlockHash(array(hash)),
                )
            })
            .collect(),
        Some(_) => return Err(JsError::new("one 32-byte hash per header expected")),
    };
    let report = pipeline.chain.accept(&parsed, now);
    if let Some(rejected) = report.rejected {
        return Err(JsError::new(&format!("invalid header: {rejected}")));
    }
    let validated = now_ms();
    pipeline.validating_ms += validated - started;
    save_chain(&mut pipeline.store, &pipeline.chain).await?;
    pipeline.saving_ms += now_ms() - validated;
    Ok(pipeline.chain.tip().height)
}

/// Milliseconds the pipeline spent `[validating, saving]`: parsing,
/// hashing (unless hashes were given) and validation; saving to IndexedDB.
#[wasm_bindgen(js_name = pipelineTimes)]
pub fn pipeline_times() -> Option<Vec<f64>> {
    PIPELINE.with(|cell| {
        cell.borrow()
            .as_ref()
            .map(|pipeline| vec![pipeline.validating_ms, pipeline.saving_ms])
    })
}

/// The tip stored in the pipeline's database: `height hash chainwork`.
#[wasm_bindgen(js_name = storedTip)]
pub async fn stored_tip() -> Result<Option<String>, JsError> {
    let pipeline = take_pipeline()?;
    let stored = pipeline.store.load().await;
    put_back(pipeline);
    Ok(stored?.map(|stored| describe(&stored.tip)))
}

/// `height hash chainwork` of `tip`.
fn describe(tip: &ChainTip) -> String {
    format!("{} {} {}", tip.height, tip.hash, tip.chain_work)
}

/// The pipeline's tip: `height hash chainwork`.
#[wasm_bindgen(js_name = pipelineTip)]
pub fn pipeline_tip() -> Option<String> {
    PIPELINE.with(|cell| {
        cell.borrow()
            .as_ref()
            .map(|pipeline| describe(&pipeline.chain.tip()))
    })
}
