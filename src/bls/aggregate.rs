//! Dash's secure aggregation of public keys (the Chia library's `VerifySecure`).
//!
//! The keys are sorted by their encoding in the scheme at hand; `H` is the
//! SHA-256 of the sorted encodings concatenated; key number `i` (in sorted
//! order) is multiplied by `t_i = SHA-256(be32(i) || H)` read as a big-endian
//! integer modulo the group order, and the products are summed. The members'
//! signature of a quorum commitment verifies against that sum.
//!
//! The sum is two multi-scalar multiplications added: the signers whose key
//! has a table of multiples ([`KeyCache::build_tables`](super::KeyCache::build_tables))
//! by the tables, the others by one Pippenger multiplication.

use super::endomorphism::{endomorphism, split_scalar, HALF_SCALAR_BITS};
use super::{min_pk, BlsError, OperatorKey, PublicKey, Scheme};
use bitcoin_hashes::{sha256, HashEngine};
use blst::MultiPoint;
use dashlight_g1_tables::PointTable;

/// A signer of a secure aggregation: its operator key and, if the key cache
/// built one, the key's table of multiples ([`KeyCache::signer`](super::KeyCache::signer)).
#[derive(Debug, Clone, Copy)]
pub struct Signer<'t> {
    pub(super) key: OperatorKey,
    pub(super) table: Option<&'t PointTable>,
}

/// The order r of the BLS12-381 groups, as little-endian 64-bit limbs.
const GROUP_ORDER: [u64; 4] = [
    0xffff_ffff_0000_0001,
    0x53bd_a402_fffe_5bfe,
    0x3339_d808_09a1_d805,
    0x73ed_a753_299d_7d48,
];

/// `value mod r` for a 256-bit big-endian value, as 32 little-endian bytes.
fn reduce_mod_order(big_endian: &[u8; 32]) -> [u8; 32] {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let start = 32 - 8 * (i + 1);
        let mut word = [0u8; 8];
        word.copy_from_slice(&big_endian[start..start + 8]);
        *limb = u64::from_be_bytes(word);
    }
    // 2^256 < 3r, so at most two subtractions are needed.
    while !less_than(&limbs, &GROUP_ORDER) {
        let mut borrow = false;
        for (limb, r) in limbs.iter_mut().zip(GROUP_ORDER) {
            let (diff, b1) = limb.overflowing_sub(r);
            let (diff, b2) = diff.overflowing_sub(u64::from(borrow));
            *limb = diff;
            borrow = b1 || b2;
        }
    }
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_exact_mut(8).zip(limbs) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    out
}

fn less_than(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// The coefficient of each key of a secure aggregation, in the order of
/// `encodings` (the keys' encodings in the aggregation's scheme): the key at
/// place `i` of the sorted encodings gets `t_i`. It needs the encodings only,
/// not the points, so that the sum can be split over threads
/// ([`weighted_key_sum`] of each part, then [`aggregate_key`]).
pub fn secure_coefficients(encodings: &[[u8; 48]]) -> Vec<[u8; 32]> {
    let mut order: Vec<usize> = (0..encodings.len()).collect();
    order.sort_unstable_by_key(|&i| encodings[i]);
    let mut engine = sha256::HashEngine::default();
    for &i in &order {
        engine.input(&encodings[i]);
    }
    let keys_hash = sha256::Hash::from_engine(engine).to_byte_array();
    let mut coefficients = vec![[0u8; 32]; encodings.len()];
    for (place, &i) in order.iter().enumerate() {
        let mut engine = sha256::HashEngine::default();
        engine.input(&(place as u32).to_be_bytes());
        engine.input(&keys_hash);
        let t = sha256::Hash::from_engine(engine).to_byte_array();
        coefficients[i] = reduce_mod_order(&t);
    }
    coefficients
}

/// A sum of multiples of operator keys: a secure aggregate, or one part of
/// it computed in another thread. It may be infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySum(min_pk::PublicKey);

impl KeySum {
    /// The sum's uncompressed encoding (96 bytes, the IETF serialization).
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.serialize()
    }

    /// Decodes a sum another thread computed: a point on the curve, in the
    /// prime-order subgroup (checked, since the bytes crossed a thread).
    pub fn from_bytes(bytes: &[u8; 96]) -> Result<KeySum, BlsError> {
        let point = min_pk::PublicKey::deserialize(bytes).map_err(super::from_blst)?;
        if point != min_pk::PublicKey::default() {
            point.validate().map_err(super::from_blst)?;
        }
        Ok(KeySum(point))
    }
}

