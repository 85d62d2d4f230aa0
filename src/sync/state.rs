//! The state vocabulary every sync manager shares, and how states aggregate.

use core::fmt;

/// What went wrong: the cause of [`SyncState::Error`], or a problem the sync got past
/// (shown as the last error in the progress).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncFailure {
    /// `getheaders` went unanswered through every retry.
    HeadersUnanswered {
        /// Requests sent before giving up.
        attempts: u8,
    },
    /// Every batch of headers in the last attempts was rejected by the chain.
    HeadersRejected {
        /// What the chain said about the last batch.
        reason: String,
    },
    /// `getqrinfo` went unanswered through every retry.
    QrInfoUnanswered {
        /// Requests sent before giving up.
        attempts: u8,
    },
    /// Every QRInfo answer in the last attempts was rejected by the engine.
    QrInfoRejected {
        /// What the engine said about the last answer.
        reason: String,
    },
    /// Verifying the quorums of the synced lists failed.
    QuorumVerificationFailed {
        /// What the engine said.
        reason: String,
    },
    /// A `getmnlistd` went unanswered through every retry and was dropped.
    MnListDiffUnanswered {
        /// Height of the list it asked for.
        list_height: u32,
        /// Requests sent before giving up.
        attempts: u8,
    },
    /// An MnListDiff was rejected by the engine.
    MnListDiffRejected {
        /// What the engine said.
        reason: String,
    },
    /// A ChainLock was rejected.
    ChainLockRejected {
        /// Why.
        reason: String,
    },
    /// The peers have no more headers, but the chain they served has less work than the
    /// network's minimum: it is not the network's chain, so it is not reported as synced.
    BelowMinimumWork {
        /// Height of the chain's tip.
        tip_height: u32,
    },
}

impl fmt::Display for SyncFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncFailure::HeadersUnanswered { attempts } => {
                write!(f, "getheaders unanswered after {attempts} attempts")
            }
            SyncFailure::HeadersRejected { reason } => write!(f, "headers rejected: {reason}"),
            SyncFailure::QrInfoUnanswered { attempts } => {
                write!(f, "getqrinfo unanswered after {attempts} attempts")
            }
            SyncFailure::QrInfoRejected { reason } => write!(f, "QRInfo rejected: {reason}"),
            SyncFailure::QuorumVerificationFailed { reason } => {
                write!(f, "quorum verification failed: {reason}")
            }
            SyncFailure::MnListDiffUnanswered {
                list_height,
                attempts,
            } => write!(
                f,
                "getmnlistd for the list at {list_height} unanswered after {attempts} attempts"
            ),
            SyncFailure::MnListDiffRejected { reason } => {
                write!(f, "MnListDiff rejected: {reason}")
            }
            SyncFailure::ChainLockRejected { reason } => write!(f, "ChainLock rejected: {reason}"),
            SyncFailure::BelowMinimumWork { tip_height } => write!(
                f,
                "the headers served end at {tip_height} with less than the minimum chain work"
            ),
        }
    }
}

impl std::error::Error for SyncFailure {}

/// Where a sync manager (or the whole sync) stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SyncState {
    /// No peer is connected; nothing is in flight.
    WaitingForConnections,
    /// Peers are connected and the manager waits for another manager's event to start.
    #[default]
    WaitForEvents,
    /// Requests are in flight.
    Syncing,
    /// Caught up; new blocks are followed incrementally.
    Synced,
    /// The last attempt failed; the manager retries on its own with backoff and at once when
    /// peers reconnect.
    Error(SyncFailure),
}

impl SyncState {
    /// Whether this is [`SyncState::Error`], whatever the cause.
    pub fn is_error(&self) -> bool {
        matches!(self, SyncState::Error(_))
    }

    /// The state of the whole sync from the states of its managers, by priority:
    /// `Error` > `Syncing` > `WaitingForConnections` > all `Synced` → `Synced` > `WaitForEvents`.
    /// The first `Error` in iteration order gives the cause. No managers → `WaitForEvents`.
    pub fn aggregate<'a>(states: impl IntoIterator<Item = &'a SyncState>) -> SyncState {
        let mut any_syncing = false;
        let mut any_waiting_for_connections = false;
        let mut all_synced = true;
        let mut any = false;
        for state in states {
            any = true;
            match state {
                SyncState::Error(cause) => return SyncState::Error(cause.clone()),
                SyncState::Syncing => any_syncing = true,
                SyncState::WaitingForConnections => any_waiting_for_connections = true,
                SyncState::Synced => {}
                SyncState::WaitForEvents => {}
            }
            if *state != SyncState::Synced {
                all_synced = false;
            }
        }
        if any_syncing {
            SyncState::Syncing
        } else if any_waiting_for_connections {
            SyncState::WaitingForConnections
        } else if any && all_synced {
            SyncState::Synced
        } else {
            SyncState::WaitForEvents
        }
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncState::WaitingForConnections => f.write_str("waiting for connections"),
            SyncState::WaitForEvents => f.write_str("waiting for events"),
            SyncState::Syncing => f.write_str("syncing"),
            SyncState::Synced => f.write_str("synced"),
            SyncState::Error(cause) => write!(f, "error: {cause}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> SyncState {
        SyncState::Error(SyncFailure::QrInfoUnanswered { attempts: 3 })
    }

    #[test]
    fn error_wins_over_everything() {
        let states = [
            SyncState::Syncing,
            error(),
            SyncState::WaitingForConnections,
        ];
        assert_eq!(SyncState::aggregate(&states), error());
    }

    #[test]
    fn syncing_wins_over_waiting_for_connections() {
        let states = [SyncState::WaitingForConnections, SyncState::Syncing];
        assert_eq!(SyncState::aggregate(&states), SyncState::Syncing);
    }

    #[test]
    fn waiting_for_connections_wins_over_synced_and_waiting_for_events() {
        let states = [
            SyncState::Synced,
            SyncState::WaitForEvents,
            SyncState::WaitingForConnections,
        ];
        assert_eq!(
            SyncState::aggregate(&states),
            SyncState::WaitingForConnections
        );
    }

    #[test]
    fn synced_only_when_all_are() {
        let all = [SyncState::Synced, SyncState::Synced];
        assert_eq!(SyncState::aggregate(&all), SyncState::Synced);
        let one_waiting = [SyncState::Synced, SyncState::WaitForEvents];
        assert_eq!(SyncState::aggregate(&one_waiting), SyncState::WaitForEvents);
        assert_eq!(SyncState::aggregate([]), SyncState::WaitForEvents);
    }
}
