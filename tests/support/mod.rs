//! A header chain over the fixture headers, for the engine's integration tests.
#![allow(dead_code)]

use dashlight::chain::{HeaderLookup, HeaderMap};

/// Consecutive testnet headers 898560..=947248.
pub static TESTNET_HEADERS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
));
/// First height of [`TESTNET_HEADERS`].
pub const TESTNET_HEADERS_START: u32 = 898_560;
/// The old blocks still-active LLMQ_400 quorums point to.
pub static QUORUM_BASE_HEADERS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/headers/testnet_quorum_base_headers.csv"
));

/// ChainLocks read from v3 coinbases of the testnet diffs
/// (`cl_height,block_hash,bls_signature_hex,…`).
pub static TESTNET_CBTX_CLSIGS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/clsig/clsigs_derived_from_cbtx.csv"
));

/// The ChainLock of [`TESTNET_CBTX_CLSIGS`] for the block at `height`.
pub fn testnet_cbtx_clsig(height: i32) -> Option<dashlight::protocol::chainlock::ClSig> {
    TESTNET_CBTX_CLSIGS.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split(',').collect();
        (fields.first()?.parse::<i32>().ok()? == height).then(|| {
            dashlight::protocol::chainlock::ClSig {
                height,
                block_hash: fields[1].parse().unwrap(),
                signature: hex::decode(fields[2]).unwrap().try_into().unwrap(),
            }
        })
    })
}

/// The testnet headers of the fixtures: the 898560.. run and the quorum base blocks.
pub fn testnet_headers() -> HeaderMap {
    let mut chain = HeaderMap::default();
    chain.add_run(TESTNET_HEADERS, TESTNET_HEADERS_START);
    chain.add_csv(QUORUM_BASE_HEADERS).unwrap();
    chain
}

/// [`testnet_headers`] plus the headers around `heights` from the
/// full testnet chain file (native only: it is 88 MB).
#[cfg(not(target_arch = "wasm32"))]
pub fn testnet_headers_with_old(heights: &[u32]) -> HeaderMap {
    use dashlight::block::{BlockHeader, HEADER_SIZE};
    use std::io::{Read, Seek, SeekFrom};
    let mut chain = testnet_headers();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/testnet/full_chain/testnet_headers_0_1100000.bin"
    );
    let mut file = std::fs::File::open(path).unwrap();
    for &height in heights {
        let mut bytes = vec![0u8; 2 * HEADER_SIZE];
        file.seek(SeekFrom::Start(u64::from(height) * HEADER_SIZE as u64))
            .unwrap();
        file.read_exact(&mut bytes).unwrap();
        let header = BlockHeader::from_bytes(bytes[..80].try_into().unwrap());
        let next = BlockHeader::from_bytes(bytes[80..].try_into().unwrap());
        chain.add(height, header, next.prev_blockhash);
    }
    chain
}

/// Block heights for the mainnet captures, which come without headers: the
/// fixtures hold no mainnet header run, so heights are read from the data.
///
/// - every diff's block: the height in its coinbase;
/// - every LLMQ_60_75 (rotated) quorum that first appears in a list whose
///   predecessor among the genesis-based lists lacks it, or that only a
///   QRInfo's tip diff or `lastCommitmentPerIndex` holds: cycle + `quorumIndex`, the
///   cycle being the newest one whose mining window had opened by that list
///   (or by the QRInfo's tip); the quorum of index 0 also gives the cycle
///   block's hash, which non-rotated quorums of that height share;
/// - the tip diff's base block, whose list and height are not in the
///   fixtures: one block below the tip, so that the engine skips that diff
///   for its missing base list (as a client without that list would).
///
/// There are no headers (`header_at` is `None`): an engine needs
/// `set_require_block_proofs(false)`.
///
/// Heights for `qrinfo` and the genesis-based `diffs` sent with it.
pub fn mainnet_heights(
    qrinfo: &dashlight::protocol::qrinfo::QrInfo,
    diffs: &[&dashlight::protocol::mnlistdiff::MnListDiff],
) -> HeaderMap {
    use dashlight::llmq::LlmqType;
    let params = LlmqType::LLMQ_60_75.params().unwrap();
    let cycle_by = |height: u32| {
        let opened = height - params.dkg_mining_window_start;
        opened - opened % params.dkg_interval
    };
    let mut chain = HeaderMap::default();
    let mut full_lists = Vec::new();
    for diff in qrinfo
        .named_diffs()
        .into_iter()
        .map(|(_, d)| d)
        .chain(diffs.iter().copied())
    {
        chain.add_hash(diff.coinbase_height(), diff.block_hash);
        if diff.base_block_hash == dashlight::network::Network::Mainnet.genesis_hash() {
            full_lists.push(diff);
        }
    }
    full_lists.sort_by_key(|d| d.coinbase_height());
    let rotated = |d: &dashlight::protocol::mnlistdiff::MnListDiff| {
        d.new_quorums
            .iter()
            .filter(|c| c.llmq_type == params.llmq_type.0)
            .map(|c| (c.quorum_hash, c.quorum_index))
            .collect::<Vec<_>>()
    };
    for pair in full_lists.windows(2) {
        let before = rotated(pair[0]);
        let cycle = cycle_by(pair[1].coinbase_height());
        for (hash, index) in rotated(pair[1]) {
            if !before.iter().any(|(h, _)| *h == hash) {
                chain.add_hash(cycle + index as u32, hash);
            }
        }
    }
    let tip = qrinfo.diff_tip.coinbase_height();
    for c in qrinfo
        .diff_tip
        .new_quorums
        .iter()
        .chain(&qrinfo.last_commitment_per_index)
    {
        if c.llmq_type == params.llmq_type.0 && chain.height_of(&c.quorum_hash).is_none() {
            chain.add_hash(cycle_by(tip) + c.quorum_index as u32, c.quorum_hash);
        }
    }
    if chain.height_of(&qrinfo.diff_tip.base_block_hash).is_none() {
        chain.add_hash(tip - 1, qrinfo.diff_tip.base_block_hash);
    }
    chain
}
