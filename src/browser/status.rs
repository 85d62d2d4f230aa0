//! Plain objects the JavaScript API returns (the shapes of `js/index.d.ts`).

use super::shared::Shared;
use crate::block::BlockHeader;
use crate::chain::HeaderChain;
use crate::hash::BlockHash;
use crate::mnlist::{ChainLockCheck, MasternodeEngine, QuorumStatus};
use crate::network::Network;
use crate::node::engine::ClientEngine;
use crate::node::Node;
use crate::protocol::sml_entry::MasternodeType;
use crate::sync::engine::{ChainLockSigner, ChainLockTarget};
use crate::sync::progress::Progress;
use crate::sync::state::SyncState;
use serde::Serialize;

/// The node the browser client runs.
pub type ClientNode = Node<HeaderChain, ClientEngine>;

/// The name of a state, as JavaScript sees it.
pub fn state_name(state: &SyncState) -> &'static str {
    match state {
        SyncState::WaitingForConnections => "WaitingForConnections",
        SyncState::WaitForEvents => "WaitForEvents",
        SyncState::Syncing => "Syncing",
        SyncState::Synced => "Synced",
        SyncState::Error(_) => "Error",
    }
}

/// The cause of an `Error` state, if it is one.
pub fn state_cause(state: &SyncState) -> Option<String> {
    match state {
        SyncState::Error(cause) => Some(cause.to_string()),
        _ => None,
    }
}

/// One manager's progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagerStatus {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    current_height: u32,
    target_height: u32,
    percent: f64,
}

impl ManagerStatus {
    fn new(progress: &Progress, base_height: u32) -> ManagerStatus {
        let span = progress.target_height.saturating_sub(base_height);
        let done = progress.current_height.saturating_sub(base_height);
        let percent = match (span, &progress.state) {
            (_, SyncState::Synced) => 100.0,
            (0, _) => 0.0,
            _ => (f64::from(done) * 100.0 / f64::from(span)).min(100.0),
        };
        ManagerStatus {
            state: state_name(&progress.state),
            error: state_cause(&progress.state)
                .or_else(|| progress.last_error.as_ref().map(|e| e.to_string())),
            current_height: progress.current_height,
            target_height: progress.target_height,
            percent,
        }
    }
}

/// Header sync progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderStatus {
    #[serde(flatten)]
    manager: ManagerStatus,
    /// Headers whose X11 hash a checking worker computed (long batches only).
    hashed_in_workers: u64,
}

/// Masternode sync progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MasternodeStatus {
    #[serde(flatten)]
    manager: ManagerStatus,
    diffs_processed: u32,
    qrinfos_requested: u32,
    quorums_verified: u32,
    /// Quorums tried that could not be verified (not counting those still queued).
    quorums_unverified: u32,
    /// Quorums queued for verification: the sync verifies them a slice at a time, after the
    /// ChainLock quorums of the newest list.
    quorums_pending: u32,
    /// Quorums whose signature check a checking worker answered.
    checked_in_workers: u32,
}

/// A ChainLock that verified.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedChainLock {
    height: i32,
    block_hash: String,
    llmq_type: u8,
    quorum_hash: String,
    quorum_verified: bool,
}

impl VerifiedChainLock {
    /// The height of the locked block.
    pub fn height(&self) -> i32 {
        self.height
    }

    /// Whether the signing quorum's commitment is verified too.
    pub fn quorum_verified(&self) -> bool {
        self.quorum_verified
    }

    /// The ChainLock the sync verified: its block and the quorum that signed it.
    pub fn from_sync(target: ChainLockTarget, signer: ChainLockSigner) -> VerifiedChainLock {
        VerifiedChainLock {
            height: i32::try_from(target.height).unwrap_or(i32::MAX),
            block_hash: target.hash.to_string(),
            llmq_type: signer.quorum.llmq_type,
            quorum_hash: signer.quorum.quorum_hash.to_string(),
            quorum_verified: signer.quorum_verified,
        }
    }

