//! Outputs of the sync machines: requests to send, events and state changes.

use super::events::SyncEvent;
use super::state::SyncState;
use crate::hash::BlockHash;

/// A request for a peer. The runtime turns it into a wire message and picks the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `getheaders`.
    GetHeaders {
        /// Block locator, tip first.
        locator: Vec<BlockHash>,
        /// Last block wanted; all zero for "as many as you have".
        stop: BlockHash,
    },
    /// `getqrinfo`.
    GetQrInfo {
        /// Blocks whose lists we have; the diffs are built from them (empty: from genesis).
        base_block_hashes: Vec<BlockHash>,
        /// The tip the QRInfo is for.
        block_request_hash: BlockHash,
        /// Whether to include the h-4c snapshot and diff.
        extra_share: bool,
    },
    /// `getmnlistd`.
    GetMnListDiff {
        /// Block of the list to diff from (all zero: the full list).
        base_block_hash: BlockHash,
        /// Block of the list wanted.
        block_hash: BlockHash,
    },
}

/// Which manager an output comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManagerKind {
    /// The header manager.
    Headers,
    /// The masternode list manager.
    Masternodes,
    /// The ChainLock manager.
    ChainLocks,
}

/// Something the runtime must act on or may show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send this request to a peer.
    Send(Request),
    /// A manager's event (already routed to the other managers by the coordinator).
    Event(SyncEvent),
    /// A manager changed state.
    StateChanged {
        /// The manager.
        manager: ManagerKind,
        /// Its previous state.
        from: SyncState,
        /// Its new state.
        to: SyncState,
    },
    /// The aggregate state of the whole sync changed.
    SyncStateChanged {
        /// The previous aggregate state.
        from: SyncState,
        /// The new aggregate state.
        to: SyncState,
    },
}
