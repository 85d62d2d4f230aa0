//! The fixture headers the engine targets check messages against.

use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::hash::BlockHash;
use dashlight::mnlist::HeaderChain;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The testnet fixtures.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/testnet");
const HEADERS_START: u32 = 898_560;

/// The fixture headers by height and hash.
pub struct Headers {
    by_height: HashMap<u32, (BlockHeader, BlockHash)>,
    by_hash: HashMap<BlockHash, u32>,
}

impl HeaderChain for Headers {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.by_hash.get(hash).copied()
    }

    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.by_height.get(&height).map(|(header, _)| *header)
    }

    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.by_height.get(&height).map(|(_, hash)| *hash)
    }
}

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).expect("the fixtures are present")
}

pub fn headers() -> &'static Headers {
    static HEADERS: OnceLock<Headers> = OnceLock::new();
    HEADERS.get_or_init(|| {
        let bytes = read("headers/testnet_headers_898560_947248.bin");
        let mut headers = Headers {
            by_height: HashMap::new(),
            by_hash: HashMap::new(),
        };
        for (i, chunk) in bytes.chunks_exact(HEADER_SIZE).enumerate() {
            let header = BlockHeader::from_bytes(chunk.try_into().expect("80 bytes"));
            let hash = header.block_hash();
            let height = HEADERS_START + i as u32;
            headers.by_height.insert(height, (header, hash));
            headers.by_hash.insert(hash, height);
        }
        headers
    })
}

/// Applies 4-byte patches (offset `u24`, xor mask) to `bytes`.
pub fn patch(bytes: &mut [u8], patches: &[u8]) {
    for patch in patches.chunks_exact(4) {
        let offset =
            usize::from(patch[0]) | usize::from(patch[1]) << 8 | usize::from(patch[2]) << 16;
        let len = bytes.len();
        if len > 0 {
            bytes[offset % len] ^= patch[3];
        }
    }
}
