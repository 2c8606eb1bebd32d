//! Indel genotyping from read × haplotype likelihoods (the `pair_hmm` kernel), as GATK's
//! HaplotypeCaller genotypes: a window of the reference around a candidate indel gives two
//! haplotypes, REF and ALT; every read that passes the caller's filters and overlaps the
//! indel is cut to the window (its bases aligned inside it, soft clips dropped) and scored
//! against both; the diploid genotype likelihoods are
//! `GL(a/b) = Σ_reads log10(L(r|a)/2 + L(r|b)/2)`.
//!
//! Step towards the caller issue: no local assembly yet (the haplotypes come from the
//! pileup's candidate, one indel per site), and `<NON_REF>`'s likelihood for a read is its
//! worse one of REF and ALT (what it would be for an allele the read supports no better than
//! the allele it does not).

use crate::align::AlignedRead;
use crate::align::record::{DUPLICATE, QC_FAIL, SECONDARY, SUPPLEMENTARY, UNMAPPED};
use crate::backend::Backend;
use crate::call::CallParams;
use crate::call::genotype::{Genotyped, finish_genotype};
use crate::call::pileup::Indel;
use crate::error::Result;
use crate::genome::{CigarOp, base_code};
use crate::kernel::pair_hmm::{HmmBatch, HmmRead, HmmResults};

/// Reference bases on each side of the indel in the haplotypes.
pub const PAD: u64 = 60;
/// GATK's default insertion and deletion gap-open quality, and gap continuation quality.
const GAP_OPEN_QUAL: u8 = 45;
const GAP_CONTINUATION_QUAL: u8 = 10;
/// A read counts towards an allele's depth (AD) when its likelihood for that allele exceeds
/// the other's by this much (log10), as GATK's informative-read threshold.
const INFORMATIVE: f64 = 0.2;

/// The REF and ALT haplotypes of an indel anchored at `pos` (the base before it) and the
/// window `[w0, w1)` of the contig they span.
pub fn haplotypes(contig: &[u8], pos: u64, indel: &Indel) -> (Vec<u8>, Vec<u8>, u64, u64) {
    let del = indel.deleted();
    let w0 = pos.saturating_sub(PAD);
    let w1 = (pos + 1 + del + PAD).min(contig.len() as u64);
    let reference = contig[w0 as usize..w1 as usize].to_vec();
    let mut alt = contig[w0 as usize..=pos as usize].to_vec();
    match indel {
        Indel::Ins(seq) => alt.extend_from_slice(seq),
        Indel::Del(_) => {}
    }
    alt.extend_from_slice(&contig[(pos + 1 + del) as usize..w1 as usize]);
    (reference, alt, w0, w1)
}

/// The part of `read` that falls inside `[w0, w1)`: a query range (insertions inside the
/// window included), or `None` if no base does. Soft-clipped bases count as if aligned
/// without gaps next to the aligned part, as HaplotypeCaller reverts soft clips: an aligner
/// clips a read end that holds an indel, and those bases are evidence for it.
pub fn clip_to_window(read: &AlignedRead, w0: u64, w1: u64) -> Option<(usize, usize)> {
    let (mut qi, mut ri) = (0usize, read.pos);
    let (mut first, mut last) = (usize::MAX, 0usize);
    let ops = &read.cigar.0;
    for (k, &(op, n)) in ops.iter().enumerate() {
        let n = n as usize;
        match op {
            CigarOp::SoftClip => {
                // A leading clip ends where the alignment starts; a trailing one starts where
                // it ends.
                let r0 = if k == 0 {
                    ri.checked_sub(n as u64)
                } else {
                    Some(ri)
                };
                if let Some(r0) = r0 {
                    let lo = w0.saturating_sub(r0).min(n as u64) as usize;
                    let hi = w1.saturating_sub(r0).min(n as u64) as usize;
                    if lo < hi {
                        first = first.min(qi + lo);
                        last = last.max(qi + hi);
                    }
                }
                qi += n;
            }
            CigarOp::Match => {
                // Bases qi + t on reference ri + t.
                let lo = w0.saturating_sub(ri).min(n as u64) as usize;
                let hi = w1.saturating_sub(ri).min(n as u64) as usize;
                if lo < hi {
                    first = first.min(qi + lo);
                    last = last.max(qi + hi);
                }
                qi += n;
                ri += n as u64;
            }
            CigarOp::Ins => {
                if ri > w0 && ri < w1 {
                    first = first.min(qi);
                    last = last.max(qi + n);
                }
                qi += n;
            }
            CigarOp::Del => ri += n as u64,
        }
    }
    (first < last).then_some((first, last))
}

