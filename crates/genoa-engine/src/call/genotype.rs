//! Diploid genotype likelihoods, posteriors, QUAL, GQ and PL.
//!
//! Alleles of a variant site are `[REF, ALT, <NON_REF>]`; genotypes are in VCF order
//! `0/0 0/1 1/1 0/2 1/2 2/2`. `<NON_REF>` stands for "any other allele": a base or indel
//! observation that is neither REF nor ALT matches it. Reference sites use `[REF, <NON_REF>]`
//! with genotypes `0/0 0/1 1/1`.
//!
//! QUAL comes from the posterior over the genotypes of REF and the ALTs with priors
//! `1-1.5θ, θ, θ/2` (`θi·θj` for `i/j`); the called genotype (GT), GQ and PL come from the
//! likelihoods, as GATK assigns them (`USE_PLS_TO_ASSIGN`): GT is the likeliest genotype of REF
//! and the ALTs (`<NON_REF>` is never called; the first in VCF order on a tie), so it is the
//! genotype with the lowest PL among them.
//!
//! A reference site's GQ and PL are HaplotypeCaller's reference model's: the worse (by GQ) of
//! the SNP likelihoods of its bases and the indel likelihoods of the reads informative about
//! indels there ([`indel_pl`], [`crate::call::pileup::Site::indel_informative`]), so that a
//! site inside a repeat longer than the reads reach is not claimed hom-ref with confidence;
//! reads that show an indel within reach ([`crate::call::pileup::Site::indel_dirty`]) count
//! against hom-ref, so a missed indel's other reads do not claim it either.
//!
//! Haploid sites (chrX outside the PARs and chrY of a sample with one X or Y) have one
//! genotype per allele: its likelihood is the diploid `a/a`'s (both copies the same allele is
//! one copy of it), its prior `θ` (`1 - Σθ` for REF), and PL has one entry per allele.

use crate::call::CallParams;
use crate::call::pileup::Site;
use crate::model::genotype::{diploid, diploid_index};
use crate::model::gvcf::Genotyped;

/// Phred-scaled likelihoods normalised to a minimum of 0.
pub fn to_pl(gl: &[f64]) -> Vec<u32> {
    let max = gl.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    gl.iter()
        .map(|&g| (-10.0 * (g - max)).round().min(1e9) as u32)
        .collect()
}

/// GQ of genotype index `called`: the distance in PL to the next best genotype, capped at 99.
pub fn gq(pl: &[u32], called: usize) -> u32 {
    let other = pl
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != called)
        .map(|(_, &p)| p)
        .min()
        .unwrap_or(0);
    other.saturating_sub(pl[called]).min(99)
}

/// QUAL = -10·log10 P(0/0) from the posterior over the genotypes of alleles `0..=m` (REF and
/// the `m` ALTs; `<NON_REF>`, allele `m + 1`, is not called) from log10 likelihoods `gl` of
/// every genotype in VCF order, with priors `1 - Σ1.5θ` for `0/0`, `θi` for `0/i`, `θi/2` for
/// `i/i` and `θi·θj` for `i/j`; and the called genotype: the likeliest of those genotypes by
/// `gl` alone (the first in VCF order on a tie).
fn posterior(gl: &[f64], thetas: &[f64]) -> ([u8; 2], f64) {
    let m = thetas.len() as u8;
    let theta = |i: u8| thetas[usize::from(i) - 1];
    let p00 = 1.0 - 1.5 * thetas.iter().sum::<f64>();
    let lp: Vec<((u8, u8), f64)> = diploid(m + 1)
        .map(|(a, b)| {
            let prior = match (a, b) {
                (0, 0) => p00,
                (0, i) => theta(i),
                (i, j) if i == j => theta(i) / 2.0,
                (i, j) => theta(i) * theta(j),
            };
            (
                (a, b),
                gl[diploid_index(usize::from(a), usize::from(b))] + prior.max(1e-300).log10(),
            )
        })
        .collect();
    let max = lp.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = lp.iter().map(|x| 10f64.powf(x.1 - max)).sum();
    let p_ref = 10f64.powf(lp[0].1 - max) / sum;
    // The first genotype in VCF order among the most likely, by likelihood alone.
    let best = diploid(m + 1)
        .map(|(a, b)| ((a, b), gl[diploid_index(usize::from(a), usize::from(b))]))
        .fold(
            ((0, 0), f64::NEG_INFINITY),
            |b, x| if x.1 > b.1 { x } else { b },
        )
        .0;
    let qual = if p_ref <= 0.0 {
        9999.0
    } else {
        (-10.0 * p_ref.log10()).clamp(0.0, 9999.0)
    };
    ([best.0, best.1], qual)
}

