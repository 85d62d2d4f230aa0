//! The masternode list engine as the sync managers drive it.

use crate::encode::DecodeError;
use crate::hash::BlockHash;
use crate::llmq::LlmqType;
use crate::mnlist::check::{decode_share, encode_share, split_jobs, CheckJob, CheckShare};
use crate::mnlist::split::split_aggregation;
use crate::mnlist::{
    ChainLockFailure, DiffError, EngineError, EngineErrorKind, MasternodeEngine, QuorumKey,
    QuorumStatus, Unverifiable, VerifyOnApply,
};
use crate::protocol::chainlock::ClSig;
use crate::protocol::mnlistdiff::MnListDiff;
use crate::protocol::qrinfo::QrInfo;
use crate::sync::chain_view::ChainView;
use crate::sync::engine::{
    ChainLockSigner, ChainLockTarget, ClassifiedError, DiffBlocks, EngineVerdict, QuorumCheck,
    QuorumId, QuorumNeed, SyncEngine,
};
use core::fmt;

/// Why the engine did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEngineError {
    /// A diff or QRInfo was rejected.
    Engine(EngineError),
    /// A ChainLock did not verify.
    ChainLock {
        /// The locked height.
        height: i32,
        /// Why.
        failure: ChainLockFailure,
    },
    /// A ChainLock verified against a quorum whose own commitment failed verification.
    FailedQuorum {
        /// The locked height.
        height: i32,
        /// The quorum's state.
        status: String,
    },
    /// Quorum checks this engine prepared did not decode when they came back.
    Checks(DecodeError),
}

impl fmt::Display for ClientEngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Engine(e) => write!(f, "{e}"),
            Self::ChainLock { height, failure } => write!(f, "ChainLock at {height}: {failure}"),
            Self::FailedQuorum { height, status } => {
                write!(
                    f,
                    "ChainLock at {height}: signing quorum failed verification ({status})"
                )
            }
            Self::Checks(e) => write!(f, "quorum checks do not decode: {e}"),
        }
    }
}

impl std::error::Error for ClientEngineError {}

impl ClassifiedError for ClientEngineError {
    fn verdict(&self) -> EngineVerdict {
        match self {
            Self::Engine(e) if e.is_missing_base() => EngineVerdict::NotYetAvailable,
            // Our header chain lacks a block the data names: a reorganisation since the
            // request or a block below our sync base, not a lie.
            Self::Engine(e)
                if matches!(
                    e.error.as_ref(),
                    EngineErrorKind::Diff(
                        DiffError::UnknownBlock
                            | DiffError::UnknownBaseBlock(_)
                            | DiffError::MissingHeader
                    )
                ) =>
            {
                EngineVerdict::Inconclusive
            }
            Self::Engine(_) => EngineVerdict::Invalid,
            Self::ChainLock {
                failure: ChainLockFailure::MissingList { .. } | ChainLockFailure::NoQuorum,
                ..
            } => EngineVerdict::NotYetAvailable,
            // The quorum comes from our lists: a key we cannot decode or a commitment that
            // failed is not the fault of the peer relaying the ChainLock.
            Self::ChainLock {
                failure: ChainLockFailure::BadQuorumKey(_),
                ..
            }
            | Self::FailedQuorum { .. }
            | Self::Checks(_) => EngineVerdict::Inconclusive,
            Self::ChainLock { .. } => EngineVerdict::Invalid,
        }
    }
}

/// The most ChainLocks whose signature [`SyncEngine::pending_signer`] verified that a
/// [`ClientEngine`] remembers (as many as the ChainLock manager holds).
const MAX_SIGNATURES_CHECKED: usize = crate::sync::chainlocks::MAX_HELD;

/// The engine with the bookkeeping the sync managers ask for.
#[derive(Debug)]
pub struct ClientEngine {
    engine: MasternodeEngine,
    /// ChainLocks whose signature verified against the quorum named, while that quorum was
    /// pending: checked once, not again when the ChainLock is verified after its quorum.
    signatures_checked: Vec<CheckedSignature>,
}

