//! The `getmnlistd` pipeline: a queue of masternode lists to fetch, sent with bounded
//! concurrency, each request with its own escalating timeout and bounded retries.

use super::config::RetryLadder;
use super::engine::DiffBlocks;
use super::requests::{Attempt, Request};
use super::time::Timestamp;
use crate::hash::BlockHash;
use std::collections::VecDeque;

/// A masternode list to fetch with `getmnlistd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DiffTarget {
    /// Block of the list to diff from (all zero: the full list).
    pub base: BlockHash,
    /// Block of the list wanted.
    pub block: BlockHash,
    /// Height of `block`.
    pub list_height: u32,
}

impl DiffTarget {
    fn request(&self) -> Request {
        Request::GetMnListDiff {
            base_block_hash: self.base,
            block_hash: self.block,
        }
    }

    /// A diff answers this target if it leads to the wanted block from the
    /// requested base, or from the empty list (a full list answers any base).
    fn answered_by(&self, blocks: &DiffBlocks) -> bool {
        self.block == blocks.block && (self.base == blocks.base || blocks.base.is_zero())
    }
}

/// A `getmnlistd` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InFlightDiff {
    /// What was asked for.
    pub target: DiffTarget,
    /// The attempt on the wire.
    pub attempt: Attempt,
}

/// A `getmnlistd` given up after its last attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DroppedDiff {
    /// What was asked for.
    pub target: DiffTarget,
    /// Attempts made.
    pub attempts: u8,
}

/// What a tick of the pipeline did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineTick {
    /// Requests to send: retries of timed-out requests and newly admitted ones.
    pub requests: Vec<Request>,
    /// Requests given up.
    pub dropped: Vec<DroppedDiff>,
}

/// Queued and in-flight `getmnlistd` requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffPipeline {
    ladder: RetryLadder,
    max_in_flight: usize,
    queued: VecDeque<DiffTarget>,
    in_flight: Vec<InFlightDiff>,
}

impl DiffPipeline {
    /// An empty pipeline with at most `max_in_flight` (at least one) requests on the wire.
    pub fn new(ladder: RetryLadder, max_in_flight: usize) -> Self {
        DiffPipeline {
            ladder,
            max_in_flight: max_in_flight.max(1),
            queued: VecDeque::new(),
            in_flight: Vec::new(),
        }
    }

    /// Queues a list to fetch, unless the same list is already queued or in flight.
    pub fn queue(&mut self, target: DiffTarget) {
        let known = self.queued.iter().any(|t| t.block == target.block)
            || self
                .in_flight
                .iter()
                .any(|f| f.target.block == target.block);
        if !known {
            self.queued.push_back(target);
        }
    }

    /// Sends queued requests while fewer than the limit are in flight.
    pub fn send_ready(&mut self, now: Timestamp) -> Vec<Request> {
        let mut requests = Vec::new();
        while self.in_flight.len() < self.max_in_flight {
            let Some(target) = self.queued.pop_front() else {
                break;
            };
            requests.push(self.send(target, 1, now));
        }
        requests
    }

    fn send(&mut self, target: DiffTarget, attempt: u8, now: Timestamp) -> Request {
        self.in_flight.push(InFlightDiff {
            target,
            attempt: Attempt::sent(&self.ladder, attempt, now),
        });
        target.request()
    }

    /// Takes the in-flight request an MnListDiff answers; `None` if it answers none
    /// (unsolicited, duplicate or late), and the diff must be dropped.
    pub fn take_answered(&mut self, blocks: &DiffBlocks) -> Option<InFlightDiff> {
        let index = self
            .in_flight
            .iter()
            .position(|f| f.target.answered_by(blocks))?;
        Some(self.in_flight.swap_remove(index))
    }

    /// Asks again for a request whose answer was rejected, or gives it up after its last
    /// attempt.
    pub fn retry(
        &mut self,
        rejected: InFlightDiff,
        now: Timestamp,
    ) -> Result<Request, DroppedDiff> {
        let attempt = rejected.attempt.number;
        if attempt >= self.ladder.max_attempts() {
            return Err(DroppedDiff {
                target: rejected.target,
                attempts: attempt,
            });
        }
        Ok(self.send(rejected.target, attempt.saturating_add(1), now))
    }

    /// Retries timed-out requests (or gives them up), then admits queued ones.
    pub fn tick(&mut self, now: Timestamp) -> PipelineTick {
        let mut outcome = PipelineTick::default();
        let (expired, waiting): (Vec<InFlightDiff>, Vec<InFlightDiff>) = self
            .in_flight
            .drain(..)
            .partition(|f| f.attempt.deadline <= now);
        self.in_flight = waiting;
        for timed_out in expired {
            match self.retry(timed_out, now) {
                Ok(request) => outcome.requests.push(request),
                Err(dropped) => outcome.dropped.push(dropped),
            }
        }
        outcome.requests.extend(self.send_ready(now));
        outcome
    }

    /// Makes every in-flight request time out at `now` (its peer went away).
    pub fn expire_in_flight(&mut self, now: Timestamp) {
        for in_flight in &mut self.in_flight {
            in_flight.attempt.expire(now);
        }
    }

