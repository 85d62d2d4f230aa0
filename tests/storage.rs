//! Header storage with the in-memory store: batches and the tip are written
//! together, a reorganisation overwrites the old branch, a chain is restored
//! after a "reload" without re-downloading, a write over quota leaves the
//! previous consistent state, and a quota outage longer than the headers the
//! chain holds is caught up once the quota allows.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod chain_fixtures;
mod poll_once;

use chain_fixtures::{
    canonical, canonical_base as base, stale, CANONICAL_FIRST as FIRST, NOW, STALE_FIRST,
};
use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::chain::{ChainConfig, ChainTip, HashedHeader, HeaderChain, Outcome, RestoreError};
use dashlight::network::Network;
use dashlight::storage::{
    restore_chain, save_chain, ChainSaver, HeaderStore, MemoryStore, RestoreFailure, StorageError,
};
use poll_once::run;

/// Offers `headers` in batches of 2,000 and saves the chain after each.
fn sync(chain: &mut HeaderChain, store: &mut MemoryStore, headers: &[HashedHeader]) {
    for batch in headers.chunks(2000) {
        assert_eq!(chain.accept(batch, NOW).rejected, None);
        run(save_chain(store, chain)).unwrap();
    }
}

/// A store holding only the canonical sync base.
fn new_store() -> MemoryStore {
    let mut store = MemoryStore::new();
    run(store.initialize(&base())).unwrap();
    store
}

/// A chain that followed the stale branch up to `stale_to` (after the blocks
/// it shares with the canonical chain), saved after each batch.
fn on_the_stale_branch(stale_to: u32) -> (HeaderChain, MemoryStore) {
    let mut store = new_store();
    let mut chain = HeaderChain::new(base());
    sync(
        &mut chain,
        &mut store,
        &canonical(FIRST + 1, STALE_FIRST - 1),
    );
    sync(&mut chain, &mut store, &stale(STALE_FIRST, stale_to));
    (chain, store)
}

