//! The masternode list engine.

use super::apply::apply_diff;
use super::chainlock::ChainLockCheck;
use super::errors::{DiffError, EngineError, EngineErrorKind};
use super::list::{MasternodeList, QuorumEntry, QuorumKey};
use super::merkle::extract_matches;
use super::status::{QuorumStatus, Unverifiable};
use super::timings::{Clock, Phase, Timings};
use crate::bls::{verify_batch, verify_legacy_batch, KeyCache, Scheme, SignatureGroup};
use crate::chain::HeaderLookup;
use crate::hash::{BlockHash, MerkleNode};
use crate::llmq::hashes::{modifier_from_block_hash, modifier_from_chainlock};
use crate::llmq::members::{new_quarters, non_rotated_members, quarters_from_snapshot, Members};
use crate::llmq::verify::{
    check_signatures, decode_commitment, expected_version, prepare_commitment, CommitmentFailure,
    PreparedCommitment,
};
use crate::llmq::{ChainRules, LlmqParams, LlmqType};
use crate::network::Network;
use crate::protocol::chainlock::ClSig;
use crate::protocol::commitment::QuorumCommitment;
use crate::protocol::mnlistdiff::MnListDiff;
use crate::protocol::qrinfo::QrInfo;
use crate::protocol::snapshot::QuorumSnapshot;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

mod saved;

pub use saved::{LoadReport, StateError, STATE_VERSION};

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

/// Offset of the work block below a quorum's base block.
pub const WORK_BLOCK_OFFSET: u32 = 8;

/// Which quorums the engine verifies while it applies a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VerifyOnApply {
    /// Every quorum not verified or failed yet (the default).
    #[default]
    All,
    /// Only the ChainLock quorums of the newest list (see
    /// [`QuorumPriority::ChainLock`]); the caller verifies the rest from
    /// [`MasternodeEngine::pending_quorums`] when it has time.
    Urgent,
    /// None: the caller verifies from [`MasternodeEngine::pending_quorums`].
    None,
}

/// How soon a wallet needs a quorum verified, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QuorumPriority {
    /// A quorum of the newest list of the type that signs ChainLocks.
    ChainLock,
    /// A quorum of the newest list of the type that signs InstantSend locks.
    InstantSend,
    /// A quorum of the newest list of the Platform type.
    Platform,
    /// Any other quorum.
    Other,
}

/// What applying one diff produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffReport {
    /// Which diff (`mnlistdiff`, `qrinfo h-c`, …).
    pub diff: String,
    /// The list's block height.
    pub height: u32,
    /// The list's block hash.
    pub block_hash: BlockHash,
    /// Entries in the list.
    pub entries: usize,
    /// Valid entries in the list.
    pub valid_entries: usize,
    /// Active quorums in the list.
    pub quorums: Vec<QuorumKey>,
    /// The list's SML merkle root (equal to the coinbase's).
    pub merkle_root_mn_list: MerkleNode,
    /// The quorums' merkle root (equal to the coinbase's, when it has one).
    pub merkle_root_quorums: Option<MerkleNode>,
    /// The best ChainLock in the coinbase, as (height, signature), if any.
    pub coinbase_chainlock: Option<(u32, [u8; 96])>,
    /// Whether the coinbase was proven to be in the block against the header's
    /// merkle root (always, unless block proofs were turned off and the header
    /// chain has no header there).
    pub coinbase_proven: bool,
    /// The check of the coinbase's best ChainLock against the stored lists,
    /// when the coinbase has one and its block is on the header chain.
    pub coinbase_chainlock_check: Option<ChainLockCheck>,
}

/// What applying a QRInfo produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QrInfoReport {
    /// The diffs applied, oldest first.
    pub applied: Vec<DiffReport>,
    /// The diffs skipped because the engine lacks their base list.
    pub skipped: Vec<EngineError>,
    /// Quorums whose `lastCommitmentPerIndex` copy differs from the copy a
    /// proven list (or an already verified loose copy) holds: each such copy
    /// was ignored.
    pub conflicting_commitments: Vec<QuorumKey>,
}

/// The state of one quorum the engine has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumRecord {
    /// The quorum's type.
    pub llmq_type: LlmqType,
    /// The quorum's base block hash.
    pub quorum_hash: BlockHash,
    /// The base block's height, if on the header chain.
    pub height: Option<u32>,
    /// The verification state.
    pub status: QuorumStatus,
}

