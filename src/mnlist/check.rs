//! Quorum verification split in two: the engine prepares a [`CheckJob`] per
//! quorum (its commitment and the operator keys of the members its lists
//! select), and [`check_jobs`] checks jobs with no engine state — decoding
//! the keys, aggregating the signers' and pairing — so that jobs can be
//! checked in the engine's thread or spread over Web Workers. A job's
//! result does not depend on which other jobs it is checked with (a failed
//! batch is checked job by job), so any split gives the same statuses.
//!
//! Jobs and their outcomes travel between workers as bytes
//! ([`encode_jobs`], [`decode_jobs`], [`check_encoded`]); the engine takes
//! the outcomes back with `MasternodeEngine::apply_outcomes`.

use super::list::QuorumKey;
use super::split::{decode_part, encode_part, sum_encoded_part, AggregationPart};
use super::status::{QuorumStatus, Unverifiable};
use super::timings::{Clock, Phase, Timings};
use crate::bls::{verify_batch, verify_legacy_batch, KeyCache, Scheme, SignatureGroup};
use crate::encode::{write_compact_size, Decodable, DecodeError, Encodable, Reader};
use crate::hash::ProTxHash;
use crate::llmq::verify::{
    check_signatures, decode_commitment, prepare_commitment, CommitmentFailure, MemberKey,
    PreparedCommitment,
};
use crate::llmq::{LlmqParams, LlmqType};
use crate::protocol::commitment::QuorumCommitment;
use std::collections::HashMap;

/// The members one list selects for a quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateMembers {
    /// The height of the list the members come from.
    pub list_height: u32,
    /// The members' operator keys, in quorum order.
    pub members: Vec<MemberKey>,
}

/// Everything the signature check of one quorum needs, and nothing of the
/// engine: what a worker is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckJob {
    /// The commitment to check.
    pub commitment: QuorumCommitment,
    /// The height of the quorum's base block.
    pub base_height: u32,
    /// The height of the list the rules select the members from.
    pub required_height: u32,
    /// Member lists to try in order: the one of `required_height` alone, or
    /// lists near it when the engine lacks that one.
    pub candidates: Vec<CandidateMembers>,
}

impl CheckJob {
    /// The quorum checked.
    pub fn key(&self) -> QuorumKey {
        (
            LlmqType(self.commitment.llmq_type),
            self.commitment.quorum_hash,
        )
    }

    /// Whether the members come from the list the rules require: then the
    /// commitment verifies or fails; otherwise it verifies or stays not
    /// verifiable until that list arrives.
    pub fn is_exact(&self) -> bool {
        matches!(self.candidates.as_slice(), [c] if c.list_height == self.required_height)
    }

    /// The status when no candidate verifies and no failure is named.
    pub(super) fn missing_list(&self) -> QuorumStatus {
        QuorumStatus::NotVerifiable(Unverifiable::MissingList {
            height: self.required_height,
        })
    }

    /// How many members the job carries (what its check costs, roughly).
    pub fn weight(&self) -> usize {
        self.candidates.iter().map(|c| c.members.len()).sum()
    }
}

/// The engine's clock, if any, and the time spent per phase.
struct Timer<'a> {
    clock: Option<&'a Clock>,
    timings: Timings,
}

impl Timer<'_> {
    fn now(&self) -> f64 {
        self.clock.map_or(0.0, |c| c())
    }

    fn add(&mut self, phase: Phase, since: f64) {
        let elapsed = self.now() - since;
        self.timings.add(phase, elapsed);
    }
}

/// Decodes the commitment's points and the members' keys and aggregates
/// the signers' keys, for one candidate list.
fn prepare(
    job: &CheckJob,
    params: &LlmqParams,
    candidate: &CandidateMembers,
    keys: &mut KeyCache,
    timer: &mut Timer<'_>,
) -> Result<PreparedCommitment, CommitmentFailure> {
    let commitment = &job.commitment;
    let start = timer.now();
    let points = decode_commitment(commitment);
    for (i, member) in candidate.members.iter().enumerate() {
        if commitment.signers.get(i) {
            // Warm the cache; a bad key is reported by prepare_commitment.
            let _ = keys.get(&member.operator_public_key, member.scheme);
        }
    }
    timer.add(Phase::KeyDecompression, start);
    let points = points?;
    let start = timer.now();
    let prepared = prepare_commitment(
        commitment,
        &points,
        params,
        job.base_height,
        &candidate.members,
        keys,
    );
    timer.add(Phase::Aggregation, start);
    prepared
}

