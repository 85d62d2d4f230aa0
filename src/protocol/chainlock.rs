//! ChainLocks (`clsig`, DIP-8): a quorum's BLS signature that locks a block
//! at a height.

use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use crate::hash::BlockHash;

/// A ChainLock signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClSig {
    /// Height of the locked block.
    pub height: i32,
    /// The locked block.
    pub block_hash: BlockHash,
    /// The quorum's BLS signature (basic scheme).
    pub signature: [u8; 96],
}

impl ClSig {
    /// The size on the wire.
    pub const SIZE: usize = 4 + 32 + 96;
}

impl Encodable for ClSig {
    fn encode(&self, out: &mut Vec<u8>) {
        self.height.encode(out);
        self.block_hash.encode(out);
        self.signature.encode(out);
    }
}

impl Decodable for ClSig {
    const MIN_ENCODED_SIZE: usize = ClSig::SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ClSig {
            height: r.read_i32()?,
            block_hash: BlockHash::decode(r)?,
            signature: r.read_array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn clsig_is_height_hash_and_signature() {
        let clsig = ClSig {
            height: 905_775,
            block_hash: BlockHash([1; 32]),
            signature: [2; 96],
        };
        let bytes = serialize(&clsig);
        assert_eq!(bytes.len(), ClSig::SIZE);
        assert_eq!(&bytes[..4], &905_775i32.to_le_bytes());
        assert_eq!(deserialize::<ClSig>(&bytes), Ok(clsig));
        assert!(deserialize::<ClSig>(&bytes[..ClSig::SIZE - 1]).is_err());
    }
}
