//! Compiled-in checkpoints: a fingerprint of the hash of every 576th block of
//! mainnet and testnet, and some of those blocks' headers and chain work so
//! that a sync can start from them instead of from genesis.
//!
//! A fingerprint is the hash's first 8 bytes in wire order (the last 16 hex
//! digits of the displayed hash), not the whole hash: a header only reaches
//! the checkpoint check after meeting its proof of work, so a forged block at a
//! checkpoint height would need about 2^64 valid headers to hit 64 given bits.
//! That keeps all 6,227 checkpoints dense and the browser package small (the
//! full hashes were about a fifth of the gzipped wasm).
//!
//! The tables are generated from the dashj checkpoint files in
//! `../shared/fixtures` by `tests/checkpoint_tables.rs` (which also checks
//! that they are up to date), together with Dash Core's `nMinimumChainWork`,
//! which that generator holds with its source; the browser has no file
//! access, so the data lives in the crate.

mod mainnet;
mod testnet;

use super::pow::Work;
use crate::hash::BlockHash;
use crate::network::Network;
use core::fmt;

/// Blocks between two checkpoints.
pub const CHECKPOINT_SPACING: u32 = 576;

/// The first 8 bytes (wire order) of a block hash, which a checkpoint fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashFingerprint([u8; 8]);

impl HashFingerprint {
    /// The fingerprint of `hash`.
    pub fn of(hash: &BlockHash) -> HashFingerprint {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&hash.0[..8]);
        HashFingerprint(bytes)
    }

    /// Whether `hash` has this fingerprint.
    pub fn matches(&self, hash: &BlockHash) -> bool {
        HashFingerprint::of(hash) == *self
    }
}

/// Shown as the end of a displayed block hash: `…` and 16 hex digits.
impl fmt::Display for HashFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("…")?;
        self.0.iter().rev().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A block whose hash is fixed in advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The block height.
    pub height: u32,
    /// The fingerprint of the block hash.
    pub fingerprint: HashFingerprint,
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

fn fingerprints(network: Network) -> &'static [HashFingerprint] {
    match network {
        Network::Mainnet => &mainnet::FINGERPRINTS,
        Network::Testnet => &testnet::FINGERPRINTS,
    }
}

pub(super) fn sync_base_records(network: Network) -> &'static [SyncBaseRecord] {
    match network {
        Network::Mainnet => &mainnet::SYNC_BASES,
        Network::Testnet => &testnet::SYNC_BASES,
    }
}

/// The fingerprint the block hash at `height` must have, if `height` is a
/// checkpoint (genesis included).
pub fn checkpoint(network: Network, height: u32) -> Option<HashFingerprint> {
    if height == 0 {
        return Some(HashFingerprint::of(&network.genesis_hash()));
    }
    if height % CHECKPOINT_SPACING != 0 {
        return None;
    }
    let index = (height / CHECKPOINT_SPACING - 1) as usize;
    fingerprints(network).get(index).copied()
}

/// The highest checkpoint at or below `height` (genesis at worst).
pub fn last_checkpoint_at_or_below(network: Network, height: u32) -> Checkpoint {
    let table = fingerprints(network);
    let count = ((height / CHECKPOINT_SPACING) as usize).min(table.len());
    match count.checked_sub(1).and_then(|i| table.get(i)) {
        Some(fingerprint) => Checkpoint {
            height: count as u32 * CHECKPOINT_SPACING,
            fingerprint: *fingerprint,
        },
        None => Checkpoint {
            height: 0,
            fingerprint: HashFingerprint::of(&network.genesis_hash()),
        },
    }
}

