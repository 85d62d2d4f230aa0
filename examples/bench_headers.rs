//! Header validation benchmark (native, one core).
//!
//! Validates the 1,100,001 testnet headers of the fixture from genesis and
//! prints the rate next to the raw X11 rate measured in the same run:
//!
//! ```text
//! cargo run --release --example bench_headers [-- PATH]
//! ```

use dashlight::block::HEADER_SIZE;
use dashlight::chain::{HashedHeader, HeaderChain, SyncBase};
use dashlight::hash::{x11, BlockHash};
use dashlight::network::Network;
use std::time::Instant;

const DEFAULT_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/full_chain/testnet_headers_0_1100000.bin"
);

/// 2025-01-01T00:00:00Z: after every header in the fixture.
const NOW: u64 = 1_735_689_600;

/// Headers per `extend` call, as in a P2P `headers` message.
const BATCH: usize = 2000;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_PATH.into());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    });
    let count = bytes.len() / HEADER_SIZE - 1;
    println!("headers: {count} (testnet, genesis excluded)");

    // The three measurements are interleaved batch by batch, so that load
    // from other processes on a shared machine hits them alike.
    let mut x11_secs = 0.0;
    let mut pipeline_secs = 0.0;
    let mut validate_secs = 0.0;
    let mut pipeline = HeaderChain::new(SyncBase::genesis(Network::Testnet));
    let mut prehashed = HeaderChain::new(SyncBase::genesis(Network::Testnet));
    for batch in bytes[HEADER_SIZE..].chunks(BATCH * HEADER_SIZE) {
        // 1. Raw X11 on one core: the limit.
        let started = Instant::now();
        let hashes: Vec<BlockHash> = batch
            .chunks_exact(HEADER_SIZE)
            .map(|raw| {
                let mut header = [0u8; HEADER_SIZE];
                header.copy_from_slice(raw);
                BlockHash(x11(&header))
            })
            .collect();
        x11_secs += started.elapsed().as_secs_f64();

        // 2. The whole pipeline: parse, hash, validate.
        let started = Instant::now();
        let headers = HashedHeader::parse_all(batch);
        let report = pipeline.extend(&headers, NOW);
        pipeline_secs += started.elapsed().as_secs_f64();
        if let Some(rejected) = report.rejected {
            eprintln!("invalid header: {rejected}");
            std::process::exit(1);
        }

        // 3. Validation alone, with the hashes computed separately (as by workers).
        let given: Vec<HashedHeader> = headers
            .iter()
            .zip(&hashes)
            .map(|(h, hash)| HashedHeader::with_hash(h.header, *hash))
            .collect();
        let started = Instant::now();
        let report = prehashed.extend(&given, NOW);
        validate_secs += started.elapsed().as_secs_f64();
        if report.rejected.is_some() {
            std::process::exit(1);
        }
    }
    let rate = |secs: f64| count as f64 / secs;
    println!(
        "raw X11:                  {:>9.0} headers/s ({x11_secs:.2} s)",
        rate(x11_secs)
    );
    println!(
        "parse + hash + validate:  {:>9.0} headers/s ({pipeline_secs:.2} s)",
        rate(pipeline_secs)
    );
    println!(
        "validation, hashes given: {:>9.0} headers/s ({validate_secs:.2} s)",
        rate(validate_secs)
    );
    println!(
        "pipeline / raw X11:       {:>9.1} %",
        100.0 * x11_secs / pipeline_secs
    );
    println!(
        "index memory:             {:>9.1} bytes/header",
        pipeline.index_heap_bytes() as f64 / (count + 1) as f64
    );
    let tip = pipeline.tip();
    println!(
        "tip: {} {} chain work {}",
        tip.height, tip.hash, tip.chain_work
    );
}