/// Haploid QUAL = -10·log10 P(REF) from the posterior over alleles `0..=m` from the log10
/// likelihoods `gl` of each allele (`<NON_REF>` last, not called), priors `1 - Σθ` for REF
/// and `θi` for ALTi; and the called allele: the likeliest of them by `gl` alone.
fn posterior_haploid(gl: &[f64], thetas: &[f64]) -> (u8, f64) {
    let p0 = 1.0 - thetas.iter().sum::<f64>();
    let lp: Vec<f64> = (0..=thetas.len())
        .map(|a| {
            let prior = if a == 0 { p0 } else { thetas[a - 1] };
            gl[a] + prior.max(1e-300).log10()
        })
        .collect();
    let max = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = lp.iter().map(|&x| 10f64.powf(x - max)).sum();
    let p_ref = 10f64.powf(lp[0] - max) / sum;
    let best = (0..lp.len()).fold(0, |b, a| if gl[a] > gl[b] { a } else { b });
    let qual = if p_ref <= 0.0 {
        9999.0
    } else {
        (-10.0 * p_ref.log10()).clamp(0.0, 9999.0)
    };
    (best as u8, qual)
}

/// The haploid likelihoods of `n` alleles from the diploid ones (VCF order): allele `a`'s is
/// `a/a`'s.
pub fn haploid_gl(gl: &[f64], n: usize) -> Vec<f64> {
    (0..n).map(|a| gl[diploid_index(a, a)]).collect()
}

/// A reference site: alleles `[REF, <NON_REF>]`, at `ploidy` 1 or 2.
pub fn genotype_ref(ref_base: u8, site: &Site, ploidy: u8) -> Genotyped {
    let dp = site.depth();
    if ref_base > 3 || dp == 0 {
        return Genotyped {
            gt: [0, 0],
            ploidy,
            qual: 0.0,
            gq: 0,
            pl: vec![0; usize::from(ploidy) + 1],
            ad: vec![0, 0],
            dp,
        };
    }
    let r = ref_base as usize;
    // Reads with a deletion here, a gap or soft clip next to their base here, or an indel
    // anchored here once left-aligned (where HaplotypeCaller's realignment to the haplotypes
    // puts it): non-reference observations (Q30, its reference-model deletion quality).
    let (mut gl00, mut gl01, mut gl11) = {
        let n = f64::from(site.deletions + site.indel_adjacent + site.indel_total());
        let e = 1e-3f64;
        (
            n * (e / 3.0).log10(),
            n * ((1.0 - e + e / 3.0) / 2.0).log10(),
            n * (1.0 - e).log10(),
        )
    };
    for b in 0..4 {
        gl01 += site.one[b];
        if b == r {
            gl00 += site.both[b];
            gl11 += site.neither[b];
        } else {
            gl00 += site.neither[b];
            gl11 += site.both[b];
        }
    }
    // The site is written as 0/0 (a reference block or site), so, as HaplotypeCaller's
    // reference model does, the het and hom-alt likelihoods are capped at hom-ref's: PL[0] is
    // 0 and GT agrees with PL (a site whose reads favour an ALT gets GQ 0, not a 0/0 that its
    // own PLs contradict).
    let raw = if ploidy == 1 {
        to_pl(&[gl00, gl11])
    } else {
        to_pl(&[gl00, gl01, gl11])
    };
    let snp: Vec<u32> = raw.iter().map(|&p| p.saturating_sub(raw[0])).collect();
    // The reference model's indel half: hom-ref is only as sure as the reads that rule out an
    // indel here; the site takes the likelihoods (SNP or indel) of the lower GQ.
    let indel: Vec<u32> = {
        let raw = indel_pl(site.indel_informative, site.indel_dirty, ploidy);
        raw.iter().map(|&p| p.saturating_sub(raw[0])).collect()
    };
    let pl = if gq(&indel, 0) < gq(&snp, 0) {
        indel
    } else {
        snp
    };
    let gq = gq(&pl, 0);
    let alt = dp - site.counts[r];
    Genotyped {
        gt: [0, 0],
        ploidy,
        qual: 0.0,
        gq,
        pl,
        ad: vec![site.counts[r], alt],
        dp,
    }
}

