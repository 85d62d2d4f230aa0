//! InstantSend locks (`isdlock`) against real vectors (provenance in
//! `tests/vectors/README.md`), and lock verification against the real testnet
//! lists of the fixtures.
//!
//! Not covered by real data: no public lock comes with the signing quorum's
//! key, so no real lock verifies end to end (what was searched is in
//! `tests/vectors/README.md`). The BLS path a lock takes
//! (`llmq::signing::verify_quorum_signature`) is checked here with a real
//! quorum key and a real ChainLock signature, and Dash Core's retry with the
//! previous cycle's quorum set runs on the real testnet quorum sets with real
//! locks moved to those cycles (so it is seen to consult the right quorums,
//! never to succeed).

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod support;

use dashlight::chain::{HeaderLookup, HeaderMap};
use dashlight::encode::{deserialize, serialize};
use dashlight::hash::{BlockHash, Sha256dHash};
use dashlight::llmq::hashes::{rotated_signer_index, sign_hash};
use dashlight::llmq::signing::{verify_quorum_signature, QuorumSignatureFailure};
use dashlight::llmq::LlmqType;
use dashlight::mnlist::{InstantLockFailure, KeySource};
use dashlight::protocol::isdlock::InstantLock;

/// dashpay/dash `src/test/evo_islock_tests.cpp` @ 7902bc36.
const DASH_CORE_LOCK: &str = "0101497915895c30eebfad0c5fcfb9e0e72308c7e92cd3749be2fd49c8320c4c58b6010000005b9d05c613c2a5f8ca60800f65f47f46bebbc934571b9ceae813a6ff8e96337bd674ea572a713d6b07deef085b9ce97e1e354055b91b0bbd0b00000000000000997d0b36738a9eef46ceeb4405998ff7235317708f277402799ffe05258015cae9b6bae43683f992b2f50f70f8f0cb9c0f26af340b00903e93995c1345d1b2c5b697ebecdbe5811dd112e11889101dcb4553b2bc206ab304026b96c07dec4f24";
/// dashpay/rust-dashcore `message_request_verification.rs` @ 7cc3b050.
const RUST_DASHCORE_LOCK: &str = "01018d53e7997ead57409750942af0d5e0aafc06f852a9a52308f4781b6a8220298f00000000c6f9d8c63dd15937ea70aaddb7890daad42c91bf6818e2bf76d183d6f2d9215b4b5f84978fad9dde7ab52bdcc0674be891e9029cc1ef0cb01200000000000000a27c98836c4c04653ab81eb4e07ddfc2c8c2c1036b75247969c05a4f25451cd78913a971f1899d9f2bddec9cf8e0104004f72f20c2856453e5aa3bcd2a8200670ec28feda38f67cc400fc72ef1966956656ec0765478c9d16e9a9e470c07f9ed";
/// dashpay/rust-dashcore `message_request_verification.rs` @ f9cc6b20: a lock
/// of the same cycle as [`DASH_CORE_LOCK`], which rust-dashcore verified
/// against quorum index 4, `0000000000000019756e…`.
const RUST_DASHCORE_LOCK_INDEX_4: &str = "010133c404bebbf34c153816d26553bcec8c9b876354a68b952ab2c1c514c04baf9800000000578de219b47300c1d43985e1ee7af2faa773b87729df3cb48f2c522937c7b070d674ea572a713d6b07deef085b9ce97e1e354055b91b0bbd0b00000000000000a846486b3f75da24e3d04b62eadd7dffe589736f13ab222c208d0f3880dce5d287b8542dc1e1f0e271749e70e939262704f8611aafcdeb20ed70c5bc78fdf737a1bd6409d061fcf6a591b117ada7ba92567959544c090a05cdd955268d22be6b";
/// dashpay/dashj `InstantSendLockTest.java` @ 86a5fed4.
const DASHJ_ISDLOCK: &str = "0101a13402f343c05e8a6cd1255dc10446f9af507d02a366fbb1df4ef7130633c6b501000000f2a984e019605164b62b08a559789ac15e8d93ff6b041ffeef3457fb689413fc1c7c0b2ac5ebca64f80c0151a152612b23396193880b8f6856e9cbcc0501000082432a71e87357d9609c659d32cbf3bfb65ccce2337d08ab1485c32799491112509cd7c8e1cd40bdc814bf1eff868dc80f3fac74e37754eb19a5883d5721875a98dd3ea3112c3c52091852348351479b4d32a98d41200080532ed233a0aa355e";

