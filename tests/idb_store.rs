//! The IndexedDB header store in headless Chromium: real testnet headers
//! survive a new connection, interrupted and over-quota writes leave the
//! previous consistent tip, the sync lock is exclusive, `versionchange` and
//! `blocked` are handled, schema-1 and schema-2 databases upgrade keeping
//! their headers, and a quota outage longer than the headers the chain holds
//! is caught up once writes succeed again.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome -- --test idb_store`
//!
//! Failures that a test cannot provoke for real (a full disk, a transaction
//! killed mid-way) are injected by patching `IDBObjectStore.prototype.put`
//! from JavaScript (see `JS_HELPERS`); everything else is the browser's own
//! IndexedDB, Web Locks and StorageManager.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod chain_fixtures;

use chain_fixtures::{canonical, canonical_base, NOW};
use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::browser::idb::{
    chunk_position, estimate, is_persisted, request_persistence, AcquireCancel, CloseReason,
    HeaderDb, IdbError, SyncLock, TipRecord, WriteBatch, CHUNK_SIZE, SCHEMA_VERSION,
};
use dashlight::browser::store::IdbStore;
use dashlight::chain::{ChainConfig, HeaderChain};
use dashlight::encode::DecodeError;
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::storage::{restore_chain, save_chain, ChainSaver, HeaderStore, StorageError};
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

/// Consecutive real testnet headers from height 898,560.
static HEADERS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
));

/// Height of the first header in [`HEADERS`].
const FIRST_HEIGHT: u32 = 898_560;

#[wasm_bindgen(inline_js = r#"
function done(target) {
  return new Promise((resolve, reject) => {
    target.onsuccess = () => resolve(target.result);
    target.onerror = () => reject(target.error);
  });
}

// A database as schema version 1 laid it out (stores `chunks` and `meta`),
// written with raw IndexedDB calls.
export async function create_v1_database(name, chunks, tip) {
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => {
    request.result.createObjectStore("chunks");
    request.result.createObjectStore("meta");
  };
  const db = await done(request);
  const tx = db.transaction(["chunks", "meta"], "readwrite");
  chunks.forEach((bytes, index) => tx.objectStore("chunks").put(bytes, index));
  tx.objectStore("meta").put(tip, "tip");
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  db.close();
}

// Upgrades a schema-1 database as schema version 2 did (adding `mnlists`)
// and stores one masternode record in it.
export async function add_v2_mnlists_store(name) {
  const request = indexedDB.open(name, 2);
  request.onupgradeneeded = () => request.result.createObjectStore("mnlists");
  const db = await done(request);
  const tx = db.transaction(["mnlists"], "readwrite");
  tx.objectStore("mnlists").put(new Uint8Array([1, 2, 3]), 898560);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  db.close();
}

// A connection without a `versionchange` handler: it never closes by itself.
export function open_raw(name, version) {
  return done(indexedDB.open(name, version));
}

export function close_raw(db) {
  db.close();
}

export async function store_names(name) {
  const db = await done(indexedDB.open(name));
  const names = Array.from(db.objectStoreNames);
  db.close();
  return names;
}

// Makes the `fail_at`-th put of the next readwrite transactions fail, as
// `mode` says, until `restore_put` is called:
// - "abort": the transaction is aborted mid-way (a killed tab, a crash);
// - "quota": the transaction aborts with a QuotaExceededError, as Chromium
//   reports a full origin (the abort happens at the failing write, and
//   `transaction.error` is the QuotaExceededError);
// - "quota-throw": the put itself throws a QuotaExceededError DOMException.
const originalPut = IDBObjectStore.prototype.put;
export function fail_put(mode, fail_at) {
  let count = 0;
  IDBObjectStore.prototype.put = function (...args) {
    count += 1;
    if (count !== fail_at) return originalPut.apply(this, args);
    const quota = new DOMException("simulated: the origin is out of quota", "QuotaExceededError");
    if (mode === "quota-throw") throw quota;
    const request = originalPut.apply(this, args);
    if (mode === "quota") Object.defineProperty(this.transaction, "error", { value: quota });
    this.transaction.abort();
    return request;
  };
}