/// Most indel-informative reads the reference model weighs (HaplotypeCaller's 40: beyond it
/// GQ is capped anyway).
const MAX_INDEL_INFORMATIVE_READS: u32 = 40;

/// Per-base indel error of the reference model's indel likelihoods (HaplotypeCaller's
/// 10^-4.5).
const INDEL_ERROR_LOG10: f64 = -4.5;

/// Chance that a read of a hom-ref site shows a sign of an indel within reach of it
/// ([`crate::call::pileup::Site::indel_dirty`]: a sequencing error in a homopolymer that a
/// shift explains, a gap the aligner opened for an error): 10^-1, so that a site where a
/// third of the reads show one (a het indel whose other reads end inside the repeat) is not
/// claimed, while the error rate of long homopolymers (up to a fifth of 250-base MiSeq reads
/// over a 30-base poly-A) costs little: tried on the bench, 10^-2 gave the same claims
/// (none) with 1.7 points fewer bases at GQ >= 20 on rr250h, 10^-1.5 0.95 points, 10^-1 0.5.
const INDEL_SIGN_ERROR_LOG10: f64 = -1.0;

/// The reference model's indel PLs of `0/0 0/1 1/1` (or `0 1` haploid): HaplotypeCaller's from
/// `informative` reads that rule an indel out, each a `1 - 10^-4.5` observation of no indel,
/// and (beyond HaplotypeCaller) `dirty` reads showing one ([`INDEL_SIGN_ERROR_LOG10`]), each at
/// most [`MAX_INDEL_INFORMATIVE_READS`]. PL\[0\] is not 0 where the dirty reads outweigh.
pub fn indel_pl(informative: u32, dirty: u32, ploidy: u8) -> Vec<u32> {
    let n = f64::from(informative.min(MAX_INDEL_INFORMATIVE_READS));
    let d = f64::from(dirty.min(MAX_INDEL_INFORMATIVE_READS));
    let half = 0.5f64.log10();
    let mix = |a: f64, b: f64| crate::call::haplotype::log10_sum(a + half, b + half);
    let no = (1.0 - 10f64.powf(INDEL_ERROR_LOG10)).log10();
    let yes = INDEL_ERROR_LOG10;
    let sign_ref = INDEL_SIGN_ERROR_LOG10;
    let sign_alt = (1.0 - 10f64.powf(INDEL_SIGN_ERROR_LOG10)).log10();
    let hom_ref = n * no + d * sign_ref;
    let hom_alt = n * yes + d * sign_alt;
    if ploidy == 1 {
        to_pl(&[hom_ref, hom_alt])
    } else {
        let het = n * mix(no, yes) + d * mix(sign_ref, sign_alt);
        to_pl(&[hom_ref, het, hom_alt])
    }
}

/// A SNP site with alleles `[REF, alt, <NON_REF>]`, at `ploidy` 1 or 2.
pub fn genotype_snp(
    ref_base: u8,
    alt: u8,
    site: &Site,
    params: &CallParams,
    ploidy: u8,
) -> Genotyped {
    let class = |b: u8| -> u8 {
        if b == ref_base {
            0
        } else if b == alt {
            1
        } else {
            2
        }
    };
    let gl: Vec<f64> = diploid(3)
        .map(|(x, y)| {
            (0..4u8)
                .map(|b| {
                    let c = class(b);
                    let k = b as usize;
                    match (c == x, c == y) {
                        (true, true) => site.both[k],
                        (false, false) => site.neither[k],
                        _ => site.one[k],
                    }
                })
                .sum()
        })
        .collect();
    let counts = [0u8, 1, 2].map(|c| {
        (0..4u8)
            .filter(|&b| class(b) == c)
            .map(|b| site.counts[b as usize])
            .sum()
    });
    finish_alleles(&gl, counts.to_vec(), &[params.snp_heterozygosity], ploidy)
}

