//! The data every layer shares: what the aligner produces and the caller, the writers and the
//! QC consume. Plain types with their invariants, no I/O and no algorithms beyond what keeps a
//! value consistent; `io` reads and writes them, `align` and `call` produce and consume them,
//! `report` and the submission side count and check them.
//!
//! - [`alignment`]: one aligned read ([`alignment::AlignedRead`]) with its SAM flags
//!   (noodles' [`alignment::Flags`]).
//! - [`gvcf`]: the records of a gVCF: variants, reference blocks, genotypes, the output mode
//!   and the GQ-band presets.
//! - [`Interval`]: a half-open genomic interval, the unit of targets and shards.
//! - [`contigs`]: the role of a contig of a human reference (autosome, X, Y, mitochondrion,
//!   ALT, decoy, other).
//! - [`genotype`]: VCF's genotype order (the index of `a/b` in PL and GL arrays).

pub mod alignment;
pub mod contigs;
pub mod genotype;
pub mod gvcf;

/// A half-open interval `[start, end)` (0-based) on contig `contig` (reference order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub contig: usize,
    pub start: u64,
    pub end: u64,
}

impl Interval {
    /// Whether `[start, end)` on the same contig shares a base with the interval.
    pub fn overlaps(&self, contig: usize, start: u64, end: u64) -> bool {
        self.contig == contig && start < self.end && self.start < end
    }
}
