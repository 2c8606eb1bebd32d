//! One aligned read as genoa writes it: the SAM fields plus what the caller needs.

use crate::genome::{Cigar, CigarOp, base_ascii};

pub const PAIRED: u16 = 0x1;
pub const PROPER_PAIR: u16 = 0x2;
pub const UNMAPPED: u16 = 0x4;
pub const MATE_UNMAPPED: u16 = 0x8;
pub const REVERSE: u16 = 0x10;
pub const MATE_REVERSE: u16 = 0x20;
pub const FIRST: u16 = 0x40;
pub const LAST: u16 = 0x80;
pub const SECONDARY: u16 = 0x100;
pub const QC_FAIL: u16 = 0x200;
pub const DUPLICATE: u16 = 0x400;
pub const SUPPLEMENTARY: u16 = 0x800;

/// An aligned (or unmapped) read with its SAM fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlignedRead {
    pub name: String,
    pub flags: u16,
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
}

impl AlignedRead {
    /// Whether the read itself is mapped.
    pub fn is_mapped(&self) -> bool {
        self.flags & UNMAPPED == 0
    }
    /// 0-based exclusive reference end of a mapped read.
    pub fn end(&self) -> u64 {
        self.pos + u64::from(self.cigar.reference_len())
    }
}

/// `NM` and `MD` of `read` (base codes as stored) aligned with `cigar` at `pos` of `contig`.
pub fn nm_md(read: &[u8], contig: &[u8], pos: u64, cigar: &Cigar) -> (u32, String) {
    let (mut qi, mut ri) = (0usize, pos as usize);
    let (mut nm, mut run) = (0u32, 0u32);
    let mut md = String::new();
    for &(op, n) in &cigar.0 {
        let n = n as usize;
        match op {
            CigarOp::SoftClip => qi += n,
            CigarOp::Ins => {
                qi += n;
                nm += n as u32;
            }
            CigarOp::Del => {
                md.push_str(&run.to_string());
                run = 0;
                md.push('^');
                for &b in &contig[ri..ri + n] {
                    md.push(base_ascii(b) as char);
                }
                ri += n;
                nm += n as u32;
            }
            CigarOp::Match => {
                for t in 0..n {
                    let (q, r) = (read[qi + t], contig[ri + t]);
                    if q == r && q < 4 {
                        run += 1;
                    } else {
                        md.push_str(&run.to_string());
                        run = 0;
                        md.push(base_ascii(r) as char);
                        nm += 1;
                    }
                }
                qi += n;
                ri += n;
            }
        }
    }
    md.push_str(&run.to_string());
    (nm, md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::base_code;

    fn codes(s: &str) -> Vec<u8> {
        s.bytes().map(base_code).collect()
    }

    #[test]
    fn md_and_nm_follow_the_sam_spec() {
        //            ref: ACGTACGTAC
        //           read:   GTTC-TACxx  (1 mismatch, 1 deletion, 2 inserted, 1 soft clip)
        let contig = codes("ACGTACGTAC");
        let read = codes("GTTCTACGGA");
        let cigar = Cigar(vec![
            (CigarOp::Match, 4),
            (CigarOp::Del, 1),
            (CigarOp::Match, 3),
            (CigarOp::Ins, 2),
            (CigarOp::SoftClip, 1),
        ]);
        let (nm, md) = nm_md(&read, &contig, 2, &cigar);
        assert_eq!(md, "2A1^G3");
        assert_eq!(nm, 1 + 1 + 2);
    }
}
