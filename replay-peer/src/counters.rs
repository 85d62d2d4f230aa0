//! Per-run counters, and the report the control endpoint serves as JSON.
//!
//! Every header sent is counted per height, so a report shows which heights
//! were sent and whether any was sent more than once (for instance across a
//! client reload).

use crate::chain::ServedChain;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// How many header batches the report lists (the most recent ones).
pub const MAX_LISTED_BATCHES: usize = 1000;

/// Requests of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Requests received.
    pub received: u64,
    /// Requests answered.
    pub answered: u64,
    /// Requests for a block with no capture (left unanswered, as dashd would).
    pub unknown: u64,
    /// Requests ignored on purpose (`--drop-qrinfo`).
    pub dropped: u64,
    /// Requests received that name no base but genesis: a sync from scratch
    /// (a `getqrinfo` without base hashes, or only the genesis hash).
    #[serde(default)]
    pub from_genesis: u64,
}

/// Faults that fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    /// Connections closed by `--disconnect-after`.
    pub disconnect_after: u64,
    /// Connections closed by `--disconnect-on-qrinfo`.
    pub disconnect_on_qrinfo: u64,
    /// Messages sent with a bad checksum (`--corrupt-after`).
    pub corrupted: u64,
    /// Connections dropped through the control endpoint.
    pub killed: u64,
    /// `qrinfo` answers served provably invalid (`--invalid-qrinfo`).
    pub invalid_qrinfo: u64,
    /// `mnlistdiff` answers served provably invalid (`--invalid-mnlistdiff`).
    pub invalid_mnlistdiff: u64,
    /// `clsig` messages served provably invalid (`--invalid-clsig`).
    pub invalid_clsig: u64,
}

/// One `headers` message sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderBatch {
    /// The connection it went to.
    pub connection: u64,
    /// Height of its first header.
    pub first: u32,
    /// Height of its last header.
    pub last: u32,
    /// Whether it announced new blocks (rather than answering `getheaders`).
    pub announced: bool,
}

/// Everything counted since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersReport {
    /// The served tip height.
    pub tip_height: u32,
    /// Connections accepted.
    pub connections_total: u64,
    /// Connections open now (not reset by a reset).
    pub connections_open: u64,
    /// Handshakes completed.
    pub handshakes: u64,
    /// Messages received, by command.
    pub messages_received: BTreeMap<String, u64>,
    /// Messages sent, by command.
    pub messages_sent: BTreeMap<String, u64>,
    /// `getheaders` requests received.
    pub getheaders: u64,
    /// Headers sent in answer to `getheaders`.
    pub headers_served: u64,
    /// Headers sent to announce new blocks.
    pub headers_announced: u64,
    /// The heights sent at least once, as inclusive `[first, last]` ranges.
    pub headers_sent_ranges: Vec<[u32; 2]>,
    /// How many heights were sent more than once.
    pub headers_sent_more_than_once: u64,
    /// The most times one header was sent.
    pub max_sends_of_one_header: u64,
    /// The most recent `headers` messages sent (at most [`MAX_LISTED_BATCHES`]).
    pub header_batches: Vec<HeaderBatch>,
    /// Older batches not listed.
    pub header_batches_not_listed: u64,
    /// `getqrinfo` requests.
    pub qrinfo: RequestCounts,
    /// `getmnlistd` requests.
    pub mnlistdiff: RequestCounts,
    /// ChainLock `inv` announcements sent.
    pub clsig_announced: u64,
    /// `clsig` messages sent.
    pub clsig_sent: u64,
    /// Pings sent.
    pub pings_sent: u64,
    /// Pongs received that matched a ping.
    pub pongs_received: u64,
    /// Faults that fired.
    pub faults: FaultCounts,
}

/// The live counters.
#[derive(Debug, Clone)]
pub struct Counters {
    report: CountersReport,
    batches: VecDeque<HeaderBatch>,
    sends_per_position: Vec<u16>,
}

impl Counters {
    /// Counters for a chain of `chain_len` headers.
    pub fn new(chain_len: usize) -> Counters {
        Counters {
            report: CountersReport::default(),
            batches: VecDeque::new(),
            sends_per_position: vec![0; chain_len],
        }
    }

    /// Zeroes everything but the number of open connections.
    pub fn reset(&mut self) {
        let open = self.report.connections_open;
        *self = Counters::new(self.sends_per_position.len());
        self.report.connections_open = open;
    }

    /// A connection was accepted.
    pub fn connection_opened(&mut self) {
        self.report.connections_total += 1;
        self.report.connections_open += 1;
    }

    /// A connection was closed.
    pub fn connection_closed(&mut self) {
        self.report.connections_open = self.report.connections_open.saturating_sub(1);
    }

    /// Connections open now.
    pub fn connections_open(&self) -> u64 {
        self.report.connections_open
    }

    /// A handshake completed.
    pub fn handshake(&mut self) {
        self.report.handshakes += 1;
    }

    /// A message arrived.
    pub fn received(&mut self, command: &str) {
        *self
            .report
            .messages_received
            .entry(command.to_owned())
            .or_default() += 1;
    }

    /// A message was sent.
    pub fn sent(&mut self, command: &str) {
        *self
            .report
            .messages_sent
            .entry(command.to_owned())
            .or_default() += 1;
    }

    /// A `getheaders` arrived.
    pub fn getheaders(&mut self) {
        self.report.getheaders += 1;
    }