    /// The verified ChainLock a check describes, if it verified.
    pub fn from_check(check: &ChainLockCheck) -> Option<VerifiedChainLock> {
        let (llmq_type, quorum_hash) = check.quorum?;
        check.result.as_ref().ok()?;
        Some(VerifiedChainLock {
            height: check.height,
            block_hash: check.block_hash.to_string(),
            llmq_type: llmq_type.0,
            quorum_hash: quorum_hash.to_string(),
            quorum_verified: check
                .quorum_status
                .as_ref()
                .is_some_and(QuorumStatus::is_verified),
        })
    }
}

/// ChainLock progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainLockStatus {
    #[serde(flatten)]
    manager: ManagerStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_verified: Option<VerifiedChainLock>,
    /// Milliseconds from the first QRInfo's arrival to the first ChainLock verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_after_qr_info_ms: Option<u64>,
    /// The same, to the first ChainLock verified whose signing quorum is verified too.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_with_verified_quorum_after_qr_info_ms: Option<u64>,
    /// ChainLocks the sync verified (`chainlock` events).
    verified: u64,
    /// ChainLock signatures the engine checked, by the sync or by `verifyChainLock`: one per
    /// ChainLock checked, never a second one for the same ChainLock.
    signature_checks: u64,
}

/// An error for JavaScript.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorInfo {
    /// Stable code.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// Whether what the client verifies reaches storage (`status.storage`, the
/// `storage` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StorageStatus {
    /// The last save succeeded: everything verified is stored.
    Ok {
        /// The stored header tip's height.
        stored_height: u32,
    },
    /// The last save failed (e.g. over quota); saving is retried after each
    /// change and catches up once storage works again.
    Failing {
        /// The stored header tip's height (behind the chain's).
        stored_height: u32,
        /// Headers of failed saves held in memory until then.
        unsaved_headers: usize,
        /// Saves failed in a row.
        failed_saves: u32,
        /// Why the last one failed.
        error: String,
    },
}

/// The whole client's status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    network: &'static str,
    state: &'static str,
    peers: usize,
    headers: HeaderStatus,
    masternodes: MasternodeStatus,
    chainlocks: ChainLockStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<ErrorInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persistent_storage: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage: Option<StorageStatus>,
    timer_wakeups: u64,
}

impl Status {
    /// The status of `node`.
    pub fn of(node: &ClientNode, network: Network, shared: &Shared) -> Status {
        let progress = node.progress();
        let base = node.sync().chain().base().height();
        let engine = node.sync().engine().inner();
        let verified = engine
            .quorum_records()
            .filter(|r| r.status.is_verified())
            .count() as u32;
        let unverified = engine
            .quorum_records()
            .filter(|r| !r.status.is_verified())
            .count() as u32;
        let list_base = engine.list_heights().next().unwrap_or(base);
        Status {
            network: network.name(),
            state: state_name(&progress.state),
            peers: node.peers().ready_count(),
            headers: HeaderStatus {
                manager: ManagerStatus::new(&progress.headers, base),
                hashed_in_workers: node.headers_hashed_in_workers(),
            },
            masternodes: MasternodeStatus {
                manager: ManagerStatus::new(
                    &progress.masternodes,
                    list_base.min(progress.masternodes.target_height),
                ),
                diffs_processed: progress.masternodes.diffs_processed,
                qrinfos_requested: progress.masternodes.qrinfos_requested,
                quorums_verified: verified,
                quorums_unverified: unverified.saturating_sub(progress.masternodes.pending_quorums),
                quorums_pending: progress.masternodes.pending_quorums,
                checked_in_workers: progress.masternodes.quorums_checked_in_workers,
            },
            chainlocks: ChainLockStatus {
                manager: ManagerStatus::new(&progress.chainlocks, 0),
                last_verified: shared.last_chainlock.clone(),
                first_after_qr_info_ms: shared.first_chainlock_after_qrinfo_ms,
                first_with_verified_quorum_after_qr_info_ms: shared
                    .first_verified_quorum_chainlock_after_qrinfo_ms,
                verified: shared.chainlocks_verified,
                signature_checks: engine.chainlock_signature_checks(),
            },
            last_error: shared.last_error.clone(),
            persistent_storage: shared.persistent,
            storage: shared.storage.clone(),
            timer_wakeups: shared.timer_wakeups,
        }
    }
}

