//! Where a header chain starts: genesis, or a checkpoint whose header and
//! chain work are compiled in, so that a client need not download and hash
//! millions of old headers.

use super::checkpoints::{checkpoint, sync_base_records, HashFingerprint};
use super::pow::Work;
use crate::block::BlockHeader;
use crate::hash::{BlockHash, MerkleNode};
use crate::network::Network;
use core::fmt;

/// The first block of a header chain, trusted without validation.
///
/// Headers right after a sync base other than genesis are validated as far
/// as their known ancestry allows: the difficulty rules need the 24 previous
/// headers and the median-time rule the 11 previous ones, so for the first
/// blocks above the base only proof of work against their own `bits`, the
/// future-time limit and checkpoints are checked; the next checkpoint
/// (at most 576 blocks on) must still match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncBase {
    network: Network,
    height: u32,
    header: BlockHeader,
    hash: BlockHash,
    chain_work: Work,
}

/// Why a header cannot be a sync base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncBaseError {
    /// The height is a checkpoint (or genesis) and the header is not that block.
    CheckpointMismatch {
        /// The height.
        height: u32,
        /// The checkpoint's fingerprint of the hash.
        expected: HashFingerprint,
        /// The header's hash.
        found: BlockHash,
    },
}

impl fmt::Display for SyncBaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CheckpointMismatch {
                height,
                expected,
                found,
            } => write!(
                f,
                "sync base at height {height} is {found}, but the checkpoint is {expected}"
            ),
        }
    }
}

impl std::error::Error for SyncBaseError {}

/// The genesis header of `network`.
pub fn genesis_header(network: Network) -> BlockHeader {
    let (time, nonce) = match network {
        Network::Mainnet => (1_390_095_618, 28_917_698),
        Network::Testnet => (1_390_666_206, 3_861_367_235),
    };
    BlockHeader {
        version: 1,
        prev_blockhash: BlockHash::ZERO,
        merkle_root: MerkleNode([
            0xc7, 0x62, 0xa6, 0x56, 0x7f, 0x3c, 0xc0, 0x92, 0xf0, 0x68, 0x4b, 0xb6, 0x2b, 0x7e,
            0x00, 0xa8, 0x48, 0x90, 0xb9, 0x90, 0xf0, 0x7c, 0xc7, 0x1a, 0x6b, 0xb5, 0x8d, 0x64,
            0xb9, 0x8e, 0x02, 0xe0,
        ]),
        time,
        bits: 0x1e0f_fff0,
        nonce,
    }
}

impl SyncBase {
    /// Start from the genesis block.
    pub fn genesis(network: Network) -> SyncBase {
        let header = genesis_header(network);
        SyncBase {
            network,
            height: 0,
            header,
            hash: network.genesis_hash(),
            chain_work: Work::from_bits(header.bits),
        }
    }

    /// Start from the compiled-in checkpoint at `height`, if it carries a header
    /// (see [`SyncBase::available_heights`]); `0` is genesis.
    pub fn at_checkpoint(network: Network, height: u32) -> Option<SyncBase> {
        if height == 0 {
            return Some(SyncBase::genesis(network));
        }
        let record = sync_base_records(network)
            .iter()
            .find(|r| r.height == height)?;
        let header = BlockHeader::from_bytes(&record.header);
        Some(SyncBase {
            network,
            height,
            header,
            hash: header.block_hash(),
            chain_work: record.chain_work,
        })
    }

    /// The highest compiled-in sync base at or below `height` (genesis at worst).
    pub fn at_or_below(network: Network, height: u32) -> SyncBase {
        sync_base_records(network)
            .iter()
            .rev()
            .find(|r| r.height <= height)
            .and_then(|r| SyncBase::at_checkpoint(network, r.height))
            .unwrap_or_else(|| SyncBase::genesis(network))
    }

    /// The most recent compiled-in sync base.
    pub fn latest(network: Network) -> SyncBase {
        SyncBase::at_or_below(network, u32::MAX)
    }

    /// Heights [`SyncBase::at_checkpoint`] accepts, lowest first (genesis included).
    pub fn available_heights(network: Network) -> impl Iterator<Item = u32> {
        core::iter::once(0).chain(sync_base_records(network).iter().map(|r| r.height))
    }

    /// A sync base from a header trusted by other means (e.g. one stored
    /// earlier); at a checkpoint height it must be the checkpoint's block.
    pub fn new(
        network: Network,
        height: u32,
        header: BlockHeader,
        chain_work: Work,
    ) -> Result<SyncBase, SyncBaseError> {
        let hash = header.block_hash();
        if let Some(expected) = checkpoint(network, height) {
            if !expected.matches(&hash) {
                return Err(SyncBaseError::CheckpointMismatch {
                    height,
                    expected,
                    found: hash,
                });
            }
        }
        Ok(SyncBase {
            network,
            height,
            header,
            hash,
            chain_work,
        })
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The height of the base block.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The base block's header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The base block's hash.
    pub fn hash(&self) -> BlockHash {
        self.hash
    }

    /// Cumulative work from genesis through the base block.
    pub fn chain_work(&self) -> Work {
        self.chain_work
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_headers_hash_to_the_genesis_hashes() {
        for n in [Network::Mainnet, Network::Testnet] {
            let base = SyncBase::genesis(n);
            assert_eq!(base.header().block_hash(), n.genesis_hash());
            assert_eq!(base.hash(), n.genesis_hash());
        }
    }

    #[test]
    fn checkpoint_bases_are_found_by_height() {
        let n = Network::Testnet;
        let base = SyncBase::at_checkpoint(n, 898_560).expect("a sync base at 898560");
        assert_eq!(base.height(), 898_560);
        assert_eq!(base.header().block_hash(), base.hash());
        assert_eq!(SyncBase::at_checkpoint(n, 898_561), None);
        assert_eq!(SyncBase::at_or_below(n, 900_000).height(), 898_560);
        assert_eq!(SyncBase::at_or_below(n, 100).height(), 0);
        assert_eq!(SyncBase::latest(n).height(), 1_284_480);
        assert_eq!(SyncBase::latest(Network::Mainnet).height(), 2_302_272);
        assert!(SyncBase::available_heights(n).any(|h| h == 898_560));
    }

    #[test]
    fn a_base_at_a_checkpoint_height_must_be_that_block() {
        let n = Network::Testnet;
        let real = SyncBase::at_checkpoint(n, 898_560).unwrap();
        assert_eq!(
            SyncBase::new(n, 898_560, *real.header(), real.chain_work()),
            Ok(real)
        );
        let mut other = *real.header();
        other.nonce ^= 1;
        assert!(matches!(
            SyncBase::new(n, 898_560, other, real.chain_work()),
            Err(SyncBaseError::CheckpointMismatch { .. })
        ));
    }
}