fn restore(store: &MemoryStore) -> HeaderChain {
    run(restore_chain(
        store,
        Network::Testnet,
        ChainConfig::default(),
    ))
    .unwrap()
    .expect("a stored chain")
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_restored_chain_resumes_where_it_stopped() {
    assert_eq!(run(MemoryStore::new().load()), Ok(None));
    let mut store = new_store();
    let mut chain = HeaderChain::new(base());
    sync(&mut chain, &mut store, &canonical(FIRST + 1, FIRST + 7_000));

    // "Reload": a new chain from the store alone.
    let mut restored = restore(&store);
    assert_eq!(restored.tip(), chain.tip());
    for height in (FIRST..=FIRST + 7_000).step_by(97) {
        assert_eq!(restored.hash_at(height), chain.hash_at(height));
        let hash = chain.hash_at(height).unwrap();
        assert_eq!(restored.height_of(&hash), Some(height));
    }
    // It validates the next headers (retargeting reads the restored window).
    let next = canonical(FIRST + 7_001, FIRST + 9_000);
    assert_eq!(restored.accept(&next, NOW).rejected, None);
    run(save_chain(&mut store, &restored)).unwrap();
    assert_eq!(restore(&store).tip(), restored.tip());

    // Headers come back as they went in, across chunk boundaries.
    let read = run(store.read_headers(899_990, 25)).unwrap();
    let expected: Vec<BlockHeader> = canonical(899_990, 900_014)
        .iter()
        .map(|h| h.header)
        .collect();
    assert_eq!(read, expected);
    // 898560..=907560 in chunks 449 to 453, 2,000 headers per record.
    assert_eq!(store.chunk_count(), 5);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_reorganisation_overwrites_the_stored_branch() {
    // The stale branch first, up to the block before the checkpoint at 900288.
    let (mut chain, mut store) = on_the_stale_branch(900_287);
    assert_eq!(
        run(store.load()).unwrap().unwrap().tip.hash,
        stale(900_287, 900_287)[0].hash
    );
    // Then the canonical chain wins and is stored over it.
    let mut saw_reorg = false;
    for batch in canonical(FIRST + 1, 901_000).chunks(2000) {
        let report = chain.accept(batch, NOW);
        saw_reorg |= matches!(report.outcome, Outcome::Reorganized { .. });
        run(save_chain(&mut store, &chain)).unwrap();
    }
    assert!(saw_reorg);
    let restored = restore(&store);
    assert_eq!(restored.tip(), chain.tip());
    let stored = run(store.read_headers(STALE_FIRST, 600)).unwrap();
    let expected: Vec<BlockHeader> = canonical(STALE_FIRST, STALE_FIRST + 599)
        .iter()
        .map(|h| h.header)
        .collect();
    assert_eq!(stored, expected);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_write_over_quota_keeps_the_previous_consistent_tip() {
    // Room for the chain record and about 3,000 headers.
    let mut store = MemoryStore::with_quota(192 + 3_000 * HEADER_SIZE);
    run(store.initialize(&base())).unwrap();
    let mut chain = HeaderChain::new(base());
    sync(&mut chain, &mut store, &canonical(FIRST + 1, FIRST + 2_000));
    let before = run(store.load()).unwrap().unwrap();
    let bytes_before = store.stored_bytes();

    assert_eq!(
        chain
            .accept(&canonical(FIRST + 2_001, FIRST + 4_000), NOW)
            .rejected,
        None
    );
    assert_eq!(
        run(save_chain(&mut store, &chain)),
        Err(StorageError::QuotaExceeded)
    );
    assert_eq!(run(store.load()).unwrap().unwrap(), before);
    assert_eq!(store.stored_bytes(), bytes_before);
    assert_eq!(restore(&store).tip(), before.tip);

    // With more room, the next save catches up with everything.
    store.set_quota(None);
    assert_eq!(
        chain
            .accept(&canonical(FIRST + 4_001, FIRST + 5_000), NOW)
            .rejected,
        None
    );
    run(save_chain(&mut store, &chain)).unwrap();
    assert_eq!(restore(&store).tip(), chain.tip());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_missed_reorganisation_is_repaired_by_the_next_save() {
    let (mut chain, mut store) = on_the_stale_branch(900_200);
    // The canonical branch takes over without being saved.
    for batch in canonical(STALE_FIRST, 901_000).chunks(2000) {
        chain.accept(batch, NOW);
    }
    assert_eq!(
        chain.hash_at(STALE_FIRST),
        canonical(STALE_FIRST, STALE_FIRST).first().map(|h| h.hash)
    );
    // The store still ends on the stale branch; saving finds the fork.
    run(save_chain(&mut store, &chain)).unwrap();
    let restored = restore(&store);
    assert_eq!(restored.tip(), chain.tip());
    assert_eq!(restored.hash_at(STALE_FIRST), chain.hash_at(STALE_FIRST));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bad_writes_and_bad_stores_are_typed_errors() {
    let mut store = MemoryStore::new();
    let batch: Vec<BlockHeader> = canonical(FIRST + 1, FIRST + 10)
        .iter()
        .map(|h| h.header)
        .collect();
    let tip = ChainTip {
        height: FIRST + 10,
        hash: canonical(FIRST + 10, FIRST + 10)[0].hash,
        chain_work: base().chain_work(),
    };
    assert_eq!(
        run(store.write_batch(FIRST + 1, &batch, &tip)),
        Err(StorageError::NotInitialized)
    );
    run(store.initialize(&base())).unwrap();
    // A gap above the stored tip.
    assert!(matches!(
        run(store.write_batch(FIRST + 2, &batch, &tip)),
        Err(StorageError::InvalidWrite { .. })
    ));
    // Stored with a chain work that does not add up: restoring notices.
    run(store.write_batch(FIRST + 1, &batch, &tip)).unwrap();
    assert_eq!(
        run(restore_chain(
            &store,
            Network::Testnet,
            ChainConfig::default()
        ))
        .err(),
        Some(RestoreFailure::Chain(RestoreError::WorkMismatch))
    );
    assert!(matches!(
        run(restore_chain(
            &store,
            Network::Mainnet,
            ChainConfig::default()
        )),
        Err(RestoreFailure::WrongNetwork { .. })
    ));
    // A tip that is not the last header.
    let wrong = ChainTip {
        hash: canonical(FIRST + 9, FIRST + 9)[0].hash,
        ..tip
    };
    run(store.write_batch(FIRST + 1, &batch, &wrong)).unwrap();
    assert!(matches!(
        run(restore_chain(
            &store,
            Network::Testnet,
            ChainConfig::default()
        )),
        Err(RestoreFailure::Chain(RestoreError::TipMismatch { .. }))
    ));
    run(store.clear()).unwrap();
    assert_eq!(run(store.load()), Ok(None));
    assert_eq!(store.stored_bytes(), 0);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_shorter_chain_replaces_a_longer_stored_one() {
    let mut store = new_store();
    let mut longer = HeaderChain::new(base());
    sync(
        &mut longer,
        &mut store,
        &canonical(FIRST + 1, FIRST + 3_000),
    );
    // Another chain instance on the same branch, behind the store.
    let mut shorter = HeaderChain::new(base());
    assert_eq!(
        shorter
            .accept(&canonical(FIRST + 1, FIRST + 1_000), NOW)
            .rejected,
        None
    );
    run(save_chain(&mut store, &shorter)).unwrap();
    assert_eq!(restore(&store).tip(), shorter.tip());

    // A stored branch replaced by a shorter one with more work: the stale
    // blocks are easier than the canonical ones.
    let (mut chain, mut store) = on_the_stale_branch(900_260);
    let report = chain.accept(&canonical(STALE_FIRST, 900_100), NOW);
    assert!(matches!(report.outcome, Outcome::Reorganized { .. }));
    run(save_chain(&mut store, &chain)).unwrap();
    let restored = restore(&store);
    assert_eq!(restored.tip(), chain.tip());
    assert_eq!(restored.tip().height, 900_100);
    assert!(matches!(
        run(store.read_headers(900_101, 1)),
        Err(StorageError::OutOfRange { .. })
    ));
}

/// Offers `headers` in batches of 2,000, saving with `saver` after each;
/// every save fails over quota.
fn sync_over_quota(
    chain: &mut HeaderChain,
    store: &mut MemoryStore,
    saver: &mut ChainSaver,
    headers: &[HashedHeader],
) {
    for batch in headers.chunks(2000) {
        assert_eq!(chain.accept(batch, NOW).rejected, None);
        assert_eq!(
            run(saver.save(store, chain)),
            Err(StorageError::QuotaExceeded)
        );
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_6000_header_quota_outage_is_caught_up_once_the_quota_allows() {
    let mut store = new_store();
    let mut chain = HeaderChain::new(base());
    let mut saver = ChainSaver::new();
    sync(&mut chain, &mut store, &canonical(FIRST + 1, FIRST + 2_000));
    let before = run(store.load()).unwrap().unwrap();

    // The origin is full: 6,000 headers arrive, more than the chain holds in full.
    store.set_quota(Some(store.stored_bytes()));
    sync_over_quota(
        &mut chain,
        &mut store,
        &mut saver,
        &canonical(FIRST + 2_001, FIRST + 8_000),
    );
    assert!(chain.oldest_held_height() > before.tip.height + 1);
    assert_eq!(saver.unsaved_headers(), 6_000);
    assert_eq!(run(store.load()).unwrap().unwrap(), before);
    // Without the kept headers, nothing joins the store to the chain any more.
    assert!(matches!(
        run(save_chain(&mut store.clone(), &chain)),
        Err(StorageError::Diverged { .. })
    ));

    // Room again: the next save (no new header needed) stores everything.
    store.set_quota(None);
    run(saver.save(&mut store, &chain)).unwrap();
    assert_eq!(saver.unsaved_headers(), 0);
    assert_eq!(run(store.load()).unwrap().unwrap().tip, chain.tip());
    let restored = restore(&store);
    assert_eq!(restored.tip(), chain.tip());
    assert_eq!(restored.tip().height, FIRST + 8_000);
    let expected: Vec<BlockHeader> = canonical(FIRST + 1_990, FIRST + 2_010)
        .iter()
        .map(|h| h.header)
        .collect();
    assert_eq!(
        run(store.read_headers(FIRST + 1_990, 21)).unwrap(),
        expected
    );
    // And saving goes on as usual.
    assert_eq!(
        chain
            .accept(&canonical(FIRST + 8_001, FIRST + 9_000), NOW)
            .rejected,
        None
    );
    run(saver.save(&mut store, &chain)).unwrap();
    assert_eq!(restore(&store).tip(), chain.tip());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_reorganisation_during_a_long_outage_is_stored_once_it_ends() {
    // Stored on the stale branch; then the canonical chain takes over and
    // runs 6,000 headers on while nothing can be written.
    let (mut chain, mut store) = on_the_stale_branch(900_200);
    let mut saver = ChainSaver::new();
    store.set_quota(Some(store.stored_bytes()));
    sync_over_quota(
        &mut chain,
        &mut store,
        &mut saver,
        &canonical(STALE_FIRST, STALE_FIRST + 5_999),
    );
    assert!(chain.oldest_held_height() > STALE_FIRST);

    store.set_quota(None);
    run(saver.save(&mut store, &chain)).unwrap();
    let restored = restore(&store);
    assert_eq!(restored.tip(), chain.tip());
    assert_eq!(restored.hash_at(STALE_FIRST), chain.hash_at(STALE_FIRST));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn an_outage_longer_than_the_saver_keeps_leaves_the_store_at_its_tip() {
    let mut store = new_store();
    let mut chain = HeaderChain::new(base());
    let mut saver = ChainSaver::with_limit(5_000);
    sync(&mut chain, &mut store, &canonical(FIRST + 1, FIRST + 2_000));
    let before = run(store.load()).unwrap().unwrap();
    store.set_quota(Some(store.stored_bytes()));
    sync_over_quota(
        &mut chain,
        &mut store,
        &mut saver,
        &canonical(FIRST + 2_001, FIRST + 8_000),
    );
    // 6,000 unsaved headers are more than it keeps: it gave them up.
    assert_eq!(saver.unsaved_headers(), 0);
    store.set_quota(None);
    assert!(matches!(
        run(saver.save(&mut store, &chain)),
        Err(StorageError::Diverged { stored_tip, .. }) if stored_tip == before.tip.height
    ));
    // The store is still a consistent chain: a reload resumes from its tip.
    assert_eq!(restore(&store).tip(), before.tip);
}
