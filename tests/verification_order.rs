//! Which quorums verify, fail or are not verifiable does not depend on how
//! the verification is split (into slices of one engine, or over several
//! engines, or as check jobs over several workers) nor on the order of the
//! quorums or of the workers' answers: checked against verifying everything
//! while the messages are applied, on the real testnet and mainnet captures,
//! with failures from wrong members and from forged signatures.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod support;

use dashlight::block::BlockHeader;
use dashlight::bls::KeyCache;
use dashlight::chain::{HeaderLookup, HeaderMap};
use dashlight::hash::BlockHash;
use dashlight::llmq::LlmqType;
use dashlight::mnlist::check::{
    check_encoded, check_jobs, decode_jobs, decode_outcomes, encode_jobs, split_jobs, CheckJob,
};
use dashlight::mnlist::split::{
    decode_part, encode_part, split_aggregation, sum_encoded_part, verified_from_encoded_sums,
};
use dashlight::mnlist::{MasternodeEngine, QuorumKey, QuorumStatus, VerifyOnApply};
use dashlight::network::Network;
use dashlight::node::engine::ClientEngine;
use dashlight::protocol::mnlistdiff::MnListDiff;
use dashlight::protocol::qrinfo::QrInfo;
use dashlight::sync::chain_view::ChainView;
use dashlight::sync::engine::SyncEngine;
use std::collections::BTreeMap;
use support::{mainnet_heights, testnet_cbtx_clsig, testnet_headers};

