//! `getqrinfo` and `qrinfo` (DIP-24): what a client needs to verify rotating
//! quorums. For a request at height `h` with cycle length `c`: snapshots at
//! h-c, h-2c, h-3c; masternode-list diffs for the tip, h, h-c, h-2c and h-3c;
//! with `extraShare` a snapshot and a diff at h-4c; then the last commitment
//! per quorum index and further snapshots and diffs.
//!
//! The diffs are in the `mnlistdiff` layout of the same protocol version.

use super::commitment::QuorumCommitment;
use super::mnlistdiff::MnListDiff;
use super::snapshot::QuorumSnapshot;
use crate::encode::{write_compact_size, write_vec, Decodable, DecodeError, Encodable, Reader};
use crate::hash::BlockHash;

/// `getqrinfo`: asks for the rotation info at `block_request_hash`, with diffs
/// based on the latest of `base_block_hashes` below each target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetQrInfo {
    /// Blocks whose lists the client already has (may be empty).
    pub base_block_hashes: Vec<BlockHash>,
    /// The block the rotation info is wanted for.
    pub block_request_hash: BlockHash,
    /// Whether to include the snapshot and diff at h-4c.
    pub extra_share: bool,
}

impl Encodable for GetQrInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vec(out, &self.base_block_hashes);
        self.block_request_hash.encode(out);
        out.push(u8::from(self.extra_share));
    }
}

impl Decodable for GetQrInfo {
    const MIN_ENCODED_SIZE: usize = 1 + 32 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GetQrInfo {
            base_block_hashes: r.read_vec("base block hashes")?,
            block_request_hash: BlockHash::decode(r)?,
            extra_share: r.read_bool("extraShare")?,
        })
    }
}

/// The snapshot and diff at h-4c, sent when `extraShare` was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtraShare {
    /// Quorum snapshot at h-4c.
    pub snapshot_h_minus_4c: QuorumSnapshot,
    /// Masternode-list diff at h-4c.
    pub diff_h_minus_4c: MnListDiff,
}

/// A `qrinfo` message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QrInfo {
    /// Quorum snapshot at h-c.
    pub snapshot_h_minus_c: QuorumSnapshot,
    /// Quorum snapshot at h-2c.
    pub snapshot_h_minus_2c: QuorumSnapshot,
    /// Quorum snapshot at h-3c.
    pub snapshot_h_minus_3c: QuorumSnapshot,
    /// Diff to the requested block (the tip).
    pub diff_tip: MnListDiff,
    /// Diff to h, the last quorum cycle's work block.
    pub diff_h: MnListDiff,
    /// Diff to h-c.
    pub diff_h_minus_c: MnListDiff,
    /// Diff to h-2c.
    pub diff_h_minus_2c: MnListDiff,
    /// Diff to h-3c.
    pub diff_h_minus_3c: MnListDiff,
    /// Snapshot and diff at h-4c (`extraShare`).
    pub extra_share: Option<ExtraShare>,
    /// The latest commitment for each quorum index of the rotating LLMQ type.
    pub last_commitment_per_index: Vec<QuorumCommitment>,
    /// Further snapshots, one per entry of `mn_list_diff_list`.
    pub quorum_snapshot_list: Vec<QuorumSnapshot>,
    /// Further diffs.
    pub mn_list_diff_list: Vec<MnListDiff>,
}

impl QrInfo {
    /// The fixed diffs in wire order with their names: tip, h, h-c, h-2c,
    /// h-3c and, with `extraShare`, h-4c.
    pub fn named_diffs(&self) -> Vec<(&'static str, &MnListDiff)> {
        let mut diffs = vec![
            ("tip", &self.diff_tip),
            ("h", &self.diff_h),
            ("h-c", &self.diff_h_minus_c),
            ("h-2c", &self.diff_h_minus_2c),
            ("h-3c", &self.diff_h_minus_3c),
        ];
        if let Some(extra) = &self.extra_share {
            diffs.push(("h-4c", &extra.diff_h_minus_4c));
        }
        diffs
    }

