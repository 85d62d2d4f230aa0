//! Outputs of the sync machines: requests to send, events and state changes; and the
//! [`Attempt`] of a request on the wire.

use super::config::RetryLadder;
use super::events::SyncEvent;
use super::state::SyncState;
use super::time::Timestamp;
use crate::hash::BlockHash;
use core::fmt;

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

/// The kind of a message from a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `headers`.
    Headers,
    /// `qrinfo`.
    QrInfo,
    /// `mnlistdiff`.
    MnListDiff,
    /// `clsig`.
    ChainLock,
}

impl fmt::Display for MessageKind {
    /// The wire command name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageKind::Headers => "headers",
            MessageKind::QrInfo => "qrinfo",
            MessageKind::MnListDiff => "mnlistdiff",
            MessageKind::ChainLock => "clsig",
        })
    }
}

/// A message that provably breaks the rules: headers that connect to our chain but fail
/// validation, a QRInfo or MnListDiff that fails verification, a ChainLock whose signature
/// does not verify. Only ever reported for the message being handled, so the runtime can
/// blame the peer that delivered it; never for data that merely cannot be checked yet,
/// does not connect, is unsolicited or late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidMessage {
    /// What the message was.
    pub kind: MessageKind,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.kind, self.reason)
    }
}

/// Something the runtime must act on or may show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send this request to a peer.
    Send(Request),
    /// A manager's event (already routed to the other managers by the coordinator).
    Event(SyncEvent),
    /// The message being handled is provably invalid: the peer that sent it misbehaved.
    InvalidMessage(InvalidMessage),
    /// A manager changed state.
    StateChanged {
        /// The manager.
        manager: ManagerKind,
        /// Its previous state.
        from: SyncState,
        /// Its new state.
        to: SyncState,
    },
    /// Check these quorums in workers: each share (encoded checks) goes to one worker,
    /// whose answer comes back, in the shares' order, through
    /// [`Coordinator::handle_quorum_checks`](super::coordinator::Coordinator::handle_quorum_checks)
    /// with the same `batch`.
    CheckQuorums {
        /// Which batch the answers are for.
        batch: u64,
        /// The encoded checks, one share per worker.
        shares: Vec<Vec<u8>>,
    },
    /// The aggregate state of the whole sync changed.
    SyncStateChanged {
        /// The previous aggregate state.
        from: SyncState,
        /// The new aggregate state.
        to: SyncState,
    },
}

/// One attempt of a request on the wire: which attempt it is, when it was sent and when it
/// times out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Which attempt it is (1-based).
    pub number: u8,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// When it times out.
    pub deadline: Timestamp,
}

impl Attempt {
    /// Attempt `number` sent at `now`, timing out after the ladder's timeout for it.
    pub fn sent(ladder: &RetryLadder, number: u8, now: Timestamp) -> Attempt {
        Attempt {
            number,
            sent_at: now,
            deadline: now + ladder.timeout(number),
        }
    }

    /// Makes it time out at `now` at the latest (its peer went away).
    pub fn expire(&mut self, now: Timestamp) {
        self.deadline = self.deadline.min(now);
    }
}