/// A ChainLock whose signature verified while its signing quorum was pending.
#[derive(Debug)]
struct CheckedSignature {
    chainlock: ClSig,
    /// The signing quorum.
    quorum: QuorumKey,
    /// Whether that quorum was tried since: if it is still not verifiable, trying it again
    /// for the ChainLock would change nothing.
    tried: bool,
}

impl ClientEngine {
    /// Wraps `engine`, which stops checking the coinbase ChainLock of each diff (the sync
    /// managers do not use that check) and verifies no quorum while it applies a message: a
    /// ChainLock verifies its own signing quorum first ([`SyncEngine::verify_chainlock`], or,
    /// with checking workers, the masternode manager checks it first, split over them:
    /// [`SyncEngine::pending_signer`]), and the masternode manager verifies the rest after,
    /// most urgent first, in slices ([`SyncEngine::verify_quorum_set`], or the workers).
    pub fn new(mut engine: MasternodeEngine) -> ClientEngine {
        engine.set_check_coinbase_chainlocks(false);
        engine.set_verify_on_apply(VerifyOnApply::None);
        ClientEngine {
            engine,
            signatures_checked: Vec::new(),
        }
    }

    /// The engine (lists, quorums, ChainLock checks).
    pub fn inner(&self) -> &MasternodeEngine {
        &self.engine
    }
}

impl ClientEngine {
    /// The signer of a ChainLock whose signature [`SyncEngine::pending_signer`] verified, if
    /// the lists still select that quorum and its status is final now (an error if it
    /// failed); forgets the ChainLock. `None`: verify it in full.
    fn signature_checked_before(
        &mut self,
        chainlock: &ClSig,
    ) -> Option<Result<ChainLockSigner, QuorumStatus>> {
        let at = self
            .signatures_checked
            .iter()
            .position(|checked| checked.chainlock == *chainlock)?;
        let CheckedSignature {
            quorum: key, tried, ..
        } = self.signatures_checked.remove(at);
        if self.engine.chainlock_signer(chainlock) != Some(key) {
            return None;
        }
        let status = self.engine.quorum_record(key.0, &key.1)?.status.clone();
        let signer = ChainLockSigner {
            quorum: QuorumId {
                llmq_type: key.0 .0,
                quorum_hash: key.1,
            },
            quorum_verified: status.is_verified(),
        };
        match status {
            QuorumStatus::Failed(_) => Some(Err(status)),
            QuorumStatus::Verified { .. } => Some(Ok(signer)),
            QuorumStatus::NotVerifiable(_) if tried => Some(Ok(signer)),
            QuorumStatus::NotVerifiable(_) => None,
        }
    }

    /// Notes that `quorums` were tried, for the ChainLocks waiting on them.
    fn note_tried(&mut self, quorums: &[QuorumKey]) {
        for checked in &mut self.signatures_checked {
            checked.tried |= quorums.contains(&checked.quorum);
        }
    }
}

impl SyncEngine for ClientEngine {
    type QrInfo = QrInfo;
    type MnListDiff = MnListDiff;
    type ChainLock = ClSig;
    type Error = ClientEngineError;

    fn qrinfo_tip(&self, qrinfo: &QrInfo) -> BlockHash {
        qrinfo.diff_tip.block_hash
    }

    fn apply_qrinfo(
        &mut self,
        qrinfo: QrInfo,
        chain: &dyn ChainView,
    ) -> Result<u32, ClientEngineError> {
        let report = self
            .engine
            .apply_qrinfo(&qrinfo, &chain)
            .map_err(ClientEngineError::Engine)?;
        Ok(report
            .applied
            .iter()
            .find(|d| d.block_hash == qrinfo.diff_tip.block_hash)
            .map(|d| d.height)
            .or_else(|| chain.height_of(&qrinfo.diff_tip.block_hash))
            .unwrap_or(0))
    }

