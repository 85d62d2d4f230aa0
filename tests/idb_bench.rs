//! Benchmark of the IndexedDB header store alone, in headless Chromium:
//! writes and reads 1.1 M headers' worth of chunks and prints headers/s.
//! Ignored by default; run it with:
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome --release -- --test idb_bench -- --include-ignored --nocapture`
//!
//! The chunks are real testnet headers from the fixtures, reused cyclically
//! (repetitive synthetic bytes would flatter Chromium's value compression).
//! The figures are storage only: no hashing or validation.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use dashlight::block::HEADER_SIZE;
use dashlight::browser::idb::{estimate, HeaderDb, TipRecord, WriteBatch, CHUNK_SIZE};
use dashlight::hash::{x11, BlockHash};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

/// Real testnet headers (48,689 of them) to fill the chunks with.
static FIXTURE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
));

/// Headers written and read: about the testnet chain in the fixtures.
const HEADERS: u32 = 1_100_000;

/// Chunks those headers fill (all full).
const CHUNKS: u32 = HEADERS / CHUNK_SIZE;

/// Milliseconds since the epoch, from the browser.
fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Prints one result line and returns headers/s.
fn report(what: &str, headers: u32, started_ms: f64) -> f64 {
    let seconds = (now_ms() - started_ms) / 1_000.0;
    let rate = f64::from(headers) / seconds;
    let megabytes = f64::from(headers) * HEADER_SIZE as f64 / 1e6;
    console_log!(
        "{what}: {headers} headers in {seconds:.2} s = {rate:.0} headers/s ({:.1} MB/s)",
        megabytes / seconds
    );
    rate
}

/// The tip after `chunks` full chunks.
fn tip_after(chunks: u32) -> TipRecord {
    let height = chunks * CHUNK_SIZE - 1;
    TipRecord::new(0, height, BlockHash::ZERO, [0; 32]).expect("height above base")
}

/// The fixture's full chunks, to be written in turn.
fn fixture_chunks() -> Vec<&'static [u8]> {
    FIXTURE
        .chunks_exact(CHUNK_SIZE as usize * HEADER_SIZE)
        .collect()
}

/// Writes every chunk, `per_transaction` chunks (and the tip) per transaction.
async fn write_all(db: &HeaderDb, chunks: &[&[u8]], per_transaction: u32) {
    let mut next = 0;
    while next < CHUNKS {
        let end = (next + per_transaction).min(CHUNKS);
        let batch = (next..end)
            .fold(WriteBatch::new(), |batch, index| {
                batch.put_chunk(index, chunks[index as usize % chunks.len()])
            })
            .put_tip(tip_after(end));
        db.write(&batch).await.expect("write");
        next = end;
    }
}

#[wasm_bindgen_test]
#[ignore]
async fn write_and_read_1_1m_headers() {
    let name = "dashlight-idb-bench";
    let chunks = fixture_chunks();

    for per_transaction in [1, 10] {
        HeaderDb::delete_database(name).await.expect("delete");
        let db = HeaderDb::open(name).await.expect("open");
        let started = now_ms();
        write_all(&db, &chunks, per_transaction).await;
        report(
            &format!(
                "write, {} headers + tip per transaction",
                per_transaction * CHUNK_SIZE
            ),
            HEADERS,
            started,
        );
    }

    // Read back through a new connection, as after a reload.
    let db = HeaderDb::open(name).await.expect("reopen");
    let started = now_ms();
    let tip = db.read_tip().await.expect("tip").expect("a tip");
    let mut read = 0u32;
    for first in (0..tip.chunk_count()).step_by(50) {
        let end = (first + 50).min(tip.chunk_count());
        for (_, bytes) in db.read_chunks(first..end).await.expect("read") {
            read += (bytes.len() / HEADER_SIZE) as u32;
        }
    }
    assert_eq!(read, HEADERS);
    report("read, 100,000 headers per transaction", read, started);

    let started = now_ms();
    for index in 0..tip.chunk_count() {
        db.read_chunk(index).await.expect("read").expect("stored");
    }
    report("read, one chunk per transaction", HEADERS, started);

    // For scale: the X11 rate of this core, which bounds a validating sync.
    let started = now_ms();
    for header in FIXTURE.chunks_exact(HEADER_SIZE).take(20_000) {
        if let Ok(header) = <&[u8; HEADER_SIZE]>::try_from(header) {
            std::hint::black_box(x11(std::hint::black_box(header)));
        }
    }
    report("x11, one core (for scale)", 20_000, started);

    if let Ok(Some(usage)) = estimate().await {
        console_log!(
            "origin usage {:.1} MB of quota {:.1} MB",
            usage.usage as f64 / 1e6,
            usage.quota as f64 / 1e6
        );
    }
    db.close();
    HeaderDb::delete_database(name).await.expect("delete");
}
