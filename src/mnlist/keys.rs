//! Where a quorum's public key may come from: only from a commitment that a
//! stored list holds (each list's quorums are proven by its coinbase's
//! `merkleRootQuorums`, itself proven against the header chain), or from a
//! loose commitment (a QRInfo's `lastCommitmentPerIndex`) whose BLS
//! signatures verified. A loose copy that was not verified never supplies a key.

use super::engine::MasternodeEngine;
use super::list::QuorumEntry;
use super::status::QuorumStatus;
use crate::hash::BlockHash;
use crate::llmq::LlmqType;
use core::fmt;
use std::sync::Arc;

/// Which commitment a quorum's key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A stored list holds the commitment (proven by its `merkleRootQuorums`).
    List {
        /// The newest list that holds it.
        height: u32,
    },
    /// A QRInfo's `lastCommitmentPerIndex` copy whose signatures verified.
    VerifiedLoose,
}

/// A quorum commitment whose key may be used, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenQuorum {
    /// The commitment.
    pub entry: Arc<QuorumEntry>,
    /// Where it came from.
    pub source: KeySource,
    /// The commitment's own verification status, if the engine tracks the quorum.
    pub status: Option<QuorumStatus>,
}

/// Why no key of a quorum can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUnavailable {
    /// No stored list or loose commitment has this quorum.
    Unknown,
    /// Only a QRInfo's loose copy has it, and its signatures were not verified.
    LooseNotVerified(Option<QuorumStatus>),
    /// The commitment is held, but its BLS signatures were not verified (for
    /// callers that ask for a verified quorum).
    NotVerified(Option<QuorumStatus>),
}

impl fmt::Display for KeyUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = |s: &Option<QuorumStatus>| {
            s.as_ref()
                .map_or_else(|| "not tracked".to_owned(), |s| s.to_string())
        };
        match self {
            KeyUnavailable::Unknown => f.write_str("quorum unknown: no list holds it"),
            KeyUnavailable::LooseNotVerified(s) => write!(
                f,
                "only an unproven QRInfo copy of the commitment is held ({})",
                status(s)
            ),
            KeyUnavailable::NotVerified(s) => {
                write!(f, "commitment not verified ({})", status(s))
            }
        }
    }
}

impl std::error::Error for KeyUnavailable {}

impl MasternodeEngine {
    /// The commitment whose key may sign for this quorum: the copy of the
    /// newest stored list that holds it, else a loose copy whose signatures
    /// verified.
    pub fn proven_quorum(
        &self,
        llmq_type: LlmqType,
        quorum_hash: &BlockHash,
    ) -> Result<ProvenQuorum, KeyUnavailable> {
        let key = (llmq_type, *quorum_hash);
        let status = self
            .quorum_record(llmq_type, quorum_hash)
            .map(|r| r.status.clone());
        let from_list = self
            .list_heights()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter_map(|h| self.list_at(h))
            .find_map(|l| l.quorum(llmq_type, quorum_hash).map(|q| (l.height, q)));
        if let Some((height, entry)) = from_list {
            return Ok(ProvenQuorum {
                entry: Arc::clone(entry),
                source: KeySource::List { height },
                status,
            });
        }
        match self.loose_commitment(&key) {
            Some(entry) if status.as_ref().is_some_and(QuorumStatus::is_verified) => {
                Ok(ProvenQuorum {
                    entry: Arc::clone(entry),
                    source: KeySource::VerifiedLoose,
                    status,
                })
            }
            Some(_) => Err(KeyUnavailable::LooseNotVerified(status)),
            None => Err(KeyUnavailable::Unknown),
        }
    }

    /// Like [`MasternodeEngine::proven_quorum`], but only for a quorum whose
    /// commitment's BLS signatures dashlight verified itself.
    pub fn verified_quorum(
        &self,
        llmq_type: LlmqType,
        quorum_hash: &BlockHash,
    ) -> Result<ProvenQuorum, KeyUnavailable> {
        let quorum = self.proven_quorum(llmq_type, quorum_hash)?;
        if quorum
            .status
            .as_ref()
            .is_some_and(QuorumStatus::is_verified)
        {
            Ok(quorum)
        } else {
            Err(KeyUnavailable::NotVerified(quorum.status))
        }
    }
}
