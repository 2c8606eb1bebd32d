//! GATK's raw annotations of a variant record ([`Annotations`]): what joint genotyping computes
//! MQ, FS, SOR and the rank-sum filters from, per record and per allele, as HaplotypeCaller
//! writes them into a gVCF (`RAW_MQandDP`, `SB`, `MQRankSum`, `ReadPosRankSum`,
//! `BaseQRankSum`, `AS_RAW_MQ`, `AS_SB_TABLE`, `AS_RAW_*RankSum`).
//!
//! The reads are those the record was genotyped from; each read counts for the allele it is
//! informative for — the one its likelihoods favour clearly (records of active regions), or the
//! base and indel it shows at the record's first base (pileup SNPs, chrM) — and not at all
//! when it favours none. Every read counts in `RAW_MQandDP`.
//!
//! Rank sums are GATK's Mann-Whitney U test of the ALT reads' values against the REF reads'
//! (one-sided, ALT dominated): the normal approximation with GATK's tie and continuity
//! corrections when either side has at least 10 reads, otherwise the exact distribution of U
//! over every assignment of the ranks to the two sides (mid-p), turned into a z-score. The
//! values: MAPQ (reads of MAPQ 0 or 255 left out), base quality at the first base (reads with
//! a deletion there left out) and the read position of that base, soft clips counted, from
//! the nearer end of the read.

use crate::call::pileup::{Indel, anchored_indel};
use crate::genome::{CigarOp, base_code};
use crate::model::alignment::{AlignedRead, Flags};
use crate::model::gvcf::{Annotations, RankSum};

/// Collects the reads of one record into its [`Annotations`].
pub struct Collector {
    start: u64,
    ann: Annotations,
    /// Per allele: MAPQs, read positions and base qualities of its informative reads.
    mq: Vec<Vec<f64>>,
    pos: Vec<Vec<f64>>,
    bq: Vec<Vec<f64>>,
}

impl Collector {
    /// A record starting at `start` with `alleles` alleles (REF, ALTs and `<NON_REF>`).
    pub fn new(start: u64, alleles: usize) -> Collector {
        Collector {
            start,
            ann: Annotations {
                strand: vec![[0; 2]; alleles],
                allele_mq: vec![0; alleles],
                ..Annotations::default()
            },
            mq: vec![Vec::new(); alleles],
            pos: vec![Vec::new(); alleles],
            bq: vec![Vec::new(); alleles],
        }
    }

    /// A read the record was genotyped from, informative for `allele` (if any).
    pub fn add(&mut self, read: &AlignedRead, allele: Option<usize>) {
        let mq2 = u64::from(read.mapq) * u64::from(read.mapq);
        self.ann.raw_mq += mq2;
        self.ann.raw_dp += 1;
        let Some(a) = allele else { return };
        let reverse = read.flags.intersects(Flags::REVERSE_COMPLEMENTED);
        self.ann.strand[a][usize::from(reverse)] += 1;
        self.ann.allele_mq[a] += mq2;
        if read.mapq == 0 || read.mapq == 255 {
            return;
        }
        self.mq[a].push(f64::from(read.mapq));
        if let Some((qi, aligned)) = query_index(read, self.start) {
            self.pos[a].push(f64::from(read_position(qi, read.seq.len())));
            if aligned {
                self.bq[a].push(f64::from(read.qual[qi]));
            }
        }
    }

    pub fn finish(mut self) -> Annotations {
        self.ann.mq_rank = rank_sum(&self.mq);
        self.ann.read_pos_rank = rank_sum(&self.pos);
        self.ann.base_q_rank = rank_sum(&self.bq);
        self.ann
    }
}

/// The index in `read`'s bases (soft clips counted) of reference base `pos`, and whether a base
/// is aligned there: `false` inside a deletion (the index is then the base before it).
/// `None` where the read's alignment does not reach `pos`.
pub fn query_index(read: &AlignedRead, pos: u64) -> Option<(usize, bool)> {
    let (mut qi, mut ri) = (0usize, read.pos);
    for &(op, n) in &read.cigar.0 {
        let n64 = u64::from(n);
        match op {
            CigarOp::SoftClip | CigarOp::Ins => qi += n as usize,
            CigarOp::Match => {
                if (ri..ri + n64).contains(&pos) {
                    return Some((qi + (pos - ri) as usize, true));
                }
                qi += n as usize;
                ri += n64;
            }
            CigarOp::Del => {
                if (ri..ri + n64).contains(&pos) {
                    return Some((qi.checked_sub(1)?, false));
                }
                ri += n64;
            }
        }
    }
    None
}

/// GATK's read position of base `qi` of a read of `len` bases: from the start up to the
/// middle, from the end past it.
fn read_position(qi: usize, len: usize) -> u32 {
    let p = if qi > len / 2 {
        len.saturating_sub(qi + 1)
    } else {
        qi
    };
    p as u32
}

