//! Progress a UI can show.

use super::engine::ChainLockTarget;
use super::requests::{ManagerKind, Output};
use super::state::{SyncFailure, SyncState};
use super::time::Timestamp;

/// Progress of one manager.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// The manager's state.
    pub state: SyncState,
    /// Height reached: the header tip, or the newest masternode list, or the best ChainLock.
    pub current_height: u32,
    /// Height to reach: the best height peers announced (never lowered).
    pub target_height: u32,
    /// MnListDiffs applied.
    pub diffs_processed: u32,
    /// `getqrinfo` requests sent.
    pub qrinfos_requested: u32,
    /// Responses dropped as unsolicited, duplicate or stale.
    pub responses_dropped: u32,
    /// Quorums that could not be verified because a list they need could not be fetched.
    pub unverified_quorums: u32,
    /// Quorums queued for verification, not tried yet (masternode manager only).
    pub pending_quorums: u32,
    /// Quorums whose signature check a worker answered (masternode manager only).
    pub quorums_checked_in_workers: u32,
    /// When the manager last sent a request or accepted a response.
    pub last_activity: Option<Timestamp>,
    /// When the first QRInfo the manager asked for arrived (masternode manager only).
    pub first_qrinfo_received: Option<Timestamp>,
    /// The last problem, whether or not it put the manager in `Error`.
    pub last_error: Option<SyncFailure>,
}

impl Progress {
    /// Raises the target height (it never goes down).
    pub fn raise_target(&mut self, height: u32) {
        self.target_height = self.target_height.max(height);
    }
}

/// Progress of the whole sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncProgress {
    /// The aggregate state.
    pub state: SyncState,
    /// The header manager.
    pub headers: Progress,
    /// The masternode list manager.
    pub masternodes: Progress,
    /// The ChainLock manager.
    pub chainlocks: Progress,
    /// The best verified ChainLock.
    pub best_chainlock: Option<ChainLockTarget>,
}

impl Progress {
    /// Moves to `to` (see [`change_state`]).
    pub(crate) fn set_state(&mut self, manager: ManagerKind, to: SyncState, out: &mut Vec<Output>) {
        change_state(manager, &mut self.state, &mut self.last_error, to, out);
    }
}

/// Moves a manager's `state` to `to`, publishing the change (on every path, the error path
/// included) and recording the cause of an `Error` as the `last_error`.
pub(crate) fn change_state(
    manager: ManagerKind,
    state: &mut SyncState,
    last_error: &mut Option<SyncFailure>,
    to: SyncState,
    out: &mut Vec<Output>,
) {
    if *state == to {
        return;
    }
    if let SyncState::Error(cause) = &to {
        *last_error = Some(cause.clone());
    }
    let from = core::mem::replace(state, to.clone());
    out.push(Output::StateChanged { manager, from, to });
}
