//! InstantSend lock verification (DIP-22 `isdlock`, signed by DIP-24 rotated
//! quorums), as Dash Core does it:
//!
//! - `cycleHash` names the block that starts a DKG cycle of the InstantSend
//!   type (its height a multiple of the type's `dkgInterval`). From protocol
//!   70237 on it is the cycle of the signing quorum; before, the cycle of the
//!   chain tip when the lock was signed, whose signing quorum may still belong
//!   to the previous cycle. So the quorum set of the lock's cycle is tried
//!   first and, if its quorum is unknown or does not verify, the previous
//!   cycle's set (Dash Core's second pass with the previous active set).
//! - The signing quorum of a set is the one whose `quorumIndex` the request
//!   id's bits select ([`rotated_signer_index`]); a rotated quorum of index
//!   `i` is based at the block `cycle + i`.
//! - The signature is checked against `SignHash(llmqType, quorumHash,
//!   requestId, txid)`, with the quorum key only from a proven commitment
//!   (see [`super::keys`]).

use super::engine::MasternodeEngine;
use super::keys::{KeyUnavailable, ProvenQuorum};
use super::status::QuorumStatus;
use crate::bls::{BlsError, Scheme};
use crate::chain::HeaderLookup;
use crate::hash::{BlockHash, Sha256dHash, Txid};
use crate::llmq::hashes::{rotated_signer_index, sign_hash};
use crate::llmq::signing::{verify_quorum_signature, QuorumSignatureFailure};
use crate::llmq::LlmqType;
use crate::protocol::isdlock::{InstantLock, ISDLOCK_VERSION};
use crate::protocol::transaction::OutPoint;
use core::fmt;

/// Why an InstantSend lock did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstantLockFailure {
    /// The lock's version is not 1.
    UnsupportedVersion(u8),
    /// The lock locks no input.
    NoInputs,
    /// The network has no rotated InstantSend type.
    NoInstantSendType,
    /// The cycle block is not on the header chain (not synced that far, or
    /// not a block of this chain).
    UnknownCycle {
        /// The lock's `cycleHash`.
        cycle_hash: BlockHash,
    },
    /// The cycle block is on the chain but does not start a DKG cycle.
    NotACycleStart {
        /// Its height.
        height: u32,
    },
    /// No usable quorum key for the selected quorum in either cycle.
    QuorumUnavailable {
        /// The cycle tried first.
        cycle_height: u32,
        /// The selected quorum index.
        quorum_index: u32,
        /// Why the first cycle's quorum key cannot be used.
        reason: KeyUnavailable,
    },
    /// The signature's bytes are not a valid G2 point.
    BadSignature(BlsError),
    /// The quorum public key cannot be decoded.
    BadQuorumKey(BlsError),
    /// The signature verifies against neither cycle's selected quorum.
    InvalidSignature,
}

impl fmt::Display for InstantLockFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantLockFailure::UnsupportedVersion(v) => {
                write!(f, "unsupported isdlock version {v}")
            }
            InstantLockFailure::NoInputs => f.write_str("the lock locks no input"),
            InstantLockFailure::NoInstantSendType => {
                f.write_str("the network has no rotated InstantSend quorum type")
            }
            InstantLockFailure::UnknownCycle { cycle_hash } => {
                write!(f, "cycle block {cycle_hash} is not on the header chain")
            }
            InstantLockFailure::NotACycleStart { height } => {
                write!(
                    f,
                    "cycle block at height {height} does not start a DKG cycle"
                )
            }
            InstantLockFailure::QuorumUnavailable {
                cycle_height,
                quorum_index,
                reason,
            } => write!(
                f,
                "quorum {quorum_index} of the cycle at {cycle_height}: {reason}"
            ),
            InstantLockFailure::BadSignature(e) => write!(f, "signature: {e}"),
            InstantLockFailure::BadQuorumKey(e) => write!(f, "quorum public key: {e}"),
            InstantLockFailure::InvalidSignature => {
                f.write_str("signature does not verify against the selected quorum")
            }
        }
    }
}

impl std::error::Error for InstantLockFailure {}

impl InstantLockFailure {
    /// Whether the lock is malformed, whatever the quorums (a signature that
    /// does not verify is judged by [`InstantLockCheck::provably_invalid`]).
    pub fn is_invalid(&self) -> bool {
        matches!(
            self,
            InstantLockFailure::UnsupportedVersion(_)
                | InstantLockFailure::NoInputs
                | InstantLockFailure::NotACycleStart { .. }
        )
    }
}

/// The outcome of checking an InstantSend lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantLockCheck {
    /// The locked transaction.
    pub txid: Txid,
    /// The locked outpoints.
    pub outpoints: Vec<OutPoint>,
    /// The request id.
    pub request_id: Sha256dHash,
    /// The InstantSend quorum type.
    pub llmq_type: LlmqType,
    /// The quorum index the request id selects.
    pub quorum_index: u32,
    /// The height of the lock's cycle block, if on the header chain.
    pub cycle_height: Option<u32>,
    /// The quorum whose signature was checked last (the one that verified, if any).
    pub quorum_hash: Option<BlockHash>,
    /// The sign hash checked against that quorum.
    pub sign_hash: Option<Sha256dHash>,
    /// That quorum's own commitment status.
    pub quorum_status: Option<QuorumStatus>,
    /// Whether the signing quorum was the previous cycle's (a lock signed
    /// before protocol 70237 early in a cycle).
    pub previous_cycle: bool,
    /// How many quorums (of the two cycles) the signature was checked against.
    pub quorums_checked: u8,
    /// `Ok` if the signature verifies.
    pub result: Result<(), InstantLockFailure>,
}