    /// A diff from the genesis block starts from the empty list, like one
    /// from the all-zero hash: dashd answers either way for a full list.
    fn mnlistdiff_blocks(&self, diff: &MnListDiff) -> DiffBlocks {
        let genesis = self.engine.rules().network.genesis_hash();
        let base = if diff.base_block_hash == genesis {
            BlockHash::ZERO
        } else {
            diff.base_block_hash
        };
        DiffBlocks {
            base,
            block: diff.block_hash,
        }
    }

    fn apply_mnlistdiff(
        &mut self,
        diff: MnListDiff,
        chain: &dyn ChainView,
    ) -> Result<u32, ClientEngineError> {
        let report = self
            .engine
            .apply_diff(&diff, &chain)
            .map_err(ClientEngineError::Engine)?;
        Ok(report.height)
    }

    fn pending_quorums(&self) -> Vec<QuorumId> {
        self.engine
            .pending_quorums()
            .into_iter()
            .map(|((llmq_type, quorum_hash), _)| QuorumId {
                llmq_type: llmq_type.0,
                quorum_hash,
            })
            .collect()
    }

    fn verify_quorum_set(
        &mut self,
        quorums: &[QuorumId],
        chain: &dyn ChainView,
    ) -> Result<(), ClientEngineError> {
        let keys = quorum_keys(quorums);
        self.engine.verify_quorum_set(&keys, &chain);
        self.note_tried(&keys);
        Ok(())
    }

    /// The checks of the pending quorums split by weight ([`split_jobs`]), each share an
    /// encoded [`CheckShare::Jobs`] for `check_share` in a worker.
    fn prepare_quorum_checks(
        &mut self,
        quorums: &[QuorumId],
        parts: usize,
        chain: &dyn ChainView,
    ) -> Result<Vec<Vec<u8>>, ClientEngineError> {
        let jobs = self.engine.prepare_checks(&quorum_keys(quorums), &chain);
        Ok(split_jobs(jobs, parts)
            .into_iter()
            .filter(|share| !share.is_empty())
            .map(|share| encode_share(&CheckShare::Jobs(share)))
            .collect())
    }

    /// Each share's answer through [`MasternodeEngine::apply_outcomes`], which rejects an
    /// answer that does not fit before applying any of it: such a share, or one without an
    /// answer, is checked here ([`MasternodeEngine::check_here`]).
    fn apply_quorum_checks(
        &mut self,
        shares: &[Vec<u8>],
        answers: &[Vec<u8>],
        chain: &dyn ChainView,
    ) -> Result<u32, ClientEngineError> {
        let mut from_answers = 0u32;
        for (index, share) in shares.iter().enumerate() {
            let jobs = match decode_share(share).map_err(ClientEngineError::Checks)? {
                CheckShare::Jobs(jobs) => jobs,
                CheckShare::Part(_) => {
                    return Err(ClientEngineError::Checks(DecodeError::InvalidValue {
                        field: "check share kind of a batch of jobs",
                        value: 1,
                    }))
                }
            };
            let applied = answers
                .get(index)
                .map(|answer| self.engine.apply_outcomes(&jobs, answer, &chain));
            match applied {
                Some(Ok(())) => {
                    let count = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
                    from_answers = from_answers.saturating_add(count);
                }
                Some(Err(_)) | None => self.engine.check_here(&jobs, &chain),
            }
            let keys: Vec<QuorumKey> = jobs.iter().map(CheckJob::key).collect();
            self.note_tried(&keys);
        }
        Ok(from_answers)
    }

    /// The check of `quorum` ([`MasternodeEngine::prepare_checks`]) with its aggregation cut
    /// by [`split_aggregation`], each part an encoded [`CheckShare::Part`].
    fn prepare_split_check(
        &mut self,
        quorum: &QuorumId,
        parts: usize,
        chain: &dyn ChainView,
    ) -> Result<Option<Vec<Vec<u8>>>, ClientEngineError> {
        let Some(job) = self
            .engine
            .prepare_checks(&quorum_keys(&[*quorum]), &chain)
            .pop()
        else {
            return Ok(None);
        };
        Ok(split_aggregation(&job, parts).map(|cut| {
            cut.into_iter()
                .map(|part| encode_share(&CheckShare::Part(part)))
                .collect()
        }))
    }

