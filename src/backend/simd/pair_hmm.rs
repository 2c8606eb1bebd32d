//! SIMD `pair_hmm`: inter-read vectorisation. `L` reads of one region run in lock-step against
//! the same haplotype, one per 64-bit lane, through exactly the scalar fixed-point recurrence
//! (`backend::scalar::pair_hmm::forward`): every operation is an integer one the contract
//! defines, so each lane's result is the scalar one bit for bit.
//!
//! Why reads across lanes (not the anti-diagonal of one pair): a region's reads share their
//! haplotypes, so a lane group needs one haplotype base per column (a broadcast index into
//! the row's coefficient table) and no shuffles; reads of a region have near-equal lengths, so
//! little of a group idles; and the spec renormalises per read row, which an anti-diagonal
//! sweep would need a second pass for. This is reasoning, not a measurement: no anti-diagonal
//! version was written to compare (`benches/pair_hmm.rs` measures this one).
//!
//! Each `⊗` is two widening 32×32 multiplies (`vpmuludq`), twelve per cell, which bound the
//! speed. Lanes per group, by measurement on AMD EPYC (2026-11): AVX2 one 4-lane vector (two
//! vectors, [`X2`](crate::backend::simd::lanes::X2), ran 10–20 % slower: 16 `ymm` registers
//! spill); AVX-512 and SSE4.1 two vectors (16 and 4 lanes: the second dependency chain
//! helps).
//!
//! Layout of a group (`n` = haplotype length, lane-minor): `m`, `i`, `d`: the row buffers,
//! `(n + 1)·L` values; `coef`: the current row's coefficients, doubled (`2·c`, which is what
//! the multiply takes), `COEFS·L` values (`A[b]` at `b·L`, `B[b]` at `(5 + b)·L`, then `mi`,
//! `ii`, `md`, `dd`); reads shorter than the group's longest get zero
//! coefficients past their end (their rows become zero and are not used).

use crate::backend::simd::lanes::Lanes64;
use crate::kernel::pair_hmm::{
    COEFS, DD, FixedResult, II, INIT_BITS, MD, MI, RowCoefs, SUM_SHIFT, renorm_shift,
};

/// Widest lane count of any entry point.
pub const MAX_LANES: usize = 16;

/// Reusable buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    m: Vec<u64>,
    i: Vec<u64>,
    d: Vec<u64>,
    coef: Vec<u64>,
}

