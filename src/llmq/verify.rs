//! Verification of a quorum's final commitment against its members (Dash
//! Core's `CFinalCommitment::Verify` with signatures checked).

use super::hashes::commitment_hash;
use super::params::{LlmqParams, LlmqType};
use crate::bls::{
    secure_aggregate, BlsError, KeyCache, PublicKey, Scheme, Signature, SignatureGroup,
};
use crate::hash::{ProTxHash, Sha256dHash};
use crate::protocol::commitment::QuorumCommitment;
use core::fmt;

/// Why a commitment is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitmentFailure {
    /// The commitment's version is not the one its height requires.
    WrongVersion {
        /// Version required at the quorum's height.
        expected: u16,
        /// Version found.
        found: u16,
    },
    /// The quorum index does not match the base block's place in its cycle.
    WrongQuorumIndex {
        /// Index required by the height.
        expected: u32,
        /// Index found.
        found: i16,
    },
    /// A bit set does not have one bit per member.
    WrongBitsetSize {
        /// `signers` or `validMembers`.
        field: &'static str,
        /// Bits found.
        len: usize,
        /// The type's quorum size.
        expected: usize,
    },
    /// Fewer valid members or signers than the type's minimum.
    TooFew {
        /// `signers` or `validMembers`.
        field: &'static str,
        /// How many there are.
        count: usize,
        /// The minimum.
        min: usize,
    },
    /// A bit is set for a position past the selected members.
    BitBeyondMembers {
        /// `signers` or `validMembers`.
        field: &'static str,
        /// The position.
        index: usize,
        /// Members selected.
        members: usize,
    },
    /// A signer's operator key cannot be decoded.
    BadMemberKey {
        /// The signer.
        pro_tx_hash: ProTxHash,
        /// Why.
        error: BlsError,
    },
    /// The quorum public key cannot be decoded.
    BadQuorumKey(BlsError),
    /// A signature cannot be decoded.
    BadSignature {
        /// `quorumSig` or `membersSig`.
        field: &'static str,
        /// Why.
        error: BlsError,
    },
    /// The members' aggregated signature does not verify against the signers' keys.
    MembersSignatureInvalid {
        /// Number of signers aggregated.
        signers: usize,
    },
    /// The quorum signature does not verify against the quorum public key.
    QuorumSignatureInvalid,
}

impl fmt::Display for CommitmentFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommitmentFailure::WrongVersion { expected, found } => {
                write!(f, "commitment version {found}, expected {expected}")
            }
            CommitmentFailure::WrongQuorumIndex { expected, found } => {
                write!(f, "quorum index {found}, expected {expected}")
            }
            CommitmentFailure::WrongBitsetSize {
                field,
                len,
                expected,
            } => write!(f, "{field} has {len} bits, expected {expected}"),
            CommitmentFailure::TooFew { field, count, min } => {
                write!(f, "{field}: {count} set, minimum {min}")
            }
            CommitmentFailure::BitBeyondMembers {
                field,
                index,
                members,
            } => write!(f, "{field} bit {index} set but only {members} members"),
            CommitmentFailure::BadMemberKey { pro_tx_hash, error } => {
                write!(f, "operator key of signer {pro_tx_hash}: {error}")
            }
            CommitmentFailure::BadQuorumKey(e) => write!(f, "quorum public key: {e}"),
            CommitmentFailure::BadSignature { field, error } => write!(f, "{field}: {error}"),
            CommitmentFailure::MembersSignatureInvalid { signers } => write!(
                f,
                "members' signature does not verify against the {signers} signers' aggregated key"
            ),
            CommitmentFailure::QuorumSignatureInvalid => {
                f.write_str("quorum signature does not verify against the quorum public key")
            }
        }
    }
}

impl std::error::Error for CommitmentFailure {}

/// The commitment version required for a quorum (Dash Core's `CFinalCommitment::GetVersion`).
pub fn expected_version(rotation: bool, basic_scheme: bool) -> u16 {
    match (rotation, basic_scheme) {
        (false, false) => 1,
        (true, false) => 2,
        (false, true) => 3,
        (true, true) => 4,
    }
}

