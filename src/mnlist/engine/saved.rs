//! The engine's state as one self-checking byte record, so that masternode
//! lists and verified quorums survive a reload without being downloaded and
//! verified again.
//!
//! # What is saved
//! Everything the engine learnt from the network and needs later: the lists,
//! the DIP-24 quorum snapshots, the coinbase ChainLock signatures (post-v20
//! quorum modifiers), the commitments a QRInfo sent outside its lists, which
//! quorums verified (and with which list), and the height of the last QRInfo
//! applied. Caches (decoded keys, rotation members, nearby lists tried) are
//! rebuilt on demand.
//!
//! # Layout (version [`STATE_VERSION`])
//! `u32 version || network magic || option<u32> last QRInfo height ||
//! entry table || commitment table || lists || snapshots || coinbase
//! ChainLocks || loose commitments || verified quorums || sha256d of all that`.
//! The lists share most entries, so every distinct SML entry and commitment
//! is written once in a table, and each list (oldest first) is written as the
//! table indices it removes from and adds to the list before it. The record's
//! size is bounded by the lists the engine keeps (see
//! [`MasternodeEngine::prune`]): about one full list plus what changed.
//!
//! # Loading
//! A record of another version or network, with a wrong checksum, or that does
//! not decode is a [`StateError`], and the engine is left as it was (the
//! caller keeps a fresh engine). A list whose block is not on the given header
//! chain is dropped, with the verified status of the quorums only it had: the
//! restored state is always consistent with the restored headers. The stored
//! verified statuses are trusted (the record is our own, checksummed); every
//! other quorum is tried again with the lists loaded.

use super::MasternodeEngine;
use crate::chain::HeaderLookup;
use crate::encode::{write_compact_size, Decodable, DecodeError, Encodable, Reader};
use crate::hash::{sha256d, BlockHash, ProTxHash};
use crate::llmq::LlmqType;
use crate::mnlist::list::{ListEntry, MasternodeList, QuorumEntry, QuorumKey};
use crate::mnlist::status::QuorumStatus;
use crate::network::Network;
use crate::protocol::commitment::QuorumCommitment;
use crate::protocol::sml_entry::SmlEntry;
use crate::protocol::snapshot::QuorumSnapshot;
use crate::protocol::version::PROTOCOL_VERSION;
use core::fmt;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The state record version this code writes and reads.
pub const STATE_VERSION: u32 = 1;

/// Bytes of the trailing checksum.
const CHECKSUM_SIZE: usize = 32;

/// Why a saved engine state cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// The record was written by another version of the format.
    UnsupportedVersion {
        /// The version found.
        found: u32,
        /// The version this code reads.
        supported: u32,
    },
    /// The record is for another network.
    WrongNetwork {
        /// The network magic stored.
        stored: [u8; 4],
        /// The network asked for.
        expected: Network,
    },
    /// The checksum does not match: the record was damaged.
    Checksum,
    /// The record does not decode.
    Decode(DecodeError),
    /// The record decodes but contradicts itself.
    Inconsistent {
        /// What is wrong.
        what: String,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedVersion { found, supported } => write!(
                f,
                "saved masternode state version {found} is not readable (this code reads {supported})"
            ),
            Self::WrongNetwork { stored, expected } => write!(
                f,
                "saved masternode state is for network magic {}, not {expected}",
                hex::encode(stored)
            ),
            Self::Checksum => f.write_str("saved masternode state fails its checksum"),
            Self::Decode(e) => write!(f, "saved masternode state does not decode: {e}"),
            Self::Inconsistent { what } => write!(f, "saved masternode state is inconsistent: {what}"),
        }
    }
}

impl std::error::Error for StateError {}

impl From<DecodeError> for StateError {
    fn from(e: DecodeError) -> Self {
        StateError::Decode(e)
    }
}

fn inconsistent(what: String) -> StateError {
    StateError::Inconsistent { what }
}

/// What loading a saved state kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Heights of the lists loaded.
    pub lists: Vec<u32>,
    /// Heights of the lists dropped because their block is not on the header chain.
    pub dropped_lists: Vec<u32>,
    /// Quorums verified after loading.
    pub quorums_verified: usize,
}

/// Assigns each distinct item an index, in first-seen order.
struct Table<K> {
    index: HashMap<K, u32>,
}

impl<K: core::hash::Hash + Eq> Table<K> {
    fn new() -> Self {
        Table {
            index: HashMap::new(),
        }
    }

    /// The item's index, and whether it is new.
    fn insert(&mut self, key: K) -> (u32, bool) {
        let next = u32::try_from(self.index.len()).unwrap_or(u32::MAX);
        match self.index.get(&key) {
            Some(&i) => (i, false),
            None => {
                self.index.insert(key, next);
                (next, true)
            }
        }
    }
}

