//! A header chain over the fixture headers, for the engine's integration tests.
#![allow(dead_code)]

use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::hash::BlockHash;
use dashlight::mnlist::HeaderChain;
use std::collections::HashMap;

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

/// Headers by height with their hashes.
#[derive(Debug, Default, Clone)]
pub struct TestHeaders {
    headers: HashMap<u32, (BlockHeader, BlockHash)>,
    heights: HashMap<BlockHash, u32>,
}

impl TestHeaders {
    /// Adds a run of consecutive headers starting at `start`. Each hash is
    /// read from the next header's `prev_blockhash`; only the last is hashed.
    pub fn add_run(&mut self, bytes: &[u8], start: u32) {
        let headers: Vec<BlockHeader> = bytes
            .chunks_exact(HEADER_SIZE)
            .map(|c| BlockHeader::from_bytes(c.try_into().unwrap()))
            .collect();
        for (i, header) in headers.iter().enumerate() {
            let hash = match headers.get(i + 1) {
                Some(next) => next.prev_blockhash,
                None => header.block_hash(),
            };
            self.add(start + i as u32, *header, hash);
        }
    }

    /// Adds one header.
    pub fn add(&mut self, height: u32, header: BlockHeader, hash: BlockHash) {
        self.headers.insert(height, (header, hash));
        self.heights.insert(hash, height);
    }

    /// The testnet headers of the fixtures: the 898560.. run and the quorum base blocks.
    pub fn testnet() -> TestHeaders {
        let mut chain = TestHeaders::default();
        chain.add_run(TESTNET_HEADERS, TESTNET_HEADERS_START);
        for line in QUORUM_BASE_HEADERS.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let height: u32 = fields[0].parse().unwrap();
            let bytes: [u8; 80] = hex::decode(fields[2]).unwrap().try_into().unwrap();
            let header = BlockHeader::from_bytes(&bytes);
            chain.add(height, header, fields[1].parse().unwrap());
        }
        chain
    }

    /// [`TestHeaders::testnet`] plus the headers around `heights` from the
    /// full testnet chain file (native only: it is 88 MB).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn testnet_with_old(heights: &[u32]) -> TestHeaders {
        use std::io::{Read, Seek, SeekFrom};
        let mut chain = TestHeaders::testnet();
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
}

impl HeaderChain for TestHeaders {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.headers.get(&height).map(|(h, _)| *h)
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.headers.get(&height).map(|(_, h)| *h)
    }
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
#[derive(Debug, Default, Clone)]
pub struct MainnetHeights {
    heights: HashMap<BlockHash, u32>,
    hashes: HashMap<u32, BlockHash>,
}

impl MainnetHeights {
    /// Heights for `qrinfo` and the genesis-based `diffs` sent with it.
    pub fn new(
        qrinfo: &dashlight::protocol::qrinfo::QrInfo,
        diffs: &[&dashlight::protocol::mnlistdiff::MnListDiff],
    ) -> MainnetHeights {
        use dashlight::llmq::LlmqType;
        let params = LlmqType::LLMQ_60_75.params().unwrap();
        let cycle_by = |height: u32| {
            let opened = height - params.dkg_mining_window_start;
            opened - opened % params.dkg_interval
        };
        let mut chain = MainnetHeights::default();
        let mut full_lists = Vec::new();
        for diff in qrinfo
            .named_diffs()
            .into_iter()
            .map(|(_, d)| d)
            .chain(diffs.iter().copied())
        {
            chain.add(diff.coinbase_height(), diff.block_hash);
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
                    chain.add(cycle + index as u32, hash);
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
            if c.llmq_type == params.llmq_type.0 && !chain.heights.contains_key(&c.quorum_hash) {
                chain.add(cycle_by(tip) + c.quorum_index as u32, c.quorum_hash);
            }
        }
        if !chain.heights.contains_key(&qrinfo.diff_tip.base_block_hash) {
            chain.add(tip - 1, qrinfo.diff_tip.base_block_hash);
        }
        chain
    }

    fn add(&mut self, height: u32, hash: BlockHash) {
        self.heights.insert(hash, height);
        self.hashes.insert(height, hash);
    }
}

impl HeaderChain for MainnetHeights {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.heights.get(hash).copied()
    }

    fn header_at(&self, _height: u32) -> Option<BlockHeader> {
        None
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.hashes.get(&height).copied()
    }
}
