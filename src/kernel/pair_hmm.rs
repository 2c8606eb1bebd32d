//! `pair_hmm`: log10 P(read | haplotype) under the pair-HMM of GATK's HaplotypeCaller, for a
//! batch of regions, each a set of reads against a set of haplotypes.
//!
//! This file is the contract every backend (`backend::{scalar,simd,gpu}::pair_hmm`) implements
//! bit for bit; `backend::scalar::pair_hmm::forward` is the reference implementation and
//! `backend::scalar::pair_hmm::oracle` the f64 accuracy reference.
//!
//! # Model (GATK `LoglessPairHMM`)
//! Read `r[1..=m]` with base qualities `q`, insertion and deletion gap-open qualities `gi`,
//! `gd` (GATK default 45) and gap-continuation qualities `gc` (default 10); haplotype
//! `h[1..=n]`. With `ε(Q) = 10^(−Q/10)`, row `i` (read base `i`) has the transitions
//!
//! ```text
//! mm = max(0, 1 − ε(gi_i) − ε(gd_i))   match → match      mi = ε(gi_i)   match → insertion
//! gm = 1 − ε(gc_i)                      gap → match        md = ε(gd_i)   match → deletion
//! ii = dd = ε(gc_i)                     gap → same gap
//! prior(i,j) = 1 − ε(q_i) if r_i = h_j or either is N, else ε(q_i)/3
//! ```
//!
//! and the forward recurrence, for `1 <= i <= m`, `1 <= j <= n`:
//!
//! ```text
//! M(i,j) = prior(i,j) · (mm·M(i−1,j−1) + gm·(I(i−1,j−1) + D(i−1,j−1)))
//! I(i,j) = mi·M(i−1,j) + ii·I(i−1,j)
//! D(i,j) = md·M(i,j−1) + dd·D(i,j−1)
//! D(0,j) = 1/n for 0 <= j <= n (the read may start anywhere); every other row-0 / column-0
//! value is 0.       P(read | hap) = Σ_j M(m,j) + I(m,j)
//! ```
//!
//! Qualities are clamped to the model's range before use, identically by every backend and the
//! oracle: base, insertion and deletion qualities to `0..=MAX_QUAL` (Q60, an error rate of 1e-6;
//! no sequencer's qualities mean more), gap continuation to `MIN_GCP..=MAX_QUAL` (which keeps
//! `dd <= 0.4`, a bound the fixed-point arithmetic below relies on).
//!
//! # Production arithmetic: fixed point, identical on every device
//! Floats are not reproducible across devices (drivers fuse multiply-adds and flush subnormals;
//! WGSL has no f64), so the backends compute in integers, with probabilities as integers and an
//! explicit power-of-two scale per row — linear space rather than log space, because it needs
//! no log-add table (no gathers in the SIMD loop). Values are 64-bit: a row's paths span many
//! orders of magnitude (an indel path starts ~1e-5 below the path it leaves, and overtakes it a
//! few bases later), and 32-bit values lost such paths (measured on the test corpus: 100 of
//! 2,880 pairs off by more than 0.01 in log10, the worst by 137); 64-bit values keep at least
//! 47 bits below the row's largest value (worst 2.3e-5 on the same corpus).
//!
//! * **Coefficients** (computed once on the host, by [`read_coefficients`], in f64 with
//!   deterministic IEEE operations only): every probability `p` above becomes `round(p·2^31)`,
//!   a `u32` capped at `2^31 − 1` (so that `2·c` fits 32 bits); per read row `i`:
//!   `A[b] = ⟦prior(i,b)·mm⟧` and `B[b] = ⟦prior(i,b)·gm⟧` for each haplotype base code `b` in
//!   `0..=4`, and `⟦mi⟧, ⟦ii⟧, ⟦md⟧, ⟦dd⟧` ([`RowCoefs`]).
//! * **Product** `v ⊗ c = floor(v·c / 2^31)` for a `u64` value `v` (96-bit intermediate;
//!   `= 2·c·(v >> 32) + floor((v mod 2^32)·c / 2^31)`, which is how SIMD and WGSL compute it).
//! * **Recurrence** on `u64` values, `h_j` the haplotype base code:
//!   `M = M(i−1,j−1) ⊗ A[h_j] + (I(i−1,j−1) + D(i−1,j−1)) ⊗ B[h_j]`,
//!   `I = M(i−1,j) ⊗ mi + I(i−1,j) ⊗ ii`, `D = M(i,j−1) ⊗ md + D(i,j−1) ⊗ dd`;
//!   row 0: `D(0,j) = 2^INIT_BITS` (`2^60`) for `0 <= j <= n`, the `1/n` kept aside.
//! * **Renormalisation** after every row `i < m`: `b` = bit length of the OR of all of the
//!   row's `M`, `I`, `D` (columns `1..=n`). If `b = 0` the row is all zero and so is every later
//!   row. Otherwise, if `b` lies outside `RENORM_LOW..=TOP_BITS`, every value of the row is
//!   shifted by `s = TOP_BITS − b` (left if `s > 0`, right — flooring — if `s < 0`) and the
//!   pair's exponent `e` grows by `s`. So each row starts from values below `2^TOP_BITS`
//!   (`2^61`), whose successors stay below `2^64`: `M < 3·2^61`, `I < 2·2^61`,
//!   `D < 3·2^61·md/(1 − dd) <= 5·2^61` (`dd <= 0.4`).
//! * **Result**: `S = Σ_{j=1..n} (M(m,j) + I(m,j)) >> SUM_SHIFT` (a `u64`: `n < 2^16`), and
//!   `log10 L = log10 S − (INIT_BITS + e − SUM_SHIFT)·log10 2 − log10 n`
//!   ([`FixedResult::log10`], on the host, by one deterministic routine); `S = 0` gives `−∞`.
//!   An empty read has likelihood 1; an empty haplotype, 0 (`−∞`).
//!
//! Error bound against exact arithmetic on the unquantised model: each `⊗` floors by less
//! than one unit; renormalisation keeps a row's largest value at `2^47..2^61`, so a path
//! carrying a fraction `f` of the row's mass loses at most ~`2^-47/f` of itself per
//! operation — a path would have to fall 1e9 below the row's best and then overtake it for
//! this to reach 1e-5. Coefficient rounding adds `2^-32/p` relative per use of a coefficient of
//! value `p`: negligible on the match path, ~7e-4 per Q60 mismatch (where `p = 1e-6/3`),
//! ~7e-6 per Q40 mismatch or Q45 gap open. So `|Δ log10 L|` is ~1e-6 typically and below 1e-3
//! unless a read has several Q55+ mismatches; measured against the f64 oracle in
//! `tests/genoa/pair_hmm.rs`.