fn write_indices(out: &mut Vec<u8>, indices: impl ExactSizeIterator<Item = u32>) {
    write_compact_size(out, indices.len() as u64);
    for i in indices {
        write_compact_size(out, u64::from(i));
    }
}

/// Writes `current` as the indices removed from and added to `previous`.
fn write_delta(out: &mut Vec<u8>, previous: &BTreeSet<u32>, current: &BTreeSet<u32>) {
    let removed: Vec<u32> = previous.difference(current).copied().collect();
    let added: Vec<u32> = current.difference(previous).copied().collect();
    write_indices(out, removed.into_iter());
    write_indices(out, added.into_iter());
}

impl MasternodeEngine {
    /// The engine's state as one self-checking record: lists (entries and
    /// commitments written once each), snapshots, coinbase ChainLocks, loose
    /// commitments, verified quorums and the last QRInfo height.
    pub fn save_state(&self) -> Vec<u8> {
        let mut out = Vec::new();
        STATE_VERSION.encode(&mut out);
        out.extend_from_slice(&self.rules().network.magic());
        match self.last_qrinfo_height {
            Some(height) => {
                out.push(1);
                height.encode(&mut out);
            }
            None => out.push(0),
        }

        let mut entry_table = Table::new();
        let mut entry_bytes = Vec::new();
        let mut entry_count = 0u64;
        let mut commitment_table = Table::new();
        let mut commitment_bytes = Vec::new();
        let mut commitment_count = 0u64;
        let mut commitment_index = |entry: &QuorumEntry, bytes: &mut Vec<u8>, count: &mut u64| {
            let (i, new) = commitment_table.insert(entry.hash);
            if new {
                entry.commitment.encode(bytes);
                *count += 1;
            }
            i
        };
        let mut lists = Vec::new();
        write_compact_size(&mut lists, self.lists.len() as u64);
        let (mut previous_entries, mut previous_quorums) = (BTreeSet::new(), BTreeSet::new());
        for list in self.lists.values() {
            let mut entries = BTreeSet::new();
            for entry in list.entries() {
                let (i, new) = entry_table.insert(&entry.sml);
                if new {
                    entry.sml.encode(&mut entry_bytes, PROTOCOL_VERSION);
                    entry_count += 1;
                }
                entries.insert(i);
            }
            let mut quorums = BTreeSet::new();
            for quorum in list.quorums() {
                quorums.insert(commitment_index(
                    quorum,
                    &mut commitment_bytes,
                    &mut commitment_count,
                ));
            }
            list.height.encode(&mut lists);
            list.block_hash.encode(&mut lists);
            write_delta(&mut lists, &previous_entries, &entries);
            write_delta(&mut lists, &previous_quorums, &quorums);
            previous_entries = entries;
            previous_quorums = quorums;
        }
        let mut loose_keys: Vec<&QuorumKey> = self.loose_commitments.keys().collect();
        loose_keys.sort_unstable();
        let loose: Vec<u32> = loose_keys
            .into_iter()
            .filter_map(|key| self.loose_commitments.get(key))
            .map(|q| commitment_index(q, &mut commitment_bytes, &mut commitment_count))
            .collect();

        write_compact_size(&mut out, entry_count);
        out.extend_from_slice(&entry_bytes);
        write_compact_size(&mut out, commitment_count);
        out.extend_from_slice(&commitment_bytes);
        out.extend_from_slice(&lists);
        write_compact_size(&mut out, self.snapshots.len() as u64);
        for (height, snapshot) in &self.snapshots {
            height.encode(&mut out);
            snapshot.encode(&mut out);
        }
        // By height (heights are unique keys: the unstable sort, the package's only one,
        // gives the one order).
        let mut chainlocks: Vec<(&u32, &Option<[u8; 96]>)> =
            self.coinbase_chainlocks.iter().collect();
        chainlocks.sort_unstable_by_key(|(height, _)| **height);
        write_compact_size(&mut out, chainlocks.len() as u64);
        for (height, signature) in chainlocks {
            height.encode(&mut out);
            match signature {
                Some(signature) => {
                    out.push(1);
                    out.extend_from_slice(signature);
                }
                None => out.push(0),
            }
        }
        write_indices(&mut out, loose.into_iter());
        let verified: Vec<(QuorumKey, u32)> = self
            .quorums
            .values()
            .filter_map(|r| match r.status {
                QuorumStatus::Verified {
                    members_list_height,
                } => Some(((r.llmq_type, r.quorum_hash), members_list_height)),
                _ => None,
            })
            .collect();
        write_compact_size(&mut out, verified.len() as u64);
        for ((llmq_type, quorum_hash), members_list_height) in verified {
            out.push(llmq_type.0);
            quorum_hash.encode(&mut out);
            members_list_height.encode(&mut out);
        }
        let checksum = sha256d(&out);
        out.extend_from_slice(&checksum);
        out
    }

