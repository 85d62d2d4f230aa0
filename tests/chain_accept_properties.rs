//! `HeaderChain::accept` over real headers offered as a hostile or confused
//! peer would: in random batches, out of order, repeated, mixed with a real
//! stale branch and with corrupted copies. It never panics, and once every
//! header has been offered in order the chain is the one an orderly sync
//! builds. Native only (proptest).
#![cfg(not(target_arch = "wasm32"))]

mod chain_fixtures;

use chain_fixtures::{canonical, canonical_base, stale, CANONICAL_FIRST, NOW, STALE_FIRST};
use dashlight::chain::{HashedHeader, HeaderChain};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Canonical headers past the stale branch's fork point, and the stale branch.
fn branches() -> &'static (Vec<HashedHeader>, Vec<HashedHeader>) {
    static BRANCHES: OnceLock<(Vec<HashedHeader>, Vec<HashedHeader>)> = OnceLock::new();
    BRANCHES.get_or_init(|| {
        (
            canonical(CANONICAL_FIRST + 1, STALE_FIRST + 300),
            stale(STALE_FIRST, STALE_FIRST + 150),
        )
    })
}

/// The chain after an orderly sync: every canonical header, then the stale ones.
fn orderly() -> HeaderChain {
    let (canonical, stale) = branches();
    let mut chain = HeaderChain::new(canonical_base());
    chain.accept(canonical, NOW);
    chain.accept(stale, NOW);
    chain
}

/// A batch: which branch, where it starts, how long, and an optional corruption
/// (index into the batch, byte of the header, xor mask).
type Batch = (
    bool,
    prop::sample::Index,
    usize,
    Option<(prop::sample::Index, usize, u8)>,
);

fn batch() -> impl Strategy<Value = Batch> {
    (
        any::<bool>(),
        any::<prop::sample::Index>(),
        1usize..400,
        prop::option::weighted(0.3, (any::<prop::sample::Index>(), 0usize..80, 1u8..)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_offering_then_an_orderly_one_ends_on_the_orderly_chain(
        batches in prop::collection::vec(batch(), 1..12),
    ) {
        let (canonical, stale) = branches();
        let mut chain = HeaderChain::new(canonical_base());
        for (use_stale, start, len, corruption) in batches {
            let branch = if use_stale { stale } else { canonical };
            let start = start.index(branch.len());
            let end = (start + len).min(branch.len());
            let mut headers = branch[start..end].to_vec();
            if let Some((at, byte, mask)) = corruption {
                let at = at.index(headers.len());
                let mut raw = headers[at].header.to_bytes();
                raw[byte] ^= mask;
                headers[at] = HashedHeader::new(dashlight::block::BlockHeader::from_bytes(&raw));
            }
            chain.accept(&headers, NOW);
        }
        chain.accept(canonical, NOW);
        chain.accept(stale, NOW);
        let expected = orderly();
        prop_assert_eq!(chain.tip(), expected.tip());
        for height in (CANONICAL_FIRST..=expected.tip().height).step_by(97) {
            prop_assert_eq!(chain.hash_at(height), expected.hash_at(height));
        }
    }
}
