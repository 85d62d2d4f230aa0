//! The base field Fp of BLS12-381: plain Montgomery arithmetic on 64-bit limbs, for what
//! `blst` does not offer through its safe interface (the legacy scheme's hash to G2, the G1
//! endomorphism). It favours clarity over speed: the heavy arithmetic stays in `blst`.

/// The base field prime p of BLS12-381, little-endian limbs.
const P: [u64; 6] = [
    0xb9fe_ffff_ffff_aaab,
    0x1eab_fffe_b153_ffff,
    0x6730_d2a0_f6b0_f624,
    0x6477_4b84_f385_12bf,
    0x4b1b_a7b6_434b_acd7,
    0x1a01_11ea_397f_e69a,
];

pub(super) fn geq(a: &[u64; 6], b: &[u64; 6]) -> bool {
    for i in (0..6).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

fn sub_p(a: &mut [u64; 6]) {
    let mut borrow = 0u64;
    for (x, p) in a.iter_mut().zip(P) {
        let (d, b1) = x.overflowing_sub(p);
        let (d, b2) = d.overflowing_sub(borrow);
        *x = d;
        borrow = u64::from(b1 || b2);
    }
}

/// `-p^-1 mod 2^64`, for Montgomery reduction.
const fn inv_p() -> u64 {
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 63 {
        inv = inv.wrapping_mul(inv).wrapping_mul(P[0]);
        i += 1;
    }
    inv.wrapping_neg()
}

/// `-p^-1 mod 2^64`, computed once at compile time.
const P_INV: u64 = inv_p();

/// An element of Fp in Montgomery form (`a·2^384 mod p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fp(pub(super) [u64; 6]);

impl Fp {
    pub(super) const ZERO: Fp = Fp([0; 6]);

    pub(super) fn mul(&self, other: &Fp) -> Fp {
        let mut t = [0u64; 8];
        for i in 0..6 {
            let mut carry = 0u128;
            for (limb, a) in t.iter_mut().zip(self.0) {
                let v = u128::from(*limb) + u128::from(a) * u128::from(other.0[i]) + carry;
                *limb = v as u64;
                carry = v >> 64;
            }
            let v = u128::from(t[6]) + carry;
            t[6] = v as u64;
            t[7] = (v >> 64) as u64;
            let m = t[0].wrapping_mul(P_INV);
            let mut carry = (u128::from(t[0]) + u128::from(m) * u128::from(P[0])) >> 64;
            for j in 1..6 {
                let v = u128::from(t[j]) + u128::from(m) * u128::from(P[j]) + carry;
                t[j - 1] = v as u64;
                carry = v >> 64;
            }
            let v = u128::from(t[6]) + carry;
            t[5] = v as u64;
            t[6] = t[7] + (v >> 64) as u64;
        }
        let mut out = [t[0], t[1], t[2], t[3], t[4], t[5]];
        if t[6] != 0 || geq(&out, &P) {
            sub_p(&mut out);
        }
        Fp(out)
    }

    pub(super) fn add(&self, other: &Fp) -> Fp {
        let mut out = [0u64; 6];
        let mut carry = 0u64;
        for ((o, a), b) in out.iter_mut().zip(self.0).zip(other.0) {
            let (s, c1) = a.overflowing_add(b);
            let (s, c2) = s.overflowing_add(carry);
            *o = s;
            carry = u64::from(c1 || c2);
        }
        if carry != 0 || geq(&out, &P) {
            sub_p(&mut out);
        }
        Fp(out)
    }

    pub(super) fn neg(&self) -> Fp {
        if *self == Fp::ZERO {
            return *self;
        }
        let mut out = P;
        let mut borrow = 0u64;
        for (x, a) in out.iter_mut().zip(self.0) {
            let (d, b1) = x.overflowing_sub(a);
            let (d, b2) = d.overflowing_sub(borrow);
            *x = d;
            borrow = u64::from(b1 || b2);
        }
        Fp(out)
    }

    pub(super) fn sub(&self, other: &Fp) -> Fp {
        self.add(&other.neg())
    }

    /// `2^768 mod p`, to enter Montgomery form.
    fn r2() -> Fp {
        let mut v = [0u64; 6];
        v[0] = 1;
        for _ in 0..768 {
            let mut carry = 0u64;
            for limb in v.iter_mut() {
                let next = *limb >> 63;
                *limb = (*limb << 1) | carry;
                carry = next;
            }
            if carry != 0 || geq(&v, &P) {
                sub_p(&mut v);
            }
        }
        Fp(v)
    }

    /// A canonical value below p, from big-endian bytes (at most 48).
    pub(super) fn from_be(bytes: &[u8]) -> Fp {
        let mut v = [0u64; 6];
        for (i, b) in bytes.iter().rev().enumerate() {
            v[i / 8] |= u64::from(*b) << (8 * (i % 8));
        }
        while geq(&v, &P) {
            sub_p(&mut v);
        }
        Fp(v).mul(&Fp::r2())
    }

    /// The value of 64 big-endian bytes modulo p.
    pub(super) fn from_be_wide(bytes: &[u8; 64]) -> Fp {
        let high = Fp::from_be(&bytes[..32]);
        let low = Fp::from_be(&bytes[32..]);
        let mut two_256 = [0u8; 33];
        two_256[0] = 1;
        high.mul(&Fp::from_be(&two_256)).add(&low)
    }

    pub(super) fn from_hex(hex_be: &str) -> Fp {
        let bytes = hex::decode(hex_be).unwrap_or_default();
        Fp::from_be(&bytes)
    }

    pub(super) fn one() -> Fp {
        Fp::from_be(&[1])
    }

    /// The canonical value, little-endian limbs.
    pub(super) fn canonical(&self) -> [u64; 6] {
        let mut one = [0u64; 6];
        one[0] = 1;
        self.mul(&Fp(one)).0
    }

    pub(super) fn to_be(self) -> [u8; 48] {
        let limbs = self.canonical();
        let mut out = [0u8; 48];
        for (i, limb) in limbs.iter().enumerate() {
            out[48 - 8 * (i + 1)..48 - 8 * i].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    pub(super) fn pow(&self, exp_le: &[u64; 6]) -> Fp {
        let mut result = Fp::one();
        for limb in exp_le.iter().rev() {
            for bit in (0..64).rev() {
                result = result.mul(&result);
                if (limb >> bit) & 1 == 1 {
                    result = result.mul(self);
                }
            }
        }
        result
    }

    pub(super) fn inv(&self) -> Fp {
        let mut e = P;
        e[0] -= 2;
        self.pow(&e)
    }

    /// A square root, if one exists (p ≡ 3 mod 4).
    pub(super) fn sqrt(&self) -> Option<Fp> {
        // (p + 1) / 4
        let mut e = P;
        e[0] += 1;
        for i in 0..6 {
            e[i] = (e[i] >> 2) | e.get(i + 1).map_or(0, |n| n << 62);
        }
        let root = self.pow(&e);
        (root.mul(&root) == *self).then_some(root)
    }
}
