//! `getheaders` and `headers`: the header chain sync messages.
//!
//! `getheaders` = version `u32` · block locator (compact-size list of hashes)
//! · stop hash. `headers` = compact size `n` (at most 2,000) · `n` × (80-byte
//! header · transaction count, always 0).

use crate::block::{BlockHeader, HEADER_SIZE};
use crate::encode::{write_compact_size, write_vec, Decodable, DecodeError, Encodable, Reader};
use crate::hash::BlockHash;

/// The most headers one `headers` message carries (Dash Core's `MAX_HEADERS_RESULTS`).
pub const MAX_HEADERS: usize = 2000;

/// The most hashes a block locator may have (Dash Core's `MAX_LOCATOR_SZ`).
pub const MAX_LOCATOR_HASHES: usize = 101;

/// `getheaders`: asks for up to 2,000 headers after the first locator hash
/// that is on the peer's best chain, up to `stop_hash` (zero: as many as fit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetHeaders {
    /// The sender's protocol version.
    pub version: u32,
    /// Block hashes from the tip back to genesis, densest near the tip.
    pub locator: Vec<BlockHash>,
    /// The last header wanted, or zero.
    pub stop_hash: BlockHash,
}

impl Encodable for GetHeaders {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        write_vec(out, &self.locator);
        self.stop_hash.encode(out);
    }
}

impl Decodable for GetHeaders {
    const MIN_ENCODED_SIZE: usize = 4 + 1 + 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetHeaders {
            version: r.read_u32()?,
            locator: r.read_vec_max("block locator", MAX_LOCATOR_HASHES)?,
            stop_hash: BlockHash::decode(r)?,
        })
    }
}

/// Reads a `headers` payload's headers, checking that each transaction count is 0.
pub fn read_headers(r: &mut Reader<'_>) -> Result<Vec<BlockHeader>, DecodeError> {
    let len = r.read_count("headers", HEADER_SIZE + 1)?;
    if len > MAX_HEADERS {
        return Err(DecodeError::LengthTooLarge {
            field: "headers",
            len: len as u64,
            max: MAX_HEADERS as u64,
        });
    }
    let mut headers = r.alloc_vec("headers", len)?;
    for _ in 0..len {
        headers.push(BlockHeader::decode(r)?);
        let tx_count = r.read_compact_size()?;
        if tx_count != 0 {
            return Err(DecodeError::InvalidValue {
                field: "headers transaction count",
                value: tx_count,
            });
        }
    }
    Ok(headers)
}

/// Appends a `headers` payload.
pub fn write_headers(out: &mut Vec<u8>, headers: &[BlockHeader]) {
    write_compact_size(out, headers.len() as u64);
    for header in headers {
        header.encode(out);
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};
    use crate::hash::MerkleNode;

    fn header(nonce: u32) -> BlockHeader {
        BlockHeader {
            version: 0x2000_0000,
            prev_blockhash: BlockHash([1; 32]),
            merkle_root: MerkleNode([2; 32]),
            time: 1_700_000_000,
            bits: 0x1e0f_fff0,
            nonce,
        }
    }

    #[test]
    fn headers_carry_a_zero_transaction_count() {
        let headers = vec![header(1), header(2)];
        let mut bytes = Vec::new();
        write_headers(&mut bytes, &headers);
        assert_eq!(bytes.len(), 1 + 2 * 81);
        assert_eq!(bytes[81], 0);
        let mut r = Reader::new(&bytes);
        assert_eq!(read_headers(&mut r), Ok(headers));
        bytes[81] = 1;
        assert!(read_headers(&mut Reader::new(&bytes)).is_err());
    }

    #[test]
    fn more_than_2000_headers_are_rejected() {
        let mut bytes = Vec::new();
        write_headers(&mut bytes, &vec![header(0); MAX_HEADERS + 1]);
        assert!(matches!(
            read_headers(&mut Reader::new(&bytes)),
            Err(DecodeError::LengthTooLarge { max: 2000, .. })
        ));
    }

    #[test]
    fn getheaders_round_trips() {
        let m = GetHeaders {
            version: 70230,
            locator: vec![BlockHash([3; 32]), BlockHash([4; 32])],
            stop_hash: BlockHash::ZERO,
        };
        assert_eq!(deserialize::<GetHeaders>(&serialize(&m)), Ok(m));
    }
}
