//! The stored records' byte layout: one chain record (schema version,
//! network, sync base, tip) and header chunks.
//!
//! A backend keeps the chain record under one key and each chunk under its
//! chunk number, and writes a batch's chunks and the chain record in one
//! transaction.

use super::error::StorageError;
use crate::block::{BlockHeader, HEADER_SIZE};
use crate::chain::{ChainTip, SyncBase, Work};
use crate::encode::Reader;
use crate::hash::BlockHash;
use crate::network::Network;

/// The schema version written by this code.
pub const SCHEMA_VERSION: u32 = 1;

/// Headers per chunk record (160,000 bytes).
pub const CHUNK_HEADERS: u32 = 2000;

/// What a store holds besides the headers: where the chain starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredChain {
    /// The sync base; its header is stored as the first header.
    pub base: SyncBase,
    /// The last stored header's height, hash and chain work.
    pub tip: ChainTip,
}

impl StoredChain {
    /// A chain holding only its base.
    pub fn at_base(base: SyncBase) -> StoredChain {
        StoredChain {
            base,
            tip: ChainTip {
                height: base.height(),
                hash: base.hash(),
                chain_work: base.chain_work(),
            },
        }
    }

    /// The chain record's bytes (current schema).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(192);
        out.extend_from_slice(&SCHEMA_VERSION.to_le_bytes());
        out.extend_from_slice(&self.base.network().magic());
        out.extend_from_slice(&self.base.height().to_le_bytes());
        out.extend_from_slice(&self.base.header().to_bytes());
        out.extend_from_slice(&self.base.chain_work().to_be_bytes());
        out.extend_from_slice(&self.tip.height.to_le_bytes());
        out.extend_from_slice(self.tip.hash.as_bytes());
        out.extend_from_slice(&self.tip.chain_work.to_be_bytes());
        out
    }

    /// Reads a chain record of this or an older schema (upgrading it).
    pub fn decode(bytes: &[u8]) -> Result<StoredChain, StorageError> {
        let mut r = Reader::new(bytes);
        let version = r.read_u32().map_err(corrupt("chain record"))?;
        match version {
            1 => decode_v1(&mut r),
            found => Err(StorageError::UnsupportedSchema {
                found,
                supported: SCHEMA_VERSION,
            }),
        }
    }
}

fn corrupt<E: core::fmt::Display>(what: &'static str) -> impl Fn(E) -> StorageError {
    move |e| StorageError::Corrupt {
        what: format!("{what}: {e}"),
    }
}

fn decode_v1(r: &mut Reader<'_>) -> Result<StoredChain, StorageError> {
    let read = corrupt("chain record");
    let magic: [u8; 4] = r.read_array().map_err(&read)?;
    let network = Network::from_magic(magic).ok_or_else(|| StorageError::Corrupt {
        what: format!("unknown network magic {}", hex::encode(magic)),
    })?;
    let base_height = r.read_u32().map_err(&read)?;
    let base_header = BlockHeader::from_bytes(&r.read_array().map_err(&read)?);
    let base_work = Work::from_be_bytes(&r.read_array().map_err(&read)?);
    let tip_height = r.read_u32().map_err(&read)?;
    let tip_hash = BlockHash(r.read_array().map_err(&read)?);
    let tip_work = Work::from_be_bytes(&r.read_array().map_err(&read)?);
    r.finish().map_err(&read)?;
    let base = SyncBase::new(network, base_height, base_header, base_work)
        .map_err(corrupt("sync base"))?;
    if tip_height < base_height {
        return Err(StorageError::Corrupt {
            what: format!("tip {tip_height} below the sync base {base_height}"),
        });
    }
    Ok(StoredChain {
        base,
        tip: ChainTip {
            height: tip_height,
            hash: tip_hash,
            chain_work: tip_work,
        },
    })
}

/// The chunk holding `height`.
pub fn chunk_of(height: u32) -> u32 {
    height / CHUNK_HEADERS
}

/// The first height stored in `chunk` of a chain starting at `base_height`.
pub fn chunk_first_height(chunk: u32, base_height: u32) -> u32 {
    chunk.saturating_mul(CHUNK_HEADERS).max(base_height)
}

/// One chunk record to write: the first `keep_bytes` of the stored record,
/// followed by `append`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkWrite {
    /// The chunk number (the record's key).
    pub chunk: u32,
    /// Bytes of the stored record to keep (0: the record is replaced).
    pub keep_bytes: usize,
    /// Header bytes that follow the kept ones.
    pub append: Vec<u8>,
}

