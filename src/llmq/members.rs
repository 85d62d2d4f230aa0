//! Quorum member selection: DIP-6 scores for every quorum type and DIP-24
//! quarter rotation for rotating ones, following Dash Core's
//! `CalculateQuorum`, `GetQuorumQuarterMembersBySnapshot` and
//! `BuildNewQuorumQuarterMembers`.

use crate::bls::encoding::g1_legacy_to_basic;
use crate::hash::ProTxHash;
use crate::mnlist::{ListEntry, MasternodeList};
use crate::protocol::snapshot::{QuorumSnapshot, SkipListMode};
use bitcoin_hashes::{sha256, HashEngine};
use std::collections::HashSet;
use std::sync::Arc;

/// A member list: entries in quorum order.
pub type Members = Vec<Arc<ListEntry>>;

/// The DIP-6 score of an entry for `modifier`: `SHA-256(SHA-256(proTxHash || confirmedHash) || modifier)`,
/// compared as a little-endian 256-bit number.
fn score(entry: &ListEntry, modifier: &[u8; 32]) -> [u8; 32] {
    let mut engine = sha256::HashEngine::default();
    engine.input(&entry.score_base);
    engine.input(modifier);
    let mut score = sha256::Hash::from_engine(engine).to_byte_array();
    // Reverse so that byte order compares like Dash Core's arith_uint256.
    score.reverse();
    score
}

/// The valid, confirmed entries of `candidates` (evo nodes only if `evo_only`)
/// in descending score order, at most `max` of them (Dash Core's `CalculateQuorum`).
pub fn calculate_quorum<'a>(
    candidates: impl Iterator<Item = &'a Arc<ListEntry>>,
    modifier: &[u8; 32],
    max: usize,
    evo_only: bool,
) -> Members {
    let mut scored: Vec<([u8; 32], &Arc<ListEntry>)> = candidates
        .filter(|e| e.sml.is_valid && e.is_confirmed() && (!evo_only || e.sml.is_evo()))
        .map(|e| (score(e, modifier), e))
        .collect();
    // Descending score; equal scores (never seen) fall back to proTxHash.
    scored.sort_unstable_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| b.1.pro_tx_hash().cmp(&a.1.pro_tx_hash()))
    });
    scored
        .into_iter()
        .take(max)
        .map(|(_, e)| Arc::clone(e))
        .collect()
}

/// A set of masternodes with Dash Core's `CDeterministicMNList::AddMN`
/// uniqueness rules for the properties an SML entry carries: one entry per
/// proRegTxHash, per (non-empty) service address and per operator key.
#[derive(Debug, Default, Clone)]
pub struct MasternodeSet {
    members: Vec<Arc<ListEntry>>,
    pro_tx_hashes: HashSet<ProTxHash>,
    services: HashSet<([u8; 16], u16)>,
    operator_keys: HashSet<[u8; 48]>,
}

impl MasternodeSet {
    /// Adds `entry` unless it collides with a member; returns whether it was added.
    pub fn add(&mut self, entry: &Arc<ListEntry>) -> bool {
        let service = entry.sml.service();
        let service = (service.ip, service.port);
        let has_service = service != ([0; 16], 0);
        let key = if entry.sml.uses_legacy_bls() {
            g1_legacy_to_basic(&entry.sml.operator_public_key)
                .unwrap_or(entry.sml.operator_public_key)
        } else {
            entry.sml.operator_public_key
        };
        if self.pro_tx_hashes.contains(&entry.pro_tx_hash())
            || (has_service && self.services.contains(&service))
            || self.operator_keys.contains(&key)
        {
            return false;
        }
        self.pro_tx_hashes.insert(entry.pro_tx_hash());
        if has_service {
            self.services.insert(service);
        }
        self.operator_keys.insert(key);
        self.members.push(Arc::clone(entry));
        true
    }

