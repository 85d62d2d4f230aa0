//! The records the header store keeps: the tip pointer and the chunk layout.

use crate::block::HEADER_SIZE;
use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use crate::hash::BlockHash;

/// Headers in one full chunk record (the last chunk may hold fewer).
pub const CHUNK_SIZE: u32 = 2_000;

/// The largest chunk record in bytes.
pub const MAX_CHUNK_BYTES: usize = CHUNK_SIZE as usize * HEADER_SIZE;

/// Layout tag written as the first byte of an encoded [`TipRecord`].
const TIP_FORMAT: u8 = 1;

/// Where the header at `height` is kept when the store's first header is at
/// `base_height`: its chunk index and its byte offset inside that chunk.
/// `None` below the base.
pub fn chunk_position(base_height: u32, height: u32) -> Option<(u32, usize)> {
    let relative = height.checked_sub(base_height)?;
    let index = relative / CHUNK_SIZE;
    let offset = (relative % CHUNK_SIZE) as usize * HEADER_SIZE;
    Some((index, offset))
}

/// The tip pointer: which headers the store holds and what they add up to.
///
/// It is written in the same transaction as the chunks it covers, so it never
/// points past stored headers. Chunk `i` holds the headers at heights
/// `base_height + i * CHUNK_SIZE ..` (up to `CHUNK_SIZE` of them); chunks
/// `0..chunk_count()` are all present and together hold exactly the headers
/// `base_height..=height`.
///
/// Encoded as `u8 format (1) || u32 base_height || u32 height || 32-byte hash
/// (wire order) || 32-byte chain work (big-endian)`, integers little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TipRecord {
    base_height: u32,
    height: u32,
    hash: BlockHash,
    chain_work: [u8; 32],
}

impl TipRecord {
    /// Bytes in an encoded tip record.
    pub const ENCODED_LEN: usize = 1 + 4 + 4 + 32 + 32;

    /// A tip at `height` with hash `hash`, over headers from `base_height`
    /// (0 for genesis, or the checkpoint the sync started from), with total
    /// chain work `chain_work` (a 256-bit big-endian number). `None` if
    /// `height < base_height`.
    pub fn new(
        base_height: u32,
        height: u32,
        hash: BlockHash,
        chain_work: [u8; 32],
    ) -> Option<TipRecord> {
        (height >= base_height).then_some(TipRecord {
            base_height,
            height,
            hash,
            chain_work,
        })
    }

    /// Height of the first stored header (chunk 0, offset 0).
    pub fn base_height(&self) -> u32 {
        self.base_height
    }

    /// Height of the tip header.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Hash of the tip header.
    pub fn hash(&self) -> BlockHash {
        self.hash
    }

    /// Total chain work up to and including the tip (256-bit, big-endian).
    pub fn chain_work(&self) -> [u8; 32] {
        self.chain_work
    }

    /// Headers stored: `base_height..=height`.
    pub fn header_count(&self) -> u64 {
        u64::from(self.height - self.base_height) + 1
    }

    /// Chunks that hold those headers; the last one may be partial.
    pub fn chunk_count(&self) -> u32 {
        (self.height - self.base_height) / CHUNK_SIZE + 1
    }

    /// The encoded record.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::encode::serialize(self)
    }

    /// Decodes a stored record; it must be exactly [`Self::ENCODED_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<TipRecord, DecodeError> {
        crate::encode::deserialize(bytes)
    }
}

impl Encodable for TipRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(TIP_FORMAT);
        out.extend_from_slice(&self.base_height.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        self.hash.encode(out);
        out.extend_from_slice(&self.chain_work);
    }
}

impl Decodable for TipRecord {
    const MIN_ENCODED_SIZE: usize = TipRecord::ENCODED_LEN;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let format = r.read_u8()?;
        if format != TIP_FORMAT {
            return Err(DecodeError::InvalidValue {
                field: "tip format",
                value: u64::from(format),
            });
        }
        let base_height = r.read_u32()?;
        let height = r.read_u32()?;
        let hash = BlockHash::decode(r)?;
        let chain_work = r.read_array()?;
        TipRecord::new(base_height, height, hash, chain_work).ok_or(DecodeError::InvalidValue {
            field: "tip height below base height",
            value: u64::from(height),
        })
    }
}
