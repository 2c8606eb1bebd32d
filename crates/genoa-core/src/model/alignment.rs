//! One aligned read as genoa writes it: the SAM fields plus what the caller needs. Its flags
//! are noodles' [`Flags`] (the SAM specification's FLAG bits).

pub use noodles::sam::alignment::record::Flags;

use crate::genome::Cigar;

/// An aligned (or unmapped) read with its SAM fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlignedRead {
    pub name: String,
    pub flags: Flags,
    /// Reference sequence index (the read's own, or its mate's when placed unmapped).
    pub contig: Option<u32>,
    /// 0-based leftmost position.
    pub pos: u64,
    pub mapq: u8,
    pub cigar: Cigar,
    pub mate_contig: Option<u32>,
    pub mate_pos: u64,
    pub tlen: i64,
    /// Bases as stored (reverse-complemented for reverse-strand reads), upper-case ASCII.
    pub seq: Vec<u8>,
    /// Phred qualities as stored (reversed for reverse-strand reads).
    pub qual: Vec<u8>,
    /// Edit distance to the reference (`NM`); only for mapped reads.
    pub nm: u32,
    /// `MD` string; only for mapped reads.
    pub md: String,
    /// Mate's CIGAR (`MC`) when the mate is mapped.
    pub mate_cigar: Option<String>,
    /// `SA`: the other parts of a split read (`rname,pos,strand,CIGAR,mapQ,NM;` each).
    pub sa: Option<String>,
    /// `XA`: alternative placements on ALT contigs, bwa's format (`rname,±pos,CIGAR,NM;` each).
    pub xa: Option<String>,
}

impl AlignedRead {
    /// Whether the read itself is mapped.
    pub fn is_mapped(&self) -> bool {
        !self.flags.is_unmapped()
    }
    /// 0-based exclusive reference end of a mapped read.
    pub fn end(&self) -> u64 {
        self.pos + u64::from(self.cigar.reference_len())
    }
}
