//! The mitochondrial model: chrM is present in hundreds to thousands of copies per cell, so
//! its "genotype" is a mixture — homoplasmic variants (every copy) and heteroplasmic ones (a
//! fraction of copies). As GATK's mitochondrial mode (Mutect2 `--mitochondria-mode`) and
//! DRAGEN's continuous allele-frequency model do, each allele is judged by its fraction among
//! the reads, not by a diploid genotype:
//!
//! - Candidates: every SNP base and every indel (left-aligned, as the pileup counts them) the
//!   reads show at a site. An ALT is reported when its allele fraction is at least
//!   [`MIN_AF`] (the **detection floor**, 5 %: below it, NUMT reads and systematic errors are
//!   as frequent as real heteroplasmy — gnomAD reports chrM heteroplasmy from 10 %), at least
//!   [`MIN_READS`] reads carry it, and its log-odds of being present at its observed fraction
//!   against absent (Mutect2's TLOD, from a binomial with the site's base error rate) is at
//!   least [`MIN_LOD`] (Mutect2's default threshold, 6.3).
//! - GT is haploid: the allele most reads carry (`1` for a homoplasmic ALT, `0` where a
//!   heteroplasmic ALT is the minority), so a cohort counts one allele per sample; FORMAT `AF`
//!   gives each ALT's fraction (the heteroplasmy level). PL are haploid (one per allele:
//!   every read from that allele), GQ their distance; QUAL is 10 × the best ALT's LOD.
//! - SNPs, insertions and deletions at one position form one record (REF spans the longest
//!   deletion); bases a reported deletion covers are not reported again.
//!
//! No local assembly and no read × haplotype likelihoods: at thousands-fold depth those would
//! cost time and memory in proportion to the depth squared; this model is one pass over the
//! pileup, linear in the reads.

use crate::call::CallParams;
use crate::call::genotype::{gq, to_pl};
use crate::call::pileup::{Indel, Site};
use crate::model::gvcf::{Genotyped, Variant};

/// The detection floor: the smallest allele fraction reported.
pub const MIN_AF: f64 = 0.05;
/// The fewest reads an ALT needs.
pub const MIN_READS: u32 = 3;
/// The smallest log10 odds of an ALT being present.
pub const MIN_LOD: f64 = 6.3;
/// Error rate assumed for indel observations (no base quality applies to a gap).
const INDEL_ERROR: f64 = 1e-3;

/// `log10` odds that `k` of `n` reads carry an allele at its observed fraction `k/n`, against
/// none (the `k` reads then being errors at rate `e`).
fn lod(k: u32, n: u32, e: f64) -> f64 {
    if k == 0 || n == 0 {
        return 0.0;
    }
    let (k, n) = (f64::from(k), f64::from(n));
    let f = k / n;
    let e = e.clamp(1e-6, 0.5);
    let present = k * (f * (1.0 - e) + (1.0 - f) * e / 3.0).log10()
        + (n - k) * (f * e / 3.0 + (1.0 - f) * (1.0 - e)).max(1e-300).log10();
    let absent = k * (e / 3.0).log10() + (n - k) * (1.0 - e).log10();
    present - absent
}

/// The mean base error of the observations of base `b` at `site` (from their `log10(ε/3)` sum).
fn base_error(site: &Site, b: usize) -> f64 {
    let n = site.counts[b];
    if n == 0 {
        return 1e-3;
    }
    3.0 * 10f64.powf(site.neither[b] / f64::from(n))
}

