//! The two byte encodings of BLS12-381 points that Dash uses.
//!
//! *Basic* is the IETF / zcash encoding that `blst` reads: the first byte's
//! three top bits are flags (`0x80` compressed, `0x40` infinity, `0x20` the
//! sign of y), and a G2 point's x is written `c1 || c0`.
//!
//! *Legacy* is the encoding of the pre-IETF Chia library that Dash used before
//! its v19 fork (SML entries of version 1, old quorum commitments): no
//! compression flag, the sign of y in the top bit (`0x80`), and a G2 point's x
//! written `c0 || c1`. Both encodings use the same sign rule (y greater than
//! its negation), so converting between them only moves bits and halves.

use super::BlsError;

/// Compressed G1 size (public keys).
pub const G1_SIZE: usize = 48;
/// Compressed G2 size (signatures).
pub const G2_SIZE: usize = 96;

const FLAG_COMPRESSED: u8 = 0x80;
const FLAG_INFINITY: u8 = 0x40;
const FLAG_SIGN: u8 = 0x20;
const LEGACY_SIGN: u8 = 0x80;
const COORDINATE_MASK: u8 = 0x1f;

/// The basic (IETF) encoding of the point at infinity in G1.
fn infinity<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    out[0] = FLAG_COMPRESSED | FLAG_INFINITY;
    out
}

/// Whether a legacy encoding is the canonical point at infinity (`0xc0 00…`).
fn legacy_infinity(bytes: &[u8]) -> Result<bool, BlsError> {
    if bytes[0] & 0xc0 != 0xc0 {
        return Ok(false);
    }
    if bytes[0] == 0xc0 && bytes[1..].iter().all(|b| *b == 0) {
        Ok(true)
    } else {
        Err(BlsError::BadEncoding("non-canonical point at infinity"))
    }
}

/// Converts a legacy G1 encoding to the basic one.
pub fn g1_legacy_to_basic(bytes: &[u8; G1_SIZE]) -> Result<[u8; G1_SIZE], BlsError> {
    if legacy_infinity(bytes)? {
        return Ok(infinity());
    }
    let mut out = *bytes;
    let sign = bytes[0] & LEGACY_SIGN != 0;
    out[0] = FLAG_COMPRESSED | if sign { FLAG_SIGN } else { 0 } | (bytes[0] & COORDINATE_MASK);
    Ok(out)
}

/// Converts a basic G1 encoding (as `blst` writes it) to the legacy one.
pub fn g1_basic_to_legacy(bytes: &[u8; G1_SIZE]) -> [u8; G1_SIZE] {
    let mut out = *bytes;
    if bytes[0] & FLAG_INFINITY != 0 {
        out[0] = 0xc0;
        return out;
    }
    let sign = bytes[0] & FLAG_SIGN != 0;
    out[0] = (bytes[0] & COORDINATE_MASK) | if sign { LEGACY_SIGN } else { 0 };
    out
}

/// Converts a legacy G2 encoding (`c0 || c1`, sign in the top bit) to the basic one.
pub fn g2_legacy_to_basic(bytes: &[u8; G2_SIZE]) -> Result<[u8; G2_SIZE], BlsError> {
    if legacy_infinity(bytes)? {
        return Ok(infinity());
    }
    let half = G2_SIZE / 2;
    let sign = bytes[0] & LEGACY_SIGN != 0;
    if bytes[0] & !LEGACY_SIGN & !COORDINATE_MASK != 0 || bytes[half] & !COORDINATE_MASK != 0 {
        return Err(BlsError::BadEncoding("coordinate out of range"));
    }
    let mut out = [0u8; G2_SIZE];
    out[..half].copy_from_slice(&bytes[half..]);
    out[half..].copy_from_slice(&bytes[..half]);
    out[0] |= FLAG_COMPRESSED | if sign { FLAG_SIGN } else { 0 };
    out[half] &= COORDINATE_MASK;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g1_round_trips_between_encodings() {
        let mut basic = [0x11u8; G1_SIZE];
        basic[0] = 0x80 | 0x20 | 0x13;
        let legacy = g1_basic_to_legacy(&basic);
        assert_eq!(legacy[0], 0x80 | 0x13);
        assert_eq!(g1_legacy_to_basic(&legacy).unwrap(), basic);
        basic[0] = 0x80 | 0x13;
        let legacy = g1_basic_to_legacy(&basic);
        assert_eq!(legacy[0], 0x13);
        assert_eq!(g1_legacy_to_basic(&legacy).unwrap(), basic);
    }

    #[test]
    fn legacy_infinity_must_be_canonical() {
        let mut inf = [0u8; G1_SIZE];
        inf[0] = 0xc0;
        assert_eq!(g1_legacy_to_basic(&inf).unwrap(), infinity());
        inf[5] = 1;
        assert!(g1_legacy_to_basic(&inf).is_err());
    }

    #[test]
    fn g2_legacy_swaps_halves_and_moves_the_sign() {
        let mut legacy = [0u8; G2_SIZE];
        legacy[0] = 0x80 | 0x01; // sign set, c0 starts with 0x01
        legacy[48] = 0x02; // c1 starts with 0x02
        let basic = g2_legacy_to_basic(&legacy).unwrap();
        assert_eq!(basic[0], 0x80 | 0x20 | 0x02);
        assert_eq!(basic[48], 0x01);
    }
}
