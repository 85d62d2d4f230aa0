//! One quorum's check with its secure aggregation split over threads: for the
//! check a ChainLock waits for. The signing quorum of a 400-member type costs
//! about 100 ms of key decompression and aggregation in wasm, all of it in one
//! thread when the quorum is checked as one job; the sum is linear, so each
//! worker can decompress and multiply a part of the signers' keys.
//!
//! The engine's thread cuts the signers of the job's first member list in parts
//! ([`split_aggregation`]: the coefficients need the keys' encodings only, not
//! their points), each worker sums its part ([`sum_part`]), and the engine's
//! thread adds the sums and checks both signatures
//! (`MasternodeEngine::apply_split_sums`). A job that does not verify from the
//! sums (a key that does not decode, a sum missing or wrong, an invalid
//! commitment, members from another list) is checked again there as one job,
//! so the status is the same whether the aggregation was split or not.

use super::check::{read_scheme, scheme_byte, signatures_verify, CheckJob};
use super::status::QuorumStatus;
use crate::bls::encoding::{g1_basic_to_legacy, g1_legacy_to_basic};
use crate::bls::{aggregate_key, secure_coefficients, weighted_key_sum, KeyCache, KeySum, Scheme};
use crate::encode::{write_compact_size, DecodeError, Reader};
use crate::llmq::verify::{
    check_structure, commitment_scheme, decode_commitment, prepared_with_key, signers, MemberKey,
};
use crate::llmq::LlmqType;

/// One signer's term of a split secure aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartTerm {
    /// The signer's operator key as its list holds it.
    pub operator_public_key: [u8; 48],
    /// The encoding of that key.
    pub scheme: Scheme,
    /// Its coefficient in the aggregation (little-endian, reduced).
    pub coefficient: [u8; 32],
}

/// One worker's part of a quorum's secure aggregation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregationPart {
    /// The signers to sum, each with its coefficient.
    pub terms: Vec<PartTerm>,
}

/// A member's key in `scheme`'s encoding, if it can be written in it.
fn encoding_in(member: &MemberKey, scheme: Scheme) -> Option<[u8; 48]> {
    let bytes = &member.operator_public_key;
    match (member.scheme, scheme) {
        (from, to) if from == to => Some(*bytes),
        (Scheme::Legacy, _) => g1_legacy_to_basic(bytes).ok(),
        (Scheme::Basic, _) => Some(g1_basic_to_legacy(bytes)),
    }
}

/// The signers of `job`'s commitment among the members of its first list
/// (the one the rules require, or the nearest), with their coefficients, in
/// at most `parts` parts of about equal size; `None` if the commitment does
/// not pass [`check_structure`] with those members (check the job whole).
pub fn split_aggregation(job: &CheckJob, parts: usize) -> Option<Vec<AggregationPart>> {
    let members = &job.candidates.first()?.members;
    let params = LlmqType(job.commitment.llmq_type).params()?;
    check_structure(&job.commitment, params, job.base_height, members.len()).ok()?;
    let scheme = commitment_scheme(&job.commitment);
    let signers: Vec<&MemberKey> = signers(&job.commitment, members).collect();
    let encodings = signers
        .iter()
        .map(|member| encoding_in(member, scheme))
        .collect::<Option<Vec<[u8; 48]>>>()?;
    let terms: Vec<PartTerm> = signers
        .iter()
        .zip(secure_coefficients(&encodings))
        .map(|(member, coefficient)| PartTerm {
            operator_public_key: member.operator_public_key,
            scheme: member.scheme,
            coefficient,
        })
        .collect();
    let size = terms.len().div_ceil(parts.max(1)).max(1);
    Some(
        terms
            .chunks(size)
            .map(|chunk| AggregationPart {
                terms: chunk.to_vec(),
            })
            .collect(),
    )
}

/// A worker's task: the sum of its part's terms, its keys decoded through
/// `keys`; `None` if a key does not decode (the engine then names the failure).
pub fn sum_part(part: &AggregationPart, keys: &mut KeyCache) -> Option<KeySum> {
    for term in &part.terms {
        keys.get(&term.operator_public_key, term.scheme).ok()?;
    }
    let terms = part
        .terms
        .iter()
        .map(|term| {
            let signer = keys.signer(&term.operator_public_key, term.scheme).ok()?;
            Some((signer, term.coefficient))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(weighted_key_sum(&terms))
}

/// `job`'s status if both signatures of its commitment verify against the
/// total of `sums`, the sums of the parts [`split_aggregation`] made of it:
/// verified with the members of its first list. `None` says only that they
/// do not (the job is then checked whole to name why, or to try other lists).
pub fn verified_from_sums(job: &CheckJob, sums: &[KeySum]) -> Option<QuorumStatus> {
    let candidate = job.candidates.first()?;
    let params = LlmqType(job.commitment.llmq_type).params()?;
    let commitment = &job.commitment;
    check_structure(commitment, params, job.base_height, candidate.members.len()).ok()?;
    let points = decode_commitment(commitment).ok()?;
    let members_key = aggregate_key(sums).ok()?;
    let count = signers(commitment, &candidate.members).count();
    let prepared = prepared_with_key(commitment, &points, members_key, count);
    signatures_verify(&prepared).then_some(QuorumStatus::Verified {
        members_list_height: candidate.list_height,
    })
}

/// [`verified_from_sums`] from the workers' answers ([`sum_encoded_part`]), one
/// per part in order; an answer that is not a sum gives `None`.
pub fn verified_from_encoded_sums(job: &CheckJob, answers: &[Vec<u8>]) -> Option<QuorumStatus> {
    let sums = answers
        .iter()
        .map(|answer| {
            let bytes: &[u8; 96] = answer.as_slice().try_into().ok()?;
            KeySum::from_bytes(bytes).ok()
        })
        .collect::<Option<Vec<KeySum>>>()?;
    verified_from_sums(job, &sums)
}

/// A part as bytes, for a worker.
pub fn encode_part(part: &AggregationPart) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + part.terms.len() * 81);
    write_compact_size(&mut out, part.terms.len() as u64);
    for term in &part.terms {
        out.extend_from_slice(&term.operator_public_key);
        out.push(scheme_byte(term.scheme));
        out.extend_from_slice(&term.coefficient);
    }
    out
}

