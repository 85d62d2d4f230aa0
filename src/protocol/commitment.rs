//! Quorum final commitments (`qfcommit`, DIP-6 `CFinalCommitment`): the result
//! of a quorum's DKG as mined on chain and sent in `mnlistdiff` and `qrinfo`.
//!
//! Versions: 1 legacy BLS, 2 legacy BLS with quorum index (rotation),
//! 3 basic-scheme BLS, 4 basic-scheme BLS with quorum index.

use super::bitset::BitSet;
use crate::encode::{Decodable, DecodeError, Encodable, Reader};
use crate::hash::{BlockHash, Sha256dHash};

/// A final commitment of a quorum's DKG.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuorumCommitment {
    /// Commitment version (1 to 4, see the module documentation).
    pub version: u16,
    /// The LLMQ type (e.g. 1 = LLMQ_50_60, 4 = LLMQ_100_67, 5 = LLMQ_60_75, 6 = LLMQ_25_67).
    pub llmq_type: u8,
    /// Hash of the quorum's base block.
    pub quorum_hash: BlockHash,
    /// The quorum's index within its rotation cycle; on the wire only for
    /// indexed versions (2 and 4), otherwise 0.
    pub quorum_index: i16,
    /// Which members signed the commitment.
    pub signers: BitSet,
    /// Which members took valid part in the DKG.
    pub valid_members: BitSet,
    /// The quorum's BLS public key as on the wire.
    pub quorum_public_key: [u8; 48],
    /// Hash of the quorum's verification vector.
    pub quorum_vvec_hash: Sha256dHash,
    /// The quorum's threshold signature of the commitment hash.
    pub quorum_sig: [u8; 96],
    /// The aggregated signature of the signing members.
    pub members_sig: [u8; 96],
}

impl QuorumCommitment {
    /// The latest commitment version this decoder reads (4: indexed quorums
    /// with basic-scheme BLS). A later one is reported as unsupported.
    pub const MAX_VERSION: u16 = 4;

    /// The fewest bytes a commitment takes on the wire.
    pub const MIN_ENCODED_SIZE: usize = 2 + 1 + 32 + 1 + 1 + 48 + 32 + 96 + 96;

    /// Whether the commitment carries a quorum index (rotating quorums).
    pub fn is_indexed(&self) -> bool {
        matches!(self.version, 2 | 4)
    }

    /// Whether keys and signatures use the legacy BLS encoding.
    pub fn uses_legacy_bls(&self) -> bool {
        matches!(self.version, 1 | 2)
    }

    /// How many members signed.
    pub fn count_signers(&self) -> usize {
        self.signers.count_ones()
    }

    /// How many members are valid.
    pub fn count_valid_members(&self) -> usize {
        self.valid_members.count_ones()
    }
}

impl Encodable for QuorumCommitment {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.llmq_type.encode(out);
        self.quorum_hash.encode(out);
        if self.is_indexed() {
            out.extend_from_slice(&self.quorum_index.to_le_bytes());
        }
        self.signers.encode(out);
        self.valid_members.encode(out);
        self.quorum_public_key.encode(out);
        self.quorum_vvec_hash.encode(out);
        self.quorum_sig.encode(out);
        self.members_sig.encode(out);
    }
}

impl Decodable for QuorumCommitment {
    const MIN_ENCODED_SIZE: usize = QuorumCommitment::MIN_ENCODED_SIZE;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.read_u16()?;
        if version == 0 {
            return Err(DecodeError::InvalidValue {
                field: "quorum commitment version",
                value: 0,
            });
        }
        if version > QuorumCommitment::MAX_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                field: "quorum commitment version",
                version: u64::from(version),
            });
        }
        let llmq_type = r.read_u8()?;
        let quorum_hash = BlockHash::decode(r)?;
        let quorum_index = if matches!(version, 2 | 4) {
            r.read_i16()?
        } else {
            0
        };
        Ok(QuorumCommitment {
            version,
            llmq_type,
            quorum_hash,
            quorum_index,
            signers: BitSet::decode(r)?,
            valid_members: BitSet::decode(r)?,
            quorum_public_key: r.read_array()?,
            quorum_vvec_hash: Sha256dHash::decode(r)?,
            quorum_sig: r.read_array()?,
            members_sig: r.read_array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{deserialize, serialize};

    fn commitment(version: u16) -> QuorumCommitment {
        QuorumCommitment {
            version,
            llmq_type: 5,
            quorum_hash: BlockHash([1; 32]),
            quorum_index: if matches!(version, 2 | 4) { 7 } else { 0 },
            signers: BitSet::from_bits(&[true; 10]),
            valid_members: BitSet::from_bits(&[true, false, true]),
            quorum_public_key: [2; 48],
            quorum_vvec_hash: Sha256dHash([3; 32]),
            quorum_sig: [4; 96],
            members_sig: [5; 96],
        }
    }

    #[test]
    fn only_indexed_versions_carry_the_quorum_index() {
        let plain = serialize(&commitment(3));
        let indexed = serialize(&commitment(4));
        assert_eq!(indexed.len(), plain.len() + 2);
        assert_eq!(&indexed[35..37], &[7, 0]);
        for version in 1..=4 {
            let c = commitment(version);
            assert_eq!(deserialize::<QuorumCommitment>(&serialize(&c)), Ok(c));
        }
        assert_eq!(commitment(4).count_signers(), 10);
        assert_eq!(commitment(4).count_valid_members(), 2);
    }

    #[test]
    fn unknown_versions_are_rejected() {
        let mut bytes = serialize(&commitment(3));
        bytes[0] = 5;
        assert!(deserialize::<QuorumCommitment>(&bytes).is_err());
    }
}