// Makes every readwrite transaction abort at its first put with a
// QuotaExceededError, as Chromium reports a full origin (later puts of the
// aborted transaction throw TransactionInactiveError, as they do for real),
// until `restore_put` is called.
export function fail_every_put() {
  IDBObjectStore.prototype.put = function (...args) {
    const request = originalPut.apply(this, args);
    const quota = new DOMException("simulated: the origin is out of quota", "QuotaExceededError");
    Object.defineProperty(this.transaction, "error", { value: quota });
    this.transaction.abort();
    return request;
  };
}

export function restore_put() {
  IDBObjectStore.prototype.put = originalPut;
}
"#)]
extern "C" {
    fn create_v1_database(name: &str, chunks: &Array, tip: &Uint8Array) -> Promise;
    fn add_v2_mnlists_store(name: &str) -> Promise;
    fn open_raw(name: &str, version: u32) -> Promise;
    fn close_raw(db: &JsValue);
    fn store_names(name: &str) -> Promise;
    fn fail_put(mode: &str, fail_at: u32);
    fn fail_every_put();
    fn restore_put();
}

/// Awaits a helper's promise, failing the test on rejection.
async fn js(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect("JS helper failed")
}

/// A fresh, empty database named `name`.
async fn fresh(name: &str) -> HeaderDb {
    HeaderDb::delete_database(name).await.expect("delete");
    HeaderDb::open(name).await.expect("open")
}

/// The first `count` fixture headers as chunks of `CHUNK_SIZE`.
fn chunks_of(count: usize) -> Vec<(u32, Vec<u8>)> {
    HEADERS[..count * HEADER_SIZE]
        .chunks(CHUNK_SIZE as usize * HEADER_SIZE)
        .zip(0u32..)
        .map(|(bytes, index)| (index, bytes.to_vec()))
        .collect()
}

/// The tip after the first `count` fixture headers (chain work is a
/// stand-in: the store keeps it verbatim).
fn tip_after(count: usize) -> TipRecord {
    let offset = (count - 1) * HEADER_SIZE;
    let mut header = [0u8; HEADER_SIZE];
    header.copy_from_slice(&HEADERS[offset..offset + HEADER_SIZE]);
    let height = FIRST_HEIGHT + count as u32 - 1;
    let mut work = [0u8; 32];
    work[28..].copy_from_slice(&height.to_be_bytes());
    TipRecord::new(
        FIRST_HEIGHT,
        height,
        BlockHeader::from_bytes(&header).block_hash(),
        work,
    )
    .expect("height above base")
}

#[wasm_bindgen_test]
fn tip_record_round_trips_and_rejects_bad_bytes() {
    let tip = tip_after(10_000);
    assert_eq!(tip.header_count(), 10_000);
    assert_eq!(tip.chunk_count(), 5);
    assert_eq!(tip_after(10_001).chunk_count(), 6);
    let bytes = tip.to_bytes();
    assert_eq!(bytes.len(), TipRecord::ENCODED_LEN);
    assert_eq!(TipRecord::from_bytes(&bytes), Ok(tip));

    let mut bad_format = bytes.clone();
    bad_format[0] = 2;
    assert!(matches!(
        TipRecord::from_bytes(&bad_format),
        Err(DecodeError::InvalidValue { .. })
    ));
    assert!(TipRecord::from_bytes(&bytes[..40]).is_err());
    let mut below_base = bytes;
    below_base[5..9].copy_from_slice(&1u32.to_le_bytes());
    assert!(TipRecord::from_bytes(&below_base).is_err());
    assert_eq!(TipRecord::new(10, 9, BlockHash::ZERO, [0; 32]), None);

    assert_eq!(chunk_position(FIRST_HEIGHT, FIRST_HEIGHT - 1), None);
    assert_eq!(chunk_position(FIRST_HEIGHT, FIRST_HEIGHT), Some((0, 0)));
    assert_eq!(
        chunk_position(FIRST_HEIGHT, FIRST_HEIGHT + 4_001),
        Some((2, HEADER_SIZE))
    );
}

