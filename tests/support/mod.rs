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

include!("mainnet_heights.rs");

/// The ChainLock a benchmark waits for first: `clsig` (a ChainLock of the scenario's chain)
/// checked with its signing quorum ([`MasternodeEngine::verify_chainlock_and_signer`]),
/// returning whether both verified. Without one (no mainnet ChainLock with a known block
/// hash is in the fixtures), a stand-in at the newest list's height plus the signing offset,
/// carrying a valid G2 point from testnet: its signature fails, so its selected signing
/// quorum is verified after the check, which is the work a real ChainLock there costs;
/// returns whether that quorum verified.
pub fn first_chainlock(
    engine: &mut dashlight::mnlist::MasternodeEngine,
    clsig: Option<&dashlight::protocol::chainlock::ClSig>,
    headers: &impl HeaderLookup,
) -> bool {
    if let Some(clsig) = clsig {
        return engine
            .verify_chainlock_and_signer(clsig, headers)
            .fully_verified();
    }
    let height =
        engine.latest_list().expect("a list").height + dashlight::mnlist::WORK_BLOCK_OFFSET;
    let stand_in = dashlight::protocol::chainlock::ClSig {
        height: height as i32,
        block_hash: headers.hash_at(height).unwrap_or_default(),
        signature: testnet_cbtx_clsig(905_768).expect("in the csv").signature,
    };
    let Some(key) = engine
        .verify_chainlock_and_signer(&stand_in, headers)
        .quorum
    else {
        return false;
    };
    engine.verify_quorum_set(&[key], headers);
    engine
        .quorum_record(key.0, &key.1)
        .is_some_and(|r| r.status.is_verified())
}
