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
//! `dd <= 0.4`, a bound the arithmetic below relies on).
//!
//! # Production arithmetic: binary32 with a fixed operation order, identical on every device
//! The backends compute in IEEE-754 binary32 (`f32`) probability space, linear (no log-add
//! table, so no gathers in the SIMD loop), with every operation, its operands and its order
//! fixed by this contract, and with the two things that make floats differ between devices
//! ruled out by construction:
//!
//! * **no fused multiply-add**: the spec is separate, correctly rounded (round to nearest,
//!   ties to even) products and sums. Rust never contracts `a·b + c`, and the SIMD backend
//!   uses mul and add intrinsics; GPU drivers may contract, so the WGSL kernel does not use
//!   GPU floats at all: it computes the same binary32 operations on their bit patterns with
//!   integer instructions (`shaders/pair_hmm.wgsl`), which no driver can change.
//! * **no subnormals** (which GPUs and some CPU modes flush): every computed `M`, `I`, `D`
//!   goes through `lift(x) = max(x, FLOOR)`, `FLOOR = 2^FLOOR_EXP` (`2^-86`), so every value
//!   is at least `FLOOR` (the boundary values are exact constants, some 0), and every non-zero
//!   coefficient is at least `2^MIN_COEF_EXP` (`2^-40`; checked over every quality
//!   combination by a unit test), so every product is `0` or at least `2^-126`, the smallest
//!   normal `f32`, and sums of non-negative normal numbers are normal. Values are all
//!   non-negative, so there is no cancellation; no value overflows (bound below); there are
//!   no NaNs or infinities. (`lift` rather than flushing small values to zero because it is
//!   one instruction, `max`, where a flush is a compare and a mask: 15 % of the SIMD loop.)
//!
//! The recurrence, per row `i` with the row's coefficients ([`RowCoefs`], computed once on
//! the host by [`read_coefficients`] in f64 with deterministic operations only, then rounded
//! once to `f32`): `A[b] = prior(i,b)·mm` and `B[b] = prior(i,b)·gm` for each haplotype base
//! code `b` in `0..=4`, and `mi, ii, md, dd`; `h_j` the haplotype base code, `×` and `+` the
//! binary32 operations, evaluated exactly as bracketed:
//!
//! ```text
//! M = lift((M(i−1,j−1) × A[h_j]) + ((I(i−1,j−1) + D(i−1,j−1)) × B[h_j]))
//! I = lift((M(i−1,j) × mi) + (I(i−1,j) × ii))
//! D = lift((M(i,j−1) × md) + (D(i,j−1) × dd))
//! row 0: D(0,j) = 2^INIT_EXP (2^90, standing for 1/n) for 0 <= j <= n; M = I = 0;
//! column 0: M = I = D = 0 for i >= 1.
//! ```
//!
//! * **Renormalisation** after every row `i < m`: `X` = the largest `M` or `I` of the row
//!   (columns `1..=n`); if its binary exponent `e = floor(log2 X)` lies outside
//!   `RENORM_LOW..=RENORM_HIGH` (`64..=100`), every `M`, `I`, `D` of the row is multiplied by
//!   `2^s`, `s = RENORM_TARGET − e` (`90 − e`), exactly (an exponent change: [`scale`];
//!   `−13 <= s <= 176`, as `FLOOR <= X < 2^104`), then lifted (values scaled below `FLOOR`
//!   become `FLOOR`), and the pair's exponent grows by `s`. Bound: a row starts
//!   from `M, I <= X < 2^101` and `D <= X·md/(1 − dd) <= 5X/3` (`dd <= 0.4`, from `MIN_GCP`),
//!   so the next row has `M <= 3.7X`, `I <= 2X`, `D <= 6.2X`, all below `2^104`, and the final
//!   sum below `2^16·2^104·6 < 2^128`: nothing overflows.
//! * **Result**: `S = Σ_{j=1..n} (M(m,j) + I(m,j))`, summed in `f32` in increasing `j`, and
//!   `log10 L = (log2 S − INIT_EXP − e − log2 n)·log10 2` ([`ScaledSum::log10`], on the host, by
//!   one deterministic routine). An empty read has likelihood 1; an empty haplotype, 0
//!   (`−∞`).
//!
//! Why binary32 and not integers: a first version used `u32` fixed point with a per-row scale
//! and failed the accuracy bound (paths 1e-9 below the row's best were floored away and later
//! dominated: 100 of 2,880 test pairs off by more than 0.01 in log10); a second used `u64` fixed
//! point (worst 2.3e-5) but each product cost two widening multiplies, and the SIMD backend
//! stayed at ~6× the f64 oracle. Binary32 gives every value its own exponent, so a path is kept
//! until it falls 2^-150 (1e-45) below the row's best, at one instruction per operation.
//!
//! Error bound against exact arithmetic on the model: every operation rounds by at most
//! `u = 2^-24` relatively, and all terms are non-negative, so no error is amplified: a value
//! reached through `k` roundings is within a factor `(1 ± u)^k` of exact. A cell of row `i`,
//! column `j` is at most `3i + 2j` roundings deep, the sum adds `n`, coefficient rounding adds
//! at most `2m`: for a 250 × 800 pair, `k < 3,200`, so `|Δ log10 L| < 3,200·u/ln 10 ≈ 8e-5`.
//! `lift` adds at most `FLOOR` to a cell while the row's best is at least `2^64`: at most
//! 2^-150 (1e-45) of the row's best per cell, an excess that the recurrence carries forward as
//! it carries any path. It can matter only if every path through the row's best later loses
//! 40 orders of magnitude (seven Q60 mismatches) — a read that does not belong to the
//! haplotype at all, whose likelihood is then overstated but still ~1e-40 below the
//! likelihood of any read that does. Measured against the f64 oracle in
//! `tests/genoa/pair_hmm.rs`.