    /// Whether nothing is queued or in flight.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty() && self.in_flight.is_empty()
    }

    /// Requests on the wire.
    pub fn in_flight(&self) -> &[InFlightDiff] {
        &self.in_flight
    }

    /// Requests waiting for a free slot.
    pub fn queued_len(&self) -> usize {
        self.queued.len()
    }

    /// The earliest deadline of an in-flight request.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.in_flight.iter().map(|f| f.attempt.deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::time::Millis;

    fn target(n: u8) -> DiffTarget {
        DiffTarget {
            base: BlockHash::ZERO,
            block: BlockHash([n; 32]),
            list_height: u32::from(n),
        }
    }

    fn blocks(n: u8) -> DiffBlocks {
        DiffBlocks {
            base: BlockHash::ZERO,
            block: BlockHash([n; 32]),
        }
    }

    fn pipeline(max_in_flight: usize) -> DiffPipeline {
        DiffPipeline::new(RetryLadder::ESCALATING, max_in_flight)
    }

    #[test]
    fn concurrency_is_bounded() {
        let mut pipeline = pipeline(2);
        for n in 1..=5 {
            pipeline.queue(target(n));
        }
        let now = Timestamp(0);
        assert_eq!(pipeline.send_ready(now).len(), 2);
        assert_eq!(pipeline.send_ready(now).len(), 0);
        assert_eq!(pipeline.queued_len(), 3);
        assert!(pipeline.take_answered(&blocks(1)).is_some());
        assert_eq!(
            pipeline.send_ready(now),
            vec![Request::GetMnListDiff {
                base_block_hash: BlockHash::ZERO,
                block_hash: BlockHash([3; 32]),
            }]
        );
    }

    #[test]
    fn a_full_list_answers_a_request_from_any_base_but_another_base_does_not() {
        let mut pipeline = pipeline(4);
        let from_list = DiffTarget {
            base: BlockHash([7; 32]),
            ..target(1)
        };
        pipeline.queue(from_list);
        assert_eq!(pipeline.send_ready(Timestamp(0)).len(), 1);
        let other_base = DiffBlocks {
            base: BlockHash([8; 32]),
            ..blocks(1)
        };
        assert!(pipeline.take_answered(&other_base).is_none());
        assert!(
            pipeline.take_answered(&blocks(1)).is_some(),
            "a diff from the empty list answers it"
        );
    }

    #[test]
    fn duplicates_are_neither_queued_nor_answered_twice() {
        let mut pipeline = pipeline(4);
        pipeline.queue(target(1));
        pipeline.queue(target(1));
        assert_eq!(pipeline.send_ready(Timestamp(0)).len(), 1);
        pipeline.queue(target(1));
        assert_eq!(pipeline.queued_len(), 0);
        assert!(pipeline.take_answered(&blocks(1)).is_some());
        assert!(pipeline.take_answered(&blocks(1)).is_none());
        assert!(pipeline.take_answered(&blocks(9)).is_none());
        assert!(pipeline.is_empty());
    }

    #[test]
    fn timeouts_escalate_then_the_request_is_dropped() {
        let mut pipeline = DiffPipeline::new(
            RetryLadder {
                timeouts: [Millis(10), Millis(30), Millis(60)],
            },
            4,
        );
        pipeline.queue(target(1));
        pipeline.send_ready(Timestamp(0));
        assert_eq!(pipeline.tick(Timestamp(9)), PipelineTick::default());
        assert_eq!(pipeline.tick(Timestamp(10)).requests.len(), 1);
        assert_eq!(pipeline.next_deadline(), Some(Timestamp(40)));
        assert_eq!(pipeline.tick(Timestamp(39)), PipelineTick::default());
        assert_eq!(pipeline.tick(Timestamp(40)).requests.len(), 1);
        assert_eq!(pipeline.next_deadline(), Some(Timestamp(100)));
        let last = pipeline.tick(Timestamp(100));
        assert!(last.requests.is_empty());
        assert_eq!(
            last.dropped,
            vec![DroppedDiff {
                target: target(1),
                attempts: 3
            }]
        );
        assert!(pipeline.is_empty());
    }

    #[test]
    fn a_rejected_answer_is_asked_again_until_its_attempts_run_out() {
        let mut pipeline = pipeline(4);
        pipeline.queue(target(1));
        pipeline.send_ready(Timestamp(0));
        for attempt in 1..3 {
            let answered = pipeline.take_answered(&blocks(1)).expect("in flight");
            assert_eq!(answered.attempt.number, attempt);
            assert!(pipeline.retry(answered, Timestamp(5)).is_ok());
        }
        let answered = pipeline.take_answered(&blocks(1)).expect("in flight");
        assert!(pipeline.retry(answered, Timestamp(5)).is_err());
        assert!(pipeline.is_empty());
    }

    #[test]
    fn a_lost_peer_expires_in_flight_requests_now() {
        let mut pipeline = pipeline(4);
        pipeline.queue(target(1));
        pipeline.send_ready(Timestamp(0));
        pipeline.expire_in_flight(Timestamp(3));
        assert_eq!(pipeline.next_deadline(), Some(Timestamp(3)));
        assert_eq!(pipeline.tick(Timestamp(3)).requests.len(), 1);
    }
}