/// Headers written in batches of 1,500 (each rewriting the partial last
/// chunk with its tip), then read back through a new connection, as after a
/// reload.
#[wasm_bindgen_test]
async fn headers_survive_a_new_connection() {
    let name = "idb-test-reload";
    let db = fresh(name).await;
    assert_eq!(db.schema_version(), SCHEMA_VERSION);
    assert_eq!(db.read_tip().await, Ok(None));

    const COUNT: usize = 10_000;
    const BATCH: usize = 1_500;
    let mut written = 0;
    while written < COUNT {
        let end = (written + BATCH).min(COUNT);
        let first_chunk = (written / CHUNK_SIZE as usize) as u32;
        let changed: Vec<_> = chunks_of(end)
            .into_iter()
            .filter(|(index, _)| *index >= first_chunk)
            .collect();
        db.write_batch(&changed, &tip_after(end))
            .await
            .expect("write batch");
        written = end;
    }
    db.close();

    let reopened = HeaderDb::open(name).await.expect("reopen");
    let tip = reopened.read_tip().await.expect("read tip").expect("a tip");
    assert_eq!(tip, tip_after(COUNT));
    assert_eq!(tip.height(), FIRST_HEIGHT + 9_999);
    let chunks = reopened
        .read_chunks(0..tip.chunk_count())
        .await
        .expect("read chunks");
    assert_eq!(chunks, chunks_of(COUNT));
    let stored: Vec<u8> = chunks.into_iter().flat_map(|(_, bytes)| bytes).collect();
    let last = &stored[stored.len() - HEADER_SIZE..];
    let mut header = [0u8; HEADER_SIZE];
    header.copy_from_slice(last);
    assert_eq!(BlockHeader::from_bytes(&header).block_hash(), tip.hash());
    assert_eq!(
        reopened.read_chunk(2).await.expect("read chunk"),
        Some(chunks_of(COUNT)[2].1.clone())
    );
    assert_eq!(reopened.read_chunk(5).await, Ok(None));
    assert_eq!(reopened.read_chunks(3..3).await, Ok(Vec::new()));
}

/// Writes chunks 0-1 and their tip: the consistent state that failed writes
/// must leave behind.
async fn write_base(db: &HeaderDb) {
    db.write_batch(&chunks_of(3_000), &tip_after(3_000))
        .await
        .expect("base write");
}

/// The state `write_base` left, read through a new connection.
async fn assert_base_state(name: &str) {
    let db = HeaderDb::open(name).await.expect("reopen");
    assert_eq!(db.read_tip().await, Ok(Some(tip_after(3_000))));
    assert_eq!(
        db.read_chunks(0..10).await.expect("read chunks"),
        chunks_of(3_000)
    );
}

#[wasm_bindgen_test]
async fn an_interrupted_write_leaves_the_previous_tip() {
    let name = "idb-test-interrupted";
    let db = fresh(name).await;
    write_base(&db).await;

    // Rewrites chunk 1, adds chunks 2-4 and moves the tip: killed at the third put.
    fail_put("abort", 3);
    let result = db.write_batch(&chunks_of(10_000), &tip_after(10_000)).await;
    restore_put();
    assert!(
        matches!(&result, Err(IdbError::Js { name, .. }) if name == "AbortError"),
        "{result:?}"
    );
    db.close();
    assert_base_state(name).await;
}

