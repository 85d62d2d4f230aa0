//! Every real payload in ../shared/fixtures decodes, re-encodes to exactly the
//! same bytes, and carries the values other clients report for it.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::{
    layout_version, CLSIG_905775, FORK_HEADERS_899760, HEADERS_898560, MNLISTDIFFS, QRINFOS,
};
use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::encode::{deserialize, serialize};
use dashlight::hash::BlockHash;
use dashlight::network::Network;
use dashlight::protocol::chainlock::ClSig;
use dashlight::protocol::coinbase::{CoinbasePayload, CoinbaseTransaction};
use dashlight::protocol::commitment::QuorumCommitment;
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder};
use dashlight::protocol::headers::MAX_HEADERS;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::net_info::{
    ExtNetInfo, NetAddress, NetInfo, NetInfoEntry, PurposeEntries, BIP155_IPV4, BIP155_IPV6,
    PURPOSE_CORE_P2P,
};
use dashlight::protocol::qrinfo::QrInfo;
use dashlight::protocol::sml_entry::{SmlEntry, SML_ENTRY_VERSION_EXT_ADDR};
use dashlight::protocol::{NetworkMessage, PROTOCOL_VERSION};
use std::collections::BTreeMap;
use std::net::IpAddr;

fn diff(name: &str) -> MnListDiff {
    let (path, bytes) = MNLISTDIFFS
        .iter()
        .find(|(path, _)| path.ends_with(name))
        .unwrap_or_else(|| panic!("no fixture {name}"));
    MnListDiff::from_payload(bytes, layout_version(path)).unwrap()
}

fn qrinfo(name: &str) -> QrInfo {
    let (path, bytes) = QRINFOS
        .iter()
        .find(|(path, _)| path.ends_with(name))
        .unwrap_or_else(|| panic!("no fixture {name}"));
    QrInfo::from_payload(bytes, layout_version(path)).unwrap()
}

fn entry_versions(entries: &[SmlEntry]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for e in entries {
        *counts.entry(e.version).or_insert(0) += 1;
    }
    counts
}

