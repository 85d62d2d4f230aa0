//! The fixture headers the engine targets check messages against.

use dashlight::chain::HeaderMap;
use std::sync::OnceLock;

/// The testnet fixtures.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/testnet");
const HEADERS_START: u32 = 898_560;

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).expect("the fixtures are present")
}

pub fn headers() -> &'static HeaderMap {
    static HEADERS: OnceLock<HeaderMap> = OnceLock::new();
    HEADERS.get_or_init(|| {
        let mut headers = HeaderMap::default();
        headers.add_run(
            &read("headers/testnet_headers_898560_947248.bin"),
            HEADERS_START,
        );
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
