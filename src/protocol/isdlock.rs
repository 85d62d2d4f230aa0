//! Deterministic InstantSend locks (`isdlock`, DIP-22): a rotated quorum's BLS
//! signature that locks a transaction's inputs, with the hash of the DKG cycle
//! whose quorums sign it.
//!
//! Wire layout: `u8 version || compactsize(n) || n × outpoint || txid ||
//! cycleHash || 96-byte BLS signature`.

use super::transaction::OutPoint;
use crate::encode::{serialize, write_vec, Decodable, DecodeError, Encodable, Reader};
use crate::hash::{sha256d, BlockHash, Sha256dHash, Txid};

/// The only `isdlock` version Dash Core sends (others decode, but do not verify).
pub const ISDLOCK_VERSION: u8 = 1;

/// At most this many inputs are read from one lock (a transaction within the
/// 1 MB standard size holds fewer than 25,000 inputs of 41 bytes).
pub const MAX_LOCK_INPUTS: usize = 25_000;

/// A deterministic InstantSend lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstantLock {
    /// The lock's version (1).
    pub version: u8,
    /// The outpoints the transaction spends, which the lock locks.
    pub inputs: Vec<OutPoint>,
    /// The locked transaction.
    pub txid: Txid,
    /// The block that starts the DKG cycle whose quorums sign the lock
    /// (from protocol 70237 on, the signing quorum's cycle; before, the cycle
    /// of the chain tip when the lock was signed).
    pub cycle_hash: BlockHash,
    /// The quorum's BLS signature of the sign hash.
    pub signature: [u8; 96],
}

impl InstantLock {
    /// The fewest bytes a lock takes on the wire (no inputs).
    pub const MIN_ENCODED_SIZE: usize = 1 + 1 + 32 + 32 + 96;

    /// The request id: `dSHA256(compactsize-string "islock" || compactsize(n) || inputs)`.
    pub fn request_id(&self) -> Sha256dHash {
        let mut data = Vec::with_capacity(8 + 36 * self.inputs.len() + 9);
        data.push(6);
        data.extend_from_slice(b"islock");
        write_vec(&mut data, &self.inputs);
        Sha256dHash(sha256d(&data))
    }

    /// The hash of the serialized lock (its inventory hash).
    pub fn hash(&self) -> Sha256dHash {
        Sha256dHash(sha256d(&serialize(self)))
    }
}

impl Encodable for InstantLock {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.version);
        write_vec(out, &self.inputs);
        self.txid.encode(out);
        self.cycle_hash.encode(out);
        self.signature.encode(out);
    }
}

impl Decodable for InstantLock {
    const MIN_ENCODED_SIZE: usize = InstantLock::MIN_ENCODED_SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(InstantLock {
            version: r.read_u8()?,
            inputs: r.read_vec_max("isdlock inputs", MAX_LOCK_INPUTS)?,
            txid: Txid::decode(r)?,
            cycle_hash: BlockHash::decode(r)?,
            signature: r.read_array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::deserialize;

    fn lock() -> InstantLock {
        InstantLock {
            version: 1,
            inputs: vec![OutPoint {
                txid: Txid([7; 32]),
                vout: 3,
            }],
            txid: Txid([1; 32]),
            cycle_hash: BlockHash([2; 32]),
            signature: [3; 96],
        }
    }

    #[test]
    fn encodes_and_decodes_every_field() {
        let bytes = serialize(&lock());
        assert_eq!(bytes.len(), InstantLock::MIN_ENCODED_SIZE + 36);
        assert_eq!(deserialize::<InstantLock>(&bytes), Ok(lock()));
    }

    #[test]
    fn truncated_or_extended_locks_are_errors() {
        let bytes = serialize(&lock());
        for len in 0..bytes.len() {
            assert!(deserialize::<InstantLock>(&bytes[..len]).is_err());
        }
        let mut longer = bytes;
        longer.push(0);
        assert!(deserialize::<InstantLock>(&longer).is_err());
    }

    #[test]
    fn request_id_hashes_prefix_and_inputs() {
        let l = lock();
        let mut data = vec![6u8];
        data.extend_from_slice(b"islock");
        data.push(1);
        data.extend_from_slice(&[7; 32]);
        data.extend_from_slice(&3u32.to_le_bytes());
        assert_eq!(l.request_id().0, sha256d(&data));
    }
}