    /// `count` headers from `first` were sent to `connection`.
    pub fn headers_sent(
        &mut self,
        chain: &ServedChain,
        connection: u64,
        first: u32,
        count: usize,
        announced: bool,
    ) {
        let Some(count_u32) = u32::try_from(count).ok().filter(|&n| n > 0) else {
            return;
        };
        let last = first.saturating_add(count_u32 - 1);
        if announced {
            self.report.headers_announced += count as u64;
        } else {
            self.report.headers_served += count as u64;
        }
        if let Some(start) = chain.position(first) {
            let end = start
                .saturating_add(count)
                .min(self.sends_per_position.len());
            if let Some(slots) = self.sends_per_position.get_mut(start..end) {
                for slot in slots {
                    *slot = slot.saturating_add(1);
                }
            }
        }
        if self.batches.len() == MAX_LISTED_BATCHES {
            self.batches.pop_front();
            self.report.header_batches_not_listed += 1;
        }
        self.batches.push_back(HeaderBatch {
            connection,
            first,
            last,
            announced,
        });
    }

    /// The `getqrinfo` counts.
    pub fn qrinfo(&mut self) -> &mut RequestCounts {
        &mut self.report.qrinfo
    }

    /// The `getmnlistd` counts.
    pub fn mnlistdiff(&mut self) -> &mut RequestCounts {
        &mut self.report.mnlistdiff
    }

    /// The fault counts.
    pub fn faults(&mut self) -> &mut FaultCounts {
        &mut self.report.faults
    }

    /// A ChainLock was announced.
    pub fn clsig_announced(&mut self) {
        self.report.clsig_announced += 1;
    }

    /// A ChainLock was sent.
    pub fn clsig_sent(&mut self) {
        self.report.clsig_sent += 1;
    }

    /// A ping was sent.
    pub fn ping_sent(&mut self) {
        self.report.pings_sent += 1;
    }

    /// A pong answered our ping.
    pub fn pong_received(&mut self) {
        self.report.pongs_received += 1;
    }

    /// The report, with `tip_height` and the per-height figures filled in.
    pub fn report(&self, chain: &ServedChain, tip_height: u32) -> CountersReport {
        let mut report = self.report.clone();
        report.tip_height = tip_height;
        report.header_batches = self.batches.iter().copied().collect();
        let mut ranges: Vec<[u32; 2]> = Vec::new();
        for (position, &sends) in self.sends_per_position.iter().enumerate() {
            if sends == 0 {
                continue;
            }
            let height = chain.height_at(position);
            if sends > 1 {
                report.headers_sent_more_than_once += 1;
            }
            report.max_sends_of_one_header = report.max_sends_of_one_header.max(u64::from(sends));
            match ranges.last_mut() {
                Some(range) if range[1].checked_add(1) == Some(height) => range[1] = height,
                _ => ranges.push([height, height]),
            }
        }
        report.headers_sent_ranges = ranges;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dashlight::network::Network;

    fn chain() -> ServedChain {
        let mut prev = dashlight::hash::BlockHash([5; 32]);
        let headers = (0..100)
            .map(|nonce| {
                let header = dashlight::block::BlockHeader {
                    version: 1,
                    prev_blockhash: prev,
                    merkle_root: dashlight::hash::MerkleNode([0; 32]),
                    time: 0,
                    bits: 0,
                    nonce,
                };
                prev = header.block_hash();
                header
            })
            .collect();
        ServedChain::new(Network::Testnet, headers, 500).unwrap()
    }

    #[test]
    fn sends_are_counted_per_height_and_merged_into_ranges() {
        let chain = chain();
        let mut counters = Counters::new(chain.len());
        counters.headers_sent(&chain, 1, 500, 10, false);
        counters.headers_sent(&chain, 1, 510, 5, false);
        counters.headers_sent(&chain, 2, 520, 1, true);
        let report = counters.report(&chain, 599);
        assert_eq!(report.headers_sent_ranges, vec![[500, 514], [520, 520]]);
        assert_eq!(report.headers_served, 15);
        assert_eq!(report.headers_announced, 1);
        assert_eq!(report.headers_sent_more_than_once, 0);
        assert_eq!(report.max_sends_of_one_header, 1);
        assert_eq!(report.header_batches.len(), 3);

        counters.headers_sent(&chain, 3, 505, 3, false);
        let report = counters.report(&chain, 599);
        assert_eq!(report.headers_sent_more_than_once, 3);
        assert_eq!(report.max_sends_of_one_header, 2);
    }

    #[test]
    fn reset_keeps_only_the_open_connections() {
        let chain = chain();
        let mut counters = Counters::new(chain.len());
        counters.connection_opened();
        counters.connection_opened();
        counters.connection_closed();
        counters.headers_sent(&chain, 1, 500, 10, false);
        counters.qrinfo().received += 1;
        counters.reset();
        let report = counters.report(&chain, 599);
        assert_eq!(report.connections_open, 1);
        assert_eq!(report.connections_total, 0);
        assert_eq!(report.headers_served, 0);
        assert!(report.headers_sent_ranges.is_empty());
        assert_eq!(report.qrinfo, RequestCounts::default());
    }

    #[test]
    fn the_batch_list_is_bounded() {
        let chain = chain();
        let mut counters = Counters::new(chain.len());
        for _ in 0..MAX_LISTED_BATCHES + 5 {
            counters.headers_sent(&chain, 1, 500, 1, false);
        }
        let report = counters.report(&chain, 599);
        assert_eq!(report.header_batches.len(), MAX_LISTED_BATCHES);
        assert_eq!(report.header_batches_not_listed, 5);
    }
}