/// The least cumulative work a chain of `network` must have before it is
/// reported as synced (Dash Core's `nMinimumChainWork`): a chain below it is
/// not the network's chain, whatever its length.
///
/// The value is the larger of Dash Core's `nMinimumChainWork` (set by hand at
/// each release at a block of its choosing; the tables name the release and
/// the block) and the chain work through the newest compiled-in checkpoint,
/// both compiled in by the generator of the checkpoint tables. Dash Core's
/// block lies past the newest checkpoint, so the floor binds a chain synced
/// from that checkpoint too: a cheap low-difficulty fork after it (testnet's
/// minimum-difficulty rule makes one cheap) is not reported as synced, and the
/// reorganisation limit does not protect it from the real chain. Recorded
/// history that ends below the floor (every fixture here) never reaches it:
/// replays lower the floor explicitly (see [`parse_minimum_chain_work`]).
/// [`ChainConfig::for_network`](super::ChainConfig::for_network) applies it.
pub fn minimum_chain_work(network: Network) -> Work {
    let (dash_core, checkpoint) = match network {
        Network::Mainnet => (
            mainnet::DASH_CORE_MINIMUM_CHAIN_WORK,
            mainnet::NEWEST_CHECKPOINT_WORK,
        ),
        Network::Testnet => (
            testnet::DASH_CORE_MINIMUM_CHAIN_WORK,
            testnet::NEWEST_CHECKPOINT_WORK,
        ),
    };
    dash_core.max(checkpoint)
}

/// The chain work through the newest compiled-in checkpoint of `network`,
/// which every chain through that checkpoint has.
pub fn newest_checkpoint_work(network: Network) -> Work {
    match network {
        Network::Mainnet => mainnet::NEWEST_CHECKPOINT_WORK,
        Network::Testnet => testnet::NEWEST_CHECKPOINT_WORK,
    }
}

/// Why a minimum chain work option was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMinimumChainWork(String);

impl fmt::Display for InvalidMinimumChainWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "minimum chain work must be \"checkpoint\" or 1 to 64 hex digits, got {:?}",
            self.0
        )
    }
}

impl std::error::Error for InvalidMinimumChainWork {}

/// The minimum chain work a client option names: `"checkpoint"` for the work
/// through the newest compiled-in checkpoint ([`newest_checkpoint_work`]), or
/// the work itself as 1 to 64 hex digits (big-endian, as Dash Core shows
/// `chainwork`; an optional `0x`), `"0"` for none. The compiled-in
/// [`minimum_chain_work`] applies when no option is given; a lower floor is
/// for replays of recorded history that ends below it.
pub fn parse_minimum_chain_work(
    network: Network,
    option: &str,
) -> Result<Work, InvalidMinimumChainWork> {
    if option == "checkpoint" {
        return Ok(newest_checkpoint_work(network));
    }
    let invalid = || InvalidMinimumChainWork(option.to_string());
    let digits = option.strip_prefix("0x").unwrap_or(option).as_bytes();
    if digits.is_empty() || digits.len() > 64 {
        return Err(invalid());
    }
    let mut bytes = [0u8; 32];
    for (i, &c) in digits.iter().rev().enumerate() {
        let value = char::from(c).to_digit(16).ok_or_else(invalid)? as u8;
        bytes[31 - i / 2] |= value << (4 * (i % 2));
    }
    Ok(Work::from_be_bytes(&bytes))
}

/// The highest checkpoint of `network`.
pub fn latest_checkpoint(network: Network) -> Checkpoint {
    last_checkpoint_at_or_below(network, u32::MAX)
}

/// Every checkpoint of `network` above genesis, lowest first.
pub fn checkpoints(network: Network) -> impl Iterator<Item = Checkpoint> {
    fingerprints(network)
        .iter()
        .enumerate()
        .map(|(i, fingerprint)| Checkpoint {
            height: (i as u32 + 1) * CHECKPOINT_SPACING,
            fingerprint: *fingerprint,
        })
}

