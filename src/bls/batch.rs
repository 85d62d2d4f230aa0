//! Batch verification of basic- and legacy-scheme signatures with one multi-pairing.
//!
//! Each (key, signature) pair gets a 64-bit weight `r` derived by hashing every
//! input of the batch, and the batch holds iff
//! `Π_groups e(Σ r·pk, H(m)) = e(g1, Σ r·sig)`. A message is hashed to the
//! curve once per group however many pairs sign it, and the whole batch costs
//! one Miller loop per group and a single final exponentiation. With weights
//! that depend on all inputs, invalid signatures cancel out only with
//! probability about 2^-64.

use super::{min_pk, PublicKey, Signature, BASIC_SCHEME_DST};
use bitcoin_hashes::{sha256, HashEngine};
use blst::{blst_fp12, blst_p1_affine, blst_p2_affine, MultiPoint, Pairing, BLST_ERROR};

/// Signatures of one message.
#[derive(Debug, Clone)]
pub struct SignatureGroup {
    /// The signed 32-byte message.
    pub message: [u8; 32],
    /// The (public key, signature) pairs that sign it.
    pub pairs: Vec<(PublicKey, Signature)>,
}

/// Bits of each random weight.
const WEIGHT_BITS: usize = 64;

/// The weights of every pair, in order, derived from all inputs.
fn weights(groups: &[&SignatureGroup]) -> Vec<Vec<[u8; 8]>> {
    let mut engine = sha256::HashEngine::default();
    for group in groups {
        engine.input(&group.message);
        for (key, sig) in &group.pairs {
            engine.input(&key.basic);
            engine.input(&sig.basic);
        }
    }
    let seed = sha256::Hash::from_engine(engine).to_byte_array();
    let mut counter: u64 = 0;
    groups
        .iter()
        .map(|group| {
            group
                .pairs
                .iter()
                .map(|_| {
                    let mut engine = sha256::HashEngine::default();
                    engine.input(&seed);
                    engine.input(&counter.to_le_bytes());
                    counter += 1;
                    let digest = sha256::Hash::from_engine(engine).to_byte_array();
                    let mut weight = [0u8; 8];
                    weight.copy_from_slice(&digest[..8]);
                    // Never zero.
                    weight[7] |= 0x80;
                    weight
                })
                .collect()
        })
        .collect()
}

/// One group's weighted key sum `Σ r·pk`.
fn combine_keys(group: &SignatureGroup, weights: &[[u8; 8]]) -> blst_p1_affine {
    let keys: Vec<min_pk::PublicKey> = group.pairs.iter().map(|(k, _)| k.point).collect();
    let scalars: Vec<u8> = weights.iter().flatten().copied().collect();
    blst_p1_affine::from(keys.as_slice().mult(&scalars, WEIGHT_BITS).to_public_key())
}

/// The signature side of every group at once: the weighted sum of all signatures, one
/// multi-scalar multiplication.
fn weighted_signature_sum(groups: &[&SignatureGroup], weights: &[Vec<[u8; 8]>]) -> blst_p2_affine {
    let sigs: Vec<min_pk::Signature> = groups
        .iter()
        .flat_map(|g| g.pairs.iter().map(|(_, s)| s.point))
        .collect();
    let scalars: Vec<u8> = weights.iter().flatten().flatten().copied().collect();
    blst_p2_affine::from(sigs.as_slice().mult(&scalars, WEIGHT_BITS).to_signature())
}