/// Whether the caller uses `read` (the pileup's filters).
pub fn passes(read: &AlignedRead, params: &CallParams) -> bool {
    read.flags & (UNMAPPED | SECONDARY | SUPPLEMENTARY | DUPLICATE | QC_FAIL) == 0
        && read.mapq >= params.min_mapq
}

/// Genotypes the indel anchored at `pos` from `reads` (those of the contig that may overlap
/// it; others are skipped) with `backend`'s `pair_hmm`. `batch` and `out` are reused buffers.
#[allow(clippy::too_many_arguments)]
pub fn genotype_indel_hmm(
    contig: &[u8],
    pos: u64,
    indel: &Indel,
    reads: &[AlignedRead],
    params: &CallParams,
    backend: &dyn Backend,
    batch: &mut HmmBatch,
    out: &mut HmmResults,
) -> Result<Genotyped> {
    let (reference, alt, w0, w1) = haplotypes(contig, pos, indel);
    let del = indel.deleted();
    // Owned read pieces (bases as codes, base qualities capped by MAPQ as the pileup does).
    let mut pieces: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for r in reads {
        if !passes(r, params) || r.pos > pos + del + 1 || r.end() <= pos {
            continue;
        }
        if let Some((a, b)) = clip_to_window(r, w0, w1) {
            let bases = r.seq[a..b].iter().map(|&c| base_code(c)).collect();
            let quals = r.qual[a..b].iter().map(|&q| q.min(r.mapq)).collect();
            pieces.push((bases, quals));
        }
    }
    let longest = pieces.iter().map(|p| p.0.len()).max().unwrap_or(0);
    let (gi, gc) = (
        vec![GAP_OPEN_QUAL; longest],
        vec![GAP_CONTINUATION_QUAL; longest],
    );
    let views: Vec<HmmRead> = pieces
        .iter()
        .map(|(b, q)| HmmRead {
            bases: b,
            quals: q,
            ins_quals: &gi[..b.len()],
            del_quals: &gi[..b.len()],
            gcp_quals: &gc[..b.len()],
        })
        .collect();
    batch.clear();
    batch.push_region(&views, &[&reference, &alt]);
    backend.pair_hmm(batch, out)?;
    let mut g = genotype_from_likelihoods(pieces.len(), |r, h| out.get(batch, 0, r, h), params);
    g.dp = pieces.len() as u32;
    Ok(g)
}

/// Diploid genotype over `[REF, ALT, <NON_REF>]` from per-read log10 likelihoods
/// `like(read, 0 | 1)` of the REF and ALT haplotypes.
pub fn genotype_from_likelihoods(
    reads: usize,
    like: impl Fn(usize, usize) -> f64,
    params: &CallParams,
) -> Genotyped {
    let half = 0.5f64.log10();
    let mut gl = [0f64; 6];
    let mut ad = [0u32; 3];
    for r in 0..reads {
        let (lr, la) = (like(r, 0), like(r, 1));
        let l = [lr, la, lr.min(la)];
        // VCF order 0/0 0/1 1/1 0/2 1/2 2/2.
        for (k, (a, b)) in [(0, 0), (0, 1), (1, 1), (0, 2), (1, 2), (2, 2)]
            .into_iter()
            .enumerate()
        {
            gl[k] += log10_sum(l[a], l[b]) + half;
        }
        if lr - la > INFORMATIVE {
            ad[0] += 1;
        } else if la - lr > INFORMATIVE {
            ad[1] += 1;
        }
    }
    finish_genotype(&gl, ad, params.indel_heterozygosity)
}

