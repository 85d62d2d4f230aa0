//! [`ChainSaver`]: saving a chain through storage outages.
//!
//! A [`HeaderChain`] holds full headers only for a recent window (the
//! reorganisation limit plus the retargeting look-back, about 5,000); older
//! heights keep only their hash. [`save_chain`](super::save_chain) writes the
//! headers above the stored tip from that window, so once a storage outage
//! (a full quota) has lasted longer than the window, the headers just above
//! the stored tip are gone from memory and no save can join the store to the
//! chain again: each one fails with [`StorageError::Diverged`].
//!
//! A `ChainSaver` keeps the headers of its last failed write (at most
//! [`MAX_UNSAVED_HEADERS`]) and bridges the next write with them: the kept
//! headers up to the last one the chain still has at its height, then the
//! chain's own from there. A failed write changes nothing stored, so the kept
//! headers still continue the store; a success drops them.

use super::restore::{plan_save, SavePlan};
use super::{HeaderStore, StorageError};
use crate::block::BlockHeader;
use crate::chain::{ChainTip, HeaderChain};
use crate::hash::BlockHash;

/// The most headers a [`ChainSaver`] keeps from failed writes (6.4 MB; about
/// 11 weeks of Dash blocks). An outage longer than that leaves the store at
/// its tip until a reload resumes syncing from it.
pub const MAX_UNSAVED_HEADERS: usize = 80_000;

/// The headers of a failed write, which continue the store as it was then.
#[derive(Debug, Clone)]
struct Unsaved {
    /// The stored tip when the write failed (the store has not changed since
    /// while it is still the stored tip).
    stored_tip: ChainTip,
    /// The height of `headers[0]`.
    first_height: u32,
    /// Consecutive headers (never empty).
    headers: Vec<BlockHeader>,
    /// The hash of the last of `headers`.
    last_hash: BlockHash,
}

impl Unsaved {
    /// The height of the last header kept.
    fn last_height(&self) -> u32 {
        self.first_height + (self.headers.len() as u32 - 1)
    }

    /// The hash of the kept block at `height` (`first_height - 1`: the
    /// block they build on), read from the next header's link.
    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        if height == self.last_height() {
            return Some(self.last_hash);
        }
        let next = height.checked_add(1)?.checked_sub(self.first_height)?;
        self.headers.get(next as usize).map(|h| h.prev_blockhash)
    }

    /// The headers from `first_height` to `chain`'s tip: the kept ones up to
    /// the highest block `chain` still has at the same height, then the
    /// chain's. `None` if they do not reach the headers the chain holds, or
    /// there is nothing to write.
    fn bridge(mut self, chain: &HeaderChain) -> Option<(u32, Vec<BlockHeader>)> {
        let lowest = self
            .first_height
            .saturating_sub(1)
            .max(chain.oldest_held_height().saturating_sub(1));
        let highest = self.last_height().min(chain.tip().height);
        let joint = (lowest..=highest).rev().find(|&height| {
            self.hash_at(height)
                .is_some_and(|h| chain.hash_at(height) == Some(h))
        })?;
        self.headers
            .truncate((joint + 1 - self.first_height) as usize);
        self.headers.extend(chain.headers_from(joint + 1)?);
        (!self.headers.is_empty()).then_some((self.first_height, self.headers))
    }
}

/// Saves a chain after each change, keeping what a failed save could not
/// write so that a save after a long outage still catches up (see the
/// module documentation).
#[derive(Debug, Clone)]
pub struct ChainSaver {
    unsaved: Option<Unsaved>,
    /// The most headers kept.
    limit: usize,
}

impl Default for ChainSaver {
    fn default() -> Self {
        ChainSaver::with_limit(MAX_UNSAVED_HEADERS)
    }
}

impl ChainSaver {
    /// A saver that keeps up to [`MAX_UNSAVED_HEADERS`].
    pub fn new() -> ChainSaver {
        ChainSaver::default()
    }

    /// A saver that keeps the headers of a failed write only if they are at
    /// most `limit`; after a longer outage saves fail with
    /// [`StorageError::Diverged`] and the store stays at its tip.
    pub fn with_limit(limit: usize) -> ChainSaver {
        ChainSaver {
            unsaved: None,
            limit,
        }
    }

    /// How many headers of failed writes it keeps.
    pub fn unsaved_headers(&self) -> usize {
        self.unsaved.as_ref().map_or(0, |u| u.headers.len())
    }

    /// Brings the store up to date with `chain`, as
    /// [`save_chain`](super::save_chain) does, bridged by the headers of the
    /// last failed write; if this write fails its headers are kept (up to
    /// the saver's limit).
    pub async fn save<S: HeaderStore>(
        &mut self,
        store: &mut S,
        chain: &HeaderChain,
    ) -> Result<(), StorageError> {
        let stored = store.load().await?.ok_or(StorageError::NotInitialized)?;
        let bridged = self
            .unsaved
            .take()
            .filter(|u| u.stored_tip == stored.tip && stored.base == *chain.base())
            .and_then(|u| u.bridge(chain));
        let plan = match bridged {
            Some((first_height, headers)) => SavePlan::Write {
                first_height,
                headers,
            },
            None => plan_save(store, chain, &stored).await?,
        };
        let tip = chain.tip();
        let result = match &plan {
            SavePlan::UpToDate => return Ok(()),
            SavePlan::Initialize => store.initialize(chain.base()).await,
            SavePlan::Write {
                first_height,
                headers,
            } => store.write_batch(*first_height, headers, &tip).await,
        };
        if result.is_err() {
            if let SavePlan::Write {
                first_height,
                headers,
            } = plan
            {
                let keep = !headers.is_empty() && headers.len() <= self.limit;
                self.unsaved = keep.then_some(Unsaved {
                    stored_tip: stored.tip,
                    first_height,
                    headers,
                    last_hash: tip.hash,
                });
            }
        }
        result
    }
}
