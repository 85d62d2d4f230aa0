//! The hashes LLMQ consensus signs and sorts by.

use super::params::LlmqType;
use crate::hash::{sha256d, BlockHash, Sha256dHash};

/// The request id of the ChainLock for `height`:
/// `dSHA256(compactsize-string "clsig" || i32 height)`.
pub fn chainlock_request_id(height: i32) -> Sha256dHash {
    let mut data = Vec::with_capacity(10);
    data.push(5);
    data.extend_from_slice(b"clsig");
    data.extend_from_slice(&height.to_le_bytes());
    Sha256dHash(sha256d(&data))
}

/// The hash a quorum signs for a request:
/// `dSHA256(u8 llmqType || quorumHash || requestId || messageHash)`.
pub fn sign_hash(
    llmq_type: LlmqType,
    quorum_hash: &BlockHash,
    request_id: &Sha256dHash,
    message_hash: &[u8; 32],
) -> Sha256dHash {
    let mut data = Vec::with_capacity(97);
    data.push(llmq_type.0);
    data.extend_from_slice(quorum_hash.as_bytes());
    data.extend_from_slice(request_id.as_bytes());
    data.extend_from_slice(message_hash);
    Sha256dHash(sha256d(&data))
}

/// The hash both signatures of a final commitment sign:
/// `dSHA256(u8 llmqType || quorumHash || dynbitset validMembers || quorumPublicKey || quorumVvecHash)`.
///
/// `valid_members` is the bitset as serialized (bit `i` in byte `i / 8`), with
/// `member_count` bits.
pub fn commitment_hash(
    llmq_type: LlmqType,
    quorum_hash: &BlockHash,
    member_count: usize,
    valid_members: &[u8],
    quorum_public_key: &[u8; 48],
    quorum_vvec_hash: &[u8; 32],
) -> Sha256dHash {
    let mut data = Vec::with_capacity(1 + 32 + 3 + valid_members.len() + 48 + 32);
    data.push(llmq_type.0);
    data.extend_from_slice(quorum_hash.as_bytes());
    crate::encode::write_compact_size(&mut data, member_count as u64);
    data.extend_from_slice(valid_members);
    data.extend_from_slice(quorum_public_key);
    data.extend_from_slice(quorum_vvec_hash);
    Sha256dHash(sha256d(&data))
}

/// The selection score of a quorum for a request (non-rotated signing):
/// `dSHA256(u8 llmqType || quorumHash || requestId)`; the lowest score signs.
pub fn signing_score(
    llmq_type: LlmqType,
    quorum_hash: &BlockHash,
    request_id: &Sha256dHash,
) -> [u8; 32] {
    let mut data = Vec::with_capacity(65);
    data.push(llmq_type.0);
    data.extend_from_slice(quorum_hash.as_bytes());
    data.extend_from_slice(request_id.as_bytes());
    sha256d(&data)
}

/// The index, within its rotation cycle, of the rotated quorum that signs
/// `request_id` (DIP-24): the `log2(signingActiveQuorumCount)` bits of the
/// request id's last 64-bit word (little-endian) just below its top bit.
pub fn rotated_signer_index(signing_active_quorum_count: u32, request_id: &Sha256dHash) -> u32 {
    let n = signing_active_quorum_count.checked_ilog2().unwrap_or(0);
    let mut word = [0u8; 8];
    word.copy_from_slice(&request_id.0[24..32]);
    let b = u64::from_le_bytes(word);
    let index = (b >> (63 - n)) & ((1u64 << n) - 1);
    // `index` < 2^n ≤ signing_active_quorum_count, so it fits.
    u32::try_from(index).unwrap_or(0)
}

/// The quorum modifier before v20, and after it when the work block's coinbase
/// holds no ChainLock: `dSHA256(u8 llmqType || blockHash)`.
pub fn modifier_from_block_hash(llmq_type: LlmqType, block_hash: &BlockHash) -> [u8; 32] {
    let mut data = Vec::with_capacity(33);
    data.push(llmq_type.0);
    data.extend_from_slice(block_hash.as_bytes());
    sha256d(&data)
}

/// The quorum modifier after v20: `dSHA256(u8 llmqType || i32 workHeight || bestCLSignature)`.
pub fn modifier_from_chainlock(
    llmq_type: LlmqType,
    work_height: u32,
    best_cl_signature: &[u8; 96],
) -> [u8; 32] {
    let mut data = Vec::with_capacity(101);
    data.push(llmq_type.0);
    data.extend_from_slice(&work_height.to_le_bytes());
    data.extend_from_slice(best_cl_signature);
    sha256d(&data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_serializes_prefix_and_height() {
        let mut data = vec![5u8];
        data.extend_from_slice(b"clsig");
        data.extend_from_slice(&905_775i32.to_le_bytes());
        assert_eq!(chainlock_request_id(905_775).0, sha256d(&data));
    }

    #[test]
    fn rotated_signer_index_reads_the_bits_below_the_top_bit() {
        let mut id = Sha256dHash([0; 32]);
        // Last word 0b0_10111_000…: the 5 bits below the top bit are 10111 = 23.
        id.0[31] = 0b0101_1100;
        assert_eq!(rotated_signer_index(32, &id), 23);
        id.0[31] = 0b1000_0011;
        assert_eq!(rotated_signer_index(32, &id), 0);
        assert_eq!(rotated_signer_index(1, &id), 0);
    }
}
