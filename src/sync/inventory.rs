//! Inventory announcements turned into requests, de-duplicated and rate-limited per peer.
//!
//! A ChainLock (or InstantSend lock) `inv` asks its peer for the message. Without a filter
//! every announcement is a request: a peer repeating one hash, or announcing thousands, makes
//! the client send as many. [`InventoryFilter`] asks for such a message only when it was not
//! asked for within [`REQUEST_MEMORY`], and lets each peer cause at most [`BURST`] requests
//! at once, refilled at one per [`REFILL`]. Announcements past that are dropped without
//! blame: a burst may be honest.
//!
//! Announced blocks not on our chain are all passed on: the header manager coalesces them
//! into the one `getheaders` it has in flight, so they cost no request each, and dropping one
//! (as a rate limit would) could leave the chain behind a block only that announcement named.

use super::time::{Millis, Timestamp};
use crate::hash::{BlockHash, Sha256dHash};
use crate::protocol::inventory::{InvType, Inventory};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// How long a requested hash is not asked for again (after that an announcement asks again:
/// the first request may have gone unanswered).
pub const REQUEST_MEMORY: Millis = Millis::from_secs(120);

/// The most hashes remembered as requested.
pub const REMEMBERED: usize = 1024;

/// Requests one peer's announcements may cause at once.
pub const BURST: u32 = 16;

/// The time after which a peer may cause one more request.
pub const REFILL: Millis = Millis::from_secs(5);

/// Peers whose rate is tracked before idle ones are forgotten.
const TRACKED_PEERS: usize = 64;

/// What an announcement asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryRequests {
    /// The announced blocks not on our chain, for the header manager (one `getheaders`
    /// covers them all).
    pub blocks: Vec<BlockHash>,
    /// The ChainLocks to ask the announcing peer for.
    pub get_data: Vec<Inventory>,
    /// Announced items dropped as already requested, known, or over the peer's rate.
    pub dropped: usize,
}

/// Hashes requested recently, oldest first, bounded in number and age.
#[derive(Debug, Clone, Default)]
struct RecentRequests {
    order: VecDeque<(Sha256dHash, Timestamp)>,
    hashes: HashSet<Sha256dHash>,
}

impl RecentRequests {
    /// Forgets requests older than [`REQUEST_MEMORY`] or beyond [`REMEMBERED`].
    fn expire(&mut self, now: Timestamp) {
        while let Some(&(hash, at)) = self.order.front() {
            if self.order.len() <= REMEMBERED && now.since(at) < REQUEST_MEMORY {
                break;
            }
            self.order.pop_front();
            self.hashes.remove(&hash);
        }
    }

    fn contains(&self, hash: &Sha256dHash) -> bool {
        self.hashes.contains(hash)
    }

    fn insert(&mut self, hash: Sha256dHash, now: Timestamp) {
        if self.hashes.insert(hash) {
            self.order.push_back((hash, now));
        }
    }
}

/// A peer's request allowance.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: u32,
    refilled: Timestamp,
}

impl Bucket {
    fn full(now: Timestamp) -> Bucket {
        Bucket {
            tokens: BURST,
            refilled: now,
        }
    }

    /// Adds the tokens earned since the last refill.
    fn refill(&mut self, now: Timestamp) {
        let earned = now.since(self.refilled).as_millis() / REFILL.as_millis().max(1);
        if earned > 0 {
            self.tokens = u32::try_from(earned)
                .unwrap_or(u32::MAX)
                .saturating_add(self.tokens)
                .min(BURST);
            self.refilled = if self.tokens == BURST {
                now
            } else {
                self.refilled + Millis(earned.saturating_mul(REFILL.as_millis()))
            };
        }
    }

    fn take(&mut self) -> bool {
        match self.tokens.checked_sub(1) {
            Some(left) => {
                self.tokens = left;
                true
            }
            None => false,
        }
    }
}

/// De-duplicates and rate-limits the requests that announcements cause, per peer `P`.
#[derive(Debug, Clone)]
pub struct InventoryFilter<P> {
    chainlocks: RecentRequests,
    buckets: HashMap<P, Bucket>,
}

impl<P: Copy + Eq + Hash> InventoryFilter<P> {
    /// A filter that has requested nothing.
    pub fn new() -> Self {
        InventoryFilter {
            chainlocks: RecentRequests::default(),
            buckets: HashMap::new(),
        }
    }

