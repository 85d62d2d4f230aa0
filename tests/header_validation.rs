//! A single flipped bit in a real header is caught, with the reason that
//! names what is wrong: testnet headers 898,560..947,248, started from the
//! compiled-in sync base at 898,560; the early testnet eras from the full
//! chain fixture (native only).

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod chain_fixtures;

use chain_fixtures::{canonical_base, header_in, CANONICAL, CANONICAL_FIRST, NOW};
use dashlight::block::BlockHeader;
use dashlight::chain::{BlockId, HashedHeader, HeaderChain, Outcome, ValidationError};
use dashlight::network::Network;

const FIRST: u32 = CANONICAL_FIRST;

fn canonical(height: u32) -> BlockHeader {
    header_in(CANONICAL, FIRST, height)
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Version,
    PrevHash,
    MerkleRoot,
    Time,
    Bits,
    Nonce,
}

fn flip(mut header: BlockHeader, field: Field, bit: u32) -> BlockHeader {
    let byte = (bit / 8) as usize;
    let mask = 1u8 << (bit % 8);
    match field {
        Field::Version => header.version ^= 1 << bit,
        Field::PrevHash => header.prev_blockhash.0[byte] ^= mask,
        Field::MerkleRoot => header.merkle_root.0[byte] ^= mask,
        Field::Time => header.time ^= 1 << bit,
        Field::Bits => header.bits ^= 1 << bit,
        Field::Nonce => header.nonce ^= 1 << bit,
    }
    header
}

/// The reason a flip is expected to be rejected for.
fn expected_reason(
    height: u32,
    real: &BlockHeader,
    parent: &HashedHeader,
    field: Field,
    bit: u32,
) -> ValidationError {
    let bad = flip(*real, field, bit);
    let bad_hash = bad.block_hash();
    if let Some(expected) = dashlight::chain::checkpoints::checkpoint(Network::Testnet, height) {
        if !matches!(field, Field::PrevHash) {
            return ValidationError::CheckpointMismatch {
                height,
                expected,
                found: bad_hash,
            };
        }
    }
    match (field, bit) {
        (Field::PrevHash, _) => ValidationError::BadPrevHash {
            expected: parent.hash,
            found: bad.prev_blockhash,
        },
        (Field::Bits, _) => ValidationError::BadDifficulty {
            expected: real.bits,
            found: bad.bits,
        },
        // High time bits move the time by years: into the future or far before the median.
        (Field::Time, 29..) if u64::from(bad.time) > NOW + 2 * 60 * 60 => {
            ValidationError::TimeTooNew {
                time: bad.time,
                max_allowed: NOW + 2 * 60 * 60,
            }
        }
        (Field::Time, 29..) => ValidationError::TimeTooOld {
            time: bad.time,
            median_time_past: 0,
        },
        _ => ValidationError::BadProofOfWork {
            hash: bad_hash,
            bits: bad.bits,
        },
    }
}

/// Same reason; for a too-old time the median is not compared.
fn same_reason(found: &ValidationError, expected: &ValidationError) -> bool {
    match (found, expected) {
        (
            ValidationError::TimeTooOld { time: a, .. },
            ValidationError::TimeTooOld { time: b, .. },
        ) => a == b,
        _ => found == expected,
    }
}

const ALL_FLIPS: [(Field, u32); 12] = [
    (Field::Version, 3),
    (Field::PrevHash, 0),
    (Field::PrevHash, 200),
    (Field::MerkleRoot, 77),
    (Field::Time, 0),
    (Field::Time, 29),
    (Field::Time, 31),
    (Field::Bits, 0),
    (Field::Bits, 17),
    (Field::Nonce, 0),
    (Field::Nonce, 31),
    (Field::Nonce, 12),
];