/// Commitments of one share an operator key must sign for a table of its
/// multiples to be built. A table costs about three of the key's
/// multiplications without one (in wasm as natively) and saves about half of
/// each in a quorum of 60 keys, less in a quorum of 400 (whose Pippenger
/// multiplication is cheaper per key): at 3 or 4 signatures mainnet's
/// aggregation took longer, at 8 it does not (`bench_mnlist`), and testnet's
/// 115 operator keys sign about 27 commitments each.
const TABLE_AFTER_SIGNATURES: usize = 8;

/// Builds the tables of the operator keys that sign at least
/// [`TABLE_AFTER_SIGNATURES`] commitments of `jobs` (counted over every
/// candidate list), decoding them first. The tables only save work: the
/// statuses are the same with or without them.
fn table_frequent_signers(jobs: &[CheckJob], keys: &mut KeyCache, timer: &mut Timer<'_>) {
    let mut signatures: HashMap<([u8; 48], Scheme), usize> = HashMap::new();
    for job in jobs {
        for candidate in &job.candidates {
            for (i, member) in candidate.members.iter().enumerate() {
                if job.commitment.signers.get(i) {
                    *signatures
                        .entry((member.operator_public_key, member.scheme))
                        .or_default() += 1;
                }
            }
        }
    }
    let mut frequent: Vec<([u8; 48], Scheme)> = signatures
        .into_iter()
        .filter(|(_, count)| *count >= TABLE_AFTER_SIGNATURES)
        .map(|(encoding, _)| encoding)
        .collect();
    frequent.sort_unstable();
    let start = timer.now();
    for (bytes, scheme) in &frequent {
        // Decoded here so that the time counts as decompression, not in
        // `build_tables`; a bad key is reported by the commitment that needs it.
        let _ = keys.get(bytes, *scheme);
    }
    timer.add(Phase::KeyDecompression, start);
    let start = timer.now();
    keys.build_tables(&frequent);
    timer.add(Phase::Aggregation, start);
}

/// The first candidate of a job, from `from` on, whose commitment prepares
/// (decodes and aggregates), with its index.
fn first_prepared(
    job: &CheckJob,
    params: &LlmqParams,
    from: usize,
    keys: &mut KeyCache,
    timer: &mut Timer<'_>,
) -> Option<(usize, PreparedCommitment)> {
    job.candidates
        .iter()
        .enumerate()
        .skip(from)
        .find_map(|(k, candidate)| Some((k, prepare(job, params, candidate, keys, timer).ok()?)))
}

/// Whether both signatures of `prepared` verify, as a batch of one group: one
/// hash to G2 and one final exponentiation instead of two each. Unlike
/// [`check_signatures`] it does not name what failed.
pub(super) fn signatures_verify(prepared: &PreparedCommitment) -> bool {
    batch_verifies(&[prepared], prepared.scheme)
}

/// Whether every commitment of `scheme` among `prepared` verifies, in one batch.
fn batch_verifies(prepared: &[&PreparedCommitment], scheme: Scheme) -> bool {
    let groups: Vec<SignatureGroup> = prepared
        .iter()
        .filter(|p| p.scheme == scheme)
        .map(|p| p.signature_group())
        .collect();
    match scheme {
        Scheme::Basic => verify_batch(&groups),
        Scheme::Legacy => verify_legacy_batch(&groups),
    }
}

/// For each of `prepared`, whether the batch of its scheme verified (one
/// batch per scheme): `true` means it verifies (bar the batch's 2^-64 chance
/// of a false pass), `false` only that it or another of its batch does not,
/// so the caller checks it alone.
fn each_verifies(prepared: &[&PreparedCommitment]) -> Vec<bool> {
    let basic = batch_verifies(prepared, Scheme::Basic);
    let legacy = batch_verifies(prepared, Scheme::Legacy);
    prepared
        .iter()
        .map(|p| match p.scheme {
            Scheme::Basic => basic,
            Scheme::Legacy => legacy,
        })
        .collect()
}

