//! Block headers.

use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use crate::hash::{x11, BlockHash, MerkleNode};

/// The size of a serialized block header.
pub const HEADER_SIZE: usize = 80;

/// An 80-byte Dash block header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockHeader {
    /// Block version.
    pub version: i32,
    /// Hash of the previous block.
    pub prev_blockhash: BlockHash,
    /// Merkle root of the block's transactions.
    pub merkle_root: MerkleNode,
    /// Block time, seconds since the Unix epoch.
    pub time: u32,
    /// The proof-of-work target in compact form.
    pub bits: u32,
    /// The proof-of-work nonce.
    pub nonce: u32,
}

impl BlockHeader {
    /// The header's 80 wire bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut out = [0u8; HEADER_SIZE];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(self.prev_blockhash.as_bytes());
        out[36..68].copy_from_slice(self.merkle_root.as_bytes());
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Reads a header from exactly 80 bytes.
    pub fn from_bytes(bytes: &[u8; HEADER_SIZE]) -> BlockHeader {
        let word = |at: usize| [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&bytes[4..36]);
        let mut merkle = [0u8; 32];
        merkle.copy_from_slice(&bytes[36..68]);
        BlockHeader {
            version: i32::from_le_bytes(word(0)),
            prev_blockhash: BlockHash(prev),
            merkle_root: MerkleNode(merkle),
            time: u32::from_le_bytes(word(68)),
            bits: u32::from_le_bytes(word(72)),
            nonce: u32::from_le_bytes(word(76)),
        }
    }

    /// The block hash: X11 of the 80 header bytes.
    pub fn block_hash(&self) -> BlockHash {
        BlockHash(x11(&self.to_bytes()))
    }
}

impl Encodable for BlockHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decodable for BlockHeader {
    const MIN_ENCODED_SIZE: usize = HEADER_SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(BlockHeader::from_bytes(&r.read_array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    /// The testnet genesis header.
    fn testnet_genesis() -> BlockHeader {
        BlockHeader {
            version: 1,
            prev_blockhash: BlockHash::ZERO,
            merkle_root: "e0028eb9648db56b1ac77cf090b99048a8007e2bb64b68f092c03c7f56a662c7"
                .parse()
                .unwrap(),
            time: 1390666206,
            bits: 0x1e0ffff0,
            nonce: 3861367235,
        }
    }

    #[test]
    fn testnet_genesis_hash_is_x11_of_the_header() {
        let genesis = testnet_genesis();
        assert_eq!(
            genesis.block_hash(),
            crate::network::Network::Testnet.genesis_hash()
        );
        assert_eq!(
            deserialize::<BlockHeader>(&serialize(&genesis)),
            Ok(genesis)
        );
    }
}
