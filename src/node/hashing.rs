//! X11 for long `headers` batches in the runtime's workers.
//!
//! Hashing is nearly all the cost of a header sync (about 20 µs a header in wasm), so a sync
//! from an old checkpoint or genesis hashes each full batch in the same workers that check
//! quorums: the node sends the batch's headers out in shares ([`HashRequest`]), holds the
//! batch ([`HashingState::Awaiting`]) and connects it once the hashes come back
//! ([`HeaderHashing::answered`]), or at a deadline in its own thread
//! ([`HeaderHashing::expired`]). One batch is out at a time; a batch arriving meanwhile, and
//! every short one (an announcement, the end of a sync), is hashed in the node's thread.
//!
//! A worker's answer is never what blames a peer: a hash is taken only where the next header
//! of the batch names it as its parent, which is what validation would check of it anyway,
//! and the batch's last header is always hashed here. Garbage, silence or a wrong length from
//! a worker costs time, never a verdict.

use crate::block::{BlockHeader, HEADER_SIZE};
use crate::chain::HashedHeader;
use crate::hash::{x11, BlockHash};
use crate::peer::set::PeerId;
use crate::sync::time::{Millis, Timestamp};

/// Batches shorter than this are hashed in the node's thread: the round trip to the workers
/// is not worth it for an announcement or the tail of a sync.
pub const MIN_BATCH_FOR_WORKERS: usize = 256;

/// The size of one header's hash in a worker's answer.
const HASH_SIZE: usize = 32;

/// A batch of headers to hash in the workers: `shares[i]` (concatenated 80-byte headers, in
/// chain order) goes to worker `i`, whose answer is [`hash_share`] of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashRequest {
    /// Which batch the answers are for.
    pub job: u64,
    /// The headers, one share per worker.
    pub shares: Vec<Vec<u8>>,
}

/// What became of a batch offered to [`HeaderHashing::offer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Hashed in the node's thread: connect it now.
    Hashed(Vec<HashedHeader>),
    /// Held until the workers answer the request, or the deadline passes.
    Sent(HashRequest),
}

/// A batch whose hashes are all known: connect it as `peer`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedBatch {
    /// The peer that sent it.
    pub peer: PeerId,
    /// Its headers with their hashes, in order.
    pub headers: Vec<HashedHeader>,
}

/// Whether a batch is out with the workers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HashingState {
    /// None is.
    Idle,
    /// Batch `job` from `peer` waits for its hashes until `deadline`.
    Awaiting {
        job: u64,
        peer: PeerId,
        headers: Vec<BlockHeader>,
        /// Headers in each share but maybe the last.
        share_len: usize,
        deadline: Timestamp,
    },
}

/// Sends long `headers` batches to the hashing workers and takes their answers.
#[derive(Debug, Clone)]
pub struct HeaderHashing {
    workers: usize,
    timeout: Millis,
    next_job: u64,
    state: HashingState,
    hashed_in_workers: u64,
}

impl HeaderHashing {
    /// Hashing over `workers` workers (0: always in the node's thread), whose answers are
    /// awaited for `timeout`.
    pub fn new(workers: usize, timeout: Millis) -> HeaderHashing {
        HeaderHashing {
            workers,
            timeout,
            next_job: 1,
            state: HashingState::Idle,
            hashed_in_workers: 0,
        }
    }

    /// How many headers had their hashes from the workers so far.
    pub fn hashed_in_workers(&self) -> u64 {
        self.hashed_in_workers
    }

    /// When the batch out with the workers is hashed here instead, if one is.
    pub fn deadline(&self) -> Option<Timestamp> {
        match self.state {
            HashingState::Idle => None,
            HashingState::Awaiting { deadline, .. } => Some(deadline),
        }
    }

    /// Takes a batch `peer` sent at `now`: out to the workers if it is long, there are
    /// workers and none is busy with another batch; otherwise hashed here.
    pub fn offer(&mut self, peer: PeerId, headers: Vec<BlockHeader>, now: Timestamp) -> Offer {
        let idle = self.state == HashingState::Idle;
        if !idle || self.workers == 0 || headers.len() < MIN_BATCH_FOR_WORKERS {
            return Offer::Hashed(headers.into_iter().map(HashedHeader::new).collect());
        }
        let share_len = headers.len().div_ceil(self.workers);
        let shares = headers
            .chunks(share_len)
            .map(|share| share.iter().flat_map(BlockHeader::to_bytes).collect())
            .collect();
        let job = self.next_job;
        self.next_job += 1;
        self.state = HashingState::Awaiting {
            job,
            peer,
            headers,
            share_len,
            deadline: now + self.timeout,
        };
        Offer::Sent(HashRequest { job, shares })
    }

    /// The workers answered batch `job`: one answer per share, in order (fewer, or none, if
    /// workers failed). The batch, hashed with what fits and here for the rest; `None` for a
    /// job not awaited (answered after its deadline, or after [`HeaderHashing::clear`]).
    pub fn answered(&mut self, job: u64, answers: &[Vec<u8>]) -> Option<HashedBatch> {
        match std::mem::replace(&mut self.state, HashingState::Idle) {
            HashingState::Awaiting {
                job: awaited,
                peer,
                headers,
                share_len,
                ..
            } if awaited == job => {
                let (headers, from_workers) = assemble(headers, share_len, answers);
                self.hashed_in_workers += from_workers;
                Some(HashedBatch { peer, headers })
            }
            other => {
                self.state = other;
                None
            }
        }
    }

