//! Quorum commitment verification: which quorums are pending, in which order, and their
//! signature checks, batched per BLS scheme.

use super::{MasternodeEngine, QuorumPriority, VerifyOnApply, WORK_BLOCK_OFFSET};
use crate::bls::Scheme;
use crate::chain::HeaderLookup;
use crate::encode::DecodeError;
use crate::llmq::verify::{expected_version, CommitmentFailure, MemberKey};
use crate::llmq::LlmqType;
use crate::mnlist::check::{check_jobs, decode_outcomes, CandidateMembers, CheckJob};
use crate::mnlist::list::{ListEntry, QuorumEntry, QuorumKey};
use crate::mnlist::split::verified_from_encoded_sums;
use crate::mnlist::status::{QuorumStatus, Unverifiable};
use crate::mnlist::timings::Phase;
use crate::protocol::commitment::QuorumCommitment;
use std::sync::Arc;

/// What preparing a quorum's verification gave.
enum Prepared {
    /// The status is known without a signature check.
    Done(QuorumStatus),
    /// The signature check to run.
    Job(Box<CheckJob>),
}

/// A member's key as a check job carries it.
fn member_key(entry: &ListEntry) -> MemberKey {
    MemberKey {
        pro_tx_hash: entry.pro_tx_hash(),
        operator_public_key: entry.sml.operator_public_key,
        scheme: if entry.sml.uses_legacy_bls() {
            Scheme::Legacy
        } else {
            Scheme::Basic
        },
    }
}

impl MasternodeEngine {
    /// A commitment of the quorum, from the newest list that has it.
    fn find_commitment(&self, key: &QuorumKey) -> Option<Arc<QuorumEntry>> {
        self.lists
            .values()
            .rev()
            .find_map(|l| l.quorums.get(key).cloned())
            .or_else(|| self.loose_commitments.get(key).cloned())
    }

    /// Runs the verification [`VerifyOnApply`] asks for after a message.
    pub(super) fn verify_on_apply(&mut self, headers: &impl HeaderLookup) {
        match self.verify_on_apply {
            VerifyOnApply::All => self.verify_quorums(headers),
            VerifyOnApply::None => {}
        }
    }

    /// What a quorum signs for the wallet now: the types of the newest list's
    /// ChainLock, InstantSend and Platform quorums, in that order; any other
    /// quorum (other types, or no longer in the newest list) comes last.
    pub fn quorum_priority(&self, key: &QuorumKey) -> QuorumPriority {
        let active = self
            .latest_list()
            .is_some_and(|list| list.quorums.contains_key(key));
        match key.0 {
            t if active && t == self.rules.chainlock_type => QuorumPriority::ChainLock,
            t if active && t == self.rules.instantsend_type => QuorumPriority::InstantSend,
            t if active && t == self.rules.platform_type => QuorumPriority::Platform,
            _ => QuorumPriority::Other,
        }
    }

    /// The quorums not verified or failed yet, most urgent first (by
    /// [`MasternodeEngine::quorum_priority`], then by key): what a caller
    /// that defers verification (see [`VerifyOnApply`]) passes, in slices, to
    /// [`MasternodeEngine::verify_quorum_set`].
    pub fn pending_quorums(&self) -> Vec<(QuorumKey, QuorumPriority)> {
        let mut pending: Vec<(QuorumKey, QuorumPriority)> = self
            .quorums
            .iter()
            .filter(|(_, r)| !r.status.is_final())
            .map(|(k, _)| (*k, self.quorum_priority(k)))
            .collect();
        pending.sort_unstable_by_key(|(k, p)| (*p, *k));
        pending
    }

    /// Tries every quorum that is not verified or failed yet (see
    /// [`MasternodeEngine::verify_quorum_set`]).
    pub fn verify_quorums(&mut self, headers: &impl HeaderLookup) {
        let pending: Vec<QuorumKey> = self
            .quorums
            .iter()
            .filter(|(_, r)| !r.status.is_final())
            .map(|(k, _)| *k)
            .collect();
        self.verify_quorum_set(&pending, headers);
    }

    /// Tries the quorums of `keys` that are not verified or failed yet; others
    /// are left as they are: [`MasternodeEngine::prepare_checks`], then
    /// [`MasternodeEngine::check_here`]. The statuses do not depend on how
    /// the quorums are split into sets or in which order the sets come.
    pub fn verify_quorum_set(&mut self, keys: &[QuorumKey], headers: &impl HeaderLookup) {
        let jobs = self.prepare_checks(keys, headers);
        self.check_here(&jobs, headers);
    }

