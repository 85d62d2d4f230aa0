//! The partial merkle tree (BIP-37 `CPartialMerkleTree`) by which a
//! `mnlistdiff` proves its coinbase transaction is in the block. This module
//! holds the data only; checking the proof is the verifier's job.

use crate::encode::{write_var_bytes, write_vec, Decodable, DecodeError, Encodable, Reader};
use crate::hash::MerkleNode;

/// A partial merkle tree as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartialMerkleTree {
    /// Number of transactions in the block.
    pub total_transactions: u32,
    /// The hashes used, in depth-first order.
    pub hashes: Vec<MerkleNode>,
    /// The flag bits, packed least-significant first, as on the wire.
    pub flags: Vec<u8>,
}

impl PartialMerkleTree {
    /// Flag bit `i` (false past the end).
    pub fn flag(&self, i: usize) -> bool {
        self.flags
            .get(i / 8)
            .is_some_and(|byte| byte & (1 << (i % 8)) != 0)
    }
}

impl Encodable for PartialMerkleTree {
    fn encode(&self, out: &mut Vec<u8>) {
        self.total_transactions.encode(out);
        write_vec(out, &self.hashes);
        write_var_bytes(out, &self.flags);
    }
}

impl Decodable for PartialMerkleTree {
    const MIN_ENCODED_SIZE: usize = 4 + 1 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PartialMerkleTree {
            total_transactions: r.read_u32()?,
            hashes: r.read_vec("merkle hashes")?,
            flags: r.read_var_bytes_owned("merkle flags")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn tree_round_trips() {
        let tree = PartialMerkleTree {
            total_transactions: 3,
            hashes: vec![MerkleNode([1; 32]), MerkleNode([2; 32])],
            flags: vec![0b101],
        };
        assert_eq!(
            deserialize::<PartialMerkleTree>(&serialize(&tree)),
            Ok(tree.clone())
        );
        assert!(tree.flag(0) && !tree.flag(1) && tree.flag(2) && !tree.flag(99));
    }
}
