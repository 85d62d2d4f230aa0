//! The masternode engine's state survives a "reload" through the in-memory
//! store, on real testnet data: the restored engine verifies the real
//! ChainLock without any new message; damaged, old or foreign records are
//! typed errors that leave a fresh engine (and damage behind a recomputed
//! checksum never panics); lists whose block left the header chain are
//! dropped.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod poll_once;
mod support;

use dashlight::chain::{HeaderLookup, HeaderMap};
use dashlight::encode::deserialize;
use dashlight::hash::BlockHash;
use dashlight::mnlist::{LoadReport, MasternodeEngine, StateError, STATE_VERSION};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use dashlight::storage::{
    restore_masternodes, save_masternodes, MasternodeRestoreFailure, MasternodeStore, MemoryStore,
};
use poll_once::run;
use support::testnet_headers;

fn payload(
    fixtures: &[(&'static str, &'static [u8])],
    name: &str,
) -> (&'static str, &'static [u8]) {
    *fixtures
        .iter()
        .find(|(p, _)| p.ends_with(name))
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

fn clsig_905775() -> ClSig {
    deserialize(common::CLSIG_905775).unwrap()
}

fn verified(engine: &MasternodeEngine) -> usize {
    engine
        .quorum_records()
        .filter(|r| r.status.is_verified())
        .count()
}

/// The engine of a client that synced scenario A: the QRInfo for 905294,
/// then the full list at 905762.
fn synced_engine(headers: &HeaderMap) -> MasternodeEngine {
    let mut engine = MasternodeEngine::new(Network::Testnet);
    let (path, bytes) = payload(common::QRINFOS, "qrinfo_905294.bin");
    let qrinfo = QrInfo::from_payload(bytes, common::layout_version(path)).unwrap();
    engine.apply_qrinfo(&qrinfo, headers).unwrap();
    let (path, bytes) = payload(common::MNLISTDIFFS, "mnlistdiff_0_905762.bin");
    let diff = MnListDiff::from_payload(bytes, common::layout_version(path)).unwrap();
    engine.apply_diff(&diff, headers).unwrap();
    engine
}

/// A store holding the synced engine's state.
fn saved_store(headers: &HeaderMap) -> (MasternodeEngine, MemoryStore) {
    let engine = synced_engine(headers);
    let mut store = MemoryStore::new();
    run(save_masternodes(&mut store, &engine)).unwrap();
    (engine, store)
}

fn restore(
    store: &MemoryStore,
    network: Network,
    headers: &HeaderMap,
) -> (
    MasternodeEngine,
    Result<Option<LoadReport>, MasternodeRestoreFailure>,
) {
    let mut engine = MasternodeEngine::new(network);
    let result = run(restore_masternodes(store, &mut engine, headers));
    (engine, result)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_restored_engine_verifies_the_chainlock_without_any_message() {
    let headers = testnet_headers();
    let (synced, store) = saved_store(&headers);
    let (restored, result) = restore(&store, Network::Testnet, &headers);
    let report = result.unwrap().expect("a state was stored");
    assert!(report.dropped_lists.is_empty());
    assert_eq!(
        report.lists,
        synced.list_heights().collect::<Vec<_>>(),
        "every list restored"
    );
    assert_eq!(report.quorums_verified, verified(&synced));
    assert!(verified(&restored) > 0);
    assert_eq!(restored.last_qrinfo_height(), Some(905_294));
    for height in synced.list_heights() {
        assert_eq!(
            restored.list_at(height).map(|l| (**l).clone()),
            synced.list_at(height).map(|l| (**l).clone()),
            "list {height}"
        );
    }
    let check = restored.verify_chainlock(&clsig_905775(), &headers);
    assert_eq!(check.result, Ok(()));
    assert_eq!(check, synced.verify_chainlock(&clsig_905775(), &headers));
    // The record is deterministic, and far smaller than the messages it stands
    // for: the lists share their entries, each written once.
    let record = run(store.load_masternodes()).unwrap().unwrap();
    assert_eq!(restored.save_state(), record);
    let messages = payload(common::QRINFOS, "qrinfo_905294.bin").1.len()
        + payload(common::MNLISTDIFFS, "mnlistdiff_0_905762.bin")
            .1
            .len();
    assert!(
        record.len() < messages / 2,
        "{} bytes for {} lists ({messages} bytes of messages)",
        record.len(),
        report.lists.len()
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn nothing_stored_restores_nothing() {
    let headers = testnet_headers();
    let (engine, result) = restore(&MemoryStore::new(), Network::Testnet, &headers);
    assert_eq!(result, Ok(None));
    assert_eq!(engine.list_heights().count(), 0);
}

/// Stores `record` in place of the saved one and restores it.
fn restore_damaged(
    headers: &HeaderMap,
    damage: impl FnOnce(&mut Vec<u8>),
) -> (MasternodeEngine, MasternodeRestoreFailure) {
    let (_, mut store) = saved_store(headers);
    let mut record = run(store.load_masternodes()).unwrap().unwrap();
    damage(&mut record);
    run(store.save_masternodes(&record)).unwrap();
    let (engine, result) = restore(&store, Network::Testnet, headers);
    (engine, result.expect_err("a damaged record must not load"))
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn damaged_old_and_foreign_records_are_typed_errors_and_leave_a_fresh_engine() {
    let headers = testnet_headers();
    let state = |failure| MasternodeRestoreFailure::State(failure);

    let (engine, failure) = restore_damaged(&headers, |r| {
        let middle = r.len() / 2;
        r[middle] ^= 1;
    });
    assert_eq!(failure, state(StateError::Checksum));
    assert_eq!(engine.list_heights().count(), 0);
    assert_eq!(engine.quorum_records().count(), 0);

    let (engine, failure) = restore_damaged(&headers, |r| r.truncate(r.len() - 1000));
    assert_eq!(failure, state(StateError::Checksum));
    assert_eq!(engine.list_heights().count(), 0);

    let (_, failure) = restore_damaged(&headers, |r| r.truncate(6));
    assert!(
        matches!(
            failure,
            MasternodeRestoreFailure::State(StateError::Decode(_))
        ),
        "{failure}"
    );

    let (_, failure) = restore_damaged(&headers, |r| r[0] = 7);
    assert_eq!(
        failure,
        state(StateError::UnsupportedVersion {
            found: 7,
            supported: STATE_VERSION
        })
    );

    // A record whose checksum matches but whose content contradicts itself.
    let (_, failure) = restore_damaged(&headers, |r| {
        let body = r.len() - 32;
        r.truncate(body);
        r.push(0);
        let checksum = dashlight::hash::sha256d(r);
        r.extend_from_slice(&checksum);
    });
    assert!(
        matches!(
            failure,
            MasternodeRestoreFailure::State(StateError::Decode(_))
        ),
        "{failure}"
    );

    let (_, store) = saved_store(&headers);
    let (engine, result) = restore(&store, Network::Mainnet, &headers);
    assert_eq!(
        result,
        Err(state(StateError::WrongNetwork {
            stored: Network::Testnet.magic(),
            expected: Network::Mainnet
        }))
    );
    assert_eq!(engine.list_heights().count(), 0);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("not mainnet"), "{message}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_list_whose_block_left_the_header_chain_is_dropped() {
    let headers = testnet_headers();
    let (_, store) = saved_store(&headers);
    // The restored chain holds another block at 905762 (a reorganisation).
    let mut reorganised = headers.clone();
    let header = headers.header_at(905_762).unwrap();
    reorganised.add(905_762, header, BlockHash([7; 32]));
    let (restored, result) = restore(&store, Network::Testnet, &reorganised);
    let report = result.unwrap().unwrap();
    assert_eq!(report.dropped_lists, vec![905_762]);
    assert!(restored.list_at(905_762).is_none());
    assert!(restored.list_at(905_294).is_some());
    // Without the list at 905762 its quorum cannot sign: the ChainLock is not checkable.
    let check = restored.verify_chainlock(&clsig_905775(), &reorganised);
    assert!(check.result.is_err(), "{:?}", check.result);
}

/// Records damaged in ways the checksum does not catch (bytes changed, or
/// cut short, and the checksum recomputed, as a buggy writer would leave
/// them) load or fail with a typed error, never panic: 300 deterministic
/// mutations of the real record.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn damaged_records_with_a_valid_checksum_never_panic() {
    let headers = testnet_headers();
    let record = synced_engine(&headers).save_state();
    let body_len = record.len() - 32;
    let mut seed = 0x5eed_u64;
    let mut next = |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    let (mut loaded, mut failed) = (0, 0);
    for case in 0..300 {
        let mut body = record[..body_len].to_vec();
        if case % 3 == 0 {
            body.truncate(8 + next(body_len - 8));
        } else {
            for _ in 0..=next(4) {
                let at = 8 + next(body_len - 8);
                body[at] ^= 1 << next(8);
            }
        }
        let checksum = dashlight::hash::sha256d(&body);
        body.extend_from_slice(&checksum);
        let mut engine = MasternodeEngine::new(Network::Testnet);
        match engine.load_state(&body, &headers) {
            Ok(_) => loaded += 1,
            Err(_) => failed += 1,
        }
    }
    assert_eq!(loaded + failed, 300);
    assert!(failed > 0, "no mutation was caught");
}