#[wasm_bindgen_test]
async fn quota_exceeded_is_typed_and_keeps_the_store_consistent() {
    let name = "idb-test-quota";
    // The batch makes 6 puts (5 chunks, then the tip). Failing the last one
    // means no later put notices: the error comes from the abort event alone.
    for (mode, fail_at) in [("quota", 4), ("quota", 6), ("quota-throw", 4)] {
        let db = fresh(name).await;
        write_base(&db).await;

        fail_put(mode, fail_at);
        let result = db.write_batch(&chunks_of(10_000), &tip_after(10_000)).await;
        restore_put();
        match &result {
            Err(error @ IdbError::QuotaExceeded { message }) => {
                assert!(message.contains("out of quota"), "{mode}: {message}");
                console_log!("{mode}: {error}");
            }
            other => panic!("{mode}: expected QuotaExceeded, got {other:?}"),
        }
        // The same connection stays usable, and nothing of the batch landed.
        assert_eq!(db.read_tip().await, Ok(Some(tip_after(3_000))));
        assert_eq!(db.read_chunk(2).await, Ok(None));
        db.close();
        assert_base_state(name).await;
    }
}

#[wasm_bindgen_test]
async fn bad_batches_are_refused_before_writing() {
    let name = "idb-test-validation";
    let db = fresh(name).await;
    write_base(&db).await;

    let odd = &HEADERS[..HEADER_SIZE + 1];
    let result = db
        .write(
            &WriteBatch::new()
                .put_chunk(2, odd)
                .put_tip(tip_after(10_000)),
        )
        .await;
    assert_eq!(
        result,
        Err(IdbError::InvalidValue {
            store: "chunks",
            key: String::from("2"),
            len: HEADER_SIZE + 1
        })
    );
    let oversized = &HEADERS[..(CHUNK_SIZE as usize + 1) * HEADER_SIZE];
    assert!(db
        .write(&WriteBatch::new().put_chunk(2, oversized))
        .await
        .is_err());
    assert_eq!(
        db.put_meta("tip", b"not a tip").await,
        Err(IdbError::ReservedKey(String::from("tip")))
    );
    db.close();
    assert_base_state(name).await;
}

#[wasm_bindgen_test]
async fn truncation_and_meta_share_the_transaction() {
    let name = "idb-test-batch";
    let db = fresh(name).await;
    db.write_batch(&chunks_of(10_000), &tip_after(10_000))
        .await
        .expect("write");

    // A reorganisation to a shorter chain: chunks 2.. go, chunk 1 is rewritten.
    let shorter = chunks_of(3_000);
    let batch = WriteBatch::new()
        .truncate_chunks_from(2)
        .put_chunk(1, &shorter[1].1)
        .put_meta("masternodes", b"masternode state")
        .put_meta("sync-base", b"898560")
        .put_tip(tip_after(3_000));
    db.write(&batch).await.expect("write");
    db.close();

    let db = HeaderDb::open(name).await.expect("reopen");
    assert_eq!(db.read_tip().await, Ok(Some(tip_after(3_000))));
    assert_eq!(db.read_chunks(0..10).await, Ok(shorter));
    assert_eq!(
        db.get_meta("masternodes").await,
        Ok(Some(b"masternode state".to_vec()))
    );
    assert_eq!(db.get_meta("sync-base").await, Ok(Some(b"898560".to_vec())));
    assert_eq!(db.get_meta("absent").await, Ok(None));

    db.clear().await.expect("clear");
    assert_eq!(db.read_tip().await, Ok(None));
    assert_eq!(db.read_chunks(0..10).await, Ok(Vec::new()));
    assert_eq!(db.get_meta("masternodes").await, Ok(None));
}

