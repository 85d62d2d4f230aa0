//! Inputs of the sync machines: network events, events between managers and messages.
//!
//! Time is the other input: every handler takes `now`, and `tick(now)` fires deadlines.

use super::engine::{ChainLockSigner, ChainLockTarget, QuorumId};
use crate::chain::BlockId;

/// What the runtime reports about its peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkEvent {
    /// A peer finished its handshake. The runtime follows it with [`NetworkEvent::PeersUpdated`].
    PeerConnected,
    /// A peer went away holding requests of the managers `held` names: what was in flight to
    /// it is lost, so those managers retry their in-flight requests on the next tick instead
    /// of waiting for their timeouts. The runtime follows it with
    /// [`NetworkEvent::PeersUpdated`].
    PeerDisconnected {
        /// Whose requests the peer held.
        held: HeldRequests,
    },
    /// The set of peers changed (sent after every connect and disconnect).
    PeersUpdated {
        /// Peers connected now.
        connected_count: usize,
        /// The best height any connected peer announced, if known.
        best_height: Option<u32>,
    },
}

/// Which managers' requests a departed peer held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeldRequests {
    /// The header manager's `getheaders`.
    pub headers: bool,
    /// The masternode manager's `getqrinfo` or `getmnlistd`.
    pub masternodes: bool,
}

impl HeldRequests {
    /// Every manager's requests (when the runtime cannot tell which the peer held).
    pub const ALL: HeldRequests = HeldRequests {
        headers: true,
        masternodes: true,
    };
}

/// What one manager tells the others (routed by the coordinator, also reported to the runtime).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncEvent {
    /// New headers were connected to the chain.
    HeadersStored {
        /// The best block afterwards.
        tip: BlockId,
    },
    /// The peer has no more headers for us: the chain is caught up.
    HeaderSyncComplete {
        /// The best block.
        tip: BlockId,
    },
    /// A QRInfo or an MnListDiff was applied; its quorums are verified after, in slices
    /// (see [`SyncEvent::MasternodeListsSynced`]). Held ChainLocks may be verifiable now
    /// (a ChainLock's signing quorum is verified with it if still pending).
    ListsApplied {
        /// Height of the newest masternode list.
        list_height: u32,
    },
    /// Masternode lists are synced and every quorum they hold was tried (initially or after
    /// an incremental update): verified, failed, or waiting for a list that could not be
    /// fetched.
    MasternodeListsSynced {
        /// Height of the newest masternode list.
        list_height: u32,
    },
    /// A ChainLock waits for its signing quorum's commitment: the masternode manager checks
    /// that quorum first ([`SyncEvent::QuorumChecked`] follows, at once or when the
    /// checking workers answered).
    QuorumWanted {
        /// The quorum.
        quorum: QuorumId,
    },
    /// The quorum a [`SyncEvent::QuorumWanted`] asked for was checked: held ChainLocks may
    /// be verifiable now.
    QuorumChecked {
        /// The quorum.
        quorum: QuorumId,
    },
    /// A ChainLock was verified (once: whoever reports it reads the signer from here).
    ChainLockVerified {
        /// The locked block.
        target: ChainLockTarget,
        /// The quorum that signed it.
        signer: ChainLockSigner,
    },
}