    /// Replaces the engine's state with a saved one, keeping only the lists
    /// whose block is on `headers`, and tries the quorums not saved as
    /// verified again. On error the engine is unchanged.
    pub fn load_state(
        &mut self,
        record: &[u8],
        headers: &impl HeaderLookup,
    ) -> Result<LoadReport, StateError> {
        let decoded = decode(record, self.rules().network)?;
        let mut report = LoadReport::default();
        let mut lists = BTreeMap::new();
        for list in decoded.lists {
            if headers.hash_at(list.height) == Some(list.block_hash) {
                report.lists.push(list.height);
                lists.insert(list.height, Arc::new(list));
            } else {
                report.dropped_lists.push(list.height);
            }
        }
        let mut engine = MasternodeEngine::new(self.rules.network);
        engine.max_lists = self.max_lists;
        engine.require_block_proofs = self.require_block_proofs;
        engine.clock = self.clock.take();
        engine.last_qrinfo_height = decoded
            .last_qrinfo_height
            .filter(|&height| headers.hash_at(height).is_some());
        engine.snapshots = decoded.snapshots;
        engine.coinbase_chainlocks = decoded.coinbase_chainlocks;
        for entry in &decoded.loose_commitments {
            engine.track_quorum(entry, headers);
        }
        engine.loose_commitments = decoded
            .loose_commitments
            .into_iter()
            .map(|entry| ((entry.llmq_type(), entry.quorum_hash()), entry))
            .collect();
        for list in lists.values() {
            for quorum in list.quorums.values() {
                engine.track_quorum(quorum, headers);
            }
        }
        engine.lists = lists;
        for (key, members_list_height) in decoded.verified {
            let on_chain = headers.height_of(&key.1);
            if let Some(record) = engine.quorums.get_mut(&key).filter(|_| on_chain.is_some()) {
                record.height = on_chain;
                record.status = QuorumStatus::Verified {
                    members_list_height,
                };
            }
        }
        engine.revision = self.revision.wrapping_add(1);
        *self = engine;
        self.verify_quorums(headers);
        report.quorums_verified = self
            .quorum_records()
            .filter(|r| r.status.is_verified())
            .count();
        Ok(report)
    }
}

/// A decoded record, before it is checked against the header chain.
struct Decoded {
    last_qrinfo_height: Option<u32>,
    lists: Vec<MasternodeList>,
    snapshots: BTreeMap<u32, QuorumSnapshot>,
    coinbase_chainlocks: HashMap<u32, Option<[u8; 96]>>,
    loose_commitments: Vec<Arc<QuorumEntry>>,
    verified: Vec<(QuorumKey, u32)>,
}

fn decode(record: &[u8], network: Network) -> Result<Decoded, StateError> {
    let mut r = Reader::new(record);
    let version = r.read_u32()?;
    if version != STATE_VERSION {
        return Err(StateError::UnsupportedVersion {
            found: version,
            supported: STATE_VERSION,
        });
    }
    let magic: [u8; 4] = r.read_array()?;
    if magic != network.magic() {
        return Err(StateError::WrongNetwork {
            stored: magic,
            expected: network,
        });
    }
    let body_len = record
        .len()
        .checked_sub(CHECKSUM_SIZE)
        .ok_or(DecodeError::UnexpectedEnd {
            needed: CHECKSUM_SIZE,
            remaining: record.len(),
        })?;
    let (body, checksum) = record.split_at(body_len);
    if sha256d(body) != checksum {
        return Err(StateError::Checksum);
    }
    let mut r = Reader::new(body);
    r.read_bytes(8)?;
    let last_qrinfo_height = match r.read_bool("last QRInfo flag")? {
        true => Some(r.read_u32()?),
        false => None,
    };
    let entries: Vec<Arc<ListEntry>> =
        r.read_vec_with("saved SML entries", SmlEntry::MIN_ENCODED_SIZE, |r| {
            SmlEntry::decode(r, PROTOCOL_VERSION).map(|sml| Arc::new(ListEntry::new(sml)))
        })?;
    let commitments: Vec<Arc<QuorumEntry>> = r
        .read_vec::<QuorumCommitment>("saved commitments")?
        .into_iter()
        .map(|c| Arc::new(QuorumEntry::new(c)))
        .collect();
    let lists = decode_lists(&mut r, &entries, &commitments)?;
    let snapshot_count = r.read_count("saved snapshots", 4 + QuorumSnapshot::MIN_ENCODED_SIZE)?;
    let mut snapshots = BTreeMap::new();
    for _ in 0..snapshot_count {
        let height = r.read_u32()?;
        snapshots.insert(height, QuorumSnapshot::decode(&mut r)?);
    }
    let chainlock_count = r.read_count("saved coinbase ChainLocks", 5)?;
    let mut coinbase_chainlocks = HashMap::with_capacity(chainlock_count);
    for _ in 0..chainlock_count {
        let height = r.read_u32()?;
        let signature = match r.read_bool("coinbase ChainLock flag")? {
            true => Some(r.read_array()?),
            false => None,
        };
        coinbase_chainlocks.insert(height, signature);
    }
    let loose_commitments = read_indices(&mut r, "saved loose commitments")?
        .into_iter()
        .map(|i| item(&commitments, i, "commitment"))
        .collect::<Result<Vec<_>, _>>()?;
    let verified_count = r.read_count("saved verified quorums", 1 + 32 + 4)?;
    let mut verified = Vec::with_capacity(verified_count);
    for _ in 0..verified_count {
        let llmq_type = LlmqType(r.read_u8()?);
        let quorum_hash = BlockHash::decode(&mut r)?;
        verified.push(((llmq_type, quorum_hash), r.read_u32()?));
    }
    r.finish()?;
    Ok(Decoded {
        last_qrinfo_height,
        lists,
        snapshots,
        coinbase_chainlocks,
        loose_commitments,
        verified,
    })
}