#[wasm_bindgen_test]
async fn a_read_only_connection_reads_but_refuses_writes() {
    let name = "idb-test-read-only";
    let writer = fresh(name).await;
    write_base(&writer).await;
    let reader = HeaderDb::open_read_only(name)
        .await
        .expect("open read-only");
    assert!(reader.is_read_only());
    assert_eq!(reader.read_tip().await, Ok(Some(tip_after(3_000))));
    assert_eq!(
        reader
            .write_batch(&chunks_of(10_000), &tip_after(10_000))
            .await,
        Err(IdbError::ReadOnly)
    );
    assert_eq!(reader.clear().await, Err(IdbError::ReadOnly));
    assert_eq!(reader.put_meta("k", b"v").await, Err(IdbError::ReadOnly));
    // The writer keeps writing while the reader is open.
    writer
        .write_batch(&chunks_of(4_000)[1..], &tip_after(4_000))
        .await
        .expect("write");
    assert_eq!(reader.read_tip().await, Ok(Some(tip_after(4_000))));
}

#[wasm_bindgen_test]
async fn the_sync_lock_is_exclusive() {
    let name = "dashlight-test-sync-lock";
    let first = SyncLock::try_acquire(name)
        .await
        .expect("locks API")
        .expect("the lock is free");
    assert_eq!(first.name(), name);
    assert!(SyncLock::try_acquire(name)
        .await
        .expect("locks API")
        .is_none());
    // Another name is another lock.
    let other = SyncLock::try_acquire("dashlight-test-other-lock")
        .await
        .expect("locks API");
    assert!(other.is_some());

    first.release().await;
    let second = SyncLock::try_acquire(name)
        .await
        .expect("locks API")
        .expect("free after release");
    assert!(SyncLock::try_acquire(name)
        .await
        .expect("locks API")
        .is_none());

    // Dropping releases too (asynchronously: poll until the browser has).
    drop(second);
    let mut reacquired = None;
    for _ in 0..50 {
        reacquired = SyncLock::try_acquire(name).await.expect("locks API");
        if reacquired.is_some() {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
    assert!(reacquired.is_some(), "the lock was not released on drop");
}

#[wasm_bindgen_test]
async fn a_waiting_acquire_gets_the_lock_when_its_holder_lets_go_or_gives_up() {
    use futures::future::{select, Either};
    let name = "dashlight-test-lock-queue";
    let first = SyncLock::try_acquire(name)
        .await
        .expect("locks API")
        .expect("the lock is free");
    let cancel = AcquireCancel::new().expect("AbortController");
    let waiting = Box::pin(SyncLock::acquire(name, &cancel));
    // Still queued while the holder keeps it.
    let waiting = match select(waiting, gloo_timers::future::TimeoutFuture::new(200)).await {
        Either::Left((result, _)) => panic!("granted while held: {:?}", result.is_ok()),
        Either::Right((_, waiting)) => waiting,
    };
    drop(first);
    let second = waiting
        .await
        .expect("locks API")
        .expect("granted once released");
    assert_eq!(second.name(), name);

    // A cancelled wait leaves the queue: it never holds the lock.
    let cancel = AcquireCancel::new().expect("AbortController");
    let canceller = cancel.clone();
    wasm_bindgen_futures::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(50).await;
        canceller.cancel();
    });
    assert!(SyncLock::acquire(name, &cancel)
        .await
        .expect("locks API")
        .is_none());
    second.release().await;
    assert!(SyncLock::try_acquire(name)
        .await
        .expect("locks API")
        .is_some());
}

#[wasm_bindgen_test]
async fn an_invalid_lock_name_is_an_error_not_a_hang() {
    // Names starting with '-' are reserved by the Web Locks API.
    let result = SyncLock::try_acquire("-reserved").await;
    assert!(
        matches!(&result, Err(IdbError::Js { name, .. }) if name == "NotSupportedError"),
        "{:?}",
        result.map(|lock| lock.is_some())
    );
}

