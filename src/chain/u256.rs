//! Unsigned 256-bit integers: just the arithmetic that proof of work, chain
//! work and difficulty retargeting need.
//!
//! Multiplication wraps modulo 2^256 like Dash Core's `arith_uint256`, so the
//! retargeting code computes bit-for-bit what Core computes. Nothing here can
//! panic: division by zero yields zero and is never reached by the callers,
//! which divide only by non-zero constants or by `target + 1`.

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Div, Not, Shl, Shr};

/// An unsigned 256-bit integer, four 64-bit limbs, least significant first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256([u64; 4]);

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);
    /// One.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// 2^256 - 1.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// The value of a `u64`.
    pub const fn from_u64(v: u64) -> U256 {
        U256([v, 0, 0, 0])
    }

    /// Reads 32 little-endian bytes (how a hash in wire order is read as a number).
    pub const fn from_le_bytes(bytes: &[u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        let mut i = 0;
        while i < 32 {
            limbs[i / 8] |= (bytes[i] as u64) << (8 * (i % 8));
            i += 1;
        }
        U256(limbs)
    }

    /// Reads 32 big-endian bytes.
    pub const fn from_be_bytes(bytes: &[u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        let mut i = 0;
        while i < 32 {
            limbs[(31 - i) / 8] |= (bytes[i] as u64) << (8 * ((31 - i) % 8));
            i += 1;
        }
        U256(limbs)
    }

    /// The 32 big-endian bytes.
    pub fn to_be_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(self.0.iter().rev()) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// The lowest 64 bits.
    pub const fn low_u64(self) -> u64 {
        self.0[0]
    }

    /// Whether the value is zero.
    pub fn is_zero(self) -> bool {
        self.0 == [0; 4]
    }

    /// The number of significant bits (0 for zero).
    pub fn bits(self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    /// `self + other`, and whether it overflowed.
    pub fn overflowing_add(self, other: U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut carry = false;
        for (i, limb) in out.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(other.0[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *limb = s2;
            carry = c1 || c2;
        }
        (U256(out), carry)
    }

    /// `self + other` modulo 2^256.
    pub fn wrapping_add(self, other: U256) -> U256 {
        self.overflowing_add(other).0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: U256) -> Option<U256> {
        match self.overflowing_add(other) {
            (sum, false) => Some(sum),
            (_, true) => None,
        }
    }

    /// `self - other`, and whether it borrowed.
    pub fn overflowing_sub(self, other: U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for (i, limb) in out.iter_mut().enumerate() {
            let (d1, b1) = self.0[i].overflowing_sub(other.0[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *limb = d2;
            borrow = b1 || b2;
        }
        (U256(out), borrow)
    }

    /// `self - other` modulo 2^256.
    pub fn wrapping_sub(self, other: U256) -> U256 {
        self.overflowing_sub(other).0
    }

    /// `self - other`, or `None` if `other` is larger.
    pub fn checked_sub(self, other: U256) -> Option<U256> {
        match self.overflowing_sub(other) {
            (diff, false) => Some(diff),
            (_, true) => None,
        }
    }

    /// Quotient and remainder of the division by a prepared divisor: a few
    /// multiplications instead of hardware divisions (Möller and Granlund,
    /// "Improved division by invariant integers", 2011).
    pub fn div_rem_reciprocal(self, divisor: &Reciprocal) -> (U256, u64) {
        let Reciprocal { d, shift, v } = *divisor;
        let shifted = self << shift;
        let mut rem = if shift == 0 {
            0
        } else {
            self.0[3] >> (64 - shift)
        };
        let mut out = [0u64; 4];
        for i in (0..4).rev() {
            let (q, r) = div_2by1(rem, shifted.0[i], d, v);
            out[i] = q;
            rem = r;
        }
        (U256(out), rem >> shift)
    }

    /// `self * m` modulo 2^256, and whether it overflowed.
    pub fn overflowing_mul_u64(self, m: u64) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut carry: u128 = 0;
        for (i, limb) in out.iter_mut().enumerate() {
            let product = u128::from(self.0[i]) * u128::from(m) + carry;
            *limb = product as u64;
            carry = product >> 64;
        }
        (U256(out), carry != 0)
    }

    /// `self * m` modulo 2^256.
    pub fn wrapping_mul_u64(self, m: u64) -> U256 {
        self.overflowing_mul_u64(m).0
    }

    /// Quotient and remainder of the division by a non-zero `u64`
    /// (`(0, 0)` for a zero divisor).
    pub fn div_rem_u64(self, d: u64) -> (U256, u64) {
        if d == 0 {
            return (U256::ZERO, 0);
        }
        if let Ok(small) = u32::try_from(d) {
            // 64-by-32-bit steps use the hardware divider (on wasm too),
            // where 128-bit division is a slow library call.
            let small = u64::from(small);
            let mut digits = self.to_u32_digits();
            let mut rem: u64 = 0;
            for digit in digits.iter_mut().rev() {
                let cur = (rem << 32) | u64::from(*digit);
                *digit = (cur / small) as u32;
                rem = cur % small;
            }
            return (U256::from_u32_digits(&digits), rem);
        }
        let mut out = [0u64; 4];
        let mut rem: u128 = 0;
        for i in (0..4).rev() {
            let cur = (rem << 64) | u128::from(self.0[i]);
            out[i] = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        (U256(out), rem as u64)
    }

    /// The value as eight 32-bit digits, least significant first.
    fn to_u32_digits(self) -> [u32; 8] {
        let mut out = [0u32; 8];
        for (i, limb) in self.0.iter().enumerate() {
            out[2 * i] = *limb as u32;
            out[2 * i + 1] = (*limb >> 32) as u32;
        }
        out
    }

    /// The value of eight 32-bit digits, least significant first.
    fn from_u32_digits(digits: &[u32; 8]) -> U256 {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            *limb = u64::from(digits[2 * i]) | (u64::from(digits[2 * i + 1]) << 32);
        }
        U256(limbs)
    }
}

/// A non-zero divisor below 2^64 prepared for repeated fast division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reciprocal {
    /// The divisor shifted so its top bit is set.
    d: u64,
    /// The shift applied.
    shift: u32,
    /// floor((2^128 - 1) / d) - 2^64.
    v: u64,
}

impl Reciprocal {
    /// Prepares division by `divisor`; `None` for zero.
    pub const fn new(divisor: u64) -> Option<Reciprocal> {
        if divisor == 0 {
            return None;
        }
        let shift = divisor.leading_zeros();
        let d = divisor << shift;
        let v = ((((!d) as u128) << 64) | u64::MAX as u128) / d as u128;
        Some(Reciprocal {
            d,
            shift,
            v: v as u64,
        })
    }
}

/// Divides the two-word number `(u1, u0)` by the normalized `d` with `u1 < d`.
fn div_2by1(u1: u64, u0: u64, d: u64, v: u64) -> (u64, u64) {
    let q = (u128::from(v) * u128::from(u1)).wrapping_add((u128::from(u1) << 64) | u128::from(u0));
    let mut q1 = ((q >> 64) as u64).wrapping_add(1);
    let q0 = q as u64;
    let mut r = u0.wrapping_sub(q1.wrapping_mul(d));
    if r > q0 {
        q1 = q1.wrapping_sub(1);
        r = r.wrapping_add(d);
    }
    if r >= d {
        q1 = q1.wrapping_add(1);
        r -= d;
    }
    (q1, r)
}

/// Knuth's algorithm D on 32-bit digits, for a divisor of at least two 64-bit
/// limbs and a dividend at least as large.
fn long_division(dividend: U256, divisor: U256) -> U256 {
    const BASE: u64 = 1 << 32;
    let v_digits = divisor.to_u32_digits();
    let n = v_digits.iter().rposition(|&d| d != 0).map_or(0, |p| p + 1);
    let u_digits = dividend.to_u32_digits();
    let m = u_digits.iter().rposition(|&d| d != 0).map_or(0, |p| p + 1);
    if n < 2 || m < n {
        return U256::ZERO;
    }
    // Normalize so the divisor's top digit has its high bit set.
    let shift = v_digits[n - 1].leading_zeros();
    let v = (divisor << shift).to_u32_digits();
    let mut u = [0u32; 9];
    let shifted = (dividend << shift).to_u32_digits();
    u[..8].copy_from_slice(&shifted);
    if shift > 0 {
        u[8] = u_digits[7] >> (32 - shift);
    }
    let mut q = [0u32; 8];
    let v_top = u64::from(v[n - 1]);
    let v_next = u64::from(v[n - 2]);
    for j in (0..=m - n).rev() {
        let numerator = (u64::from(u[j + n]) << 32) | u64::from(u[j + n - 1]);
        let mut qhat = numerator / v_top;
        let mut rhat = numerator % v_top;
        while qhat >= BASE || qhat * v_next > ((rhat << 32) | u64::from(u[j + n - 2])) {
            qhat -= 1;
            rhat += v_top;
            if rhat >= BASE {
                break;
            }
        }
        // Multiply and subtract qhat * v from u[j..=j+n].
        let mut borrow: i64 = 0;
        let mut carry: u64 = 0;
        for i in 0..n {
            let product = qhat * u64::from(v[i]) + carry;
            carry = product >> 32;
            let t = i64::from(u[i + j]) - borrow - (product & 0xffff_ffff) as i64;
            u[i + j] = t as u32;
            borrow = if t < 0 { 1 } else { 0 };
        }
        let t = i64::from(u[j + n]) - borrow - carry as i64;
        u[j + n] = t as u32;
        if t < 0 {
            // qhat was one too large: add the divisor back.
            qhat -= 1;
            let mut carry: u64 = 0;
            for i in 0..n {
                let sum = u64::from(u[i + j]) + u64::from(v[i]) + carry;
                u[i + j] = sum as u32;
                carry = sum >> 32;
            }
            u[j + n] = u[j + n].wrapping_add(carry as u32);
        }
        q[j] = qhat as u32;
    }
    U256::from_u32_digits(&q)
}

impl Not for U256 {
    type Output = U256;

    /// The bitwise complement.
    fn not(self) -> U256 {
        let [a, b, c, d] = self.0;
        U256([!a, !b, !c, !d])
    }
}

impl Div for U256 {
    type Output = U256;

    /// `self / d`, rounding down; zero when `d` is zero.
    fn div(self, d: U256) -> U256 {
        if d.0[1] == 0 && d.0[2] == 0 && d.0[3] == 0 {
            return self.div_rem_u64(d.0[0]).0;
        }
        if self < d {
            return U256::ZERO;
        }
        long_division(self, d)
    }
}

impl Shl<u32> for U256 {
    type Output = U256;

    /// `self << shift` (zero for shifts of 256 or more).
    fn shl(self, shift: u32) -> U256 {
        if shift >= 256 {
            return U256::ZERO;
        }
        let limbs = (shift / 64) as usize;
        let bits = shift % 64;
        let mut out = [0u64; 4];
        for i in (limbs..4).rev() {
            let src = i - limbs;
            out[i] = self.0[src] << bits;
            if bits > 0 && src > 0 {
                out[i] |= self.0[src - 1] >> (64 - bits);
            }
        }
        U256(out)
    }
}

impl Shr<u32> for U256 {
    type Output = U256;

    /// `self >> shift` (zero for shifts of 256 or more).
    fn shr(self, shift: u32) -> U256 {
        if shift >= 256 {
            return U256::ZERO;
        }
        let limbs = (shift / 64) as usize;
        let bits = shift % 64;
        let mut out = [0u64; 4];
        for (i, limb) in out.iter_mut().enumerate().take(4 - limbs) {
            let src = i + limbs;
            *limb = self.0[src] >> bits;
            if bits > 0 && src + 1 < 4 {
                *limb |= self.0[src + 1] << (64 - bits);
            }
        }
        U256(out)
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                unequal => return unequal,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U256(0x{self})")
    }
}

impl fmt::Display for U256 {
    /// Hexadecimal, 64 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_be_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_hex(s: &str) -> U256 {
        let mut bytes = [0u8; 32];
        let padded = format!("{s:0>64}");
        hex::decode_to_slice(padded, &mut bytes).unwrap();
        U256::from_be_bytes(&bytes)
    }

    #[test]
    fn byte_orders_round_trip() {
        let v = from_hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
        assert_eq!(U256::from_be_bytes(&v.to_be_bytes()), v);
        let mut le = v.to_be_bytes();
        le.reverse();
        assert_eq!(U256::from_le_bytes(&le), v);
        assert_eq!(v.low_u64(), 0x191a1b1c1d1e1f20);
        assert_eq!(v.bits(), 249);
    }

    #[test]
    fn add_sub_report_overflow() {
        assert_eq!(U256::MAX.overflowing_add(U256::ONE), (U256::ZERO, true));
        assert_eq!(U256::ZERO.overflowing_sub(U256::ONE), (U256::MAX, true));
        assert_eq!(U256::MAX.checked_add(U256::ONE), None);
        assert_eq!(
            U256::from_u64(u64::MAX).checked_add(U256::ONE),
            Some(U256([0, 1, 0, 0]))
        );
    }

    #[test]
    fn shifts_cross_limbs() {
        let one = U256::ONE;
        assert_eq!((one << 255).bits(), 256);
        assert_eq!((one << 255) >> 255, one);
        assert_eq!(one << 70, U256([0, 64, 0, 0]));
        assert_eq!(one << 256, U256::ZERO);
        assert_eq!(U256::MAX >> 200, from_hex("ffffffffffffff"));
    }

    #[test]
    fn work_of_the_pow_limit_divides_exactly() {
        // 2^256 / 2^236 = 2^20, computed as Core does: ~t / (t + 1) + 1.
        let target = U256::MAX >> 20;
        let work = (!target / target.wrapping_add(U256::ONE)).wrapping_add(U256::ONE);
        assert_eq!(work, U256::from_u64(1 << 20));
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Shift-and-subtract division: slow, obviously right.
        fn reference_div(n: U256, d: U256) -> U256 {
            if d.is_zero() {
                return U256::ZERO;
            }
            let mut q = U256::ZERO;
            let mut r = U256::ZERO;
            for bit in (0..256).rev() {
                r = r << 1;
                if (n >> bit).0[0] & 1 == 1 {
                    r.0[0] |= 1;
                }
                if r >= d {
                    r = r.wrapping_sub(d);
                    q = q.wrapping_add(U256::ONE << bit);
                }
            }
            q
        }

        fn any_u256() -> impl Strategy<Value = U256> {
            (any::<[u64; 4]>(), 0u32..256).prop_map(|(limbs, shift)| U256(limbs) >> shift)
        }

        proptest! {
            #[test]
            fn division_matches_the_reference(n in any_u256(), d in any_u256()) {
                prop_assert_eq!(n / d, reference_div(n, d));
            }

            #[test]
            fn division_inverts_multiplication(a in any_u256(), m in 1u64..) {
                let (product, overflow) = a.overflowing_mul_u64(m);
                prop_assume!(!overflow);
                prop_assert_eq!(product / U256::from_u64(m), a);
                prop_assert_eq!(product.div_rem_u64(m), (a, 0));
            }

            #[test]
            fn reciprocal_division_matches_plain_division(n in any_u256(), d in 1u64..) {
                let reciprocal = Reciprocal::new(d).unwrap();
                prop_assert_eq!(n.div_rem_reciprocal(&reciprocal), n.div_rem_u64(d));
                let small = d % 100 + 1;
                let reciprocal = Reciprocal::new(small).unwrap();
                prop_assert_eq!(n.div_rem_reciprocal(&reciprocal), n.div_rem_u64(small));
            }

            #[test]
            fn sub_inverts_add(a in any_u256(), b in any_u256()) {
                prop_assert_eq!(a.wrapping_add(b).wrapping_sub(b), a);
            }
        }
    }
}