use crate::error::{Error, Result};

/// Largest quality the model uses (higher ones are clamped to it).
pub const MAX_QUAL: u8 = 60;
/// Smallest gap-continuation quality the model uses (lower ones are clamped to it).
pub const MIN_GCP: u8 = 4;
/// Fraction bits of a coefficient.
pub const COEF_BITS: u32 = 31;
/// Largest coefficient (`2·c` must fit 32 bits).
pub const MAX_COEF: u32 = (1 << COEF_BITS) - 1;
/// Row-0 deletion value: `2^INIT_BITS` stands for probability `1/n`.
pub const INIT_BITS: u32 = 60;
/// Renormalisation target: a row's values are kept below `2^TOP_BITS`.
pub const TOP_BITS: u32 = 61;
/// Rows whose largest value has fewer bits than this are scaled up.
pub const RENORM_LOW: u32 = 48;
/// Each final `M + I` is shifted right by this before summing (so `n < 2^16` sums fit).
pub const SUM_SHIFT: u32 = 16;
/// Longest read or haplotype.
pub const MAX_LEN: u32 = 65_535;
/// Coefficients per read row: `A[0..5]`, `B[0..5]`, `mi`, `ii`, `md`, `dd`.
pub const COEFS: usize = 14;
/// Index of `mi` in [`RowCoefs`] (then `ii`, `md`, `dd`).
pub const MI: usize = 10;
pub const II: usize = 11;
pub const MD: usize = 12;
pub const DD: usize = 13;