impl ChunkWrite {
    /// The new record, given the stored one.
    pub fn apply(&self, stored: Option<&[u8]>) -> Result<Vec<u8>, StorageError> {
        let kept = match stored {
            _ if self.keep_bytes == 0 => &[][..],
            Some(bytes) if bytes.len() >= self.keep_bytes => &bytes[..self.keep_bytes],
            _ => {
                return Err(StorageError::Corrupt {
                    what: format!(
                        "chunk {} shorter than {} bytes",
                        self.chunk, self.keep_bytes
                    ),
                })
            }
        };
        let mut record = Vec::with_capacity(kept.len() + self.append.len());
        record.extend_from_slice(kept);
        record.extend_from_slice(&self.append);
        Ok(record)
    }
}

/// The records one batch write touches: chunk records to write, chunk records
/// to delete (wholly above the new tip), and the new chain record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritePlan {
    /// Chunk records to write, lowest first.
    pub writes: Vec<ChunkWrite>,
    /// Chunk records to delete.
    pub deletes: Vec<u32>,
    /// The chain record after the write.
    pub chain: StoredChain,
}

/// Plans writing `headers` at `first_height..` over `stored`, ending at `tip`.
///
/// Everything stored above the new tip is dropped, so a write after a
/// reorganisation replaces the old branch.
pub fn plan_write(
    stored: &StoredChain,
    first_height: u32,
    headers: &[BlockHeader],
    tip: &ChainTip,
) -> Result<WritePlan, StorageError> {
    let base_height = stored.base.height();
    let invalid = StorageError::InvalidWrite {
        first_height,
        base_height,
        tip_height: stored.tip.height,
    };
    let count = u32::try_from(headers.len()).map_err(|_| invalid.clone())?;
    if first_height <= base_height
        || first_height > stored.tip.height.saturating_add(1)
        || count == 0
        || first_height.checked_add(count - 1) != Some(tip.height)
        || tip.height == u32::MAX
    {
        return Err(invalid);
    }
    let mut writes = Vec::new();
    for (height, header) in (first_height..).zip(headers) {
        let chunk = chunk_of(height);
        if writes.last().map(|w: &ChunkWrite| w.chunk) != Some(chunk) {
            let offset = height - chunk_first_height(chunk, base_height);
            writes.push(ChunkWrite {
                chunk,
                keep_bytes: offset as usize * HEADER_SIZE,
                append: Vec::with_capacity(CHUNK_HEADERS as usize * HEADER_SIZE),
            });
        }
        if let Some(write) = writes.last_mut() {
            write.append.extend_from_slice(&header.to_bytes());
        }
    }
    let deletes = (chunk_of(tip.height) + 1..=chunk_of(stored.tip.height)).collect();
    Ok(WritePlan {
        writes,
        deletes,
        chain: StoredChain {
            base: stored.base,
            tip: *tip,
        },
    })
}

/// Headers `from_height..` (at most `count`, not past the tip) as chunk
/// reads: `(chunk, first byte, end byte)` of each record.
pub fn plan_read(
    stored: &StoredChain,
    from_height: u32,
    count: u32,
) -> Result<Vec<(u32, usize, usize)>, StorageError> {
    let base_height = stored.base.height();
    if from_height < base_height || from_height > stored.tip.height {
        return Err(StorageError::OutOfRange {
            from_height,
            base_height,
            tip_height: stored.tip.height,
        });
    }
    if count == 0 {
        return Ok(Vec::new());
    }
    let last = stored.tip.height.min(from_height.saturating_add(count - 1));
    let mut reads = Vec::new();
    let mut height = from_height;
    while height <= last {
        let chunk = chunk_of(height);
        let chunk_first = chunk_first_height(chunk, base_height);
        let chunk_last = (chunk.saturating_add(1))
            .saturating_mul(CHUNK_HEADERS)
            .saturating_sub(1)
            .min(last);
        let start = (height - chunk_first) as usize * HEADER_SIZE;
        let end = (chunk_last - chunk_first + 1) as usize * HEADER_SIZE;
        reads.push((chunk, start, end));
        match chunk_last.checked_add(1) {
            Some(next) => height = next,
            None => break,
        }
    }
    Ok(reads)
}

