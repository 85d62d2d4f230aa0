//! Proof of work: compact targets (`bits`), 256-bit targets, block work and
//! the X11 proof-of-work check.

use super::u256::U256;
use crate::hash::BlockHash;
use core::fmt;
use core::ops::Add;

/// A compact target decoded the way Dash Core's `arith_uint256::SetCompact` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedCompact {
    /// The magnitude (what `SetCompact` stores, whatever the flags).
    pub value: U256,
    /// The sign bit was set on a non-zero mantissa.
    pub negative: bool,
    /// The mantissa does not fit in 256 bits at this exponent.
    pub overflow: bool,
}

/// Decodes compact `bits` into a 256-bit number with its sign and overflow flags.
pub fn decode_compact(bits: u32) -> DecodedCompact {
    let size = bits >> 24;
    let word = bits & 0x007f_ffff;
    let value = if size <= 3 {
        U256::from_u64(u64::from(word >> (8 * (3 - size))))
    } else {
        U256::from_u64(u64::from(word)) << (8 * (size - 3))
    };
    DecodedCompact {
        value,
        negative: word != 0 && bits & 0x0080_0000 != 0,
        overflow: word != 0
            && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)),
    }
}

/// Encodes a non-negative 256-bit number in compact form (Dash Core's `GetCompact`).
pub fn encode_compact(value: U256) -> u32 {
    let mut size = value.bits().div_ceil(8);
    let mut compact = if size <= 3 {
        (value.low_u64() << (8 * (3 - size))) as u32
    } else {
        (value >> (8 * (size - 3))).low_u64() as u32
    };
    // 0x00800000 is the sign bit: keep the mantissa below it.
    if compact & 0x0080_0000 != 0 {
        compact >>= 8;
        size += 1;
    }
    compact | (size << 24)
}

/// Why `bits` or a hash fails the proof-of-work check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowError {
    /// `bits` is negative, zero, overflows or is easier than the network's limit.
    TargetOutOfRange,
    /// The block hash is above the target.
    HashAboveTarget,
}

/// The 256-bit target `bits` encodes, if it is a valid target no easier than `pow_limit`.
pub fn target_from_bits(bits: u32, pow_limit: U256) -> Result<U256, PowError> {
    let decoded = decode_compact(bits);
    if decoded.negative || decoded.overflow || decoded.value.is_zero() || decoded.value > pow_limit
    {
        return Err(PowError::TargetOutOfRange);
    }
    Ok(decoded.value)
}

/// Checks that `hash` (X11 of the header) meets the target in `bits`.
pub fn check_proof_of_work(hash: &BlockHash, bits: u32, pow_limit: U256) -> Result<(), PowError> {
    let target = target_from_bits(bits, pow_limit)?;
    if U256::from_le_bytes(hash.as_bytes()) > target {
        return Err(PowError::HashAboveTarget);
    }
    Ok(())
}

/// Amount of work: the expected number of hashes to find a block, summed over a chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Work(U256);

impl Work {
    /// No work.
    pub const ZERO: Work = Work(U256::ZERO);

    /// The work of one block with target `bits`: `2^256 / (target + 1)`,
    /// zero for a negative, zero or overflowing target (Dash Core's `GetBlockProof`).
    pub fn from_bits(bits: u32) -> Work {
        let decoded = decode_compact(bits);
        if decoded.negative || decoded.overflow || decoded.value.is_zero() {
            return Work::ZERO;
        }
        let target = decoded.value;
        // 2^256 / (t + 1) = ~t / (t + 1) + 1, which stays within 256 bits.
        Work((!target / target.wrapping_add(U256::ONE)).wrapping_add(U256::ONE))
    }

    /// Work from its 32 big-endian bytes.
    pub const fn from_be_bytes(bytes: &[u8; 32]) -> Work {
        Work(U256::from_be_bytes(bytes))
    }

    /// The 32 big-endian bytes.
    pub fn to_be_bytes(self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// The work as a 256-bit number.
    pub fn as_u256(self) -> U256 {
        self.0
    }

    /// `self - other`, or `None` if `other` is larger.
    pub fn checked_sub(self, other: Work) -> Option<Work> {
        self.0.checked_sub(other.0).map(Work)
    }
}

impl Add for Work {
    type Output = Work;

    /// Sums work, saturating at 2^256 - 1 (no real chain comes near it).
    fn add(self, other: Work) -> Work {
        Work(self.0.checked_add(other.0).unwrap_or(U256::MAX))
    }
}

impl fmt::Display for Work {
    /// 64 hex digits, as Dash Core shows `chainwork`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Work(0x{})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_round_trips_like_core() {
        // Test vectors of Bitcoin Core's arith_uint256 SetCompact/GetCompact tests.
        let cases: [(u32, u32, bool, bool); 9] = [
            (0x00123456, 0, false, false),
            (0x01003456, 0, false, false),
            (0x01123456, 0x01120000, false, false),
            (0x02123456, 0x02123400, false, false),
            (0x03123456, 0x03123456, false, false),
            (0x04123456, 0x04123456, false, false),
            (0x04923456, 0x04923456, true, false),
            (0x05009234, 0x05009234, false, false),
            (0x20123456, 0x20123456, false, false),
        ];
        for (bits, round_trip, negative, overflow) in cases {
            let d = decode_compact(bits);
            assert_eq!(d.negative, negative, "{bits:08x}");
            assert_eq!(d.overflow, overflow, "{bits:08x}");
            // GetCompact of the magnitude, with the sign put back as Core does.
            let mut again = encode_compact(d.value);
            if negative {
                again |= 0x0080_0000;
            }
            assert_eq!(again, round_trip, "{bits:08x}");
        }
        assert!(decode_compact(0xff123456).overflow);
        assert_eq!(decode_compact(0x01fedcba).value, U256::from_u64(0x7e));
        assert!(decode_compact(0x01fedcba).negative);
    }

    #[test]
    fn pow_limit_bits_decode_to_the_limit_compact() {
        let limit = U256::MAX >> 20;
        assert_eq!(encode_compact(limit), 0x1e0fffff);
        assert!(target_from_bits(0x1e0fffff, limit).is_ok());
        assert_eq!(
            target_from_bits(0x1e100000, limit),
            Err(PowError::TargetOutOfRange)
        );
        assert_eq!(
            target_from_bits(0x1e800001, limit),
            Err(PowError::TargetOutOfRange)
        );
        assert_eq!(target_from_bits(0, limit), Err(PowError::TargetOutOfRange));
    }

    #[test]
    fn work_of_genesis_bits() {
        // Target 0x0ffff0 << 216; 2^256 / (target + 1) = 1048592 (0x100010).
        assert_eq!(
            Work::from_bits(0x1e0ffff0).as_u256(),
            U256::from_u64(0x100010)
        );
        assert_eq!(Work::from_bits(0x04923456), Work::ZERO);
    }

    #[test]
    fn hash_above_target_fails() {
        let limit = U256::MAX >> 20;
        let mut low = [0u8; 32];
        low[0] = 1;
        assert_eq!(
            check_proof_of_work(&BlockHash(low), 0x1e0ffff0, limit),
            Ok(())
        );
        assert_eq!(
            check_proof_of_work(&BlockHash([0xff; 32]), 0x1e0ffff0, limit),
            Err(PowError::HashAboveTarget)
        );
    }
}