/// The allele `read` shows at the first base of a record at `pos` with REF `reference` and
/// ALTs `alts` (base codes, REF from `pos` on): its base there (at least `min_bq` after capping
/// at MAPQ, as the pileup counts it) followed by the indel the pileup anchors at `pos`
/// (left-aligned), compared with the alleles — `Some(0)` REF, `Some(k)` ALT k, `Some(m + 1)`
/// `<NON_REF>` for anything else; `None` where the base is not aligned or too poor.
pub fn pileup_allele(
    contig: &[u8],
    read: &AlignedRead,
    pos: u64,
    reference: &[u8],
    alts: &[Vec<u8>],
    min_bq: u8,
) -> Option<usize> {
    let (qi, aligned) = query_index(read, pos)?;
    if !aligned {
        return None;
    }
    let b = base_code(read.seq[qi]);
    if b > 3 || read.qual[qi].min(read.mapq) < min_bq {
        return None;
    }
    // The indel anchored at `pos` after left alignment, if the read has one (counted, as in
    // the pileup, only between two aligned blocks).
    let mut indel: Option<Indel> = None;
    let ops = &read.cigar.0;
    let (mut q, mut ri) = (0usize, read.pos);
    for (k, &(op, n)) in ops.iter().enumerate() {
        let n64 = u64::from(n);
        match op {
            CigarOp::SoftClip => q += n as usize,
            CigarOp::Match => {
                q += n as usize;
                ri += n64;
            }
            CigarOp::Del | CigarOp::Ins => {
                if ri > pos
                    && let Some((anchor, i)) = anchored_indel(contig, read, k, ri, q)
                    && anchor == pos
                {
                    indel = Some(i);
                    break;
                }
                if op == CigarOp::Del {
                    ri += n64;
                } else {
                    q += n as usize;
                }
            }
        }
    }
    let end = pos as usize + reference.len();
    let mut allele = vec![b];
    match &indel {
        None => allele.extend_from_slice(contig.get(pos as usize + 1..end)?),
        Some(Indel::Del(n)) => {
            let from = pos as usize + 1 + *n as usize;
            if from > end {
                return Some(alts.len() + 1);
            }
            allele.extend_from_slice(&contig[from..end]);
        }
        Some(Indel::Ins(seq)) => {
            allele.extend_from_slice(seq);
            allele.extend_from_slice(contig.get(pos as usize + 1..end)?);
        }
    }
    if allele == reference {
        return Some(0);
    }
    Some(
        alts.iter()
            .position(|a| *a == allele)
            .map_or(alts.len() + 1, |k| k + 1),
    )
}

/// The rank sums of per-allele values (REF first).
fn rank_sum(values: &[Vec<f64>]) -> RankSum {
    let Some((reference, alts)) = values.split_first() else {
        return RankSum::default();
    };
    let all: Vec<f64> = alts.iter().flatten().copied().collect();
    RankSum {
        site: mann_whitney_z(&all, reference),
        per_alt: (!reference.is_empty())
            .then(|| alts.iter().map(|a| mann_whitney_z(a, reference)).collect()),
    }
}