    /// The fixed snapshots in wire order with their names: h-c, h-2c, h-3c
    /// and, with `extraShare`, h-4c.
    pub fn named_snapshots(&self) -> Vec<(&'static str, &QuorumSnapshot)> {
        let mut snapshots = vec![
            ("h-c", &self.snapshot_h_minus_c),
            ("h-2c", &self.snapshot_h_minus_2c),
            ("h-3c", &self.snapshot_h_minus_3c),
        ];
        if let Some(extra) = &self.extra_share {
            snapshots.push(("h-4c", &extra.snapshot_h_minus_4c));
        }
        snapshots
    }

    /// Reads a `qrinfo` in the layout of `protocol_version`.
    pub fn decode(r: &mut Reader<'_>, protocol_version: u32) -> Result<QrInfo, DecodeError> {
        let snapshot_h_minus_c = QuorumSnapshot::decode(r)?;
        let snapshot_h_minus_2c = QuorumSnapshot::decode(r)?;
        let snapshot_h_minus_3c = QuorumSnapshot::decode(r)?;
        let diff_tip = MnListDiff::decode(r, protocol_version)?;
        let diff_h = MnListDiff::decode(r, protocol_version)?;
        let diff_h_minus_c = MnListDiff::decode(r, protocol_version)?;
        let diff_h_minus_2c = MnListDiff::decode(r, protocol_version)?;
        let diff_h_minus_3c = MnListDiff::decode(r, protocol_version)?;
        let extra_share = if r.read_bool("extraShare")? {
            Some(ExtraShare {
                snapshot_h_minus_4c: QuorumSnapshot::decode(r)?,
                diff_h_minus_4c: MnListDiff::decode(r, protocol_version)?,
            })
        } else {
            None
        };
        let last_commitment_per_index = r.read_vec("last commitment per index")?;
        let quorum_snapshot_list = r.read_vec("quorum snapshot list")?;
        let mn_list_diff_list = r.read_vec_with(
            "masternode list diff list",
            MnListDiff::MIN_ENCODED_SIZE,
            |r| MnListDiff::decode(r, protocol_version),
        )?;
        Ok(QrInfo {
            snapshot_h_minus_c,
            snapshot_h_minus_2c,
            snapshot_h_minus_3c,
            diff_tip,
            diff_h,
            diff_h_minus_c,
            diff_h_minus_2c,
            diff_h_minus_3c,
            extra_share,
            last_commitment_per_index,
            quorum_snapshot_list,
            mn_list_diff_list,
        })
    }

    /// Appends the `qrinfo` in the layout of `protocol_version`.
    pub fn encode(&self, out: &mut Vec<u8>, protocol_version: u32) {
        self.snapshot_h_minus_c.encode(out);
        self.snapshot_h_minus_2c.encode(out);
        self.snapshot_h_minus_3c.encode(out);
        for diff in [
            &self.diff_tip,
            &self.diff_h,
            &self.diff_h_minus_c,
            &self.diff_h_minus_2c,
            &self.diff_h_minus_3c,
        ] {
            diff.encode(out, protocol_version);
        }
        out.push(u8::from(self.extra_share.is_some()));
        if let Some(extra) = &self.extra_share {
            extra.snapshot_h_minus_4c.encode(out);
            extra.diff_h_minus_4c.encode(out, protocol_version);
        }
        write_vec(out, &self.last_commitment_per_index);
        write_vec(out, &self.quorum_snapshot_list);
        write_compact_size(out, self.mn_list_diff_list.len() as u64);
        for diff in &self.mn_list_diff_list {
            diff.encode(out, protocol_version);
        }
    }

    /// Decodes a whole `qrinfo` payload.
    pub fn from_payload(payload: &[u8], protocol_version: u32) -> Result<QrInfo, DecodeError> {
        let mut r = Reader::new(payload);
        let info = QrInfo::decode(&mut r, protocol_version)?;
        r.finish()?;
        Ok(info)
    }

    /// The `qrinfo` payload in the layout of `protocol_version`.
    pub fn to_payload(&self, protocol_version: u32) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out, protocol_version);
        out
    }
}
