//! The GLV endomorphism of G1, which halves the scalars of a multi-scalar multiplication.
//!
//! On BLS12-381's G1, `φ(x, y) = (β·x, y)`, with `β` a cube root of unity in the base field,
//! maps every point of the prime-order subgroup to `λ·P`, where `λ = z² − 1` (128 bits, `z`
//! the curve's parameter) and `λ² + λ + 1 = r`. Any scalar `k < r` is `k₁ + k₂·λ` with
//! `k₁ = k mod λ` and `k₂ = k div λ`, both below 2^128, so `Σ kᵢ·Pᵢ = Σ (k₁ᵢ·Pᵢ + k₂ᵢ·φ(Pᵢ))`:
//! twice the points, half the bits, one field multiplication per point. Only points of the
//! subgroup may be mapped (operator keys are, by consensus: see [`OperatorKey`](super::OperatorKey)).

use super::field::Fp;
use blst::{blst_p1_affine, min_pk};

/// `β·2^384 mod p`: β in the Montgomery form `blst` keeps coordinates in, where
/// `β = (−√−3 − 1) / 2` (the square of the legacy hash's `(√−3 − 1) / 2`) is the cube root
/// of unity for which `φ(P) = λ·P`; the other one gives `λ²·P`.
const BETA: Fp = Fp([
    0xcd03_c9e4_8671_f071,
    0x5dab_2246_1fcd_a5d2,
    0x5870_42af_d385_1b95,
    0x8eb6_0ebe_01ba_cb9e,
    0x03f9_7d6e_83d0_50d2,
    0x18f0_2065_5463_8741,
]);

/// λ, the eigenvalue of φ on the subgroup.
const LAMBDA: u128 = 0xac45_a401_0001_a402_0000_0000_ffff_ffff;

/// Bits of each half of a split scalar.
pub const HALF_SCALAR_BITS: usize = 128;

/// `φ(point) = (β·x, y)`, which is `λ·point` for a point of the prime-order subgroup.
pub fn endomorphism(point: &min_pk::PublicKey) -> min_pk::PublicKey {
    let mut affine = blst_p1_affine::from(*point);
    affine.x.l = Fp(affine.x.l).mul(&BETA).0;
    min_pk::PublicKey::from(affine)
}

/// `(k mod λ, k div λ)` as 16 little-endian bytes each, for a scalar `k < r` given as 32
/// little-endian bytes (both halves are below 2^128 because `r = λ² + λ + 1`).
pub fn split_scalar(k: &[u8; 32]) -> ([u8; 16], [u8; 16]) {
    let mut remainder: u128 = 0;
    let mut quotient: u128 = 0;
    for bit in (0..256).rev() {
        let overflow = remainder >> 127 == 1;
        let next = u128::from((k[bit / 8] >> (bit % 8)) & 1);
        remainder = (remainder << 1) | next;
        quotient <<= 1;
        // With the bit shifted out the value is 2^128 + remainder ≥ λ; the wrapped
        // subtraction gives the true difference, which is below λ.
        if overflow || remainder >= LAMBDA {
            remainder = remainder.wrapping_sub(LAMBDA);
            quotient |= 1;
        }
    }
    (remainder.to_le_bytes(), quotient.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::MultiPoint;

    fn key(seed: u8) -> min_pk::PublicKey {
        min_pk::SecretKey::key_gen(&[seed; 32], &[])
            .unwrap()
            .sk_to_pk()
    }

    #[test]
    fn beta_is_a_cube_root_of_unity_the_square_of_the_legacy_hashs() {
        let legacy = Fp::from_hex(super::super::legacy_hash::SQRT_MINUS_3_MINUS_1_HALF);
        assert_eq!(BETA, legacy.mul(&legacy));
        assert_eq!(BETA.mul(&BETA).mul(&BETA), Fp::one());
    }

    #[test]
    fn the_endomorphism_multiplies_by_lambda() {
        for seed in 1..=8 {
            let point = key(seed);
            let by_lambda = [point]
                .as_slice()
                .mult(&LAMBDA.to_le_bytes(), HALF_SCALAR_BITS)
                .to_public_key();
            assert_eq!(endomorphism(&point), by_lambda, "seed {seed}");
        }
    }

    /// `high·λ + low` as 32 little-endian bytes (schoolbook, 64-bit limbs).
    fn times_lambda_plus(high: u128, low: u128) -> [u8; 32] {
        let a = [high as u64, (high >> 64) as u64];
        let b = [LAMBDA as u64, (LAMBDA >> 64) as u64];
        let mut limbs = [0u64; 4];
        limbs[0] = low as u64;
        limbs[1] = (low >> 64) as u64;
        for (i, &ai) in a.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &bj) in b.iter().enumerate() {
                let v = u128::from(limbs[i + j]) + u128::from(ai) * u128::from(bj) + carry;
                limbs[i + j] = v as u64;
                carry = v >> 64;
            }
            let mut k = i + 2;
            while carry != 0 && k < 4 {
                let v = u128::from(limbs[k]) + carry;
                limbs[k] = v as u64;
                carry = v >> 64;
                k += 1;
            }
        }
        let mut out = [0u8; 32];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(limbs) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    #[test]
    fn a_split_scalar_recombines() {
        let samples: [[u8; 32]; 4] = [
            [0; 32],
            [0x11; 32],
            {
                let mut k = [0xff; 32];
                k[31] = 0x73; // just below r
                k
            },
            core::array::from_fn(|i| (i * 37 + 5) as u8 & 0x7f),
        ];
        for k in samples {
            let (low, high) = split_scalar(&k);
            let (low, high) = (u128::from_le_bytes(low), u128::from_le_bytes(high));
            assert!(low < LAMBDA);
            assert_eq!(times_lambda_plus(high, low), k, "{k:?}");
        }
    }

    #[test]
    fn a_split_multiplication_equals_the_full_one() {
        let points: Vec<min_pk::PublicKey> = (1..=5).map(key).collect();
        let scalars: Vec<[u8; 32]> = (0u8..5)
            .map(|i| {
                core::array::from_fn(|j| {
                    (i.wrapping_mul(29).wrapping_add((j as u8).wrapping_mul(13)))
                        & if j == 31 { 0x3f } else { 0xff }
                })
            })
            .collect();
        let full: Vec<u8> = scalars.iter().flatten().copied().collect();
        let expected = points.as_slice().mult(&full, 255).to_public_key();
        let mut doubled = Vec::new();
        let mut halves = Vec::new();
        for (point, k) in points.iter().zip(&scalars) {
            let (low, high) = split_scalar(k);
            doubled.push(*point);
            halves.extend_from_slice(&low);
            doubled.push(endomorphism(point));
            halves.extend_from_slice(&high);
        }
        let split = doubled
            .as_slice()
            .mult(&halves, HALF_SCALAR_BITS)
            .to_public_key();
        assert_eq!(split, expected);
    }
}