/// The fixed-point coefficients of one read row (see the module header).
pub type RowCoefs = [u32; COEFS];

/// A sequence's place in one of the batch's arrays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub offset: u32,
    pub len: u32,
}

impl Span {
    /// The span as an index range.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset as usize..(self.offset + self.len) as usize
    }
}

/// One region: a range of the batch's reads against a range of its haplotypes; its
/// likelihoods are `reads × haps`, read-major, from `out_offset` in [`HmmResults::log10`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HmmRegion {
    pub first_read: u32,
    pub reads: u32,
    pub first_hap: u32,
    pub haps: u32,
    pub out_offset: u32,
}

/// A batch of regions. Bases are codes `0..=3` (`4` = N); each read carries one value per
/// base in each quality array.
#[derive(Clone, Debug, Default)]
pub struct HmmBatch {
    pub read_bases: Vec<u8>,
    pub base_quals: Vec<u8>,
    pub ins_quals: Vec<u8>,
    pub del_quals: Vec<u8>,
    pub gcp_quals: Vec<u8>,
    pub reads: Vec<Span>,
    pub hap_bases: Vec<u8>,
    pub haps: Vec<Span>,
    pub regions: Vec<HmmRegion>,
}

/// One read as the batch takes it.
#[derive(Clone, Copy, Debug)]
pub struct HmmRead<'a> {
    pub bases: &'a [u8],
    pub quals: &'a [u8],
    pub ins_quals: &'a [u8],
    pub del_quals: &'a [u8],
    pub gcp_quals: &'a [u8],
}

impl HmmBatch {
    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.read_bases.clear();
        self.base_quals.clear();
        self.ins_quals.clear();
        self.del_quals.clear();
        self.gcp_quals.clear();
        self.reads.clear();
        self.hap_bases.clear();
        self.haps.clear();
        self.regions.clear();
    }

    /// Adds a region of `reads` × `haps` and returns its index.
    pub fn push_region(&mut self, reads: &[HmmRead], haps: &[&[u8]]) -> usize {
        let out_offset = self
            .regions
            .last()
            .map_or(0, |r| r.out_offset + r.reads * r.haps);
        let region = HmmRegion {
            first_read: self.reads.len() as u32,
            reads: reads.len() as u32,
            first_hap: self.haps.len() as u32,
            haps: haps.len() as u32,
            out_offset,
        };
        for r in reads {
            self.reads.push(Span {
                offset: self.read_bases.len() as u32,
                len: r.bases.len() as u32,
            });
            self.read_bases.extend_from_slice(r.bases);
            self.base_quals.extend_from_slice(r.quals);
            self.ins_quals.extend_from_slice(r.ins_quals);
            self.del_quals.extend_from_slice(r.del_quals);
            self.gcp_quals.extend_from_slice(r.gcp_quals);
        }
        for h in haps {
            self.haps.push(Span {
                offset: self.hap_bases.len() as u32,
                len: h.len() as u32,
            });
            self.hap_bases.extend_from_slice(h);
        }
        self.regions.push(region);
        self.regions.len() - 1
    }

    /// Bases of read `r`.
    pub fn read(&self, r: usize) -> &[u8] {
        let s = self.reads[r];
        &self.read_bases[s.range()]
    }

    /// Read `r`'s rows of `coefs` ([`all_coefficients`] of this batch).
    pub fn read_coefs<'a>(&self, coefs: &'a [RowCoefs], r: usize) -> &'a [RowCoefs] {
        &coefs[self.reads[r].range()]
    }

    /// Bases of haplotype `h`.
    pub fn hap(&self, h: usize) -> &[u8] {
        let s = self.haps[h];
        &self.hap_bases[s.range()]
    }

    /// Number of likelihoods the batch produces.
    pub fn pairs(&self) -> usize {
        self.regions
            .iter()
            .map(|r| r.reads as usize * r.haps as usize)
            .sum()
    }

    /// Number of DP cells (`m·n` summed over every read × haplotype pair): the work.
    pub fn cells(&self) -> u64 {
        self.regions
            .iter()
            .map(|g| {
                let reads: u64 = (g.first_read..g.first_read + g.reads)
                    .map(|r| u64::from(self.reads[r as usize].len))
                    .sum();
                let haps: u64 = (g.first_hap..g.first_hap + g.haps)
                    .map(|h| u64::from(self.haps[h as usize].len))
                    .sum();
                reads * haps
            })
            .sum()
    }
}

