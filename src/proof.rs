//! Transaction inclusion proofs against a header: a `merkleblock`-style
//! partial merkle tree (BIP-37), with or without its block header in front,
//! or a plain merkle branch (the sibling hashes from the leaf up and the
//! transaction's position, as Electrum servers give them).
//!
//! Every bit of a proof counts: a tree whose flag padding is not zero, that
//! claims more transactions than a block can hold, that matches any other
//! transaction than the one named, or whose walk leaves hashes or flags
//! unused is rejected, as is a branch whose position has bits above its length.

use crate::block::{BlockHeader, HEADER_SIZE};
use crate::chain::HeaderLookup;
use crate::encode::{Decodable, DecodeError, Reader};
use crate::hash::{BlockHash, MerkleNode, Txid};
use crate::mnlist::merkle::{extract_matches, parent, PartialTreeError};
use crate::protocol::partial_merkle_tree::PartialMerkleTree;
use core::fmt;

/// The most transactions a block can hold: 2 MB blocks of transactions of at
/// least 60 bytes.
pub const MAX_BLOCK_TRANSACTIONS: u32 = 2_000_000 / 60;

/// The longest merkle branch a block can need.
pub const MAX_BRANCH_LENGTH: usize = 16;

/// A proof that a transaction is in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionProof {
    /// A `merkleblock` payload: the block header and a partial merkle tree.
    MerkleBlock {
        /// The header (must be the block's).
        header: BlockHeader,
        /// The tree.
        tree: PartialMerkleTree,
    },
    /// A bare partial merkle tree.
    PartialTree(PartialMerkleTree),
    /// A merkle branch: sibling hashes from the leaf up, and the leaf's position.
    Branch {
        /// The siblings, bottom up.
        siblings: Vec<MerkleNode>,
        /// The transaction's position in the block.
        position: u32,
    },
}

/// Where a proven transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inclusion {
    /// The block's height.
    pub height: u32,
    /// The transaction's position in the block.
    pub position: u32,
    /// Blocks from the block to the tip, both counted.
    pub confirmations: u32,
    /// Whether a verified ChainLock locks the block (or a block above it).
    pub chain_locked: bool,
}

/// Why a proof does not prove the transaction is in the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofFailure {
    /// The block is not on the verified header chain (or its header is not held).
    UnknownBlock(BlockHash),
    /// The proof's bytes cannot be decoded.
    Decode(DecodeError),
    /// The partial merkle tree is malformed.
    Tree(PartialTreeError),
    /// Unused flag bits of the tree's last flag byte are set.
    FlagPadding,
    /// The tree claims more transactions than a block can hold.
    TooManyTransactions(u32),
    /// A `merkleblock`'s header is not the block's.
    HeaderMismatch {
        /// The hash of the header in the proof.
        found: BlockHash,
    },
    /// The proof hashes to another merkle root than the header's.
    RootMismatch {
        /// The root the header commits to.
        header: MerkleNode,
        /// The root the proof gives.
        proven: MerkleNode,
    },
    /// The tree does not match the transaction.
    NotMatched,
    /// The tree matches other transactions besides this one (a proof here
    /// names exactly one transaction, as a filter of one txid asks).
    OtherMatches(usize),
    /// The branch is longer than any block needs.
    BranchTooLong(usize),
    /// The branch's position has bits above the branch's length.
    PositionOutOfRange {
        /// The position.
        position: u32,
        /// The branch length.
        length: usize,
    },
}

impl fmt::Display for ProofFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofFailure::UnknownBlock(hash) => {
                write!(f, "block {hash} is not on the verified header chain")
            }
            ProofFailure::Decode(e) => write!(f, "proof: {e}"),
            ProofFailure::Tree(e) => write!(f, "partial merkle tree: {e}"),
            ProofFailure::FlagPadding => f.write_str("partial merkle tree: flag padding not zero"),
            ProofFailure::TooManyTransactions(n) => {
                write!(f, "partial merkle tree claims {n} transactions")
            }
            ProofFailure::HeaderMismatch { found } => {
                write!(
                    f,
                    "the proof's header is block {found}, not the named block"
                )
            }
            ProofFailure::RootMismatch { header, proven } => {
                write!(
                    f,
                    "proof gives merkle root {proven}, the header has {header}"
                )
            }
            ProofFailure::NotMatched => f.write_str("the proof does not match the transaction"),
            ProofFailure::OtherMatches(n) => {
                write!(f, "the proof matches {n} other transactions")
            }
            ProofFailure::BranchTooLong(n) => write!(f, "merkle branch of {n} hashes"),
            ProofFailure::PositionOutOfRange { position, length } => {
                write!(
                    f,
                    "position {position} does not fit a branch of {length} hashes"
                )
            }
        }
    }
}

impl std::error::Error for ProofFailure {}

impl TransactionProof {
    /// Reads a proof's bytes: a `merkleblock` payload if its first 80 bytes
    /// are the header of `block_hash`, else a bare partial merkle tree.
    pub fn from_bytes(bytes: &[u8], block_hash: &BlockHash) -> Result<Self, ProofFailure> {
        if let Some(head) = bytes.get(..HEADER_SIZE) {
            let mut raw = [0u8; HEADER_SIZE];
            raw.copy_from_slice(head);
            let header = BlockHeader::from_bytes(&raw);
            if header.block_hash() == *block_hash {
                let tree = decode_tree(&bytes[HEADER_SIZE..])?;
                return Ok(TransactionProof::MerkleBlock { header, tree });
            }
        }
        decode_tree(bytes).map(TransactionProof::PartialTree)
    }