/// Whether every signature of every group verifies (basic scheme). An empty
/// batch, or a group without pairs, verifies trivially.
pub fn verify_batch(groups: &[SignatureGroup]) -> bool {
    let groups: Vec<&SignatureGroup> = groups.iter().filter(|g| !g.pairs.is_empty()).collect();
    if groups.is_empty() {
        return true;
    }
    let weights = weights(&groups);
    let sig_sum = weighted_signature_sum(&groups, &weights);
    let mut pairing = Pairing::new(true, BASIC_SCHEME_DST);
    for (i, (group, weights)) in groups.iter().zip(&weights).enumerate() {
        let key = combine_keys(group, weights);
        // The summed signature joins the first group; the others bring none.
        let sig: &dyn core::any::Any = if i == 0 { &sig_sum } else { &() };
        let result = pairing.aggregate(&key, false, sig, false, &group.message, &[]);
        if result != BLST_ERROR::BLST_SUCCESS {
            return false;
        }
    }
    pairing.commit();
    pairing.finalverify(None)
}

/// Whether every signature of every group verifies (legacy scheme: the
/// message hashed to G2 by the Chia/Dash legacy map). The same weighted
/// check as [`verify_batch`]: one Miller loop per group plus one for the
/// signature side, a single final exponentiation. An empty batch, or a group
/// without pairs, verifies trivially; a message that cannot be hashed fails.
pub fn verify_legacy_batch(groups: &[SignatureGroup]) -> bool {
    let groups: Vec<&SignatureGroup> = groups.iter().filter(|g| !g.pairs.is_empty()).collect();
    if groups.is_empty() {
        return true;
    }
    let Ok(generator) = super::g1_generator() else {
        return false;
    };
    let weights = weights(&groups);
    let sig_sum = weighted_signature_sum(&groups, &weights);
    let mut hashes = Vec::with_capacity(groups.len());
    let mut keys = Vec::with_capacity(groups.len());
    for (group, weights) in groups.iter().zip(&weights) {
        let Some(hash) = super::legacy_hash::hash_to_g2(&group.message) else {
            return false;
        };
        hashes.push(blst_p2_affine::from(hash));
        keys.push(combine_keys(group, weights));
    }
    let lhs = blst_fp12::miller_loop_n(&hashes, &keys);
    let rhs = blst_fp12::miller_loop(&sig_sum, &blst_p1_affine::from(generator));
    blst_fp12::finalverify(&lhs, &rhs)
}

#[cfg(test)]
mod tests {
    use super::super::Scheme;
    use super::*;

    fn signer(seed: u8) -> (min_pk::SecretKey, PublicKey) {
        let sk = min_pk::SecretKey::key_gen(&[seed; 32], &[]).unwrap();
        let pk = PublicKey::from_bytes(&sk.sk_to_pk().compress(), Scheme::Basic).unwrap();
        (sk, pk)
    }

    fn sign(sk: &min_pk::SecretKey, message: &[u8; 32]) -> Signature {
        let sig = sk.sign(message, BASIC_SCHEME_DST, &[]);
        Signature::from_bytes(&sig.compress(), Scheme::Basic).unwrap()
    }

    fn groups() -> Vec<SignatureGroup> {
        (0u8..3)
            .map(|g| {
                let message = [g; 32];
                let pairs = (0u8..2)
                    .map(|i| {
                        let (sk, pk) = signer(10 * g + i + 1);
                        (pk, sign(&sk, &message))
                    })
                    .collect();
                SignatureGroup { message, pairs }
            })
            .collect()
    }

    #[test]
    fn valid_batch_verifies_and_one_bad_signature_fails_it() {
        let mut batch = groups();
        assert!(verify_batch(&batch));
        assert!(verify_batch(&[]));
        // Swap two signatures of one message: each is valid, but not for its key.
        let (a, b) = (batch[1].pairs[0].1, batch[1].pairs[1].1);
        batch[1].pairs[0].1 = b;
        batch[1].pairs[1].1 = a;
        assert!(!verify_batch(&batch));
    }

    #[test]
    fn a_signature_of_another_message_fails_the_batch() {
        let mut batch = groups();
        let (sk, pk) = signer(99);
        batch[2].pairs.push((pk, sign(&sk, &[42; 32])));
        assert!(!verify_batch(&batch));
    }
}
