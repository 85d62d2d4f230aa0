//! Quorum snapshots (DIP-24 `CQuorumSnapshot`): which masternodes were
//! active in a rotating quorum at a cycle and how the member selection skipped
//! entries. Sent inside `qrinfo`.

use super::bitset::BitSet;
use crate::encode::{write_compact_size, Decodable, DecodeError, Encodable, Reader};

/// How a snapshot's skip list is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipListMode {
    /// No skipping: the skip list is empty (mode 0).
    NoSkipping,
    /// The skip list lists the entries that were skipped (mode 1).
    SkipFirst,
    /// The skip list lists the entries that were not skipped (mode 2).
    SkipExcept,
    /// Every entry was skipped (mode 3).
    SkipAll,
}

impl SkipListMode {
    /// The mode number on the wire (an `i32`).
    pub fn to_i32(self) -> i32 {
        match self {
            SkipListMode::NoSkipping => 0,
            SkipListMode::SkipFirst => 1,
            SkipListMode::SkipExcept => 2,
            SkipListMode::SkipAll => 3,
        }
    }

    /// The mode for a wire number, if it is one.
    pub fn from_i32(mode: i32) -> Option<SkipListMode> {
        match mode {
            0 => Some(SkipListMode::NoSkipping),
            1 => Some(SkipListMode::SkipFirst),
            2 => Some(SkipListMode::SkipExcept),
            3 => Some(SkipListMode::SkipAll),
            _ => None,
        }
    }
}

/// A quorum snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuorumSnapshot {
    /// How to read `skip_list`.
    pub skip_list_mode: SkipListMode,
    /// One bit per masternode of the list, set for the active quorum members.
    pub active_quorum_members: BitSet,
    /// Indexes of skipped (or kept, per the mode) entries.
    pub skip_list: Vec<i32>,
}

impl Encodable for QuorumSnapshot {
    fn encode(&self, out: &mut Vec<u8>) {
        self.skip_list_mode.to_i32().encode(out);
        self.active_quorum_members.encode(out);
        write_compact_size(out, self.skip_list.len() as u64);
        for index in &self.skip_list {
            index.encode(out);
        }
    }
}

impl Decodable for QuorumSnapshot {
    const MIN_ENCODED_SIZE: usize = 4 + 1 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mode = r.read_i32()?;
        let skip_list_mode = SkipListMode::from_i32(mode).ok_or(DecodeError::InvalidValue {
            field: "snapshot skip list mode",
            value: u64::from(mode as u32),
        })?;
        Ok(QuorumSnapshot {
            skip_list_mode,
            active_quorum_members: BitSet::decode(r)?,
            skip_list: r.read_vec("snapshot skip list")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    #[test]
    fn snapshot_round_trips() {
        let s = QuorumSnapshot {
            skip_list_mode: SkipListMode::SkipFirst,
            active_quorum_members: BitSet::from_bits(&[true, true, false]),
            skip_list: vec![3, -1, 70],
        };
        let bytes = serialize(&s);
        assert_eq!(&bytes[..6], &[1, 0, 0, 0, 3, 0b011]);
        assert_eq!(deserialize::<QuorumSnapshot>(&bytes), Ok(s));
    }

    #[test]
    fn unknown_modes_are_rejected() {
        assert!(matches!(
            deserialize::<QuorumSnapshot>(&[4, 0, 0, 0, 0, 0]),
            Err(DecodeError::InvalidValue { .. })
        ));
    }
}
