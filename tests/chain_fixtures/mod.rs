//! Real testnet headers shared by the header-chain tests, embedded so the
//! same tests run in the browser.
#![allow(dead_code)]

use dashlight::block::{BlockHeader, HEADER_SIZE};
use dashlight::chain::{HashedHeader, SyncBase};
use dashlight::network::Network;

/// Canonical testnet headers 898,560..=947,248.
pub static CANONICAL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
));
/// Height of the first canonical header (a compiled-in sync base).
pub const CANONICAL_FIRST: u32 = 898_560;
/// Height of the last canonical header.
pub const CANONICAL_LAST: u32 = 947_248;

/// The stale testnet branch 899,760..=902,320 (sharing blocks up to 899,759).
pub static STALE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/testnet/fork/testnet_stale_fork_headers_899760_902320.bin"
));
/// Height of the first stale header.
pub const STALE_FIRST: u32 = 899_760;
/// Height of the last stale header.
pub const STALE_LAST: u32 = 902_320;

/// 2025-01-01T00:00:00Z: after every header in the fixtures.
pub const NOW: u64 = 1_735_689_600;

/// The header at `height` of concatenated headers starting at `first`.
pub fn header_in(bytes: &[u8], first: u32, height: u32) -> BlockHeader {
    let at = (height - first) as usize * HEADER_SIZE;
    let mut raw = [0u8; HEADER_SIZE];
    raw.copy_from_slice(&bytes[at..at + HEADER_SIZE]);
    BlockHeader::from_bytes(&raw)
}

/// Headers `from..=to`, hashed, of concatenated headers starting at `first`.
pub fn hashed_in(bytes: &[u8], first: u32, from: u32, to: u32) -> Vec<HashedHeader> {
    let start = (from - first) as usize * HEADER_SIZE;
    let end = (to - first + 1) as usize * HEADER_SIZE;
    HashedHeader::parse_all(&bytes[start..end])
}

/// Canonical headers `from..=to`, hashed.
pub fn canonical(from: u32, to: u32) -> Vec<HashedHeader> {
    hashed_in(CANONICAL, CANONICAL_FIRST, from, to)
}

/// Stale-branch headers `from..=to`, hashed.
pub fn stale(from: u32, to: u32) -> Vec<HashedHeader> {
    hashed_in(STALE, STALE_FIRST, from, to)
}

/// The compiled-in sync base the canonical headers start from.
pub fn canonical_base() -> SyncBase {
    SyncBase::at_checkpoint(Network::Testnet, CANONICAL_FIRST).unwrap()
}
