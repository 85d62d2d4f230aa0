//! BLS12-381 signatures as Dash uses them, on top of `blst`.
//!
//! Public keys live in G1 (48 bytes compressed), signatures in G2 (96 bytes).
//! Dash has two schemes: the *legacy* one (before the v19 fork; its own point
//! encoding and hash-to-curve) and the *basic* one (IETF, ciphersuite
//! `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`). Messages are always 32-byte
//! hashes.
//!
//! Masternode operator keys ([`OperatorKey`]) are decoded once and kept in a
//! [`KeyCache`]; the members' signature of a quorum commitment is checked
//! against the *secure aggregate* of the signers' keys ([`secure_aggregate`]),
//! computed with one multi-scalar multiplication.

mod aggregate;
mod batch;
mod cache;
pub mod encoding;
mod endomorphism;
mod field;
mod legacy_hash;

pub use aggregate::{
    aggregate_key, secure_aggregate, secure_coefficients, weighted_key_sum, KeySum, Signer,
};
pub use batch::{verify_batch, verify_legacy_batch, SignatureGroup};
pub use cache::{KeyCache, MAX_TABLES};

use blst::min_pk;
use blst::{blst_fp12, blst_p1_affine, blst_p2_affine, BLST_ERROR};
use core::fmt;
use encoding::{G1_SIZE, G2_SIZE};

/// The IETF ciphersuite of Dash's basic scheme (proof of possession is not used).
pub const BASIC_SCHEME_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// Which of Dash's two BLS schemes a key, signature or message uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// The pre-v19 Chia scheme: legacy point encoding and hash-to-curve.
    Legacy,
    /// The IETF basic scheme.
    Basic,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Legacy => "legacy",
            Scheme::Basic => "basic",
        })
    }
}

/// Why a BLS key or signature could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlsError {
    /// The bytes are not an encoding of a curve point.
    BadEncoding(&'static str),
    /// The point is not on the curve.
    NotOnCurve,
    /// The point is not in the prime-order subgroup.
    NotInSubgroup,
    /// The key or signature is the point at infinity.
    Infinity,
    /// The legacy hash of the message hit a degenerate input (never seen in practice).
    HashToCurve,
    /// An aggregate of no keys was asked for.
    NoKeys,
}

impl fmt::Display for BlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlsError::BadEncoding(why) => write!(f, "bad point encoding: {why}"),
            BlsError::NotOnCurve => f.write_str("point is not on the curve"),
            BlsError::NotInSubgroup => f.write_str("point is not in the prime-order subgroup"),
            BlsError::Infinity => f.write_str("point at infinity"),
            BlsError::HashToCurve => f.write_str("legacy hash to G2 failed"),
            BlsError::NoKeys => f.write_str("no keys to aggregate"),
        }
    }
}

impl std::error::Error for BlsError {}

fn from_blst(err: BLST_ERROR) -> BlsError {
    match err {
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => BlsError::NotOnCurve,
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => BlsError::NotInSubgroup,
        BLST_ERROR::BLST_PK_IS_INFINITY => BlsError::Infinity,
        _ => BlsError::BadEncoding("rejected by blst"),
    }
}

/// A validated public key (a G1 point of the prime-order subgroup, not infinity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    point: min_pk::PublicKey,
    /// The basic (IETF) compressed encoding, kept for sorting and hashing.
    basic: [u8; G1_SIZE],
}

impl PublicKey {
    /// Decodes and validates a key written in `scheme`'s encoding: an operator key's
    /// decoding ([`OperatorKey::from_list_bytes`]) plus the subgroup check.
    pub fn from_bytes(bytes: &[u8; G1_SIZE], scheme: Scheme) -> Result<PublicKey, BlsError> {
        let OperatorKey { point, basic } = OperatorKey::from_list_bytes(bytes, scheme)?;
        point.validate().map_err(from_blst)?;
        Ok(PublicKey { point, basic })
    }

    /// The key in `scheme`'s encoding.
    pub fn to_bytes(&self, scheme: Scheme) -> [u8; G1_SIZE] {
        g1_in_scheme(&self.basic, scheme)
    }

    fn from_point(point: min_pk::PublicKey) -> PublicKey {
        PublicKey {
            basic: point.compress(),
            point,
        }
    }

