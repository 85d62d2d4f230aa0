//! Fixed-base multi-scalar multiplication on BLS12-381's G1, with a table of
//! precomputed multiples per point, behind a safe API.
//!
//! `dashlight` forbids `unsafe`; blst exposes its precomputed-table
//! multiplication (`blst_p1s_mult_wbits`) only through its C API, so this
//! crate is the one place that calls it. A [`PointTable`] holds the
//! multiples `1·P … 2^(WINDOW_BITS−1)·P` in affine form
//! ([`TABLE_BYTES`] bytes); [`multiply`] then computes `Σ kᵢ·Pᵢ` by Straus'
//! method with Booth-encoded windows: a shared doubling per scalar bit and
//! one batched affine addition per point and window, about half the work of
//! a Pippenger multiplication of the same points (which must compute the
//! multiples every time). A table pays for itself once its point is
//! multiplied about three times.

use blst::{
    blst_p1, blst_p1_affine, blst_p1_to_affine, blst_p1s_mult_wbits,
    blst_p1s_mult_wbits_precompute, blst_p1s_mult_wbits_scratch_sizeof,
};
use core::ptr;

/// Bits of each window of the multiplication.
pub const WINDOW_BITS: usize = 7;

/// Multiples of its point a table holds (Booth encoding makes the negative
/// ones free).
pub const TABLE_POINTS: usize = 1 << (WINDOW_BITS - 1);

/// Bytes one table holds.
pub const TABLE_BYTES: usize = TABLE_POINTS * core::mem::size_of::<blst_p1_affine>();

/// Bits read of each 32-byte scalar: all of them.
const SCALAR_BITS: usize = 256;

/// The precomputed multiples of one G1 point.
#[derive(Clone)]
pub struct PointTable {
    multiples: Box<[blst_p1_affine]>,
}

impl core::fmt::Debug for PointTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PointTable").finish_non_exhaustive()
    }
}

impl PointTable {
    /// The tables of `points`, in order, computed together (their affine
    /// conversion shares one field inversion).
    pub fn build_all(points: &[blst_p1_affine]) -> Vec<PointTable> {
        if points.is_empty() {
            return Vec::new();
        }
        let mut all = vec![blst_p1_affine::default(); points.len() * TABLE_POINTS];
        // blst reads the points from the first pointer on, one after another,
        // when the next pointer is null.
        let inputs: [*const blst_p1_affine; 2] = [points.as_ptr(), ptr::null()];
        // SAFETY: `all` holds `points.len() << (WINDOW_BITS - 1)` affine points, what
        // `blst_p1s_mult_wbits_precompute_sizeof(WINDOW_BITS, points.len())` asks for (the
        // function uses that space as its scratch too); `inputs` names `points.len()`
        // contiguous, initialised points.
        unsafe {
            blst_p1s_mult_wbits_precompute(
                all.as_mut_ptr(),
                WINDOW_BITS,
                inputs.as_ptr(),
                points.len(),
            );
        }
        all.chunks_exact(TABLE_POINTS)
            .map(|multiples| PointTable {
                multiples: multiples.into(),
            })
            .collect()
    }
}

/// `Σ kᵢ·Pᵢ` over the terms `(table of Pᵢ, kᵢ)`, each scalar 32 little-endian
/// bytes (any 256-bit value); the point at infinity for no terms.
pub fn multiply(terms: &[(&PointTable, [u8; 32])]) -> blst_p1_affine {
    if terms.is_empty() {
        return blst_p1_affine::default();
    }
    let count = terms.len();
    let mut rows: Vec<blst_p1_affine> = Vec::with_capacity(count * TABLE_POINTS);
    let mut scalars: Vec<u8> = Vec::with_capacity(count * 32);
    for (table, scalar) in terms {
        rows.extend_from_slice(&table.multiples);
        scalars.extend_from_slice(scalar);
    }
    let scalar_inputs: [*const u8; 2] = [scalars.as_ptr(), ptr::null()];
    // SAFETY: a pure size computation.
    let scratch_bytes = unsafe { blst_p1s_mult_wbits_scratch_sizeof(count) };
    let mut scratch = vec![0u64; scratch_bytes.div_ceil(8)];
    let mut sum = blst_p1::default();
    // SAFETY: `rows` holds `count` tables of `TABLE_POINTS` multiples each, laid out
    // one after another as blst's precomputation writes them; `scalar_inputs` names
    // `count` contiguous 32-byte scalars, of which blst reads bits 0..256 only (the
    // top window is `SCALAR_BITS % WINDOW_BITS` bits); `scratch` has the size blst's
    // own sizing function asks for, in 8-byte words.
    unsafe {
        blst_p1s_mult_wbits(
            &mut sum,
            rows.as_ptr(),
            WINDOW_BITS,
            count,
            scalar_inputs.as_ptr(),
            SCALAR_BITS,
            scratch.as_mut_ptr(),
        );
    }
    to_affine(&sum)
}