    /// The batch out with the workers, hashed here, if its deadline has passed at `now`.
    pub fn expired(&mut self, now: Timestamp) -> Option<HashedBatch> {
        match std::mem::replace(&mut self.state, HashingState::Idle) {
            HashingState::Awaiting {
                peer,
                headers,
                deadline,
                ..
            } if deadline <= now => Some(HashedBatch {
                peer,
                headers: headers.into_iter().map(HashedHeader::new).collect(),
            }),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// Forgets the batch out with the workers (the client stopped): its answer is ignored.
    pub fn clear(&mut self) {
        self.state = HashingState::Idle;
    }
}

/// Pairs each header with its hash: the workers' where the next header names it as its
/// parent, else X11 here (always for the last). Returns the headers and how many hashes came
/// from the workers.
fn assemble(
    headers: Vec<BlockHeader>,
    share_len: usize,
    answers: &[Vec<u8>],
) -> (Vec<HashedHeader>, u64) {
    let count = headers.len();
    let mut from_workers = 0;
    let hashed = headers
        .iter()
        .enumerate()
        .map(|(i, &header)| {
            let offered = i
                .checked_div(share_len)
                .and_then(|share| worker_hash(answers, share, i % share_len, share_len, count));
            let named_by_next = headers.get(i + 1).map(|next| next.prev_blockhash);
            match (offered, named_by_next) {
                (Some(hash), Some(parent)) if hash == parent => {
                    from_workers += 1;
                    HashedHeader::with_hash(header, hash)
                }
                _ => HashedHeader::new(header),
            }
        })
        .collect();
    (hashed, from_workers)
}

/// Header `index` of share `share` as the worker's answer gives it, if the answer has
/// exactly one hash per header of its share.
fn worker_hash(
    answers: &[Vec<u8>],
    share: usize,
    index: usize,
    share_len: usize,
    count: usize,
) -> Option<BlockHash> {
    let answer = answers.get(share)?;
    let in_share = count.saturating_sub(share * share_len).min(share_len);
    if answer.len() != in_share * HASH_SIZE {
        return None;
    }
    let bytes = answer.get(index * HASH_SIZE..(index + 1) * HASH_SIZE)?;
    let mut hash = [0u8; HASH_SIZE];
    hash.copy_from_slice(bytes);
    Some(BlockHash(hash))
}

/// A hashing worker's task: X11 of each 80-byte header of `share`, concatenated (a trailing
/// partial header is ignored).
pub fn hash_share(share: &[u8]) -> Vec<u8> {
    share
        .chunks_exact(HEADER_SIZE)
        .flat_map(|chunk| {
            let mut raw = [0u8; HEADER_SIZE];
            raw.copy_from_slice(chunk);
            x11(&raw)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` linked headers (not valid proof of work: only the links matter here).
    fn linked(count: usize) -> Vec<BlockHeader> {
        let mut prev = BlockHash::ZERO;
        (0..count)
            .map(|i| {
                let header = BlockHeader {
                    version: 0x2000_0000,
                    prev_blockhash: prev,
                    merkle_root: Default::default(),
                    time: 1_600_000_000 + i as u32,
                    bits: 0x1e0f_ffff,
                    nonce: i as u32,
                };
                prev = header.block_hash();
                header
            })
            .collect()
    }

    fn sent(offer: Offer) -> HashRequest {
        match offer {
            Offer::Sent(request) => request,
            Offer::Hashed(_) => panic!("hashed in the node's thread"),
        }
    }

    fn peer() -> PeerId {
        7
    }

    fn hashing() -> HeaderHashing {
        HeaderHashing::new(2, Millis::from_secs(2))
    }

    fn expected(headers: &[BlockHeader]) -> Vec<HashedHeader> {
        headers.iter().copied().map(HashedHeader::new).collect()
    }

    #[test]
    fn a_long_batch_goes_out_in_one_share_per_worker_and_comes_back_hashed() {
        let headers = linked(1_001);
        let mut hashing = hashing();
        let request = sent(hashing.offer(peer(), headers.clone(), Timestamp(0)));
        assert_eq!(request.shares.len(), 2);
        assert_eq!(request.shares[0].len(), 501 * HEADER_SIZE);
        assert_eq!(request.shares[1].len(), 500 * HEADER_SIZE);
        let answers: Vec<Vec<u8>> = request.shares.iter().map(|s| hash_share(s)).collect();
        let batch = hashing.answered(request.job, &answers).expect("awaited");
        assert_eq!(batch.peer, peer());
        assert_eq!(batch.headers, expected(&headers));
        // Every hash but the last one's, which the node computes itself.
        assert_eq!(hashing.hashed_in_workers(), 1_000);
        assert_eq!(hashing.deadline(), None);
    }

    #[test]
    fn short_batches_no_workers_or_a_busy_pool_hash_in_the_node() {
        let mut hashing = hashing();
        let short = linked(MIN_BATCH_FOR_WORKERS - 1);
        assert_eq!(
            hashing.offer(peer(), short.clone(), Timestamp(0)),
            Offer::Hashed(expected(&short))
        );
        let long = linked(2_000);
        let mut none = HeaderHashing::new(0, Millis::from_secs(2));
        assert_eq!(
            none.offer(peer(), long.clone(), Timestamp(0)),
            Offer::Hashed(expected(&long))
        );
        sent(hashing.offer(peer(), long.clone(), Timestamp(0)));
        assert_eq!(
            hashing.offer(8, long.clone(), Timestamp(1)),
            Offer::Hashed(expected(&long))
        );
    }

    /// How simulated workers answer a request.
    type Answer = dyn Fn(&HashRequest) -> Vec<Vec<u8>>;

    #[test]
    fn wrong_or_missing_answers_are_replaced_by_hashing_here() {
        let headers = linked(600);
        let truth = expected(&headers);
        let garbage = |request: &HashRequest| -> Vec<Vec<u8>> {
            request
                .shares
                .iter()
                .map(|s| vec![0xab; s.len() / HEADER_SIZE * HASH_SIZE])
                .collect()
        };
        let short = |request: &HashRequest| -> Vec<Vec<u8>> {
            request
                .shares
                .iter()
                .map(|s| hash_share(&s[HEADER_SIZE..]))
                .collect()
        };
        let first_only =
            |request: &HashRequest| -> Vec<Vec<u8>> { vec![hash_share(&request.shares[0])] };
        let cases: [(&str, &Answer, u64); 4] = [
            ("garbage of the right length", &garbage, 0),
            ("one hash short per share", &short, 0),
            ("the first share only", &first_only, 300),
            ("no answer", &|_| Vec::new(), 0),
        ];
        for (name, answer, from_workers) in cases {
            let mut hashing = hashing();
            let request = sent(hashing.offer(peer(), headers.clone(), Timestamp(0)));
            let batch = hashing
                .answered(request.job, &answer(&request))
                .expect(name);
            assert_eq!(batch.headers, truth, "{name}");
            assert_eq!(hashing.hashed_in_workers(), from_workers, "{name}");
        }
    }

    #[test]
    fn a_batch_that_does_not_link_takes_no_hash_from_the_workers() {
        let mut headers = linked(400);
        headers[200].prev_blockhash = BlockHash([9; 32]);
        let mut hashing = hashing();
        let request = sent(hashing.offer(peer(), headers.clone(), Timestamp(0)));
        let answers: Vec<Vec<u8>> = request.shares.iter().map(|s| hash_share(s)).collect();
        let batch = hashing.answered(request.job, &answers).expect("awaited");
        // Header 199's hash is not named by header 200, nor header 200's (changed) by header
        // 201: both are computed here, so validation sees the true hashes and the true break.
        assert_eq!(batch.headers, expected(&headers));
        assert_eq!(hashing.hashed_in_workers(), 397);
    }

    #[test]
    fn past_its_deadline_the_batch_is_hashed_here_and_a_late_answer_is_ignored() {
        let headers = linked(300);
        let mut hashing = hashing();
        let request = sent(hashing.offer(peer(), headers.clone(), Timestamp(1_000)));
        assert_eq!(hashing.deadline(), Some(Timestamp(3_000)));
        assert_eq!(hashing.expired(Timestamp(2_999)), None);
        let batch = hashing.expired(Timestamp(3_000)).expect("expired");
        assert_eq!(batch.headers, expected(&headers));
        let answers: Vec<Vec<u8>> = request.shares.iter().map(|s| hash_share(s)).collect();
        assert_eq!(hashing.answered(request.job, &answers), None);
        assert_eq!(hashing.hashed_in_workers(), 0);
        // The next long batch goes out again, as a new job.
        let next = sent(hashing.offer(peer(), headers, Timestamp(4_000)));
        assert_ne!(next.job, request.job);
    }

    #[test]
    fn a_cleared_batch_is_forgotten() {
        let mut hashing = hashing();
        let request = sent(hashing.offer(peer(), linked(300), Timestamp(0)));
        hashing.clear();
        assert_eq!(hashing.deadline(), None);
        assert_eq!(hashing.answered(request.job, &[]), None);
        assert_eq!(hashing.expired(Timestamp(u64::MAX)), None);
    }

    #[test]
    fn a_worker_share_hashes_each_header_as_the_chain_does() {
        let headers = linked(3);
        let mut share: Vec<u8> = headers.iter().flat_map(BlockHeader::to_bytes).collect();
        share.extend_from_slice(&[1, 2, 3]);
        let hashes = hash_share(&share);
        for (i, header) in headers.iter().enumerate() {
            assert_eq!(
                &hashes[i * HASH_SIZE..(i + 1) * HASH_SIZE],
                header.block_hash().as_bytes()
            );
        }
        assert_eq!(hashes.len(), 3 * HASH_SIZE);
    }
}
