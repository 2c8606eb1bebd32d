//! `NM` and `MD` of an aligned read, and the entries of `XA` (the SAM optional fields genoa
//! computes while aligning).

use std::fmt::Write;

use crate::align::map::Hit;
use crate::genome::{Cigar, CigarOp, base_ascii};

/// Appends `hit`'s entry of an `XA` tag to `xa`, as bwa writes it: `rname,±pos,CIGAR,NM;`
/// (1-based leftmost position, `-` on the reverse strand, soft clips in the CIGAR).
pub fn xa_entry(xa: &mut String, contig: &str, hit: &Hit, nm: u32) {
    let strand = if hit.reverse { '-' } else { '+' };
    // Writing to a String cannot fail.
    let _ = write!(xa, "{contig},{strand}{},{},{nm};", hit.pos + 1, hit.cigar);
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
    use crate::genome::base_codes;

    fn codes(s: &str) -> Vec<u8> {
        base_codes(s.as_bytes())
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
