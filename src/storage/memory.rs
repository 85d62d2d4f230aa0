//! An in-memory [`HeaderStore`] and [`MasternodeStore`] with the same records as a persistent one,
//! for tests and native use, with an optional quota to exercise
//! [`StorageError::QuotaExceeded`].

use super::records::{chunk_of, plan_read, plan_write, read_chunk, StoredChain};
use super::{HeaderStore, MasternodeStore, StorageError};
use crate::block::BlockHeader;
use crate::chain::{ChainTip, SyncBase};
use std::collections::BTreeMap;

/// Headers kept in memory, in the same chunk and chain records as a
/// persistent store.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    chain_record: Option<Vec<u8>>,
    chunks: BTreeMap<u32, Vec<u8>>,
    masternodes: Option<Vec<u8>>,
    quota_bytes: Option<usize>,
}

impl MemoryStore {
    /// An empty store without a quota.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store whose records may hold at most `quota_bytes`; a write
    /// beyond it fails with [`StorageError::QuotaExceeded`] and changes nothing.
    pub fn with_quota(quota_bytes: usize) -> MemoryStore {
        MemoryStore {
            quota_bytes: Some(quota_bytes),
            ..MemoryStore::default()
        }
    }

    /// Sets or removes the quota (existing records stay).
    pub fn set_quota(&mut self, quota_bytes: Option<usize>) {
        self.quota_bytes = quota_bytes;
    }

    /// Bytes held by all records.
    pub fn stored_bytes(&self) -> usize {
        self.chain_record.as_ref().map_or(0, Vec::len)
            + self.chunks.values().map(Vec::len).sum::<usize>()
            + self.masternodes.as_ref().map_or(0, Vec::len)
    }

    /// The number of chunk records.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    fn stored(&self) -> Result<Option<StoredChain>, StorageError> {
        self.chain_record
            .as_deref()
            .map(StoredChain::decode)
            .transpose()
    }

    /// Applies staged record changes (`None` deletes) if the quota allows,
    /// all of them or none.
    fn commit(
        &mut self,
        chain_record: Vec<u8>,
        changes: Vec<(u32, Option<Vec<u8>>)>,
    ) -> Result<(), StorageError> {
        // Each chunk appears at most once in `changes`.
        let mut size = self.stored_bytes() + chain_record.len();
        size = size.saturating_sub(self.chain_record.as_ref().map_or(0, Vec::len));
        for (chunk, record) in &changes {
            size = size.saturating_sub(self.chunks.get(chunk).map_or(0, Vec::len));
            size += record.as_ref().map_or(0, Vec::len);
        }
        if self.quota_bytes.is_some_and(|quota| size > quota) {
            return Err(StorageError::QuotaExceeded);
        }
        self.chain_record = Some(chain_record);
        for (chunk, record) in changes {
            match record {
                Some(record) => self.chunks.insert(chunk, record),
                None => self.chunks.remove(&chunk),
            };
        }
        Ok(())
    }
}

impl HeaderStore for MemoryStore {
    async fn load(&self) -> Result<Option<StoredChain>, StorageError> {
        self.stored()
    }

    async fn initialize(&mut self, base: &SyncBase) -> Result<(), StorageError> {
        let chain = StoredChain::at_base(*base);
        let base_chunk = chunk_of(base.height());
        let mut changes: Vec<(u32, Option<Vec<u8>>)> = self
            .chunks
            .keys()
            .filter(|&&chunk| chunk != base_chunk)
            .map(|&chunk| (chunk, None))
            .collect();
        changes.push((base_chunk, Some(base.header().to_bytes().to_vec())));
        self.commit(chain.encode(), changes)
    }

    async fn write_batch(
        &mut self,
        first_height: u32,
        headers: &[BlockHeader],
        tip: &ChainTip,
    ) -> Result<(), StorageError> {
        let stored = self.stored()?.ok_or(StorageError::NotInitialized)?;
        let plan = plan_write(&stored, first_height, headers, tip)?;
        // Stage every change, then commit them together (or none).
        let mut changes = Vec::with_capacity(plan.writes.len() + plan.deletes.len());
        for write in &plan.writes {
            let stored = self.chunks.get(&write.chunk).map(Vec::as_slice);
            changes.push((write.chunk, Some(write.apply(stored)?)));
        }
        changes.extend(plan.deletes.iter().map(|&chunk| (chunk, None)));
        self.commit(plan.chain.encode(), changes)
    }

    async fn read_headers(
        &self,
        from_height: u32,
        count: u32,
    ) -> Result<Vec<BlockHeader>, StorageError> {
        let stored = self.stored()?.ok_or(StorageError::NotInitialized)?;
        let mut headers = Vec::new();
        for (chunk, start, end) in plan_read(&stored, from_height, count)? {
            let record = self.chunks.get(&chunk).map(Vec::as_slice);
            headers.extend(read_chunk(chunk, record, start, end)?);
        }
        Ok(headers)
    }

    async fn clear(&mut self) -> Result<(), StorageError> {
        self.chain_record = None;
        self.chunks.clear();
        self.masternodes = None;
        Ok(())
    }
}

impl MasternodeStore for MemoryStore {
    async fn load_masternodes(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.masternodes.clone())
    }

    async fn save_masternodes(&mut self, record: &[u8]) -> Result<(), StorageError> {
        let size =
            self.stored_bytes() - self.masternodes.as_ref().map_or(0, Vec::len) + record.len();
        if self.quota_bytes.is_some_and(|quota| size > quota) {
            return Err(StorageError::QuotaExceeded);
        }
        self.masternodes = Some(record.to_vec());
        Ok(())
    }
}
