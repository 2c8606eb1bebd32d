//! Seeding, candidate loci and extension of single reads.
//!
//! For each strand of a read every k-mer is looked up; each hit votes for a diagonal
//! (reference position minus read position). Votes are clustered (diagonals within `band` of
//! each other join one cluster) and the best clusters become candidate loci. Each candidate
//! becomes one problem of a batch for the `banded_align` kernel: the read against the reference
//! window around its diagonal, in local mode with bwa-mem's scoring, so what does not align is
//! soft-clipped.

use crate::align::index::{Index, for_each_kmer};
use crate::genome::{Cigar, CigarOp, reverse_complement_into};
use crate::kernel::banded_align::{AlignBatch, AlignResult, AlignResults};

/// Settings of seeding and extension.
#[derive(Clone, Copy, Debug)]
pub struct MapParams {
    /// Band half-width of the extension.
    pub band: u32,
    /// K-mers with more hits than this are ignored (repeats).
    pub max_occurrences: usize,
    /// Candidate loci kept per read (both strands together).
    pub max_candidates: usize,
    /// Minimum votes of a candidate cluster.
    pub min_votes: u32,
    /// Minimum alignment score to report a read as mapped.
    pub min_score: i32,
}

impl Default for MapParams {
    fn default() -> Self {
        MapParams {
            band: 16,
            max_occurrences: 500,
            max_candidates: 5,
            min_votes: 2,
            min_score: 30,
        }
    }
}

/// A candidate locus of one read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub reverse: bool,
    pub contig: u32,
    /// Contig-local diagonal: reference position of read base 0.
    pub diagonal: i64,
    pub votes: u32,
}

/// Finds candidate loci of `read` (base codes), best first; `rc` and `diags` are scratch.
pub fn candidates(
    index: &Index,
    read: &[u8],
    params: &MapParams,
    rc: &mut Vec<u8>,
    diags: &mut Vec<(u32, i64)>,
    out: &mut Vec<Candidate>,
) {
    out.clear();
    reverse_complement_into(read, rc);
    for (reverse, seq) in [(false, read), (true, rc.as_slice())] {
        diags.clear();
        for_each_kmer(seq, index.k(), |p, kmer| {
            let hits = index.hits(kmer);
            if hits.len() > params.max_occurrences {
                return;
            }
            for &h in hits {
                let (c, local) = index.locate(u64::from(h));
                diags.push((c as u32, local as i64 - p as i64));
            }
        });
        diags.sort_unstable();
        let mut i = 0;
        while i < diags.len() {
            let (c, d0) = diags[i];
            let mut j = i;
            while j + 1 < diags.len()
                && diags[j + 1].0 == c
                && diags[j + 1].1 - diags[j].1 <= i64::from(params.band)
            {
                j += 1;
            }
            let votes = (j - i + 1) as u32;
            if votes >= params.min_votes {
                // The diagonal with the most votes inside the cluster (the lowest on ties).
                let (mut best_d, mut best_n, mut k) = (d0, 0usize, i);
                while k <= j {
                    let d = diags[k].1;
                    let mut e = k;
                    while e < j && diags[e + 1].1 == d {
                        e += 1;
                    }
                    if e - k + 1 > best_n {
                        best_n = e - k + 1;
                        best_d = d;
                    }
                    k = e + 1;
                }
                out.push(Candidate {
                    reverse,
                    contig: c,
                    diagonal: best_d,
                    votes,
                });
            }
            i = j + 1;
        }
    }
    out.sort_by(|a, b| {
        b.votes
            .cmp(&a.votes)
            .then(a.contig.cmp(&b.contig))
            .then(a.diagonal.cmp(&b.diagonal))
            .then(a.reverse.cmp(&b.reverse))
    });
    out.truncate(params.max_candidates);
}

/// Adds the extension problem of `cand` to `batch`; returns the reference start of its target
/// window. `oriented` is the read on the candidate's strand.
pub fn push_problem(
    index: &Index,
    cand: &Candidate,
    oriented: &[u8],
    band: u32,
    batch: &mut AlignBatch,
) -> u64 {
    let contig = index.contig(cand.contig as usize);
    let len = contig.len() as i64;
    let start = (cand.diagonal - i64::from(band)).clamp(0, len);
    let end = (cand.diagonal + oriented.len() as i64 + i64::from(band)).clamp(start, len);
    let diag = cand.diagonal - start;
    batch.push(oriented, &contig[start as usize..end as usize], diag as i32);
    start as u64
}

/// One extended alignment of a read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub reverse: bool,
    pub contig: u32,
    /// 0-based leftmost reference position of the first aligned base.
    pub pos: u64,
    /// 0-based exclusive end on the reference.
    pub end: u64,
    pub score: i32,
    /// CIGAR including soft clips, on the forward reference strand.
    pub cigar: Cigar,
}

impl Hit {
    /// Builds a hit from a kernel result; `read_len` is the whole read's length.
    pub fn from_result(
        cand: &Candidate,
        window_start: u64,
        r: &AlignResult,
        results: &AlignResults,
        read_len: u32,
    ) -> Hit {
        let mut cigar = Cigar::default();
        cigar.push(CigarOp::SoftClip, r.query_start);
        for &(op, n) in
            &results.cigar[r.cigar_offset as usize..(r.cigar_offset + r.cigar_len) as usize]
        {
            cigar.push(op, n);
        }
        cigar.push(CigarOp::SoftClip, read_len - r.query_end);
        let pos = window_start + u64::from(r.target_start);
        Hit {
            reverse: cand.reverse,
            contig: cand.contig,
            pos,
            end: window_start + u64::from(r.target_end),
            score: r.score,
            cigar,
        }
    }
}

/// Sorts hits best first (score, then position for determinism) and drops duplicates of the
/// same locus (same strand and contig, starts within `band`).
pub fn rank_hits(hits: &mut Vec<Hit>, band: u32) {
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.contig.cmp(&b.contig))
            .then(a.pos.cmp(&b.pos))
            .then(a.reverse.cmp(&b.reverse))
    });
    let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
    for h in hits.drain(..) {
        if !kept.iter().any(|k| {
            k.reverse == h.reverse
                && k.contig == h.contig
                && k.pos.abs_diff(h.pos) <= u64::from(band)
        }) {
            kept.push(h);
        }
    }
    *hits = kept;
}

/// MAPQ of a best score given the runner-up (bwa-mem's shape: 30·(1 − sub/best)·ln(len)).
pub fn mapq(best: i32, second: Option<i32>, min_score: i32, aligned_len: u32) -> u8 {
    let sub = second.unwrap_or(min_score).max(min_score);
    if best <= 0 || sub >= best {
        return 0;
    }
    let q = 30.0 * (1.0 - f64::from(sub) / f64::from(best)) * f64::from(aligned_len.max(2)).ln();
    q.round().clamp(0.0, 60.0) as u8
}