    /// The workers' sums through [`MasternodeEngine::apply_split_sums`], for the check of
    /// `quorum` prepared again (it is deterministic); nothing if it needs none any more.
    fn apply_split_check(
        &mut self,
        quorum: &QuorumId,
        answers: &[Vec<u8>],
        chain: &dyn ChainView,
    ) -> Result<bool, ClientEngineError> {
        let keys = quorum_keys(&[*quorum]);
        self.note_tried(&keys);
        let Some(job) = self.engine.prepare_checks(&keys, &chain).pop() else {
            return Ok(false);
        };
        Ok(self.engine.apply_split_sums(&job, answers, &chain))
    }

    /// Counts of verified quorums, and the quorums of the newest list still
    /// waiting for a list: only active quorums sign, so only their lists are
    /// worth fetching.
    fn quorum_check(&self) -> QuorumCheck {
        let mut check = QuorumCheck::default();
        let latest = self.engine.latest_list();
        let active = |llmq_type, hash: &BlockHash| {
            latest.is_some_and(|list| list.quorum(llmq_type, hash).is_some())
        };
        for record in self.engine.quorum_records() {
            match &record.status {
                QuorumStatus::Verified { .. } => check.verified += 1,
                QuorumStatus::NotVerifiable(Unverifiable::MissingList { height })
                    if active(record.llmq_type, &record.quorum_hash) =>
                {
                    check.unverifiable.push(QuorumNeed {
                        quorum: QuorumId {
                            llmq_type: record.llmq_type.0,
                            quorum_hash: record.quorum_hash,
                        },
                        list_height: *height,
                    })
                }
                _ => {}
            }
        }
        check
    }

    fn chainlock_target(&self, chainlock: &ClSig) -> ChainLockTarget {
        ChainLockTarget {
            height: u32::try_from(chainlock.height).unwrap_or(0),
            hash: chainlock.block_hash,
        }
    }

    /// Accepts a ChainLock whose signature verifies against the signing quorum
    /// the protocol selects from the stored lists. Those lists are proven
    /// against coinbases of blocks on the verified header chain, so the quorum
    /// is one the chain committed to. A signing quorum still pending is verified
    /// then ([`MasternodeEngine::verify_chainlock_and_signer`]); one whose own
    /// commitment failed verification is refused, and one that could not be
    /// verified yet (a list its members need is missing) is accepted and
    /// reported as such (`quorum_status`). A ChainLock whose signature
    /// [`SyncEngine::pending_signer`] verified while its quorum was pending is not checked
    /// again once that quorum is verified or failed.
    fn verify_chainlock(
        &mut self,
        chainlock: &ClSig,
        chain: &dyn ChainView,
    ) -> Result<ChainLockSigner, ClientEngineError> {
        let height = chainlock.height;
        if let Some(signer) = self.signature_checked_before(chainlock) {
            return signer.map_err(|status| ClientEngineError::FailedQuorum {
                height,
                status: status.to_string(),
            });
        }
        let check = self.engine.verify_chainlock_and_signer(chainlock, &chain);
        check
            .result
            .clone()
            .map_err(|failure| ClientEngineError::ChainLock { height, failure })?;
        if let Some(status @ QuorumStatus::Failed(_)) = &check.quorum_status {
            return Err(ClientEngineError::FailedQuorum {
                height,
                status: status.to_string(),
            });
        }
        let (llmq_type, quorum_hash) = check.quorum.ok_or(ClientEngineError::ChainLock {
            height,
            failure: ChainLockFailure::NoQuorum,
        })?;
        Ok(ChainLockSigner {
            quorum: QuorumId {
                llmq_type: llmq_type.0,
                quorum_hash,
            },
            quorum_verified: check
                .quorum_status
                .as_ref()
                .is_some_and(QuorumStatus::is_verified),
        })
    }