fn lock(hex_str: &str) -> (Vec<u8>, InstantLock) {
    let bytes = hex::decode(hex_str).unwrap();
    let lock = deserialize(&bytes).unwrap();
    (bytes, lock)
}

fn display(hash: &str) -> BlockHash {
    hash.parse().unwrap()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn dash_core_lock_decodes_byte_exact_with_its_sign_hash() {
    let (bytes, lock) = lock(DASH_CORE_LOCK);
    assert_eq!(serialize(&lock), bytes);
    assert_eq!(lock.version, 1);
    assert_eq!(
        lock.txid.to_string(),
        "7b33968effa613e8ea9c1b5734c9bbbe467ff4650f8060caf8a5c213c6059d5b"
    );
    assert_eq!(
        lock.cycle_hash.to_string(),
        "000000000000000bbd0b1bb95540351e7ee99c5b08efde076b3d712a57ea74d6"
    );
    assert_eq!(lock.inputs.len(), 1);
    assert_eq!(
        lock.inputs[0].txid.to_string(),
        "b6584c0c32c849fde29b74d32ce9c70823e7e0b9cf5f0cadbfee305c89157949"
    );
    assert_eq!(lock.inputs[0].vout, 1);
    assert_eq!(
        hex::encode(lock.signature),
        "997d0b36738a9eef46ceeb4405998ff7235317708f277402799ffe05258015cae9b6bae43683f992b2f50f70f8f0cb9c0f26af340b00903e93995c1345d1b2c5b697ebecdbe5811dd112e11889101dcb4553b2bc206ab304026b96c07dec4f24"
    );
    let quorum = display("0000000000000019756ecc9c9c5f476d3f66876b1dcfa5dde1ea82f0d99334a2");
    let hash = sign_hash(
        LlmqType::LLMQ_60_75,
        &quorum,
        &lock.request_id(),
        lock.txid.as_bytes(),
    );
    assert_eq!(
        hash.to_string(),
        "6a3c37bc610c4efd5babd8941068a8eca9e7bec942fe175b8ca9cae31b67e838"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rust_dashcore_lock_has_its_request_id_quorum_index_and_sign_id() {
    let (bytes, lock) = lock(RUST_DASHCORE_LOCK);
    assert_eq!(serialize(&lock), bytes);
    let request_id = lock.request_id();
    assert_eq!(
        hex::encode(request_id.0),
        "481ca36cf80fde8fda333915e33c27014dad65fa9f3b54bc4d8bc45be7c81ddf"
    );
    let params = LlmqType::LLMQ_60_75.params().unwrap();
    assert_eq!(
        rotated_signer_index(params.signing_active_quorum_count, &request_id),
        23
    );
    let quorum = display("00000000000000197368b224f2f01031991dd07aad0b43b2293a51fce8853ba0");
    let sign_id: Sha256dHash = sign_hash(
        LlmqType::LLMQ_60_75,
        &quorum,
        &request_id,
        lock.txid.as_bytes(),
    );
    assert_eq!(
        hex::encode(sign_id.0),
        "6fcbf58004b118d865a448bf89d9299c64d4ecedd754dabec655090224de91cd"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_second_rust_dashcore_lock_selects_quorum_4_of_the_dash_core_locks_cycle() {
    let (_, core_lock) = lock(DASH_CORE_LOCK);
    let (bytes, lock) = lock(RUST_DASHCORE_LOCK_INDEX_4);
    assert_eq!(serialize(&lock), bytes);
    assert_eq!(lock.cycle_hash, core_lock.cycle_hash);
    let request_id = lock.request_id();
    // rust-dashcore states request and sign ids in raw byte order.
    assert_eq!(
        hex::encode(request_id.0),
        "94dd5c8d946cb34dda43ebf424b385ae898159827385a48d8b1fae15dbf21a12"
    );
    let params = LlmqType::LLMQ_60_75.params().unwrap();
    assert_eq!(
        rotated_signer_index(params.signing_active_quorum_count, &request_id),
        4
    );
    let quorum = display("0000000000000019756ecc9c9c5f476d3f66876b1dcfa5dde1ea82f0d99334a2");
    let sign_id = sign_hash(
        LlmqType::LLMQ_60_75,
        &quorum,
        &request_id,
        lock.txid.as_bytes(),
    );
    assert_eq!(
        hex::encode(sign_id.0),
        "0eaeba3a982f59144913b8d8150b2dfbb2dd2ba43bbcb54a3964a0d8d7ead62b"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_dash_core_lock_selects_index_29_so_the_quorum_of_its_sign_hash_vector_did_not_sign_it() {
    let (_, lock) = lock(DASH_CORE_LOCK);
    let request_id = lock.request_id();
    // rust-dashcore @ 3d823751 states this request id (raw byte order).
    assert_eq!(
        hex::encode(request_id.0),
        "dc77845e6592b624514eb8fb2297e03e3809a8b1cc9fdaa92f826955fe2689f6"
    );
    // Dash Core's test computes a sign hash with `0000000000000019756e…`,
    // the cycle's quorum 4 (see above); this lock selects quorum 29.
    let params = LlmqType::LLMQ_60_75.params().unwrap();
    assert_eq!(
        rotated_signer_index(params.signing_active_quorum_count, &request_id),
        29
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn dashj_isdlock_has_its_hash_and_request_id() {
    let (bytes, lock) = lock(DASHJ_ISDLOCK);
    assert_eq!(serialize(&lock), bytes);
    assert_eq!(
        lock.hash().to_string(),
        "fc3f6eec219419b2cedb83e9eefd348b005766a0ea0ebf6bf4339ded8e087614"
    );
    // dashj states the request id in raw byte order.
    assert_eq!(
        hex::encode(lock.request_id().0),
        "26ce1d432cfb727f630c85b97a9c9e8be7911ca7c4f402023bb66e98da6aeb28"
    );
}

/// The dashj lock is a real testnet lock: its cycleHash is testnet block
/// 607152, a multiple of 24 but not of LLMQ_60_75's 288. Dash Core
/// (`NetInstantSend::ProcessMessage`) punishes a lock whose cycle block does
/// not start a cycle of the rotated InstantSend type, and so does the engine.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_dashj_testnet_lock_names_a_block_that_starts_no_rotation_cycle() {
    let headers = support::testnet_headers_with_old(&[607_152]);
    let engine = testnet_engine(&headers);
    let (_, lock) = lock(DASHJ_ISDLOCK);
    assert_eq!(headers.height_of(&lock.cycle_hash), Some(607_152));
    let check = engine.verify_instant_lock(&lock, &headers);
    assert_eq!(check.cycle_height, Some(607_152));
    assert_eq!(
        check.result,
        Err(InstantLockFailure::NotACycleStart { height: 607_152 })
    );
    assert!(check.provably_invalid());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_flipped_bit_in_any_field_changes_what_is_signed_or_fails_to_decode() {
    let (bytes, lock) = lock(DASH_CORE_LOCK);
    let quorum = display("0000000000000019756ecc9c9c5f476d3f66876b1dcfa5dde1ea82f0d99334a2");
    let signed = |l: &InstantLock| {
        (
            sign_hash(
                LlmqType::LLMQ_60_75,
                &quorum,
                &l.request_id(),
                l.txid.as_bytes(),
            ),
            l.cycle_hash,
            l.signature,
        )
    };
    let original = signed(&lock);
    for i in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[i] ^= 1;
        match deserialize::<InstantLock>(&flipped) {
            // Version and input count: another version, or the wrong length.
            Err(_) => assert!(i < 2, "byte {i}"),
            Ok(l) if i == 0 => assert_eq!(l.version, 0),
            Ok(l) => assert_ne!(signed(&l), original, "byte {i}"),
        }
    }
}

/// The testnet engine of the fixtures: QRInfo 905294 and the list at 905762.
fn testnet_engine(headers: &HeaderMap) -> dashlight::mnlist::MasternodeEngine {
    let mut engine = dashlight::mnlist::MasternodeEngine::new(dashlight::network::Network::Testnet);
    engine.apply_qrinfo(&qrinfo_905294(), headers).unwrap();
    engine.apply_diff(&diff_905762(), headers).unwrap();
    engine
}

fn qrinfo_905294() -> dashlight::protocol::qrinfo::QrInfo {
    let (path, bytes) = common::QRINFOS
        .iter()
        .find(|(p, _)| p.ends_with("qrinfo_905294.bin"))
        .unwrap();
    dashlight::protocol::qrinfo::QrInfo::from_payload(bytes, common::layout_version(path)).unwrap()
}

fn diff_905762() -> dashlight::protocol::mnlistdiff::MnListDiff {
    let (path, bytes) = common::MNLISTDIFFS
        .iter()
        .find(|(p, _)| p.ends_with("mnlistdiff_0_905762.bin"))
        .unwrap();
    dashlight::protocol::mnlistdiff::MnListDiff::from_payload(bytes, common::layout_version(path))
        .unwrap()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_mainnet_lock_on_testnet_names_its_unknown_cycle_and_is_not_punished() {
    let headers = support::testnet_headers();
    let engine = testnet_engine(&headers);
    let (_, lock) = lock(DASH_CORE_LOCK);
    let check = engine.verify_instant_lock(&lock, &headers);
    assert_eq!(
        check.result,
        Err(InstantLockFailure::UnknownCycle {
            cycle_hash: lock.cycle_hash
        })
    );
    assert!(!check.provably_invalid());
    assert_eq!(check.llmq_type, LlmqType::LLMQ_60_75);
    assert_eq!(check.txid, lock.txid);
    assert_eq!(check.outpoints, lock.inputs);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_lock_moved_to_a_testnet_cycle_fails_its_real_quorum_with_the_previous_one_unknown() {
    let headers = support::testnet_headers();
    let engine = testnet_engine(&headers);
    // The real lock (quorum index 23) with its cycleHash set to the testnet
    // cycle block 905184: the quorum at 905207 is real, proven and verified,
    // and did not sign it. The previous cycle's quorum 23 (at 904919) is in
    // none of these lists, so it may have signed: not provably invalid.
    let (_, mut lock) = lock(RUST_DASHCORE_LOCK);
    lock.cycle_hash = headers.hash_at(905_184).unwrap();
    let check = engine.verify_instant_lock(&lock, &headers);
    assert_eq!(check.quorum_index, 23);
    assert_eq!(check.cycle_height, Some(905_184));
    assert_eq!(check.result, Err(InstantLockFailure::InvalidSignature));
    assert_eq!(check.quorum_hash, headers.hash_at(905_184 + 23));
    assert!(check
        .quorum_status
        .as_ref()
        .is_some_and(|s| s.is_verified()));
    assert_eq!(check.quorums_checked, 1);
    assert!(!check.previous_cycle);
    assert!(!check.provably_invalid());

    // A block that does not start a cycle is provably wrong.
    lock.cycle_hash = headers.hash_at(905_185).unwrap();
    let check = engine.verify_instant_lock(&lock, &headers);
    assert_eq!(
        check.result,
        Err(InstantLockFailure::NotACycleStart { height: 905_185 })
    );
    assert!(check.provably_invalid());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_previous_cycles_quorum_is_tried_when_the_locks_cycle_lacks_it() {
    // Dash Core's second pass on real quorum sets: the lists hold only 5
    // quorums of the cycle at 904896 (not index 23) and all 32 of the cycle
    // at 904608. The real lock (index 23) moved to cycle 904896 is checked
    // against the real previous-cycle quorum 23, based at 904608 + 23.
    let headers = support::testnet_headers();
    let engine = testnet_engine(&headers);
    let (_, mut lock) = lock(RUST_DASHCORE_LOCK);
    lock.cycle_hash = headers.hash_at(904_896).unwrap();
    let own = headers.hash_at(904_896 + 23).unwrap();
    assert!(engine.proven_quorum(LlmqType::LLMQ_60_75, &own).is_err());
    let previous = headers.hash_at(904_608 + 23).unwrap();
    let proven = engine
        .proven_quorum(LlmqType::LLMQ_60_75, &previous)
        .unwrap();
    assert_eq!(proven.entry.commitment.quorum_index, 23);

    let check = engine.verify_instant_lock(&lock, &headers);
    assert_eq!(check.quorum_index, 23);
    assert_eq!(check.cycle_height, Some(904_896));
    assert_eq!(check.quorums_checked, 1);
    assert!(check.previous_cycle);
    assert_eq!(check.quorum_hash, Some(previous));
    assert_eq!(
        check.sign_hash,
        Some(sign_hash(
            LlmqType::LLMQ_60_75,
            &previous,
            &lock.request_id(),
            lock.txid.as_bytes(),
        ))
    );
    assert_eq!(check.result, Err(InstantLockFailure::InvalidSignature));
    // The lock's own cycle's quorum is unknown, so it may have signed.
    assert!(!check.provably_invalid());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_lock_failing_both_cycles_real_quorums_is_provably_invalid() {
    // The real lock of index 29 moved to cycle 905472: its quorum 29 there
    // (proven by the list at 905762) and the previous cycle's quorum 29 at
    // 905213 (proven and BLS-verified) are both real, and neither signed it.
    let headers = support::testnet_headers();
    let engine = testnet_engine(&headers);
    let (_, mut lock) = lock(DASH_CORE_LOCK);
    lock.cycle_hash = headers.hash_at(905_472).unwrap();
    for height in [905_472 + 29, 905_184 + 29] {
        let hash = headers.hash_at(height).unwrap();
        let quorum = engine.proven_quorum(LlmqType::LLMQ_60_75, &hash).unwrap();
        assert_eq!(quorum.entry.commitment.quorum_index, 29, "{height}");
    }
    let check = engine.verify_instant_lock(&lock, &headers);
    assert_eq!(check.quorum_index, 29);
    assert_eq!(check.quorums_checked, 2);
    assert!(check.previous_cycle);
    assert_eq!(check.quorum_hash, headers.hash_at(905_184 + 29));
    assert!(check
        .quorum_status
        .as_ref()
        .is_some_and(|s| s.is_verified()));
    assert_eq!(check.result, Err(InstantLockFailure::InvalidSignature));
    assert!(check.provably_invalid());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_lock_signature_path_verifies_a_real_quorum_signature() {
    // The BLS path of every lock, on the real ChainLock 905775 and the real
    // key of its LLMQ_50_60 quorum from the list at 905762.
    let headers = support::testnet_headers();
    let engine = testnet_engine(&headers);
    let clsig: dashlight::protocol::chainlock::ClSig = deserialize(common::CLSIG_905775).unwrap();
    let quorum_hash = display("0000000472494322447f539a0f784bf60f374899893a1d5312d920998f00c688");
    let quorum = engine
        .proven_quorum(LlmqType::LLMQ_50_60, &quorum_hash)
        .unwrap();
    let request_id = dashlight::llmq::hashes::chainlock_request_id(clsig.height);
    let hash = sign_hash(
        LlmqType::LLMQ_50_60,
        &quorum_hash,
        &request_id,
        clsig.block_hash.as_bytes(),
    );
    let scheme = dashlight::bls::Scheme::Basic;
    let commitment = &quorum.entry.commitment;
    assert_eq!(
        verify_quorum_signature(commitment, &hash, &clsig.signature, scheme),
        Ok(())
    );
    let mut bad = clsig.signature;
    bad[50] ^= 1;
    assert!(verify_quorum_signature(commitment, &hash, &bad, scheme).is_err());
    let mut other = hash;
    other.0[0] ^= 1;
    assert_eq!(
        verify_quorum_signature(commitment, &other, &clsig.signature, scheme),
        Err(QuorumSignatureFailure::InvalidSignature)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_qrinfo_loose_commitment_with_another_key_is_ignored() {
    let headers = support::testnet_headers();
    let mut qrinfo = qrinfo_905294();
    let count = qrinfo.last_commitment_per_index.len();
    assert!(count > 0);
    // Each entry carries another (real) quorum's public key.
    let keys: Vec<[u8; 48]> = qrinfo
        .last_commitment_per_index
        .iter()
        .map(|c| c.quorum_public_key)
        .collect();
    for (i, c) in qrinfo.last_commitment_per_index.iter_mut().enumerate() {
        c.quorum_public_key = keys[(i + 1) % count];
    }
    let honest = testnet_engine(&headers);
    let mut engine = dashlight::mnlist::MasternodeEngine::new(dashlight::network::Network::Testnet);
    let report = engine.apply_qrinfo(&qrinfo, &headers).unwrap();
    assert_eq!(report.conflicting_commitments.len(), count);
    engine.apply_diff(&diff_905762(), &headers).unwrap();
    // Every key the engine hands out is the proven list's.
    for c in &qrinfo.last_commitment_per_index {
        let llmq_type = LlmqType(c.llmq_type);
        let tampered = engine.proven_quorum(llmq_type, &c.quorum_hash).unwrap();
        let proven = honest.proven_quorum(llmq_type, &c.quorum_hash).unwrap();
        assert_ne!(
            tampered.entry.commitment.quorum_public_key,
            c.quorum_public_key
        );
        assert_eq!(tampered.entry, proven.entry);
        assert!(matches!(tampered.source, KeySource::List { .. }));
        assert_eq!(
            engine
                .quorum_record(llmq_type, &c.quorum_hash)
                .map(|r| &r.status),
            honest
                .quorum_record(llmq_type, &c.quorum_hash)
                .map(|r| &r.status)
        );
    }
    // Locks and ChainLocks select and verify with the same keys.
    let (_, mut lock) = lock(RUST_DASHCORE_LOCK);
    lock.cycle_hash = headers.hash_at(905_184).unwrap();
    assert_eq!(
        engine.verify_instant_lock(&lock, &headers),
        honest.verify_instant_lock(&lock, &headers)
    );
    let clsig: dashlight::protocol::chainlock::ClSig = deserialize(common::CLSIG_905775).unwrap();
    let check = engine.verify_chainlock(&clsig, &headers);
    assert_eq!(check.result, Ok(()));
    assert_eq!(check, honest.verify_chainlock(&clsig, &headers));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_single_bit_flip_in_any_loose_commitment_is_noticed_and_ignored() {
    let headers = support::testnet_headers();
    let honest = testnet_engine(&headers);
    for field in 0..3 {
        let mut qrinfo = qrinfo_905294();
        for c in &mut qrinfo.last_commitment_per_index {
            match field {
                0 => c.quorum_public_key[10] ^= 1,
                1 => c.quorum_sig[20] ^= 1,
                _ => c.members_sig[30] ^= 1,
            }
        }
        let count = qrinfo.last_commitment_per_index.len();
        let mut engine =
            dashlight::mnlist::MasternodeEngine::new(dashlight::network::Network::Testnet);
        let report = engine.apply_qrinfo(&qrinfo, &headers).unwrap();
        assert_eq!(report.conflicting_commitments.len(), count, "field {field}");
        engine.apply_diff(&diff_905762(), &headers).unwrap();
        for c in &qrinfo.last_commitment_per_index {
            let llmq_type = LlmqType(c.llmq_type);
            assert_eq!(
                engine
                    .proven_quorum(llmq_type, &c.quorum_hash)
                    .unwrap()
                    .entry,
                honest
                    .proven_quorum(llmq_type, &c.quorum_hash)
                    .unwrap()
                    .entry
            );
        }
    }
}