    /// What `peer`'s announcement of `items` should ask it for at `now`; `on_chain` tells
    /// whether a block is already on our header chain.
    pub fn announce(
        &mut self,
        peer: P,
        items: &[Inventory],
        now: Timestamp,
        on_chain: impl Fn(&BlockHash) -> bool,
    ) -> InventoryRequests {
        self.chainlocks.expire(now);
        if self.buckets.len() >= TRACKED_PEERS {
            // Idle peers have a full allowance, which forgetting them keeps; past that, all
            // are forgotten (there are never this many real peers at once).
            self.buckets.retain(|_, bucket| {
                bucket.refill(now);
                bucket.tokens < BURST
            });
            if self.buckets.len() >= TRACKED_PEERS {
                self.buckets.clear();
            }
        }
        let bucket = self
            .buckets
            .entry(peer)
            .or_insert_with(|| Bucket::full(now));
        bucket.refill(now);
        let mut requests = InventoryRequests::default();
        for item in items {
            match item.inv_type {
                InvType::Block => {
                    let hash = BlockHash(item.hash.0);
                    if on_chain(&hash) || requests.blocks.contains(&hash) {
                        requests.dropped += 1;
                    } else {
                        requests.blocks.push(hash);
                    }
                }
                // Fetched by `getdata` (InstantSend locks as ChainLocks).
                InvType::ClSig | InvType::IsDLock => {
                    if self.chainlocks.contains(&item.hash) || !bucket.take() {
                        requests.dropped += 1;
                    } else {
                        self.chainlocks.insert(item.hash, now);
                        requests.get_data.push(*item);
                    }
                }
                _ => {}
            }
        }
        requests
    }
}

impl<P: Copy + Eq + Hash> Default for InventoryFilter<P> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u8) -> Inventory {
        Inventory {
            inv_type: InvType::Block,
            hash: Sha256dHash([n; 32]),
        }
    }

    fn clsig(n: u8) -> Inventory {
        Inventory {
            inv_type: InvType::ClSig,
            hash: Sha256dHash([n; 32]),
        }
    }

    fn nothing_known(_: &BlockHash) -> bool {
        false
    }

    #[test]
    fn unknown_blocks_are_passed_on_once_per_message_and_known_ones_never() {
        let mut filter = InventoryFilter::new();
        let first = filter.announce(1u64, &[block(1), block(1)], Timestamp(0), nothing_known);
        assert_eq!(first.blocks, vec![BlockHash([1; 32])]);
        assert_eq!(first.dropped, 1);
        // Another announcement of it is passed on: the header manager coalesces.
        let again = filter.announce(2, &[block(1)], Timestamp(1000), nothing_known);
        assert_eq!(again.blocks.len(), 1);
        let known = filter.announce(2, &[block(2)], Timestamp(1000), |_| true);
        assert!(known.blocks.is_empty());
    }

    #[test]
    fn a_chainlock_is_asked_for_once() {
        let mut filter = InventoryFilter::new();
        let first = filter.announce(1u64, &[clsig(1), clsig(2)], Timestamp(0), nothing_known);
        assert_eq!(first.get_data, vec![clsig(1), clsig(2)]);
        let again = filter.announce(2, &[clsig(2), clsig(3)], Timestamp(10), nothing_known);
        assert_eq!(again.get_data, vec![clsig(3)]);
        assert_eq!(again.dropped, 1);
    }

    #[test]
    fn a_flooding_peer_is_limited_and_others_are_not() {
        let mut filter = InventoryFilter::new();
        let mut asked = 0;
        for n in 0..=255u8 {
            let requests = filter.announce(1u64, &[clsig(n)], Timestamp(0), nothing_known);
            asked += requests.get_data.len();
        }
        assert_eq!(asked, BURST as usize);
        // Another peer still gets its announcements through.
        let other = filter.announce(2, &[block(1)], Timestamp(0), nothing_known);
        assert_eq!(other.blocks.len(), 1);
        // The flooder earns one request per refill period.
        let later = filter.announce(
            1,
            &[block(2), clsig(200)],
            Timestamp(0) + REFILL,
            nothing_known,
        );
        assert_eq!(later.get_data.len(), 1);
        // Blocks are never rate-limited: the header manager coalesces them.
        assert_eq!(later.blocks.len(), 1);
    }

    #[test]
    fn memory_is_bounded() {
        let mut filter = InventoryFilter::new();
        for peer in 0..1000u64 {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&peer.to_le_bytes());
            let items = [
                Inventory {
                    inv_type: InvType::ClSig,
                    hash: Sha256dHash(hash),
                },
                Inventory {
                    inv_type: InvType::Block,
                    hash: Sha256dHash(hash),
                },
            ];
            filter.announce(peer, &items, Timestamp(peer), nothing_known);
        }
        assert!(filter.buckets.len() <= TRACKED_PEERS);
        assert!(filter.chainlocks.order.len() <= REMEMBERED);
        assert_eq!(
            filter.chainlocks.order.len(),
            filter.chainlocks.hashes.len()
        );
    }
}
