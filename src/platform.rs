//! Verified quorum keys for Dash Platform, in the shapes the Platform SDK's
//! trusted context provider reads (`rs-sdk-trusted-context-provider`:
//! `GET /quorums` → `{ success, data: [quorum] }`, `GET /previous` →
//! `{ success, data: { height, quorums: [quorum] } }`, each quorum
//! `{ quorum_hash, key, height, members, threshold_signature,
//! mining_members_count, valid_members_count }`), so a wallet can hand the
//! SDK keys dashlight verified instead of keys a server asserts.
//!
//! Only quorums whose commitment dashlight verified itself (both BLS
//! signatures against the members its lists select) are listed or returned.

use crate::hash::BlockHash;
use crate::llmq::LlmqType;
use crate::mnlist::{KeyUnavailable, MasternodeEngine, MasternodeList};

/// One Platform quorum, as the trusted endpoint lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(target_arch = "wasm32", derive(serde::Serialize))]
pub struct PlatformQuorum {
    /// The quorum's base block hash, hex in display order.
    pub quorum_hash: String,
    /// The quorum public key, hex (48 bytes as in the commitment).
    pub key: String,
    /// The base block's height.
    pub height: u32,
    /// The members' proTxHashes: left empty (the SDK does not read them).
    pub members: Vec<String>,
    /// The quorum's threshold signature of its commitment, hex.
    pub threshold_signature: String,
    /// How many members signed the commitment.
    pub mining_members_count: u32,
    /// How many members are valid.
    pub valid_members_count: u32,
}

/// The current Platform quorums (`GET /quorums`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(target_arch = "wasm32", derive(serde::Serialize))]
pub struct QuorumsResponse {
    /// Always true.
    pub success: bool,
    /// The quorums.
    pub data: Vec<PlatformQuorum>,
}

/// The previous set of Platform quorums (`GET /previous`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(target_arch = "wasm32", derive(serde::Serialize))]
pub struct PreviousQuorumsResponse {
    /// Always true.
    pub success: bool,
    /// The set.
    pub data: PreviousQuorums,
}

/// A previous set of quorums and the height of the list it is from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(target_arch = "wasm32", derive(serde::Serialize))]
pub struct PreviousQuorums {
    /// The height of the list.
    pub height: u32,
    /// The quorums.
    pub quorums: Vec<PlatformQuorum>,
}

/// Both sets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(target_arch = "wasm32", derive(serde::Serialize))]
pub struct PlatformQuorums {
    /// The LLMQ type of Platform on this network.
    pub llmq_type: u8,
    /// The height of the newest list.
    pub height: u32,
    /// The active quorums of the newest list (verified ones only).
    pub current: QuorumsResponse,
    /// The active quorums of the newest list one DKG interval older.
    pub previous: PreviousQuorumsResponse,
}

fn verified_of(
    engine: &MasternodeEngine,
    list: &MasternodeList,
    llmq_type: LlmqType,
) -> Vec<PlatformQuorum> {
    list.quorums_of_type(llmq_type)
        .filter_map(|q| {
            let proven = engine.verified_quorum(llmq_type, &q.quorum_hash()).ok()?;
            let record = engine.quorum_record(llmq_type, &q.quorum_hash())?;
            let c = &proven.entry.commitment;
            Some(PlatformQuorum {
                quorum_hash: c.quorum_hash.to_string(),
                key: hex::encode(c.quorum_public_key),
                height: record.height?,
                members: Vec::new(),
                threshold_signature: hex::encode(c.quorum_sig),
                mining_members_count: u32::try_from(c.count_signers()).unwrap_or(u32::MAX),
                valid_members_count: u32::try_from(c.count_valid_members()).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// The active Platform quorums dashlight verified, current and previous;
/// `None` when no list is held.
pub fn platform_quorums(engine: &MasternodeEngine) -> Option<PlatformQuorums> {
    let llmq_type = engine.rules().platform_type;
    let interval = llmq_type.params().map_or(24, |p| p.dkg_interval);
    let newest = engine.latest_list()?;
    let previous = newest
        .height
        .checked_sub(interval)
        .and_then(|h| engine.list_at_or_below(h));
    Some(PlatformQuorums {
        llmq_type: llmq_type.0,
        height: newest.height,
        current: QuorumsResponse {
            success: true,
            data: verified_of(engine, newest, llmq_type),
        },
        previous: PreviousQuorumsResponse {
            success: true,
            data: PreviousQuorums {
                height: previous.map_or(0, |l| l.height),
                quorums: previous.map_or_else(Vec::new, |l| verified_of(engine, l, llmq_type)),
            },
        },
    })
}

/// The public key of a quorum whose commitment dashlight verified (the SDK's
/// `ContextProvider::get_quorum_public_key`), or why there is none.
pub fn quorum_public_key(
    engine: &MasternodeEngine,
    llmq_type: LlmqType,
    quorum_hash: &BlockHash,
) -> Result<[u8; 48], KeyUnavailable> {
    engine
        .verified_quorum(llmq_type, quorum_hash)
        .map(|q| q.entry.commitment.quorum_public_key)
}
