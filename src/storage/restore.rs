//! Moving a header chain between a [`HeaderChain`] and a [`HeaderStore`]:
//! saving it after each batch, and restoring it after a reload without
//! downloading or hashing the stored headers again.

use super::records::CHUNK_HEADERS;
use super::{HeaderStore, StorageError, StoredChain};
use crate::block::BlockHeader;
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
/// each batch; after a failed save (e.g. over quota) a later call catches up
/// as long as the chain still holds the headers above the stored tip (see
/// [`ChainSaver`](super::ChainSaver) for longer outages).
pub async fn save_chain<S: HeaderStore>(
    store: &mut S,
    chain: &HeaderChain,
) -> Result<(), StorageError> {
    let stored = store.load().await?.ok_or(StorageError::NotInitialized)?;
    match plan_save(store, chain, &stored).await? {
        SavePlan::UpToDate => Ok(()),
        SavePlan::Initialize => store.initialize(chain.base()).await,
        SavePlan::Write {
            first_height,
            headers,
        } => {
            store
                .write_batch(first_height, &headers, &chain.tip())
                .await
        }
    }
}

/// What bringing a store up to date with a chain takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SavePlan {
    /// The store ends at the chain's tip already.
    UpToDate,
    /// The chain is back at its base: the store is re-initialised there.
    Initialize,
    /// `headers` go at `first_height..`, ending at the chain's tip.
    Write {
        /// The height of the first header.
        first_height: u32,
        /// The headers up to the chain's tip.
        headers: Vec<BlockHeader>,
    },
}

/// Plans bringing the store, whose chain record is `stored`, up to date
/// with `chain` from the headers `chain` holds.
pub(super) async fn plan_save<S: HeaderStore>(
    store: &S,
    chain: &HeaderChain,
    stored: &StoredChain,
) -> Result<SavePlan, StorageError> {
    if stored.base != *chain.base() {
        return Err(StorageError::BaseMismatch {
            stored: stored.base.height(),
            saved: chain.base().height(),
        });
    }
    let tip = chain.tip();
    if stored.tip == tip {
        return Ok(SavePlan::UpToDate);
    }
    let diverged = StorageError::Diverged {
        stored_tip: stored.tip.height,
        held_from: chain.oldest_held_height(),
    };
    let shared = shared_height(store, chain, stored).await?;
    if shared == tip.height {
        // The chain is a prefix of the stored one: rewrite its tip to drop the rest.
        if tip.height == chain.base().height() {
            return Ok(SavePlan::Initialize);
        }
        let header = chain.header_at(tip.height).ok_or(diverged)?;
        return Ok(SavePlan::Write {
            first_height: tip.height,
            headers: vec![*header],
        });
    }
    let headers = chain.headers_from(shared + 1).ok_or(diverged)?;
    Ok(SavePlan::Write {
        first_height: shared + 1,
        headers,
    })
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
            held_from: chain.oldest_held_height(),
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
            held_from: chain.oldest_held_height(),
        })
}
