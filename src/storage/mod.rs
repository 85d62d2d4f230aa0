//! Header storage: the [`HeaderStore`] interface the sync code writes
//! validated headers to and restores the chain from after a reload, and an
//! in-memory implementation.
//!
//! Layout (see [`records`]): headers in chunk records of
//! [`CHUNK_HEADERS`](records::CHUNK_HEADERS) keyed by chunk number, and one
//! chain record (schema version, network, sync base, tip). A batch's chunks
//! and the chain record are written atomically (one IndexedDB transaction),
//! so the stored tip never points past stored headers. Block hashes are not
//! stored: each header's hash is the next header's `prev_blockhash`, so a
//! chain is restored without hashing (see [`restore_chain`]).
//!
//! The masternode list engine's state is one more record beside the headers
//! ([`MasternodeStore`], [`save_masternodes`], [`restore_masternodes`]).

mod error;
mod masternodes;
mod memory;
pub mod records;
mod restore;
mod saver;

pub use error::StorageError;
pub use masternodes::{
    restore_masternodes, save_masternodes, MasternodeRestoreFailure, MasternodeStore,
};
pub use memory::MemoryStore;
pub use records::{StoredChain, SCHEMA_VERSION};
pub use restore::{restore_chain, save_chain, RestoreFailure};
pub use saver::{ChainSaver, MAX_UNSAVED_HEADERS};

use crate::block::BlockHeader;
use crate::chain::{ChainTip, SyncBase};

/// A persistent store of one network's best header chain.
///
/// Methods are `async` for IndexedDB; there is no `Send` bound because wasm
/// is single-threaded.
#[allow(async_fn_in_trait)]
pub trait HeaderStore {
    /// The stored chain's base and tip, or `None` if nothing is stored.
    async fn load(&self) -> Result<Option<StoredChain>, StorageError>;

    /// Replaces whatever is stored with a chain holding only `base`.
    async fn initialize(&mut self, base: &SyncBase) -> Result<(), StorageError>;

    /// Atomically stores `headers` at heights `first_height..` and makes
    /// `tip` (the last of them) the stored tip; headers stored above it are
    /// dropped. `first_height` must lie above the base and at most one above
    /// the stored tip.
    async fn write_batch(
        &mut self,
        first_height: u32,
        headers: &[BlockHeader],
        tip: &ChainTip,
    ) -> Result<(), StorageError>;

    /// Up to `count` stored headers from `from_height`, fewer if the tip comes first.
    async fn read_headers(
        &self,
        from_height: u32,
        count: u32,
    ) -> Result<Vec<BlockHeader>, StorageError>;

    /// Deletes everything stored.
    async fn clear(&mut self) -> Result<(), StorageError>;
}
