//! The masternode list engine on the real testnet and mainnet fixtures.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod support;

use dashlight::chain::HeaderMap;
use dashlight::encode::deserialize;
use dashlight::hash::BlockHash;
use dashlight::llmq::LlmqType;
use dashlight::mnlist::{
    apply_diff, ChainLockFailure, DiffError, EngineErrorKind, MasternodeEngine, MasternodeList,
    QuorumStatus, Unverifiable,
};
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use std::collections::BTreeMap;
use support::testnet_headers;

fn diff(name: &str) -> MnListDiff {
    let (path, bytes) = common::MNLISTDIFFS
        .iter()
        .find(|(p, _)| p.ends_with(name))
        .unwrap_or_else(|| panic!("no fixture {name}"));
    MnListDiff::from_payload(bytes, common::layout_version(path)).unwrap()
}

fn qrinfo(name: &str) -> QrInfo {
    let (path, bytes) = common::QRINFOS
        .iter()
        .find(|(p, _)| p.ends_with(name))
        .unwrap_or_else(|| panic!("no fixture {name}"));
    QrInfo::from_payload(bytes, common::layout_version(path)).unwrap()
}

/// (base height, target height) of a `mnlistdiff_<A>_<B>.bin` name.
fn heights(path: &str) -> Option<(u32, u32)> {
    let name = path.rsplit('/').next()?.strip_suffix(".bin")?;
    let mut parts = name.split('_').skip(1);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn assert_roots_match(list: &MasternodeList, diff: &MnListDiff, what: &str) {
    let coinbase = diff.coinbase_payload();
    assert_eq!(
        list.merkle_root_mn_list(),
        coinbase.merkle_root_mn_list,
        "{what}: merkleRootMNList"
    );
    if let Some(root) = coinbase.merkle_root_quorums() {
        assert_eq!(
            list.merkle_root_quorums(),
            root,
            "{what}: merkleRootQuorums"
        );
    }
}

fn empty() -> MasternodeList {
    MasternodeList::empty(BlockHash::ZERO, 0)
}

fn clsig_905775() -> ClSig {
    deserialize(common::CLSIG_905775).unwrap()
}

/// Counts of quorum states by type: (verified, failed, not verifiable).
fn counts(engine: &MasternodeEngine) -> BTreeMap<u8, (usize, usize, usize)> {
    let mut counts = BTreeMap::new();
    for record in engine.quorum_records() {
        let c = counts.entry(record.llmq_type.0).or_insert((0, 0, 0));
        match record.status {
            QuorumStatus::Verified { .. } => c.0 += 1,
            QuorumStatus::Failed(_) => c.1 += 1,
            QuorumStatus::NotVerifiable(_) => c.2 += 1,
        }
    }
    counts
}

#[cfg(not(target_arch = "wasm32"))]
fn verified(engine: &MasternodeEngine) -> usize {
    engine
        .quorum_records()
        .filter(|r| r.status.is_verified())
        .count()
}

fn engine_with_905294(headers: &HeaderMap) -> MasternodeEngine {
    let mut engine = MasternodeEngine::new(Network::Testnet);
    let report = engine
        .apply_qrinfo(&qrinfo("qrinfo_905294.bin"), headers)
        .unwrap();
    assert_eq!(report.applied.len(), 6);
    assert!(report.skipped.is_empty());
    engine
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn genesis_based_diffs_rebuild_lists_matching_their_coinbase() {
    for (path, _) in common::MNLISTDIFFS {
        if heights(path).is_some_and(|(base, _)| base == 0) {
            let d = diff(path);
            let list = apply_diff(&empty(), &d, d.coinbase_height(), |_| None).unwrap();
            assert_roots_match(&list, &d, path);
        }
    }
    for name in [
        "qrinfo_905294.bin",
        "qrinfo_900692.bin",
        "qrinfo_947248.bin",
    ] {
        let q = qrinfo(name);
        for (part, d) in q.named_diffs() {
            if d.base_block_hash.is_zero() || d.base_block_hash == Network::Testnet.genesis_hash() {
                let list = apply_diff(&empty(), d, d.coinbase_height(), |_| None).unwrap();
                assert_roots_match(&list, d, &format!("{name} {part}"));
            }
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_lists_of_a_qrinfo_share_their_identical_entries() {
    let engine = engine_with_905294(&testnet_headers());
    let heights: Vec<u32> = engine.list_heights().collect();
    let mut shared = 0;
    for pair in heights.windows(2) {
        let (older, newer) = (
            engine.list_at(pair[0]).unwrap(),
            engine.list_at(pair[1]).unwrap(),
        );
        for entry in newer.entries() {
            if let Some(old) = older.entry(&entry.pro_tx_hash()) {
                assert_eq!(std::sync::Arc::ptr_eq(old, entry), old.sml == entry.sml);
                shared += usize::from(old.sml == entry.sml);
            }
        }
    }
    assert!(shared > 1000, "{shared} entries shared");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn mainnet_list_of_mostly_legacy_keys_matches_its_coinbase() {
    let d = diff("mnlistdiff_0_2028691.bin");
    let list = apply_diff(&empty(), &d, d.coinbase_height(), |_| None).unwrap();
    assert_roots_match(&list, &d, "mainnet 2028691");
    let legacy = list.entries().filter(|e| e.sml.uses_legacy_bls()).count();
    assert!(legacy * 2 > list.len(), "{legacy} of {}", list.len());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn chained_diffs_applied_on_their_base_match() {
    let mut lists: BTreeMap<u32, MasternodeList> = BTreeMap::new();
    let genesis = diff("mnlistdiff_0_530000_LAYOUT70228.bin");
    lists.insert(
        530_000,
        apply_diff(&empty(), &genesis, 530_000, |_| None).unwrap(),
    );
    let mut chained: Vec<(u32, u32, &str)> = common::MNLISTDIFFS
        .iter()
        .filter_map(|(path, _)| heights(path).map(|(a, b)| (b, a, *path)))
        .filter(|(_, a, _)| *a != 0)
        .collect();
    chained.sort();
    let mut applied = 0;
    for (target, base, path) in chained {
        let d = diff(path);
        let base_list = lists
            .get(&base)
            .unwrap_or_else(|| panic!("{path}: no base"));
        let list = apply_diff(base_list, &d, target, |_| None).unwrap();
        assert_roots_match(&list, &d, path);
        lists.insert(target, list);
        applied += 1;
    }
    assert!(applied >= 80, "{applied} chained diffs");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn qrinfo_905294_from_empty_state_verifies_both_cycles_and_the_904896_quorums() {
    let headers = testnet_headers();
    let engine = engine_with_905294(&headers);
    let mut rotated = BTreeMap::new();
    for record in engine.quorum_records() {
        let height = record.height.unwrap_or(0);
        if let QuorumStatus::Failed(why) = &record.status {
            panic!("{} at {height} failed: {why}", record.llmq_type);
        }
        if record.llmq_type == LlmqType::LLMQ_60_75 && record.status.is_verified() {
            *rotated.entry(height - height % 288).or_insert(0) += 1;
        }
        let non_rotated_cycle = height == 904_896 || height == 905_184;
        if record.llmq_type != LlmqType::LLMQ_60_75 && non_rotated_cycle {
            assert!(
                record.status.is_verified(),
                "{} at {height}: {}",
                record.llmq_type,
                record.status
            );
        }
        if let QuorumStatus::NotVerifiable(why) = &record.status {
            assert!(
                matches!(
                    why,
                    Unverifiable::MissingList { .. }
                        | Unverifiable::MissingSnapshot { .. }
                        | Unverifiable::UnknownBaseBlock
                ),
                "{why}"
            );
        }
    }
    assert_eq!(rotated.get(&905_184), Some(&32));
    assert_eq!(rotated.get(&904_896), Some(&5));
    let c = counts(&engine);
    // Types 1, 4 and 6 verify at 904896 (pre-v20 modifier) and at 905184.
    for t in [1u8, 4, 6] {
        assert!(c[&t].0 >= 2, "type {t}: {:?}", c[&t]);
    }
    assert!(!engine.missing_list_heights().is_empty());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn qrinfo_900692_from_empty_state_applies_with_no_failed_quorum() {
    let headers = testnet_headers();
    let mut engine = MasternodeEngine::new(Network::Testnet);
    let report = engine
        .apply_qrinfo(&qrinfo("qrinfo_900692.bin"), &headers)
        .unwrap();
    assert_eq!(report.applied.len(), 7);
    let c = counts(&engine);
    assert!(c.values().all(|(_, failed, _)| *failed == 0), "{c:?}");
    assert!(c[&5].0 >= 1, "{c:?}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn clsig_905775_verifies_and_flipped_bits_fail() {
    let headers = testnet_headers();
    let mut engine = engine_with_905294(&headers);
    engine
        .apply_diff(&diff("mnlistdiff_0_905762.bin"), &headers)
        .unwrap();
    let clsig = clsig_905775();
    let check = engine.verify_chainlock(&clsig, &headers);
    assert_eq!(check.result, Ok(()));
    assert_eq!(check.on_header_chain, Some(true));
    assert_eq!(
        check.quorum.map(|(_, h)| h.to_string()).as_deref(),
        Some("0000000472494322447f539a0f784bf60f374899893a1d5312d920998f00c688")
    );

    let mut bad_sig = clsig;
    bad_sig.signature[40] ^= 1;
    assert!(!engine
        .verify_chainlock(&bad_sig, &headers)
        .signature_valid());
    let mut bad_hash = clsig;
    bad_hash.block_hash.0[0] ^= 1;
    let check = engine.verify_chainlock(&bad_hash, &headers);
    assert_eq!(check.result, Err(ChainLockFailure::InvalidSignature));
    assert_eq!(check.on_header_chain, Some(false));
    let mut bad_height = clsig;
    bad_height.height ^= 1;
    assert!(!engine
        .verify_chainlock(&bad_height, &headers)
        .signature_valid());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_coinbase_chainlock_of_the_csv_verifies() {
    // The quorums of the signatures at 907102 and later are in the lists the
    // diffs from 530000 give; their header is only in the native full chain.
    #[cfg(not(target_arch = "wasm32"))]
    let (headers, expected) = (support::testnet_headers_with_old(&[530_000]), 45);
    #[cfg(target_arch = "wasm32")]
    let (headers, expected) = (testnet_headers(), 36);
    let mut engine = MasternodeEngine::new(Network::Testnet);
    engine.set_max_lists(1000);
    for name in [
        "qrinfo_905294.bin",
        "qrinfo_905770.bin",
        "qrinfo_947248.bin",
    ] {
        engine.apply_qrinfo(&qrinfo(name), &headers).unwrap();
    }
    engine
        .apply_diff(&diff("mnlistdiff_0_905762.bin"), &headers)
        .unwrap();
    #[cfg(not(target_arch = "wasm32"))]
    for name in [
        "mnlistdiff_0_530000_LAYOUT70228.bin",
        "mnlistdiff_530000_907104.bin",
        "mnlistdiff_907104_907128.bin",
        "mnlistdiff_907128_907152.bin",
        "mnlistdiff_907152_907176.bin",
        "mnlistdiff_907176_907200.bin",
        "mnlistdiff_907200_907224.bin",
        "mnlistdiff_907224_907248.bin",
        "mnlistdiff_907248_907272.bin",
        "mnlistdiff_907272_907296.bin",
    ] {
        engine.apply_diff(&diff(name), &headers).unwrap();
    }
    let csv = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/testnet/clsig/clsigs_derived_from_cbtx.csv"
    ));
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let clsig = ClSig {
            height: fields[0].parse().unwrap(),
            block_hash: fields[1].parse().unwrap(),
            signature: hex::decode(fields[2]).unwrap().try_into().unwrap(),
        };
        let quorum: BlockHash = fields[5].parse().unwrap();
        if engine
            .quorum_record(LlmqType::LLMQ_50_60, &quorum)
            .is_none()
        {
            continue;
        }
        let check =
            engine.verify_chainlock_with_quorum(&clsig, LlmqType::LLMQ_50_60, &quorum, &headers);
        assert_eq!(check.result, Ok(()), "clsig at {}", fields[0]);
        // Selecting the quorum ourselves never contradicts it.
        let selected = engine.verify_chainlock(&clsig, &headers);
        assert!(
            matches!(
                selected.result,
                Ok(()) | Err(ChainLockFailure::MissingList { .. })
            ),
            "clsig at {}: {:?}",
            fields[0],
            selected.result
        );
        let mut flipped = clsig;
        flipped.signature[95] ^= 0x10;
        assert!(!engine
            .verify_chainlock_with_quorum(&flipped, LlmqType::LLMQ_50_60, &quorum, &headers)
            .signature_valid());
        checked += 1;
    }
    assert_eq!(checked, expected);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_changed_entry_is_a_merkle_root_mismatch_and_nothing_is_stored() {
    let headers = testnet_headers();
    let mut engine = MasternodeEngine::new(Network::Testnet);
    let mut d = diff("mnlistdiff_0_905762.bin");
    d.new_masternodes[7].is_valid ^= true;
    let err = engine.apply_diff(&d, &headers).unwrap_err();
    assert!(
        matches!(
            *err.error,
            EngineErrorKind::Diff(DiffError::MnListRoot { .. })
        ),
        "{err}"
    );
    assert_eq!(err.height, Some(905_762));
    assert!(engine.latest_list().is_none());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_changed_quorum_signature_is_caught() {
    let headers = testnet_headers();
    let mut engine = engine_with_905294(&headers);
    let list = engine.list_at(905_294).unwrap().clone();
    let quorum = list
        .quorums_of_type(LlmqType::LLMQ_60_75)
        .find(|q| {
            engine
                .quorum_record(q.llmq_type(), &q.quorum_hash())
                .is_some_and(|r| r.status.is_verified())
        })
        .unwrap();
    let mut commitment = quorum.commitment.clone();
    assert!(engine
        .verify_commitment(&commitment, &headers)
        .is_verified());
    commitment.quorum_sig[10] ^= 1;
    let status = engine.verify_commitment(&commitment, &headers);
    assert!(matches!(status, QuorumStatus::Failed(_)), "{status}");

    // Inside a diff, the changed commitment no longer hashes to the coinbase's root.
    let mut d = diff("mnlistdiff_0_905762.bin");
    d.new_quorums[3].quorum_sig[10] ^= 1;
    let err = engine.apply_diff(&d, &headers).unwrap_err();
    assert!(
        matches!(
            *err.error,
            EngineErrorKind::Diff(DiffError::QuorumsRoot { .. })
        ),
        "{err}"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_qrinfo_from_a_stale_fork_is_rejected_against_canonical_headers() {
    let headers = testnet_headers();
    let mut engine = MasternodeEngine::new(Network::Testnet);
    let err = engine
        .apply_qrinfo(&qrinfo("qrinfo_901668_on_stale_fork.bin"), &headers)
        .unwrap_err();
    assert!(
        matches!(*err.error, EngineErrorKind::Diff(DiffError::UnknownBlock)),
        "{err}"
    );
    assert!(engine.latest_list().is_none());
}

/// Needs the header at 530000, only in the 88 MB full chain file.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn chained_fixture_lists_raise_the_verified_count() {
    let headers = support::testnet_headers_with_old(&[530_000]);
    let mut engine = engine_with_905294(&headers);
    engine.set_max_lists(1000);
    let before = verified(&engine);
    engine
        .apply_diff(&diff("mnlistdiff_0_530000_LAYOUT70228.bin"), &headers)
        .unwrap();
    let mut chained: Vec<(u32, u32, &str)> = common::MNLISTDIFFS
        .iter()
        .filter_map(|(path, _)| heights(path).map(|(a, b)| (b, a, *path)))
        .filter(|(_, a, _)| *a != 0)
        .collect();
    chained.sort();
    let mut coinbase_chainlocks = 0;
    for (_, _, path) in chained {
        let report = engine.apply_diff(&diff(path), &headers).unwrap();
        // Every coinbase ChainLock that can be checked verifies.
        if let Some(check) = report.coinbase_chainlock_check {
            assert!(
                matches!(
                    check.result,
                    Ok(()) | Err(ChainLockFailure::MissingList { .. })
                ),
                "{path}: {:?}",
                check.result
            );
            coinbase_chainlocks += usize::from(check.signature_valid());
        }
    }
    assert!(coinbase_chainlocks >= 20, "{coinbase_chainlocks}");
    engine
        .apply_diff(&diff("mnlistdiff_0_905762.bin"), &headers)
        .unwrap();
    let after = verified(&engine);
    assert!(after > before + 50, "{before} -> {after}");
    let c = counts(&engine);
    assert!(c.values().all(|(_, failed, _)| *failed == 0), "{c:?}");
    // The ChainLock's own quorum is verified now too.
    let check = engine.verify_chainlock(&clsig_905775(), &headers);
    assert!(check.fully_verified(), "{check:?}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pruning_keeps_the_newest_list_and_the_rotation_work_lists() {
    let headers = testnet_headers();
    let mut engine = engine_with_905294(&headers);
    let verified_before: Vec<_> = engine
        .quorum_records()
        .filter(|r| r.status.is_verified())
        .map(|r| (r.llmq_type, r.quorum_hash))
        .collect();
    engine.set_max_lists(2);
    engine.prune();
    let heights: Vec<u32> = engine.list_heights().collect();
    assert_eq!(heights, [904_312, 904_600, 904_888, 905_176, 905_294]);
    assert!(engine.snapshot_heights().all(|h| h >= 904_320));
    for (llmq_type, hash) in verified_before {
        if let Some(record) = engine.quorum_record(llmq_type, &hash) {
            assert!(record.status.is_verified());
        }
    }
    // The ChainLock quorums of the newest list are still there to check with.
    engine
        .apply_diff(&diff("mnlistdiff_0_905762.bin"), &headers)
        .unwrap();
    assert!(engine
        .verify_chainlock(&clsig_905775(), &headers)
        .signature_valid());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_diff_without_its_base_list_names_the_list_to_fetch() {
    let headers = testnet_headers();
    let mut engine = MasternodeEngine::new(Network::Testnet);
    let err = engine
        .apply_diff(&diff("mnlistdiff_905496_905522.bin"), &headers)
        .unwrap_err();
    assert!(err.is_missing_base(), "{err}");
    assert!(
        matches!(
            *err.error,
            EngineErrorKind::Diff(DiffError::MissingBaseList {
                height: 905_496,
                ..
            })
        ),
        "{err}"
    );
    // Applied on its base, the same diff is accepted; on the wrong base it does not fit.
    let mut base = apply_diff(&empty(), &diff("mnlistdiff_0_905762.bin"), 905_762, |_| {
        None
    })
    .unwrap();
    base.block_hash = BlockHash::ZERO;
    let d = diff("mnlistdiff_905496_905522.bin");
    let wrong = apply_diff(&base, &d, 905_522, |_| None);
    assert!(
        wrong.map_or(true, |l| l.merkle_root_mn_list()
            != d.coinbase_payload().merkle_root_mn_list),
        "a diff on the wrong base must not reproduce the coinbase's root"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn verified_quorums_have_signers_with_legacy_and_basic_operator_keys() {
    let headers = testnet_headers();
    let mut engine = engine_with_905294(&headers);
    let verified: Vec<(LlmqType, BlockHash)> = engine
        .quorum_records()
        .filter(|r| r.status.is_verified())
        .map(|r| (r.llmq_type, r.quorum_hash))
        .collect();
    let (mut legacy, mut basic) = (0, 0);
    for (llmq_type, hash) in verified {
        let commitment = engine
            .list_at(905_294)
            .and_then(|l| l.quorum(llmq_type, &hash).cloned())
            .or_else(|| {
                engine
                    .list_at(905_176)
                    .and_then(|l| l.quorum(llmq_type, &hash).cloned())
            });
        let Some(commitment) = commitment else {
            continue;
        };
        let (members, _) = engine.quorum_members(llmq_type, &hash, &headers).unwrap();
        for (i, member) in members.iter().enumerate() {
            if commitment.commitment.signers.get(i) {
                if member.sml.uses_legacy_bls() {
                    legacy += 1;
                } else {
                    basic += 1;
                }
            }
        }
    }
    // Secure aggregation sorts keys by their basic encoding, so keys read from
    // legacy (version 1) entries must decode to the right points for these to verify.
    assert!(
        legacy > 100 && basic > 100,
        "legacy {legacy}, basic {basic}"
    );
}
