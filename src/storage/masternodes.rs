//! Moving the masternode list engine's state between a [`MasternodeEngine`]
//! and a [`MasternodeStore`]: saving it when it changed, and restoring it
//! after a reload against the restored header chain.
//!
//! The state is one record (see [`MasternodeEngine::save_state`]), written in
//! one transaction, so a save is atomic: after a crash the store holds the
//! previous state or the new one. A record that cannot be used (damaged,
//! older format, other network) is a [`MasternodeRestoreFailure`]; the caller
//! then starts with a fresh engine, which syncs from the network as before.

use super::StorageError;
use crate::chain::HeaderLookup;
use crate::mnlist::{LoadReport, MasternodeEngine, StateError};
use core::fmt;

/// A persistent store of one masternode engine state record.
#[allow(async_fn_in_trait)]
pub trait MasternodeStore {
    /// The stored record, or `None` if nothing is stored.
    async fn load_masternodes(&self) -> Result<Option<Vec<u8>>, StorageError>;

    /// Replaces the stored record with `record`, atomically.
    async fn save_masternodes(&mut self, record: &[u8]) -> Result<(), StorageError>;
}

/// Why a stored engine state could not be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasternodeRestoreFailure {
    /// Reading the store failed.
    Storage(StorageError),
    /// The stored record is unusable.
    State(StateError),
}

impl fmt::Display for MasternodeRestoreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Storage(e) => write!(f, "reading the stored masternode state: {e}"),
            Self::State(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MasternodeRestoreFailure {}

/// Writes `engine`'s state to `store`.
pub async fn save_masternodes<S: MasternodeStore>(
    store: &mut S,
    engine: &MasternodeEngine,
) -> Result<(), StorageError> {
    store.save_masternodes(&engine.save_state()).await
}

/// Loads the stored state into `engine` (checked against `headers`, the
/// restored chain); `None` if nothing is stored. On failure `engine` is
/// unchanged.
pub async fn restore_masternodes<S: MasternodeStore>(
    store: &S,
    engine: &mut MasternodeEngine,
    headers: &impl HeaderLookup,
) -> Result<Option<LoadReport>, MasternodeRestoreFailure> {
    let Some(record) = store
        .load_masternodes()
        .await
        .map_err(MasternodeRestoreFailure::Storage)?
    else {
        return Ok(None);
    };
    engine
        .load_state(&record, headers)
        .map(Some)
        .map_err(MasternodeRestoreFailure::State)
}
