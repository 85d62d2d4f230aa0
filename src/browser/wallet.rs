//! What a wallet asks, for the JavaScript API: InstantSend locks,
//! transaction proofs and Platform quorum keys, as plain serialisable results.

use super::error::ClientError;
use super::status::{ClientNode, HeaderInfo};
use crate::hash::{BlockHash, Txid};
use crate::llmq::LlmqType;
use crate::mnlist::{InstantLockCheck, InstantLockFailure, KeyUnavailable};
use crate::platform::{platform_quorums, quorum_public_key, PlatformQuorums};
use crate::proof::TransactionProof;
use crate::protocol::isdlock::InstantLock;
use serde::Serialize;

/// The result of checking an InstantSend lock (the `instantlock` event and
/// `verifyInstantLock`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstantLockResult {
    /// Whether the signature verified against the selected quorum.
    verified: bool,
    /// The locked transaction.
    txid: String,
    /// The locked outpoints, `txid:vout`.
    outpoints: Vec<String>,
    /// The InstantSend LLMQ type.
    llmq_type: u8,
    /// The quorum the signature was checked against, if any.
    quorum_hash: Option<String>,
    /// Whether that quorum's commitment was verified too.
    quorum_verified: bool,
    /// The height of the lock's cycle block, if on the header chain.
    cycle_height: Option<u32>,
    /// The quorum index the request id selects.
    quorum_index: u32,
    /// The request id (display order).
    request_id: String,
    /// Whether the lock is provably wrong (not merely unverifiable yet).
    invalid: bool,
    /// `quorum_unknown` or `verification_failed`, when not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    /// Why it did not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl InstantLockResult {
    /// The result of a check.
    pub fn from_check(check: &InstantLockCheck) -> InstantLockResult {
        InstantLockResult {
            verified: check.signature_valid(),
            txid: check.txid.to_string(),
            outpoints: check
                .outpoints
                .iter()
                .map(|o| format!("{}:{}", o.txid, o.vout))
                .collect(),
            llmq_type: check.llmq_type.0,
            quorum_hash: check.quorum_hash.map(|h| h.to_string()),
            quorum_verified: check.fully_verified(),
            cycle_height: check.cycle_height,
            quorum_index: check.quorum_index,
            request_id: check.request_id.to_string(),
            invalid: check.provably_invalid(),
            code: check.result.as_ref().err().map(|e| match e {
                InstantLockFailure::UnknownCycle { .. }
                | InstantLockFailure::QuorumUnavailable { .. } => "quorum_unknown",
                _ => "verification_failed",
            }),
            reason: check.result.as_ref().err().map(|e| e.to_string()),
        }
    }
}

/// Checks an InstantSend lock against the node's lists and headers.
pub fn verify_instant_lock(node: &ClientNode, lock: &InstantLock) -> InstantLockResult {
    let sync = node.sync();
    let check = sync
        .engine()
        .inner()
        .verify_instant_lock(lock, sync.chain());
    InstantLockResult::from_check(&check)
}

/// A quorum's verified public key, or why there is none.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuorumKeyResult {
    /// The LLMQ type asked for.
    llmq_type: u8,
    /// The quorum hash asked for.
    quorum_hash: String,
    /// The key (hex), only if dashlight verified the quorum's commitment.
    key: Option<String>,
    /// `quorum_unknown` or `not_verified`, when there is no key.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    /// Why there is no key.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The verified public key of a quorum.
pub fn quorum_key(node: &ClientNode, llmq_type: u8, quorum_hash: BlockHash) -> QuorumKeyResult {
    let result = quorum_public_key(
        node.sync().engine().inner(),
        LlmqType(llmq_type),
        &quorum_hash,
    );
    let (key, code, reason) = match result {
        Ok(key) => (Some(hex::encode(key)), None, None),
        Err(e) => {
            let code = match e {
                KeyUnavailable::Unknown => "quorum_unknown",
                _ => "not_verified",
            };
            (None, Some(code), Some(e.to_string()))
        }
    };
    QuorumKeyResult {
        llmq_type,
        quorum_hash: quorum_hash.to_string(),
        key,
        code,
        reason,
    }
}

/// The verified Platform quorums, current and previous.
pub fn platform(node: &ClientNode) -> Option<PlatformQuorums> {
    platform_quorums(node.sync().engine().inner())
}

/// Where a proven transaction stands (`verifyTransactionProof`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofResult {
    /// Always true (a proof that fails is an error).
    included: bool,
    /// The transaction.
    txid: String,
    /// The block.
    block_hash: String,
    /// The block's height.
    height: u32,
    /// The transaction's position in the block.
    position: u32,
    /// Blocks from the block to the tip, both counted.
    confirmations: u32,
    /// Whether a verified ChainLock locks the block.
    chain_locked: bool,
}

/// Checks a proof against a header of the verified chain.
pub fn check_proof(
    proof: &TransactionProof,
    txid: &Txid,
    header: &HeaderInfo,
) -> Result<ProofResult, ClientError> {
    let position = proof
        .verify(txid, header.block_header())
        .map_err(|e| ClientError {
            code: "verification_failed",
            message: format!("transaction proof: {e}"),
        })?;
    Ok(ProofResult {
        included: true,
        txid: txid.to_string(),
        block_hash: header.block_header().block_hash().to_string(),
        height: header.height(),
        position,
        confirmations: header.confirmations(),
        chain_locked: header.chain_locked(),
    })
}

/// InstantSend locks from peers whose quorum is not known yet, held (at most
/// [`PendingLocks::CAPACITY`], the oldest dropped first) and checked again
/// whenever the masternode lists change.
#[derive(Debug, Default)]
pub struct PendingLocks {
    locks: std::collections::VecDeque<InstantLock>,
    /// Hashes of the locks already reported as decided (verified or invalid).
    decided: std::collections::VecDeque<crate::hash::Sha256dHash>,
    engine_revision: u64,
}

impl PendingLocks {
    /// The most locks held.
    pub const CAPACITY: usize = 32;

    /// Checks a lock a peer sent: the result to report, and the lock is held
    /// if its quorum is not known yet. A lock already decided or held is not
    /// reported again.
    pub fn receive(&mut self, node: &ClientNode, lock: InstantLock) -> Option<InstantLockResult> {
        let hash = lock.hash();
        if self.decided.contains(&hash) || self.locks.iter().any(|l| l.hash() == hash) {
            return None;
        }
        let result = verify_instant_lock(node, &lock);
        if result.code == Some("quorum_unknown") {
            if self.locks.len() == Self::CAPACITY {
                self.locks.pop_front();
            }
            self.locks.push_back(lock);
        } else {
            self.decide(hash);
        }
        Some(result)
    }

    /// Checks the held locks again if the lists changed; returns the results
    /// of those now decided.
    pub fn recheck(&mut self, node: &ClientNode) -> Vec<InstantLockResult> {
        let revision = node.sync().engine().inner().revision();
        if revision == self.engine_revision || self.locks.is_empty() {
            self.engine_revision = revision;
            return Vec::new();
        }
        self.engine_revision = revision;
        let mut decided = Vec::new();
        let held = std::mem::take(&mut self.locks);
        for lock in held {
            let result = verify_instant_lock(node, &lock);
            if result.code == Some("quorum_unknown") {
                self.locks.push_back(lock);
            } else {
                self.decide(lock.hash());
                decided.push(result);
            }
        }
        decided
    }

    fn decide(&mut self, hash: crate::hash::Sha256dHash) {
        if self.decided.len() == 4 * Self::CAPACITY {
            self.decided.pop_front();
        }
        self.decided.push_back(hash);
    }
}
