//! Inventory vectors for `inv`, `getdata` and `notfound`: a type and a hash.

use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use crate::hash::Sha256dHash;

/// The most inventory vectors one message may carry (Dash Core's `MAX_INV_SZ`).
pub const MAX_INV_SIZE: usize = 50_000;

/// What an inventory vector refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvType {
    /// A transaction (1).
    Tx,
    /// A block (2).
    Block,
    /// A filtered block, answered with `merkleblock` (3).
    FilteredBlock,
    /// A compact block (BIP-152, 20).
    CompactBlock,
    /// A ChainLock signature (29); the hash is the `clsig`'s hash.
    ClSig,
    /// A deterministic InstantSend lock (31).
    IsDLock,
    /// Any other type, kept as its number.
    Unknown(u32),
}

impl InvType {
    /// The type number on the wire.
    pub fn to_u32(self) -> u32 {
        match self {
            InvType::Tx => 1,
            InvType::Block => 2,
            InvType::FilteredBlock => 3,
            InvType::CompactBlock => 20,
            InvType::ClSig => 29,
            InvType::IsDLock => 31,
            InvType::Unknown(n) => n,
        }
    }

    /// The type for a wire number.
    pub fn from_u32(n: u32) -> InvType {
        match n {
            1 => InvType::Tx,
            2 => InvType::Block,
            3 => InvType::FilteredBlock,
            20 => InvType::CompactBlock,
            29 => InvType::ClSig,
            31 => InvType::IsDLock,
            other => InvType::Unknown(other),
        }
    }
}

/// One inventory vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inventory {
    /// What the hash refers to.
    pub inv_type: InvType,
    /// The object's hash in wire order (a block hash, txid or message hash).
    pub hash: Sha256dHash,
}

impl Encodable for Inventory {
    fn encode(&self, out: &mut Vec<u8>) {
        self.inv_type.to_u32().encode(out);
        self.hash.encode(out);
    }
}

impl Decodable for Inventory {
    const MIN_ENCODED_SIZE: usize = 36;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Inventory {
            inv_type: InvType::from_u32(r.read_u32()?),
            hash: Sha256dHash::decode(r)?,
        })
    }
}

/// Reads an inventory list, rejecting more than [`MAX_INV_SIZE`] entries.
pub fn read_inventory_list(r: &mut Reader<'_>) -> Result<Vec<Inventory>, DecodeError> {
    r.read_vec_max("inventory", MAX_INV_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn known_and_unknown_types_round_trip() {
        for n in [1, 2, 3, 20, 29, 31, 0, 6, 0xdead_beef] {
            assert_eq!(InvType::from_u32(n).to_u32(), n);
            let inv = Inventory {
                inv_type: InvType::from_u32(n),
                hash: Sha256dHash([n as u8; 32]),
            };
            assert_eq!(deserialize::<Inventory>(&serialize(&inv)), Ok(inv));
        }
        assert_eq!(InvType::from_u32(29), InvType::ClSig);
        assert_eq!(InvType::from_u32(2), InvType::Block);
    }
}