fn payload(list: &[(&str, &'static [u8])], name: &str) -> &'static [u8] {
    list.iter()
        .find(|(p, _)| p.ends_with(name))
        .map(|(_, b)| *b)
        .unwrap()
}

/// A QRInfo and a diff with the header chain they are checked against.
struct Scenario<H> {
    network: Network,
    headers: H,
    qrinfo: QrInfo,
    diff: MnListDiff,
}

type Statuses = BTreeMap<QuorumKey, QuorumStatus>;

/// Reorders the quorums to verify.
type Order = fn(&mut Vec<QuorumKey>);

/// Changes the workers' answers to a split aggregation.
type Tamper = fn(&mut Vec<Vec<u8>>);

impl<H: HeaderLookup> Scenario<H> {
    /// A fresh engine that has applied both messages.
    fn engine(&self, verify: VerifyOnApply) -> MasternodeEngine {
        let mut engine = MasternodeEngine::new(self.network);
        engine.set_require_block_proofs(self.network == Network::Testnet);
        engine.set_verify_on_apply(verify);
        engine.apply_qrinfo(&self.qrinfo, &self.headers).unwrap();
        engine.apply_diff(&self.diff, &self.headers).unwrap();
        engine
    }

    /// Every quorum verified while the messages are applied.
    fn all_at_once(&self) -> Statuses {
        statuses(&self.engine(VerifyOnApply::All))
    }

    /// Nothing verified on apply; then the pending quorums, reordered by
    /// `order`, verified in `parts` consecutive slices of one engine.
    fn in_slices(&self, parts: usize, order: Order) -> Statuses {
        let mut engine = self.engine(VerifyOnApply::None);
        let mut keys = pending(&engine);
        order(&mut keys);
        for slice in split(&keys, parts) {
            engine.verify_quorum_set(slice, &self.headers);
        }
        statuses(&engine)
    }

    /// The pending quorums split over `workers` engines that each applied
    /// the messages and verify only their share; each quorum's status is
    /// taken from the engine that verified it.
    fn over_workers(&self, workers: usize, order: Order) -> Statuses {
        let first = self.engine(VerifyOnApply::None);
        let mut keys = pending(&first);
        order(&mut keys);
        let mut merged = statuses(&first);
        for share in split(&keys, workers) {
            let mut worker = self.engine(VerifyOnApply::None);
            worker.verify_quorum_set(share, &self.headers);
            let done = statuses(&worker);
            for key in share {
                merged.insert(*key, done[key].clone());
            }
        }
        merged
    }

    /// The pending quorums' checks prepared by one engine (in priority
    /// order, or reversed), split over `workers` shares each checked as a
    /// worker does (from bytes, with a key cache of its own, outcomes as
    /// bytes), the outcomes applied share by share, last share first if
    /// `reversed`.
    fn over_check_workers(&self, workers: usize, reversed: bool) -> Statuses {
        let mut engine = self.engine(VerifyOnApply::None);
        let mut keys = pending(&engine);
        if reversed {
            keys.reverse();
        }
        let jobs = engine.prepare_checks(&keys, &self.headers);
        let mut shares: Vec<_> = split_jobs(jobs, workers)
            .into_iter()
            .map(|share| {
                let bytes = encode_jobs(&share);
                assert_eq!(decode_jobs(&bytes).unwrap(), share);
                let outcomes = check_encoded(&bytes, &mut KeyCache::new()).unwrap();
                (share, outcomes)
            })
            .collect();
        assert_eq!(shares.len(), workers);
        if reversed {
            shares.reverse();
        }
        for (share, outcomes) in &shares {
            engine
                .apply_outcomes(share, outcomes, &self.headers)
                .unwrap();
        }
        statuses(&engine)
    }

    /// The pending quorums' checks prepared by one engine, each job's secure
    /// aggregation split in `parts` parts summed as workers do (from bytes,
    /// each with a key cache of its own), the answers passed through `tamper`
    /// and applied job by job; a job that cannot be split is checked here.
    /// Returns the statuses and, per job split, whether it verified from the
    /// sums and whether its first list was the one the rules require.
    fn with_split_aggregation(
        &self,
        parts: usize,
        tamper: Tamper,
    ) -> (Statuses, BTreeMap<QuorumKey, (bool, bool)>) {
        let mut engine = self.engine(VerifyOnApply::None);
        let keys = pending(&engine);
        let jobs = engine.prepare_checks(&keys, &self.headers);
        let mut split = BTreeMap::new();
        for job in &jobs {
            let Some(cut) = split_aggregation(job, parts) else {
                engine.check_here(std::slice::from_ref(job), &self.headers);
                continue;
            };
            assert!(cut.len() <= parts && !cut.is_empty());
            let mut answers: Vec<Vec<u8>> = cut
                .iter()
                .map(|part| {
                    let bytes = encode_part(part);
                    assert_eq!(&decode_part(&bytes).unwrap(), part);
                    sum_encoded_part(&bytes, &mut KeyCache::new()).unwrap()
                })
                .collect();
            tamper(&mut answers);
            let verified = verified_from_encoded_sums(job, &answers).is_some();
            split.insert(job.key(), (verified, job.is_exact()));
            engine.apply_split_sums(job, &answers, &self.headers);
        }
        (statuses(&engine), split)
    }

    /// Checks the split aggregation over 1, 2, 3 and 7 parts, with honest and
    /// tampered answers, against verifying all at once: honest sums verify
    /// the quorums that verify with their first list (every one whose list is
    /// the required one), tampered ones none (those are checked again), and
    /// the statuses are the same either way.
    fn check_split_aggregation(&self) {
        let reference = self.all_at_once();
        let tampers: [(&str, Tamper); 5] = [
            ("honest", |_| {}),
            ("a sum missing", |a| {
                a.pop();
            }),
            ("a sum counted twice", |a| {
                let first = a[0].clone();
                a.push(first);
            }),
            ("a sum not a point", |a| a[0] = vec![0xff; 96]),
            ("a key that did not decode", |a| a[0].clear()),
        ];
        for (name, tamper) in tampers {
            for parts in [1, 2, 3, 7] {
                let (got, split) = self.with_split_aggregation(parts, tamper);
                assert!(!split.is_empty(), "{name}, {parts} parts: no job split");
                for (key, (verified, exact)) in split {
                    let expected = name == "honest" && reference[&key].is_verified();
                    if exact || !expected {
                        assert_eq!(verified, expected, "{name}, {parts} parts, {key:?}");
                    }
                }
                assert_eq!(got, reference, "{name}, {parts} parts");
            }
        }
    }

    /// Checks every split and order against verifying all at once; returns
    /// the reference (verified, failed, not verifiable) counts.
    fn check(&self) -> (usize, usize, usize) {
        let reference = self.all_at_once();
        let orders: [(&str, Order); 3] = [
            ("priority", |_| {}),
            ("reversed", |k| k.reverse()),
            ("interleaved", |k| {
                let (even, odd): (Vec<_>, Vec<_>) =
                    k.iter().enumerate().partition(|(i, _)| i % 2 == 0);
                *k = odd.into_iter().chain(even).map(|(_, k)| *k).collect();
            }),
        ];
        for (name, order) in orders {
            for parts in [1, 5] {
                assert_eq!(
                    self.in_slices(parts, order),
                    reference,
                    "{parts} slices, {name}"
                );
            }
            for workers in [2, 3] {
                assert_eq!(
                    self.over_workers(workers, order),
                    reference,
                    "{workers} workers, {name}"
                );
            }
        }
        for workers in [1, 2, 3, 7] {
            for reversed in [false, true] {
                assert_eq!(
                    self.over_check_workers(workers, reversed),
                    reference,
                    "checks over {workers} workers, reversed: {reversed}"
                );
            }
        }
        let verified = reference.values().filter(|s| s.is_verified()).count();
        let failed = reference
            .values()
            .filter(|s| s.is_final() && !s.is_verified())
            .count();
        (verified, failed, reference.len() - verified - failed)
    }
}

/// The engine's pending quorums, most urgent first.
fn pending(engine: &MasternodeEngine) -> Vec<QuorumKey> {
    engine
        .pending_quorums()
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

fn status_of(engine: &MasternodeEngine, key: &QuorumKey) -> QuorumStatus {
    engine.quorum_record(key.0, &key.1).unwrap().status.clone()
}

fn statuses(engine: &MasternodeEngine) -> Statuses {
    engine
        .quorum_records()
        .map(|r| ((r.llmq_type, r.quorum_hash), r.status.clone()))
        .collect()
}

/// `keys` in `parts` consecutive slices of near-equal length.
fn split(keys: &[QuorumKey], parts: usize) -> Vec<&[QuorumKey]> {
    let size = keys.len().div_ceil(parts).max(1);
    keys.chunks(size).collect()
}

fn testnet() -> Scenario<HeaderMap> {
    Scenario {
        network: Network::Testnet,
        headers: testnet_headers(),
        qrinfo: QrInfo::from_payload(payload(common::QRINFOS, "qrinfo_905294.bin"), 70230).unwrap(),
        diff: MnListDiff::from_payload(
            payload(common::MNLISTDIFFS, "mnlistdiff_0_905762.bin"),
            70230,
        )
        .unwrap(),
    }
}

fn mainnet() -> Scenario<HeaderMap> {
    let qrinfo =
        QrInfo::from_payload(payload(common::QRINFOS, "qrinfo_2028764.bin"), 70230).unwrap();
    let diff = MnListDiff::from_payload(
        payload(common::MNLISTDIFFS, "mnlistdiff_0_2028691.bin"),
        70230,
    )
    .unwrap();
    Scenario {
        network: Network::Mainnet,
        headers: mainnet_heights(&qrinfo, &[&diff]),
        qrinfo,
        diff,
    }
}

/// A header chain that places two blocks at each other's height: the
/// quorums based there get the other's members, so their commitments fail.
struct Swapped<H> {
    inner: H,
    a: BlockHash,
    b: BlockHash,
}

impl<H: HeaderLookup> HeaderLookup for Swapped<H> {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        match hash {
            h if *h == self.a => self.inner.height_of(&self.b),
            h if *h == self.b => self.inner.height_of(&self.a),
            h => self.inner.height_of(h),
        }
    }
    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.inner.header_at(height)
    }
    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.inner.hash_at(height)
    }
}

#[test]
fn testnet_results_do_not_depend_on_split_or_order() {
    assert_eq!(testnet().check(), (52, 0, 406));
    testnet().check_split_aggregation();
}

#[test]
fn mainnet_results_do_not_depend_on_split_or_order() {
    let (verified, failed, _) = mainnet().check();
    assert_eq!((verified, failed), (42, 0));
}

#[test]
fn failures_do_not_depend_on_split_or_order() {
    let base = mainnet();
    // Two rotated quorums of the cycle at 2028384 that verify.
    let rotated: Vec<BlockHash> = base
        .all_at_once()
        .iter()
        .filter(|((t, _), s)| t.0 == 5 && s.is_verified())
        .map(|((_, h), _)| *h)
        .take(2)
        .collect();
    let scenario = Scenario {
        network: base.network,
        headers: Swapped {
            inner: base.headers,
            a: rotated[0],
            b: rotated[1],
        },
        qrinfo: base.qrinfo,
        diff: base.diff,
    };
    let (verified, failed, _) = scenario.check();
    assert_eq!((verified, failed), (40, 2));
    scenario.check_split_aggregation();
}

#[test]
fn forged_commitments_fail_whatever_the_split() {
    // A forged commitment cannot enter a list (the coinbase commits to the
    // quorums), so the jobs are forged: a bit of the quorum signature of
    // every third exact job flipped.
    let scenario = testnet();
    let mut engine = scenario.engine(VerifyOnApply::None);
    let keys = pending(&engine);
    let mut jobs = engine.prepare_checks(&keys, &scenario.headers);
    let mut forged = 0;
    for job in jobs.iter_mut().filter(|j| j.is_exact()).step_by(3) {
        job.commitment.quorum_sig[95] ^= 1;
        forged += 1;
    }
    let (all, _) = check_jobs(&jobs, &mut KeyCache::new(), None);
    let reference: Statuses = jobs.iter().map(CheckJob::key).zip(all).collect();
    let count = |f: fn(&QuorumStatus) -> bool| reference.values().filter(|s| f(s)).count();
    assert_eq!(count(|s| matches!(s, QuorumStatus::Failed(_))), forged);
    assert_eq!(count(QuorumStatus::is_verified), 52 - forged);
    for job in &jobs {
        let verified = reference[&job.key()].is_verified();
        for parts in [1, 2, 3] {
            let Some(cut) = split_aggregation(job, parts) else {
                assert!(!job.is_exact(), "{:?} not split", job.key());
                continue;
            };
            let answers: Vec<Vec<u8>> = cut
                .iter()
                .map(|part| sum_encoded_part(&encode_part(part), &mut KeyCache::new()).unwrap())
                .collect();
            let from_sums = verified_from_encoded_sums(job, &answers);
            assert!(from_sums.is_none() || verified, "{:?} forged", job.key());
            if job.is_exact() {
                assert_eq!(
                    from_sums.is_some(),
                    verified,
                    "{:?}, {parts} parts",
                    job.key()
                );
            }
        }
    }
    for workers in [1, 2, 3, 7] {
        for reversed in [false, true] {
            let mut order = jobs.clone();
            if reversed {
                order.reverse();
            }
            let mut merged = Statuses::new();
            for share in split_jobs(order, workers) {
                let (statuses, _) = check_jobs(&share, &mut KeyCache::new(), None);
                let sent = check_encoded(&encode_jobs(&share), &mut KeyCache::new()).unwrap();
                let outcomes = decode_outcomes(&sent).unwrap();
                for ((job, status), outcome) in share.iter().zip(statuses).zip(outcomes) {
                    let verified_with = match status {
                        QuorumStatus::Verified {
                            members_list_height,
                        } => Some(members_list_height),
                        _ => None,
                    };
                    assert_eq!(outcome, verified_with);
                    merged.insert(job.key(), status);
                }
            }
            assert_eq!(merged, reference, "{workers} workers, reversed: {reversed}");
        }
    }
}

/// Each job's status checked alone, and over `workers` shares in both orders,
/// must be `expected`.
fn assert_split_statuses(jobs: &[CheckJob], expected: &Statuses) {
    for job in jobs {
        let (alone, _) = check_jobs(std::slice::from_ref(job), &mut KeyCache::new(), None);
        assert_eq!(&alone[0], &expected[&job.key()], "{:?} alone", job.key());
    }
    for workers in [1, 2, 3, 7] {
        for reversed in [false, true] {
            let mut order = jobs.to_vec();
            if reversed {
                order.reverse();
            }
            let mut merged = Statuses::new();
            for share in split_jobs(order, workers) {
                let (statuses, _) = check_jobs(&share, &mut KeyCache::new(), None);
                merged.extend(share.iter().map(CheckJob::key).zip(statuses));
            }
            assert_eq!(&merged, expected, "{workers} workers, reversed: {reversed}");
        }
    }
}

#[test]
fn a_nearby_candidate_that_does_not_verify_gives_way_to_the_next() {
    // The jobs whose exact list is missing are checked in one batch of their
    // first candidates; a first candidate that does not verify fails the
    // batch, and each job goes on to its next candidates alone. Forged
    // here: a candidate list in which a signer has another signer's key
    // (the signers' aggregate is wrong), at a height no list has.
    let scenario = testnet();
    let mut engine = scenario.engine(VerifyOnApply::None);
    let keys = pending(&engine);
    let jobs = engine.prepare_checks(&keys, &scenario.headers);
    let (reference, _) = check_jobs(&jobs, &mut KeyCache::new(), None);
    let reference: Statuses = jobs.iter().map(CheckJob::key).zip(reference).collect();
    let mut nearby: Vec<CheckJob> = jobs
        .into_iter()
        .filter(|j| !j.is_exact() && reference[&j.key()].is_verified())
        .collect();
    assert!(
        nearby.len() >= 6,
        "only {} nearby jobs verify",
        nearby.len()
    );
    let mut expected = Statuses::new();
    for (n, job) in nearby.iter_mut().enumerate() {
        let mut wrong = job.candidates[0].clone();
        let signers: Vec<usize> = (0..wrong.members.len())
            .filter(|&i| job.commitment.signers.get(i))
            .take(2)
            .collect();
        wrong.members[signers[0]].operator_public_key =
            wrong.members[signers[1]].operator_public_key;
        wrong.list_height = 1;
        expected.insert(job.key(), reference[&job.key()].clone());
        match n % 3 {
            // The wrong list first: the job verifies with its right one.
            0 => job.candidates.insert(0, wrong),
            // Only wrong lists: not verifiable until the required one comes.
            1 => {
                job.candidates = vec![wrong.clone(), wrong];
                expected.insert(
                    job.key(),
                    QuorumStatus::NotVerifiable(dashlight::mnlist::Unverifiable::MissingList {
                        height: job.required_height,
                    }),
                );
            }
            // Untouched: verifies with its first candidate.
            _ => {}
        }
    }
    let verified_with = |job: &CheckJob| match &expected[&job.key()] {
        QuorumStatus::Verified {
            members_list_height,
        } => Some(*members_list_height),
        _ => None,
    };
    assert!(nearby
        .iter()
        .step_by(3)
        .all(|job| verified_with(job) == Some(job.candidates[1].list_height)));
    assert_split_statuses(&nearby, &expected);
}

#[test]
fn a_chainlock_verifies_its_own_signing_quorum_and_no_other() {
    let scenario = testnet();
    let reference = scenario.all_at_once();
    let clsig = testnet_cbtx_clsig(905_768).unwrap();
    let mut forged = clsig;
    forged.signature[95] ^= 1;

    let mut engine = scenario.engine(VerifyOnApply::None);
    assert_eq!(engine.timings().quorums_checked, 0);
    let before = statuses(&engine);
    // A signature that does not verify costs no quorum check.
    let check = engine.verify_chainlock_and_signer(&forged, &scenario.headers);
    assert!(check.result.is_err());
    assert_eq!(engine.timings().quorums_checked, 0);
    assert_eq!(statuses(&engine), before);

    let check = engine.verify_chainlock_and_signer(&clsig, &scenario.headers);
    assert_eq!(check.result, Ok(()));
    let signer = check.quorum.unwrap();
    assert_eq!(check.quorum_status.as_ref(), Some(&reference[&signer]));
    assert!(reference[&signer].is_verified());
    assert_eq!(engine.timings().quorums_checked, 1);
    let after = statuses(&engine);
    for (key, status) in &after {
        let expected = if *key == signer {
            &reference[key]
        } else {
            &before[key]
        };
        assert_eq!(status, expected, "{key:?}");
    }
    // Once verified, the signer is not checked again; the rest follow as usual.
    engine.verify_chainlock_and_signer(&clsig, &scenario.headers);
    assert_eq!(engine.timings().quorums_checked, 1);
    let keys = pending(&engine);
    engine.verify_quorum_set(&keys, &scenario.headers);
    assert_eq!(statuses(&engine), reference);
}

/// The fixture headers as the client's chain (the managers' view).
struct FixtureChain(HeaderMap);

impl HeaderLookup for FixtureChain {
    fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.0.height_of(hash)
    }
    fn header_at(&self, height: u32) -> Option<BlockHeader> {
        self.0.header_at(height)
    }
    fn hash_at(&self, height: u32) -> Option<BlockHash> {
        self.0.hash_at(height)
    }
}

