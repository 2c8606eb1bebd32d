//! `banded_align`: banded affine-gap alignment of query against target, with traceback.
//!
//! This file is the contract every backend (`backend::{scalar,gpu}::banded_align`) implements
//! bit for bit; `backend::scalar::banded_align` is the reference implementation.
//!
//! # Recurrence (Gotoh), for `1 <= i <= m` (query) and `1 <= j <= n` (target)
//!
//! ```text
//! E(i,j) = max(H(i,j-1) - o - e, E(i,j-1) - e)          deletion  (consumes target)
//! F(i,j) = max(H(i-1,j) - o - e, F(i-1,j) - e)          insertion (consumes query)
//! H(i,j) = max(H(i-1,j-1) + s(q_i, t_j), E(i,j), F(i,j) [, 0 in local mode])
//! s(a,b) = -n_penalty if a or b is N, +match if a == b, else -mismatch
//! ```
//!
//! Only cells with `|j - i - diagonal| <= band` exist; every other cell is `NEG`. Every value
//! is clamped from below at [`NEG`], so no score can wrap (see [`validate`] for the bounds).
//!
//! Boundaries: **global** and **extension** `H(0,0)=0`, `H(0,j)=-(o+j·e)`, `H(i,0)=-(o+i·e)`;
//! **local** `H(0,j)=end_bonus` (the alignment starts at the first query base),
//! `H(i,0)=0`. `E(i,0)` and `F(0,j)` are `NEG`.
//!
//! # Tie-breaks (part of the contract)
//! * `H`: diagonal, then `E`, then `F`, then the local zero start; a later candidate wins only
//!   when strictly greater.
//! * `E`/`F`: opening wins over extension on equality.
//! * Best cell: global takes `(m, n)`; local and extension scan rows `i = 1..=m`, in each row
//!   `j` ascending, and take the first cell whose `H(i,j) + (i == m ? end_bonus : 0)` is strictly
//!   greater than the best so far, starting from the empty alignment with score 0 at `(0,0)`.
//! * Z-drop (extension mode, `zdrop > 0`), as in ksw2/minimap2: after each row `i < m` that has
//!   at least one cell, take the row's largest `H(i,r)` (the first, `r` ascending) and the best
//!   so far `S` at `(bi, bj)`; if `S - H(i,r) > zdrop + e·|(r - i) - (bj - bi)|` the alignment
//!   stops there — no later row is computed — and `zdropped` is set.
//! * Traceback from the best cell follows the stored sources; in local mode it stops at a zero
//!   start, at row 0 or at column 0; in global and extension mode row 0 / column 0 emit the
//!   remaining deletions / insertions, so the alignment starts at `(0,0)`.
//!
//! # Output
//! Score (local and extension: with end bonuses included), query and target start (inclusive)
//! and end (exclusive), whether z-drop stopped the alignment, and the CIGAR of `query[start..end]` against `target[start..end]` using `M`,
//! `I`, `D` only — soft clips are the caller's business.

use crate::error::{Error, Result};
use crate::genome::{Cigar, CigarOp};

/// Lowest score any cell can take; cells outside the band hold it.
pub const NEG: i32 = -(1 << 29);
/// Longest query or target a pair may have.
pub const MAX_LEN: u32 = 65_535;
/// Largest scoring parameter accepted (keeps every score far from `NEG`).
pub const MAX_PARAM: i32 = 1_000;
/// Largest z-drop threshold accepted.
pub const MAX_ZDROP: i32 = 1_000_000;
/// Widest band accepted (`2·band + 1` cells per row).
pub const MAX_BAND: u32 = 1_024;

/// Alignment mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// End to end on both sequences (haplotype against reference).
    Global = 0,
    /// Free start and end on both, with `end_bonus` for reaching either query end (read
    /// against a reference window; what is not aligned becomes a soft clip).
    Local = 1,
    /// Start anchored at the first base of both, free end on both, `end_bonus` for reaching
    /// the query's end, optional z-drop (seed extension as in bwa-mem and minimap2).
    Extension = 2,
}

/// Scoring and band parameters, shared by a whole batch. Penalties are positive numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlignParams {
    pub mode: Mode,
    pub match_score: i32,
    pub mismatch: i32,
    pub n_penalty: i32,
    pub gap_open: i32,
    pub gap_extend: i32,
    pub band: u32,
    pub end_bonus: i32,
    /// Z-drop threshold of extension mode (`0` = off; other modes ignore it).
    pub zdrop: i32,
}

impl AlignParams {
    /// bwa-mem's short-read scoring (A=1 B=4 O=6 E=1, clipping penalty 5) in local mode.
    pub fn short_read(band: u32) -> Self {
        AlignParams {
            mode: Mode::Local,
            match_score: 1,
            mismatch: 4,
            n_penalty: 1,
            gap_open: 6,
            gap_extend: 1,
            band,
            end_bonus: 5,
            zdrop: 0,
        }
    }
}

/// One problem of a batch: where its query and target lie in [`AlignBatch::bases`], and the
/// diagonal (`j - i`) the band is centred on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlignPair {
    pub query_offset: u32,
    pub query_len: u32,
    pub target_offset: u32,
    pub target_len: u32,
    pub diagonal: i32,
}

/// A batch of problems; sequences are base codes (`0..=3`, `4` = N), concatenated.
#[derive(Clone, Debug, Default)]
pub struct AlignBatch {
    pub bases: Vec<u8>,
    pub pairs: Vec<AlignPair>,
}

