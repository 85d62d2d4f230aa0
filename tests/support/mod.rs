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