use crate::error::{Error, Result};

/// Largest quality the model uses (higher ones are clamped to it).
pub const MAX_QUAL: u8 = 60;
/// Smallest gap-continuation quality the model uses (lower ones are clamped to it).
pub const MIN_GCP: u8 = 4;
/// Computed values below `2^FLOOR_EXP` are raised to it.
pub const FLOOR_EXP: i32 = -86;
/// `2^FLOOR_EXP`.
pub const FLOOR: f32 = 1.0 / ((1u128 << 86) as f32);
/// Every non-zero coefficient is at least `2^MIN_COEF_EXP` (so `FLOOR × coefficient` is a
/// normal `f32`).
pub const MIN_COEF_EXP: i32 = -40;
/// Row-0 deletion value: `2^INIT_EXP` stands for probability `1/n`.
pub const INIT_EXP: i32 = 90;
/// Rows whose largest `M`/`I` has a binary exponent below this are scaled up...
pub const RENORM_LOW: i32 = 64;
/// ... above this, down...
pub const RENORM_HIGH: i32 = 100;
/// ... to this exponent.
pub const RENORM_TARGET: i32 = 90;
/// Longest read or haplotype.
pub const MAX_LEN: u32 = 65_535;
/// Coefficients per read row: `A[0..5]`, `B[0..5]`, `mi`, `ii`, `md`, `dd`.
pub const COEFS: usize = 14;
/// Index of `mi` in [`RowCoefs`] (then `ii`, `md`, `dd`).
pub const MI: usize = 10;
pub const II: usize = 11;
pub const MD: usize = 12;
pub const DD: usize = 13;

/// The binary32 coefficients of one read row (see the module header).
pub type RowCoefs = [f32; COEFS];

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

/// What the forward pass of one pair ends with: `P(read | hap) = sum · 2^-(INIT_EXP + exponent)
/// / n`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScaledSum {
    /// `Σ_j M(m,j) + I(m,j)`.
    pub sum: f32,
    /// Total renormalisation (`Σ s`), 0 when `sum` is 0.
    pub exponent: i32,
}

impl ScaledSum {
    /// The result of a pass that ended with `sum` after renormalising by `exponent` in all.
    pub fn new(sum: f32, exponent: i32) -> ScaledSum {
        ScaledSum {
            sum,
            exponent: if sum == 0.0 { 0 } else { exponent },
        }
    }