/// The status of a job whose exact list is missing, once its candidate
/// `tried` did not verify: the later candidates are checked one by one and
/// the first that verifies wins.
fn check_later_candidates(
    job: &CheckJob,
    params: &LlmqParams,
    tried: usize,
    keys: &mut KeyCache,
    timer: &mut Timer<'_>,
) -> QuorumStatus {
    let mut from = tried + 1;
    while let Some((k, prepared)) = first_prepared(job, params, from, keys, timer) {
        let start = timer.now();
        timer.timings.quorums_checked += 1;
        let verified = signatures_verify(&prepared);
        timer.add(Phase::Pairings, start);
        if verified {
            return QuorumStatus::Verified {
                members_list_height: job.candidates[k].list_height,
            };
        }
        from = k + 1;
    }
    job.missing_list()
}

/// The status of each job, in order, and the time spent per phase (zero
/// without a clock). Keys are decoded through `keys`, which only saves work:
/// the statuses are the same with any cache. The signatures of all exact
/// jobs are checked in one batch per BLS scheme, and the first candidates of
/// the jobs whose exact list is missing in another; only the commitments of
/// a failed batch are checked one by one, to name the failures of exact jobs
/// and to go on to the next candidates of the others.
pub fn check_jobs(
    jobs: &[CheckJob],
    keys: &mut KeyCache,
    clock: Option<&Clock>,
) -> (Vec<QuorumStatus>, Timings) {
    let mut timer = Timer {
        clock,
        timings: Timings::default(),
    };
    table_frequent_signers(jobs, keys, &mut timer);
    let mut statuses: Vec<Option<QuorumStatus>> = vec![None; jobs.len()];
    let mut exact: Vec<(usize, PreparedCommitment, u32)> = Vec::new();
    let mut nearby: Vec<(usize, &LlmqParams, usize, PreparedCommitment)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let llmq_type = LlmqType(job.commitment.llmq_type);
        // The engine makes no job for an unknown type; a decoded job may have one.
        let Some(params) = llmq_type.params() else {
            statuses[i] = Some(QuorumStatus::NotVerifiable(Unverifiable::UnknownType(
                llmq_type,
            )));
            continue;
        };
        match job.candidates.as_slice() {
            [candidate] if job.is_exact() => {
                match prepare(job, params, candidate, keys, &mut timer) {
                    Ok(prepared) => exact.push((i, prepared, candidate.list_height)),
                    Err(why) => statuses[i] = Some(QuorumStatus::Failed(why)),
                }
            }
            _ => match first_prepared(job, params, 0, keys, &mut timer) {
                Some((k, prepared)) => nearby.push((i, params, k, prepared)),
                None => statuses[i] = Some(job.missing_list()),
            },
        }
    }
    let start = timer.now();
    let exact_refs: Vec<&PreparedCommitment> = exact.iter().map(|(_, p, _)| p).collect();
    let exact_valid = each_verifies(&exact_refs);
    timer.timings.quorums_checked += exact.len();
    for ((i, prepared, list_height), batch_valid) in exact.iter().zip(exact_valid) {
        let checked = if batch_valid {
            Ok(())
        } else {
            check_signatures(prepared)
        };
        statuses[*i] = Some(match checked {
            Ok(()) => QuorumStatus::Verified {
                members_list_height: *list_height,
            },
            Err(why) => QuorumStatus::Failed(why),
        });
    }
    let nearby_refs: Vec<&PreparedCommitment> = nearby.iter().map(|(.., p)| p).collect();
    let nearby_valid = each_verifies(&nearby_refs);
    timer.timings.quorums_checked += nearby.len();
    let mut later: Vec<(usize, &LlmqParams, usize)> = Vec::new();
    for ((i, params, k, prepared), batch_valid) in nearby.iter().zip(nearby_valid) {
        if batch_valid || signatures_verify(prepared) {
            statuses[*i] = Some(QuorumStatus::Verified {
                members_list_height: jobs[*i].candidates[*k].list_height,
            });
        } else {
            later.push((*i, params, *k));
        }
    }
    timer.add(Phase::Pairings, start);
    for (i, params, k) in later {
        statuses[i] = Some(check_later_candidates(
            &jobs[i], params, k, keys, &mut timer,
        ));
    }
    let statuses = statuses
        .into_iter()
        .zip(jobs)
        .map(|(status, job)| status.unwrap_or_else(|| job.missing_list()))
        .collect();
    (statuses, timer.timings)
}

