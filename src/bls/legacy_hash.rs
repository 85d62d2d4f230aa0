//! The legacy scheme's hash to G2 (the pre-IETF Chia construction Dash used
//! before v19): four field elements from SHA-256 of the 32-byte message with
//! the tags `G2_0_c0`, `G2_0_c1`, `G2_1_c0`, `G2_1_c1`, two
//! Shallue–van de Woestijne / Fouque–Tibouchi encodings to the twist, their
//! sum, and cofactor clearing by `h_eff`.
//!
//! The field arithmetic ([`Fp`](super::field::Fp)) runs a few times per legacy signature.

use super::field::{geq, Fp};
use super::min_pk;
use bitcoin_hashes::{sha256, HashEngine};
use blst::MultiPoint;

/// `sqrt(-3) mod p`, big-endian hex.
const SQRT_MINUS_3: &str =
    "be32ce5fbeed9ca374d38c0ed41eefd5bb675277cdf12d11bc2fb026c41400045c03fffffffdfffd";
/// `(sqrt(-3) - 1) / 2 mod p`, big-endian hex (a cube root of unity; its square is the G1 endomorphism's β).
pub(super) const SQRT_MINUS_3_MINUS_1_HALF: &str =
    "5f19672fdf76ce51ba69c6076a0f77eaddb3a93be6f89688de17d813620a00022e01fffffffefffe";
/// The effective cofactor of G2 (RFC 9380, section 8.8.2), big-endian hex.
const H_EFF: &str = "0bc69f08f2ee75b3584c6a0ea91b352888e2a8e9145ad7689986ff031508ffe1329c2f178731db956d82bf015d1212b02ec0ec69d7477c1ae954cbc06689f6a359894c0adebbf6b4e8020005aaa95551";

/// An element of Fp2 = Fp[i]/(i² + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fp2(Fp, Fp);

impl Fp2 {
    fn add(&self, o: &Fp2) -> Fp2 {
        Fp2(self.0.add(&o.0), self.1.add(&o.1))
    }

    fn neg(&self) -> Fp2 {
        Fp2(self.0.neg(), self.1.neg())
    }

    fn mul(&self, o: &Fp2) -> Fp2 {
        Fp2(
            self.0.mul(&o.0).sub(&self.1.mul(&o.1)),
            self.0.mul(&o.1).add(&self.1.mul(&o.0)),
        )
    }

    fn is_zero(&self) -> bool {
        self.0 == Fp::ZERO && self.1 == Fp::ZERO
    }

    fn inv(&self) -> Fp2 {
        let norm = self.0.mul(&self.0).add(&self.1.mul(&self.1)).inv();
        Fp2(self.0.mul(&norm), self.1.neg().mul(&norm))
    }

    /// A square root, if one exists.
    fn sqrt(&self) -> Option<Fp2> {
        if self.1 == Fp::ZERO {
            return match self.0.sqrt() {
                Some(r) => Some(Fp2(r, Fp::ZERO)),
                None => self.0.neg().sqrt().map(|r| Fp2(Fp::ZERO, r)),
            };
        }
        let norm = self.0.mul(&self.0).add(&self.1.mul(&self.1)).sqrt()?;
        let half = Fp::from_be(&[2]).inv();
        let x0 = self.0.add(&norm).mul(&half);
        let x0 = if x0.sqrt().is_some() {
            x0
        } else {
            self.0.sub(&norm).mul(&half)
        };
        let b0 = x0.sqrt()?;
        let b1 = self.1.mul(&b0.add(&b0).inv());
        let root = Fp2(b0, b1);
        (root.mul(&root) == *self).then_some(root)
    }

    /// `x³ + 4(1 + i)`, the twist's right-hand side.
    fn rhs(x: &Fp2) -> Fp2 {
        let four = Fp::from_be(&[4]);
        x.mul(x).mul(x).add(&Fp2(four, four))
    }
}

