//! The state the API reads between commands, written by the observer, the persister and
//! the launch.

use super::status::{ErrorInfo, StorageStatus, VerifiedChainLock};
use crate::hash::BlockHash;
use crate::protocol::bloom::MerkleBlock;

/// Shared state the API reads between commands.
#[derive(Default)]
pub struct Shared {
    /// The last error reported.
    pub last_error: Option<ErrorInfo>,
    /// The browser's answer to `navigator.storage.persist()`.
    pub persistent: Option<bool>,
    /// Whether saves succeed (set by the persister once running).
    pub storage: Option<StorageStatus>,
    /// The best ChainLock verified, as reported when it was (not re-verified for each status).
    pub last_chainlock: Option<VerifiedChainLock>,
    /// ChainLocks the sync verified.
    pub chainlocks_verified: u64,
    /// Milliseconds from the first QRInfo's arrival to the first ChainLock verified.
    pub first_chainlock_after_qrinfo_ms: Option<u64>,
    /// The same, to the first ChainLock verified whose signing quorum is verified too.
    pub first_verified_quorum_chainlock_after_qrinfo_ms: Option<u64>,
    /// How often the runtime loop woke up for a timer (it sleeps until the node's next
    /// deadline otherwise).
    pub timer_wakeups: u64,
    /// InstantSend locks from peers waiting for their quorum.
    pub pending_locks: super::wallet::PendingLocks,
    /// `proveTransaction` calls waiting for a filtered block.
    pub pending_merkle_blocks: Vec<(BlockHash, futures::channel::oneshot::Sender<MerkleBlock>)>,
}
