//! The coinbase special transaction (DIP-4, type 5) and its payload `CbTx`:
//! the block height and the merkle roots of the masternode list and the
//! active quorums, and from version 3 the best ChainLock and the credit pool.

use super::transaction::{Transaction, SPECIAL_TX_VERSION, TX_TYPE_COINBASE};
use crate::encode::{
    deserialize, serialize, write_compact_size, Decodable, DecodeError, Encodable, Reader,
};
use crate::hash::{MerkleNode, Txid};

/// The coinbase payload (`CCbTx`). Fields a version lacks are zero and not on
/// the wire: `merkle_root_quorums` from version 2, the ChainLock fields and
/// `credit_pool_balance` from version 3.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CoinbasePayload {
    /// Payload version, 1 to 3.
    pub version: u16,
    /// Height of the block.
    pub height: u32,
    /// Merkle root of the block's simplified masternode list.
    pub merkle_root_mn_list: MerkleNode,
    /// Merkle root of the active quorums' commitments (version 2 and later).
    pub merkle_root_quorums: MerkleNode,
    /// How many blocks below `height - 1` the best ChainLock known to the
    /// miner is (version 3; a compact size on the wire).
    pub best_cl_height_diff: u32,
    /// The best ChainLock's BLS signature (version 3).
    pub best_cl_signature: [u8; 96],
    /// The platform credit pool balance in duffs (version 3).
    pub credit_pool_balance: i64,
}

impl CoinbasePayload {
    /// The latest payload version this decoder reads.
    pub const MAX_VERSION: u16 = 3;

    /// The quorums' merkle root, if this version carries one.
    pub fn merkle_root_quorums(&self) -> Option<MerkleNode> {
        (self.version >= 2).then_some(self.merkle_root_quorums)
    }

    /// The best ChainLock as (height, signature), if this version carries one.
    /// Its height is `height - 1 - best_cl_height_diff`; `None` also when that
    /// would be negative.
    pub fn best_chainlock(&self) -> Option<(u32, [u8; 96])> {
        if self.version < 3 {
            return None;
        }
        let cl_height = self
            .height
            .checked_sub(1)?
            .checked_sub(self.best_cl_height_diff)?;
        Some((cl_height, self.best_cl_signature))
    }
}

impl Encodable for CoinbasePayload {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.height.encode(out);
        self.merkle_root_mn_list.encode(out);
        if self.version >= 2 {
            self.merkle_root_quorums.encode(out);
        }
        if self.version >= 3 {
            write_compact_size(out, u64::from(self.best_cl_height_diff));
            self.best_cl_signature.encode(out);
            self.credit_pool_balance.encode(out);
        }
    }
}

impl Decodable for CoinbasePayload {
    const MIN_ENCODED_SIZE: usize = 2 + 4 + 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.read_u16()?;
        if version == 0 {
            return Err(DecodeError::InvalidValue {
                field: "coinbase payload version",
                value: 0,
            });
        }
        if version > Self::MAX_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                field: "coinbase payload version",
                version: u64::from(version),
            });
        }
        let mut payload = CoinbasePayload {
            version,
            height: r.read_u32()?,
            merkle_root_mn_list: MerkleNode::decode(r)?,
            merkle_root_quorums: MerkleNode::ZERO,
            best_cl_height_diff: 0,
            best_cl_signature: [0; 96],
            credit_pool_balance: 0,
        };
        if version >= 2 {
            payload.merkle_root_quorums = MerkleNode::decode(r)?;
        }
        if version >= 3 {
            let diff = r.read_compact_size()?;
            payload.best_cl_height_diff =
                u32::try_from(diff).map_err(|_| DecodeError::InvalidValue {
                    field: "best ChainLock height difference",
                    value: diff,
                })?;
            payload.best_cl_signature = r.read_array()?;
            payload.credit_pool_balance = r.read_i64()?;
        }
        Ok(payload)
    }
}

/// A coinbase special transaction with its payload decoded. The payload is
/// decoded from the transaction's extra payload, which must hold exactly one
/// [`CoinbasePayload`]; the transaction is kept whole so it re-encodes
/// byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CoinbaseTransaction {
    tx: Transaction,
    payload: CoinbasePayload,
}