    /// Selects the members of the quorums of `keys` not verified or failed
    /// yet and returns their signature checks, in the order of `keys`, to run
    /// here ([`MasternodeEngine::check_here`]) or elsewhere
    /// ([`check::check_encoded`](crate::mnlist::check::check_encoded), then
    /// [`MasternodeEngine::apply_outcomes`]). A quorum whose status is known
    /// without a signature check (not verifiable, wrong version) gets it now.
    pub fn prepare_checks(
        &mut self,
        keys: &[QuorumKey],
        headers: &impl HeaderLookup,
    ) -> Vec<CheckJob> {
        let pending: Vec<QuorumKey> = keys
            .iter()
            .filter(|k| self.quorums.get(k).is_some_and(|r| !r.status.is_final()))
            .copied()
            .collect();
        let mut jobs = Vec::new();
        for key in pending {
            let status = match self.find_commitment(&key) {
                Some(entry) => match self.prepare_quorum(&entry.commitment, headers) {
                    Prepared::Job(job) => {
                        jobs.push(*job);
                        continue;
                    }
                    Prepared::Done(status) => status,
                },
                None => QuorumStatus::NotVerifiable(Unverifiable::UnknownBaseBlock),
            };
            self.set_status(&key, status, headers);
        }
        jobs
    }

    /// Checks `jobs` in this thread, with the engine's key cache, and
    /// applies their statuses (see [`check_jobs`]).
    pub fn check_here(&mut self, jobs: &[CheckJob], headers: &impl HeaderLookup) {
        let (statuses, timings) = check_jobs(jobs, &mut self.keys, self.clock.as_ref());
        self.timings.absorb(&timings);
        self.apply_statuses(jobs, statuses, headers);
    }

    /// Applies the outcomes of `jobs` checked elsewhere (the bytes
    /// [`check::check_encoded`](crate::mnlist::check::check_encoded) returned
    /// for exactly these jobs, from a worker running this crate). A job that
    /// did not verify there is checked again here to name its failure; a job
    /// whose quorum's commitment changed since it was prepared is dropped (the
    /// quorum stays pending). Applying shares in any order gives the same
    /// statuses. Outcomes that do not fit the jobs are rejected, nothing applied.
    pub fn apply_outcomes(
        &mut self,
        jobs: &[CheckJob],
        outcomes: &[u8],
        headers: &impl HeaderLookup,
    ) -> Result<(), DecodeError> {
        let outcomes = decode_outcomes(outcomes)?;
        if outcomes.len() != jobs.len() {
            return Err(DecodeError::InvalidValue {
                field: "check outcomes for the jobs sent",
                value: outcomes.len() as u64,
            });
        }
        let mut statuses = Vec::with_capacity(jobs.len());
        for (job, outcome) in jobs.iter().zip(outcomes) {
            let status = match outcome {
                Some(height) if job.candidates.iter().any(|c| c.list_height == height) => {
                    QuorumStatus::Verified {
                        members_list_height: height,
                    }
                }
                Some(height) => {
                    return Err(DecodeError::InvalidValue {
                        field: "list height of a check outcome",
                        value: u64::from(height),
                    })
                }
                None if job.is_exact() => {
                    let (mut again, timings) = check_jobs(
                        core::slice::from_ref(job),
                        &mut self.keys,
                        self.clock.as_ref(),
                    );
                    self.timings.absorb(&timings);
                    again.pop().unwrap_or_else(|| job.missing_list())
                }
                None => job.missing_list(),
            };
            statuses.push(status);
        }
        self.apply_statuses(jobs, statuses, headers);
        Ok(())
    }

    /// Applies the workers' sums of the parts
    /// [`split_aggregation`](crate::mnlist::split::split_aggregation) made of `job` (one
    /// answer per part, in order, from
    /// [`sum_encoded_part`](crate::mnlist::split::sum_encoded_part)): the job is verified
    /// if its signatures verify against their total, and checked here otherwise
    /// ([`MasternodeEngine::check_here`]), so that its status is the one checking it
    /// whole gives. Like a worker's outcome, a sum is trusted to be what the worker
    /// computed; one that is not makes the job fail to verify and be checked here.
    /// Returns whether the sums verified it.
    pub fn apply_split_sums(
        &mut self,
        job: &CheckJob,
        answers: &[Vec<u8>],
        headers: &impl HeaderLookup,
    ) -> bool {
        let start = self.clock.as_ref().map(|c| c());
        let verified = verified_from_encoded_sums(job, answers);
        if let (Some(start), Some(clock)) = (start, self.clock.as_ref()) {
            self.timings.add(Phase::Pairings, clock() - start);
        }
        match verified {
            Some(status) => {
                self.apply_statuses(core::slice::from_ref(job), vec![status], headers);
                true
            }
            None => {
                self.check_here(core::slice::from_ref(job), headers);
                false
            }
        }
    }

