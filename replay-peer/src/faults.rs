//! Fault injection: what to break, and how far each fault has fired.
//!
//! `--drop-qrinfo` and `--disconnect-on-qrinfo` count over the whole run
//! (all connections) until the counters are reset; `--disconnect-after` and
//! `--corrupt-after` count the messages sent on each connection.

use std::time::Duration;

/// The faults to inject, as configured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Ignore the first N `getqrinfo` requests of the run.
    pub drop_qrinfo: u32,
    /// Wait this long before sending each message.
    pub delay: Duration,
    /// Close each connection after sending it N messages.
    pub disconnect_after: Option<u64>,
    /// Close the connection on which the run's first `getqrinfo` arrives.
    pub disconnect_on_qrinfo: bool,
    /// On each connection, send the message after the first N with a bad checksum.
    pub corrupt_after: Option<u64>,
}

/// How far the run-wide faults have fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultProgress {
    qrinfo_drops_left: u32,
    disconnect_on_qrinfo_armed: bool,
}

impl FaultProgress {
    /// Nothing fired yet.
    pub fn new(plan: &FaultPlan) -> FaultProgress {
        FaultProgress {
            qrinfo_drops_left: plan.drop_qrinfo,
            disconnect_on_qrinfo_armed: plan.disconnect_on_qrinfo,
        }
    }

    /// Whether this `getqrinfo` is to be ignored (consumes one drop).
    pub fn take_qrinfo_drop(&mut self) -> bool {
        match self.qrinfo_drops_left.checked_sub(1) {
            Some(left) => {
                self.qrinfo_drops_left = left;
                true
            }
            None => false,
        }
    }

    /// Whether this `getqrinfo` closes the connection (only the first does).
    pub fn take_disconnect_on_qrinfo(&mut self) -> bool {
        core::mem::replace(&mut self.disconnect_on_qrinfo_armed, false)
    }
}

/// What happens to the next message sent on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFault {
    /// Sent as it is.
    None,
    /// Sent with a payload that does not match its checksum.
    Corrupt,
}

/// Counts a connection's sent messages against the per-connection faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionFaults {
    sent: u64,
    corrupt_after: Option<u64>,
    disconnect_after: Option<u64>,
}

impl ConnectionFaults {
    /// A fresh connection under `plan`.
    pub fn new(plan: &FaultPlan) -> ConnectionFaults {
        ConnectionFaults {
            sent: 0,
            corrupt_after: plan.corrupt_after,
            disconnect_after: plan.disconnect_after,
        }
    }

    /// Whether the connection has sent all it may send before it is closed.
    pub fn exhausted(&self) -> bool {
        self.disconnect_after.is_some_and(|n| self.sent >= n)
    }

    /// Counts one more message and tells what to do with it.
    pub fn next_send(&mut self) -> SendFault {
        let before = self.sent;
        self.sent = self.sent.saturating_add(1);
        if self.corrupt_after == Some(before) {
            SendFault::Corrupt
        } else {
            SendFault::None
        }
    }

    /// Messages sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_wide_faults_fire_the_configured_number_of_times() {
        let plan = FaultPlan {
            drop_qrinfo: 2,
            disconnect_on_qrinfo: true,
            ..FaultPlan::default()
        };
        let mut progress = FaultProgress::new(&plan);
        assert!(progress.take_qrinfo_drop());
        assert!(progress.take_qrinfo_drop());
        assert!(!progress.take_qrinfo_drop());
        assert!(progress.take_disconnect_on_qrinfo());
        assert!(!progress.take_disconnect_on_qrinfo());
        assert!(!FaultProgress::new(&FaultPlan::default()).take_qrinfo_drop());
    }

    #[test]
    fn the_message_after_the_first_n_is_corrupted_once() {
        let plan = FaultPlan {
            corrupt_after: Some(2),
            disconnect_after: Some(4),
            ..FaultPlan::default()
        };
        let mut faults = ConnectionFaults::new(&plan);
        let sends: Vec<SendFault> = (0..4).map(|_| faults.next_send()).collect();
        assert_eq!(
            sends,
            [
                SendFault::None,
                SendFault::None,
                SendFault::Corrupt,
                SendFault::None
            ]
        );
        assert!(faults.exhausted());
        assert_eq!(faults.sent(), 4);
    }
}
