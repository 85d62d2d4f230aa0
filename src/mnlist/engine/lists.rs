//! List storage and application: `mnlistdiff` and `qrinfo` messages checked against the
//! header chain and the coinbase and stored, and pruning.

use super::{DiffReport, MasternodeEngine, QrInfoReport, QuorumRecord, WORK_BLOCK_OFFSET};
use crate::chain::HeaderLookup;
use crate::hash::{BlockHash, MerkleNode};
use crate::llmq::LlmqType;
use crate::mnlist::apply::apply_diff;
use crate::mnlist::errors::{DiffError, EngineError, EngineErrorKind};
use crate::mnlist::list::{MasternodeList, QuorumEntry, QuorumKey};
use crate::mnlist::merkle::{extract_matches, ParentMemo};
use crate::mnlist::status::{QuorumStatus, Unverifiable};
use crate::mnlist::timings::Phase;
use crate::protocol::chainlock::ClSig;
use crate::protocol::mnlistdiff::MnListDiff;
use crate::protocol::qrinfo::QrInfo;
use crate::protocol::sml_entry::SmlEntry;
use crate::protocol::snapshot::QuorumSnapshot;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

fn diff_error(name: &str, diff: &MnListDiff, height: Option<u32>, error: DiffError) -> EngineError {
    EngineError {
        diff: name.to_owned(),
        block_hash: diff.block_hash,
        height,
        error: Box::new(EngineErrorKind::Diff(error)),
    }
}

impl MasternodeEngine {
    /// Applies one `mnlistdiff` on its base list, checks it against the header
    /// chain and the coinbase, stores the new list, and verifies every quorum
    /// that has become verifiable.
    pub fn apply_diff(
        &mut self,
        diff: &MnListDiff,
        headers: &impl HeaderLookup,
    ) -> Result<DiffReport, EngineError> {
        let start = self.now();
        let mut memo = core::mem::take(&mut self.parent_memo);
        let built = self.build_list("mnlistdiff", diff, headers, &BTreeMap::new(), &mut memo);
        self.parent_memo = memo;
        let (list, mut report) = built?;
        self.store_list(list, diff, headers);
        self.add_time(Phase::ListBuilding, start);
        self.verify_on_apply(headers);
        self.check_coinbase_chainlock(&mut report, headers);
        self.prune();
        self.revision = self.revision.wrapping_add(1);
        Ok(report)
    }

    /// Checks the best ChainLock of a diff's coinbase, if its block is known and the engine
    /// checks them.
    fn check_coinbase_chainlock(&self, report: &mut DiffReport, headers: &impl HeaderLookup) {
        if !self.check_coinbase_chainlocks {
            return;
        }
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
        for (place, (name, diff, snapshot)) in parts.into_iter().enumerate() {
            let height = headers
                .height_of(&diff.block_hash)
                .ok_or_else(|| diff_error(&name, diff, None, DiffError::UnknownBlock))?;
            located.push((height, place, name, diff, snapshot));
        }
        // By height, then the message's order: a total order, so an unstable sort (the
        // package carries one sort algorithm, not two) keeps it as a stable one would.
        located.sort_unstable_by_key(|(height, place, ..)| (*height, *place));

        let mut staged: BTreeMap<u32, Arc<MasternodeList>> = BTreeMap::new();
        let mut report = QrInfoReport::default();
        let mut applied = Vec::with_capacity(located.len());
        let mut memo = core::mem::take(&mut self.parent_memo);
        let mut rejected = None;
        for (height, _, name, diff, snapshot) in located {
            match self.build_list(&name, diff, headers, &staged, &mut memo) {
                Ok((list, diff_report)) => {
                    staged.insert(list.height, Arc::new(list));
                    report.applied.push(diff_report);
                    applied.push((height, diff, snapshot));
                }
                // A diff whose base list is unknown is skipped, not rejected.
                Err(e) if e.is_missing_base() => report.skipped.push(e),
                Err(e) => {
                    rejected = Some(e);
                    break;
                }
            }
        }
        self.parent_memo = memo;
        if let Some(e) = rejected {
            return Err(e);
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

    /// Builds (without storing) the list a diff produces, with every check; its merkle root
    /// reuses the parents `memo` holds.
    fn build_list(
        &self,
        name: &str,
        diff: &MnListDiff,
        headers: &impl HeaderLookup,
        staged: &BTreeMap<u32, Arc<MasternodeList>>,
        memo: &mut ParentMemo,
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
        let known = |entry: &SmlEntry| {
            staged
                .values()
                .rev()
                .chain(self.lists.values().rev())
                .find_map(|list| list.entry(&entry.pro_reg_tx_hash))
                .filter(|known| known.sml == *entry)
                .cloned()
        };
        let list = apply_diff(base, diff, height, known).map_err(|e| fail(DiffError::Apply(e)))?;
        let mn_root = list.merkle_root_mn_list_with(memo);
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

    pub(super) fn track_quorum(&mut self, entry: &QuorumEntry, headers: &impl HeaderLookup) {
        let key = (entry.llmq_type(), entry.quorum_hash());
        self.quorums.entry(key).or_insert_with(|| QuorumRecord {
            llmq_type: key.0,
            quorum_hash: key.1,
            height: headers.height_of(&key.1),
            status: QuorumStatus::NotVerifiable(Unverifiable::UnknownBaseBlock),
        });
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