#[wasm_bindgen_test]
async fn versionchange_closes_the_old_connection() {
    let name = "idb-test-versionchange";
    let db = fresh(name).await;
    write_base(&db).await;

    // A newer client in another tab upgrades: it is not blocked, because
    // this connection closes itself.
    let newer = js(open_raw(name, SCHEMA_VERSION + 1)).await;
    assert_eq!(
        db.closed_reason(),
        Some(CloseReason::VersionChange {
            new_version: Some(SCHEMA_VERSION + 1)
        })
    );
    assert!(matches!(
        db.read_tip().await,
        Err(IdbError::Closed(CloseReason::VersionChange { .. }))
    ));
    close_raw(&newer);

    // This (older) client can no longer open the database.
    let result = HeaderDb::open(name).await;
    assert!(
        matches!(&result, Err(IdbError::NewerSchema { .. })),
        "{:?}",
        result.map(|db| db.schema_version())
    );

    // Deleting the database asks open connections to close, too.
    HeaderDb::delete_database(name).await.expect("delete");
    let db = HeaderDb::open(name).await.expect("open");
    HeaderDb::delete_database(name)
        .await
        .expect("delete is not blocked");
    assert_eq!(
        db.closed_reason(),
        Some(CloseReason::VersionChange { new_version: None })
    );
}

/// Chunks 0-2 and the tip as schema version 1 wrote them; the tip bytes are
/// spelled out field by field, pinning the record layout.
async fn create_v1(name: &str) {
    HeaderDb::delete_database(name).await.expect("delete");
    let chunks = chunks_of(5_000)
        .iter()
        .map(|(_, bytes)| JsValue::from(Uint8Array::from(bytes.as_slice())))
        .collect::<Array>();
    let tip = tip_after(5_000);
    let mut tip_bytes = vec![1u8];
    tip_bytes.extend_from_slice(&FIRST_HEIGHT.to_le_bytes());
    tip_bytes.extend_from_slice(&(FIRST_HEIGHT + 4_999).to_le_bytes());
    tip_bytes.extend_from_slice(tip.hash().as_bytes());
    tip_bytes.extend_from_slice(&tip.chain_work());
    assert_eq!(tip_bytes, tip.to_bytes());
    js(create_v1_database(
        name,
        &chunks,
        &Uint8Array::from(tip_bytes.as_slice()),
    ))
    .await;
}

/// The object stores of the database `name`.
async fn stores_of(name: &str) -> Vec<String> {
    Array::from(&js(store_names(name)).await)
        .iter()
        .filter_map(|name| name.as_string())
        .collect()
}

#[wasm_bindgen_test]
async fn a_version_1_database_upgrades_keeping_its_data() {
    let name = "idb-test-upgrade";
    create_v1(name).await;
    assert_eq!(stores_of(name).await, ["chunks", "meta"]);

    let db = HeaderDb::open(name).await.expect("open upgrades");
    assert_eq!(db.schema_version(), SCHEMA_VERSION);
    assert_eq!(db.read_tip().await, Ok(Some(tip_after(5_000))));
    assert_eq!(db.read_chunks(0..10).await, Ok(chunks_of(5_000)));
    db.close();
    assert_eq!(stores_of(name).await, ["chunks", "meta"]);
}

#[wasm_bindgen_test]
async fn a_version_2_database_drops_its_mnlists_store_keeping_the_headers() {
    let name = "idb-test-upgrade-v2";
    create_v1(name).await;
    js(add_v2_mnlists_store(name)).await;
    assert_eq!(stores_of(name).await, ["chunks", "meta", "mnlists"]);

    let db = HeaderDb::open(name).await.expect("open upgrades");
    assert_eq!(db.schema_version(), SCHEMA_VERSION);
    assert_eq!(db.read_tip().await, Ok(Some(tip_after(5_000))));
    assert_eq!(db.read_chunks(0..10).await, Ok(chunks_of(5_000)));
    db.close();
    assert_eq!(stores_of(name).await, ["chunks", "meta"]);
}