/// Decodes the headers in `bytes[start..end]` of chunk record `chunk`.
pub fn read_chunk(
    chunk: u32,
    record: Option<&[u8]>,
    start: usize,
    end: usize,
) -> Result<Vec<BlockHeader>, StorageError> {
    let bytes = record
        .and_then(|r| r.get(start..end))
        .ok_or_else(|| StorageError::Corrupt {
            what: format!("chunk {chunk} lacks bytes {start}..{end}"),
        })?;
    Ok(bytes
        .chunks_exact(HEADER_SIZE)
        .map(|raw| {
            let mut header = [0u8; HEADER_SIZE];
            header.copy_from_slice(raw);
            BlockHeader::from_bytes(&header)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(base_height: u32, tip_height: u32) -> StoredChain {
        let base = SyncBase::at_checkpoint(Network::Testnet, base_height).unwrap();
        let mut chain = StoredChain::at_base(base);
        chain.tip.height = tip_height;
        chain
    }

    fn tip(height: u32) -> ChainTip {
        ChainTip {
            height,
            hash: BlockHash::ZERO,
            chain_work: Work::ZERO,
        }
    }

    fn headers(n: usize) -> Vec<BlockHeader> {
        vec![*SyncBase::genesis(Network::Testnet).header(); n]
    }

    #[test]
    fn chain_record_round_trips() {
        let chain = stored(898_560, 900_000);
        let bytes = chain.encode();
        assert_eq!(bytes.len(), 192);
        assert_eq!(StoredChain::decode(&bytes), Ok(chain));
    }

    #[test]
    fn unknown_schemas_and_damage_are_typed_errors() {
        let mut bytes = stored(0, 10).encode();
        bytes[0] = 9;
        assert_eq!(
            StoredChain::decode(&bytes),
            Err(StorageError::UnsupportedSchema {
                found: 9,
                supported: 1
            })
        );
        let bytes = stored(0, 10).encode();
        assert!(matches!(
            StoredChain::decode(&bytes[..100]),
            Err(StorageError::Corrupt { .. })
        ));
        let mut bytes = stored(0, 10).encode();
        bytes[20] ^= 1;
        assert!(matches!(
            StoredChain::decode(&bytes),
            Err(StorageError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_write_spans_chunks_and_keeps_the_stored_prefix() {
        // Base 898560 is chunk 449's height 898000 + 560.
        let chain = stored(898_560, 899_000);
        let plan = plan_write(&chain, 899_001, &headers(3_500), &tip(902_500)).unwrap();
        let chunks: Vec<(u32, usize, usize)> = plan
            .writes
            .iter()
            .map(|w| (w.chunk, w.keep_bytes, w.append.len() / HEADER_SIZE))
            .collect();
        // Chunk 449 holds 898560..=899999: 441 kept, 999 new.
        assert_eq!(
            chunks,
            [(449, 441 * 80, 999), (450, 0, 2000), (451, 0, 501)]
        );
        assert!(plan.deletes.is_empty());
    }

    #[test]
    fn a_write_below_the_tip_drops_what_was_above() {
        let chain = stored(0, 10_500);
        let plan = plan_write(&chain, 3_990, &headers(20), &tip(4_009)).unwrap();
        assert_eq!(plan.writes[0].keep_bytes, 1_990 * 80);
        assert_eq!(plan.writes[1].chunk, 2);
        assert_eq!(plan.deletes, [3, 4, 5]);
    }

    #[test]
    fn writes_must_fit_the_stored_chain() {
        let chain = stored(0, 100);
        for (first, n, tip_height) in [(0, 1, 0), (102, 1, 102), (50, 2, 52), (50, 0, 49)] {
            assert!(matches!(
                plan_write(&chain, first, &headers(n), &tip(tip_height)),
                Err(StorageError::InvalidWrite { .. })
            ));
        }
    }

    #[test]
    fn reads_are_clamped_to_the_tip() {
        let chain = stored(898_560, 902_100);
        let reads = plan_read(&chain, 899_990, 5_000).unwrap();
        assert_eq!(
            reads,
            [
                (449, 1_430 * 80, 1_440 * 80),
                (450, 0, 2_000 * 80),
                (451, 0, 101 * 80)
            ]
        );
        assert!(matches!(
            plan_read(&chain, 898_559, 1),
            Err(StorageError::OutOfRange { .. })
        ));
        assert!(matches!(
            plan_read(&chain, 902_101, 1),
            Err(StorageError::OutOfRange { .. })
        ));
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn any_chain_record_decodes_without_panicking(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let _ = StoredChain::decode(&bytes);
        }

        #[test]
        fn a_patched_chain_record_is_an_error_or_re_encodes_as_read(
            at in proptest::prelude::any::<proptest::sample::Index>(),
            mask in 1u8..,
            tip_height in 898_560u32..2_000_000,
        ) {
            let mut bytes = stored(898_560, tip_height).encode();
            let at = at.index(bytes.len());
            bytes[at] ^= mask;
            if let Ok(chain) = StoredChain::decode(&bytes) {
                proptest::prop_assert_eq!(chain.encode(), bytes);
                proptest::prop_assert!(chain.tip.height >= chain.base.height());
            }
        }

        #[test]
        fn any_chunk_range_reads_without_panicking(
            record in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)),
            start in 0usize..500,
            len in 0usize..500,
        ) {
            let end = start + len;
            if let Ok(headers) = read_chunk(3, record.as_deref(), start, end) {
                proptest::prop_assert_eq!(headers.len(), len / HEADER_SIZE);
            }
        }
    }
}
