//! Applying an `mnlistdiff` to its base list, building a new list.

use super::list::{ListEntry, MasternodeList, QuorumEntry};
use crate::hash::{BlockHash, ProTxHash};
use crate::llmq::LlmqType;
use crate::protocol::mnlistdiff::MnListDiff;
use crate::protocol::sml_entry::SmlEntry;
use core::fmt;
use std::sync::Arc;

/// Why a diff does not fit its base list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// The diff deletes a masternode the base list does not have.
    UnknownDeletedMasternode(ProTxHash),
    /// The diff deletes a quorum the base list does not have.
    UnknownDeletedQuorum {
        /// Its type.
        llmq_type: LlmqType,
        /// Its base block hash.
        quorum_hash: BlockHash,
    },
    /// The diff lists one masternode twice.
    DuplicateMasternode(ProTxHash),
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::UnknownDeletedMasternode(p) => {
                write!(
                    f,
                    "deletes masternode {p}, which the base list does not have"
                )
            }
            ApplyError::UnknownDeletedQuorum {
                llmq_type,
                quorum_hash,
            } => write!(
                f,
                "deletes quorum {llmq_type} {quorum_hash}, which the base list does not have"
            ),
            ApplyError::DuplicateMasternode(p) => write!(f, "lists masternode {p} twice"),
        }
    }
}

impl std::error::Error for ApplyError {}

/// The list `diff` produces from `base`, at `height`. `base` is left untouched. A new or
/// changed entry that `known` already holds, identical, is shared rather than hashed again
/// (the lists of a QRInfo repeat most entries, each list in full when its diff is based on
/// genesis).
pub fn apply_diff(
    base: &MasternodeList,
    diff: &MnListDiff,
    height: u32,
    known: impl Fn(&SmlEntry) -> Option<Arc<ListEntry>>,
) -> Result<MasternodeList, ApplyError> {
    let mut list = MasternodeList {
        block_hash: diff.block_hash,
        height,
        entries: base.entries.clone(),
        quorums: base.quorums.clone(),
    };
    for pro_tx_hash in &diff.deleted_masternodes {
        if list.entries.remove(pro_tx_hash).is_none() {
            return Err(ApplyError::UnknownDeletedMasternode(*pro_tx_hash));
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(diff.new_masternodes.len());
    for entry in &diff.new_masternodes {
        if !seen.insert(entry.pro_reg_tx_hash) {
            return Err(ApplyError::DuplicateMasternode(entry.pro_reg_tx_hash));
        }
        let shared = known(entry).unwrap_or_else(|| Arc::new(ListEntry::new(entry.clone())));
        list.entries.insert(entry.pro_reg_tx_hash, shared);
    }
    for deleted in &diff.deleted_quorums {
        let key = (LlmqType(deleted.llmq_type), deleted.quorum_hash);
        if list.quorums.remove(&key).is_none() {
            return Err(ApplyError::UnknownDeletedQuorum {
                llmq_type: key.0,
                quorum_hash: key.1,
            });
        }
    }
    for commitment in &diff.new_quorums {
        let key = (LlmqType(commitment.llmq_type), commitment.quorum_hash);
        list.quorums
            .insert(key, Arc::new(QuorumEntry::new(commitment.clone())));
    }
    Ok(list)
}