/// Decodes a fingerprint written as the last 16 hex digits of a displayed
/// hash (compile time only).
const fn fingerprint(display_hex: &str) -> HashFingerprint {
    let digits: [u8; 8] = decode_hex(display_hex);
    let mut wire = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        wire[i] = digits[7 - i];
        i += 1;
    }
    HashFingerprint(wire)
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
    use crate::chain::SyncBase;

    #[test]
    fn tables_cover_the_fixture_ranges() {
        assert_eq!(latest_checkpoint(Network::Testnet).height, 1_284_480);
        assert_eq!(latest_checkpoint(Network::Mainnet).height, 2_302_272);
        assert_eq!(checkpoints(Network::Testnet).count(), 2230);
        assert_eq!(checkpoints(Network::Mainnet).count(), 3997);
    }

    #[test]
    fn the_minimum_chain_work_is_dash_cores_above_the_newest_checkpoint() {
        for n in [Network::Mainnet, Network::Testnet] {
            let newest = SyncBase::latest(n);
            assert_eq!(newest.height(), latest_checkpoint(n).height);
            assert_eq!(newest_checkpoint_work(n), newest.chain_work());
            assert!(minimum_chain_work(n) > newest.chain_work());
        }
        assert_eq!(
            minimum_chain_work(Network::Mainnet).to_string(),
            "00000000000000000000000000000000000000000000ba7225adc3153945d14d"
        );
        assert_eq!(
            minimum_chain_work(Network::Testnet).to_string(),
            "00000000000000000000000000000000000000000000000003eb87177577500b"
        );
    }

    #[test]
    fn minimum_chain_work_options() {
        let n = Network::Testnet;
        assert_eq!(
            parse_minimum_chain_work(n, "checkpoint"),
            Ok(SyncBase::latest(n).chain_work())
        );
        assert_eq!(parse_minimum_chain_work(n, "0"), Ok(Work::ZERO));
        let dash_core = minimum_chain_work(n).to_string();
        assert_eq!(
            parse_minimum_chain_work(n, &dash_core),
            Ok(minimum_chain_work(n))
        );
        assert_eq!(
            parse_minimum_chain_work(n, "0x3eb87177577500b"),
            Ok(minimum_chain_work(n))
        );
        assert_eq!(
            parse_minimum_chain_work(n, "0x3EB87177577500B"),
            Ok(minimum_chain_work(n))
        );
        let max = "f".repeat(64);
        assert!(parse_minimum_chain_work(n, &max).is_ok());
        for bad in ["", "0x", "checkpoints", "12g", "+1", &format!("1{max}")] {
            assert_eq!(
                parse_minimum_chain_work(n, bad),
                Err(InvalidMinimumChainWork(bad.to_string())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn checkpoint_lookup_by_height() {
        let n = Network::Testnet;
        assert!(checkpoint(n, 0).is_some_and(|c| c.matches(&n.genesis_hash())));
        assert_eq!(checkpoint(n, 577), None);
        assert_eq!(checkpoint(n, 1_284_480 + 576), None);
        assert_eq!(
            checkpoint(n, 898_560),
            Some(last_checkpoint_at_or_below(n, 899_000).fingerprint)
        );
        assert_eq!(last_checkpoint_at_or_below(n, 575).height, 0);
        assert_eq!(last_checkpoint_at_or_below(n, 576).height, 576);
        assert_eq!(last_checkpoint_at_or_below(n, 2_000_000).height, 1_284_480);
    }

    #[test]
    fn a_fingerprint_is_the_end_of_the_displayed_hash() {
        let genesis = Network::Testnet.genesis_hash();
        let fingerprint = HashFingerprint::of(&genesis);
        assert!(genesis.to_string().ends_with(&fingerprint.to_string()[3..]));
        assert_eq!(fingerprint.to_string(), "…563d91623bf8bc2c");
        let mut other = genesis;
        other.0[0] ^= 1;
        assert!(!fingerprint.matches(&other));
        other = genesis;
        other.0[8] ^= 1;
        assert!(fingerprint.matches(&other));
    }

    #[test]
    fn sync_base_headers_hash_to_their_checkpoints() {
        for n in [Network::Mainnet, Network::Testnet] {
            for record in sync_base_records(n) {
                let hash = BlockHeader::from_bytes(&record.header).block_hash();
                assert!(checkpoint(n, record.height).is_some_and(|c| c.matches(&hash)));
            }
        }
    }
}