/// `jobs` in `parts` shares of about equal weight (members to check), each
/// share in the jobs' order; the same jobs always give the same shares.
pub fn split_jobs(jobs: Vec<CheckJob>, parts: usize) -> Vec<Vec<CheckJob>> {
    let parts = parts.max(1);
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_unstable_by_key(|&i| (core::cmp::Reverse(jobs[i].weight()), i));
    let mut loads = vec![0usize; parts];
    let mut share_of = vec![0usize; jobs.len()];
    for i in order {
        let lightest = (0..parts).min_by_key(|&p| (loads[p], p)).unwrap_or(0);
        loads[lightest] += jobs[i].weight().max(1);
        share_of[i] = lightest;
    }
    let mut shares: Vec<Vec<CheckJob>> = vec![Vec::new(); parts];
    for (job, share) in jobs.into_iter().zip(share_of) {
        shares[share].push(job);
    }
    shares
}

/// A BLS scheme as one byte (0 legacy, 1 basic), in the shares sent to workers.
pub(super) fn scheme_byte(scheme: Scheme) -> u8 {
    match scheme {
        Scheme::Legacy => 0,
        Scheme::Basic => 1,
    }
}

impl Encodable for MemberKey {
    fn encode(&self, out: &mut Vec<u8>) {
        self.pro_tx_hash.encode(out);
        self.operator_public_key.encode(out);
        out.push(scheme_byte(self.scheme));
    }
}

/// The scheme [`scheme_byte`] wrote, `field` naming it in an error.
pub(super) fn read_scheme(r: &mut Reader<'_>, field: &'static str) -> Result<Scheme, DecodeError> {
    match r.read_u8()? {
        0 => Ok(Scheme::Legacy),
        1 => Ok(Scheme::Basic),
        other => Err(DecodeError::InvalidValue {
            field,
            value: u64::from(other),
        }),
    }
}

impl Decodable for MemberKey {
    const MIN_ENCODED_SIZE: usize = 32 + 48 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let pro_tx_hash = ProTxHash::decode(r)?;
        let operator_public_key = r.read_array()?;
        let scheme = read_scheme(r, "member key scheme")?;
        Ok(MemberKey {
            pro_tx_hash,
            operator_public_key,
            scheme,
        })
    }
}

impl Encodable for CheckJob {
    fn encode(&self, out: &mut Vec<u8>) {
        self.commitment.encode(out);
        self.base_height.encode(out);
        self.required_height.encode(out);
        write_compact_size(out, self.candidates.len() as u64);
        for candidate in &self.candidates {
            candidate.list_height.encode(out);
            crate::encode::write_vec(out, &candidate.members);
        }
    }
}

impl Decodable for CheckJob {
    const MIN_ENCODED_SIZE: usize = QuorumCommitment::MIN_ENCODED_SIZE + 4 + 4 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let commitment = QuorumCommitment::decode(r)?;
        let base_height = r.read_u32()?;
        let required_height = r.read_u32()?;
        let candidates = r.read_vec_with("candidate lists", 4 + 1, |r| {
            Ok(CandidateMembers {
                list_height: r.read_u32()?,
                members: r.read_vec("candidate members")?,
            })
        })?;
        Ok(CheckJob {
            commitment,
            base_height,
            required_height,
            candidates,
        })
    }
}

/// `jobs` as bytes, for a worker.
pub fn encode_jobs(jobs: &[CheckJob]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::encode::write_vec(&mut out, jobs);
    out
}

/// The jobs [`encode_jobs`] wrote.
pub fn decode_jobs(bytes: &[u8]) -> Result<Vec<CheckJob>, DecodeError> {
    let mut r = Reader::new(bytes);
    let jobs = r.read_vec("check jobs")?;
    r.finish()?;
    Ok(jobs)
}