/// `point` in affine coordinates (infinity as all zeros).
fn to_affine(point: &blst_p1) -> blst_p1_affine {
    let mut affine = blst_p1_affine::default();
    // SAFETY: both are valid, initialised points of the types the function takes.
    unsafe { blst_p1_to_affine(&mut affine, point) };
    affine
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::{min_pk, MultiPoint};

    fn point(seed: u32) -> blst_p1_affine {
        let mut ikm = [3u8; 32];
        ikm[..4].copy_from_slice(&seed.to_le_bytes());
        blst_p1_affine::from(min_pk::SecretKey::key_gen(&ikm, &[]).unwrap().sk_to_pk())
    }

    fn scalar(seed: u32) -> [u8; 32] {
        let mut s = [0u8; 32];
        for (i, byte) in s.iter_mut().enumerate() {
            *byte = (seed as usize * 131 + i * 29 + 7) as u8;
        }
        s
    }

    /// The same sum by blst's Pippenger multiplication, which needs no table.
    fn reference(points: &[blst_p1_affine], scalars: &[[u8; 32]]) -> blst_p1_affine {
        let flat: Vec<u8> = scalars.iter().flatten().copied().collect();
        to_affine(&points.mult(&flat, SCALAR_BITS))
    }

    #[test]
    fn a_table_sum_equals_the_pippenger_sum() {
        let points: Vec<blst_p1_affine> = (0..70).map(point).collect();
        let tables = PointTable::build_all(&points);
        assert_eq!(tables.len(), points.len());
        for count in [1, 2, 5, 70] {
            let scalars: Vec<[u8; 32]> = (0..count as u32).map(scalar).collect();
            let terms: Vec<(&PointTable, [u8; 32])> =
                tables.iter().zip(scalars.iter().copied()).collect();
            assert_eq!(
                multiply(&terms),
                reference(&points[..count], &scalars),
                "{count} points"
            );
        }
    }

    #[test]
    fn edge_scalars_and_tables_built_alone_give_the_same_sums() {
        let points: Vec<blst_p1_affine> = (100..104).map(point).collect();
        let together = PointTable::build_all(&points);
        let alone: Vec<PointTable> = points
            .iter()
            .flat_map(|p| PointTable::build_all(std::slice::from_ref(p)))
            .collect();
        let scalars = [[0u8; 32], [0xff; 32], [1; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }];
        for tables in [&together, &alone] {
            let terms: Vec<(&PointTable, [u8; 32])> =
                tables.iter().zip(scalars.iter().copied()).collect();
            assert_eq!(multiply(&terms), reference(&points, &scalars));
        }
    }

    #[test]
    fn no_terms_and_the_point_at_infinity_give_infinity() {
        assert_eq!(multiply(&[]), blst_p1_affine::default());
        let infinity = PointTable::build_all(&[blst_p1_affine::default()]);
        assert_eq!(
            multiply(&[(&infinity[0], scalar(1))]),
            blst_p1_affine::default()
        );
        assert!(PointTable::build_all(&[]).is_empty());
    }

    #[test]
    fn a_table_holds_the_bytes_it_says() {
        let tables = PointTable::build_all(&[point(1)]);
        assert_eq!(
            tables[0].multiples.len() * core::mem::size_of::<blst_p1_affine>(),
            TABLE_BYTES
        );
        assert_eq!(TABLE_BYTES, 6_144);
    }
}