/// Whether the canonical value of `a` exceeds that of `-a`.
fn greater_than_negation(a: &Fp) -> bool {
    let neg = a.neg();
    !geq(&neg.canonical(), &a.canonical()) && a.canonical() != neg.canonical()
}

/// The Shallue–van de Woestijne encoding of `t` (as the Chia library wrote it),
/// as affine coordinates; `None` for the degenerate inputs.
fn sw_encode(t: &Fp2) -> Option<(Fp2, Fp2)> {
    if t.is_zero() {
        return None;
    }
    let parity = greater_than_negation(&t.1);
    let one = Fp::one();
    let four = Fp::from_be(&[4]);
    // w = t² + b + 1
    let w = t.mul(t).add(&Fp2(four.add(&one), four));
    if w.is_zero() {
        return None;
    }
    let s3 = Fp2(Fp::from_hex(SQRT_MINUS_3), Fp::ZERO);
    let s3m1o2 = Fp2(Fp::from_hex(SQRT_MINUS_3_MINUS_1_HALF), Fp::ZERO);
    let w = w.inv().mul(&s3).mul(t);
    let x1 = w.neg().mul(t).add(&s3m1o2);
    let x2 = x1.neg().add(&Fp2(one.neg(), Fp::ZERO));
    let x3 = w.mul(&w).inv().add(&Fp2(one, Fp::ZERO));
    let x = if Fp2::rhs(&x1).sqrt().is_some() {
        x1
    } else if Fp2::rhs(&x2).sqrt().is_some() {
        x2
    } else {
        x3
    };
    let mut y = Fp2::rhs(&x).sqrt()?;
    if greater_than_negation(&y.1) != parity {
        y = y.neg();
    }
    Some((x, y))
}

/// The affine point as a `blst` point (on the curve, not yet in G2).
fn to_blst(x: &Fp2, y: &Fp2) -> Option<min_pk::Signature> {
    let mut bytes = [0u8; 192];
    bytes[..48].copy_from_slice(&x.1.to_be());
    bytes[48..96].copy_from_slice(&x.0.to_be());
    bytes[96..144].copy_from_slice(&y.1.to_be());
    bytes[144..].copy_from_slice(&y.0.to_be());
    min_pk::Signature::deserialize(&bytes).ok()
}

/// One tagged SHA-256 of the message: `SHA-256(msg || tag || index)`.
fn tagged(message: &[u8; 32], tag: &[u8; 7], index: u8) -> [u8; 32] {
    let mut engine = sha256::HashEngine::default();
    engine.input(message);
    engine.input(tag);
    engine.input(&[index]);
    sha256::Hash::from_engine(engine).to_byte_array()
}

fn field_element(message: &[u8; 32], tag: &[u8; 7]) -> Fp {
    let mut wide = [0u8; 64];
    wide[..32].copy_from_slice(&tagged(message, tag, 0));
    wide[32..].copy_from_slice(&tagged(message, tag, 1));
    Fp::from_be_wide(&wide)
}

/// The legacy scheme's hash of a 32-byte message to G2.
pub fn hash_to_g2(message: &[u8; 32]) -> Option<min_pk::Signature> {
    let t0 = Fp2(
        field_element(message, b"G2_0_c0"),
        field_element(message, b"G2_0_c1"),
    );
    let t1 = Fp2(
        field_element(message, b"G2_1_c0"),
        field_element(message, b"G2_1_c1"),
    );
    let (x0, y0) = sw_encode(&t0)?;
    let (x1, y1) = sw_encode(&t1)?;
    let mut sum = min_pk::AggregateSignature::from_signature(&to_blst(&x0, &y0)?);
    sum.add_signature(&to_blst(&x1, &y1)?, false).ok()?;
    let h_eff = {
        let mut bytes = hex::decode(H_EFF).unwrap_or_default();
        bytes.reverse();
        bytes
    };
    let cleared = [sum.to_signature()]
        .as_slice()
        .mult(&h_eff, h_eff.len() * 8)
        .to_signature();
    Some(cleared)
}