/// `Σ coefficient · key` over `terms` (coefficients little-endian, reduced):
/// the keys with a table by their tables, the others by one multi-scalar
/// multiplication with each coefficient split in two halves of 128 bits by the
/// GLV endomorphism (module `bls::endomorphism`). The sum is the
/// same whichever keys have tables.
pub fn weighted_key_sum(terms: &[(Signer<'_>, [u8; 32])]) -> KeySum {
    let mut tabled: Vec<(&PointTable, [u8; 32])> = Vec::new();
    let mut points: Vec<min_pk::PublicKey> = Vec::with_capacity(2 * terms.len());
    let mut scalars: Vec<u8> = Vec::with_capacity(terms.len() * 32);
    for (signer, scalar) in terms {
        match signer.table {
            Some(table) => tabled.push((table, *scalar)),
            None => {
                let (low, high) = split_scalar(scalar);
                points.push(signer.key.point);
                scalars.extend_from_slice(&low);
                points.push(endomorphism(&signer.key.point));
                scalars.extend_from_slice(&high);
            }
        }
    }
    let mut parts: Vec<KeySum> = Vec::with_capacity(2);
    if !points.is_empty() {
        let sum = points.as_slice().mult(&scalars, HALF_SCALAR_BITS);
        parts.push(KeySum(sum.to_public_key()));
    }
    if !tabled.is_empty() {
        parts.push(KeySum(min_pk::PublicKey::from(
            dashlight_g1_tables::multiply(&tabled),
        )));
    }
    add(&parts)
}

/// The sum of `sums` (infinity for none).
fn add(sums: &[KeySum]) -> KeySum {
    match sums {
        [] => KeySum(min_pk::PublicKey::default()),
        [one] => *one,
        more => {
            let refs: Vec<&min_pk::PublicKey> = more.iter().map(|s| &s.0).collect();
            // Only an empty input fails, and `more` has two sums or more.
            KeySum(
                min_pk::AggregatePublicKey::aggregate(&refs, false)
                    .map(|a| a.to_public_key())
                    .unwrap_or_default(),
            )
        }
    }
}

/// The secure aggregate whose parts are `sums`: their sum, which must not be
/// infinity. A sum of subgroup points stays in the subgroup (the operator keys'
/// membership is consensus's, see `OperatorKey`; sums from other threads are
/// checked by [`KeySum::from_bytes`]).
pub fn aggregate_key(sums: &[KeySum]) -> Result<PublicKey, BlsError> {
    let KeySum(point) = add(sums);
    if point == min_pk::PublicKey::default() {
        return Err(BlsError::Infinity);
    }
    Ok(PublicKey::from_point(point))
}

/// The secure aggregate of the signers' keys under `scheme`
/// ([`secure_coefficients`], [`weighted_key_sum`], [`aggregate_key`]).
pub fn secure_aggregate(signers: &[Signer<'_>], scheme: Scheme) -> Result<PublicKey, BlsError> {
    if signers.is_empty() {
        return Err(BlsError::NoKeys);
    }
    let encodings: Vec<[u8; 48]> = signers.iter().map(|s| s.key.to_bytes(scheme)).collect();
    let terms: Vec<(Signer<'_>, [u8; 32])> = signers
        .iter()
        .copied()
        .zip(secure_coefficients(&encodings))
        .collect();
    aggregate_key(&[weighted_key_sum(&terms)])
}

#[cfg(test)]
mod tests {
    use super::super::KeyCache;
    use super::*;

    /// Bits of a scalar reduced modulo the group order.
    const SCALAR_BITS: usize = 255;

    #[test]
    fn reduction_subtracts_the_order() {
        let mut r_be = [0u8; 32];
        for (i, limb) in GROUP_ORDER.iter().rev().enumerate() {
            r_be[8 * i..8 * i + 8].copy_from_slice(&limb.to_be_bytes());
        }
        assert_eq!(reduce_mod_order(&r_be), [0u8; 32]);
        let mut r_plus_5 = r_be;
        r_plus_5[31] += 5;
        let mut five = [0u8; 32];
        five[0] = 5;
        assert_eq!(reduce_mod_order(&r_plus_5), five);
        let max = reduce_mod_order(&[0xff; 32]);
        assert!(less_than(
            &[
                u64::from_le_bytes(max[0..8].try_into().unwrap()),
                u64::from_le_bytes(max[8..16].try_into().unwrap()),
                u64::from_le_bytes(max[16..24].try_into().unwrap()),
                u64::from_le_bytes(max[24..32].try_into().unwrap()),
            ],
            &GROUP_ORDER
        ));
    }

    #[test]
    fn secure_aggregate_matches_naive_sum_of_scaled_keys() {
        let sks: Vec<min_pk::SecretKey> = (1u8..=5)
            .map(|i| min_pk::SecretKey::key_gen(&[i; 32], &[]).unwrap())
            .collect();
        let keys: Vec<OperatorKey> = sks
            .iter()
            .map(|sk| {
                OperatorKey::from_list_bytes(&sk.sk_to_pk().compress(), Scheme::Basic).unwrap()
            })
            .collect();
        let refs: Vec<Signer<'_>> = keys
            .iter()
            .map(|&key| Signer { key, table: None })
            .collect();
        let msg = [9u8; 32];
        // Each signer signs; the secure aggregate signature is the same
        // weighted sum over G2, which must verify against the aggregate key.
        let encodings: Vec<[u8; 48]> = keys.iter().map(|k| k.to_bytes(Scheme::Basic)).collect();
        let weighted: Vec<(Signer<'_>, [u8; 32])> = refs
            .iter()
            .copied()
            .zip(secure_coefficients(&encodings))
            .collect();
        let mut sigs = Vec::new();
        let mut scalars = Vec::new();
        for (signer, scalar) in &weighted {
            let index = keys.iter().position(|k| *k == signer.key).unwrap();
            sigs.push(sks[index].sign(&msg, super::super::BASIC_SCHEME_DST, &[]));
            scalars.extend_from_slice(scalar);
        }
        let agg_sig = sigs.as_slice().mult(&scalars, SCALAR_BITS).to_signature();
        let agg_sig =
            super::super::Signature::from_bytes(&agg_sig.compress(), Scheme::Basic).unwrap();
        let agg_key = secure_aggregate(&refs, Scheme::Basic).unwrap();
        assert_eq!(agg_key.verify(&msg, &agg_sig, Scheme::Basic), Ok(true));
        // The split coefficients give the sum of the full ones.
        let points: Vec<min_pk::PublicKey> = weighted.iter().map(|(s, _)| s.key.point).collect();
        let plain = points
            .as_slice()
            .mult(&scalars, SCALAR_BITS)
            .to_public_key();
        assert_eq!(agg_key, PublicKey::from_point(plain));
        // Order of the input does not matter.
        let reversed: Vec<Signer<'_>> = refs.iter().rev().copied().collect();
        assert_eq!(secure_aggregate(&reversed, Scheme::Basic).unwrap(), agg_key);
    }

    #[test]
    fn the_aggregate_is_the_same_whichever_keys_have_tables() {
        let encodings: Vec<[u8; 48]> = (1u8..=9)
            .map(|i| {
                let sk = min_pk::SecretKey::key_gen(&[i; 32], &[]).unwrap();
                sk.sk_to_pk().compress()
            })
            .collect();
        let aggregate = |cache: &KeyCache| {
            let signers: Vec<Signer<'_>> = encodings
                .iter()
                .map(|bytes| cache.signer(bytes, Scheme::Basic).unwrap())
                .collect();
            secure_aggregate(&signers, Scheme::Basic).unwrap()
        };
        let mut cache = KeyCache::new();
        let none = aggregate(&cache);
        for take in [1, 4, 9] {
            let some: Vec<([u8; 48], Scheme)> = encodings
                .iter()
                .take(take)
                .map(|b| (*b, Scheme::Basic))
                .collect();
            cache.build_tables(&some);
            assert_eq!(cache.table_count(), take);
            assert_eq!(aggregate(&cache), none, "{take} keys with tables");
        }
    }
}