    /// Whether a masternode with this proRegTxHash is in the set.
    pub fn contains(&self, pro_tx_hash: &ProTxHash) -> bool {
        self.pro_tx_hashes.contains(pro_tx_hash)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<ListEntry>> {
        self.members.iter()
    }
}

/// The members of a non-rotated quorum: the top `size` of the work block's list.
pub fn non_rotated_members(
    list: &MasternodeList,
    modifier: &[u8; 32],
    size: usize,
    evo_only: bool,
) -> Members {
    calculate_quorum(list.entries(), modifier, size, evo_only)
}

/// Why a cycle's quarters could not be rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarterError {
    /// The snapshot's active-member bits are fewer than the list's entries.
    SnapshotTooShort {
        /// Bits in the snapshot.
        bits: usize,
        /// Valid, confirmed entries in the list.
        entries: usize,
    },
    /// The snapshot uses a skip-list mode with no defined quarters (2 or 3).
    UnsupportedSkipMode(i32),
}

/// The previous quarters of every quorum index of a cycle from its snapshot
/// (Dash Core's `GetQuorumQuarterMembersBySnapshot`). `list` is the list at
/// the cycle's work block and `modifier` the cycle's modifier.
pub fn quarters_from_snapshot(
    list: &MasternodeList,
    snapshot: &QuorumSnapshot,
    modifier: &[u8; 32],
    quorum_count: usize,
    quarter_size: usize,
) -> Result<Vec<Members>, QuarterError> {
    let sorted_all = calculate_quorum(list.entries(), modifier, usize::MAX, false);
    if snapshot.active_quorum_members.len() < sorted_all.len() {
        return Err(QuarterError::SnapshotTooShort {
            bits: snapshot.active_quorum_members.len(),
            entries: sorted_all.len(),
        });
    }
    let mut used = MasternodeSet::default();
    let mut unused = MasternodeSet::default();
    for (i, entry) in sorted_all.iter().enumerate() {
        if snapshot.active_quorum_members.get(i) {
            used.add(entry);
        } else if entry.sml.is_valid {
            unused.add(entry);
        }
    }
    let mut sorted_combined = calculate_quorum(unused.iter(), modifier, usize::MAX, false);
    sorted_combined.extend(calculate_quorum(used.iter(), modifier, usize::MAX, false));

    let mut quarters: Vec<Members> = vec![Vec::new(); quorum_count];
    if sorted_combined.is_empty() {
        return Ok(quarters);
    }
    match snapshot.skip_list_mode {
        SkipListMode::NoSkipping => {
            let mut next = sorted_combined.iter().cycle();
            for quarter in quarters.iter_mut() {
                while quarter.len() < quarter_size {
                    if let Some(entry) = next.next() {
                        quarter.push(Arc::clone(entry));
                    }
                }
            }
        }
        SkipListMode::SkipFirst => {
            // The first skip index is absolute, the others relative to it.
            let mut first: i64 = 0;
            let mut skips: Vec<i64> = Vec::with_capacity(snapshot.skip_list.len());
            for &s in &snapshot.skip_list {
                if first == 0 {
                    first = i64::from(s);
                    skips.push(i64::from(s));
                } else {
                    skips.push(first.saturating_add(i64::from(s)));
                }
            }
            let mut skip = skips.iter().peekable();
            let mut idx: usize = 0;
            for quarter in quarters.iter_mut() {
                while quarter.len() < quarter_size {
                    if skip.peek().is_some_and(|&&s| s == idx as i64) {
                        skip.next();
                    } else {
                        quarter.push(Arc::clone(&sorted_combined[idx]));
                    }
                    idx += 1;
                    if idx == sorted_combined.len() {
                        idx = 0;
                    }
                }
            }
        }
        mode @ (SkipListMode::SkipExcept | SkipListMode::SkipAll) => {
            return Err(QuarterError::UnsupportedSkipMode(mode.to_i32()));
        }
    }
    Ok(quarters)
}

