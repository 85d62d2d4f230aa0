//! Checking a quorum's threshold signature of a signing request (DIP-7): the
//! one BLS path InstantSend locks and quorum-key users share.

use crate::bls::{BlsError, PublicKey, Scheme, Signature};
use crate::hash::Sha256dHash;
use crate::protocol::commitment::QuorumCommitment;
use core::fmt;

/// Why a quorum signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumSignatureFailure {
    /// The signature's bytes are not a valid G2 point.
    BadSignature(BlsError),
    /// The quorum public key cannot be decoded.
    BadQuorumKey(BlsError),
    /// The signature does not verify against the quorum's key.
    InvalidSignature,
}

impl fmt::Display for QuorumSignatureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuorumSignatureFailure::BadSignature(e) => write!(f, "signature: {e}"),
            QuorumSignatureFailure::BadQuorumKey(e) => write!(f, "quorum public key: {e}"),
            QuorumSignatureFailure::InvalidSignature => {
                f.write_str("signature does not verify against the quorum's key")
            }
        }
    }
}

impl std::error::Error for QuorumSignatureFailure {}

/// Verifies `signature` (in `scheme`) of `sign_hash` against the public key of
/// `commitment` (decoded as the commitment's version says).
pub fn verify_quorum_signature(
    commitment: &QuorumCommitment,
    sign_hash: &Sha256dHash,
    signature: &[u8; 96],
    scheme: Scheme,
) -> Result<(), QuorumSignatureFailure> {
    let signature =
        Signature::from_bytes(signature, scheme).map_err(QuorumSignatureFailure::BadSignature)?;
    let key_scheme = if commitment.uses_legacy_bls() {
        Scheme::Legacy
    } else {
        Scheme::Basic
    };
    let key = PublicKey::from_bytes(&commitment.quorum_public_key, key_scheme)
        .map_err(QuorumSignatureFailure::BadQuorumKey)?;
    match key.verify(sign_hash.as_bytes(), &signature, scheme) {
        Ok(true) => Ok(()),
        Ok(false) => Err(QuorumSignatureFailure::InvalidSignature),
        Err(e) => Err(QuorumSignatureFailure::BadSignature(e)),
    }
}
