//! The masternode list engine: the [`MasternodeEngine`] struct, its settings and accessors.
//! Its work is split by job: list storage and application in `lists.rs`, member selection
//! and its caches in `members.rs`, commitment verification in `verify.rs`, and the saved
//! state in `saved.rs`.

use super::chainlock::ChainLockCheck;
use super::errors::EngineError;
use super::list::{MasternodeList, QuorumEntry, QuorumKey};
use super::merkle::ParentMemo;
use super::status::{QuorumStatus, Unverifiable};
use super::timings::{Clock, Phase, Timings};
use crate::bls::KeyCache;
use crate::hash::{BlockHash, MerkleNode};
use crate::llmq::members::Members;
use crate::llmq::{ChainRules, LlmqType};
use crate::network::Network;
use crate::protocol::snapshot::QuorumSnapshot;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

mod lists;
mod members;
mod saved;
mod verify;

pub use saved::{LoadReport, StateError, STATE_VERSION};

/// Offset of the work block below a quorum's base block.
pub const WORK_BLOCK_OFFSET: u32 = 8;

/// Which quorums the engine verifies while it applies a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VerifyOnApply {
    /// Every quorum not verified or failed yet (the default).
    #[default]
    All,
    /// None: the caller verifies from [`MasternodeEngine::pending_quorums`] (most urgent
    /// first) when it has time, and a ChainLock's own signing quorum with it
    /// ([`MasternodeEngine::verify_chainlock_and_signer`]).
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
    /// when the coinbase has one, its block is on the header chain and the
    /// engine checks them (see [`MasternodeEngine::set_check_coinbase_chainlocks`]).
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
    /// Merkle parents of the lists built so far, shared by the next lists' roots.
    parent_memo: ParentMemo,
    max_lists: usize,
    require_block_proofs: bool,
    verify_on_apply: VerifyOnApply,
    /// Whether applying a diff checks its coinbase's best ChainLock.
    check_coinbase_chainlocks: bool,
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
            parent_memo: ParentMemo::default(),
            max_lists: 64,
            require_block_proofs: true,
            verify_on_apply: VerifyOnApply::All,
            check_coinbase_chainlocks: true,
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

    /// Whether `apply_diff` and `apply_qrinfo` check the best ChainLock of each diff's
    /// coinbase against the stored lists, for [`DiffReport::coinbase_chainlock_check`] (on
    /// by default). A caller that does not read the check turns it off: it costs a
    /// signature verification per diff.
    pub fn set_check_coinbase_chainlocks(&mut self, check: bool) {
        self.check_coinbase_chainlocks = check;
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
}