impl CoinbaseTransaction {
    /// Checks that `tx` is a coinbase special transaction and decodes its payload.
    pub fn from_transaction(tx: Transaction) -> Result<CoinbaseTransaction, DecodeError> {
        if tx.tx_type != TX_TYPE_COINBASE {
            return Err(DecodeError::InvalidValue {
                field: "coinbase transaction type",
                value: u64::from(tx.tx_type),
            });
        }
        if tx.version < SPECIAL_TX_VERSION {
            return Err(DecodeError::InvalidValue {
                field: "coinbase transaction version",
                value: tx.version as u64,
            });
        }
        let payload = deserialize(&tx.extra_payload)?;
        Ok(CoinbaseTransaction { tx, payload })
    }

    /// A coinbase transaction carrying `payload` (its extra payload is replaced).
    pub fn new(mut tx: Transaction, payload: CoinbasePayload) -> CoinbaseTransaction {
        tx.tx_type = TX_TYPE_COINBASE;
        tx.version = tx.version.max(SPECIAL_TX_VERSION);
        tx.extra_payload = serialize(&payload);
        CoinbaseTransaction { tx, payload }
    }

    /// The whole transaction.
    pub fn transaction(&self) -> &Transaction {
        &self.tx
    }

    /// The decoded coinbase payload.
    pub fn payload(&self) -> &CoinbasePayload {
        &self.payload
    }

    /// The block height the payload states.
    pub fn height(&self) -> u32 {
        self.payload.height
    }

    /// The transaction id (the leaf the diff's partial merkle tree proves).
    pub fn txid(&self) -> Txid {
        self.tx.txid()
    }
}

impl Encodable for CoinbaseTransaction {
    fn encode(&self, out: &mut Vec<u8>) {
        self.tx.encode(out);
    }
}

impl Decodable for CoinbaseTransaction {
    const MIN_ENCODED_SIZE: usize = Transaction::MIN_ENCODED_SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        CoinbaseTransaction::from_transaction(Transaction::decode(r)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::transaction::{OutPoint, TxIn};

    fn payload(version: u16) -> CoinbasePayload {
        CoinbasePayload {
            version,
            height: 905_762,
            merkle_root_mn_list: MerkleNode([1; 32]),
            merkle_root_quorums: if version >= 2 {
                MerkleNode([2; 32])
            } else {
                MerkleNode::ZERO
            },
            best_cl_height_diff: if version >= 3 { 300 } else { 0 },
            best_cl_signature: if version >= 3 { [7; 96] } else { [0; 96] },
            credit_pool_balance: if version >= 3 { 42 } else { 0 },
        }
    }

    #[test]
    fn every_version_round_trips_with_its_own_fields() {
        for (version, len) in [(1, 38), (2, 70), (3, 70 + 3 + 96 + 8)] {
            let p = payload(version);
            let bytes = serialize(&p);
            assert_eq!(bytes.len(), len, "version {version}");
            assert_eq!(deserialize::<CoinbasePayload>(&bytes), Ok(p));
        }
    }

    #[test]
    fn best_chainlock_height_is_relative_to_the_parent() {
        assert_eq!(payload(3).best_chainlock(), Some((905_761 - 300, [7; 96])));
        assert_eq!(payload(2).best_chainlock(), None);
        assert_eq!(payload(1).merkle_root_quorums(), None);
    }

    #[test]
    fn unknown_payload_versions_are_rejected() {
        let mut bytes = serialize(&payload(2));
        bytes[0] = 4;
        assert!(matches!(
            deserialize::<CoinbasePayload>(&bytes),
            Err(DecodeError::UnsupportedVersion {
                field: "coinbase payload version",
                version: 4
            })
        ));
        bytes[0] = 0;
        assert!(matches!(
            deserialize::<CoinbasePayload>(&bytes),
            Err(DecodeError::InvalidValue { .. })
        ));
    }

    #[test]
    fn a_normal_transaction_is_not_a_coinbase_special_transaction() {
        let tx = Transaction {
            version: 3,
            tx_type: 0,
            inputs: vec![TxIn {
                previous_output: OutPoint::NULL,
                script_sig: vec![],
                sequence: 0,
            }],
            outputs: vec![],
            lock_time: 0,
            extra_payload: vec![],
        };
        assert!(CoinbaseTransaction::from_transaction(tx.clone()).is_err());
        let cb = CoinbaseTransaction::new(tx, payload(3));
        let decoded: CoinbaseTransaction = deserialize(&serialize(&cb)).unwrap();
        assert_eq!(decoded.height(), 905_762);
        assert_eq!(decoded, cb);
    }
}