/// A commitment whose structure was checked, ready for its two signature checks.
#[derive(Debug, Clone)]
pub struct PreparedCommitment {
    /// The hash both signatures sign.
    pub commitment_hash: Sha256dHash,
    /// The signers' secure aggregate key.
    pub members_key: PublicKey,
    /// The members' aggregated signature.
    pub members_sig: Signature,
    /// The quorum public key.
    pub quorum_key: PublicKey,
    /// The quorum's threshold signature.
    pub quorum_sig: Signature,
    /// Number of signers.
    pub signers: usize,
    /// The scheme both signatures use.
    pub scheme: Scheme,
}

impl PreparedCommitment {
    /// Both signatures as one group of a batch (they sign the same hash).
    pub fn signature_group(&self) -> SignatureGroup {
        SignatureGroup {
            message: self.commitment_hash.0,
            pairs: vec![
                (self.members_key, self.members_sig),
                (self.quorum_key, self.quorum_sig),
            ],
        }
    }
}

/// A quorum member's operator key as its list holds it: all a commitment's
/// check needs of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberKey {
    /// The member's identity (named when its key cannot be decoded).
    pub pro_tx_hash: ProTxHash,
    /// The operator public key, in `scheme`'s encoding.
    pub operator_public_key: [u8; 48],
    /// The encoding of the operator key.
    pub scheme: Scheme,
}

/// The points a commitment carries, decoded and subgroup-checked.
#[derive(Debug, Clone, Copy)]
pub struct CommitmentPoints {
    /// The quorum public key.
    pub quorum_key: PublicKey,
    /// The members' aggregated signature.
    pub members_sig: Signature,
    /// The quorum's threshold signature.
    pub quorum_sig: Signature,
}

/// The BLS scheme of a commitment's keys and signatures.
pub fn commitment_scheme(commitment: &QuorumCommitment) -> Scheme {
    if commitment.uses_legacy_bls() {
        Scheme::Legacy
    } else {
        Scheme::Basic
    }
}

/// Decodes a commitment's quorum public key and both signatures.
pub fn decode_commitment(
    commitment: &QuorumCommitment,
) -> Result<CommitmentPoints, CommitmentFailure> {
    let scheme = commitment_scheme(commitment);
    let quorum_key = PublicKey::from_bytes(&commitment.quorum_public_key, scheme)
        .map_err(CommitmentFailure::BadQuorumKey)?;
    let members_sig = Signature::from_bytes(&commitment.members_sig, scheme).map_err(|error| {
        CommitmentFailure::BadSignature {
            field: "membersSig",
            error,
        }
    })?;
    let quorum_sig = Signature::from_bytes(&commitment.quorum_sig, scheme).map_err(|error| {
        CommitmentFailure::BadSignature {
            field: "quorumSig",
            error,
        }
    })?;
    Ok(CommitmentPoints {
        quorum_key,
        members_sig,
        quorum_sig,
    })
}

/// Checks everything of a commitment but its signatures: the quorum index its
/// base block (at `base_height`) requires, and bit sets of the type's size, with
/// enough bits set and none past the `members` selected.
pub fn check_structure(
    commitment: &QuorumCommitment,
    params: &LlmqParams,
    base_height: u32,
    members: usize,
) -> Result<(), CommitmentFailure> {
    let size = usize::from(params.size);
    // Non-rotated commitments carry index 0, so their base block must start a DKG interval.
    let expected_index = base_height % params.dkg_interval;
    if i64::from(commitment.quorum_index) != i64::from(expected_index) {
        return Err(CommitmentFailure::WrongQuorumIndex {
            expected: expected_index,
            found: commitment.quorum_index,
        });
    }
    for (field, bits) in [
        ("signers", &commitment.signers),
        ("validMembers", &commitment.valid_members),
    ] {
        if bits.len() != size {
            return Err(CommitmentFailure::WrongBitsetSize {
                field,
                len: bits.len(),
                expected: size,
            });
        }
        let count = bits.count_ones();
        if count < usize::from(params.min_size) {
            return Err(CommitmentFailure::TooFew {
                field,
                count,
                min: usize::from(params.min_size),
            });
        }
        if let Some(index) = (members..size).find(|&i| bits.get(i)) {
            return Err(CommitmentFailure::BitBeyondMembers {
                field,
                index,
                members,
            });
        }
    }
    Ok(())
}

