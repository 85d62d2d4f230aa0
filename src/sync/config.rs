//! Timeouts, retry limits and network parameters of the sync machines.

use super::time::Millis;
use crate::network::Network;

/// Per-attempt timeouts of a request: attempt `n` (1-based) waits `timeouts[n - 1]`;
/// after the last attempt the request is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryLadder {
    /// Timeout of each attempt, in order.
    pub timeouts: [Millis; 3],
}

impl RetryLadder {
    /// 10 s, 30 s, 60 s.
    pub const ESCALATING: RetryLadder = RetryLadder {
        timeouts: [
            Millis::from_secs(10),
            Millis::from_secs(30),
            Millis::from_secs(60),
        ],
    };

    /// Attempts before giving up.
    pub const fn max_attempts(&self) -> u8 {
        self.timeouts.len() as u8
    }

    /// Every timeout multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> RetryLadder {
        RetryLadder {
            timeouts: self.timeouts.map(|t| t.scaled(factor)),
        }
    }

    /// The timeout of `attempt` (1-based; out-of-range attempts get the last timeout).
    pub fn timeout(&self, attempt: u8) -> Millis {
        let index = usize::from(attempt.saturating_sub(1)).min(self.timeouts.len() - 1);
        self.timeouts
            .get(index)
            .copied()
            .unwrap_or(Millis::from_secs(60))
    }
}

/// Configuration of the sync machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Timeouts of `getheaders`.
    pub headers: RetryLadder,
    /// Timeouts of `getqrinfo`.
    pub qrinfo: RetryLadder,
    /// Timeouts of each `getmnlistd`.
    pub mnlistdiff: RetryLadder,
    /// Most `getmnlistd` requests in flight at once.
    pub max_diffs_in_flight: usize,
    /// Wait before asking again for a QRInfo the engine could not check yet (e.g. a required
    /// rotated ChainLock signature not present).
    pub not_yet_available_delay: Millis,
    /// First delay of the automatic retry from `Error`; doubles each round.
    pub error_backoff_initial: Millis,
    /// Longest delay of the automatic retry from `Error`.
    pub error_backoff_max: Millis,
    /// Blocks per DKG cycle of the rotating (InstantSend) quorum type.
    pub dkg_interval: u32,
    /// Offset in a cycle by which the cycle's rotated commitments are mined.
    pub mining_window_end: u32,
    /// How many cycles behind the tip's cycle the QRInfo base anchor must lie.
    pub anchor_cycles_behind: u32,
    /// Headers in a full `headers` message; a shorter one means the peer has no more.
    pub max_headers_per_message: usize,
    /// Quorums verified per slice once the ChainLock quorums are (one slice per tick, so
    /// that messages are handled between slices; about 25 ms per quorum in wasm).
    pub quorums_per_slice: usize,
    /// Checking workers the runtime spreads each slice's quorum checks over (a slice then
    /// holds `quorums_per_slice` quorums per worker); 0: the checks run in the sync's own
    /// thread.
    pub check_workers: usize,
    /// How long the workers may take to answer a slice's checks, or a batch's header hashes,
    /// before the work is done in the sync's own thread (a local deadline: not scaled with the
    /// network timeouts).
    pub check_timeout: Millis,
}

impl SyncConfig {
    /// The parameters of `network` (LLMQ_60_75 rotation on both networks).
    pub const fn for_network(network: Network) -> SyncConfig {
        match network {
            Network::Mainnet | Network::Testnet => SyncConfig {
                headers: RetryLadder::ESCALATING,
                qrinfo: RetryLadder::ESCALATING,
                mnlistdiff: RetryLadder {
                    timeouts: [
                        Millis::from_secs(15),
                        Millis::from_secs(30),
                        Millis::from_secs(60),
                    ],
                },
                max_diffs_in_flight: 20,
                not_yet_available_delay: Millis::from_secs(5),
                error_backoff_initial: Millis::from_secs(5),
                error_backoff_max: Millis::from_secs(60),
                dkg_interval: 288,
                mining_window_end: 50,
                anchor_cycles_behind: 4,
                max_headers_per_message: 2000,
                quorums_per_slice: 8,
                check_workers: 0,
                check_timeout: Millis::from_secs(10),
            },
        }
    }

    /// Every timeout and delay multiplied by `factor` (end-to-end tests use
    /// a small factor so that retries and `Error` come within seconds).
    pub fn scaled(&self, factor: f64) -> SyncConfig {
        SyncConfig {
            headers: self.headers.scaled(factor),
            qrinfo: self.qrinfo.scaled(factor),
            mnlistdiff: self.mnlistdiff.scaled(factor),
            not_yet_available_delay: self.not_yet_available_delay.scaled(factor),
            error_backoff_initial: self.error_backoff_initial.scaled(factor),
            error_backoff_max: self.error_backoff_max.scaled(factor),
            ..*self
        }
    }

    /// The delay before automatic retry number `round` (0-based) from `Error`.
    pub fn error_backoff(&self, round: u32) -> Millis {
        self.error_backoff_initial
            .doubled(round, self.error_backoff_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qrinfo_timeouts_escalate() {
        let config = SyncConfig::for_network(Network::Testnet);
        assert_eq!(config.qrinfo.timeout(1), Millis::from_secs(10));
        assert_eq!(config.qrinfo.timeout(2), Millis::from_secs(30));
        assert_eq!(config.qrinfo.timeout(3), Millis::from_secs(60));
        assert_eq!(config.qrinfo.timeout(9), Millis::from_secs(60));
        assert_eq!(config.qrinfo.max_attempts(), 3);
    }

    #[test]
    fn scaling_shortens_every_timeout() {
        let config = SyncConfig::for_network(Network::Testnet).scaled(0.1);
        assert_eq!(config.qrinfo.timeout(1), Millis(1_000));
        assert_eq!(config.mnlistdiff.timeout(3), Millis(6_000));
        assert_eq!(config.error_backoff(0), Millis(500));
        assert_eq!(config.dkg_interval, 288);
    }

    #[test]
    fn error_backoff_doubles_up_to_the_cap() {
        let config = SyncConfig::for_network(Network::Mainnet);
        assert_eq!(config.error_backoff(0), Millis::from_secs(5));
        assert_eq!(config.error_backoff(1), Millis::from_secs(10));
        assert_eq!(config.error_backoff(4), Millis::from_secs(60));
    }
}
