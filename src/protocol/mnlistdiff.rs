//! `getmnlistd` and `mnlistdiff` (DIP-4): the changes to the simplified
//! masternode list and the active quorums between two blocks.
//!
//! The layout depends on the protocol version `p`:
//! `nVersion` first if `p >= 70229` · base hash · block hash · partial merkle
//! tree · coinbase transaction · `nVersion` here if `70225 <= p < 70229` ·
//! deleted proRegTx hashes · SML entries (see [`SmlEntry`]) · deleted quorums ·
//! new quorums · `quorumsCLSigs` if `p >= 70230`.

use super::coinbase::{CoinbasePayload, CoinbaseTransaction};
use super::commitment::QuorumCommitment;
use super::partial_merkle_tree::PartialMerkleTree;
use super::sml_entry::SmlEntry;
use super::version::{
    BLS_SCHEME_PROTO_VERSION, MNLISTDIFF_CHAINLOCKS_PROTO_VERSION, MNLISTDIFF_VERSION_ORDER,
};
use crate::encode::{write_compact_size, write_vec, Decodable, DecodeError, Encodable, Reader};
use crate::hash::{BlockHash, ProTxHash};

/// `getmnlistd`: asks for the diff from `base_block_hash` (all zero: from
/// the empty list) to `block_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GetMnListDiff {
    /// The block whose list the diff starts from.
    pub base_block_hash: BlockHash,
    /// The block whose list the diff leads to.
    pub block_hash: BlockHash,
}

impl Encodable for GetMnListDiff {
    fn encode(&self, out: &mut Vec<u8>) {
        self.base_block_hash.encode(out);
        self.block_hash.encode(out);
    }
}

impl Decodable for GetMnListDiff {
    const MIN_ENCODED_SIZE: usize = 64;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetMnListDiff {
            base_block_hash: BlockHash::decode(r)?,
            block_hash: BlockHash::decode(r)?,
        })
    }
}

/// A quorum removed from the active set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeletedQuorum {
    /// The LLMQ type.
    pub llmq_type: u8,
    /// Hash of the quorum's base block.
    pub quorum_hash: BlockHash,
}

impl Encodable for DeletedQuorum {
    fn encode(&self, out: &mut Vec<u8>) {
        self.llmq_type.encode(out);
        self.quorum_hash.encode(out);
    }
}

impl Decodable for DeletedQuorum {
    const MIN_ENCODED_SIZE: usize = 33;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DeletedQuorum {
            llmq_type: r.read_u8()?,
            quorum_hash: BlockHash::decode(r)?,
        })
    }
}

/// A ChainLock signature and the new quorums (indexes into
/// [`MnListDiff::new_quorums`]) whose member selection used it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuorumClSig {
    /// The ChainLock BLS signature.
    pub signature: [u8; 96],
    /// Indexes into the diff's new quorums, ascending.
    pub quorum_indexes: Vec<u16>,
}

impl Encodable for QuorumClSig {
    fn encode(&self, out: &mut Vec<u8>) {
        self.signature.encode(out);
        write_vec(out, &self.quorum_indexes);
    }
}

impl Decodable for QuorumClSig {
    const MIN_ENCODED_SIZE: usize = 96 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(QuorumClSig {
            signature: r.read_array()?,
            quorum_indexes: r.read_vec("quorum ChainLock signature indexes")?,
        })
    }
}

/// A simplified masternode list diff.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MnListDiff {
    /// The diff's version (1 when the protocol version carries none).
    pub version: u16,
    /// The block whose list the diff applies to (all zero: the empty list).
    pub base_block_hash: BlockHash,
    /// The block whose list results.
    pub block_hash: BlockHash,
    /// Proof that `coinbase_tx` is in the block `block_hash`.
    pub coinbase_merkle_tree: PartialMerkleTree,
    /// The block's coinbase transaction with its merkle roots.
    pub coinbase_tx: CoinbaseTransaction,
    /// proRegTx hashes of the masternodes removed from the list.
    pub deleted_masternodes: Vec<ProTxHash>,
    /// Entries added or changed.
    pub new_masternodes: Vec<SmlEntry>,
    /// Quorums removed from the active set.
    pub deleted_quorums: Vec<DeletedQuorum>,
    /// Quorums added to the active set.
    pub new_quorums: Vec<QuorumCommitment>,
    /// ChainLock signatures that seeded new quorums' member selection
    /// (protocol 70230 and later; empty otherwise).
    pub quorums_cl_sigs: Vec<QuorumClSig>,
}