/// Caller-owned likelihoods, reused across batches: region `g`'s matrix is
/// `log10[g.out_offset..][..g.reads·g.haps]`, read-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HmmResults {
    pub log10: Vec<f64>,
}

impl HmmResults {
    /// log10 P(read `read` | haplotype `hap`) of region `region` (indices within the region).
    pub fn get(&self, batch: &HmmBatch, region: usize, read: usize, hap: usize) -> f64 {
        let g = &batch.regions[region];
        self.log10[g.out_offset as usize + read * g.haps as usize + hap]
    }
}

/// What the fixed-point forward pass of one pair ends with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedResult {
    /// `Σ_j M(m,j) + I(m,j)`.
    pub sum: u64,
    /// Total left shift applied by renormalisation.
    pub exponent: i32,
}

impl FixedResult {
    /// log10 P(read | haplotype) for a haplotype of `hap_len` bases.
    pub fn log10(&self, hap_len: u32) -> f64 {
        if self.sum == 0 || hap_len == 0 {
            return f64::NEG_INFINITY;
        }
        let bits = f64::from(INIT_BITS as i32 + self.exponent - SUM_SHIFT as i32);
        (det::log2(self.sum as f64) - bits - det::log2(f64::from(hap_len))) * det::LOG10_2
    }
}

/// Clamps a base, insertion or deletion quality to the model's range.
#[inline]
pub fn clamp_qual(q: u8) -> u8 {
    q.min(MAX_QUAL)
}

/// Clamps a gap-continuation quality to the model's range.
#[inline]
pub fn clamp_gcp(q: u8) -> u8 {
    q.clamp(MIN_GCP, MAX_QUAL)
}

/// `ε(Q) = 10^(−Q/10)` for `Q <= MAX_QUAL` (higher values are clamped), deterministic on
/// every IEEE platform; computed once into a table.
pub fn error_prob(q: u8) -> f64 {
    static TABLE: std::sync::OnceLock<[f64; MAX_QUAL as usize + 1]> = std::sync::OnceLock::new();
    let table =
        TABLE.get_or_init(|| std::array::from_fn(|q| det::exp(-(q as f64) * det::LN_10 / 10.0)));
    table[usize::from(q.min(MAX_QUAL))]
}

/// `round(p · 2^31)` for `0 <= p <= 1`, at most [`MAX_COEF`].
#[inline]
pub fn coefficient(p: f64) -> u32 {
    let c = (p * f64::from(1u32 << COEF_BITS)).round();
    c.clamp(0.0, f64::from(MAX_COEF)) as u32
}

/// The f64 transition probabilities of one row: `(mm, gm, mi, ii, md, dd)`.
pub fn transitions(ins: u8, del: u8, gcp: u8) -> (f64, f64, f64, f64, f64, f64) {
    let (ei, ed, ec) = (
        error_prob(clamp_qual(ins)),
        error_prob(clamp_qual(del)),
        error_prob(clamp_gcp(gcp)),
    );
    ((1.0 - (ei + ed)).max(0.0), 1.0 - ec, ei, ec, ed, ec)
}

/// The f64 emission probability of read base `r` (quality `q`) against haplotype base `h`.
pub fn prior(r: u8, q: u8, h: u8) -> f64 {
    let e = error_prob(clamp_qual(q));
    if r == h || r > 3 || h > 3 {
        1.0 - e
    } else {
        e / 3.0
    }
}