fn hash(display: &str) -> BlockHash {
    display.parse().unwrap()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_mnlistdiff_round_trips() {
    for (path, bytes) in MNLISTDIFFS {
        let version = layout_version(path);
        let diff =
            MnListDiff::from_payload(bytes, version).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&diff.to_payload(version), bytes, "{path}");
        // The file name states the target height.
        let target = path
            .trim_end_matches(".bin")
            .trim_end_matches("_LAYOUT70228")
            .rsplit('_')
            .next()
            .and_then(|h| h.parse::<u32>().ok())
            .unwrap();
        assert_eq!(diff.coinbase_height(), target, "{path}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_qrinfo_round_trips() {
    for (path, bytes) in QRINFOS {
        let version = layout_version(path);
        let info = QrInfo::from_payload(bytes, version).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&info.to_payload(version), bytes, "{path}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn testnet_full_list_at_905762_matches_other_clients() {
    let d = diff("mnlistdiff_0_905762.bin");
    assert_eq!(d.coinbase_height(), 905_762);
    assert_eq!(d.base_block_hash, Network::Testnet.genesis_hash());
    assert_eq!(d.new_quorums.len(), 109);
    assert_eq!(
        entry_versions(&d.new_masternodes),
        BTreeMap::from([(1, 464), (2, 51)])
    );
    assert!(d
        .new_masternodes
        .iter()
        .all(|e| e.version == 2 || !e.is_evo()));
    assert_eq!(d.coinbase_payload().version, 3);
    assert!(d.coinbase_tx.transaction().is_coinbase());
    // The ChainLock fixture's quorum is among the new quorums.
    let quorum = hash("0000000472494322447f539a0f784bf60f374899893a1d5312d920998f00c688");
    assert!(d
        .new_quorums
        .iter()
        .any(|q| q.llmq_type == 1 && q.quorum_hash == quorum));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn mainnet_list_mixes_entry_versions() {
    let d = diff("mnlistdiff_0_2028691.bin");
    assert_eq!(d.coinbase_height(), 2_028_691);
    assert_eq!(d.base_block_hash, Network::Mainnet.genesis_hash());
    assert_eq!(
        entry_versions(&d.new_masternodes),
        BTreeMap::from([(1, 3225), (2, 612)])
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_70228_layout_puts_the_version_after_the_coinbase() {
    let (path, bytes) = MNLISTDIFFS
        .iter()
        .find(|(path, _)| path.contains("_LAYOUT70228"))
        .unwrap();
    let d = MnListDiff::from_payload(bytes, 70228).unwrap();
    assert_eq!(d.coinbase_height(), 530_000, "{path}");
    assert_eq!(d.to_payload(70228), *bytes);
    assert!(MnListDiff::from_payload(bytes, 70230).is_err());
    // Re-encoded in the current layout it decodes as such.
    let current = d.to_payload(70230);
    assert_eq!(MnListDiff::from_payload(&current, 70230), Ok(d));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_supported_layout_round_trips_a_real_diff() {
    // Every entry of the 530000 list is version 1, so no layout loses data.
    let (_, bytes) = MNLISTDIFFS
        .iter()
        .find(|(path, _)| path.contains("_LAYOUT70228"))
        .unwrap();
    let d = MnListDiff::from_payload(bytes, 70228).unwrap();
    let entries = d.new_masternodes.len();
    for version in [70216, 70225, 70227, 70228, 70229, 70230, 70238] {
        let payload = d.to_payload(version);
        assert_eq!(MnListDiff::from_payload(&payload, version).as_ref(), Ok(&d));
        let expected = match version {
            // No diff version, entries without versions.
            70216 => bytes.len() - 2 - 2 * entries,
            // Entries without versions.
            70225 | 70227 => bytes.len() - 2 * entries,
            70228 | 70229 => bytes.len(),
            // An empty quorumsCLSigs list.
            _ => bytes.len() + 1,
        };
        assert_eq!(payload.len(), expected, "{version}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn qrinfo_structure_matches_the_fixtures_readme() {
    for (path, _) in QRINFOS {
        let name = path.rsplit('/').next().unwrap();
        let info = qrinfo(name);
        let extra = info.extra_share.as_ref().expect("extraShare");
        assert_eq!(info.named_diffs().len(), 6);
        assert_eq!(info.named_snapshots().len(), 4);
        // h, h-c, ..., h-4c are one 288-block cycle apart.
        let heights: Vec<u32> = info.named_diffs()[1..]
            .iter()
            .map(|(_, d)| d.coinbase_height())
            .collect();
        for pair in heights.windows(2) {
            assert_eq!(pair[0] - pair[1], 288, "{path}");
        }
        assert_eq!(extra.diff_h_minus_4c.coinbase_height(), heights[4]);
        assert_eq!(info.last_commitment_per_index.len(), 32, "{path}");
        assert!(info
            .last_commitment_per_index
            .iter()
            .all(|c| c.is_indexed()));
        assert_eq!(
            info.quorum_snapshot_list.len(),
            info.mn_list_diff_list.len(),
            "{path}"
        );
    }
    let genesis = Network::Testnet.genesis_hash();
    for name in ["qrinfo_905294.bin", "qrinfo_900692.bin"] {
        let info = qrinfo(name);
        assert!(info
            .named_diffs()
            .iter()
            .all(|(_, d)| d.base_block_hash == genesis));
    }
    let info = qrinfo("qrinfo_905294.bin");
    assert_eq!(info.diff_tip.coinbase_height(), 905_294);
    assert_eq!(info.diff_tip.new_quorums.len(), 109);
    let tip = qrinfo("qrinfo_947248.bin").diff_tip;
    assert_eq!(tip.coinbase_height(), 947_248);
    let fork = qrinfo("qrinfo_901668_on_stale_fork.bin");
    assert_eq!(fork.diff_tip.coinbase_height(), 901_668);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn clsig_fixture_decodes() {
    let clsig: ClSig = deserialize(CLSIG_905775).unwrap();
    assert_eq!(clsig.height, 905_775);
    assert_eq!(serialize(&clsig), CLSIG_905775);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn coinbase_best_chainlocks_match_the_derived_list() {
    let csv = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/testnet/clsig/clsigs_derived_from_cbtx.csv"
    ));
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (cl_height, sig, at_height, source) = (cols[0], cols[2], cols[3], cols[4]);
        let Some(name) = source.strip_prefix("testnet/mnlistdiff/") else {
            continue;
        };
        let d = diff(name);
        assert_eq!(d.coinbase_height().to_string(), at_height);
        let (height, signature) = d.coinbase_payload().best_chainlock().unwrap();
        assert_eq!(height.to_string(), cl_height, "{name}");
        assert_eq!(hex::encode(signature), sig, "{name}");
        checked += 1;
    }
    assert!(checked > 30);
}

/// `headers` messages of up to 2,000 headers each, built from a raw header file.
fn headers_messages(raw: &[u8]) -> Vec<RawMessage> {
    raw.chunks(MAX_HEADERS * HEADER_SIZE)
        .map(|chunk| {
            let mut payload = Vec::new();
            dashlight::encode::write_compact_size(&mut payload, (chunk.len() / HEADER_SIZE) as u64);
            for header in chunk.chunks(HEADER_SIZE) {
                payload.extend_from_slice(header);
                payload.push(0);
            }
            RawMessage {
                command: Command::new("headers"),
                payload,
            }
        })
        .collect()
}

/// Decodes `headers` messages, checks each re-encodes exactly, and returns the headers.
fn decode_headers_messages(messages: &[RawMessage]) -> Vec<BlockHeader> {
    let mut all = Vec::new();
    for raw in messages {
        let message = NetworkMessage::from_raw(raw, PROTOCOL_VERSION).unwrap();
        assert_eq!(message.encode(PROTOCOL_VERSION), *raw);
        let NetworkMessage::Headers(headers) = message else {
            panic!("not headers: {message:?}");
        };
        all.extend(headers);
    }
    all
}

fn assert_linked(headers: &[BlockHeader]) {
    for pair in headers.windows(2) {
        assert_eq!(pair[1].prev_blockhash, pair[0].block_hash());
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn header_fixtures_decode_as_headers_messages_and_link_by_x11() {
    let main = decode_headers_messages(&headers_messages(HEADERS_898560));
    let fork = decode_headers_messages(&headers_messages(FORK_HEADERS_899760));
    assert_eq!((main.len(), fork.len()), (48_689, 2_561));
    assert_linked(&main);
    assert_linked(&fork);
    // The fork shares blocks up to 899,759 with the main chain.
    assert_eq!(fork[0].prev_blockhash, main[899_759 - 898_560].block_hash());
    assert_ne!(fork[0], main[899_760 - 898_560]);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_stream_of_real_messages_is_framed_and_decoded_in_any_chunks() {
    let mut messages = headers_messages(&HEADERS_898560[..3000 * HEADER_SIZE]);
    messages.push(RawMessage {
        command: Command::new("mnlistdiff"),
        payload: MNLISTDIFFS[1].1.to_vec(),
    });
    messages.push(RawMessage {
        command: Command::new("qrinfo"),
        payload: QRINFOS[0].1.to_vec(),
    });
    messages.push(RawMessage {
        command: Command::new("clsig"),
        payload: CLSIG_905775.to_vec(),
    });
    let wire: Vec<u8> = messages
        .iter()
        .flat_map(|m| m.to_wire(Network::Testnet))
        .collect();
    for chunk_size in [1, 7, 24, 1000, 65_536, wire.len()] {
        let mut decoder = StreamDecoder::new(Network::Testnet);
        let mut got = Vec::new();
        for chunk in wire.chunks(chunk_size) {
            decoder.feed(chunk);
            while let Some(raw) = decoder.next_message().unwrap() {
                got.push(raw);
            }
        }
        assert_eq!(got, messages, "chunks of {chunk_size}");
    }
    for raw in &messages {
        let message = NetworkMessage::from_raw(raw, PROTOCOL_VERSION).unwrap();
        assert_eq!(message.command(), raw.command);
        assert_eq!(message.encode(PROTOCOL_VERSION), *raw);
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn full_chain_starts_at_genesis_and_links() {
    use std::io::Read;
    let mut file = std::fs::File::open(common::fixture_path(
        "testnet/full_chain/testnet_headers_0_1100000.bin",
    ))
    .unwrap();
    let mut raw = vec![0u8; 5000 * HEADER_SIZE];
    file.read_exact(&mut raw).unwrap();
    let headers = decode_headers_messages(&headers_messages(&raw));
    assert_eq!(headers[0].block_hash(), Network::Testnet.genesis_hash());
    assert_linked(&headers);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn fixture_lists_are_complete() {
    for (dir, list) in [
        ("testnet/mnlistdiff", MNLISTDIFFS),
        ("mainnet/p70230", MNLISTDIFFS),
        ("testnet/qrinfo", QRINFOS),
    ] {
        for file in std::fs::read_dir(common::fixture_path(dir)).unwrap() {
            let file_name = file.unwrap().file_name().to_string_lossy().into_owned();
            // The mainnet folder holds both kinds.
            let list = if file_name.starts_with("qrinfo_") {
                QRINFOS
            } else {
                list
            };
            let name = format!("{dir}/{file_name}");
            assert!(
                list.iter().any(|(path, _)| *path == name),
                "{name} not listed"
            );
        }
    }
}

/// A real list with every entry re-encoded as version 3 (its address as the one
/// Core P2P entry of extended network info): the diff round-trips byte for byte
/// and keeps each entry's address.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_real_diff_re_encoded_with_version_3_entries_round_trips() {
    let mut d = diff("mnlistdiff_0_905762.bin");
    let original = d.new_masternodes.clone();
    for e in &mut d.new_masternodes {
        let socket = e.service().socket_addr();
        let (network, address) = match socket.ip() {
            IpAddr::V4(ip) => (BIP155_IPV4, ip.octets().to_vec()),
            IpAddr::V6(ip) => (BIP155_IPV6, ip.octets().to_vec()),
        };
        e.version = SML_ENTRY_VERSION_EXT_ADDR;
        e.net_info = NetInfo::Extended(Box::new(ExtNetInfo::new(&[PurposeEntries {
            purpose: PURPOSE_CORE_P2P,
            entries: vec![NetInfoEntry::Service(NetAddress {
                network,
                address,
                port: socket.port(),
            })],
        }])));
    }
    let payload = d.to_payload(PROTOCOL_VERSION);
    let again = MnListDiff::from_payload(&payload, PROTOCOL_VERSION).unwrap();
    assert_eq!(again.to_payload(PROTOCOL_VERSION), payload);
    assert_eq!(again, d);
    assert_eq!(entry_versions(&again.new_masternodes).len(), 1);
    for (before, after) in original.iter().zip(&again.new_masternodes) {
        assert_eq!(before.service(), after.service());
        assert_eq!(before.mn_type, after.mn_type);
    }
}

/// Versions later than this client knows, in a real diff: an SML entry of
/// version 4, a coinbase payload of version 4, a commitment of version 5. Each
/// is reported as unsupported (nobody is blamed), not as malformed.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn future_versions_in_a_real_diff_are_unsupported_not_invalid() {
    let d = diff("mnlistdiff_0_905762.bin");
    let decode = |changed: &MnListDiff| {
        MnListDiff::from_payload(&changed.to_payload(PROTOCOL_VERSION), PROTOCOL_VERSION)
            .unwrap_err()
    };
    let mut entry = d.clone();
    entry.new_masternodes[17].version = SML_ENTRY_VERSION_EXT_ADDR + 1;
    let error = decode(&entry);
    assert!(error.is_unsupported(), "{error}");

    let mut coinbase = d.clone();
    let mut payload = d.coinbase_payload().clone();
    payload.version = CoinbasePayload::MAX_VERSION + 1;
    coinbase.coinbase_tx = CoinbaseTransaction::new(d.coinbase_tx.transaction().clone(), payload);
    let error = decode(&coinbase);
    assert!(error.is_unsupported(), "{error}");

    let mut commitment = d.clone();
    commitment.new_quorums[3].version = QuorumCommitment::MAX_VERSION + 1;
    let error = decode(&commitment);
    assert!(error.is_unsupported(), "{error}");
}
