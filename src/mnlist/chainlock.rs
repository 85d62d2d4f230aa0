//! ChainLock verification (DIP-8): the signing quorum is chosen among the
//! ChainLock type's quorums active 8 blocks below the locked height.

use super::engine::{MasternodeEngine, WORK_BLOCK_OFFSET};
use super::list::{MasternodeList, QuorumEntry, QuorumKey};
use super::status::QuorumStatus;
use crate::bls::{BlsError, PublicKey, Scheme, Signature};
use crate::chain::HeaderLookup;
use crate::hash::{BlockHash, Sha256dHash};
use crate::llmq::hashes::{chainlock_request_id, sign_hash, signing_score};
use crate::llmq::{LlmqParams, LlmqType};
use crate::protocol::chainlock::ClSig;
use core::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Why a ChainLock did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainLockFailure {
    /// The height is negative.
    NegativeHeight,
    /// No list tells which quorums were active at this height (fetch it).
    MissingList {
        /// The height whose active quorums are needed.
        height: u32,
    },
    /// No quorum of the ChainLock type was active.
    NoQuorum,
    /// The signature's bytes are not a valid G2 point.
    BadSignature(BlsError),
    /// The quorum public key cannot be decoded.
    BadQuorumKey(BlsError),
    /// The signature does not verify against the selected quorum.
    InvalidSignature,
}

impl fmt::Display for ChainLockFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainLockFailure::NegativeHeight => f.write_str("negative height"),
            ChainLockFailure::MissingList { height } => {
                write!(f, "active quorums unknown: missing list at height {height}")
            }
            ChainLockFailure::NoQuorum => f.write_str("no active ChainLock quorum"),
            ChainLockFailure::BadSignature(e) => write!(f, "signature: {e}"),
            ChainLockFailure::BadQuorumKey(e) => write!(f, "quorum public key: {e}"),
            ChainLockFailure::InvalidSignature => {
                f.write_str("signature does not verify against the selected quorum")
            }
        }
    }
}

impl std::error::Error for ChainLockFailure {}

/// The outcome of checking a ChainLock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLockCheck {
    /// The locked height.
    pub height: i32,
    /// The locked block.
    pub block_hash: BlockHash,
    /// Whether the header chain has this block at this height (`None`: no header there).
    pub on_header_chain: Option<bool>,
    /// The request id.
    pub request_id: Sha256dHash,
    /// The quorum whose signature was checked (the one that verified, if any).
    pub quorum: Option<(LlmqType, BlockHash)>,
    /// That quorum's own commitment status.
    pub quorum_status: Option<QuorumStatus>,
    /// Whether the active quorum set was known only to lie between two lists
    /// (a commitment of the type could have been mined between them) and the
    /// signing quorum was taken from whichever of the two sets verifies.
    pub quorum_set_ambiguous: bool,
    /// `Ok` if the signature verifies.
    pub result: Result<(), ChainLockFailure>,
}

impl ChainLockCheck {
    /// Whether the signature verified against its quorum.
    pub fn signature_valid(&self) -> bool {
        self.result.is_ok()
    }

    /// Whether the signature verified and so did the signing quorum's commitment.
    pub fn fully_verified(&self) -> bool {
        self.result.is_ok() && self.quorum_status.as_ref().is_some_and(|s| s.is_verified())
    }
}

/// The quorum that signs `request_id` among `quorums` (Dash Core's `SelectQuorumForSigning`).
fn select_quorum<'a>(
    params: &LlmqParams,
    rotation: bool,
    quorums: &[&'a Arc<QuorumEntry>],
    request_id: &Sha256dHash,
) -> Option<&'a Arc<QuorumEntry>> {
    if rotation {
        let n = params
            .signing_active_quorum_count
            .checked_ilog2()
            .unwrap_or(0);
        let mut word = [0u8; 8];
        word.copy_from_slice(&request_id.0[24..32]);
        let b = u64::from_le_bytes(word);
        let signer = (b >> (64 - n - 1)) & ((1u64 << n) - 1);
        quorums
            .iter()
            .find(|q| i64::from(q.commitment.quorum_index) == signer as i64)
            .copied()
    } else {
        quorums
            .iter()
            .min_by_key(|q| signing_score(params.llmq_type, &q.quorum_hash(), request_id))
            .copied()
    }
}

