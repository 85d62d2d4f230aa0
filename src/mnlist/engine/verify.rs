//! Quorum commitment verification: which quorums are pending, in which order, and their
//! signature checks, batched per BLS scheme.

use super::{MasternodeEngine, QuorumPriority, VerifyOnApply, WORK_BLOCK_OFFSET};
use crate::bls::{verify_batch, verify_legacy_batch, Scheme, SignatureGroup};
use crate::chain::HeaderLookup;
use crate::llmq::members::Members;
use crate::llmq::verify::{
    check_signatures, decode_commitment, expected_version, prepare_commitment, CommitmentFailure,
    PreparedCommitment,
};
use crate::llmq::{LlmqParams, LlmqType};
use crate::mnlist::list::{QuorumEntry, QuorumKey};
use crate::mnlist::status::{QuorumStatus, Unverifiable};
use crate::mnlist::timings::Phase;
use crate::protocol::commitment::QuorumCommitment;
use std::sync::Arc;

/// A member list's prepared checks, or why it cannot be checked, and its list's height.
type Candidate = (Result<PreparedCommitment, CommitmentFailure>, u32);

/// What preparing a quorum's verification gave.
enum Prepared {
    /// The status is known without a signature check.
    Done(QuorumStatus),
    /// Members from the exact list: checks ready (with the list's height).
    Exact(Box<PreparedCommitment>, u32),
    /// Members from nearby lists only (with the height of the exact list).
    Nearby(Vec<Candidate>, u32),
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
            VerifyOnApply::Urgent => {
                let urgent: Vec<QuorumKey> = self
                    .pending_quorums()
                    .into_iter()
                    .filter(|(_, p)| *p == QuorumPriority::ChainLock)
                    .map(|(k, _)| k)
                    .collect();
                self.verify_quorum_set(&urgent, headers);
            }
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
        pending.sort_by_key(|(k, p)| (*p, *k));
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
    /// are left as they are. The signatures of all quorums whose member list
    /// is exact are checked in one batch per BLS scheme; only if a batch fails
    /// is each of its quorums checked alone, to name the failures. The statuses do not depend on how
    /// the quorums are split into sets or in which order the sets come.
    pub fn verify_quorum_set(&mut self, keys: &[QuorumKey], headers: &impl HeaderLookup) {
        let pending: Vec<QuorumKey> = keys
            .iter()
            .filter(|k| self.quorums.get(k).is_some_and(|r| !r.status.is_final()))
            .copied()
            .collect();
        let mut exact: Vec<(QuorumKey, PreparedCommitment, u32)> = Vec::new();
        for key in pending {
            let status = match self.find_commitment(&key) {
                Some(entry) => match self.prepare_quorum(&entry.commitment, headers) {
                    Prepared::Exact(prepared, list_height) => {
                        exact.push((key, *prepared, list_height));
                        continue;
                    }
                    Prepared::Done(status) => status,
                    Prepared::Nearby(candidates, required) => {
                        self.check_nearby(key, candidates, required)
                    }
                },
                None => QuorumStatus::NotVerifiable(Unverifiable::UnknownBaseBlock),
            };
            self.set_status(&key, status, headers);
        }
        let start = self.now();
        // One batch per scheme (they hash messages to G2 differently).
        let groups = |scheme: Scheme| -> Vec<SignatureGroup> {
            exact
                .iter()
                .filter(|(_, p, _)| p.scheme == scheme)
                .map(|(_, p, _)| p.signature_group())
                .collect()
        };
        let basic_valid = verify_batch(&groups(Scheme::Basic));
        let legacy_valid = verify_legacy_batch(&groups(Scheme::Legacy));
        self.timings.quorums_checked += exact.len();
        let statuses: Vec<(QuorumKey, QuorumStatus)> = exact
            .into_iter()
            .map(|(key, prepared, list_height)| {
                let batch_valid = match prepared.scheme {
                    Scheme::Basic => basic_valid,
                    Scheme::Legacy => legacy_valid,
                };
                let checked = if batch_valid {
                    Ok(())
                } else {
                    check_signatures(&prepared)
                };
                let status = match checked {
                    Ok(()) => QuorumStatus::Verified {
                        members_list_height: list_height,
                    },
                    Err(why) => QuorumStatus::Failed(why),
                };
                (key, status)
            })
            .collect();
        self.add_time(Phase::Pairings, start);
        for (key, status) in statuses {
            self.set_status(&key, status, headers);
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

    /// Checks candidates from nearby lists one by one; the first that verifies wins.
    fn check_nearby(
        &mut self,
        key: QuorumKey,
        candidates: Vec<Candidate>,
        required: u32,
    ) -> QuorumStatus {
        let start = self.now();
        let mut status =
            QuorumStatus::NotVerifiable(Unverifiable::MissingList { height: required });
        for (prepared, list_height) in candidates {
            self.tried_nearby.insert((key, list_height));
            let Ok(prepared) = prepared else { continue };
            self.timings.quorums_checked += 1;
            if check_signatures(&prepared).is_ok() {
                status = QuorumStatus::Verified {
                    members_list_height: list_height,
                };
                break;
            }
        }
        self.add_time(Phase::Pairings, start);
        status
    }

    /// Checks one prepared commitment from an exact member list on its own.
    fn check_exact(&mut self, prepared: &PreparedCommitment, list_height: u32) -> QuorumStatus {
        let start = self.now();
        let checked = check_signatures(prepared);
        self.timings.quorums_checked += 1;
        self.add_time(Phase::Pairings, start);
        match checked {
            Ok(()) => QuorumStatus::Verified {
                members_list_height: list_height,
            },
            Err(why) => QuorumStatus::Failed(why),
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
            Prepared::Exact(prepared, list_height) => self.check_exact(&prepared, list_height),
            Prepared::Nearby(candidates, required) => {
                let key = (LlmqType(commitment.llmq_type), commitment.quorum_hash);
                self.check_nearby(key, candidates, required)
            }
        }
    }

    /// Selects a commitment's members and prepares its signature checks.
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
        let mut prepared: Vec<Candidate> = candidates
            .into_iter()
            .map(|(members, list_height)| {
                let p = self.prepare_members(commitment, params, height, &members);
                (p, list_height)
            })
            .collect();
        let exact = matches!(prepared.as_slice(), [(_, h)] if *h == required);
        match prepared.pop() {
            Some((Ok(p), h)) if exact => Prepared::Exact(Box::new(p), h),
            Some((Err(why), _)) if exact => Prepared::Done(QuorumStatus::Failed(why)),
            Some(last) => {
                prepared.push(last);
                Prepared::Nearby(prepared, required)
            }
            None => not_verifiable(Unverifiable::MissingList { height: required }),
        }
    }

    /// Decodes the commitment's points and the signers' keys and prepares the commitment's checks for one member list.
    fn prepare_members(
        &mut self,
        commitment: &QuorumCommitment,
        params: &LlmqParams,
        height: u32,
        members: &Members,
    ) -> Result<PreparedCommitment, CommitmentFailure> {
        let start = self.now();
        let points = decode_commitment(commitment);
        for (i, member) in members.iter().enumerate() {
            if commitment.signers.get(i) {
                let scheme = if member.sml.uses_legacy_bls() {
                    Scheme::Legacy
                } else {
                    Scheme::Basic
                };
                // Warm the cache; a bad key is reported by prepare_commitment.
                let _ = self.keys.get(&member.sml.operator_public_key, scheme);
            }
        }
        self.add_time(Phase::KeyDecompression, start);
        let points = points?;
        let start = self.now();
        let prepared =
            prepare_commitment(commitment, &points, params, height, members, &mut self.keys);
        self.add_time(Phase::Aggregation, start);
        prepared
    }
}