    /// [`MasternodeEngine::chainlock_signer`], if its status is not final and the signature
    /// verifies against it ([`MasternodeEngine::verify_chainlock_with_quorum`]), which is
    /// remembered for [`SyncEngine::verify_chainlock`].
    fn pending_signer(&mut self, chainlock: &ClSig, chain: &dyn ChainView) -> Option<QuorumId> {
        let key = self.engine.chainlock_signer(chainlock)?;
        let record = self.engine.quorum_record(key.0, &key.1)?;
        if record.status.is_final() {
            return None;
        }
        let check = self
            .engine
            .verify_chainlock_with_quorum(chainlock, key.0, &key.1, &chain);
        check.signature_valid().then_some(())?;
        if self.signatures_checked.len() >= MAX_SIGNATURES_CHECKED {
            self.signatures_checked.remove(0);
        }
        self.signatures_checked.push(CheckedSignature {
            chainlock: *chainlock,
            quorum: key,
            tried: false,
        });
        Some(QuorumId {
            llmq_type: key.0 .0,
            quorum_hash: key.1,
        })
    }

    fn list_height_at_or_below(&self, height: u32) -> Option<u32> {
        self.engine.list_at_or_below(height).map(|list| list.height)
    }

    fn last_qrinfo_height(&self) -> Option<u32> {
        self.engine.last_qrinfo_height()
    }
}

/// The engine's keys of `quorums`.
fn quorum_keys(quorums: &[QuorumId]) -> Vec<QuorumKey> {
    quorums
        .iter()
        .map(|id| (LlmqType(id.llmq_type), id.quorum_hash))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bls::BlsError;
    use crate::hash::MerkleNode;

    fn engine_error(error: DiffError) -> ClientEngineError {
        ClientEngineError::Engine(EngineError {
            diff: "mnlistdiff".into(),
            block_hash: BlockHash::ZERO,
            height: Some(905_762),
            error: Box::new(EngineErrorKind::Diff(error)),
        })
    }

    fn chainlock_error(failure: ChainLockFailure) -> ClientEngineError {
        ClientEngineError::ChainLock {
            height: 905_775,
            failure,
        }
    }

    #[test]
    fn only_data_proven_wrong_is_invalid() {
        let wrong = [
            engine_error(DiffError::MnListRoot {
                coinbase: MerkleNode([1; 32]),
                computed: MerkleNode([2; 32]),
            }),
            engine_error(DiffError::CoinbaseNotProven),
            chainlock_error(ChainLockFailure::InvalidSignature),
            chainlock_error(ChainLockFailure::BadSignature(BlsError::NotOnCurve)),
        ];
        for error in wrong {
            assert_eq!(error.verdict(), EngineVerdict::Invalid, "{error}");
        }
        let ours = [
            engine_error(DiffError::UnknownBlock),
            engine_error(DiffError::UnknownBaseBlock(BlockHash::ZERO)),
            engine_error(DiffError::MissingHeader),
            chainlock_error(ChainLockFailure::BadQuorumKey(BlsError::NotOnCurve)),
            ClientEngineError::FailedQuorum {
                height: 905_775,
                status: "failed".into(),
            },
        ];
        for error in ours {
            assert_eq!(error.verdict(), EngineVerdict::Inconclusive, "{error}");
        }
        let later = [
            engine_error(DiffError::MissingBaseList {
                base_hash: BlockHash::ZERO,
                height: 905_738,
            }),
            chainlock_error(ChainLockFailure::MissingList { height: 905_767 }),
            chainlock_error(ChainLockFailure::NoQuorum),
        ];
        for error in later {
            assert_eq!(error.verdict(), EngineVerdict::NotYetAvailable, "{error}");
        }
    }
}
