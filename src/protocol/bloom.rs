//! BIP-37 bloom filters (`filterload`) and filtered blocks (`merkleblock`):
//! how a light client asks a peer to prove one transaction is in a block.

use super::partial_merkle_tree::PartialMerkleTree;
use crate::block::{BlockHeader, HEADER_SIZE};
use crate::encode::{write_var_bytes, Decodable, DecodeError, Encodable, Reader};
use crate::hash::Txid;

/// The largest filter a peer accepts, in bytes.
pub const MAX_FILTER_SIZE: usize = 36_000;

/// The most hash functions a peer accepts.
pub const MAX_HASH_FUNCS: u32 = 50;

/// A BIP-37 bloom filter as `filterload` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BloomFilter {
    /// The filter's bits.
    pub data: Vec<u8>,
    /// How many hash functions set and test bits.
    pub hash_funcs: u32,
    /// The tweak added to every hash function's seed.
    pub tweak: u32,
    /// `BLOOM_UPDATE_*` flags (0: never update).
    pub flags: u8,
}

fn murmur3(seed: u32, data: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, byte) in tail.iter().enumerate() {
            k ^= u32::from(*byte) << (8 * i);
        }
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

impl BloomFilter {
    /// A filter that matches `txid` (and, by chance, about one in a million
    /// other items), with the given tweak and no updates.
    pub fn for_txid(txid: &Txid, tweak: u32) -> BloomFilter {
        // BIP-37 sizing for one element at a false-positive rate of 1e-6.
        let mut filter = BloomFilter {
            data: vec![0; 4],
            hash_funcs: 20,
            tweak,
            flags: 0,
        };
        filter.insert(txid.as_bytes());
        filter
    }

    fn bit(&self, i: u32, item: &[u8]) -> usize {
        let seed = i.wrapping_mul(0xfba4_c795).wrapping_add(self.tweak);
        murmur3(seed, item) as usize % (self.data.len() * 8)
    }

    /// Sets the bits of `item`.
    pub fn insert(&mut self, item: &[u8]) {
        if self.data.is_empty() {
            return;
        }
        for i in 0..self.hash_funcs {
            let bit = self.bit(i, item);
            self.data[bit / 8] |= 1 << (bit % 8);
        }
    }

    /// Whether `item` may be in the filter.
    pub fn contains(&self, item: &[u8]) -> bool {
        !self.data.is_empty()
            && (0..self.hash_funcs).all(|i| {
                let bit = self.bit(i, item);
                self.data[bit / 8] & (1 << (bit % 8)) != 0
            })
    }
}

impl Encodable for BloomFilter {
    fn encode(&self, out: &mut Vec<u8>) {
        write_var_bytes(out, &self.data);
        self.hash_funcs.encode(out);
        self.tweak.encode(out);
        out.push(self.flags);
    }
}

impl Decodable for BloomFilter {
    const MIN_ENCODED_SIZE: usize = 1 + 4 + 4 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let data = r.read_var_bytes("filter data")?.to_vec();
        if data.len() > MAX_FILTER_SIZE {
            return Err(DecodeError::InvalidValue {
                field: "filter size",
                value: data.len() as u64,
            });
        }
        let hash_funcs = r.read_u32()?;
        if hash_funcs > MAX_HASH_FUNCS {
            return Err(DecodeError::InvalidValue {
                field: "filter hash functions",
                value: u64::from(hash_funcs),
            });
        }
        Ok(BloomFilter {
            data,
            hash_funcs,
            tweak: r.read_u32()?,
            flags: r.read_u8()?,
        })
    }
}

/// A filtered block (`merkleblock`): the header and a partial merkle tree of
/// the transactions the filter matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MerkleBlock {
    /// The block header.
    pub header: BlockHeader,
    /// The partial merkle tree.
    pub tree: PartialMerkleTree,
}

impl Encodable for MerkleBlock {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header.to_bytes());
        self.tree.encode(out);
    }
}

impl Decodable for MerkleBlock {
    const MIN_ENCODED_SIZE: usize = HEADER_SIZE + PartialMerkleTree::MIN_ENCODED_SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = BlockHeader::from_bytes(&r.read_array()?);
        Ok(MerkleBlock {
            header,
            tree: PartialMerkleTree::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn murmur3_matches_the_bip37_reference_vectors() {
        // Vectors of Bitcoin Core's hash_tests (MurmurHash3).
        assert_eq!(murmur3(0, b""), 0);
        assert_eq!(murmur3(0xFBA4_C795, b""), 0x6a39_6f08);
        assert_eq!(murmur3(0xffff_ffff, b""), 0x81f1_6f39);
        assert_eq!(murmur3(0, &[0]), 0x514e_28b7);
        assert_eq!(murmur3(0xFBA4_C795, &[0]), 0xea3f_0b17);
        assert_eq!(murmur3(0, &[0xff]), 0xfd6c_f10d);
        assert_eq!(murmur3(0, &[0x00, 0x11]), 0x16c6_b7ab);
        assert_eq!(murmur3(0, &[0x00, 0x11, 0x22]), 0x8eb5_1c3d);
        assert_eq!(murmur3(0, &[0x00, 0x11, 0x22, 0x33]), 0xb4471bf8);
        assert_eq!(murmur3(0, &[0x00, 0x11, 0x22, 0x33, 0x44]), 0xe2301fa8);
    }

    #[test]
    fn a_txid_filter_matches_its_txid_and_round_trips() {
        let txid = Txid([5; 32]);
        let filter = BloomFilter::for_txid(&txid, 7);
        assert!(filter.contains(txid.as_bytes()));
        assert!(!filter.contains(&[6; 32]));
        assert_eq!(deserialize::<BloomFilter>(&serialize(&filter)), Ok(filter));
    }
}