/// Checks a ChainLock's signature against one quorum.
fn verify_signature(
    clsig: &ClSig,
    quorum: &QuorumEntry,
    request_id: &Sha256dHash,
    scheme: Scheme,
) -> Result<(), ChainLockFailure> {
    let signature =
        Signature::from_bytes(&clsig.signature, scheme).map_err(ChainLockFailure::BadSignature)?;
    // The quorum key is encoded as its commitment's version says.
    let key_scheme = if quorum.commitment.uses_legacy_bls() {
        Scheme::Legacy
    } else {
        Scheme::Basic
    };
    let key = PublicKey::from_bytes(&quorum.commitment.quorum_public_key, key_scheme)
        .map_err(ChainLockFailure::BadQuorumKey)?;
    let hash = sign_hash(
        quorum.llmq_type(),
        &quorum.quorum_hash(),
        request_id,
        clsig.block_hash.as_bytes(),
    );
    match key.verify(hash.as_bytes(), &signature, scheme) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ChainLockFailure::InvalidSignature),
        Err(e) => Err(ChainLockFailure::BadSignature(e)),
    }
}

impl MasternodeEngine {
    /// How many ChainLock signatures this engine checked (one BLS verification each): what
    /// the client reports and tests count, so that nothing verifies a ChainLock twice.
    pub fn chainlock_signature_checks(&self) -> u64 {
        self.chainlock_signature_checks.load(Ordering::Relaxed)
    }

    /// Checks `clsig`'s signature against `quorum`, counting the check.
    fn check_signature(
        &self,
        clsig: &ClSig,
        quorum: &QuorumEntry,
        request_id: &Sha256dHash,
        scheme: Scheme,
    ) -> Result<(), ChainLockFailure> {
        self.chainlock_signature_checks
            .fetch_add(1, Ordering::Relaxed);
        verify_signature(clsig, quorum, request_id, scheme)
    }

    /// The sets of active quorums of `llmq_type` at `height` the stored lists
    /// allow: one set if known, two if a commitment may have been mined
    /// between the nearest lists around `height`.
    fn active_quorum_sets(
        &self,
        params: &LlmqParams,
        height: u32,
    ) -> Result<(Vec<Arc<MasternodeList>>, bool), ChainLockFailure> {
        let below = self.list_at_or_below(height);
        let above = self.list_at_or_above(height);
        if let Some(list) = below.filter(|l| params.no_mining_between(l.height, height)) {
            return Ok((vec![Arc::clone(list)], false));
        }
        if let Some(list) = above.filter(|l| params.no_mining_between(height, l.height)) {
            return Ok((vec![Arc::clone(list)], false));
        }
        match (below, above) {
            (Some(b), Some(a)) if a.height - b.height <= params.dkg_interval => {
                let same = b
                    .quorums_of_type(params.llmq_type)
                    .map(|q| q.quorum_hash())
                    .eq(a.quorums_of_type(params.llmq_type).map(|q| q.quorum_hash()));
                if same {
                    Ok((vec![Arc::clone(b)], false))
                } else {
                    Ok((vec![Arc::clone(b), Arc::clone(a)], true))
                }
            }
            _ => Err(ChainLockFailure::MissingList { height }),
        }
    }

    /// Verifies a ChainLock's signature against a quorum the caller names
    /// (found in any stored list), skipping the selection of the signing
    /// quorum: for signatures whose selection lists are not at hand.
    pub fn verify_chainlock_with_quorum(
        &self,
        clsig: &ClSig,
        llmq_type: LlmqType,
        quorum_hash: &BlockHash,
        headers: &impl HeaderLookup,
    ) -> ChainLockCheck {
        let request_id = chainlock_request_id(clsig.height);
        let mut check = ChainLockCheck {
            height: clsig.height,
            block_hash: clsig.block_hash,
            on_header_chain: u32::try_from(clsig.height)
                .ok()
                .and_then(|h| headers.hash_at(h))
                .map(|h| h == clsig.block_hash),
            request_id,
            quorum: Some((llmq_type, *quorum_hash)),
            quorum_status: self
                .quorum_record(llmq_type, quorum_hash)
                .map(|r| r.status.clone()),
            quorum_set_ambiguous: false,
            result: Err(ChainLockFailure::NoQuorum),
        };
        let Some(quorum) = self
            .list_heights()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter_map(|h| self.list_at(h))
            .find_map(|l| l.quorum(llmq_type, quorum_hash).cloned())
        else {
            return check;
        };
        let scheme = self
            .rules()
            .scheme_at(u32::try_from(clsig.height).unwrap_or(0));
        check.result = self.check_signature(clsig, &quorum, &request_id, scheme);
        check
    }