/// The fixed-point forward pass of up to `V::LANES` reads (`reads[l]`: their row
/// coefficients, each non-empty) against `hap` (non-empty); results in lane order.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub unsafe fn forward_group<V: Lanes64>(
    reads: &[&[RowCoefs]],
    hap: &[u8],
    s: &mut Scratch,
    out: &mut Vec<FixedResult>,
) {
    let lanes = V::LANES;
    debug_assert!(!reads.is_empty() && reads.len() <= lanes && lanes <= MAX_LANES);
    debug_assert!(!hap.is_empty() && reads.iter().all(|r| !r.is_empty()));
    let n = hap.len();
    let rows = reads.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut m_len = [0usize; MAX_LANES];
    for (l, r) in reads.iter().enumerate() {
        m_len[l] = r.len();
    }
    let width = (n + 1) * lanes;
    s.m.clear();
    s.m.resize(width, 0);
    s.i.clear();
    s.i.resize(width, 0);
    s.d.clear();
    s.d.resize(width, 1 << INIT_BITS);
    s.coef.clear();
    s.coef.resize(COEFS * lanes, 0);
    let mut exponent = [0i32; MAX_LANES];
    // Lanes whose rows went all zero: the spec's result is then `FixedResult::default()`.
    let mut dead = [false; MAX_LANES];
    let mut results = [FixedResult::default(); MAX_LANES];
    let mut or_lanes = [0u64; MAX_LANES];
    let mut left_counts = [0u64; MAX_LANES];
    let mut right_counts = [0u64; MAX_LANES];
    let mut sums = [0u64; MAX_LANES];

    // SAFETY (whole block): the caller guarantees `V`'s instruction set; `m`, `i`, `d` hold
    // `(n + 1)·L` values, read and written at `j·L` for `j <= n`; `coef` holds `COEFS·L`,
    // read at `k·L` for `k < COEFS` (haplotype codes are `<= 4`, checked by `validate`).
    unsafe {
        let (mp, ip, dp, cp) = (
            s.m.as_mut_ptr(),
            s.i.as_mut_ptr(),
            s.d.as_mut_ptr(),
            s.coef.as_mut_ptr(),
        );
        let zero = V::splat(0);
        for row in 0..rows {
            // Transpose this row's coefficients.
            for l in 0..lanes {
                let coefs = reads.get(l).and_then(|r| r.get(row));
                for k in 0..COEFS {
                    let c = coefs.map_or(0, |c| u64::from(c[k]));
                    *cp.add(k * lanes + l) = 2 * c;
                }
            }
            let coef = |k: usize| V::load(cp.add(k * lanes));
            let (mi, ii, md, dd) = (coef(MI), coef(II), coef(MD), coef(DD));
            let (mut diag_m, mut diag_i, mut diag_d) = (V::load(mp), V::load(ip), V::load(dp));
            zero.store(mp);
            zero.store(ip);
            zero.store(dp);
            let (mut left_m, mut left_d) = (zero, zero);
            // Three accumulators: one OR chain per value keeps the loop's critical path short.
            let (mut or_m, mut or_i, mut or_d) = (zero, zero, zero);
            for j in 1..=n {
                let at = j * lanes;
                let (up_m, up_i, up_d) = (
                    V::load(mp.add(at)),
                    V::load(ip.add(at)),
                    V::load(dp.add(at)),
                );
                let b = *hap.get_unchecked(j - 1) as usize;
                let a = coef(b);
                let bb = coef(5 + b);
                let m = diag_m.mul_q31(a).add(diag_i.add(diag_d).mul_q31(bb));
                let i = up_m.mul_q31(mi).add(up_i.mul_q31(ii));
                let d = left_m.mul_q31(md).add(left_d.mul_q31(dd));
                m.store(mp.add(at));
                i.store(ip.add(at));
                d.store(dp.add(at));
                or_m = or_m.or(m);
                or_i = or_i.or(i);
                or_d = or_d.or(d);
                (diag_m, diag_i, diag_d) = (up_m, up_i, up_d);
                (left_m, left_d) = (m, d);
            }
            let i_row = row + 1;
            // Lanes whose read ends here: S = Σ_j (M + I) >> 16.
            if (0..reads.len()).any(|l| m_len[l] == i_row) {
                let mut acc = zero;
                let sum_shift = V::splat(u64::from(SUM_SHIFT));
                for j in 1..=n {
                    let at = j * lanes;
                    let cell = V::load(mp.add(at)).add(V::load(ip.add(at)));
                    acc = acc.add(cell.shift(zero, sum_shift));
                }
                acc.store(sums.as_mut_ptr());
                for l in 0..reads.len() {
                    if m_len[l] == i_row && !dead[l] {
                        results[l] = FixedResult {
                            sum: sums[l],
                            exponent: exponent[l],
                        };
                    }
                }
            }
            if i_row == rows {
                break;
            }
            // Renormalisation, per lane, for lanes with rows still to come.
            or_m.or(or_i).or(or_d).store(or_lanes.as_mut_ptr());
            let mut any = false;
            for l in 0..lanes {
                let (mut left, mut right) = (0u64, 0u64);
                if i_row < m_len[l] {
                    match renorm_shift(or_lanes[l]) {
                        None => dead[l] = true,
                        Some(shift) => {
                            if shift > 0 {
                                left = shift as u64;
                            } else {
                                right = (-shift) as u64;
                            }
                            exponent[l] += shift;
                            any |= shift != 0;
                        }
                    }
                }
                left_counts[l] = left;
                right_counts[l] = right;
            }
            if any {
                let (lc, rc) = (
                    V::load(left_counts.as_ptr()),
                    V::load(right_counts.as_ptr()),
                );
                for j in 1..=n {
                    let at = j * lanes;
                    for p in [mp, ip, dp] {
                        V::load(p.add(at)).shift(lc, rc).store(p.add(at));
                    }
                }
            }
        }
    }
    out.extend_from_slice(&results[..reads.len()]);
}

/// The fixed-point forward pass of every read of `reads` against `hap`, in order: groups of
/// `V::LANES` non-empty reads through [`forward_group`], the degenerate cases (empty read or
/// haplotype) through the scalar spec.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub unsafe fn forward_reads<V: Lanes64>(
    reads: &[&[RowCoefs]],
    hap: &[u8],
    s: &mut Scratch,
    out: &mut Vec<FixedResult>,
) {
    let spec = |r: &[RowCoefs]| {
        crate::backend::scalar::pair_hmm::forward(
            r,
            hap,
            &mut crate::backend::scalar::pair_hmm::Scratch::default(),
        )
    };
    if hap.is_empty() {
        out.extend(reads.iter().map(|r| spec(r)));
        return;
    }
    let mut start = 0;
    while start < reads.len() {
        if reads[start].is_empty() {
            out.push(spec(reads[start]));
            start += 1;
            continue;
        }
        let mut end = start;
        while end < reads.len() && end - start < V::LANES && !reads[end].is_empty() {
            end += 1;
        }
        // SAFETY: as this function's contract.
        unsafe { forward_group::<V>(&reads[start..end], hap, s, out) };
        start = end;
    }
}