impl MnListDiff {
    /// A lower bound of the encoded size, for bounding list lengths.
    pub const MIN_ENCODED_SIZE: usize = 32 + 32 + PartialMerkleTree::MIN_ENCODED_SIZE + 10 + 4;

    /// The height of `block_hash`, as its coinbase states it.
    pub fn coinbase_height(&self) -> u32 {
        self.coinbase_tx.height()
    }

    /// The coinbase payload (merkle roots, best ChainLock).
    pub fn coinbase_payload(&self) -> &CoinbasePayload {
        self.coinbase_tx.payload()
    }

    /// Whether the diff starts from the empty list (base hash all zero).
    pub fn is_full_list(&self) -> bool {
        self.base_block_hash.is_zero()
    }

    /// Reads a diff in the layout of `protocol_version`.
    pub fn decode(r: &mut Reader<'_>, protocol_version: u32) -> Result<MnListDiff, DecodeError> {
        let mut version = 1;
        if protocol_version >= MNLISTDIFF_VERSION_ORDER {
            version = r.read_u16()?;
        }
        let base_block_hash = BlockHash::decode(r)?;
        let block_hash = BlockHash::decode(r)?;
        let coinbase_merkle_tree = PartialMerkleTree::decode(r)?;
        let coinbase_tx = CoinbaseTransaction::decode(r)?;
        if (BLS_SCHEME_PROTO_VERSION..MNLISTDIFF_VERSION_ORDER).contains(&protocol_version) {
            version = r.read_u16()?;
        }
        let deleted_masternodes = r.read_vec("deleted masternodes")?;
        let new_masternodes = r.read_vec_with("SML entries", SmlEntry::MIN_ENCODED_SIZE, |r| {
            SmlEntry::decode(r, protocol_version)
        })?;
        let deleted_quorums = r.read_vec("deleted quorums")?;
        let new_quorums = r.read_vec("new quorums")?;
        let quorums_cl_sigs = if protocol_version >= MNLISTDIFF_CHAINLOCKS_PROTO_VERSION {
            r.read_vec("quorum ChainLock signatures")?
        } else {
            Vec::new()
        };
        Ok(MnListDiff {
            version,
            base_block_hash,
            block_hash,
            coinbase_merkle_tree,
            coinbase_tx,
            deleted_masternodes,
            new_masternodes,
            deleted_quorums,
            new_quorums,
            quorums_cl_sigs,
        })
    }

    /// Appends the diff in the layout of `protocol_version`.
    pub fn encode(&self, out: &mut Vec<u8>, protocol_version: u32) {
        if protocol_version >= MNLISTDIFF_VERSION_ORDER {
            self.version.encode(out);
        }
        self.base_block_hash.encode(out);
        self.block_hash.encode(out);
        self.coinbase_merkle_tree.encode(out);
        self.coinbase_tx.encode(out);
        if (BLS_SCHEME_PROTO_VERSION..MNLISTDIFF_VERSION_ORDER).contains(&protocol_version) {
            self.version.encode(out);
        }
        write_vec(out, &self.deleted_masternodes);
        write_compact_size(out, self.new_masternodes.len() as u64);
        for entry in &self.new_masternodes {
            entry.encode(out, protocol_version);
        }
        write_vec(out, &self.deleted_quorums);
        write_vec(out, &self.new_quorums);
        if protocol_version >= MNLISTDIFF_CHAINLOCKS_PROTO_VERSION {
            write_vec(out, &self.quorums_cl_sigs);
        }
    }

    /// Decodes a whole `mnlistdiff` payload.
    pub fn from_payload(payload: &[u8], protocol_version: u32) -> Result<MnListDiff, DecodeError> {
        let mut r = Reader::new(payload);
        let diff = MnListDiff::decode(&mut r, protocol_version)?;
        r.finish()?;
        Ok(diff)
    }

    /// The `mnlistdiff` payload in the layout of `protocol_version`.
    pub fn to_payload(&self, protocol_version: u32) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out, protocol_version);
        out
    }
}