    /// Verifies `signature` of the 32-byte `message` under `scheme`.
    pub fn verify(
        &self,
        message: &[u8; 32],
        signature: &Signature,
        scheme: Scheme,
    ) -> Result<bool, BlsError> {
        match scheme {
            Scheme::Basic => {
                let result = signature.point.verify(
                    false,
                    message,
                    BASIC_SCHEME_DST,
                    &[],
                    &self.point,
                    false,
                );
                Ok(result == BLST_ERROR::BLST_SUCCESS)
            }
            Scheme::Legacy => {
                let hash = legacy_hash::hash_to_g2(message).ok_or(BlsError::HashToCurve)?;
                let generator = g1_generator()?;
                let lhs = blst_fp12::miller_loop(
                    &blst_p2_affine::from(hash),
                    &blst_p1_affine::from(self.point),
                );
                let rhs = blst_fp12::miller_loop(
                    &blst_p2_affine::from(signature.point),
                    &blst_p1_affine::from(generator),
                );
                Ok(blst_fp12::finalverify(&lhs, &rhs))
            }
        }
    }
}

/// A masternode operator key as a masternode list holds it: a G1 point on the
/// curve, not infinity.
///
/// Its membership of the prime-order subgroup is left to consensus, not
/// checked again: Dash Core refuses a provider transaction whose operator key
/// is not a valid BLS key (`bad-protx-operator-key`), and the client takes keys
/// only from lists whose merkle root it has proven against a header. The
/// subgroup check costs about three times the decompression (51 µs against
/// 17 µs natively, the same ratio in wasm), and a mainnet list brings about
/// 2,500 distinct signer keys (issue 14). The secure aggregation relies on that
/// membership too: it maps each key by the GLV endomorphism, which is multiplication
/// by λ only on the subgroup. Keys a peer sends on their own (a
/// quorum's public key, signatures) stay fully checked ([`PublicKey`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorKey {
    point: min_pk::PublicKey,
    /// The basic (IETF) compressed encoding, kept for sorting and hashing.
    basic: [u8; G1_SIZE],
}

impl OperatorKey {
    /// Decodes an operator key written in `scheme`'s encoding: a point on the
    /// curve, not infinity (see the type for why the subgroup is not checked).
    pub fn from_list_bytes(bytes: &[u8; G1_SIZE], scheme: Scheme) -> Result<OperatorKey, BlsError> {
        let basic = match scheme {
            Scheme::Basic => *bytes,
            Scheme::Legacy => encoding::g1_legacy_to_basic(bytes)?,
        };
        let point = min_pk::PublicKey::uncompress(&basic).map_err(from_blst)?;
        if point == min_pk::PublicKey::default() {
            return Err(BlsError::Infinity);
        }
        Ok(OperatorKey { point, basic })
    }

    /// The key in `scheme`'s encoding.
    pub fn to_bytes(&self, scheme: Scheme) -> [u8; G1_SIZE] {
        g1_in_scheme(&self.basic, scheme)
    }

    /// The point in blst's affine form.
    fn affine(&self) -> blst_p1_affine {
        blst_p1_affine::from(self.point)
    }
}

/// A G1 point's basic (IETF) compressed encoding rewritten in `scheme`'s encoding.
fn g1_in_scheme(basic: &[u8; G1_SIZE], scheme: Scheme) -> [u8; G1_SIZE] {
    match scheme {
        Scheme::Basic => *basic,
        Scheme::Legacy => encoding::g1_basic_to_legacy(basic),
    }
}

/// The generator of G1 (the public key of the secret key 1).
fn g1_generator() -> Result<min_pk::PublicKey, BlsError> {
    let mut one = [0u8; 32];
    one[31] = 1;
    min_pk::SecretKey::from_bytes(&one)
        .map(|sk| sk.sk_to_pk())
        .map_err(from_blst)
}

/// A validated signature (a G2 point of the prime-order subgroup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    point: min_pk::Signature,
    /// The basic (IETF) compressed encoding.
    basic: [u8; G2_SIZE],
}

