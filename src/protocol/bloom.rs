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
    /// A filter that matches `txid` (and, by chance, about 3 in 10 million
    /// other items), with the given tweak and no updates.
    pub fn for_txid(txid: &Txid, tweak: u32) -> BloomFilter {
        // 32 bits and 20 hash functions: one element sets about 15 bits, so
        // another item matches with odds of about (15/32)^20, 3 in 10 million.
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

    /// Dash Core `src/test/hash_tests.cpp` (`murmurhash3`, the same cases as
    /// Bitcoin Core's) @ 0edae12358849ffeccab816e61a64502ef6f913a: every
    /// case, as (expected, seed, data).
    const MURMUR3_VECTORS: [(u32, u32, &str); 14] = [
        (0x0000_0000, 0x0000_0000, ""),
        (0x6a39_6f08, 0xFBA4_C795, ""),
        (0x81f1_6f39, 0xffff_ffff, ""),
        (0x514e_28b7, 0x0000_0000, "00"),
        (0xea3f_0b17, 0xFBA4_C795, "00"),
        (0xfd6c_f10d, 0x0000_0000, "ff"),
        (0x16c6_b7ab, 0x0000_0000, "0011"),
        (0x8eb5_1c3d, 0x0000_0000, "001122"),
        (0xb447_1bf8, 0x0000_0000, "00112233"),
        (0xe230_1fa8, 0x0000_0000, "0011223344"),
        (0xfc2e_4a15, 0x0000_0000, "001122334455"),
        (0xb074_502c, 0x0000_0000, "00112233445566"),
        (0x8034_d2a0, 0x0000_0000, "0011223344556677"),
        (0xb469_8def, 0x0000_0000, "001122334455667788"),
    ];

    #[test]
    fn murmur3_matches_dash_core_vectors() {
        for (expected, seed, data) in MURMUR3_VECTORS {
            let data = hex::decode(data).unwrap();
            assert_eq!(
                murmur3(seed, &data),
                expected,
                "seed {seed:#x}, {data:02x?}"
            );
        }
    }

    /// Dash Core `src/test/bloom_tests.cpp` (`bloom_create_insert_serialize`
    /// and `..._with_tweak`) @ 0edae12358849ffeccab816e61a64502ef6f913a:
    /// `CBloomFilter(3, 0.01, tweak, BLOOM_UPDATE_ALL)` (3 bytes, 5 hash
    /// functions) after inserting three items serializes as stated.
    #[test]
    fn filters_serialize_as_dash_core_states() {
        const ITEMS: [&str; 3] = [
            "99108ad8ed9bb6274d3980bab5a85c048f0950c8",
            "b5a2c786d9ef4658287ced5914b37a1b4aa32eee",
            "b9300670b4c5366e95b2699e8b18bc75e5f729c5",
        ];
        for (tweak, expected) in [
            (0, "03614e9b050000000000000001"),
            (2_147_483_649, "03ce4299050000000100008001"),
        ] {
            let mut filter = BloomFilter {
                data: vec![0; 3],
                hash_funcs: 5,
                tweak,
                flags: 1,
            };
            let first = hex::decode(ITEMS[0]).unwrap();
            filter.insert(&first);
            assert!(filter.contains(&first));
            // One bit different in the first byte.
            let mut other = first.clone();
            other[0] ^= 0x80;
            assert!(!filter.contains(&other), "tweak {tweak}");
            for item in &ITEMS[1..] {
                let item = hex::decode(item).unwrap();
                filter.insert(&item);
                assert!(filter.contains(&item));
            }
            assert_eq!(hex::encode(serialize(&filter)), expected);
            assert_eq!(
                deserialize::<BloomFilter>(&hex::decode(expected).unwrap()),
                Ok(filter)
            );
        }
    }

    /// Dash Core `src/test/bloom_tests.cpp` (`merkle_block_3_and_serialize`)
    /// @ 0edae12358849ffeccab816e61a64502ef6f913a: the `merkleblock` of a real
    /// one-transaction (Bitcoin) block, matching its only transaction.
    #[test]
    fn a_real_merkleblock_decodes_byte_exact_and_proves_its_transaction() {
        const MERKLEBLOCK: &str = "0100000079cda856b143d9db2c1caff01d1aecc8630d30625d10e8b4b8b0000000000000b50cc069d6a3e33e3ff84a5c41d9d3febe7c770fdcc96b2c3ff60abe184f196367291b4d4c86041b8fa45d630100000001b50cc069d6a3e33e3ff84a5c41d9d3febe7c770fdcc96b2c3ff60abe184f19630101";
        let bytes = hex::decode(MERKLEBLOCK).unwrap();
        let block: MerkleBlock = deserialize(&bytes).unwrap();
        assert_eq!(serialize(&block), bytes);
        assert_eq!(block.tree.total_transactions, 1);
        let txid: Txid = "63194f18be0af63f2c6bc9dc0f777cbefed3d9415c4af83f3ee3a3d669c00cb5"
            .parse()
            .unwrap();
        let proof = crate::proof::TransactionProof::PartialTree(block.tree.clone());
        assert_eq!(proof.verify(&txid, &block.header), Ok(0));
        let mut other = txid;
        other.0[0] ^= 1;
        assert!(proof.verify(&other, &block.header).is_err());
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