/// The chrM record at `pos` (0-based) of `contig`, if an ALT is reported there.
pub fn call_site(contig: &[u8], pos: u64, site: &Site, params: &CallParams) -> Option<Variant> {
    let ref_base = *contig.get(pos as usize)?;
    if ref_base > 3 {
        return None;
    }
    let depth = site.depth();
    let crossing = site.span + site.indel_total();
    let total = depth.max(crossing);
    if total == 0 {
        return None;
    }
    let passes = |k: u32, e: f64| -> Option<f64> {
        let af = f64::from(k) / f64::from(total);
        let l = lod(k, total, e);
        (k >= MIN_READS && af >= MIN_AF && l >= MIN_LOD).then_some(l)
    };
    // (allele bases after the anchor base: for a SNP its base; the reads; LOD)
    enum Alt<'a> {
        Snp(u8),
        Indel(&'a Indel),
    }
    let mut alts: Vec<(Alt, u32, f64)> = Vec::new();
    for b in 0..4u8 {
        if b == ref_base {
            continue;
        }
        let k = site.counts[b as usize];
        if let Some(l) = passes(k, base_error(site, b as usize)) {
            alts.push((Alt::Snp(b), k, l));
        }
    }
    let next_is_base = contig.get(pos as usize + 1).is_some_and(|&b| b <= 3);
    if next_is_base {
        for (indel, k) in &site.indels {
            let fits = pos + 1 + indel.deleted() <= contig.len() as u64;
            if fits && let Some(l) = passes(*k, INDEL_ERROR) {
                alts.push((Alt::Indel(indel), *k, l));
            }
        }
    }
    if alts.is_empty() {
        return None;
    }
    // Strongest first (reads, then allele order as found: SNP bases, then indels sorted).
    alts.sort_by_key(|a| std::cmp::Reverse(a.1));
    alts.truncate(3);
    let longest_del = alts
        .iter()
        .map(|a| match a.0 {
            Alt::Indel(i) => i.deleted(),
            Alt::Snp(_) => 0,
        })
        .max()
        .unwrap_or(0);
    let end = (pos + 1 + longest_del) as usize;
    let reference = contig[pos as usize..end].to_vec();
    let tail = &contig[pos as usize + 1..end];
    let alleles: Vec<Vec<u8>> = alts
        .iter()
        .map(|a| match a.0 {
            Alt::Snp(b) => {
                let mut v = vec![b];
                v.extend_from_slice(tail);
                v
            }
            Alt::Indel(Indel::Del(d)) => {
                let mut v = vec![ref_base];
                v.extend_from_slice(&contig[pos as usize + 1 + *d as usize..end]);
                v
            }
            Alt::Indel(Indel::Ins(ins)) => {
                let mut v = vec![ref_base];
                v.extend_from_slice(ins);
                v.extend_from_slice(tail);
                v
            }
        })
        .collect();
    let has_indel = alts.iter().any(|a| matches!(a.0, Alt::Indel(_)));
    let ref_reads = if has_indel {
        site.counts[ref_base as usize].min(site.span)
    } else {
        site.counts[ref_base as usize]
    };
    let alt_reads: u32 = alts.iter().map(|a| a.1).sum();
    let other = total.saturating_sub(ref_reads + alt_reads);
    let mut ad = vec![ref_reads];
    ad.extend(alts.iter().map(|a| a.1));
    ad.push(other);
    // Haploid likelihoods: every read from allele a, the others errors.
    let e = 1e-3f64;
    let gl: Vec<f64> = ad
        .iter()
        .map(|&n_a| {
            f64::from(n_a) * (1.0 - e).log10()
                + f64::from(total - n_a.min(total)) * (e / 3.0).log10()
        })
        .collect();
    let pl = to_pl(&gl);
    // GT: the allele most reads carry among REF and the ALTs (the first on ties).
    let called = (0..ad.len() - 1).fold(0usize, |b, a| if ad[a] > ad[b] { a } else { b });
    let gq = gq(&pl, called);
    let best_lod = alts.iter().map(|a| a.2).fold(0.0, f64::max);
    let qual = (10.0 * best_lod).clamp(0.0, 9999.0);
    let af = alts
        .iter()
        .map(|a| f64::from(a.1) / f64::from(total))
        .collect();
    Some(Variant {
        pos,
        reference,
        alts: alleles,
        filter_pass: qual >= params.min_pass_qual,
        candidate: false,
        mq: site.rms_mapq(),
        genotyped: Genotyped {
            gt: [called as u8; 2],
            ploidy: 1,
            qual,
            gq,
            pl,
            ad,
            dp: total,
        },
        af,
        annotations: None,
        phase: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(counts: [u32; 4], q: u8) -> Site {
        let e = crate::genome::phred_to_error(q);
        let mut s = Site::default();
        for (b, &c) in counts.iter().enumerate() {
            let n = f64::from(c);
            s.counts[b] = c;
            s.both[b] = n * (1.0 - e).log10();
            s.neither[b] = n * (e / 3.0).log10();
            s.one[b] = n * ((1.0 - e + e / 3.0) / 2.0).log10();
        }
        s.span = counts.iter().sum();
        s
    }

    #[test]
    fn homoplasmic_heteroplasmic_and_below_the_floor() {
        let contig = vec![0u8, 0, 1, 2, 3];
        let p = CallParams::default();
        // Homoplasmic G: GT 1, AF ~1.
        let v = call_site(&contig, 1, &site([2, 0, 1500, 0], 30), &p).unwrap();
        assert_eq!((v.genotyped.gt, v.genotyped.ploidy), ([1, 1], 1));
        assert_eq!(v.alts, vec![vec![2u8]]);
        assert!(v.af[0] > 0.99);
        assert_eq!(v.genotyped.pl.len(), 3);
        // 20 % heteroplasmy: GT 0 (the major allele), AF 0.2.
        let v = call_site(&contig, 1, &site([1200, 0, 300, 0], 30), &p).unwrap();
        assert_eq!(v.genotyped.gt, [0, 0]);
        assert!((v.af[0] - 0.2).abs() < 1e-9);
        // 2 %: below the floor.
        assert!(call_site(&contig, 1, &site([1470, 0, 30, 0], 30), &p).is_none());
        // Error-level noise.
        assert!(call_site(&contig, 1, &site([1497, 1, 2, 0], 30), &p).is_none());
    }

    #[test]
    fn a_deletion_spans_the_bases_it_removes() {
        let contig = vec![0u8, 1, 2, 3, 0, 1];
        let mut s = site([0, 100, 0, 0], 30);
        s.span = 40;
        s.indels = vec![(Indel::Del(2), 60)];
        let v = call_site(&contig, 1, &s, &CallParams::default()).unwrap();
        assert_eq!(v.reference, vec![1u8, 2, 3]);
        assert_eq!(v.alts, vec![vec![1u8]]);
        assert_eq!(v.genotyped.gt, [1, 1]);
        assert!((v.af[0] - 0.6).abs() < 1e-9);
    }
}