/// The call, QUAL, GQ and PL from log10 likelihoods `gl` of every diploid genotype of
/// `[REF, ALT1..ALTm, <NON_REF>]` (VCF order; `m = thetas.len()`, `θi` the prior of ALTi),
/// with allele depths `ad` (DP = their sum); at `ploidy` 1 the haploid call from the same
/// likelihoods ([`haploid_gl`]).
pub fn finish_alleles(gl: &[f64], ad: Vec<u32>, thetas: &[f64], ploidy: u8) -> Genotyped {
    let dp = ad.iter().sum();
    if ploidy == 1 {
        let gl = haploid_gl(gl, thetas.len() + 2);
        let (a, qual) = posterior_haploid(&gl, thetas);
        let pl = to_pl(&gl);
        let gq = gq(&pl, usize::from(a));
        return Genotyped {
            gt: [a, a],
            ploidy,
            qual,
            gq,
            pl,
            ad,
            dp,
        };
    }
    let (gt, qual) = posterior(gl, thetas);
    let pl = to_pl(gl);
    let gq = gq(&pl, diploid_index(usize::from(gt[0]), usize::from(gt[1])));
    Genotyped {
        gt,
        ploidy: 2,
        qual,
        gq,
        pl,
        ad,
        dp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_with(ref_n: u32, alt_n: u32, q: u8) -> Site {
        let mut s = Site::default();
        let e = crate::genome::phred_to_error(q);
        for (b, n) in [(0usize, ref_n), (2usize, alt_n)] {
            s.counts[b] = n;
            s.both[b] = f64::from(n) * (1.0 - e).log10();
            s.neither[b] = f64::from(n) * (e / 3.0).log10();
            s.one[b] = f64::from(n) * ((1.0 - e + e / 3.0) / 2.0).log10();
        }
        s.indel_informative = ref_n + alt_n;
        s
    }

    #[test]
    fn reference_sites_take_the_worse_of_the_snp_and_indel_likelihoods() {
        // 20 Q30 reference bases, all informative about indels: both models give GQ 60.
        let all = genotype_ref(0, &site_with(20, 0, 30), 2);
        assert_eq!((all.gq, all.pl[0]), (60, 0));
        // Only 4 reads reach past the repeat here: GQ 12 from the indel model.
        let mut repeat = site_with(20, 0, 30);
        repeat.indel_informative = 4;
        assert_eq!(genotype_ref(0, &repeat, 2).gq, 12);
        assert_eq!(indel_pl(4, 0, 2), vec![0, 12, 180]);
        // Reads with a deletion over the site weigh against hom-ref.
        let mut deleted = site_with(20, 0, 30);
        deleted.deletions = 8;
        assert_eq!(genotype_ref(0, &deleted, 2).gq, 0);
        // Haploid: one informative read already gives PL 45 for the indel.
        assert_eq!(indel_pl(1, 0, 1), vec![0, 45]);
        // Reads showing an indel within reach weigh against hom-ref: one among fifteen
        // clean ones leaves GQ 38, four 17, six among thirteen make the site 0/1-like (GQ 0).
        let mut one_sign = site_with(15, 0, 30);
        one_sign.indel_dirty = 1;
        assert_eq!(genotype_ref(0, &one_sign, 2).gq, 38);
        one_sign.indel_dirty = 4;
        assert_eq!(genotype_ref(0, &one_sign, 2).gq, 17);
        let mut six = site_with(13, 0, 30);
        six.indel_dirty = 6;
        let g = genotype_ref(0, &six, 2);
        assert_eq!((g.gq, g.pl[0]), (0, 0));
    }

    #[test]
    fn calls_het_hom_and_ref() {
        let p = CallParams::default();
        assert_eq!(genotype_snp(0, 2, &site_with(10, 10, 30), &p, 2).gt, [0, 1]);
        assert_eq!(genotype_snp(0, 2, &site_with(0, 20, 30), &p, 2).gt, [1, 1]);
        let r = genotype_snp(0, 2, &site_with(20, 1, 30), &p, 2);
        assert_eq!(r.gt, [0, 0]);
        let hom_ref = genotype_ref(0, &site_with(20, 0, 30), 2);
        assert_eq!(hom_ref.pl[0], 0);
        assert_eq!(hom_ref.gq, 60);
        assert_eq!(hom_ref.dp, 20);
    }

    #[test]
    fn haploid_calls_have_one_allele_and_one_pl_per_allele() {
        let p = CallParams::default();
        let alt = genotype_snp(0, 2, &site_with(0, 12, 30), &p, 1);
        assert_eq!((alt.gt, alt.ploidy, alt.pl.len()), ([1, 1], 1, 3));
        assert_eq!(alt.pl[1], 0);
        assert!(alt.gq > 20);
        // Mixed reads in a haploid region still get one allele, never a het.
        let mixed = genotype_snp(0, 2, &site_with(4, 9, 30), &p, 1);
        assert_eq!(mixed.gt[0], mixed.gt[1]);
        let block = genotype_ref(0, &site_with(15, 0, 30), 1);
        assert_eq!((block.pl.len(), block.pl[0], block.gq), (2, 0, 99));
    }
}
