//! What the sync managers need from the header chain.
//!
//! The header chain implements these traits; the sync managers never store headers
//! themselves. [`ChainView`] is object safe so the masternode engine can be handed a
//! `&dyn ChainView` to resolve block heights and hashes.

use super::time::Millis;
use crate::chain::validation::HashedHeader;
use crate::chain::{BlockId, HeaderLookup};
use crate::hash::BlockHash;
use core::fmt;

/// Read access to the best header chain: its lookups, its tip and locator.
pub trait ChainView: HeaderLookup {
    /// The best block.
    fn tip(&self) -> BlockId;

    /// A block locator for `getheaders`: hashes from the tip back towards the start,
    /// densely at first and then exponentially spaced.
    fn locator(&self) -> Vec<BlockHash>;

    /// Whether the best chain has at least the network's minimum chain work; a chain below
    /// it is never reported as synced. Chains that keep no work say yes.
    fn has_minimum_work(&self) -> bool {
        true
    }
}

/// What connecting a batch of headers did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadersConnected {
    /// How many headers were new (already known ones are skipped, not counted).
    pub new_headers: usize,
    /// The best block afterwards.
    pub tip: BlockId,
}

/// What a rejected batch of headers says about the peer that sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderFault {
    /// It provably breaks the rules (bad proof of work or difficulty, a checkpoint
    /// contradicted, a time before the median time past): the peer lied or is on another chain.
    Invalid,
    /// A header is stamped further ahead of our wall clock than the rules allow. Our clock may
    /// be wrong, so nobody is blamed; by our clock it becomes acceptable after `wait`.
    TooNew {
        /// How long until the header's time is within the allowed drift of our wall clock.
        wait: Millis,
    },
    /// Refused by our own policy (a reorganisation deeper than our limit), or the batch does
    /// not connect to anything we hold: not something the peer can be blamed for.
    NotBlamed,
}

/// A header chain's reason for rejecting a batch, classified for the header manager.
pub trait HeaderError: fmt::Display + fmt::Debug {
    /// What the rejection says about the sender.
    fn fault(&self) -> HeaderFault;
}

/// A header chain the header manager can extend.
pub trait ExtendableChain: ChainView {
    /// Why a batch of headers was rejected (bad proof of work, does not connect, …).
    type Error: HeaderError;

    /// Validates `headers` (consecutive, in order, each with its hash, which the caller
    /// computed) and connects them to the chain; header times are judged against
    /// `unix_secs`, the wall clock when the batch arrived.
    fn connect_headers(
        &mut self,
        headers: &[HashedHeader],
        unix_secs: u64,
    ) -> Result<HeadersConnected, Self::Error>;
}