    /// Checks that the proof puts `txid` under `header`'s merkle root;
    /// returns the transaction's position in the block.
    pub fn verify(&self, txid: &Txid, header: &BlockHeader) -> Result<u32, ProofFailure> {
        match self {
            TransactionProof::MerkleBlock { header: own, tree } => {
                if own != header {
                    return Err(ProofFailure::HeaderMismatch {
                        found: own.block_hash(),
                    });
                }
                verify_tree(tree, txid, header)
            }
            TransactionProof::PartialTree(tree) => verify_tree(tree, txid, header),
            TransactionProof::Branch { siblings, position } => {
                verify_branch(siblings, *position, txid, header)
            }
        }
    }
}

/// Checks `proof` for `txid` in the block `block_hash` of the verified header
/// chain `chain`, whose tip is at `tip_height` and whose highest block locked
/// by a verified ChainLock is at `locked_height`.
pub fn check_inclusion(
    proof: &TransactionProof,
    txid: &Txid,
    block_hash: &BlockHash,
    chain: &impl HeaderLookup,
    tip_height: u32,
    locked_height: Option<u32>,
) -> Result<Inclusion, ProofFailure> {
    let unknown = || ProofFailure::UnknownBlock(*block_hash);
    let height = chain.height_of(block_hash).ok_or_else(unknown)?;
    let header = chain.header_at(height).ok_or_else(unknown)?;
    let position = proof.verify(txid, &header)?;
    Ok(Inclusion {
        height,
        position,
        confirmations: tip_height.saturating_sub(height).saturating_add(1),
        chain_locked: locked_height.is_some_and(|locked| height <= locked),
    })
}

fn decode_tree(bytes: &[u8]) -> Result<PartialMerkleTree, ProofFailure> {
    let mut r = Reader::new(bytes);
    let tree = PartialMerkleTree::decode(&mut r).map_err(ProofFailure::Decode)?;
    r.finish().map_err(ProofFailure::Decode)?;
    Ok(tree)
}

fn verify_tree(
    tree: &PartialMerkleTree,
    txid: &Txid,
    header: &BlockHeader,
) -> Result<u32, ProofFailure> {
    if tree.total_transactions > MAX_BLOCK_TRANSACTIONS {
        return Err(ProofFailure::TooManyTransactions(tree.total_transactions));
    }
    let proof = extract_matches(tree).map_err(ProofFailure::Tree)?;
    if (proof.flag_bits_used..tree.flags.len() * 8).any(|i| tree.flag(i)) {
        return Err(ProofFailure::FlagPadding);
    }
    if proof.root != header.merkle_root {
        return Err(ProofFailure::RootMismatch {
            header: header.merkle_root,
            proven: proof.root,
        });
    }
    match proof.matches.as_slice() {
        [(position, leaf)] if leaf.0 == txid.0 => Ok(*position),
        matches if matches.iter().any(|(_, leaf)| leaf.0 == txid.0) => {
            Err(ProofFailure::OtherMatches(matches.len() - 1))
        }
        _ => Err(ProofFailure::NotMatched),
    }
}

fn verify_branch(
    siblings: &[MerkleNode],
    position: u32,
    txid: &Txid,
    header: &BlockHeader,
) -> Result<u32, ProofFailure> {
    if siblings.len() > MAX_BRANCH_LENGTH {
        return Err(ProofFailure::BranchTooLong(siblings.len()));
    }
    if u64::from(position) >> siblings.len() != 0 {
        return Err(ProofFailure::PositionOutOfRange {
            position,
            length: siblings.len(),
        });
    }
    let mut node = txid.0;
    for (level, sibling) in siblings.iter().enumerate() {
        node = if position >> level & 1 == 0 {
            parent(&node, &sibling.0)
        } else {
            parent(&sibling.0, &node)
        };
    }
    if node != header.merkle_root.0 {
        return Err(ProofFailure::RootMismatch {
            header: header.merkle_root,
            proven: MerkleNode(node),
        });
    }
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::serialize;

    fn header_with_root(root: [u8; 32]) -> BlockHeader {
        let mut raw = [0u8; HEADER_SIZE];
        raw[36..68].copy_from_slice(&root);
        BlockHeader::from_bytes(&raw)
    }

    #[test]
    fn a_two_leaf_branch_and_tree_prove_both_leaves() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let header = header_with_root(parent(&a, &b));
        let branch = TransactionProof::Branch {
            siblings: vec![MerkleNode(b)],
            position: 0,
        };
        assert_eq!(branch.verify(&Txid(a), &header), Ok(0));
        let branch = TransactionProof::Branch {
            siblings: vec![MerkleNode(a)],
            position: 1,
        };
        assert_eq!(branch.verify(&Txid(b), &header), Ok(1));
        let branch = TransactionProof::Branch {
            siblings: vec![MerkleNode(a)],
            position: 3,
        };
        assert!(matches!(
            branch.verify(&Txid(b), &header),
            Err(ProofFailure::PositionOutOfRange { .. })
        ));
        let tree = PartialMerkleTree {
            total_transactions: 2,
            hashes: vec![MerkleNode(a), MerkleNode(b)],
            flags: vec![0b011],
        };
        let bytes = serialize(&tree);
        let proof = TransactionProof::from_bytes(&bytes, &BlockHash::ZERO).unwrap();
        assert_eq!(proof.verify(&Txid(a), &header), Ok(0));
        assert_eq!(
            proof.verify(&Txid(b), &header),
            Err(ProofFailure::NotMatched)
        );
        let padded = PartialMerkleTree {
            flags: vec![0b1000_0011],
            ..tree
        };
        assert_eq!(
            TransactionProof::PartialTree(padded).verify(&Txid(a), &header),
            Err(ProofFailure::FlagPadding)
        );
    }
}