fn read_indices(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u32>, StateError> {
    let count = r.read_count(field, 1)?;
    let mut indices = Vec::with_capacity(count);
    for _ in 0..count {
        let index = r.read_compact_size()?;
        indices.push(u32::try_from(index).map_err(|_| DecodeError::InvalidValue {
            field,
            value: index,
        })?);
    }
    Ok(indices)
}

fn item<T>(table: &[Arc<T>], index: u32, what: &str) -> Result<Arc<T>, StateError> {
    table
        .get(index as usize)
        .cloned()
        .ok_or_else(|| inconsistent(format!("{what} {index} is not in the table")))
}

fn decode_lists(
    r: &mut Reader<'_>,
    entries: &[Arc<ListEntry>],
    commitments: &[Arc<QuorumEntry>],
) -> Result<Vec<MasternodeList>, StateError> {
    let count = r.read_count("saved lists", 4 + 32 + 4)?;
    let mut lists: Vec<MasternodeList> = Vec::with_capacity(count);
    let mut current_entries: BTreeMap<ProTxHash, Arc<ListEntry>> = BTreeMap::new();
    let mut current_quorums: BTreeMap<QuorumKey, Arc<QuorumEntry>> = BTreeMap::new();
    for _ in 0..count {
        let height = r.read_u32()?;
        let block_hash = BlockHash::decode(r)?;
        if lists.last().is_some_and(|l| l.height >= height) {
            return Err(inconsistent(format!("list {height} out of order")));
        }
        for i in read_indices(r, "removed entries")? {
            let entry = item(entries, i, "entry")?;
            match current_entries.remove(&entry.pro_tx_hash()) {
                Some(removed) if Arc::ptr_eq(&removed, &entry) => {}
                _ => {
                    return Err(inconsistent(format!(
                        "list {height} removes an absent entry"
                    )))
                }
            }
        }
        for i in read_indices(r, "added entries")? {
            let entry = item(entries, i, "entry")?;
            if current_entries.insert(entry.pro_tx_hash(), entry).is_some() {
                return Err(inconsistent(format!("list {height} adds an entry twice")));
            }
        }
        for i in read_indices(r, "removed quorums")? {
            let quorum = item(commitments, i, "commitment")?;
            match current_quorums.remove(&(quorum.llmq_type(), quorum.quorum_hash())) {
                Some(removed) if Arc::ptr_eq(&removed, &quorum) => {}
                _ => {
                    return Err(inconsistent(format!(
                        "list {height} removes an absent quorum"
                    )))
                }
            }
        }
        for i in read_indices(r, "added quorums")? {
            let quorum = item(commitments, i, "commitment")?;
            let key = (quorum.llmq_type(), quorum.quorum_hash());
            if current_quorums.insert(key, quorum).is_some() {
                return Err(inconsistent(format!("list {height} adds a quorum twice")));
            }
        }
        let mut list = MasternodeList::empty(block_hash, height);
        list.entries = current_entries.clone();
        list.quorums = current_quorums.clone();
        lists.push(list);
    }
    Ok(lists)
}
