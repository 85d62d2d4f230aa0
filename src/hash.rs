//! Hash functions and strongly typed 32-byte hashes.
//!
//! Hashes are stored in wire (little-endian) byte order and shown in display
//! (reversed) order, as Dash Core prints them.

use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use core::fmt;
use core::str::FromStr;

/// Double SHA-256 of `data`.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    bitcoin_hashes::sha256d::Hash::hash(data).to_byte_array()
}

/// X11 of an 80-byte block header: Dash's block hash and proof-of-work hash.
pub fn x11(header: &[u8; 80]) -> [u8; 32] {
    rs_x11_hash::get_x11_hash(header)
}

/// Why a hex string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseHashError(pub String);

impl fmt::Display for ParseHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a 32-byte hex hash: {}", self.0)
    }
}

impl std::error::Error for ParseHashError {}

macro_rules! hash_newtype {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The all-zero hash.
            pub const ZERO: Self = Self([0; 32]);

            /// The bytes in wire order.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Whether every byte is zero.
            pub fn is_zero(&self) -> bool {
                self.0 == [0; 32]
            }

            /// The hash in display order, as hex.
            pub fn to_display_hex(&self) -> String {
                let mut reversed = self.0;
                reversed.reverse();
                hex::encode(reversed)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_display_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_display_hex())
            }
        }

        impl FromStr for $name {
            type Err = ParseHashError;

            /// Parses a hash written in display order.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(s, &mut bytes).map_err(|_| ParseHashError(s.to_owned()))?;
                bytes.reverse();
                Ok(Self(bytes))
            }
        }

        impl Encodable for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }

        impl Decodable for $name {
            const MIN_ENCODED_SIZE: usize = 32;
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self(r.read_array()?))
            }
        }
    )*};
}

hash_newtype! {
    /// A block hash: X11 of the block header.
    BlockHash;
    /// A transaction id: double SHA-256 of the transaction.
    Txid;
    /// A node of a merkle tree (transactions, masternode list or quorums).
    MerkleNode;
    /// The hash of a masternode's ProRegTx, its identity in the list.
    ProTxHash;
    /// A double SHA-256 digest that is none of the named kinds (sign hashes, request ids).
    Sha256dHash;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_order_is_reversed_wire_order() {
        let h: BlockHash = "00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c"
            .parse()
            .unwrap();
        assert_eq!(h.0[31], 0x00);
        assert_eq!(h.0[0], 0x2c);
        assert_eq!(
            h.to_string(),
            "00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c"
        );
    }

    #[test]
    fn malformed_hex_is_an_error() {
        assert!("zz".parse::<BlockHash>().is_err());
        assert!("00".parse::<BlockHash>().is_err());
    }

    #[test]
    fn sha256d_of_empty_input() {
        assert_eq!(
            hex::encode(sha256d(b"")),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }
}