/// Outcome tag: the quorum verified (a list height follows).
const VERIFIED: u8 = 1;
/// Outcome tag: it did not.
const NOT_VERIFIED: u8 = 0;

/// What a worker sends back for its jobs: per job, in order, whether it
/// verified and with which list. A failure is not described: the engine
/// checks such a job again to name it (see `MasternodeEngine::apply_outcomes`).
pub fn encode_outcomes(statuses: &[QuorumStatus]) -> Vec<u8> {
    let mut out = Vec::new();
    write_compact_size(&mut out, statuses.len() as u64);
    for status in statuses {
        match status {
            QuorumStatus::Verified {
                members_list_height,
            } => {
                out.push(VERIFIED);
                members_list_height.encode(&mut out);
            }
            _ => out.push(NOT_VERIFIED),
        }
    }
    out
}

/// The outcomes [`encode_outcomes`] wrote: per job, the height of the list
/// whose members verified it, or `None`.
pub fn decode_outcomes(bytes: &[u8]) -> Result<Vec<Option<u32>>, DecodeError> {
    let mut r = Reader::new(bytes);
    // At least a byte each, so the count is bounded by the input; not
    // preallocated (an outcome takes more memory than its byte).
    let count = r.read_count("check outcomes", 1)?;
    let mut outcomes = Vec::new();
    for _ in 0..count {
        outcomes.push(match r.read_u8()? {
            VERIFIED => Some(r.read_u32()?),
            NOT_VERIFIED => None,
            other => {
                return Err(DecodeError::InvalidValue {
                    field: "check outcome",
                    value: u64::from(other),
                })
            }
        });
    }
    r.finish()?;
    Ok(outcomes)
}

/// A worker's whole task: the encoded `jobs` checked with the worker's key
/// cache, their outcomes encoded.
pub fn check_encoded(jobs: &[u8], keys: &mut KeyCache) -> Result<Vec<u8>, DecodeError> {
    let jobs = decode_jobs(jobs)?;
    let (statuses, _) = check_jobs(&jobs, keys, None);
    Ok(encode_outcomes(&statuses))
}

/// What a checking worker of the client is sent: check jobs, or one part of a
/// job's secure aggregation (`mnlist::split`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckShare {
    /// Jobs to check; the worker answers their outcomes ([`encode_outcomes`]).
    Jobs(Vec<CheckJob>),
    /// A part to sum; the worker answers the sum's 96 bytes, or none if a key
    /// does not decode.
    Part(AggregationPart),
}

/// Share tag: check jobs follow ([`encode_jobs`]).
const SHARE_JOBS: u8 = 0;
/// Share tag: an aggregation part follows ([`encode_part`]).
const SHARE_PART: u8 = 1;

/// A share as bytes, its kind first.
pub fn encode_share(share: &CheckShare) -> Vec<u8> {
    let (tag, body) = match share {
        CheckShare::Jobs(jobs) => (SHARE_JOBS, encode_jobs(jobs)),
        CheckShare::Part(part) => (SHARE_PART, encode_part(part)),
    };
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(tag);
    out.extend_from_slice(&body);
    out
}

/// The share [`encode_share`] wrote.
pub fn decode_share(bytes: &[u8]) -> Result<CheckShare, DecodeError> {
    match share_kind(bytes)? {
        (SHARE_JOBS, body) => decode_jobs(body).map(CheckShare::Jobs),
        (_, body) => decode_part(body).map(CheckShare::Part),
    }
}

/// A share's tag, known, and its body.
fn share_kind(bytes: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    let mut r = Reader::new(bytes);
    let tag = r.read_u8()?;
    if tag != SHARE_JOBS && tag != SHARE_PART {
        return Err(DecodeError::InvalidValue {
            field: "check share kind",
            value: u64::from(tag),
        });
    }
    Ok((tag, &bytes[1..]))
}

/// A client's checking worker's whole task: the answer to an encoded share,
/// with the worker's key cache ([`check_encoded`] or [`sum_encoded_part`]).
pub fn check_share(share: &[u8], keys: &mut KeyCache) -> Result<Vec<u8>, DecodeError> {
    match share_kind(share)? {
        (SHARE_JOBS, body) => check_encoded(body, keys),
        (_, body) => sum_encoded_part(body, keys),
    }
}
