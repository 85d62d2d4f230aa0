//! Platform quorum keys from the real testnet lists of the fixtures.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod support;

use dashlight::chain::HeaderMap;
use dashlight::llmq::LlmqType;
use dashlight::mnlist::{KeyUnavailable, MasternodeEngine, QuorumStatus};
use dashlight::network::Network;
use dashlight::platform::{platform_quorums, quorum_public_key};
use dashlight::protocol::qrinfo::QrInfo;

fn engine(headers: &HeaderMap) -> MasternodeEngine {
    let (path, bytes) = common::QRINFOS
        .iter()
        .find(|(p, _)| p.ends_with("qrinfo_905294.bin"))
        .unwrap();
    let qrinfo = QrInfo::from_payload(bytes, common::layout_version(path)).unwrap();
    let mut engine = MasternodeEngine::new(Network::Testnet);
    engine.apply_qrinfo(&qrinfo, headers).unwrap();
    engine
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn platform_quorums_lists_only_verified_llmq_25_67_quorums() {
    let headers = support::testnet_headers();
    let engine = engine(&headers);
    let quorums = platform_quorums(&engine).unwrap();
    assert_eq!(quorums.llmq_type, LlmqType::LLMQ_25_67.0);
    assert!(quorums.current.success && quorums.previous.success);
    assert!(!quorums.current.data.is_empty());
    let newest = engine.latest_list().unwrap();
    let held = newest.quorums_of_type(LlmqType::LLMQ_25_67).count();
    let verified = newest
        .quorums_of_type(LlmqType::LLMQ_25_67)
        .filter(|q| {
            engine
                .quorum_record(LlmqType::LLMQ_25_67, &q.quorum_hash())
                .is_some_and(|r| r.status.is_verified())
        })
        .count();
    assert_eq!(quorums.current.data.len(), verified);
    assert!(verified < held, "some quorums of the list are not verified");
    for q in quorums
        .current
        .data
        .iter()
        .chain(&quorums.previous.data.quorums)
    {
        let hash = q.quorum_hash.parse().unwrap();
        let record = engine.quorum_record(LlmqType::LLMQ_25_67, &hash).unwrap();
        assert!(record.status.is_verified());
        assert_eq!(record.height, Some(q.height));
        assert_eq!(q.key.len(), 96);
        let key = quorum_public_key(&engine, LlmqType::LLMQ_25_67, &hash).unwrap();
        assert_eq!(hex::encode(key), q.key);
        assert!(q.valid_members_count > 0 && q.valid_members_count <= 25);
    }
    // An unverified quorum has no key, and says why.
    let unverified = newest
        .quorums_of_type(LlmqType::LLMQ_25_67)
        .find(|q| {
            !engine
                .quorum_record(LlmqType::LLMQ_25_67, &q.quorum_hash())
                .unwrap()
                .status
                .is_verified()
        })
        .unwrap();
    let why =
        quorum_public_key(&engine, LlmqType::LLMQ_25_67, &unverified.quorum_hash()).unwrap_err();
    assert!(matches!(
        why,
        KeyUnavailable::NotVerified(Some(QuorumStatus::NotVerifiable(_)))
    ));
    assert!(why.to_string().contains("not verified"));
    let unknown = dashlight::hash::BlockHash([7; 32]);
    assert_eq!(
        quorum_public_key(&engine, LlmqType::LLMQ_25_67, &unknown),
        Err(KeyUnavailable::Unknown)
    );
}
