//! Moving a header chain between a [`HeaderChain`] and a [`HeaderStore`]:
//! saving what a batch changed, and restoring the chain after a reload
//! without downloading or hashing the stored headers again.

use super::records::CHUNK_HEADERS;
use super::{HeaderStore, StorageError};
use crate::chain::{ChainConfig, HeaderChain, Outcome, RestoreError};
use crate::network::Network;
use core::fmt;

/// Why a stored chain could not be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreFailure {
    /// Reading the store failed.
    Storage(StorageError),
    /// The stored headers do not form the stored chain.
    Chain(RestoreError),
    /// The store holds another network's chain.
    WrongNetwork {
        /// The network stored.
        stored: Network,
        /// The network asked for.
        expected: Network,
    },
}

impl fmt::Display for RestoreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Storage(e) => write!(f, "reading stored headers: {e}"),
            Self::Chain(e) => write!(f, "restoring stored headers: {e}"),
            Self::WrongNetwork { stored, expected } => {
                write!(f, "the store holds {stored} headers, not {expected}")
            }
        }
    }
}

impl std::error::Error for RestoreFailure {}

impl From<StorageError> for RestoreFailure {
    fn from(e: StorageError) -> Self {
        RestoreFailure::Storage(e)
    }
}

impl From<RestoreError> for RestoreFailure {
    fn from(e: RestoreError) -> Self {
        RestoreFailure::Chain(e)
    }
}

/// Rebuilds the stored `network` chain, reading one chunk at a time, or
/// `None` if nothing is stored.
pub async fn restore_chain<S: HeaderStore>(
    store: &S,
    network: Network,
    config: ChainConfig,
) -> Result<Option<HeaderChain>, RestoreFailure> {
    let Some(stored) = store.load().await? else {
        return Ok(None);
    };
    if stored.base.network() != network {
        return Err(RestoreFailure::WrongNetwork {
            stored: stored.base.network(),
            expected: network,
        });
    }
    let mut restorer = HeaderChain::restore(stored.base, config);
    while restorer.next_height() <= stored.tip.height {
        let from = restorer.next_height();
        let headers = store.read_headers(from, CHUNK_HEADERS).await?;
        if headers.is_empty() {
            return Err(StorageError::Corrupt {
                what: format!("no header stored at {from}"),
            }
            .into());
        }
        restorer.push(&headers)?;
    }
    Ok(Some(restorer.finish(stored.tip)?))
}

/// Stores what `outcome` (from offering headers to `chain`) changed in the
/// best chain: its headers from the first changed height to the tip.
pub async fn save_outcome<S: HeaderStore>(
    store: &mut S,
    chain: &HeaderChain,
    outcome: &Outcome,
) -> Result<(), StorageError> {
    let Some(first_height) = outcome.first_changed_height() else {
        return Ok(());
    };
    let tip = chain.tip();
    // Batches larger than the chain's window of full headers cannot be saved
    // from it; the sync code offers at most 2,000 headers at a time.
    let headers = chain
        .headers_from(first_height)
        .ok_or(StorageError::InvalidWrite {
            first_height,
            base_height: chain.base().height(),
            tip_height: tip.height,
        })?;
    store.write_batch(first_height, &headers, &tip).await
}
