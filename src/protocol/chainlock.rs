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
