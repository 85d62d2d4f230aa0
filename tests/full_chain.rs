//! Every testnet header from genesis to 1,100,000 validates (proof of work,
//! retargeting across the Bitcoin-style and DGW eras with testnet's
//! minimum-difficulty rules, median time, checkpoints), and the chain work
//! computed matches the work the checkpoint records carry.
//!
//! Long: run it in release (`cargo test --release --test full_chain`).
#![cfg(not(target_arch = "wasm32"))]

use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::chain::{HashedHeader, HeaderChain, Outcome, SyncBase};
use dashlight::network::Network;

const FULL_CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/full_chain/testnet_headers_0_1100000.bin"
);

/// 2025-01-01T00:00:00Z: after every header in the fixture.
const NOW: u64 = 1_735_689_600;

#[test]
fn all_testnet_headers_validate_from_genesis() {
    let bytes = std::fs::read(FULL_CHAIN).expect("the full testnet chain fixture");
    assert_eq!(bytes.len(), 1_100_001 * HEADER_SIZE);
    let genesis = SyncBase::genesis(Network::Testnet);
    let mut first = [0u8; HEADER_SIZE];
    first.copy_from_slice(&bytes[..HEADER_SIZE]);
    assert_eq!(BlockHeader::from_bytes(&first), *genesis.header());

    let mut chain = HeaderChain::new(genesis);
    let mut work_checked = 0;
    let mut bases = SyncBase::available_heights(Network::Testnet)
        .filter(|&h| h > 0)
        .peekable();
    for batch in bytes[HEADER_SIZE..].chunks(2000 * HEADER_SIZE) {
        let headers = HashedHeader::parse_all(batch);
        let before = chain.tip().height;
        let report = chain.extend(&headers, NOW);
        assert_eq!(report.rejected, None, "after height {before}");
        assert!(matches!(report.outcome, Outcome::Extended { .. }));
        // Compiled-in sync bases carry dashj's chain work: ours must agree.
        while let Some(&height) = bases.peek() {
            if height > chain.tip().height {
                break;
            }
            let base = SyncBase::at_checkpoint(Network::Testnet, height).unwrap();
            assert_eq!(chain.hash_at(height), Some(base.hash()));
            assert_eq!(
                chain.chain_work_at(height),
                Some(base.chain_work()),
                "at {height}"
            );
            work_checked += 1;
            bases.next();
        }
    }
    let tip = chain.tip();
    assert_eq!(tip.height, 1_100_000);
    assert!(
        work_checked >= 47,
        "{work_checked} checkpoints' work compared"
    );
    // Every height resolves to its hash and back.
    for height in (0..=1_100_000).step_by(9_973) {
        let hash = chain.hash_at(height).unwrap();
        assert_eq!(chain.height_of(&hash), Some(height));
    }
    let per_header = chain.index_heap_bytes() / 1_100_001;
    assert!(
        per_header < 64,
        "{per_header} bytes per header in the index"
    );
}