/// A block header of the best chain and where it stands.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderInfo {
    height: u32,
    hash: String,
    version: i32,
    prev_hash: String,
    merkle_root: String,
    time: u32,
    bits: u32,
    nonce: u32,
    confirmations: u32,
    chain_locked: bool,
    raw: String,
    #[serde(skip)]
    header: BlockHeader,
}

impl HeaderInfo {
    /// `header`, whose hash is `hash`, at `height` of a best chain ending at
    /// `tip_height`, whose highest block locked by a verified ChainLock is at
    /// `locked_height` (if any).
    pub fn new(
        height: u32,
        hash: BlockHash,
        header: &BlockHeader,
        tip_height: u32,
        locked_height: Option<u32>,
    ) -> HeaderInfo {
        HeaderInfo {
            height,
            hash: hash.to_string(),
            version: header.version,
            prev_hash: header.prev_blockhash.to_string(),
            merkle_root: header.merkle_root.to_string(),
            time: header.time,
            bits: header.bits,
            nonce: header.nonce,
            confirmations: tip_height.saturating_sub(height).saturating_add(1),
            chain_locked: locked_height.is_some_and(|locked| height <= locked),
            raw: hex::encode(header.to_bytes()),
            header: *header,
        }
    }

    /// The header.
    pub fn block_header(&self) -> &BlockHeader {
        &self.header
    }

    /// Its height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Blocks from it to the tip, both counted.
    pub fn confirmations(&self) -> u32 {
        self.confirmations
    }

    /// Whether a verified ChainLock locks it.
    pub fn chain_locked(&self) -> bool {
        self.chain_locked
    }
}

/// A masternode list entry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MasternodeEntry {
    pro_reg_tx_hash: String,
    service: String,
    valid: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    operator_public_key: String,
}

/// The newest masternode list.
pub fn masternode_list(engine: &MasternodeEngine) -> Vec<MasternodeEntry> {
    let Some(list) = engine.latest_list() else {
        return Vec::new();
    };
    list.entries()
        .map(|entry| MasternodeEntry {
            pro_reg_tx_hash: entry.sml.pro_reg_tx_hash.to_string(),
            service: entry.sml.service().socket_addr().to_string(),
            valid: entry.sml.is_valid,
            kind: match entry.sml.mn_type {
                MasternodeType::Regular => "Regular",
                MasternodeType::Evo { .. } => "Evo",
            },
            operator_public_key: hex::encode(entry.sml.operator_public_key),
        })
        .collect()
}

/// An active quorum.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuorumInfo {
    llmq_type: u8,
    llmq_name: String,
    quorum_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    unverified_reason: Option<String>,
}

/// The quorums of the newest list, with what the engine knows of each.
pub fn quorums(engine: &MasternodeEngine) -> Vec<QuorumInfo> {
    let Some(list) = engine.latest_list() else {
        return Vec::new();
    };
    list.quorums()
        .map(|quorum| {
            let record = engine.quorum_record(quorum.llmq_type(), &quorum.quorum_hash());
            let status = record.map(|r| &r.status);
            QuorumInfo {
                llmq_type: quorum.llmq_type().0,
                llmq_name: quorum.llmq_type().name(),
                quorum_hash: quorum.quorum_hash().to_string(),
                height: record.and_then(|r| r.height),
                verified: status.is_some_and(QuorumStatus::is_verified),
                unverified_reason: match status {
                    Some(s) if !s.is_verified() => Some(s.to_string()),
                    None => Some("not checked".to_owned()),
                    _ => None,
                },
            }
        })
        .collect()
}