/// The new quarter of every quorum index of a cycle (Dash Core's
/// `BuildNewQuorumQuarterMembers`). `list` is the list at the cycle's work
/// block, `previous` the quarters of the three cycles before (h-c, h-2c,
/// h-3c), each indexed by quorum index. `skip_removed` drops previous members
/// that left the list (always on testnet, from v19 on mainnet).
pub fn new_quarters(
    list: &MasternodeList,
    skip_removed: bool,
    previous: [&[Members]; 3],
    modifier: &[u8; 32],
    quorum_count: usize,
    quarter_size: usize,
) -> Vec<Members> {
    let mut new: Vec<Members> = vec![Vec::new(); quorum_count];
    if list.valid_count() < quarter_size {
        return new;
    }
    let mut used = MasternodeSet::default();
    let mut used_indexed: Vec<MasternodeSet> = vec![MasternodeSet::default(); quorum_count];
    for (i, used_at_index) in used_indexed.iter_mut().enumerate() {
        for cycle in previous {
            for entry in cycle.get(i).into_iter().flatten() {
                match list.entry(&entry.pro_tx_hash()) {
                    Some(current) if !current.sml.is_valid => continue, // banned now
                    None if skip_removed => continue,                   // removed since
                    _ => {}
                }
                used.add(entry);
                used_at_index.add(entry);
            }
        }
    }
    let mut unused = MasternodeSet::default();
    for entry in list.entries() {
        if !used.contains(&entry.pro_tx_hash()) && entry.sml.is_valid {
            unused.add(entry);
        }
    }
    let mut sorted_combined = calculate_quorum(unused.iter(), modifier, usize::MAX, false);
    sorted_combined.extend(calculate_quorum(used.iter(), modifier, usize::MAX, false));

    let total = sorted_combined.len();
    let mut idx: usize = 0;
    for (quarter, used_at_index) in new.iter_mut().zip(used_indexed.iter_mut()) {
        let used_count = used_at_index.len();
        let mut updated = false;
        let loop_start = idx;
        while quarter.len() < quarter_size && used_count + quarter.len() < total {
            let candidate = &sorted_combined[idx];
            if !used_at_index.contains(&candidate.pro_tx_hash()) && used_at_index.add(candidate) {
                quarter.push(Arc::clone(candidate));
                updated = true;
            }
            idx += 1;
            if idx == total {
                idx = 0;
            }
            if idx == loop_start {
                if !updated {
                    // Not enough masternodes: Dash Core gives up on every quorum.
                    return vec![Vec::new(); quorum_count];
                }
                updated = false;
            }
        }
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::BlockHash;
    use crate::protocol::address::ServiceAddress;
    use crate::protocol::net_info::NetInfo;
    use crate::protocol::sml_entry::{MasternodeType, SmlEntry};

    fn entry(n: u8, valid: bool, confirmed: bool, evo: bool) -> Arc<ListEntry> {
        Arc::new(ListEntry::new(SmlEntry {
            version: 2,
            pro_reg_tx_hash: ProTxHash([n; 32]),
            confirmed_hash: if confirmed {
                BlockHash([n; 32])
            } else {
                BlockHash::ZERO
            },
            net_info: NetInfo::Service(ServiceAddress {
                ip: [n; 16],
                port: 9999,
            }),
            operator_public_key: [n; 48],
            voting_key_id: [n; 20],
            is_valid: valid,
            mn_type: if evo {
                MasternodeType::Evo {
                    platform_http_port: 443,
                    platform_node_id: [n; 20],
                }
            } else {
                MasternodeType::Regular
            },
        }))
    }

    #[test]
    fn only_valid_confirmed_entries_are_scored_in_descending_order() {
        let entries = [
            entry(1, true, true, false),
            entry(2, false, true, false),
            entry(3, true, false, false),
            entry(4, true, true, true),
            entry(5, true, true, false),
        ];
        let modifier = [9u8; 32];
        let all = calculate_quorum(entries.iter(), &modifier, usize::MAX, false);
        let picked: Vec<u8> = all.iter().map(|e| e.pro_tx_hash().0[0]).collect();
        assert_eq!(picked.len(), 3);
        assert!(!picked.contains(&2) && !picked.contains(&3));
        let scores: Vec<[u8; 32]> = all.iter().map(|e| score(e, &modifier)).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]));
        let evo = calculate_quorum(entries.iter(), &modifier, usize::MAX, true);
        assert_eq!(evo.len(), 1);
        assert_eq!(
            calculate_quorum(entries.iter(), &modifier, 2, false).len(),
            2
        );
    }

    #[test]
    fn set_rejects_duplicate_keys_and_addresses() {
        let mut set = MasternodeSet::default();
        assert!(set.add(&entry(1, true, true, false)));
        assert!(!set.add(&entry(1, true, true, false)));
        let mut clash = SmlEntry::clone(&entry(2, true, true, false).sml);
        clash.net_info = entry(1, true, true, false).sml.net_info.clone();
        assert!(!set.add(&Arc::new(ListEntry::new(clash))));
        assert_eq!(set.len(), 1);
    }
}
