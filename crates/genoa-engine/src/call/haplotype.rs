//! Read × haplotype helpers of the active-region caller (`region`): which reads the caller
//! uses, the part of a read inside a window, and the diploid genotype of an event from its
//! reads' likelihoods (`pair_hmm`) for haplotypes with and without it:
//! `GL(a/b) = Σ_reads log10(L(r|a)/2 + L(r|b)/2)`. `<NON_REF>`'s likelihood for a read is its
//! worse one of REF and ALT (what it would be for an allele the read supports no better than
//! the allele it does not).

use crate::call::genotype::finish_alleles;
use crate::genome::CigarOp;
use crate::model::alignment::AlignedRead;
use crate::model::gvcf::Genotyped;

/// A read counts towards an allele's depth (AD) when its likelihood for that allele exceeds
/// the other's by this much (log10), as GATK's informative-read threshold.
const INFORMATIVE: f64 = 0.2;

/// The part of `read` that falls inside `[w0, w1)`: a query range (insertions inside the
/// window included), or `None` if no base does. Soft-clipped bases count as if aligned
/// without gaps next to the aligned part, as HaplotypeCaller reverts soft clips: an aligner
/// clips a read end that holds an indel, and those bases are evidence for it.
pub fn clip_to_window(read: &AlignedRead, w0: u64, w1: u64) -> Option<(usize, usize)> {
    let (mut qi, mut ri) = (0usize, read.pos);
    let (mut first, mut last) = (usize::MAX, 0usize);
    // Query bases qi..qi + n laid on reference r0..r0 + n: those inside the window.
    let inside = |qi: usize, r0: u64, n: usize| {
        let lo = w0.saturating_sub(r0).min(n as u64) as usize;
        let hi = w1.saturating_sub(r0).min(n as u64) as usize;
        (lo < hi).then_some((qi + lo, qi + hi))
    };
    for (k, &(op, n)) in read.cigar.0.iter().enumerate() {
        let n = n as usize;
        let hit = match op {
            CigarOp::SoftClip => {
                // A leading clip ends where the alignment starts; a trailing one starts where
                // it ends.
                let r0 = if k == 0 {
                    ri.checked_sub(n as u64)
                } else {
                    Some(ri)
                };
                qi += n;
                r0.and_then(|r0| inside(qi - n, r0, n))
            }
            CigarOp::Match => {
                ri += n as u64;
                qi += n;
                inside(qi - n, ri - n as u64, n)
            }
            // An insertion inside the window counts whole: its bases all count.
            CigarOp::Ins => {
                qi += n;
                (ri > w0 && ri < w1).then_some((qi - n, qi))
            }
            CigarOp::Del => {
                ri += n as u64;
                None
            }
        };
        if let Some((a, b)) = hit {
            first = first.min(a);
            last = last.max(b);
        }
    }
    (first < last).then_some((first, last))
}

/// Genotype at `ploidy` (1 or 2) over `[REF, ALT1..ALTm, <NON_REF>]` from per-read log10
/// likelihoods `like(read, allele)` of the real alleles (`0` REF, `1..=m` the ALTs;
/// `m = thetas.len()`, `θi` ALTi's prior). `<NON_REF>`'s likelihood for a read is its worst
/// real allele's.
pub fn genotype_from_likelihoods(
    reads: usize,
    like: impl Fn(usize, usize) -> f64,
    thetas: &[f64],
    ploidy: u8,
) -> Genotyped {
    let half = 0.5f64.log10();
    let n = thetas.len() + 1; // real alleles
    let order: Vec<(u8, u8)> = crate::model::genotype::diploid(n as u8 + 1).collect();
    let mut gl = vec![0f64; order.len()];
    let mut ad = vec![0u32; n + 1];
    let mut l = vec![0f64; n + 1];
    for r in 0..reads {
        for (a, v) in l.iter_mut().take(n).enumerate() {
            *v = like(r, a);
        }
        cap_mismapping(&mut l[..n]);
        l[n] = l[..n].iter().copied().fold(f64::INFINITY, f64::min);
        for (k, &(a, b)) in order.iter().enumerate() {
            gl[k] += log10_sum(l[usize::from(a)], l[usize::from(b)]) + half;
        }
        if let Some(a) = informative_allele(&l[..n]) {
            ad[a] += 1;
        }
    }
    finish_alleles(&gl, ad, thetas, ploidy)
}

/// The allele a read is informative for, from its log10 likelihoods of the real alleles: the
/// one that beats every other clearly (by more than GATK's 0.2), if any.
pub fn informative_allele(l: &[f64]) -> Option<usize> {
    (0..l.len()).find(|&a| {
        let other = (0..l.len())
            .filter(|&b| b != a)
            .map(|b| l[b])
            .fold(f64::NEG_INFINITY, f64::max);
        l[a] - other > INFORMATIVE
    })
}

/// HaplotypeCaller's global read-mismapping rate (Q45): a read is at most 10^-4.5 times less
/// likely under one allele or haplotype than under its best, as the read may come from
/// elsewhere in the genome; no single read can then outweigh 45 Phred of evidence.
pub const MISMAPPING_LOG10: f64 = -4.5;

/// Caps a read's log10 likelihoods at [`MISMAPPING_LOG10`] below its best.
pub fn cap_mismapping(l: &mut [f64]) {
    let best = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for v in l {
        *v = v.max(best + MISMAPPING_LOG10);
    }
}

/// `log10(10^a + 10^b)`.
pub fn log10_sum(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (1.0 + 10f64.powf(lo - hi)).log10()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::genome::Cigar;

    /// A forward read at `pos` (MAPQ 60, base qualities 30).
    pub(crate) fn read(pos: u64, cigar: &[(CigarOp, u32)], seq: &[u8]) -> AlignedRead {
        AlignedRead {
            name: "r".into(),
            flags: crate::model::alignment::Flags::empty(),
            contig: Some(0),
            pos,
            mapq: 60,
            cigar: Cigar(cigar.to_vec()),
            mate_contig: None,
            mate_pos: 0,
            tlen: 0,
            seq: seq.to_vec(),
            qual: vec![30; seq.len()],
            nm: 0,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    }

    #[test]
    fn reads_are_cut_to_the_window_soft_clips_included() {
        use CigarOp::*;
        let seq = vec![b'A'; 40];
        // 5S 20M 2I 13M from 100: bases 5..25 on 100..120, insertion before 120, 27..40 on
        // 120..133.
        let r = read(
            100,
            &[(SoftClip, 5), (Match, 20), (Ins, 2), (Match, 13)],
            &seq,
        );
        assert_eq!(clip_to_window(&r, 0, 1000), Some((0, 40)));
        assert_eq!(clip_to_window(&r, 97, 1000), Some((2, 40))); // clipped bases on 95..100
        assert_eq!(clip_to_window(&r, 110, 125), Some((15, 32)));
        assert_eq!(clip_to_window(&r, 120, 121), Some((27, 28))); // insertion on the edge: out
        assert_eq!(clip_to_window(&r, 133, 200), None);
        assert_eq!(clip_to_window(&r, 0, 100), Some((0, 5))); // only the clipped bases
        assert_eq!(clip_to_window(&r, 0, 95), None);
    }
}
