//! Compiled-in checkpoints: the hash of every 576th block of mainnet and
//! testnet, and some of those blocks' headers and chain work so that a sync
//! can start from them instead of from genesis.
//!
//! The tables are generated from the dashj checkpoint files in
//! `../shared/fixtures` by `tests/checkpoint_tables.rs` (which also checks
//! that they are up to date); the browser has no file access, so the data
//! lives in the crate.

mod mainnet;
mod testnet;

use super::pow::Work;
use crate::hash::BlockHash;
use crate::network::Network;

/// Blocks between two checkpoints.
pub const CHECKPOINT_SPACING: u32 = 576;

/// A block whose hash is fixed in advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The block height.
    pub height: u32,
    /// The block hash.
    pub hash: BlockHash,
}

/// A checkpoint with what a sync needs to start from it.
#[derive(Debug, Clone, Copy)]
pub(super) struct SyncBaseRecord {
    /// The block height.
    pub(super) height: u32,
    /// Cumulative work from genesis through this block.
    pub(super) chain_work: Work,
    /// The 80-byte header.
    pub(super) header: [u8; 80],
}

fn hashes(network: Network) -> &'static [BlockHash] {
    match network {
        Network::Mainnet => &mainnet::HASHES,
        Network::Testnet => &testnet::HASHES,
    }
}

pub(super) fn sync_base_records(network: Network) -> &'static [SyncBaseRecord] {
    match network {
        Network::Mainnet => &mainnet::SYNC_BASES,
        Network::Testnet => &testnet::SYNC_BASES,
    }
}

/// The hash the block at `height` must have, if `height` is a checkpoint
/// (genesis included).
pub fn checkpoint_hash(network: Network, height: u32) -> Option<BlockHash> {
    if height == 0 {
        return Some(network.genesis_hash());
    }
    if height % CHECKPOINT_SPACING != 0 {
        return None;
    }
    let index = (height / CHECKPOINT_SPACING - 1) as usize;
    hashes(network).get(index).copied()
}

/// The highest checkpoint at or below `height` (genesis at worst).
pub fn last_checkpoint_at_or_below(network: Network, height: u32) -> Checkpoint {
    let table = hashes(network);
    let count = ((height / CHECKPOINT_SPACING) as usize).min(table.len());
    match count.checked_sub(1).and_then(|i| table.get(i)) {
        Some(hash) => Checkpoint {
            height: count as u32 * CHECKPOINT_SPACING,
            hash: *hash,
        },
        None => Checkpoint {
            height: 0,
            hash: network.genesis_hash(),
        },
    }
}

/// The highest checkpoint of `network`.
pub fn latest_checkpoint(network: Network) -> Checkpoint {
    last_checkpoint_at_or_below(network, u32::MAX)
}

/// Every checkpoint of `network` above genesis, lowest first.
pub fn checkpoints(network: Network) -> impl Iterator<Item = Checkpoint> {
    hashes(network)
        .iter()
        .enumerate()
        .map(|(i, hash)| Checkpoint {
            height: (i as u32 + 1) * CHECKPOINT_SPACING,
            hash: *hash,
        })
}

/// Decodes a hash written in display order (compile time only).
const fn hash(display_hex: &str) -> BlockHash {
    let digits: [u8; 32] = decode_hex(display_hex);
    let mut wire = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        wire[i] = digits[31 - i];
        i += 1;
    }
    BlockHash(wire)
}

/// Decodes 12 bytes of big-endian chain work (compile time only).
const fn work(hex: &str) -> Work {
    let short: [u8; 12] = decode_hex(hex);
    let mut full = [0u8; 32];
    let mut i = 0;
    while i < 12 {
        full[20 + i] = short[i];
        i += 1;
    }
    Work::from_be_bytes(&full)
}

/// Decodes an 80-byte header (compile time only).
const fn header(hex: &str) -> [u8; 80] {
    decode_hex(hex)
}

/// Decodes `N` bytes of lower-case hex; a malformed table fails to compile.
const fn decode_hex<const N: usize>(hex: &str) -> [u8; N] {
    let bytes = hex.as_bytes();
    assert!(bytes.len() == 2 * N, "hex of the wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(bytes[2 * i]) << 4) | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not a lower-case hex digit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockHeader;

    #[test]
    fn tables_cover_the_fixture_ranges() {
        assert_eq!(latest_checkpoint(Network::Testnet).height, 1_284_480);
        assert_eq!(latest_checkpoint(Network::Mainnet).height, 2_302_272);
        assert_eq!(checkpoints(Network::Testnet).count(), 2230);
        assert_eq!(checkpoints(Network::Mainnet).count(), 3997);
    }

    #[test]
    fn checkpoint_lookup_by_height() {
        let n = Network::Testnet;
        assert_eq!(checkpoint_hash(n, 0), Some(n.genesis_hash()));
        assert_eq!(checkpoint_hash(n, 577), None);
        assert_eq!(checkpoint_hash(n, 1_284_480 + 576), None);
        assert_eq!(
            checkpoint_hash(n, 898_560),
            Some(last_checkpoint_at_or_below(n, 899_000).hash)
        );
        assert_eq!(last_checkpoint_at_or_below(n, 575).height, 0);
        assert_eq!(last_checkpoint_at_or_below(n, 576).height, 576);
        assert_eq!(last_checkpoint_at_or_below(n, 2_000_000).height, 1_284_480);
    }

    #[test]
    fn sync_base_headers_hash_to_their_checkpoints() {
        for n in [Network::Mainnet, Network::Testnet] {
            for record in sync_base_records(n) {
                let hash = BlockHeader::from_bytes(&record.header).block_hash();
                assert_eq!(checkpoint_hash(n, record.height), Some(hash));
            }
        }
    }
}
