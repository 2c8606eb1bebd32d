//! Scalar `pair_hmm`: the specification of the binary32 forward pass, and the f64 oracle.
//!
//! [`forward`] is the contract's recurrence (`kernel::pair_hmm`) written as plainly as
//! possible, row by row over the haplotype, one row of `M`, `I`, `D` updated in place, every
//! `f32` operation in the contract's order (Rust never fuses a multiply and an add):
//!
//! ```text
//! for i in 1..=m:                         (row coefficients c = coefs[i-1])
//!     diag = (M, I, D)(i-1, 0) = (0, 0, 0) for i > 1, (0, 0, 2^90) for i = 1
//!     left = (M, D)(i, 0) = (0, 0)
//!     for j in 1..=n:
//!         up = (M, I, D)(i-1, j)           (still in the row buffers)
//!         M = lift(diag.M × c.A[h_j] + (diag.I + diag.D) × c.B[h_j])
//!         I = lift(up.M × c.mi + up.I × c.ii)
//!         D = lift(left.M × c.md + left.D × c.dd)
//!     if i < m: renormalise the row (scale every value by 2^s, exponent += s)
//! S = Σ_j (M(m,j) + I(m,j))
//! ```
//!
//! [`oracle`] is the same model in f64 probability space, as GATK's `LoglessPairHMM` computes
//! it (a `2^1020/n` initial condition), with an exact power-of-two rescale whenever a row's
//! largest value leaves `[2^-100, 2^100]` so that no read length underflows. It is the accuracy
//! reference, not a backend.

use crate::kernel::pair_hmm::{
    COEFS, DD, HmmBatch, II, INIT_EXP, MD, MI, RowCoefs, ScaledSum, lift, prior, renorm_shift,
    scale, transitions,
};

/// `2^INIT_EXP`, row 0's deletion value.
pub fn init_value() -> f32 {
    f32::from_bits(((INIT_EXP + 127) as u32) << 23)
}

/// Reusable buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    m: Vec<f32>,
    i: Vec<f32>,
    d: Vec<f32>,
}

/// The forward pass of one read (its row coefficients) against one haplotype.
pub fn forward(coefs: &[RowCoefs], hap: &[u8], s: &mut Scratch) -> ScaledSum {
    let n = hap.len();
    if n == 0 {
        return ScaledSum::default(); // nothing to align to
    }
    if coefs.is_empty() {
        // Probability 1: n starts of 2^90 each standing for 1/n.
        return ScaledSum::new(n as f32 * init_value(), 0);
    }
    s.m.clear();
    s.m.resize(n + 1, 0.0);
    s.i.clear();
    s.i.resize(n + 1, 0.0);
    s.d.clear();
    s.d.resize(n + 1, init_value()); // row 0
    let mut exponent = 0i32;
    let rows = coefs.len();
    for (row, c) in coefs.iter().enumerate() {
        debug_assert_eq!(c.len(), COEFS);
        // Column 0 of the previous row is the first cell's diagonal; it is 0 from row 1 on
        // (row 0's D(0,0) = 2^90 lets the read start at the first haplotype base).
        let (mut dm, mut di, mut dd) = (s.m[0], s.i[0], s.d[0]);
        s.m[0] = 0.0;
        s.i[0] = 0.0;
        s.d[0] = 0.0;
        let (mut lm, mut ld) = (0f32, 0f32);
        let mut max = 0f32;
        for j in 1..=n {
            let (um, ui, ud) = (s.m[j], s.i[j], s.d[j]);
            let b = hap[j - 1] as usize;
            let m = lift(dm * c[b] + (di + dd) * c[5 + b]);
            let i = lift(um * c[MI] + ui * c[II]);
            let d = lift(lm * c[MD] + ld * c[DD]);
            s.m[j] = m;
            s.i[j] = i;
            s.d[j] = d;
            max = max.max(m.max(i));
            (dm, di, dd) = (um, ui, ud);
            (lm, ld) = (m, d);
        }
        if row + 1 < rows {
            let shift = renorm_shift(max);
            if shift != 0 {
                // Columns 1..=n (column 0 stays 0).
                for v in s.m[1..]
                    .iter_mut()
                    .chain(s.i[1..].iter_mut())
                    .chain(s.d[1..].iter_mut())
                {
                    *v = scale(*v, shift);
                }
                exponent += shift;
            }
        }
    }
    let sum = (1..=n).fold(0f32, |acc, j| acc + (s.m[j] + s.i[j]));
    ScaledSum::new(sum, exponent)
}