/// GATK's one-sided Mann-Whitney z of `first` (ALT values) against `second` (REF values):
/// negative when the ALT values rank lower. `None` when either is empty.
pub fn mann_whitney_z(first: &[f64], second: &[f64]) -> Option<f64> {
    let (n1, n2) = (first.len(), second.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    // Ranks (1-based, ties averaged) of the pooled values, with their side.
    let mut pooled: Vec<(f64, bool)> = first
        .iter()
        .map(|&v| (v, true))
        .chain(second.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = pooled.len();
    let mut ranks = vec![0f64; n];
    let mut ties = 0f64;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        let count = j - i;
        // Ranks i+1 ..= j, averaged.
        let avg = (i + 1 + j) as f64 / 2.0;
        ranks[i..j].fill(avg);
        if count > 1 && count != n {
            ties += (count as f64).powi(3) - count as f64;
        }
        i = j;
    }
    let r1: f64 = (0..n).filter(|&k| pooled[k].1).map(|k| ranks[k]).sum();
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u = r1 - f1 * (f1 + 1.0) / 2.0;
    if n1 >= 10 || n2 >= 10 {
        let m = f1 * f2 / 2.0;
        let correction = if ties == 0.0 { 0.0 } else { -0.5 };
        let nf = n as f64;
        let sigma = ((f1 * f2 / 12.0) * ((nf + 1.0) - ties / (nf * (nf - 1.0)))).sqrt();
        return Some((u - m - correction) / sigma);
    }
    // Exact: the number of ways to give `n1` of the ranks to the first side, by twice their
    // rank sum (ranks are whole or half numbers).
    let doubled: Vec<usize> = ranks.iter().map(|r| (2.0 * r).round() as usize).collect();
    let max_sum: usize = doubled.iter().sum();
    let mut ways = vec![vec![0f64; max_sum + 1]; n1 + 1];
    ways[0][0] = 1.0;
    for &d in &doubled {
        for k in (1..=n1).rev() {
            for s in (d..=max_sum).rev() {
                ways[k][s] += ways[k - 1][s - d];
            }
        }
    }
    // Twice U of a rank sum: 2R - n1(n1 + 1).
    let u2 = (2.0 * u).round() as i64;
    let offset = (n1 * (n1 + 1)) as i64;
    let (mut below, mut total) = (0f64, 0f64);
    for (s, &w) in ways[n1].iter().enumerate() {
        if w == 0.0 {
            continue;
        }
        total += w;
        let us = s as i64 - offset;
        if us < u2 {
            below += w;
        } else if us == u2 {
            below += w / 2.0;
        }
    }
    Some(inverse_normal_cdf(below / total))
}

/// The standard normal quantile of `p` in (0, 1) (Acklam's rational approximation, relative
/// error below 1.2e-9).
fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::haplotype::tests::read;

    #[test]
    fn normal_approximation_matches_gatk() {
        // 10 ALT values all below 10 REF values: U = 0, no ties.
        let alt: Vec<f64> = (0..10).map(f64::from).collect();
        let reference: Vec<f64> = (10..20).map(f64::from).collect();
        let z = mann_whitney_z(&alt, &reference).unwrap();
        // m = 50, sigma = sqrt(100/12 * 21) = 13.229; no ties: no continuity correction.
        assert!((z - (-50.0 / (100.0f64 / 12.0 * 21.0).sqrt())).abs() < 1e-9);
        // Everything tied: z = 0.
        let z = mann_whitney_z(&[60.0; 12], &[60.0; 8]).unwrap();
        assert!(z.abs() < 1e-12);
        assert_eq!(mann_whitney_z(&[], &[1.0]), None);
    }

    #[test]
    fn exact_test_is_the_mid_p_of_the_permutations() {
        // One ALT value below two REF values: U = 0 of {0, 1, 2}, p = (0 + 1/2) / 3.
        let z = mann_whitney_z(&[1.0], &[2.0, 3.0]).unwrap();
        assert!((z - inverse_normal_cdf(1.0 / 6.0)).abs() < 1e-12);
        // Symmetric: the middle gives 0.
        let z = mann_whitney_z(&[2.0], &[1.0, 3.0]).unwrap();
        assert!(z.abs() < 1e-9);
        assert!((inverse_normal_cdf(0.975) - 1.959964).abs() < 1e-6);
        assert!((inverse_normal_cdf(0.01) + 2.326348).abs() < 1e-6);
    }

    #[test]
    fn pileup_alleles_of_a_snp_and_a_deletion() {
        // ACGTACGT; record at 1: REF CGT, ALTs C (deletion of GT) and AGT (SNP).
        let contig = [0u8, 1, 2, 3, 0, 1, 2, 3];
        let reference = vec![1u8, 2, 3];
        let alts = vec![vec![1u8], vec![0, 2, 3]];
        let m = CigarOp::Match;
        let plain = read(0, &[(m, 8)], b"ACGTACGT");
        let snp = read(0, &[(m, 8)], b"AAGTACGT");
        let other = read(0, &[(m, 8)], b"AGGTACGT");
        let del = read(0, &[(m, 2), (CigarOp::Del, 2), (m, 4)], b"ACACGT");
        let clipped = read(3, &[(CigarOp::SoftClip, 3), (m, 5)], b"ACGTACGT");
        let f = |r: &AlignedRead| pileup_allele(&contig, r, 1, &reference, &alts, 10);
        assert_eq!(f(&plain), Some(0));
        assert_eq!(f(&del), Some(1));
        assert_eq!(f(&snp), Some(2));
        assert_eq!(f(&other), Some(3));
        assert_eq!(f(&clipped), None);
        // Read positions: base 1 of 8 from the start; base 6 of 8 from the end (1).
        assert_eq!(query_index(&plain, 1), Some((1, true)));
        assert_eq!(read_position(1, 8), 1);
        assert_eq!(read_position(6, 8), 1);
        assert_eq!(query_index(&del, 2), Some((1, false)));
    }

    #[test]
    fn collector_fills_strand_tables_and_allele_specific_sums() {
        let contig_read = |rev: bool, mapq: u8| {
            let mut r = read(0, &[(CigarOp::Match, 4)], b"ACGT");
            if rev {
                r.flags = Flags::REVERSE_COMPLEMENTED;
            }
            r.mapq = mapq;
            r
        };
        let mut c = Collector::new(1, 3);
        c.add(&contig_read(false, 60), Some(0));
        c.add(&contig_read(true, 60), Some(0));
        c.add(&contig_read(true, 40), Some(1));
        c.add(&contig_read(false, 50), None);
        let a = c.finish();
        assert_eq!((a.raw_mq, a.raw_dp), (3600 * 2 + 1600 + 2500, 4));
        assert_eq!(a.strand, vec![[1, 1], [0, 1], [0, 0]]);
        assert_eq!(a.sb(), [1, 1, 0, 1]);
        assert_eq!(a.allele_mq, vec![7200, 1600, 0]);
        let per_alt = a.mq_rank.per_alt.unwrap();
        assert!(per_alt[0].unwrap() < 0.0, "the ALT read's MAPQ is lower");
        assert_eq!(per_alt[1], None, "<NON_REF> has no reads");
    }
}
