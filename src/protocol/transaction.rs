//! Dash transactions, including special transactions (DIP-2): the 32-bit
//! version field holds a 16-bit version and a 16-bit type, and a special
//! transaction ends with a type-specific extra payload.
//!
//! The light client only meets transactions inside `mnlistdiff` (the coinbase),
//! but the decoder reads any transaction.

use crate::encode::{write_var_bytes, write_vec, Decodable, DecodeError, Encodable, Reader};
use crate::hash::{sha256d, Txid};

/// The transaction version from which a non-zero type means an extra payload.
pub const SPECIAL_TX_VERSION: i16 = 3;

/// The special transaction type of a coinbase (DIP-4).
pub const TX_TYPE_COINBASE: u16 = 5;

/// A reference to an output of an earlier transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutPoint {
    /// The transaction that holds the output.
    pub txid: Txid,
    /// The output's index in it.
    pub vout: u32,
}

impl OutPoint {
    /// The null outpoint of a coinbase input.
    pub const NULL: OutPoint = OutPoint {
        txid: Txid::ZERO,
        vout: u32::MAX,
    };
}

impl Encodable for OutPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        self.txid.encode(out);
        self.vout.encode(out);
    }
}

impl Decodable for OutPoint {
    const MIN_ENCODED_SIZE: usize = 36;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(OutPoint {
            txid: Txid::decode(r)?,
            vout: r.read_u32()?,
        })
    }
}

/// A transaction input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TxIn {
    /// The output spent.
    pub previous_output: OutPoint,
    /// The unlocking script (for a coinbase: the height and extra data).
    pub script_sig: Vec<u8>,
    /// The sequence number.
    pub sequence: u32,
}

impl Encodable for TxIn {
    fn encode(&self, out: &mut Vec<u8>) {
        self.previous_output.encode(out);
        write_var_bytes(out, &self.script_sig);
        self.sequence.encode(out);
    }
}

impl Decodable for TxIn {
    const MIN_ENCODED_SIZE: usize = 36 + 1 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxIn {
            previous_output: OutPoint::decode(r)?,
            script_sig: r.read_var_bytes_owned("script sig")?,
            sequence: r.read_u32()?,
        })
    }
}

/// A transaction output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TxOut {
    /// The amount in duffs.
    pub value: i64,
    /// The locking script.
    pub script_pubkey: Vec<u8>,
}

impl Encodable for TxOut {
    fn encode(&self, out: &mut Vec<u8>) {
        self.value.encode(out);
        write_var_bytes(out, &self.script_pubkey);
    }
}

impl Decodable for TxOut {
    const MIN_ENCODED_SIZE: usize = 8 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxOut {
            value: r.read_i64()?,
            script_pubkey: r.read_var_bytes_owned("script pubkey")?,
        })
    }
}

/// A Dash transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transaction {
    /// The version (low 16 bits of the 32-bit version field).
    pub version: i16,
    /// The special transaction type (high 16 bits); 0 for a normal transaction.
    pub tx_type: u16,
    /// The inputs.
    pub inputs: Vec<TxIn>,
    /// The outputs.
    pub outputs: Vec<TxOut>,
    /// The lock time.
    pub lock_time: u32,
    /// The special transaction's payload; on the wire only when
    /// [`Transaction::has_extra_payload`] (otherwise empty).
    pub extra_payload: Vec<u8>,
}

impl Transaction {
    /// Whether the wire form ends with an extra payload: version 3 or later
    /// and a non-zero type.
    pub fn has_extra_payload(&self) -> bool {
        self.version >= SPECIAL_TX_VERSION && self.tx_type != 0
    }

    /// The transaction id: double SHA-256 of the serialized transaction.
    pub fn txid(&self) -> Txid {
        Txid(sha256d(&crate::encode::serialize(self)))
    }

    /// Whether this is a coinbase: one input spending the null outpoint.
    pub fn is_coinbase(&self) -> bool {
        matches!(self.inputs.as_slice(), [input] if input.previous_output == OutPoint::NULL)
    }
}

impl Encodable for Transaction {
    fn encode(&self, out: &mut Vec<u8>) {
        let version_field = u32::from(self.version as u16) | (u32::from(self.tx_type) << 16);
        version_field.encode(out);
        write_vec(out, &self.inputs);
        write_vec(out, &self.outputs);
        self.lock_time.encode(out);
        if self.has_extra_payload() {
            write_var_bytes(out, &self.extra_payload);
        }
    }
}

impl Decodable for Transaction {
    const MIN_ENCODED_SIZE: usize = 4 + 1 + 1 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version_field = r.read_u32()?;
        let mut tx = Transaction {
            version: (version_field & 0xffff) as u16 as i16,
            tx_type: (version_field >> 16) as u16,
            inputs: r.read_vec("transaction inputs")?,
            outputs: r.read_vec("transaction outputs")?,
            lock_time: r.read_u32()?,
            extra_payload: Vec::new(),
        };
        if tx.has_extra_payload() {
            tx.extra_payload = r.read_var_bytes_owned("extra payload")?;
        }
        Ok(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    fn special_tx() -> Transaction {
        Transaction {
            version: 3,
            tx_type: TX_TYPE_COINBASE,
            inputs: vec![TxIn {
                previous_output: OutPoint::NULL,
                script_sig: vec![3, 1, 2, 3],
                sequence: u32::MAX,
            }],
            outputs: vec![TxOut {
                value: 5_000_000,
                script_pubkey: vec![0x76, 0xa9],
            }],
            lock_time: 0,
            extra_payload: vec![9, 9, 9],
        }
    }

    #[test]
    fn version_and_type_share_the_first_word() {
        let tx = special_tx();
        let bytes = serialize(&tx);
        assert_eq!(&bytes[..4], &[3, 0, 5, 0]);
        assert_eq!(&bytes[bytes.len() - 4..], &[3, 9, 9, 9]);
        assert_eq!(deserialize::<Transaction>(&bytes), Ok(tx.clone()));
        assert!(tx.is_coinbase());
    }

    #[test]
    fn a_normal_transaction_has_no_extra_payload() {
        let mut tx = special_tx();
        tx.version = 2;
        tx.extra_payload.clear();
        let bytes = serialize(&tx);
        assert_eq!(bytes.last(), Some(&0));
        assert_eq!(deserialize::<Transaction>(&bytes), Ok(tx));
    }
}