/// The members whose bit is set in the commitment's `signers`, in order.
pub fn signers<'m>(
    commitment: &'m QuorumCommitment,
    members: &'m [MemberKey],
) -> impl Iterator<Item = &'m MemberKey> {
    let bits = &commitment.signers;
    members
        .iter()
        .enumerate()
        .filter(move |(i, _)| bits.get(*i))
        .map(|(_, member)| member)
}

/// A commitment ready for its signature checks, with the signers' secure
/// aggregate key computed already (`signers` of them).
pub fn prepared_with_key(
    commitment: &QuorumCommitment,
    points: &CommitmentPoints,
    members_key: PublicKey,
    signers: usize,
) -> PreparedCommitment {
    let commitment_hash = commitment_hash(
        LlmqType(commitment.llmq_type),
        &commitment.quorum_hash,
        commitment.valid_members.len(),
        commitment.valid_members.as_bytes(),
        &commitment.quorum_public_key,
        commitment.quorum_vvec_hash.as_bytes(),
    );
    PreparedCommitment {
        commitment_hash,
        members_key,
        members_sig: points.members_sig,
        quorum_key: points.quorum_key,
        quorum_sig: points.quorum_sig,
        signers,
        scheme: commitment_scheme(commitment),
    }
}

/// Checks everything but the signatures ([`check_structure`]) and aggregates
/// the signers' keys.
///
/// `base_height` is the quorum base block's height; `members` are the
/// quorum's members' keys in order; the signers' keys are read from `keys`
/// (and decoded, without being kept, if it lacks them).
pub fn prepare_commitment(
    commitment: &QuorumCommitment,
    points: &CommitmentPoints,
    params: &LlmqParams,
    base_height: u32,
    members: &[MemberKey],
    keys: &KeyCache,
) -> Result<PreparedCommitment, CommitmentFailure> {
    check_structure(commitment, params, base_height, members.len())?;
    let signers = signers(commitment, members)
        .map(|member| {
            keys.signer(&member.operator_public_key, member.scheme)
                .map_err(|error| CommitmentFailure::BadMemberKey {
                    pro_tx_hash: member.pro_tx_hash,
                    error,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let members_key =
        secure_aggregate(&signers, commitment_scheme(commitment)).map_err(|error| {
            CommitmentFailure::BadSignature {
                field: "membersSig",
                error,
            }
        })?;
    Ok(prepared_with_key(
        commitment,
        points,
        members_key,
        signers.len(),
    ))
}

/// Checks both signatures of a prepared commitment.
pub fn check_signatures(prepared: &PreparedCommitment) -> Result<(), CommitmentFailure> {
    let message = prepared.commitment_hash.as_bytes();
    let members_ok = prepared
        .members_key
        .verify(message, &prepared.members_sig, prepared.scheme)
        .map_err(|error| CommitmentFailure::BadSignature {
            field: "membersSig",
            error,
        })?;
    if !members_ok {
        return Err(CommitmentFailure::MembersSignatureInvalid {
            signers: prepared.signers,
        });
    }
    let quorum_ok = prepared
        .quorum_key
        .verify(message, &prepared.quorum_sig, prepared.scheme)
        .map_err(|error| CommitmentFailure::BadSignature {
            field: "quorumSig",
            error,
        })?;
    if !quorum_ok {
        return Err(CommitmentFailure::QuorumSignatureInvalid);
    }
    Ok(())
}