    /// Sets each job's status (and notes the nearby lists it tried), unless
    /// its quorum's commitment changed since the job was prepared.
    fn apply_statuses(
        &mut self,
        jobs: &[CheckJob],
        statuses: Vec<QuorumStatus>,
        headers: &impl HeaderLookup,
    ) {
        for (job, status) in jobs.iter().zip(statuses) {
            let key = job.key();
            let current = self.find_commitment(&key);
            if !current.is_some_and(|entry| entry.commitment == job.commitment) {
                continue;
            }
            self.note_tried(job, &status);
            self.set_status(&key, status, headers);
        }
    }

    /// Notes the nearby lists a job tried: all of them, or those up to the one that verified.
    fn note_tried(&mut self, job: &CheckJob, status: &QuorumStatus) {
        if job.is_exact() {
            return;
        }
        let key = job.key();
        for candidate in &job.candidates {
            self.tried_nearby.insert((key, candidate.list_height));
            if let QuorumStatus::Verified {
                members_list_height,
            } = status
            {
                if *members_list_height == candidate.list_height {
                    break;
                }
            }
        }
    }

    fn set_status(&mut self, key: &QuorumKey, status: QuorumStatus, headers: &impl HeaderLookup) {
        if let Some(record) = self.quorums.get_mut(key) {
            record.height = headers.height_of(&key.1);
            if record.status != status {
                record.status = status;
                self.revision = self.revision.wrapping_add(1);
            }
        }
    }

    /// Verifies one final commitment against the members the stored lists
    /// select for it (whether or not the commitment is in a stored list).
    pub fn verify_commitment(
        &mut self,
        commitment: &QuorumCommitment,
        headers: &impl HeaderLookup,
    ) -> QuorumStatus {
        match self.prepare_quorum(commitment, headers) {
            Prepared::Done(status) => status,
            Prepared::Job(job) => {
                let (mut statuses, timings) = check_jobs(
                    core::slice::from_ref(&job),
                    &mut self.keys,
                    self.clock.as_ref(),
                );
                self.timings.absorb(&timings);
                let status = statuses.pop().unwrap_or_else(|| job.missing_list());
                self.note_tried(&job, &status);
                status
            }
        }
    }

    /// Selects a commitment's members and prepares its signature check.
    fn prepare_quorum(
        &mut self,
        commitment: &QuorumCommitment,
        headers: &impl HeaderLookup,
    ) -> Prepared {
        let llmq_type = LlmqType(commitment.llmq_type);
        let quorum_hash = commitment.quorum_hash;
        let not_verifiable = |why| Prepared::Done(QuorumStatus::NotVerifiable(why));
        let Some(params) = llmq_type.params() else {
            return not_verifiable(Unverifiable::UnknownType(llmq_type));
        };
        let Some(height) = headers.height_of(&quorum_hash) else {
            return not_verifiable(Unverifiable::UnknownBaseBlock);
        };
        let rotation = self.rules.rotation_enabled(params, height);
        let basic = self.rules.v19_active_after(height);
        let expected = expected_version(rotation, basic);
        if commitment.version != expected {
            return Prepared::Done(QuorumStatus::Failed(CommitmentFailure::WrongVersion {
                expected,
                found: commitment.version,
            }));
        }
        let start = self.now();
        let candidates = if rotation {
            let cycle = height - height % params.dkg_interval;
            let index = (height - cycle) as usize;
            let work = cycle.saturating_sub(WORK_BLOCK_OFFSET);
            self.rotated_members(params, cycle, headers).map(|m| {
                (
                    vec![(m.get(index).cloned().unwrap_or_default(), work)],
                    work,
                )
            })
        } else {
            self.non_rotated(params, height, &quorum_hash, headers, true)
        };
        self.add_time(Phase::MemberSelection, start);
        let (candidates, required) = match candidates {
            Ok(c) => c,
            Err(why) => return not_verifiable(why),
        };
        if candidates.is_empty() {
            return not_verifiable(Unverifiable::MissingList { height: required });
        }
        Prepared::Job(Box::new(CheckJob {
            commitment: commitment.clone(),
            base_height: height,
            required_height: required,
            candidates: candidates
                .into_iter()
                .map(|(members, list_height)| CandidateMembers {
                    list_height,
                    members: members.iter().map(|m| member_key(m)).collect(),
                })
                .collect(),
        }))
    }
}