/// The part [`encode_part`] wrote.
pub fn decode_part(bytes: &[u8]) -> Result<AggregationPart, DecodeError> {
    let mut r = Reader::new(bytes);
    let terms = r.read_vec_with("aggregation terms", 48 + 1 + 32, |r| {
        let operator_public_key = r.read_array()?;
        let scheme = read_scheme(r, "aggregation term scheme")?;
        Ok(PartTerm {
            operator_public_key,
            scheme,
            coefficient: r.read_array()?,
        })
    })?;
    r.finish()?;
    Ok(AggregationPart { terms })
}

/// A worker's whole task: the encoded part summed with the worker's key
/// cache; the sum's 96 bytes, or none if a key does not decode.
pub fn sum_encoded_part(part: &[u8], keys: &mut KeyCache) -> Result<Vec<u8>, DecodeError> {
    let part = decode_part(part)?;
    Ok(sum_part(&part, keys).map_or_else(Vec::new, |sum| sum.to_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bls::{secure_aggregate, Signer};
    use blst::min_pk::SecretKey;

    fn key(seed: u8) -> [u8; 48] {
        SecretKey::key_gen(&[seed; 32], &[])
            .unwrap()
            .sk_to_pk()
            .compress()
    }

    /// Terms of a secure aggregation of keys 1..=n (basic scheme).
    fn terms(n: u8) -> Vec<PartTerm> {
        let encodings: Vec<[u8; 48]> = (1..=n).map(key).collect();
        encodings
            .iter()
            .zip(secure_coefficients(&encodings))
            .map(|(bytes, coefficient)| PartTerm {
                operator_public_key: *bytes,
                scheme: Scheme::Basic,
                coefficient,
            })
            .collect()
    }

    #[test]
    fn the_sums_of_any_parts_add_up_to_the_secure_aggregate() {
        let all = terms(9);
        let keys = KeyCache::new();
        let signers: Vec<Signer<'_>> = all
            .iter()
            .map(|t| keys.signer(&t.operator_public_key, t.scheme).unwrap())
            .collect();
        let whole = secure_aggregate(&signers, Scheme::Basic).unwrap();
        for size in [1, 2, 4, 9] {
            let sums: Vec<KeySum> = all
                .chunks(size)
                .map(|chunk| {
                    let part = AggregationPart {
                        terms: chunk.to_vec(),
                    };
                    let encoded = sum_encoded_part(&encode_part(&part), &mut KeyCache::new());
                    KeySum::from_bytes(&encoded.unwrap().try_into().unwrap()).unwrap()
                })
                .collect();
            assert_eq!(aggregate_key(&sums).unwrap(), whole, "parts of {size}");
        }
    }

    #[test]
    fn a_part_with_a_key_that_does_not_decode_has_no_sum() {
        let mut part = AggregationPart { terms: terms(3) };
        part.terms[1].operator_public_key = [0xff; 48];
        assert_eq!(sum_part(&part, &mut KeyCache::new()), None);
        assert_eq!(
            sum_encoded_part(&encode_part(&part), &mut KeyCache::new()),
            Ok(Vec::new())
        );
    }

    #[test]
    fn parts_round_trip_and_bad_bytes_are_refused() {
        let part = AggregationPart { terms: terms(3) };
        let bytes = encode_part(&part);
        assert_eq!(decode_part(&bytes), Ok(part));
        let mut bad_scheme = bytes.clone();
        bad_scheme[1 + 48] = 2;
        assert!(decode_part(&bad_scheme).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode_part(&trailing).is_err());
        assert!(decode_part(&bytes[..bytes.len() - 1]).is_err());
        let mut too_many = bytes;
        too_many[0] = 200;
        assert!(decode_part(&too_many).is_err());
    }

    #[test]
    fn sums_from_other_threads_must_be_subgroup_points() {
        let sum = weighted_key_sum(&[]);
        assert_eq!(KeySum::from_bytes(&sum.to_bytes()), Ok(sum));
        assert!(aggregate_key(&[sum]).is_err(), "infinity is no aggregate");
        assert!(KeySum::from_bytes(&[0xff; 96]).is_err());
    }
}