impl Signature {
    /// Decodes and validates a signature written in `scheme`'s encoding.
    pub fn from_bytes(bytes: &[u8; G2_SIZE], scheme: Scheme) -> Result<Signature, BlsError> {
        let basic = match scheme {
            Scheme::Basic => *bytes,
            Scheme::Legacy => encoding::g2_legacy_to_basic(bytes)?,
        };
        let point = min_pk::Signature::uncompress(&basic).map_err(from_blst)?;
        point.validate(true).map_err(from_blst)?;
        Ok(Signature { point, basic })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key pair and a signature made with blst, to check the wrappers.
    fn signed(message: &[u8; 32]) -> (PublicKey, Signature) {
        let sk = min_pk::SecretKey::key_gen(&[7u8; 32], &[]).unwrap();
        let pk = PublicKey::from_point(sk.sk_to_pk());
        let sig = sk.sign(message, BASIC_SCHEME_DST, &[]);
        (
            pk,
            Signature::from_bytes(&sig.compress(), Scheme::Basic).unwrap(),
        )
    }

    #[test]
    fn basic_signature_verifies_and_a_flipped_message_does_not() {
        let msg = [3u8; 32];
        let (pk, sig) = signed(&msg);
        assert_eq!(pk.verify(&msg, &sig, Scheme::Basic), Ok(true));
        let mut other = msg;
        other[0] ^= 1;
        assert_eq!(pk.verify(&other, &sig, Scheme::Basic), Ok(false));
    }

    #[test]
    fn keys_decode_from_both_encodings() {
        let (pk, _) = signed(&[0; 32]);
        for scheme in [Scheme::Basic, Scheme::Legacy] {
            let bytes = pk.to_bytes(scheme);
            assert_eq!(PublicKey::from_bytes(&bytes, scheme), Ok(pk));
        }
        assert_ne!(pk.to_bytes(Scheme::Basic), pk.to_bytes(Scheme::Legacy));
    }

    #[test]
    fn operator_keys_skip_only_the_subgroup_check() {
        // The first x (as a compressed encoding) on the curve: almost every curve
        // point lies outside the prime-order subgroup (the cofactor is ~2^126).
        let off_subgroup = (1u8..=255)
            .map(|x| {
                let mut bytes = [0u8; 48];
                bytes[0] = 0x80;
                bytes[47] = x;
                bytes
            })
            .find(|bytes| OperatorKey::from_list_bytes(bytes, Scheme::Basic).is_ok())
            .unwrap();
        assert_eq!(
            PublicKey::from_bytes(&off_subgroup, Scheme::Basic),
            Err(BlsError::NotInSubgroup)
        );
        let mut infinity = [0u8; 48];
        infinity[0] = 0xc0;
        assert_eq!(
            OperatorKey::from_list_bytes(&infinity, Scheme::Basic),
            Err(BlsError::Infinity)
        );
        assert!(OperatorKey::from_list_bytes(&[0xff; 48], Scheme::Basic).is_err());
        let (pk, _) = signed(&[0; 32]);
        for scheme in [Scheme::Basic, Scheme::Legacy] {
            let key = OperatorKey::from_list_bytes(&pk.to_bytes(scheme), scheme).unwrap();
            assert_eq!(key.to_bytes(scheme), pk.to_bytes(scheme));
        }
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        assert!(PublicKey::from_bytes(&[0xff; 48], Scheme::Basic).is_err());
        assert!(PublicKey::from_bytes(&[0x00; 48], Scheme::Basic).is_err());
        assert!(PublicKey::from_bytes(&[0x00; 48], Scheme::Legacy).is_err());
        assert!(Signature::from_bytes(&[0xff; 96], Scheme::Basic).is_err());
        assert!(Signature::from_bytes(&[0x12; 96], Scheme::Legacy).is_err());
    }

    /// Legacy-scheme vector of the Dash bls-signatures library: secret key
    /// shares and their signature shares of one message, in the legacy encoding.
    const LEGACY_SHARES: [(&str, &str); 3] = [
        (
            "43dd263542a8d10bc9f843b46f15c86cd87e00c8f45fe5339b30c08e3233d8e3",
            "0888879c99852460912fd28c7a9138926c1e87fd6609fd2d3d307764e49feb85702fd8f9b3b836bc11f7ce151b769dc70b760879d26f8c33a29e24f69297f45ef028f0794e63ddb0610db7de1a608b6d6a2129ada62b845004a408f651fd44a5",
        ),
        (
            "34bcc40dea17bb03ec085ac46a0ea9614b3ffc4bae8b0b292f3d7c54662b00a6",
            "8407afd2776ab9d3f9293f1519ace1a9ce8aaf07d0a6a9785ec7ae4ae47e42102c09cfb3c8655dba014d53933af6a0b41244df006575e85e333271c90fcad80410cab4962bf4bba1570770775b1282f142b526d521a38fbc14336f22dc44a683",
        ),
        (
            "1871c9270c8344028946eee64e79d09e4915dd3b717ffc1c9aa86faff88c0475",
            "938ce6cc265fa15fe67314ac4773f18ff0b49c01eac626814abc2f836814068aeba8582d619a3e0c08dc4bafecda84a818b6a7abd350637e72a47356e5919e3a72be66316417c598338e4ab85f8d25535bd6c4a5fb16767ac470902e0cf19df0",
        ),
    ];

    #[test]
    fn legacy_signatures_decode_to_the_points_their_keys_imply() {
        use blst::MultiPoint;
        // sig_i = sk_i·H, so sk_j·sig_i = sk_i·sig_j: a sign taken from the
        // wrong bit or a wrong coordinate order breaks the equality. (The sign
        // rule itself is the basic encoding's; legacy G1 keys read with it make
        // the testnet quorums verify.)
        let shares: Vec<(Vec<u8>, Signature)> = LEGACY_SHARES
            .iter()
            .map(|(sk, sig)| {
                let mut sk = hex::decode(sk).unwrap();
                sk.reverse();
                let sig: [u8; 96] = hex::decode(sig).unwrap().try_into().unwrap();
                (sk, Signature::from_bytes(&sig, Scheme::Legacy).unwrap())
            })
            .collect();
        let times =
            |sig: &Signature, sk: &[u8]| [sig.point].as_slice().mult(sk, 256).to_signature();
        for (i, (sk_i, sig_i)) in shares.iter().enumerate() {
            for (sk_j, sig_j) in &shares[i + 1..] {
                assert_eq!(times(sig_i, sk_j), times(sig_j, sk_i));
            }
        }
        // The threshold public key of the same vector reads as a valid legacy key.
        let key: [u8; 48] = hex::decode(
            "97a12b918eac73718d55b7fca60435ec0b442d7e24b45cbd80f5cf2ea2e14c4164333fffdb00d27e309abbafacaa9c34",
        )
        .unwrap()
        .try_into()
        .unwrap();
        let decoded = PublicKey::from_bytes(&key, Scheme::Legacy).unwrap();
        assert_eq!(decoded.to_bytes(Scheme::Legacy), key);
    }

    /// The message (wire order) the legacy test signatures and shares sign.
    fn legacy_test_message() -> [u8; 32] {
        let mut message: [u8; 32] =
            hex::decode("b6d8ee31bbd375dfd55d5fb4b02cfccc68709e64f4c5ffcd3895ceb46540311d")
                .unwrap()
                .try_into()
                .unwrap();
        message.reverse();
        message
    }

    #[test]
    fn legacy_hash_to_g2_matches_the_libraries_signature_shares() {
        use blst::MultiPoint;
        let message = legacy_test_message();
        let h = legacy_hash::hash_to_g2(&message).unwrap();
        for (sk, sig) in LEGACY_SHARES {
            let mut sk = hex::decode(sk).unwrap();
            sk.reverse();
            let sig: [u8; 96] = hex::decode(sig).unwrap().try_into().unwrap();
            let expected = Signature::from_bytes(&sig, Scheme::Legacy).unwrap();
            let signed = [h].as_slice().mult(&sk, 256).to_signature();
            assert_eq!(signed, expected.point);
        }
    }

    #[test]
    fn legacy_batch_verifies_the_shares_and_catches_a_swap() {
        let message = legacy_test_message();
        let pairs: Vec<(PublicKey, Signature)> = LEGACY_SHARES
            .iter()
            .map(|(sk, sig)| {
                let sk = min_pk::SecretKey::from_bytes(&hex::decode(sk).unwrap()).unwrap();
                let sig: [u8; 96] = hex::decode(sig).unwrap().try_into().unwrap();
                (
                    PublicKey::from_point(sk.sk_to_pk()),
                    Signature::from_bytes(&sig, Scheme::Legacy).unwrap(),
                )
            })
            .collect();
        let group = |pairs: Vec<(PublicKey, Signature)>, message| SignatureGroup { message, pairs };
        let batch = vec![
            group(pairs[..2].to_vec(), message),
            group(pairs[2..].to_vec(), message),
        ];
        assert!(verify_legacy_batch(&batch));
        assert!(verify_legacy_batch(&[]));
        // The shares are not basic-scheme signatures.
        assert!(!verify_batch(&batch));
        let mut swapped = batch.clone();
        swapped[0].pairs[0].1 = pairs[1].1;
        swapped[0].pairs[1].1 = pairs[0].1;
        assert!(!verify_legacy_batch(&swapped));
        let mut flipped = batch;
        flipped[1].message[0] ^= 1;
        assert!(!verify_legacy_batch(&flipped));
    }

    #[test]
    fn legacy_threshold_signature_verifies_and_a_flipped_message_does_not() {
        let mut message = legacy_test_message();
        let key: [u8; 48] = hex::decode("97a12b918eac73718d55b7fca60435ec0b442d7e24b45cbd80f5cf2ea2e14c4164333fffdb00d27e309abbafacaa9c34").unwrap().try_into().unwrap();
        let sig: [u8; 96] = hex::decode("031c536960c9c44efefa4a3334d2d1b808f46abe121cd14a1d0b6ee6b6dca85fd3087d86fe5b1327e6792be53f4ed4df19c3af3aac79c0bb9dc36fc2a30ba566de6a82cd3e4af2d6654cbe02bb52769a06c1644a4c63b3c3a6fd16e5e68e5c0b").unwrap().try_into().unwrap();
        let key = PublicKey::from_bytes(&key, Scheme::Legacy).unwrap();
        let sig = Signature::from_bytes(&sig, Scheme::Legacy).unwrap();
        assert_eq!(key.verify(&message, &sig, Scheme::Legacy), Ok(true));
        message[0] ^= 1;
        assert_eq!(key.verify(&message, &sig, Scheme::Legacy), Ok(false));
    }
}