impl InstantLockCheck {
    /// Whether the signature verified against its quorum.
    pub fn signature_valid(&self) -> bool {
        self.result.is_ok()
    }

    /// Whether the signature verified and so did the signing quorum's commitment.
    pub fn fully_verified(&self) -> bool {
        self.result.is_ok() && self.quorum_status.as_ref().is_some_and(|s| s.is_verified())
    }

    /// Whether the lock is provably wrong: malformed, or its signature
    /// failed against the selected quorums of both cycles (with one cycle's
    /// quorum unknown, the other may have signed it).
    pub fn provably_invalid(&self) -> bool {
        match &self.result {
            Ok(()) => false,
            Err(InstantLockFailure::BadSignature(_) | InstantLockFailure::InvalidSignature) => {
                self.quorums_checked >= 2
            }
            Err(e) => e.is_invalid(),
        }
    }
}

/// Checks a lock's signature against one quorum: the sign hash and the result.
fn verify_signature(
    lock: &InstantLock,
    quorum: &ProvenQuorum,
    request_id: &Sha256dHash,
    scheme: Scheme,
) -> (Sha256dHash, Result<(), InstantLockFailure>) {
    let commitment = &quorum.entry.commitment;
    let hash = sign_hash(
        quorum.entry.llmq_type(),
        &commitment.quorum_hash,
        request_id,
        lock.txid.as_bytes(),
    );
    let result =
        verify_quorum_signature(commitment, &hash, &lock.signature, scheme).map_err(|e| match e {
            QuorumSignatureFailure::BadSignature(e) => InstantLockFailure::BadSignature(e),
            QuorumSignatureFailure::BadQuorumKey(e) => InstantLockFailure::BadQuorumKey(e),
            QuorumSignatureFailure::InvalidSignature => InstantLockFailure::InvalidSignature,
        });
    (hash, result)
}

impl MasternodeEngine {
    /// Verifies an InstantSend lock against the stored lists and the header chain.
    pub fn verify_instant_lock(
        &self,
        lock: &InstantLock,
        headers: &impl HeaderLookup,
    ) -> InstantLockCheck {
        let rules = self.rules();
        let request_id = lock.request_id();
        let llmq_type = rules.instantsend_type;
        let mut check = InstantLockCheck {
            txid: lock.txid,
            outpoints: lock.inputs.clone(),
            request_id,
            llmq_type,
            quorum_index: 0,
            cycle_height: headers.height_of(&lock.cycle_hash),
            quorum_hash: None,
            sign_hash: None,
            quorum_status: None,
            previous_cycle: false,
            quorums_checked: 0,
            result: Err(InstantLockFailure::NoInstantSendType),
        };
        let Some(params) = llmq_type.params().filter(|p| p.use_rotation) else {
            return check;
        };
        check.quorum_index = rotated_signer_index(params.signing_active_quorum_count, &request_id);
        if lock.version != ISDLOCK_VERSION {
            check.result = Err(InstantLockFailure::UnsupportedVersion(lock.version));
            return check;
        }
        if lock.inputs.is_empty() {
            check.result = Err(InstantLockFailure::NoInputs);
            return check;
        }
        let Some(cycle) = check.cycle_height else {
            check.result = Err(InstantLockFailure::UnknownCycle {
                cycle_hash: lock.cycle_hash,
            });
            return check;
        };
        if cycle % params.dkg_interval != 0 {
            check.result = Err(InstantLockFailure::NotACycleStart { height: cycle });
            return check;
        }
        let cycles = [Some(cycle), cycle.checked_sub(params.dkg_interval)];
        let mut first_reason = None;
        for (i, cycle) in cycles.into_iter().flatten().enumerate() {
            let quorum = cycle
                .checked_add(check.quorum_index)
                .and_then(|h| headers.hash_at(h))
                .ok_or(KeyUnavailable::Unknown)
                .and_then(|hash| self.proven_quorum(llmq_type, &hash))
                .and_then(|q| {
                    // The quorum based at cycle + i must carry index i.
                    if i64::from(q.entry.commitment.quorum_index) == i64::from(check.quorum_index) {
                        Ok(q)
                    } else {
                        Err(KeyUnavailable::Unknown)
                    }
                });
            let quorum = match quorum {
                Ok(q) => q,
                Err(reason) => {
                    first_reason.get_or_insert(reason);
                    continue;
                }
            };
            let (hash, result) =
                verify_signature(lock, &quorum, &request_id, rules.scheme_at(cycle));
            check.quorum_hash = Some(quorum.entry.quorum_hash());
            check.sign_hash = Some(hash);
            check.quorum_status = quorum.status.clone();
            check.previous_cycle = i == 1;
            check.quorums_checked += 1;
            check.result = result;
            if check.result.is_ok() {
                return check;
            }
        }
        if check.quorum_hash.is_none() {
            check.result = Err(InstantLockFailure::QuorumUnavailable {
                cycle_height: cycle,
                quorum_index: check.quorum_index,
                reason: first_reason.unwrap_or(KeyUnavailable::Unknown),
            });
        }
        check
    }
}