/// Appends the coefficients of every row of read `r` to `out`.
pub fn read_coefficients(batch: &HmmBatch, r: usize, out: &mut Vec<RowCoefs>) {
    let s = batch.reads[r];
    for k in s.range() {
        let (base, q) = (batch.read_bases[k], batch.base_quals[k]);
        let (mm, gm, mi, ii, md, dd) =
            transitions(batch.ins_quals[k], batch.del_quals[k], batch.gcp_quals[k]);
        let mut row = [0u32; COEFS];
        for b in 0..5u8 {
            let p = prior(base, q, b);
            row[b as usize] = coefficient(p * mm);
            row[5 + b as usize] = coefficient(p * gm);
        }
        row[MI] = coefficient(mi);
        row[II] = coefficient(ii);
        row[MD] = coefficient(md);
        row[DD] = coefficient(dd);
        out.push(row);
    }
}

/// The coefficients of every read of the batch, indexed like [`HmmBatch::read_bases`]
/// (positions no read covers hold zeros).
pub fn all_coefficients(batch: &HmmBatch) -> Vec<RowCoefs> {
    let mut out = vec![[0; COEFS]; batch.read_bases.len()];
    let mut rows = Vec::new();
    for r in 0..batch.reads.len() {
        let s = batch.reads[r];
        rows.clear();
        read_coefficients(batch, r, &mut rows);
        out[s.range()].copy_from_slice(&rows);
    }
    out
}

/// `v ⊗ c`: the contract's fixed-point product.
#[inline(always)]
pub fn mul(v: u64, c: u32) -> u64 {
    ((u128::from(v) * u128::from(c)) >> COEF_BITS) as u64
}

/// The renormalisation shift for a row whose values OR to `or` (see the module header):
/// `None` when the row is all zero.
#[inline]
pub fn renorm_shift(or: u64) -> Option<i32> {
    let bits = 64 - or.leading_zeros();
    if bits == 0 {
        None
    } else if (RENORM_LOW..=TOP_BITS).contains(&bits) {
        Some(0)
    } else {
        Some(TOP_BITS as i32 - bits as i32)
    }
}

/// Checks a batch against the contract; every backend calls it first.
pub fn validate(batch: &HmmBatch) -> Result<()> {
    let n = batch.read_bases.len();
    for (name, len) in [
        ("base qualities", batch.base_quals.len()),
        ("insertion qualities", batch.ins_quals.len()),
        ("deletion qualities", batch.del_quals.len()),
        ("gap-continuation qualities", batch.gcp_quals.len()),
    ] {
        if len != n {
            return Err(Error::Config(format!(
                "pair_hmm: {len} {name} for {n} read bases"
            )));
        }
    }
    let within = |s: &Span, total: usize| (s.offset as usize + s.len as usize) <= total;
    for (i, s) in batch.reads.iter().enumerate() {
        if s.len > MAX_LEN || !within(s, n) {
            return Err(Error::Config(format!(
                "pair_hmm: read {i}: outside the batch or longer than {MAX_LEN}"
            )));
        }
    }
    for (i, s) in batch.haps.iter().enumerate() {
        if s.len > MAX_LEN || !within(s, batch.hap_bases.len()) {
            return Err(Error::Config(format!(
                "pair_hmm: haplotype {i}: outside the batch or longer than {MAX_LEN}"
            )));
        }
    }
    let mut out = 0u64;
    for (i, g) in batch.regions.iter().enumerate() {
        if u64::from(g.first_read) + u64::from(g.reads) > batch.reads.len() as u64
            || u64::from(g.first_hap) + u64::from(g.haps) > batch.haps.len() as u64
            || u64::from(g.out_offset) != out
        {
            return Err(Error::Config(format!(
                "pair_hmm: region {i}: reads, haplotypes or output offset out of range"
            )));
        }
        out += u64::from(g.reads) * u64::from(g.haps);
    }
    if out > u64::from(u32::MAX) {
        return Err(Error::Config(
            "pair_hmm: more than 2^32 likelihoods in one batch".into(),
        ));
    }
    if batch
        .read_bases
        .iter()
        .chain(&batch.hap_bases)
        .any(|&b| b > 4)
    {
        return Err(Error::Config("pair_hmm: base code above 4".into()));
    }
    Ok(())
}

/// Deterministic elementary functions: only IEEE-754 `+ − × ÷` and exact scaling, no platform
/// libm, so every machine computes the same bits.
pub mod det {
    pub const LN_2: f64 = std::f64::consts::LN_2;
    pub const LN_10: f64 = std::f64::consts::LN_10;
    pub const LOG10_2: f64 = std::f64::consts::LOG10_2;

