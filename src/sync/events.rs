//! Inputs of the sync machines: network events, events between managers and messages.
//!
//! Time is the other input: every handler takes `now`, and `tick(now)` fires deadlines.

use super::engine::{ChainLockSigner, ChainLockTarget, SyncEngine};
use crate::block::BlockHeader;
use crate::chain::BlockId;
use crate::hash::BlockHash;

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
    /// A QRInfo or an MnListDiff was applied and the quorums of the newest list that sign
    /// ChainLocks were verified with it; the other quorums are verified after, in slices
    /// (see [`SyncEvent::MasternodeListsSynced`]). Held ChainLocks may be verifiable now.
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
    /// A ChainLock was verified (once: whoever reports it reads the signer from here).
    ChainLockVerified {
        /// The locked block.
        target: ChainLockTarget,
        /// The quorum that signed it.
        signer: ChainLockSigner,
    },
}

/// A decoded message from a peer that the sync machines consume.
pub enum SyncMessage<E: SyncEngine> {
    /// A `headers` message.
    Headers(Vec<BlockHeader>),
    /// A `qrinfo` message.
    QrInfo(E::QrInfo),
    /// An `mnlistdiff` message.
    MnListDiff(E::MnListDiff),
    /// A `clsig` message.
    ChainLock(E::ChainLock),
    /// Blocks announced by hash (an `inv`), in the order announced.
    BlocksAnnounced(Vec<BlockHash>),
}

impl<E: SyncEngine> Clone for SyncMessage<E>
where
    E::QrInfo: Clone,
    E::MnListDiff: Clone,
    E::ChainLock: Clone,
{
    fn clone(&self) -> Self {
        match self {
            SyncMessage::Headers(headers) => SyncMessage::Headers(headers.clone()),
            SyncMessage::QrInfo(qrinfo) => SyncMessage::QrInfo(qrinfo.clone()),
            SyncMessage::MnListDiff(diff) => SyncMessage::MnListDiff(diff.clone()),
            SyncMessage::ChainLock(clsig) => SyncMessage::ChainLock(clsig.clone()),
            SyncMessage::BlocksAnnounced(hashes) => SyncMessage::BlocksAnnounced(hashes.clone()),
        }
    }
}

impl<E: SyncEngine> core::fmt::Debug for SyncMessage<E>
where
    E::QrInfo: core::fmt::Debug,
    E::MnListDiff: core::fmt::Debug,
    E::ChainLock: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SyncMessage::Headers(headers) => write!(f, "Headers({} headers)", headers.len()),
            SyncMessage::QrInfo(qrinfo) => write!(f, "QrInfo({qrinfo:?})"),
            SyncMessage::MnListDiff(diff) => write!(f, "MnListDiff({diff:?})"),
            SyncMessage::ChainLock(clsig) => write!(f, "ChainLock({clsig:?})"),
            SyncMessage::BlocksAnnounced(hashes) => write!(f, "BlocksAnnounced({hashes:?})"),
        }
    }
}