/// `log10(10^a + 10^b)`.
fn log10_sum(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (1.0 + 10f64.powf(lo - hi)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::scalar::Scalar;
    use crate::genome::Cigar;

    fn read(pos: u64, cigar: &[(CigarOp, u32)], seq: &[u8]) -> AlignedRead {
        AlignedRead {
            name: "r".into(),
            flags: 0,
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
        }
    }

    #[test]
    fn haplotypes_carry_the_indel_inside_the_window() {
        let contig: Vec<u8> = (0..300u32).map(|i| (i * 7 % 4) as u8).collect();
        let (r, a, w0, w1) = haplotypes(&contig, 150, &Indel::Del(3));
        assert_eq!((w0, w1), (150 - PAD, 154 + PAD));
        assert_eq!(r, &contig[w0 as usize..w1 as usize]);
        assert_eq!(a.len(), r.len() - 3);
        assert_eq!(a[..=PAD as usize], r[..=PAD as usize]);
        assert_eq!(a[PAD as usize + 1..], r[PAD as usize + 4..]);
        let (r, a, ..) = haplotypes(&contig, 10, &Indel::Ins(vec![1, 2]));
        assert_eq!(a.len(), r.len() + 2);
        assert_eq!(a[11..13], [1, 2]);
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

    #[test]
    fn genotypes_follow_the_reads() {
        // Reads of the REF or ALT haplotype of a 2-base deletion, genotyped with pair_hmm.
        let contig: Vec<u8> = (0..400u32).map(|i| ((i * 7 + i / 5) % 4) as u8).collect();
        let ascii = |codes: &[u8]| {
            codes
                .iter()
                .map(|&c| b"ACGT"[c as usize])
                .collect::<Vec<_>>()
        };
        let pos = 200u64;
        let ref_read = |start: u64| {
            read(
                start,
                &[(CigarOp::Match, 100)],
                &ascii(&contig[start as usize..start as usize + 100]),
            )
        };
        let alt_read = |start: u64| {
            let s = start as usize;
            let mut seq = contig[s..=pos as usize].to_vec();
            seq.extend_from_slice(
                &contig[pos as usize + 3..pos as usize + 3 + (99 - (pos as usize - s))],
            );
            let left = (pos - start + 1) as u32;
            read(
                start,
                &[
                    (CigarOp::Match, left),
                    (CigarOp::Del, 2),
                    (CigarOp::Match, 100 - left),
                ],
                &ascii(&seq),
            )
        };
        let params = CallParams::default();
        let call = |reads: Vec<AlignedRead>| {
            genotype_indel_hmm(
                &contig,
                pos,
                &Indel::Del(2),
                &reads,
                &params,
                &Scalar,
                &mut HmmBatch::default(),
                &mut HmmResults::default(),
            )
            .unwrap()
        };
        let starts = [130u64, 140, 150, 160, 170, 180];
        let het: Vec<_> = starts
            .iter()
            .map(|&s| ref_read(s))
            .chain(starts.iter().map(|&s| alt_read(s)))
            .collect();
        let g = call(het);
        assert_eq!(g.gt, [0, 1]);
        assert_eq!(g.ad, [6, 6, 0]);
        assert_eq!(g.dp, 12);
        let hom: Vec<_> = starts.iter().chain(&starts).map(|&s| alt_read(s)).collect();
        assert_eq!(call(hom).gt, [1, 1]);
        let none: Vec<_> = starts.iter().chain(&starts).map(|&s| ref_read(s)).collect();
        assert_eq!(call(none).gt, [0, 0]);
    }
}
