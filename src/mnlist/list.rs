//! A simplified masternode list at one block: its entries and active quorums,
//! with the merkle roots the block's coinbase commits to.

use super::merkle::{merkle_root, ParentMemo};
use crate::encode::serialize;
use crate::hash::{sha256d, BlockHash, MerkleNode, ProTxHash};
use crate::llmq::LlmqType;
use crate::protocol::commitment::QuorumCommitment;
use crate::protocol::sml_entry::SmlEntry;
use bitcoin_hashes::{sha256, HashEngine};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One masternode of a list, with the hashes the engine needs precomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The entry as received.
    pub sml: SmlEntry,
    /// Its leaf in the list's merkle tree.
    pub leaf: [u8; 32],
    /// `SHA-256(proRegTxHash || confirmedHash)`, the first half of every quorum score.
    pub score_base: [u8; 32],
}

impl ListEntry {
    /// Wraps an entry and hashes it.
    pub fn new(sml: SmlEntry) -> ListEntry {
        let mut bytes = Vec::with_capacity(160);
        sml.encode_without_version(&mut bytes);
        let leaf = sha256d(&bytes);
        let mut engine = sha256::HashEngine::default();
        engine.input(sml.pro_reg_tx_hash.as_bytes());
        engine.input(sml.confirmed_hash.as_bytes());
        let score_base = sha256::Hash::from_engine(engine).to_byte_array();
        ListEntry {
            sml,
            leaf,
            score_base,
        }
    }

    /// The masternode's identity.
    pub fn pro_tx_hash(&self) -> ProTxHash {
        self.sml.pro_reg_tx_hash
    }

    /// Whether the masternode was confirmed (only confirmed ones join quorums).
    pub fn is_confirmed(&self) -> bool {
        !self.sml.confirmed_hash.is_zero()
    }
}

/// An active quorum of a list: its final commitment and the commitment's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumEntry {
    /// The final commitment.
    pub commitment: QuorumCommitment,
    /// `dSHA256` of the serialized commitment: its leaf in the quorums' merkle tree.
    pub hash: [u8; 32],
}

impl QuorumEntry {
    /// Wraps a commitment and hashes it.
    pub fn new(commitment: QuorumCommitment) -> QuorumEntry {
        let hash = sha256d(&serialize(&commitment));
        QuorumEntry { commitment, hash }
    }

    /// The quorum's LLMQ type.
    pub fn llmq_type(&self) -> LlmqType {
        LlmqType(self.commitment.llmq_type)
    }

    /// The quorum's base block hash.
    pub fn quorum_hash(&self) -> BlockHash {
        self.commitment.quorum_hash
    }
}

/// Identifies a quorum: its type and base block hash.
pub type QuorumKey = (LlmqType, BlockHash);

/// The simplified masternode list at one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasternodeList {
    /// The block the list belongs to.
    pub block_hash: BlockHash,
    /// That block's height.
    pub height: u32,
    pub(crate) entries: BTreeMap<ProTxHash, Arc<ListEntry>>,
    pub(crate) quorums: BTreeMap<QuorumKey, Arc<QuorumEntry>>,
}

impl MasternodeList {
    /// The empty list before any masternode (the base of a diff from genesis).
    pub fn empty(block_hash: BlockHash, height: u32) -> MasternodeList {
        MasternodeList {
            block_hash,
            height,
            entries: BTreeMap::new(),
            quorums: BTreeMap::new(),
        }
    }

    /// The entries in proRegTxHash order.
    pub fn entries(&self) -> impl Iterator<Item = &Arc<ListEntry>> {
        self.entries.values()
    }

    /// The entry of one masternode.
    pub fn entry(&self, pro_tx_hash: &ProTxHash) -> Option<&Arc<ListEntry>> {
        self.entries.get(pro_tx_hash)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of valid (not PoSe-banned) entries.
    pub fn valid_count(&self) -> usize {
        self.entries.values().filter(|e| e.sml.is_valid).count()
    }

    /// The active quorums, by type then quorum hash.
    pub fn quorums(&self) -> impl Iterator<Item = &Arc<QuorumEntry>> {
        self.quorums.values()
    }

    /// One active quorum.
    pub fn quorum(
        &self,
        llmq_type: LlmqType,
        quorum_hash: &BlockHash,
    ) -> Option<&Arc<QuorumEntry>> {
        self.quorums.get(&(llmq_type, *quorum_hash))
    }

    /// The active quorums of one type.
    pub fn quorums_of_type(&self, llmq_type: LlmqType) -> impl Iterator<Item = &Arc<QuorumEntry>> {
        self.quorums
            .range((llmq_type, BlockHash::ZERO)..=(llmq_type, BlockHash([0xff; 32])))
            .map(|(_, q)| q)
    }

    /// The merkle root of the entries (`merkleRootMNList`): leaves in
    /// proRegTxHash order.
    pub fn merkle_root_mn_list(&self) -> MerkleNode {
        MerkleNode(merkle_root(self.leaves()))
    }

    /// [`MasternodeList::merkle_root_mn_list`], with the parents `memo` already holds
    /// (lists that share entries share subtrees).
    pub fn merkle_root_mn_list_with(&self, memo: &mut ParentMemo) -> MerkleNode {
        MerkleNode(memo.merkle_root(self.leaves()))
    }

    fn leaves(&self) -> Vec<[u8; 32]> {
        self.entries.values().map(|e| e.leaf).collect()
    }

    /// The merkle root of the active quorums (`merkleRootQuorums`): the
    /// commitments' hashes in byte order.
    pub fn merkle_root_quorums(&self) -> MerkleNode {
        let mut leaves: Vec<[u8; 32]> = self.quorums.values().map(|q| q.hash).collect();
        leaves.sort_unstable();
        MerkleNode(merkle_root(leaves))
    }
}