/// The f64 oracle: log10 P(read | haplotype) in probability space (see the module header).
pub fn oracle(batch: &HmmBatch, read: usize, hap: usize) -> f64 {
    let span = batch.reads[read];
    let range = span.range();
    let (r, q) = (
        &batch.read_bases[range.clone()],
        &batch.base_quals[range.clone()],
    );
    let (gi, gd, gc) = (
        &batch.ins_quals[range.clone()],
        &batch.del_quals[range.clone()],
        &batch.gcp_quals[range],
    );
    let h = batch.hap(hap);
    let (m, n) = (r.len(), h.len());
    if n == 0 {
        return f64::NEG_INFINITY;
    }
    if m == 0 {
        return 0.0;
    }
    const INITIAL_LOG2: i32 = 1020;
    let mut scale_log2 = i64::from(INITIAL_LOG2); // value = probability · 2^scale_log2
    let initial = 2f64.powi(INITIAL_LOG2) / n as f64;
    // Full matrices, as GATK's N2MemoryPairHMM keeps them.
    let w = n + 1;
    let mut mm_ = vec![0f64; (m + 1) * w];
    let mut ii_ = vec![0f64; (m + 1) * w];
    let mut dd_ = vec![0f64; (m + 1) * w];
    for v in &mut dd_[..w] {
        *v = initial;
    }
    for i in 1..=m {
        let (mm, gm, mi, ii, md, dd) = transitions(gi[i - 1], gd[i - 1], gc[i - 1]);
        let mut row_max = 0f64;
        for j in 1..=n {
            let p = prior(r[i - 1], q[i - 1], h[j - 1]);
            let (up, diag, left) = ((i - 1) * w + j, (i - 1) * w + j - 1, i * w + j - 1);
            let here = i * w + j;
            mm_[here] = p * (mm_[diag] * mm + (ii_[diag] + dd_[diag]) * gm);
            ii_[here] = mm_[up] * mi + ii_[up] * ii;
            dd_[here] = mm_[left] * md + dd_[left] * dd;
            row_max = row_max.max(mm_[here]).max(ii_[here]).max(dd_[here]);
        }
        if row_max > 0.0 && !(2f64.powi(-100)..=2f64.powi(100)).contains(&row_max) {
            let k = row_max.log2().round() as i32;
            let f = 2f64.powi(-k);
            for v in mm_[i * w..(i + 1) * w]
                .iter_mut()
                .chain(ii_[i * w..(i + 1) * w].iter_mut())
                .chain(dd_[i * w..(i + 1) * w].iter_mut())
            {
                *v *= f;
            }
            scale_log2 -= i64::from(k);
        }
    }
    let sum: f64 = (1..=n).map(|j| mm_[m * w + j] + ii_[m * w + j]).sum();
    if sum == 0.0 {
        return f64::NEG_INFINITY;
    }
    sum.log10() - scale_log2 as f64 * std::f64::consts::LOG10_2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::pair_hmm::{HmmRead, read_coefficients};

    fn batch(read: &[u8], qual: u8, hap: &[u8]) -> HmmBatch {
        let q = vec![qual; read.len()];
        let (gi, gc) = (vec![45u8; read.len()], vec![10u8; read.len()]);
        let mut b = HmmBatch::default();
        b.push_region(
            &[HmmRead {
                bases: read,
                quals: &q,
                ins_quals: &gi,
                del_quals: &gi,
                gcp_quals: &gc,
            }],
            &[hap],
        );
        b
    }

    fn spec(b: &HmmBatch) -> f64 {
        let mut coefs = Vec::new();
        read_coefficients(b, 0, &mut coefs);
        forward(&coefs, b.hap(0), &mut Scratch::default()).log10(b.haps[0].len)
    }

    #[test]
    fn one_base_read_is_the_average_emission() {
        // P = (1/n) Σ_j prior(j) · gm (entering M from the initial deletion state).
        let b = batch(&[0], 30, &[0, 1, 2, 3]);
        let e = 1e-3;
        let gm = 1.0 - 0.1;
        let want = (((1.0 - e) + 3.0 * e / 3.0) * gm / 4.0f64).log10();
        assert!((oracle(&b, 0, 0) - want).abs() < 1e-12);
        assert!((spec(&b) - want).abs() < 1e-6);
    }

    #[test]
    fn binary32_follows_the_oracle() {
        let hap: Vec<u8> = (0..300u32).map(|i| ((i * 7 + i / 3) % 4) as u8).collect();
        let mut read = hap[40..190].to_vec();
        read[20] = (read[20] + 1) % 4;
        read.remove(90);
        let b = batch(&read, 35, &hap);
        let (o, f) = (oracle(&b, 0, 0), spec(&b));
        assert!((o - f).abs() < 1e-5, "oracle {o} spec {f}");
        assert!(o < -2.0 && o > -40.0, "{o}");
    }
}