    /// Verifies a ChainLock against the stored lists.
    pub fn verify_chainlock(&self, clsig: &ClSig, headers: &impl HeaderLookup) -> ChainLockCheck {
        let request_id = chainlock_request_id(clsig.height);
        let mut check = ChainLockCheck {
            height: clsig.height,
            block_hash: clsig.block_hash,
            on_header_chain: None,
            request_id,
            quorum: None,
            quorum_status: None,
            quorum_set_ambiguous: false,
            result: Err(ChainLockFailure::NoQuorum),
        };
        let Ok(height) = u32::try_from(clsig.height) else {
            check.result = Err(ChainLockFailure::NegativeHeight);
            return check;
        };
        check.on_header_chain = headers.hash_at(height).map(|h| h == clsig.block_hash);
        let (candidates, ambiguous) = match self.signing_candidates(height, &request_id) {
            Ok(found) => found,
            Err(e) => {
                check.result = Err(e);
                return check;
            }
        };
        check.quorum_set_ambiguous = ambiguous;
        let scheme = self.rules().scheme_at(height);
        for quorum in &candidates {
            check.quorum = Some((quorum.llmq_type(), quorum.quorum_hash()));
            check.quorum_status = self
                .quorum_record(quorum.llmq_type(), &quorum.quorum_hash())
                .map(|r| r.status.clone());
            check.result = self.check_signature(clsig, quorum, &request_id, scheme);
            if check.result.is_ok() {
                break;
            }
        }
        check
    }

    /// The quorums that may have signed `request_id` at `height`, distinct, one per active
    /// set the stored lists allow ([`MasternodeEngine::active_quorum_sets`]), and whether
    /// there were two sets.
    fn signing_candidates(
        &self,
        height: u32,
        request_id: &Sha256dHash,
    ) -> Result<(Vec<Arc<QuorumEntry>>, bool), ChainLockFailure> {
        let rules = self.rules();
        let params = rules
            .chainlock_type
            .params()
            .ok_or(ChainLockFailure::NoQuorum)?;
        let start_height = height.saturating_sub(WORK_BLOCK_OFFSET);
        let (sets, ambiguous) = self.active_quorum_sets(params, start_height)?;
        let rotation = rules.rotation_enabled(params, start_height);
        let mut candidates: Vec<Arc<QuorumEntry>> = Vec::new();
        for list in &sets {
            let quorums: Vec<&Arc<QuorumEntry>> = list.quorums_of_type(params.llmq_type).collect();
            let Some(quorum) = select_quorum(params, rotation, &quorums, request_id) else {
                continue;
            };
            if !candidates
                .iter()
                .any(|c| c.quorum_hash() == quorum.quorum_hash())
            {
                candidates.push(Arc::clone(quorum));
            }
        }
        Ok((candidates, ambiguous))
    }

    /// The quorum that must have signed `clsig`, selected from the stored lists without
    /// checking the signature: `None` when the lists leave two active sets possible (the
    /// signature then decides, see [`MasternodeEngine::verify_chainlock`]) or select none.
    pub fn chainlock_signer(&self, clsig: &ClSig) -> Option<QuorumKey> {
        let height = u32::try_from(clsig.height).ok()?;
        let request_id = chainlock_request_id(clsig.height);
        match self.signing_candidates(height, &request_id).ok()? {
            (candidates, false) => match candidates.as_slice() {
                [quorum] => Some((quorum.llmq_type(), quorum.quorum_hash())),
                _ => None,
            },
            (_, true) => None,
        }
    }

    /// Verifies a ChainLock ([`MasternodeEngine::verify_chainlock`]) and then, if its
    /// signature holds and its signing quorum is neither verified nor failed yet, that
    /// quorum's commitment, reporting the new status: for a caller that defers the other
    /// quorums ([`VerifyOnApply`](super::VerifyOnApply)), so that a ChainLock waits for its
    /// own quorum only. A ChainLock whose signature fails costs one signature check, never
    /// a quorum's.
    pub fn verify_chainlock_and_signer(
        &mut self,
        clsig: &ClSig,
        headers: &impl HeaderLookup,
    ) -> ChainLockCheck {
        let mut check = self.verify_chainlock(clsig, headers);
        let pending = check
            .quorum_status
            .as_ref()
            .is_some_and(|status| !status.is_final());
        if let (Ok(()), Some(key), true) = (&check.result, check.quorum, pending) {
            self.verify_quorum_set(&[key], headers);
            check.quorum_status = self.quorum_record(key.0, &key.1).map(|r| r.status.clone());
        }
        check
    }
}
