//! Where the caller gets the reads of a chunk: an indexed BAM or CRAM (`genoa call`), or — in
//! `genoa run` — the record stream itself (see [`crate::pipeline::stream`]).

use crate::error::Result;
use crate::model::alignment::AlignedRead;

/// Where the caller gets the reads of a chunk.
pub trait ReadSource: Sync {
    /// Appends every read placed on contig `contig` that overlaps `[start, end)`, in
    /// coordinate order (reads that end before `start` may come too).
    fn fetch(&self, contig: usize, start: u64, end: u64, out: &mut Vec<AlignedRead>) -> Result<()>;
    /// `SM` of the input's first read group, if it has one.
    fn sample(&self) -> Option<String> {
        None
    }
}

impl ReadSource for crate::io::bam::IndexedBam {
    fn fetch(&self, contig: usize, start: u64, end: u64, out: &mut Vec<AlignedRead>) -> Result<()> {
        crate::io::bam::IndexedBam::fetch(self, contig, start, end, out)
    }
    fn sample(&self) -> Option<String> {
        crate::io::bam::header_sample(self.header())
    }
}

impl ReadSource for crate::io::cram::IndexedCram {
    fn fetch(&self, contig: usize, start: u64, end: u64, out: &mut Vec<AlignedRead>) -> Result<()> {
        crate::io::cram::IndexedCram::fetch(self, contig, start, end, out)
    }
    fn sample(&self) -> Option<String> {
        crate::io::bam::header_sample(self.header())
    }
}