impl ChainView for FixtureChain {
    fn tip(&self) -> dashlight::chain::BlockId {
        let height = 905_800;
        dashlight::chain::BlockId {
            height,
            hash: self.0.hash_at(height).unwrap(),
        }
    }
    fn locator(&self) -> Vec<BlockHash> {
        vec![self.tip().hash]
    }
}

#[test]
fn the_client_checks_no_quorum_on_apply_and_a_chainlock_its_signer_first() {
    let scenario = testnet();
    let reference = scenario.all_at_once();
    let chain = FixtureChain(testnet_headers());
    let mut client = ClientEngine::new(MasternodeEngine::new(Network::Testnet));
    client
        .apply_qrinfo(scenario.qrinfo.clone(), &chain)
        .unwrap();
    client
        .apply_mnlistdiff(scenario.diff.clone(), &chain)
        .unwrap();
    assert_eq!(client.inner().timings().quorums_checked, 0);
    let signer = client
        .verify_chainlock(&testnet_cbtx_clsig(905_768).unwrap(), &chain)
        .unwrap();
    assert!(signer.quorum_verified);
    assert_eq!(client.inner().timings().quorums_checked, 1);
    let key = (LlmqType(signer.quorum.llmq_type), signer.quorum.quorum_hash);
    assert_eq!(status_of(client.inner(), &key), reference[&key]);
}

#[test]
fn a_later_qrinfo_checks_no_commitment_already_verified() {
    let headers = testnet_headers();
    let read = |name: &str| QrInfo::from_payload(payload(common::QRINFOS, name), 70230).unwrap();
    let (first, second) = (read("qrinfo_904382.bin"), read("qrinfo_905294.bin"));
    let mut engine = MasternodeEngine::new(Network::Testnet);
    engine.apply_qrinfo(&first, &headers).unwrap();
    engine.apply_qrinfo(&second, &headers).unwrap();
    let verified = statuses(&engine);
    let checks = engine.timings().quorums_checked;
    assert!(verified.values().filter(|s| s.is_verified()).count() >= 52);
    // Both again (a peer answering a repeated request): nothing is checked twice.
    engine.apply_qrinfo(&first, &headers).unwrap();
    engine.apply_qrinfo(&second, &headers).unwrap();
    assert_eq!(engine.timings().quorums_checked, checks);
    assert_eq!(statuses(&engine), verified);
}
