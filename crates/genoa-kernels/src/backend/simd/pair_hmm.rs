//! SIMD `pair_hmm`: inter-read vectorisation. `L` reads of one region run in lock-step against
//! the same haplotype, one per `f32` lane, through exactly the scalar binary32 recurrence
//! (`backend::scalar::pair_hmm::forward`): the same correctly rounded products and sums in the
//! same order, the same `lift`, the same renormalisation, so each lane's result is the
//! scalar one bit for bit.
//!
//! Why reads across lanes rather than the anti-diagonal of one pair, and why this buffer
//! layout: `docs/decisions/0003-pair-hmm-simd-layout.md`.
//!
//! Per cell and vector: 6 multiplies, 4 adds, 3 lifts and 2 maxima (one `max` each). The `D`
//! recurrence runs along the row (`D(i,j)` needs `D(i,j−1)`: multiply, add, max ≈ 7 cycles
//! of latency), so every entry point runs two vectors ([`X2`](crate::backend::simd::lanes::X2))
//! as two independent chains: 8 reads per group on SSE4.1, 16 on AVX2, 32 on AVX-512.
//!
//! Layout of a group (`n` = haplotype length, lane-minor): `m`, `i`, `d` (previous row) and
//! `m2`, `i2`, `d2` (current row, the two sets swapped per row): `(n + 1)·L` values each,
//! six allocations; `table`: the group's coefficients, per row `COEFS·L` values
//! (`A[b]` at `b·L`, `B[b]` at `(5 + b)·L`, then `mi`, `ii`, `md`, `dd`), transposed once per
//! group and kept for the call's other tasks on the same reads (the region's other
//! haplotypes); reads shorter than the group's longest get zero coefficients past their end
//! (their rows are then `FLOOR` and are not used).
//! Renormalisation, which a row needs only when its largest value drifts out of the
//! contract's window (every few mismatches), is a separate vector pass over the row that
//! multiplies each lane by its `2^s` in two exact steps (lanes without a shift by 1): the
//! contract's `scale`, since a product by a power of two whose result is normal is exact.

use crate::backend::scalar::pair_hmm::init_value;
use crate::backend::simd::lanes::LanesF32;
use crate::kernel::pair_hmm::{COEFS, DD, FLOOR, II, MD, MI, RowCoefs, ScaledSum, renorm_shift};

/// `2^k` for `-126 <= k <= 127`.
fn pow2(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// Widest lane count of any entry point.
pub const MAX_LANES: usize = 32;

/// Reusable buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    m: Vec<f32>,
    i: Vec<f32>,
    d: Vec<f32>,
    m2: Vec<f32>,
    i2: Vec<f32>,
    d2: Vec<f32>,
    /// Transposed coefficient tables of the last few groups, by [`GroupKey`].
    tables: Vec<(GroupKey, Vec<f32>)>,
    /// Which entry of `tables` the next new group replaces.
    next_table: usize,
}

/// A group's identity within one `pair_hmm` call: (call generation, batch index of its first
/// read, reads, lanes). The tasks of one region's read chunk (one per haplotype) share it.
type GroupKey = (u64, usize, usize, usize);

/// Groups whose tables are kept (a 32-read chunk is up to 4 groups).
const TABLES: usize = 4;

/// Writes the coefficient table of a group: for each row, `COEFS·L` values (`A[b]` at `b·L`,
/// ..., lane-minor), zeros for lanes past their read's end or without a read.
fn transpose(reads: &[&[RowCoefs]], lanes: usize, table: &mut Vec<f32>) {
    let rows = reads.iter().map(|r| r.len()).max().unwrap_or(0);
    table.clear();
    table.resize(rows * COEFS * lanes, 0.0);
    for (l, read) in reads.iter().enumerate() {
        for (row, c) in read.iter().enumerate() {
            let at = row * COEFS * lanes + l;
            for (k, &v) in c.iter().enumerate() {
                table[at + k * lanes] = v;
            }
        }
    }
}