/// Grows `chain` along `header_at` to each height of `heights` in turn and
/// offers every flip of the header there to a copy of the chain.
fn check_flips_at(mut chain: HeaderChain, header_at: impl Fn(u32) -> BlockHeader, heights: &[u32]) {
    for &height in heights {
        let from = chain.tip().height + 1;
        let batch: Vec<HashedHeader> = (from..height)
            .map(|h| HashedHeader::new(header_at(h)))
            .collect();
        for part in batch.chunks(2000) {
            assert_eq!(chain.extend(part, NOW).rejected, None);
        }
        let parent = HashedHeader::new(header_at(height - 1));
        let real = header_at(height);
        for (field, bit) in ALL_FLIPS {
            let bad = HashedHeader::new(flip(real, field, bit));
            let mut copy = chain.clone();
            let report = copy.extend(&[bad], NOW);
            let rejected = report.rejected.expect("a flipped header is rejected");
            let expected = expected_reason(height, &real, &parent, field, bit);
            assert!(
                same_reason(&rejected.reason, &expected),
                "height {height}, {field:?} bit {bit}: {:?}, expected {expected:?}",
                rejected.reason
            );
            assert_eq!(rejected.height, Some(height));
            assert_eq!(report.outcome, Outcome::Unchanged);
            assert_eq!(copy.tip(), chain.tip(), "nothing was added");
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn flipped_bits_are_caught_with_the_right_reason() {
    let base = canonical_base();
    assert_eq!(canonical(FIRST), *base.header());
    // 899712 and 946944 are checkpoint heights.
    let heights = [
        898_600, 899_711, 899_712, 900_001, 905_555, 920_000, 946_944, 947_248,
    ];
    check_flips_at(HeaderChain::new(base), canonical, &heights);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_bad_header_inside_a_batch_keeps_the_valid_ones_before_it() {
    let base = canonical_base();
    let mut chain = HeaderChain::new(base);
    let mut batch: Vec<HashedHeader> = (FIRST + 1..FIRST + 101)
        .map(|h| HashedHeader::new(canonical(h)))
        .collect();
    batch[60] = HashedHeader::new(flip(batch[60].header, Field::Nonce, 5));
    let report = chain.extend(&batch, NOW);
    assert_eq!(
        report.outcome,
        Outcome::Extended {
            first_height: FIRST + 1,
            tip: BlockId {
                height: FIRST + 60,
                hash: batch[59].hash,
            },
        }
    );
    let rejected = report.rejected.unwrap();
    assert_eq!(rejected.index, 60);
    assert_eq!(rejected.height, Some(FIRST + 61));
    assert!(matches!(
        rejected.reason,
        ValidationError::BadProofOfWork { .. }
    ));
    // The valid rest is accepted afterwards.
    let rest: Vec<HashedHeader> = (FIRST + 61..FIRST + 101)
        .map(|h| HashedHeader::new(canonical(h)))
        .collect();
    assert_eq!(chain.extend(&rest, NOW).rejected, None);
    assert_eq!(chain.tip().height, FIRST + 100);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn right_after_a_sync_base_proof_of_work_still_catches_flips() {
    // Retargeting needs 24 known ancestors: just above the base only the
    // header's own proof of work can catch a changed `bits`.
    let base = canonical_base();
    let mut chain = HeaderChain::new(base);
    let first: Vec<HashedHeader> = (FIRST + 1..FIRST + 5)
        .map(|h| HashedHeader::new(canonical(h)))
        .collect();
    assert_eq!(chain.extend(&first, NOW).rejected, None);
    let bad = HashedHeader::new(flip(canonical(FIRST + 5), Field::Bits, 0));
    let rejected = chain.extend(&[bad], NOW).rejected.unwrap();
    assert!(
        matches!(
            rejected.reason,
            ValidationError::BadProofOfWork { .. } | ValidationError::TargetOutOfRange { .. }
        ),
        "{:?}",
        rejected.reason
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_header_from_the_future_is_too_new() {
    let base = canonical_base();
    let mut chain = HeaderChain::new(base);
    let next = HashedHeader::new(canonical(FIRST + 1));
    // Two hours after "now" is still fine; a second later is not.
    let now = u64::from(next.header.time) - 2 * 60 * 60;
    assert_eq!(chain.clone().extend(&[next], now).rejected, None);
    let rejected = chain.extend(&[next], now - 1).rejected.unwrap();
    assert_eq!(
        rejected.reason,
        ValidationError::TimeTooNew {
            time: next.header.time,
            max_allowed: now - 1 + 2 * 60 * 60,
        }
    );
}

#[cfg(not(target_arch = "wasm32"))]
mod early_eras {
    use super::*;
    use dashlight::block::HEADER_SIZE;
    use dashlight::chain::SyncBase;
    use std::io::Read;

    const FULL_CHAIN: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/testnet/full_chain/testnet_headers_0_1100000.bin"
    );

    fn first_headers(count: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; count * HEADER_SIZE];
        std::fs::File::open(FULL_CHAIN)
            .and_then(|mut f| f.read_exact(&mut bytes))
            .expect("the full testnet chain fixture");
        bytes
    }

    #[test]
    fn flips_are_caught_in_the_bitcoin_era_and_at_the_switch_to_dgw() {
        let bytes = first_headers(9_000);
        let chain = HeaderChain::new(SyncBase::genesis(Network::Testnet));
        // Bitcoin-style retargets at multiples of 576 (testnet's minimum
        // difficulty in between), DGW from 4002.
        let heights = [
            1, 100, 575, 576, 577, 2_999, 4_001, 4_002, 4_003, 4_030, 8_999,
        ];
        check_flips_at(chain, |h| header_in(&bytes, 0, h), &heights);
    }
}