/// Masternode lists by height, quorum snapshots and quorum verification state.
pub struct MasternodeEngine {
    rules: ChainRules,
    lists: BTreeMap<u32, Arc<MasternodeList>>,
    snapshots: BTreeMap<u32, QuorumSnapshot>,
    /// The best ChainLock signature in the coinbase of the block at each height
    /// (`None`: the coinbase has none), for post-v20 quorum modifiers.
    coinbase_chainlocks: HashMap<u32, Option<[u8; 96]>>,
    quorums: BTreeMap<QuorumKey, QuorumRecord>,
    /// Commitments a QRInfo sent outside its diffs (`lastCommitmentPerIndex`).
    loose_commitments: HashMap<QuorumKey, Arc<QuorumEntry>>,
    /// Previous-quarter composition per rotation cycle height.
    quarters: HashMap<u32, Arc<Vec<Members>>>,
    /// Members per quorum index per rotation cycle height.
    cycle_members: HashMap<u32, Arc<Vec<Members>>>,
    keys: KeyCache,
    /// (quorum, list height) pairs whose nearby-list members did not verify.
    tried_nearby: HashSet<(QuorumKey, u32)>,
    max_lists: usize,
    require_block_proofs: bool,
    verify_on_apply: VerifyOnApply,
    clock: Option<Clock>,
    timings: Timings,
    /// The height of the tip list of the last QRInfo applied.
    last_qrinfo_height: Option<u32>,
    /// Counts changes to the saved state (see [`MasternodeEngine::revision`]).
    revision: u64,
    /// ChainLock signatures checked (see [`MasternodeEngine::chainlock_signature_checks`]).
    pub(super) chainlock_signature_checks: AtomicU64,
}

impl core::fmt::Debug for MasternodeEngine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MasternodeEngine")
            .field("network", &self.rules.network)
            .field("lists", &self.lists.keys().collect::<Vec<_>>())
            .field("snapshots", &self.snapshots.keys().collect::<Vec<_>>())
            .field("quorums", &self.quorums.len())
            .finish()
    }
}

fn diff_error(name: &str, diff: &MnListDiff, height: Option<u32>, error: DiffError) -> EngineError {
    EngineError {
        diff: name.to_owned(),
        block_hash: diff.block_hash,
        height,
        error: Box::new(EngineErrorKind::Diff(error)),
    }
}

impl MasternodeEngine {
    /// An empty engine for `network`.
    pub fn new(network: Network) -> MasternodeEngine {
        MasternodeEngine {
            rules: ChainRules::for_network(network),
            lists: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            coinbase_chainlocks: HashMap::new(),
            quorums: BTreeMap::new(),
            loose_commitments: HashMap::new(),
            quarters: HashMap::new(),
            cycle_members: HashMap::new(),
            keys: KeyCache::new(),
            tried_nearby: HashSet::new(),
            max_lists: 64,
            require_block_proofs: true,
            verify_on_apply: VerifyOnApply::All,
            clock: None,
            timings: Timings::default(),
            last_qrinfo_height: None,
            revision: 0,
            chainlock_signature_checks: AtomicU64::new(0),
        }
    }

    /// The network's rules.
    pub fn rules(&self) -> &ChainRules {
        &self.rules
    }