impl AlignBatch {
    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.bases.clear();
        self.pairs.clear();
    }
    /// Adds one problem and returns its index.
    pub fn push(&mut self, query: &[u8], target: &[u8], diagonal: i32) -> usize {
        let query_offset = self.bases.len() as u32;
        self.bases.extend_from_slice(query);
        let target_offset = self.bases.len() as u32;
        self.bases.extend_from_slice(target);
        self.pairs.push(AlignPair {
            query_offset,
            query_len: query.len() as u32,
            target_offset,
            target_len: target.len() as u32,
            diagonal,
        });
        self.pairs.len() - 1
    }
    /// Query bases of pair `p`.
    pub fn query(&self, p: &AlignPair) -> &[u8] {
        &self.bases[p.query_offset as usize..(p.query_offset + p.query_len) as usize]
    }
    /// Target bases of pair `p`.
    pub fn target(&self, p: &AlignPair) -> &[u8] {
        &self.bases[p.target_offset as usize..(p.target_offset + p.target_len) as usize]
    }
    /// Number of band cells the batch holds (a measure of work).
    pub fn cells(&self, band: u32) -> u64 {
        self.pairs
            .iter()
            .map(|p| u64::from(p.query_len) * u64::from(2 * band + 1))
            .sum()
    }
}

/// Result of one problem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlignResult {
    pub score: i32,
    pub query_start: u32,
    pub query_end: u32,
    pub target_start: u32,
    pub target_end: u32,
    /// Whether z-drop stopped the alignment.
    pub zdropped: bool,
    /// Range of this result's CIGAR in [`AlignResults::cigar`].
    pub cigar_offset: u32,
    pub cigar_len: u32,
}

/// Caller-owned results of a batch, reused across batches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlignResults {
    pub results: Vec<AlignResult>,
    /// CIGAR runs of every result, concatenated.
    pub cigar: Vec<(CigarOp, u32)>,
}

impl AlignResults {
    /// Empties the results, keeping allocations.
    pub fn clear(&mut self) {
        self.results.clear();
        self.cigar.clear();
    }
    /// Appends the results of a later part of the same batch, rebasing its CIGAR offsets.
    pub fn append(&mut self, part: AlignResults) {
        let base = self.cigar.len() as u32;
        self.results.extend(part.results.into_iter().map(|mut r| {
            r.cigar_offset += base;
            r
        }));
        self.cigar.extend(part.cigar);
    }
    /// CIGAR of result `r` as an owned [`Cigar`].
    pub fn cigar_of(&self, r: &AlignResult) -> Cigar {
        Cigar(self.cigar[r.cigar_offset as usize..(r.cigar_offset + r.cigar_len) as usize].to_vec())
    }
}

/// Score of aligning query base `a` against target base `b`.
#[inline]
pub fn substitution(params: &AlignParams, a: u8, b: u8) -> i32 {
    if a > 3 || b > 3 {
        -params.n_penalty
    } else if a == b {
        params.match_score
    } else {
        -params.mismatch
    }
}

/// Checks a batch against the contract's limits; every backend calls it first, so all of them
/// refuse the same batches with the same error.
pub fn validate(batch: &AlignBatch, params: &AlignParams) -> Result<()> {
    let p = params;
    for (name, v) in [
        ("match", p.match_score),
        ("mismatch", p.mismatch),
        ("N penalty", p.n_penalty),
        ("gap open", p.gap_open),
        ("gap extend", p.gap_extend),
        ("end bonus", p.end_bonus),
    ] {
        if !(0..=MAX_PARAM).contains(&v) {
            return Err(Error::Contract(format!(
                "banded_align: {name} {v} outside 0..={MAX_PARAM}"
            )));
        }
    }
    if !(0..=MAX_ZDROP).contains(&p.zdrop) {
        return Err(Error::Contract(format!(
            "banded_align: z-drop {} outside 0..={MAX_ZDROP}",
            p.zdrop
        )));
    }
    if p.band > MAX_BAND {
        return Err(Error::Contract(format!(
            "banded_align: band {} above {MAX_BAND}",
            p.band
        )));
    }
    for (idx, pair) in batch.pairs.iter().enumerate() {
        if pair.query_len > MAX_LEN || pair.target_len > MAX_LEN {
            return Err(Error::Contract(format!(
                "banded_align: pair {idx}: sequence longer than {MAX_LEN}"
            )));
        }
        let end = |off: u32, len: u32| off as usize + len as usize;
        if end(pair.query_offset, pair.query_len) > batch.bases.len()
            || end(pair.target_offset, pair.target_len) > batch.bases.len()
        {
            return Err(Error::Contract(format!(
                "banded_align: pair {idx}: sequence outside the batch"
            )));
        }
        if pair.diagonal.unsigned_abs() > 2 * MAX_LEN {
            return Err(Error::Contract(format!(
                "banded_align: pair {idx}: diagonal {} out of range",
                pair.diagonal
            )));
        }
        if p.mode == Mode::Global {
            let d =
                i64::from(pair.target_len) - i64::from(pair.query_len) - i64::from(pair.diagonal);
            if d.unsigned_abs() > u64::from(p.band) || pair.diagonal.unsigned_abs() > p.band {
                return Err(Error::Contract(format!(
                    "banded_align: pair {idx}: global start or end cell outside the band"
                )));
            }
        }
    }
    Ok(())
}
