//! Moving a header chain between a [`HeaderChain`] and a [`HeaderStore`]:
//! saving it after each batch, and restoring it after a reload without
//! downloading or hashing the stored headers again.

use super::records::CHUNK_HEADERS;
use super::{HeaderStore, StorageError, StoredChain};
use crate::chain::{ChainConfig, HeaderChain, RestoreError};
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

/// Brings the store up to date with `chain`: writes the headers above the
/// last block both share (normally the stored tip) and makes the chain's tip
/// the stored tip, dropping a stored branch the chain has left. Call it after
/// each batch; after a failed save (e.g. over quota) a later call catches up.
pub async fn save_chain<S: HeaderStore>(
    store: &mut S,
    chain: &HeaderChain,
) -> Result<(), StorageError> {
    let stored = store.load().await?.ok_or(StorageError::NotInitialized)?;
    if stored.base != *chain.base() {
        return Err(StorageError::BaseMismatch {
            stored: stored.base.height(),
            saved: chain.base().height(),
        });
    }
    let tip = chain.tip();
    if stored.tip == tip {
        return Ok(());
    }
    let shared = shared_height(store, chain, &stored).await?;
    if shared == tip.height {
        // The chain is a prefix of the stored one: rewrite its tip to drop the rest.
        if tip.height == chain.base().height() {
            return store.initialize(chain.base()).await;
        }
        let header = chain.header_at(tip.height).ok_or(StorageError::Diverged {
            stored_tip: stored.tip.height,
        })?;
        return store.write_batch(tip.height, &[*header], &tip).await;
    }
    let headers = chain
        .headers_from(shared + 1)
        .ok_or(StorageError::Diverged {
            stored_tip: stored.tip.height,
        })?;
    store.write_batch(shared + 1, &headers, &tip).await
}

/// The highest height at which the stored chain and `chain` hold the same block.
async fn shared_height<S: HeaderStore>(
    store: &S,
    chain: &HeaderChain,
    stored: &StoredChain,
) -> Result<u32, StorageError> {
    let highest = stored.tip.height.min(chain.tip().height);
    if chain.hash_at(stored.tip.height) == Some(stored.tip.hash) {
        return Ok(highest);
    }
    // The stored tip is on a branch the chain has left: compare the stored
    // headers with those the chain holds in full, newest first.
    let lowest = chain.oldest_held_height().max(stored.base.height());
    if lowest > highest {
        return Err(StorageError::Diverged {
            stored_tip: stored.tip.height,
        });
    }
    let stored_headers = store.read_headers(lowest, highest - lowest + 1).await?;
    stored_headers
        .iter()
        .enumerate()
        .rev()
        .find(|(offset, header)| chain.header_at(lowest + *offset as u32) == Some(*header))
        .map(|(offset, _)| lowest + offset as u32)
        .ok_or(StorageError::Diverged {
            stored_tip: stored.tip.height,
        })
}