#[wasm_bindgen_test]
async fn an_upgrade_blocked_by_another_tab_is_reported_then_completes() {
    let name = "idb-test-blocked";
    create_v1(name).await;
    // An old tab holds a version-1 connection and ignores `versionchange`.
    let old_tab = js(open_raw(name, 1)).await;

    let result = HeaderDb::open(name).await;
    assert!(
        matches!(result, Err(IdbError::Blocked)),
        "{:?}",
        result.map(|db| db.schema_version())
    );

    // Once the old tab closes, the queued upgrade runs and closes again;
    // opening then succeeds with the data intact.
    close_raw(&old_tab);
    let db = HeaderDb::open(name).await.expect("open after unblocking");
    assert_eq!(db.schema_version(), SCHEMA_VERSION);
    assert_eq!(db.read_tip().await, Ok(Some(tip_after(5_000))));
    assert_eq!(db.read_chunks(0..10).await, Ok(chunks_of(5_000)));
}

#[wasm_bindgen_test]
async fn persistence_and_quota_are_reported() {
    let granted = request_persistence().await.expect("persist()");
    let persisted = is_persisted().await.expect("persisted()");
    let estimate = estimate()
        .await
        .expect("estimate()")
        .expect("Chromium has navigator.storage.estimate");
    console_log!(
        "persist() = {granted:?}, persisted() = {persisted:?}, usage {} B of quota {} B ({} B available)",
        estimate.usage,
        estimate.quota,
        estimate.available()
    );
    assert!(granted.is_some(), "Chromium answers persist()");
    assert_eq!(persisted, granted);
    assert!(estimate.quota > 0);
}

#[wasm_bindgen_test]
async fn a_6000_header_quota_outage_is_caught_up_once_writes_succeed() {
    let name = "idb-test-long-outage";
    HeaderDb::delete_database(name).await.expect("delete");
    let base = canonical_base();
    let first = base.height();
    let mut store = IdbStore::open(name).await.expect("open");
    store.initialize(&base).await.expect("initialize");
    let mut chain = HeaderChain::new(base);
    let mut saver = ChainSaver::new();
    let batch = canonical(first + 1, first + 2_000);
    assert_eq!(chain.accept(&batch, NOW).rejected, None);
    saver.save(&mut store, &chain).await.expect("save");
    let before = store.load().await.expect("load").expect("a chain");

    // The origin is full while 6,000 headers arrive, more than the chain
    // holds in full: every write aborts with a QuotaExceededError.
    fail_every_put();
    for from in (first + 2_001..first + 8_000).step_by(2_000) {
        assert_eq!(
            chain.accept(&canonical(from, from + 1_999), NOW).rejected,
            None
        );
        let result = saver.save(&mut store, &chain).await;
        if result != Err(StorageError::QuotaExceeded) {
            restore_put();
            panic!("saving over quota at {from}: {result:?}");
        }
    }
    restore_put();
    assert!(chain.oldest_held_height() > before.tip.height + 1);
    assert_eq!(store.load().await, Ok(Some(before)));

    // Writes succeed again. Without the headers the saver kept, nothing
    // joins the store to the chain any more; with them the next save stores
    // everything.
    assert!(matches!(
        save_chain(&mut store, &chain).await,
        Err(StorageError::Diverged { .. })
    ));
    saver
        .save(&mut store, &chain)
        .await
        .expect("save after the outage");
    assert_eq!(
        store.load().await.expect("load").map(|stored| stored.tip),
        Some(chain.tip())
    );
    assert_eq!(chain.tip().height, first + 8_000);
    drop(store);

    // A reload restores the whole chain from IndexedDB.
    let store = IdbStore::open(name).await.expect("reopen");
    let restored = restore_chain(&store, Network::Testnet, ChainConfig::default())
        .await
        .expect("restore")
        .expect("a stored chain");
    assert_eq!(restored.tip(), chain.tip());
    for height in (first..=first + 8_000).step_by(499) {
        assert_eq!(restored.hash_at(height), chain.hash_at(height));
    }
    drop(store);
}