    /// Gives the engine a clock (seconds, monotonic) to time its phases with;
    /// without one, [`MasternodeEngine::timings`] stays zero.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = Some(clock);
    }

    /// Time spent per phase since the engine was made.
    pub fn timings(&self) -> &Timings {
        &self.timings
    }

    /// Whether a diff whose block has no header in the header chain is rejected
    /// (the default). Turned off, such a diff is applied with its coinbase
    /// unproven (`DiffReport::coinbase_proven` is false); for offline
    /// inspection only, never for a wallet.
    pub fn set_require_block_proofs(&mut self, require: bool) {
        self.require_block_proofs = require;
    }

    /// Which quorums `apply_diff` and `apply_qrinfo` verify before they
    /// return (every pending one by default); see [`VerifyOnApply`].
    pub fn set_verify_on_apply(&mut self, verify: VerifyOnApply) {
        self.verify_on_apply = verify;
    }

    /// Keeps at most `max` lists when pruning (see [`MasternodeEngine::prune`]).
    pub fn set_max_lists(&mut self, max: usize) {
        self.max_lists = max.max(1);
    }

    fn now(&self) -> f64 {
        self.clock.as_ref().map_or(0.0, |c| c())
    }

    fn add_time(&mut self, phase: Phase, since: f64) {
        let elapsed = self.now() - since;
        self.timings.add(phase, elapsed);
    }

    /// The height of the tip list of the last QRInfo applied, if any.
    pub fn last_qrinfo_height(&self) -> Option<u32> {
        self.last_qrinfo_height
    }

    /// A number that changes whenever lists, snapshots or quorum states
    /// change: the state [`MasternodeEngine::save_state`] writes is the same
    /// as long as it is.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The list at `height`, if the engine has it.
    pub fn list_at(&self, height: u32) -> Option<&Arc<MasternodeList>> {
        self.lists.get(&height)
    }

    /// The list at the block with this hash.
    pub fn list_for_block(&self, hash: &BlockHash) -> Option<&Arc<MasternodeList>> {
        self.lists.values().find(|l| l.block_hash == *hash)
    }

    /// The newest list at or below `height`.
    pub fn list_at_or_below(&self, height: u32) -> Option<&Arc<MasternodeList>> {
        self.lists.range(..=height).next_back().map(|(_, l)| l)
    }

    /// The oldest list at or above `height`.
    pub fn list_at_or_above(&self, height: u32) -> Option<&Arc<MasternodeList>> {
        self.lists.range(height..).next().map(|(_, l)| l)
    }

    /// The newest list.
    pub fn latest_list(&self) -> Option<&Arc<MasternodeList>> {
        self.lists.values().next_back()
    }

    /// Heights of the lists held.
    pub fn list_heights(&self) -> impl Iterator<Item = u32> + '_ {
        self.lists.keys().copied()
    }

    /// Heights of the quorum snapshots held.
    pub fn snapshot_heights(&self) -> impl Iterator<Item = u32> + '_ {
        self.snapshots.keys().copied()
    }

    /// Every quorum seen, with its state.
    pub fn quorum_records(&self) -> impl Iterator<Item = &QuorumRecord> {
        self.quorums.values()
    }

    /// The state of one quorum.
    pub fn quorum_record(
        &self,
        llmq_type: LlmqType,
        quorum_hash: &BlockHash,
    ) -> Option<&QuorumRecord> {
        self.quorums.get(&(llmq_type, *quorum_hash))
    }

    /// The commitment a QRInfo sent for this quorum outside its diffs, if kept.
    pub(super) fn loose_commitment(&self, key: &QuorumKey) -> Option<&Arc<QuorumEntry>> {
        self.loose_commitments.get(key)
    }

    /// Heights of the lists that would let unverifiable quorums be verified:
    /// what the sync layer should fetch with `getmnlistd`.
    pub fn missing_list_heights(&self) -> BTreeSet<u32> {
        self.quorums
            .values()
            .filter_map(|q| match q.status {
                QuorumStatus::NotVerifiable(Unverifiable::MissingList { height }) => Some(height),
                _ => None,
            })
            .collect()
    }

    /// Applies one `mnlistdiff` on its base list, checks it against the header
    /// chain and the coinbase, stores the new list, and verifies every quorum
    /// that has become verifiable.
    pub fn apply_diff(
        &mut self,
        diff: &MnListDiff,
        headers: &impl HeaderLookup,
    ) -> Result<DiffReport, EngineError> {
        let start = self.now();
        let (list, mut report) = self.build_list("mnlistdiff", diff, headers, &BTreeMap::new())?;
        self.store_list(list, diff, headers);
        self.add_time(Phase::ListBuilding, start);
        self.verify_on_apply(headers);
        self.check_coinbase_chainlock(&mut report, headers);
        self.prune();
        self.revision = self.revision.wrapping_add(1);
        Ok(report)
    }

    /// Checks the best ChainLock of a diff's coinbase, if its block is known.
    fn check_coinbase_chainlock(&self, report: &mut DiffReport, headers: &impl HeaderLookup) {
        report.coinbase_chainlock_check =
            report.coinbase_chainlock.and_then(|(height, signature)| {
                let block_hash = headers.hash_at(height)?;
                let clsig = ClSig {
                    height: i32::try_from(height).ok()?,
                    block_hash,
                    signature,
                };
                Some(self.verify_chainlock(&clsig, headers))
            });
    }

    /// Applies a `qrinfo`: every diff oldest first (each may build on the one
    /// before, as protocol 70236 sends them), then its snapshots, then
    /// verifies every quorum that has become verifiable. A diff whose base list
    /// the engine lacks is skipped and reported; any other rejected diff
    /// rejects the whole message, and then no list of it is kept.
    pub fn apply_qrinfo(
        &mut self,
        qrinfo: &QrInfo,
        headers: &impl HeaderLookup,
    ) -> Result<QrInfoReport, EngineError> {
        let start = self.now();
        let mut parts: Vec<(String, &MnListDiff, Option<&QuorumSnapshot>)> = Vec::new();
        let named_snapshots = qrinfo.named_snapshots();
        for (name, diff) in qrinfo.named_diffs() {
            let snapshot = named_snapshots
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| *s);
            parts.push((format!("qrinfo {name}"), diff, snapshot));
        }
        if qrinfo.quorum_snapshot_list.len() != qrinfo.mn_list_diff_list.len() {
            return Err(EngineError {
                diff: "qrinfo".to_owned(),
                block_hash: qrinfo.diff_tip.block_hash,
                height: None,
                error: Box::new(EngineErrorKind::SnapshotCount {
                    snapshots: qrinfo.quorum_snapshot_list.len(),
                    diffs: qrinfo.mn_list_diff_list.len(),
                }),
            });
        }
        for (i, (diff, snapshot)) in qrinfo
            .mn_list_diff_list
            .iter()
            .zip(&qrinfo.quorum_snapshot_list)
            .enumerate()
        {
            parts.push((format!("qrinfo list[{i}]"), diff, Some(snapshot)));
        }
        let mut located = Vec::with_capacity(parts.len());
        for (name, diff, snapshot) in parts {
            let height = headers
                .height_of(&diff.block_hash)
                .ok_or_else(|| diff_error(&name, diff, None, DiffError::UnknownBlock))?;
            located.push((height, name, diff, snapshot));
        }
        located.sort_by_key(|(height, ..)| *height);

        let mut staged: BTreeMap<u32, Arc<MasternodeList>> = BTreeMap::new();
        let mut report = QrInfoReport::default();
        let mut applied = Vec::with_capacity(located.len());
        for (height, name, diff, snapshot) in located {
            match self.build_list(&name, diff, headers, &staged) {
                Ok((list, diff_report)) => {
                    staged.insert(list.height, Arc::new(list));
                    report.applied.push(diff_report);
                    applied.push((height, diff, snapshot));
                }
                // A diff whose base list is unknown is skipped, not rejected.
                Err(e) if e.is_missing_base() => report.skipped.push(e),
                Err(e) => return Err(e),
            }
        }
        for (height, diff, snapshot) in applied {
            if let Some(list) = staged.get(&height) {
                self.store_list(MasternodeList::clone(list), diff, headers);
            }
            if let Some(snapshot) = snapshot {
                self.snapshots
                    .insert(height.saturating_add(WORK_BLOCK_OFFSET), snapshot.clone());
            }
        }
        for commitment in &qrinfo.last_commitment_per_index {
            let entry = Arc::new(QuorumEntry::new(commitment.clone()));
            if !self.keep_loose_commitment(entry, headers) {
                report
                    .conflicting_commitments
                    .push((LlmqType(commitment.llmq_type), commitment.quorum_hash));
            }
        }
        self.add_time(Phase::ListBuilding, start);
        self.verify_on_apply(headers);
        let mut applied = std::mem::take(&mut report.applied);
        for diff_report in &mut applied {
            self.check_coinbase_chainlock(diff_report, headers);
        }
        report.applied = applied;
        self.last_qrinfo_height = headers.height_of(&qrinfo.diff_tip.block_hash);
        self.prune();
        self.revision = self.revision.wrapping_add(1);
        Ok(report)
    }

    /// Builds (without storing) the list a diff produces, with every check.
    fn build_list(
        &self,
        name: &str,
        diff: &MnListDiff,
        headers: &impl HeaderLookup,
        staged: &BTreeMap<u32, Arc<MasternodeList>>,
    ) -> Result<(MasternodeList, DiffReport), EngineError> {
        let fail = |height: Option<u32>, error: DiffError| diff_error(name, diff, height, error);
        let height = headers
            .height_of(&diff.block_hash)
            .ok_or_else(|| fail(None, DiffError::UnknownBlock))?;
        let fail = |error: DiffError| diff_error(name, diff, Some(height), error);
        let coinbase = diff.coinbase_payload();
        if coinbase.height != height {
            return Err(fail(DiffError::CoinbaseHeight {
                coinbase: coinbase.height,
            }));
        }
        let coinbase_proven = match headers.header_at(height) {
            Some(header) => {
                let proof = extract_matches(&diff.coinbase_merkle_tree)
                    .map_err(|e| fail(DiffError::PartialTree(e)))?;
                if proof.root != header.merkle_root {
                    return Err(fail(DiffError::BlockMerkleRoot {
                        header: header.merkle_root,
                        proven: proof.root,
                    }));
                }
                let coinbase_txid = diff.coinbase_tx.txid();
                if proof.matches != [(0, MerkleNode(coinbase_txid.0))] {
                    return Err(fail(DiffError::CoinbaseNotProven));
                }
                true
            }
            None if self.require_block_proofs => return Err(fail(DiffError::MissingHeader)),
            None => false,
        };

        let empty;
        let base: &MasternodeList =
            if diff.is_full_list() || diff.base_block_hash == self.rules.network.genesis_hash() {
                empty = MasternodeList::empty(BlockHash::ZERO, 0);
                &empty
            } else {
                let base_height = headers
                    .height_of(&diff.base_block_hash)
                    .ok_or_else(|| fail(DiffError::UnknownBaseBlock(diff.base_block_hash)))?;
                if base_height >= height {
                    return Err(fail(DiffError::BaseNotBelow { base_height }));
                }
                staged
                    .get(&base_height)
                    .or_else(|| self.lists.get(&base_height))
                    .filter(|l| l.block_hash == diff.base_block_hash)
                    .ok_or_else(|| {
                        fail(DiffError::MissingBaseList {
                            base_hash: diff.base_block_hash,
                            height: base_height,
                        })
                    })?
            };
        let list = apply_diff(base, diff, height).map_err(|e| fail(DiffError::Apply(e)))?;
        let mn_root = list.merkle_root_mn_list();
        if mn_root != coinbase.merkle_root_mn_list {
            return Err(fail(DiffError::MnListRoot {
                coinbase: coinbase.merkle_root_mn_list,
                computed: mn_root,
            }));
        }
        let quorums_root = match coinbase.merkle_root_quorums() {
            Some(expected) => {
                let computed = list.merkle_root_quorums();
                if computed != expected {
                    return Err(fail(DiffError::QuorumsRoot {
                        coinbase: expected,
                        computed,
                    }));
                }
                Some(computed)
            }
            None => None,
        };
        let report = DiffReport {
            diff: name.to_owned(),
            height,
            block_hash: diff.block_hash,
            entries: list.len(),
            valid_entries: list.valid_count(),
            quorums: list.quorums.keys().copied().collect(),
            merkle_root_mn_list: mn_root,
            merkle_root_quorums: quorums_root,
            coinbase_chainlock: coinbase.best_chainlock(),
            coinbase_proven,
            coinbase_chainlock_check: None,
        };
        Ok((list, report))
    }

    fn store_list(&mut self, list: MasternodeList, diff: &MnListDiff, headers: &impl HeaderLookup) {
        let height = list.height;
        let coinbase = diff.coinbase_payload();
        let chainlock = coinbase
            .best_chainlock()
            .map(|(_, sig)| sig)
            .filter(|sig| sig.iter().any(|b| *b != 0));
        self.coinbase_chainlocks.insert(height, chainlock);
        // `quorumsCLSigs`: the coinbase ChainLock of each new quorum's work block
        // (base height - quorum index - 8), which post-v20 modifiers need.
        for cl in &diff.quorums_cl_sigs {
            let signature = Some(cl.signature).filter(|sig| sig.iter().any(|b| *b != 0));
            for &index in &cl.quorum_indexes {
                let Some(commitment) = diff.new_quorums.get(usize::from(index)) else {
                    continue;
                };
                let Some(base) = headers.height_of(&commitment.quorum_hash) else {
                    continue;
                };
                let offset = u32::try_from(commitment.quorum_index)
                    .unwrap_or(0)
                    .saturating_add(WORK_BLOCK_OFFSET);
                if let Some(work) = base.checked_sub(offset) {
                    self.coinbase_chainlocks.entry(work).or_insert(signature);
                }
            }
        }
        for quorum in list.quorums.values() {
            self.track_quorum(quorum, headers);
            let key = (quorum.llmq_type(), quorum.quorum_hash());
            if self
                .loose_commitments
                .get(&key)
                .is_some_and(|loose| loose.hash != quorum.hash)
            {
                // The proven copy replaces a differing loose one, and the
                // quorum's status (perhaps the loose copy's) is checked again.
                self.loose_commitments.remove(&key);
                self.reset_status(&key);
            }
        }
        self.lists.insert(height, Arc::new(list));
    }

    /// Keeps a commitment a QRInfo sent outside its diffs, unless a list holds
    /// the quorum (the list's proven copy counts; a differing loose copy is
    /// ignored) or a verified loose copy differs from it. Returns false when
    /// the copy was ignored because it differs.
    fn keep_loose_commitment(
        &mut self,
        entry: Arc<QuorumEntry>,
        headers: &impl HeaderLookup,
    ) -> bool {
        let key = (entry.llmq_type(), entry.quorum_hash());
        if let Some(proven) = self.lists.values().rev().find_map(|l| l.quorums.get(&key)) {
            return proven.hash == entry.hash;
        }
        if let Some(old) = self.loose_commitments.get(&key) {
            if old.hash == entry.hash {
                return true;
            }
            let verified = self
                .quorums
                .get(&key)
                .is_some_and(|r| r.status.is_verified());
            if verified {
                return false;
            }
            self.reset_status(&key);
        }
        self.track_quorum(&entry, headers);
        self.loose_commitments.insert(key, entry);
        true
    }

    /// Marks a quorum's status as not yet known, so it is verified again.
    fn reset_status(&mut self, key: &QuorumKey) {
        if let Some(record) = self.quorums.get_mut(key) {
            record.status = QuorumStatus::NotVerifiable(Unverifiable::UnknownBaseBlock);
            self.revision = self.revision.wrapping_add(1);
        }
    }

    fn track_quorum(&mut self, entry: &QuorumEntry, headers: &impl HeaderLookup) {
        let key = (entry.llmq_type(), entry.quorum_hash());
        self.quorums.entry(key).or_insert_with(|| QuorumRecord {
            llmq_type: key.0,
            quorum_hash: key.1,
            height: headers.height_of(&key.1),
            status: QuorumStatus::NotVerifiable(Unverifiable::UnknownBaseBlock),
        });
    }

    /// A commitment of the quorum, from the newest list that has it.
    fn find_commitment(&self, key: &QuorumKey) -> Option<Arc<QuorumEntry>> {
        self.lists
            .values()
            .rev()
            .find_map(|l| l.quorums.get(key).cloned())
            .or_else(|| self.loose_commitments.get(key).cloned())
    }

    /// Runs the verification [`VerifyOnApply`] asks for after a message.
    fn verify_on_apply(&mut self, headers: &impl HeaderLookup) {
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

    /// The members the stored lists select for a quorum, in quorum order,
    /// with the height of the list they come from (for a non-rotated quorum
    /// whose exact list is missing: from a stored list within 8 blocks of it).
    pub fn quorum_members(
        &mut self,
        llmq_type: LlmqType,
        quorum_hash: &BlockHash,
        headers: &impl HeaderLookup,
    ) -> Result<(Members, u32), Unverifiable> {
        let params = llmq_type
            .params()
            .ok_or(Unverifiable::UnknownType(llmq_type))?;
        let height = headers
            .height_of(quorum_hash)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        if self.rules.rotation_enabled(params, height) {
            let cycle = height - height % params.dkg_interval;
            let members = self.rotated_members(params, cycle, headers)?;
            let index = (height - cycle) as usize;
            Ok((
                members.get(index).cloned().unwrap_or_default(),
                cycle.saturating_sub(WORK_BLOCK_OFFSET),
            ))
        } else {
            let (mut candidates, required) =
                self.non_rotated(params, height, quorum_hash, headers, false)?;
            candidates
                .pop()
                .ok_or(Unverifiable::MissingList { height: required })
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

    /// The quorum modifier of a quorum (or rotation cycle) based at `base_height`
    /// (Dash Core's `GetHashModifier`).
    fn modifier(
        &self,
        params: &LlmqParams,
        base_height: u32,
        base_hash: &BlockHash,
        headers: &impl HeaderLookup,
    ) -> Result<[u8; 32], Unverifiable> {
        let work = base_height
            .checked_sub(WORK_BLOCK_OFFSET)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let work_hash = || {
            self.lists
                .get(&work)
                .map(|l| l.block_hash)
                .or_else(|| headers.hash_at(work))
                .ok_or(Unverifiable::MissingList { height: work })
        };
        if self.rules.v20_active_after(work) {
            match self.coinbase_chainlocks.get(&work) {
                Some(Some(sig)) => Ok(modifier_from_chainlock(params.llmq_type, work, sig)),
                Some(None) => Ok(modifier_from_block_hash(params.llmq_type, &work_hash()?)),
                None => Err(Unverifiable::MissingList { height: work }),
            }
        } else if params.use_rotation {
            Ok(modifier_from_block_hash(params.llmq_type, &work_hash()?))
        } else {
            Ok(modifier_from_block_hash(params.llmq_type, base_hash))
        }
    }

    /// The member lists to try for a non-rotated quorum: from the list at its
    /// work block (the base block before v20, base - 8 after), or, when that
    /// list is missing, from the nearest lists within 8 blocks of it. A member
    /// set from a nearby list only counts if both signatures verify with it.
    fn non_rotated(
        &self,
        params: &LlmqParams,
        height: u32,
        quorum_hash: &BlockHash,
        headers: &impl HeaderLookup,
        skip_tried: bool,
    ) -> Result<(Vec<(Members, u32)>, u32), Unverifiable> {
        let work = if self.rules.v20_active_after(height) {
            height
                .checked_sub(WORK_BLOCK_OFFSET)
                .ok_or(Unverifiable::UnknownBaseBlock)?
        } else {
            height
        };
        let modifier = self.modifier(params, height, quorum_hash, headers)?;
        let evo_only = self.rules.evo_only(params.llmq_type, height);
        let size = usize::from(params.size);
        if let Some(list) = self.lists.get(&work) {
            return Ok((
                vec![(non_rotated_members(list, &modifier, size, evo_only), work)],
                work,
            ));
        }
        let below = self
            .lists
            .range(work.saturating_sub(WORK_BLOCK_OFFSET)..work)
            .next_back();
        let above = self
            .lists
            .range(work.saturating_add(1)..=work.saturating_add(WORK_BLOCK_OFFSET))
            .next();
        let key = (params.llmq_type, *quorum_hash);
        let candidates: Vec<(Members, u32)> = below
            .into_iter()
            .chain(above)
            .filter(|(h, _)| !skip_tried || !self.tried_nearby.contains(&(key, **h)))
            .map(|(h, list)| (non_rotated_members(list, &modifier, size, evo_only), *h))
            .collect();
        if candidates.is_empty() {
            return Err(Unverifiable::MissingList { height: work });
        }
        Ok((candidates, work))
    }

    /// The members of every quorum index of the rotation cycle at `cycle`.
    fn rotated_members(
        &mut self,
        params: &LlmqParams,
        cycle: u32,
        headers: &impl HeaderLookup,
    ) -> Result<Arc<Vec<Members>>, Unverifiable> {
        if let Some(members) = self.cycle_members.get(&cycle) {
            return Ok(Arc::clone(members));
        }
        let interval = params.dkg_interval;
        let quorum_count = params.signing_active_quorum_count as usize;
        let quarter_size = params.quarter_size();
        let previous_cycles = [1u32, 2, 3].map(|k| cycle.checked_sub(k * interval));
        let mut previous: Vec<Arc<Vec<Members>>> = Vec::with_capacity(3);
        for previous_cycle in previous_cycles {
            let previous_cycle = previous_cycle.ok_or(Unverifiable::UnknownBaseBlock)?;
            previous.push(self.snapshot_quarters(params, previous_cycle, headers)?);
        }
        let work = cycle
            .checked_sub(WORK_BLOCK_OFFSET)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let list = self
            .lists
            .get(&work)
            .cloned()
            .ok_or(Unverifiable::MissingList { height: work })?;
        let cycle_hash = headers
            .hash_at(cycle)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let modifier = self.modifier(params, cycle, &cycle_hash, headers)?;
        let skip_removed =
            self.rules.network == Network::Testnet || self.rules.v19_active_after(cycle);
        let new = new_quarters(
            &list,
            skip_removed,
            [&previous[0], &previous[1], &previous[2]],
            &modifier,
            quorum_count,
            quarter_size,
        );
        let members: Vec<Members> = (0..quorum_count)
            .map(|i| {
                let mut m = Members::new();
                for quarters in [&previous[2], &previous[1], &previous[0]] {
                    m.extend(quarters.get(i).into_iter().flatten().cloned());
                }
                m.extend(new.get(i).into_iter().flatten().cloned());
                m
            })
            .collect();
        let members = Arc::new(members);
        self.cycle_members.insert(cycle, Arc::clone(&members));
        Ok(members)
    }

    /// The quarters a past cycle contributed, rebuilt from its snapshot.
    fn snapshot_quarters(
        &mut self,
        params: &LlmqParams,
        cycle: u32,
        headers: &impl HeaderLookup,
    ) -> Result<Arc<Vec<Members>>, Unverifiable> {
        if let Some(q) = self.quarters.get(&cycle) {
            return Ok(Arc::clone(q));
        }
        let snapshot = self
            .snapshots
            .get(&cycle)
            .ok_or(Unverifiable::MissingSnapshot { height: cycle })?;
        let work = cycle
            .checked_sub(WORK_BLOCK_OFFSET)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let list = self
            .lists
            .get(&work)
            .ok_or(Unverifiable::MissingList { height: work })?;
        let cycle_hash = headers
            .hash_at(cycle)
            .ok_or(Unverifiable::UnknownBaseBlock)?;
        let modifier = self.modifier(params, cycle, &cycle_hash, headers)?;
        let quarters = quarters_from_snapshot(
            list,
            snapshot,
            &modifier,
            params.signing_active_quorum_count as usize,
            params.quarter_size(),
        )
        .map_err(|e| Unverifiable::UnusableSnapshot {
            height: cycle,
            reason: format!("{e:?}"),
        })?;
        let quarters = Arc::new(quarters);
        self.quarters.insert(cycle, Arc::clone(&quarters));
        Ok(quarters)
    }

    /// Drops the oldest lists beyond the limit, keeping the newest list and the
    /// work-block lists of the last four rotation cycles, then everything only
    /// the dropped lists needed: older snapshots and cycle caches, records of
    /// quorums no kept list has, and keys no kept list has.
    pub fn prune(&mut self) {
        if self.lists.len() <= self.max_lists {
            return;
        }
        let Some(&newest) = self.lists.keys().next_back() else {
            return;
        };
        let mut keep: BTreeSet<u32> = BTreeSet::from([newest]);
        let mut oldest_cycle = newest;
        for llmq_type in self.rules.llmq_types {
            if let Some(params) = llmq_type.params().filter(|p| p.use_rotation) {
                let cycle = newest - newest % params.dkg_interval;
                for k in 0..4u32 {
                    if let Some(c) = cycle.checked_sub(k * params.dkg_interval) {
                        keep.insert(c.saturating_sub(WORK_BLOCK_OFFSET));
                        oldest_cycle = oldest_cycle.min(c);
                    }
                }
            }
        }
        let excess = self.lists.len() - self.max_lists;
        let drop: Vec<u32> = self
            .lists
            .keys()
            .copied()
            .filter(|h| !keep.contains(h))
            .take(excess)
            .collect();
        for height in drop {
            self.lists.remove(&height);
            self.coinbase_chainlocks.remove(&height);
        }
        self.snapshots.retain(|&h, _| h >= oldest_cycle);
        self.quarters.retain(|&h, _| h >= oldest_cycle);
        self.cycle_members.retain(|&h, _| h >= oldest_cycle);
        let mut quorums_kept: HashSet<QuorumKey> = HashSet::new();
        let mut keys_kept: HashSet<[u8; 48]> = HashSet::new();
        for list in self.lists.values() {
            quorums_kept.extend(list.quorums.keys().copied());
            keys_kept.extend(list.entries().map(|e| e.sml.operator_public_key));
        }
        self.quorums.retain(|k, _| quorums_kept.contains(k));
        self.loose_commitments
            .retain(|k, _| quorums_kept.contains(k));
        self.tried_nearby.retain(|(k, _)| quorums_kept.contains(k));
        self.keys.retain(|bytes, _| keys_kept.contains(bytes));
    }
}
