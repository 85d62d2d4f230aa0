//! A set of changes that [`HeaderDb::write`](super::HeaderDb::write) applies
//! in one transaction: all of them, or none.

use super::error::IdbError;
use super::record::{TipRecord, MAX_CHUNK_BYTES};
use super::schema::{Store, TIP_KEY};
use crate::block::HEADER_SIZE;

/// Changes to apply atomically: chunk truncation first, then every put.
///
/// Values are borrowed; they are copied into JavaScript when written.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch<'a> {
    pub(crate) truncate_chunks_from: Option<u32>,
    pub(crate) chunks: Vec<(u32, &'a [u8])>,
    pub(crate) meta: Vec<(&'a str, &'a [u8])>,
    pub(crate) tip: Option<TipRecord>,
}

impl<'a> WriteBatch<'a> {
    /// An empty batch.
    pub fn new() -> WriteBatch<'a> {
        WriteBatch::default()
    }

    /// Deletes every chunk with index `from` or above,
    /// before the batch's puts: for a reorganisation to a chain with fewer
    /// headers.
    pub fn truncate_chunks_from(mut self, from: u32) -> WriteBatch<'a> {
        self.truncate_chunks_from = Some(from);
        self
    }

    /// Writes chunk `index`: 1 to `CHUNK_SIZE` consecutive 80-byte headers.
    pub fn put_chunk(mut self, index: u32, headers: &'a [u8]) -> WriteBatch<'a> {
        self.chunks.push((index, headers));
        self
    }

    /// Writes a named record of client state (any key but `"tip"`).
    pub fn put_meta(mut self, key: &'a str, value: &'a [u8]) -> WriteBatch<'a> {
        self.meta.push((key, value));
        self
    }

    /// Moves the tip pointer.
    pub fn put_tip(mut self, tip: TipRecord) -> WriteBatch<'a> {
        self.tip = Some(tip);
        self
    }

    /// Checks every value before a transaction starts, so a bad batch never
    /// touches the database.
    pub(crate) fn validate(&self) -> Result<(), IdbError> {
        if let Some((index, headers)) = self
            .chunks
            .iter()
            .find(|(_, headers)| !is_chunk_len(headers.len()))
        {
            return Err(IdbError::InvalidValue {
                store: Store::Chunks.name(),
                key: index.to_string(),
                len: headers.len(),
            });
        }
        match self.meta.iter().find(|(key, _)| *key == TIP_KEY) {
            Some((key, _)) => Err(IdbError::ReservedKey(String::from(*key))),
            None => Ok(()),
        }
    }
}

/// Whether `len` bytes are 1 to `CHUNK_SIZE` whole headers.
pub(crate) fn is_chunk_len(len: usize) -> bool {
    len != 0 && len % HEADER_SIZE == 0 && len <= MAX_CHUNK_BYTES
}