    /// log10 P(read | haplotype) for a haplotype of `hap_len` bases.
    pub fn log10(&self, hap_len: u32) -> f64 {
        if self.sum == 0.0 || hap_len == 0 {
            return f64::NEG_INFINITY;
        }
        let bits = f64::from(INIT_EXP + self.exponent);
        (det::log2(f64::from(self.sum)) - bits - det::log2(f64::from(hap_len))) * det::LOG10_2
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

/// The coefficient of probability `p` (`0 <= p <= 1`): `p` rounded to the nearest `f32`.
#[inline]
pub fn coefficient(p: f64) -> f32 {
    p as f32
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
        let mut row = [0f32; COEFS];
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
    let mut out = vec![[0.0; COEFS]; batch.read_bases.len()];
    let mut rows = Vec::new();
    for r in 0..batch.reads.len() {
        let s = batch.reads[r];
        rows.clear();
        read_coefficients(batch, r, &mut rows);
        out[s.range()].copy_from_slice(&rows);
    }
    out
}

/// The contract's `lift`: `max(x, FLOOR)`.
#[inline(always)]
pub fn lift(x: f32) -> f32 {
    x.max(FLOOR)
}

/// The renormalisation of a row whose largest `M`/`I` is `max` (see the module header): the
/// power of two `s` to scale the row by, 0 for none.
#[inline]
pub fn renorm_shift(max: f32) -> i32 {
    let e = ((max.to_bits() >> 23) & 0xff) as i32 - 127;
    if (RENORM_LOW..=RENORM_HIGH).contains(&e) {
        0
    } else {
        RENORM_TARGET - e
    }
}

/// `lift(v · 2^s)`, exactly, for a value `v` the recurrence produced (0 or at least
/// `FLOOR`) and a shift from [`renorm_shift`]: an add to the exponent field.
#[inline]
pub fn scale(v: f32, s: i32) -> f32 {
    let e = ((v.to_bits() >> 23) & 0xff) as i32 - 127;
    if v == 0.0 || e + s < FLOOR_EXP {
        FLOOR
    } else {
        f32::from_bits((v.to_bits() as i32 + (s << 23)) as u32)
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
            return Err(Error::Contract(format!(
                "pair_hmm: {len} {name} for {n} read bases"
            )));
        }
    }
    let within = |s: &Span, total: usize| (s.offset as usize + s.len as usize) <= total;
    for (i, s) in batch.reads.iter().enumerate() {
        if s.len > MAX_LEN || !within(s, n) {
            return Err(Error::Contract(format!(
                "pair_hmm: read {i}: outside the batch or longer than {MAX_LEN}"
            )));
        }
    }
    for (i, s) in batch.haps.iter().enumerate() {
        if s.len > MAX_LEN || !within(s, batch.hap_bases.len()) {
            return Err(Error::Contract(format!(
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
            return Err(Error::Contract(format!(
                "pair_hmm: region {i}: reads, haplotypes or output offset out of range"
            )));
        }
        out += u64::from(g.reads) * u64::from(g.haps);
    }
    if out > u64::from(u32::MAX) {
        return Err(Error::Contract(
            "pair_hmm: more than 2^32 likelihoods in one batch".into(),
        ));
    }
    if batch
        .read_bases
        .iter()
        .chain(&batch.hap_bases)
        .any(|&b| b > 4)
    {
        return Err(Error::Contract("pair_hmm: base code above 4".into()));
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
        let p = |e: i32| 2f32.powi(e);
        assert_eq!(renorm_shift(p(64)), 0);
        assert_eq!(renorm_shift(p(101) * 0.99), 0);
        assert_eq!(renorm_shift(p(101)), -11);
        assert_eq!(renorm_shift(p(64) * 0.99), 27);
        assert_eq!(renorm_shift(FLOOR), 176);
        assert_eq!(scale(p(40), -20), p(20));
        assert_eq!(scale(1.5 * p(-80), 176), 1.5 * p(96));
        assert_eq!(scale(FLOOR, -1), FLOOR);
        assert_eq!(scale(0.0, 5), FLOOR);
        // The two exact products the SIMD backend computes it with.
        let two_steps = |v: f32, s: i32| lift(v * p(s / 2) * p(s - s / 2));
        for (v, s) in [
            (FLOOR, 176),
            (1.75 * FLOOR, 100),
            (p(103) * 1.9, -13),
            (FLOOR, -1),
        ] {
            assert_eq!(scale(v, s).to_bits(), two_steps(v, s).to_bits(), "{v} {s}");
        }
        assert_eq!(FLOOR, p(FLOOR_EXP));
        assert_eq!(lift(FLOOR), FLOOR);
        assert_eq!(lift(FLOOR * 0.75), FLOOR);
        assert_eq!(lift(0.0), FLOOR);
    }

    #[test]
    fn every_coefficient_keeps_products_normal() {
        // Every coefficient any quality combination gives: zero or at least 2^MIN_COEF_EXP,
        // so FLOOR × coefficient is a normal f32 — the contract's no-subnormal argument.
        let min = 2f32.powi(MIN_COEF_EXP);
        assert!(FLOOR * min >= f32::MIN_POSITIVE);
        let mut smallest = f32::MAX;
        let mut b = HmmBatch::default();
        for q in 0..=MAX_QUAL {
            for gi in 0..=MAX_QUAL {
                for gd in 0..=MAX_QUAL {
                    let gc = gd.max(MIN_GCP);
                    let read = [0u8, 1];
                    b.clear();
                    b.push_region(
                        &[HmmRead {
                            bases: &read,
                            quals: &[q, q],
                            ins_quals: &[gi, gi],
                            del_quals: &[gd, gd],
                            gcp_quals: &[gc, gi],
                        }],
                        &[],
                    );
                    for row in all_coefficients(&b) {
                        for c in row {
                            assert!(c == 0.0 || c >= min, "Q{q}/{gi}/{gd}: {c}");
                            assert!(c <= 1.0);
                            if c > 0.0 {
                                smallest = smallest.min(c);
                            }
                        }
                    }
                }
            }
        }
        assert!(smallest < 1e-8, "{smallest}"); // the enumeration reached the small ones
    }
}