/// The forward pass of up to `V::LANES` reads (`reads[l]`: their row coefficients, each
/// non-empty) against `hap` (non-empty); results in lane order.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub unsafe fn forward_group<V: LanesF32>(
    reads: &[&[RowCoefs]],
    table: &[f32],
    hap: &[u8],
    s: &mut Scratch,
    out: &mut Vec<ScaledSum>,
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
    // Two sets of row buffers, the previous row and the one being computed (swapped per row):
    // the diagonal is then reloaded from the previous row rather than carried in registers,
    // which AVX2's sixteen need for the two chains.
    for (v, init) in [
        (&mut s.m, 0.0),
        (&mut s.i, 0.0),
        (&mut s.d, init_value()),
        (&mut s.m2, 0.0),
        (&mut s.i2, 0.0),
        (&mut s.d2, 0.0),
    ] {
        v.clear();
        v.resize(width, init);
    }
    debug_assert_eq!(table.len(), rows * COEFS * lanes);
    let mut exponent = [0i32; MAX_LANES];
    let mut results = [ScaledSum::default(); MAX_LANES];
    let mut maxes = [0f32; MAX_LANES];
    let mut shifts = [0i32; MAX_LANES];
    let mut sums = [0f32; MAX_LANES];
    let mut factors = [1f32; 2 * MAX_LANES];

    // SAFETY (whole block): the caller guarantees `V`'s instruction set; the six row buffers
    // hold `(n + 1)·L` values, read and written at `j·L` for `j <= n`; `table` holds `COEFS·L`
    // per row, read at `k·L` for `k < COEFS` (haplotype codes are `<= 4`, by `validate`);
    // `maxes` and `sums` hold `MAX_LANES >= L` values.
    unsafe {
        let mut prev = (s.m.as_mut_ptr(), s.i.as_mut_ptr(), s.d.as_mut_ptr());
        let mut cur = (s.m2.as_mut_ptr(), s.i2.as_mut_ptr(), s.d2.as_mut_ptr());
        let hp = hap.as_ptr();
        let zero = V::splat(0.0);
        let floor = V::splat(FLOOR);
        for row in 0..rows {
            let cp = table.as_ptr().add(row * COEFS * lanes);
            let coef = |k: usize| V::load(cp.add(k * lanes));
            let (mi, ii, md, dd) = (coef(MI), coef(II), coef(MD), coef(DD));
            let (pm, pi, pd) = prev;
            let (cm, ci, cd) = cur;
            zero.store(cm);
            zero.store(ci);
            zero.store(cd);
            let (mut left_m, mut left_d) = (zero, zero);
            let mut max = zero;
            // `1..n + 1`, not `1..=n`: the inclusive range's exhaustion flag costs the hot loop
            // two instructions.
            for j in 1..n + 1 {
                let (at, diag) = (j * lanes, (j - 1) * lanes);
                let b = *hp.add(j - 1) as usize;
                let m = V::load(pm.add(diag))
                    .mul(coef(b))
                    .add(
                        V::load(pi.add(diag))
                            .add(V::load(pd.add(diag)))
                            .mul(coef(5 + b)),
                    )
                    .lift(floor);
                let i = V::load(pm.add(at))
                    .mul(mi)
                    .add(V::load(pi.add(at)).mul(ii))
                    .lift(floor);
                let d = left_m.mul(md).add(left_d.mul(dd)).lift(floor);
                m.store(cm.add(at));
                i.store(ci.add(at));
                d.store(cd.add(at));
                max = max.max(m.max(i));
                (left_m, left_d) = (m, d);
            }
            (prev, cur) = (cur, prev);
            let (pm, pi, pd) = prev;
            let i_row = row + 1;
            // Lanes whose read ends here: S = Σ_j (M + I), in increasing j.
            if (0..reads.len()).any(|l| m_len[l] == i_row) {
                let mut acc = zero;
                for j in 1..=n {
                    let at = j * lanes;
                    acc = acc.add(V::load(pm.add(at)).add(V::load(pi.add(at))));
                }
                acc.store(sums.as_mut_ptr());
                for l in 0..reads.len() {
                    if m_len[l] == i_row {
                        results[l] = ScaledSum::new(sums[l], exponent[l]);
                    }
                }
            }
            if i_row == rows {
                break;
            }
            // Renormalisation, per lane, for lanes with rows still to come.
            max.store(maxes.as_mut_ptr());
            let mut any = false;
            for l in 0..lanes {
                shifts[l] = if i_row < m_len[l] {
                    renorm_shift(maxes[l])
                } else {
                    0
                };
                exponent[l] += shifts[l];
                any |= shifts[l] != 0;
            }
            if any {
                // v·2^s as two exact products (2^s itself may not be an f32: s <= 176), lanes
                // without a shift multiplied by 1; then lift, as `scale` does.
                for (l, &shift) in shifts[..lanes].iter().enumerate() {
                    factors[l] = pow2(shift / 2);
                    factors[MAX_LANES + l] = pow2(shift - shift / 2);
                }
                let f1 = V::load(factors.as_ptr());
                let f2 = V::load(factors.as_ptr().add(MAX_LANES));
                for p in [pm, pi, pd] {
                    for j in 1..=n {
                        let at = p.add(j * lanes);
                        V::load(at).mul(f1).mul(f2).lift(floor).store(at);
                    }
                }
            }
        }
    }
    out.extend_from_slice(&results[..reads.len()]);
}

/// The forward pass of every read of `reads` against `hap`, in order: groups of
/// `V::LANES` non-empty reads through [`forward_group`], the degenerate cases (empty read or
/// haplotype) through the scalar spec.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub unsafe fn forward_reads<V: LanesF32>(
    reads: &[&[RowCoefs]],
    id: (u64, usize),
    hap: &[u8],
    s: &mut Scratch,
    out: &mut Vec<ScaledSum>,
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
        // The group's coefficient table: kept from an earlier task of this call with the same
        // reads (another haplotype of the region), else transposed now.
        let key = (id.0, id.1 + start, end - start, V::LANES);
        let slot = match s.tables.iter().position(|(k, _)| *k == key) {
            Some(p) => p,
            None => {
                let p = if s.tables.len() < TABLES {
                    s.tables.push((key, Vec::new()));
                    s.tables.len() - 1
                } else {
                    s.next_table = (s.next_table + 1) % TABLES;
                    s.next_table
                };
                s.tables[p].0 = key;
                transpose(&reads[start..end], V::LANES, &mut s.tables[p].1);
                p
            }
        };
        let table = std::mem::take(&mut s.tables[slot].1);
        // SAFETY: as this function's contract.
        unsafe { forward_group::<V>(&reads[start..end], &table, hap, s, out) };
        s.tables[slot].1 = table;
        start = end;
    }
}