    /// `2^k` for `-1022 <= k <= 1023`, exactly.
    fn pow2(k: i64) -> f64 {
        f64::from_bits(((k + 1023) as u64) << 52)
    }

    /// `e^x` (relative error ~1e-16) for `x` in `[-700, 700]`; 0 below.
    pub fn exp(x: f64) -> f64 {
        if x < -700.0 {
            return 0.0;
        }
        let x = x.min(700.0);
        // x = k·ln2 + r, |r| <= ln2/2.
        let k = (x / LN_2).round();
        let r = x - k * LN_2;
        // Taylor series of e^r to degree 18 (|r|^19/19! < 1e-24).
        let mut term = 1.0;
        let mut sum = 1.0;
        for i in 1..=18 {
            term = term * r / f64::from(i);
            sum += term;
        }
        sum * pow2(k as i64)
    }

    /// `log2 x` for finite `x > 0` (absolute error ~1e-16).
    pub fn log2(x: f64) -> f64 {
        debug_assert!(x > 0.0 && x.is_finite());
        let bits = x.to_bits();
        let mut e = ((bits >> 52) & 0x7ff) as i64;
        let mut m = if e == 0 {
            // Subnormal: scale into the normal range first.
            let y = x * pow2(64);
            e = ((y.to_bits() >> 52) & 0x7ff) as i64 - 64;
            f64::from_bits((y.to_bits() & ((1 << 52) - 1)) | (1023 << 52))
        } else {
            f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52))
        };
        let mut e = e - 1023;
        if m > std::f64::consts::SQRT_2 {
            m /= 2.0;
            e += 1;
        }
        // ln m = 2·atanh(z), z = (m − 1)/(m + 1), |z| <= 0.172.
        let z = (m - 1.0) / (m + 1.0);
        let z2 = z * z;
        let mut term = z;
        let mut sum = 0.0;
        for k in 0..14 {
            sum += term / f64::from(2 * k + 1);
            term *= z2;
        }
        e as f64 + 2.0 * sum / LN_2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_functions_match_libm() {
        for q in 0..=60u8 {
            let want = 10f64.powf(-f64::from(q) / 10.0);
            assert!((error_prob(q) - want).abs() <= want * 1e-14, "Q{q}");
        }
        for x in [
            1e-300, 3e-9, 0.1, 0.5, 1.0, 1.5, 2.0, 1234.5, 7.0e18, 1.8e19,
        ] {
            assert!((det::log2(x) - x.log2()).abs() < 1e-13, "{x}");
        }
        assert_eq!(det::exp(0.0), 1.0);
    }

    #[test]
    fn renormalisation_keeps_rows_in_range() {
        assert_eq!(renorm_shift(0), None);
        assert_eq!(renorm_shift(1), Some(60));
        assert_eq!(renorm_shift(1 << 47), Some(0)); // 48 bits
        assert_eq!(renorm_shift((1 << 61) - 1), Some(0));
        assert_eq!(renorm_shift(1 << 61), Some(-1));
        assert_eq!(renorm_shift(u64::MAX), Some(-3));
        assert_eq!(renorm_shift((1 << 47) - 1), Some(14));
    }

    #[test]
    fn coefficients_round_and_clamp() {
        assert_eq!(coefficient(1.0), MAX_COEF);
        assert_eq!(coefficient(0.0), 0);
        assert_eq!(coefficient(0.5), 1 << 30);
        assert_eq!(mul(1 << 61, 1 << 30), 1 << 60);
        assert_eq!(mul(u64::MAX, 1 << 30), u64::MAX / 2);
        // The split form the SIMD and WGSL backends use.
        for (v, c) in [
            (u64::MAX, MAX_COEF),
            (0x1234_5678_9abc_def0, 12345),
            (3 << 61, 7),
        ] {
            let split = 2 * u64::from(c) * (v >> 32) + (((v & 0xffff_ffff) * u64::from(c)) >> 31);
            assert_eq!(mul(v, c), split);
        }
    }
}
