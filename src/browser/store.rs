//! The [`HeaderStore`] the browser client uses: the storage layout of
//! [`crate::storage::records`] kept in IndexedDB through [`HeaderDb`], one
//! transaction per batch (chunks and chain record together). It is the
//! [`MasternodeStore`] too: the engine's state is one record in the `meta`
//! store (one `put` per save, so a save is atomic): the lists share most
//! entries, so one record written whole is smaller than a record per list
//! and needs no deletes (schema 3 dropped the per-list `mnlists` store).

use super::idb::{HeaderDb, IdbError, WriteBatch};
use crate::block::BlockHeader;
use crate::chain::{ChainTip, SyncBase};
use crate::storage::records::{chunk_of, plan_read, plan_write, read_chunk};
use crate::storage::{HeaderStore, MasternodeStore, StorageError, StoredChain};

/// The `meta` key of the chain record.
const CHAIN_KEY: &str = "chain";

/// The `meta` key of the masternode engine's state record.
const MASTERNODES_KEY: &str = "masternodes";

/// Maps an IndexedDB error to the storage vocabulary.
fn storage_error(operation: &'static str) -> impl Fn(IdbError) -> StorageError {
    move |error| match error {
        IdbError::QuotaExceeded { .. } => StorageError::QuotaExceeded,
        IdbError::Blocked => StorageError::Blocked,
        other => StorageError::Backend {
            operation,
            message: other.to_string(),
        },
    }
}

/// Headers in an IndexedDB database.
pub struct IdbStore {
    db: HeaderDb,
}

impl IdbStore {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<IdbStore, StorageError> {
        let db = HeaderDb::open(name).await.map_err(storage_error("open"))?;
        Ok(IdbStore { db })
    }

    /// The database.
    pub fn db(&self) -> &HeaderDb {
        &self.db
    }

    async fn stored(&self) -> Result<Option<StoredChain>, StorageError> {
        match self
            .db
            .get_meta(CHAIN_KEY)
            .await
            .map_err(storage_error("read chain record"))?
        {
            Some(bytes) => StoredChain::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }
}

impl HeaderStore for IdbStore {
    async fn load(&self) -> Result<Option<StoredChain>, StorageError> {
        self.stored().await
    }

    async fn initialize(&mut self, base: &SyncBase) -> Result<(), StorageError> {
        let record = StoredChain::at_base(*base).encode();
        let header = base.header().to_bytes();
        let batch = WriteBatch::new()
            .truncate_chunks_from(0)
            .put_chunk(chunk_of(base.height()), &header)
            .put_meta(CHAIN_KEY, &record);
        self.db
            .write(&batch)
            .await
            .map_err(storage_error("initialize"))
    }

    async fn write_batch(
        &mut self,
        first_height: u32,
        headers: &[BlockHeader],
        tip: &ChainTip,
    ) -> Result<(), StorageError> {
        let stored = self.stored().await?.ok_or(StorageError::NotInitialized)?;
        let plan = plan_write(&stored, first_height, headers, tip)?;
        let mut records = Vec::with_capacity(plan.writes.len());
        for write in &plan.writes {
            let existing = match write.keep_bytes {
                0 => None,
                _ => self
                    .db
                    .read_chunk(write.chunk)
                    .await
                    .map_err(storage_error("read chunk"))?,
            };
            records.push((write.chunk, write.apply(existing.as_deref())?));
        }
        let chain = plan.chain.encode();
        let mut batch = WriteBatch::new().put_meta(CHAIN_KEY, &chain);
        if let Some(&first_deleted) = plan.deletes.first() {
            batch = batch.truncate_chunks_from(first_deleted);
        }
        for (chunk, record) in &records {
            batch = batch.put_chunk(*chunk, record);
        }
        self.db
            .write(&batch)
            .await
            .map_err(storage_error("write headers"))
    }

    async fn read_headers(
        &self,
        from_height: u32,
        count: u32,
    ) -> Result<Vec<BlockHeader>, StorageError> {
        let stored = self.stored().await?.ok_or(StorageError::NotInitialized)?;
        let mut headers = Vec::new();
        for (chunk, start, end) in plan_read(&stored, from_height, count)? {
            let record = self
                .db
                .read_chunk(chunk)
                .await
                .map_err(storage_error("read chunk"))?;
            headers.extend(read_chunk(chunk, record.as_deref(), start, end)?);
        }
        Ok(headers)
    }

    async fn clear(&mut self) -> Result<(), StorageError> {
        self.db.clear().await.map_err(storage_error("clear"))
    }
}

impl MasternodeStore for IdbStore {
    async fn load_masternodes(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.db
            .get_meta(MASTERNODES_KEY)
            .await
            .map_err(storage_error("read masternode state"))
    }

    async fn save_masternodes(&mut self, record: &[u8]) -> Result<(), StorageError> {
        let batch = WriteBatch::new().put_meta(MASTERNODES_KEY, record);
        self.db
            .write(&batch)
            .await
            .map_err(storage_error("write masternode state"))
    }
}
