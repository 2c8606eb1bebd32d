//! Where an indel can sit, and what a read must cross to tell it apart. In a tandem repeat or a
//! homopolymer the same allele can be written at many anchors (left-aligned is one of them);
//! and any indel inside a repeat tract competes with alleles that differ from it by whole
//! copies of the repeat unit (a 3-base deletion in `(AG)n` and a 1-base one look the same to
//! a read that ends inside the tract). Only a read that crosses the whole tract, with a base on
//! each side, tells them apart. The caller uses this span to size what it looks at: an active
//! region covers every candidate's span (as freebayes widens its haplotype windows over whole
//! repeats), and the read × haplotype likelihoods are computed on haplotypes that reach past
//! it, so that reads which end inside the repeat fit every allele alike and the reads that
//! span it decide (HaplotypeCaller's informative reads).

use crate::call::pileup::Indel;

/// Longest stretch followed on each side of an indel. Far longer than any read can span with
/// anchors, so every span a read can resolve is found whole; it bounds the work (and the
/// region) in sequence that is one long repeat.
pub const MAX_SHIFT: u64 = 300;

/// Longest repeat unit [`tract`] looks for (microsatellites: 1–6 bases).
pub const MAX_PERIOD: usize = 6;
/// Substituted bases (interruptions) a [`tract`] crosses on each side of the indel.
pub const MAX_INTERRUPTIONS: usize = 3;

/// The reference bases `[start, end)` a read must cross to tell `indel`, anchored after
/// `contig[pos]`, from the reference and from alleles that differ from it by whole repeat
/// units: the union of [`shift_span`] and the repeat [`tract`] at the indel.
pub fn indel_span(contig: &[u8], pos: u64, indel: &Indel) -> (u64, u64) {
    let (s, e) = shift_span(contig, pos, indel);
    match tract(contig, pos) {
        Some(t) => (s.min(t.start.saturating_sub(1)), e.max(t.end)),
        None => (s, e),
    }
}

/// The longest stretch of at least two whole copies of a unit of 1–[`MAX_PERIOD`] bases that
/// holds the base after `pos` or `pos` itself (the sides of an indel anchored at `pos`),
/// across up to [`MAX_INTERRUPTIONS`] copies with one substituted base on each side:
/// `[start, end)`, at most [`MAX_SHIFT`] bases from `pos` on each side; ties go to the shorter
/// unit. `None` where no such stretch touches `pos`.
pub fn tract(contig: &[u8], pos: u64) -> Option<Tract> {
    let len = contig.len();
    let p0 = pos as usize;
    let max = MAX_SHIFT as usize;
    // `i` is in a run of period `p` when it equals the base a unit further on; a run
    // `a..=b` is the stretch `contig[a .. b + 1 + p]`.
    let in_run = |i: usize, p: usize| i + p < len && same(contig[i], contig[i + p]);
    // One substituted base in a copy (an interrupted repeat, `(CAG)n CAA (CAG)n`) breaks
    // the run at `j` and `j + p` only; up to MAX_INTERRUPTIONS are crossed each way.
    let isolated = |j: usize, p: usize| {
        j >= p
            && j + 3 * p < len
            && contig[j - p..=j + 3 * p].iter().all(|&b| b < 4)
            && (j - p..=j + 2 * p).all(|k| (k == j || k == j + p) != in_run(k, p))
    };
    let mut best: Option<(usize, usize, usize)> = None;
    for period in 1..=MAX_PERIOD {
        // Every run member whose unit covers `pos` or `pos + 1`.
        for c in (p0.saturating_sub(period - 1)..=p0 + 1).filter(|&i| in_run(i, period)) {
            let mut a = c;
            let mut crossed = 0;
            while a > 0 && a + max > p0 {
                if in_run(a - 1, period) {
                    a -= 1;
                } else if crossed < MAX_INTERRUPTIONS
                    && a > period
                    && isolated(a - 1 - period, period)
                {
                    a = a - 1 - 2 * period;
                    crossed += 1;
                } else {
                    break;
                }
            }
            let mut b = c;
            crossed = 0;
            while b < p0 + max {
                if in_run(b + 1, period) {
                    b += 1;
                } else if crossed < MAX_INTERRUPTIONS && isolated(b + 1, period) {
                    b += 1 + 2 * period;
                    crossed += 1;
                } else {
                    break;
                }
            }
            let (start, end) = (a, b + 1 + period);
            if end - start >= 2 * period && best.is_none_or(|(s, e, _)| end - start > e - s) {
                best = Some((start, end, period));
            }
        }
    }
    best.map(|(s, e, p)| Tract {
        start: s as u64,
        end: e as u64,
        period: p as u64,
    })
}

/// A repeat tract: `[start, end)` of copies of a `period`-base unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tract {
    pub start: u64,
    pub end: u64,
    pub period: u64,
}

/// The reference bases `[start, end)` over which `indel`, anchored after `contig[pos]`, can be
/// placed with the same result: `start` is its leftmost anchor, `end` the end of its REF
/// allele at its rightmost placement. Outside a repeat this is the allele's own REF span
/// (`pos .. pos + 1 + deleted`). `N` never matches.
pub fn shift_span(contig: &[u8], pos: u64, indel: &Indel) -> (u64, u64) {
    let p = pos as usize;
    let len = contig.len();
    let max = MAX_SHIFT as usize;
    match indel {
        Indel::Del(n) => {
            let n = *n as usize;
            if p + 1 + n > len {
                return (pos, len as u64);
            }
            // Right: the first deleted base equals the base after the deletion.
            let mut r = 0;
            while r < max && p + 1 + n + r < len && same(contig[p + 1 + r], contig[p + 1 + n + r]) {
                r += 1;
            }
            // Left: the anchor equals the last deleted base.
            let mut l = 0;
            while l < max && l < p && same(contig[p - l], contig[p + n - l]) {
                l += 1;
            }
            ((p - l) as u64, (p + 1 + n + r) as u64)
        }
        Indel::Ins(seq) => {
            let n = seq.len();
            if n == 0 || p >= len {
                return (pos, (p + 1).min(len) as u64);
            }
            // Right: the base after the anchor equals the inserted sequence, rotated as the
            // insertion moves along.
            let mut r = 0;
            while r < max && p + 1 + r < len && same(contig[p + 1 + r], seq[r % n]) {
                r += 1;
            }
            // Left: the anchor equals the inserted sequence's last base, rotated.
            let mut l = 0;
            while l < max && l < p && same(contig[p - l], seq[n - 1 - l % n]) {
                l += 1;
            }
            ((p - l) as u64, (p + 1 + r) as u64)
        }
    }
}

/// `indel`, anchored after `contig[pos]`, moved to its leftmost placement (as VCF
/// normalisation and the aligners place it): the anchor and the allele there (an insertion's
/// bases rotate as it moves). Aligners do not always left-align inside a long repeat; the
/// pileup counts every read's indel here, so that one allele is one candidate.
pub fn left_align(contig: &[u8], pos: u64, indel: Indel) -> (u64, Indel) {
    let p = pos as usize;
    if p >= contig.len() {
        return (pos, indel);
    }
    match indel {
        Indel::Del(n) => {
            let n = n as usize;
            let mut a = p;
            while a > 0 && a + n < contig.len() && same(contig[a], contig[a + n]) {
                a -= 1;
            }
            (a as u64, Indel::Del(n as u32))
        }
        Indel::Ins(mut seq) => {
            let mut a = p;
            while a > 0 && seq.last().is_some_and(|&l| same(contig[a], l)) {
                seq.rotate_right(1);
                a -= 1;
            }
            (a as u64, Indel::Ins(seq))
        }
    }
}

/// Two base codes are the same base (`N`, code 4, is never the same as anything).
fn same(a: u8, b: u8) -> bool {
    a == b && a < 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::base_codes as codes;

    #[test]
    fn shifts_cover_the_whole_repeat() {
        //            0123456789012345678
        let c = codes(b"GCATTTTTTTGCAGCAGCAGCAGTC");
        // A T deleted anywhere in the run (anchors 2..=8): anchor 2 up to the run's end (10).
        assert_eq!(shift_span(&c, 2, &Indel::Del(1)), (2, 10));
        assert_eq!(shift_span(&c, 6, &Indel::Del(1)), (2, 10));
        assert_eq!(shift_span(&c, 4, &Indel::Del(2)), (2, 10));
        // A T inserted: the same stretch.
        assert_eq!(shift_span(&c, 9, &Indel::Ins(codes(b"T"))), (2, 10));
        // GCA deleted from (GCA)x4 G: left-aligned after the T run's last base (anchor 9),
        // right to the last G that still matches the rotation (22).
        assert_eq!(shift_span(&c, 9, &Indel::Del(3)), (9, 23));
        assert_eq!(shift_span(&c, 12, &Indel::Del(3)), (9, 23));
        // CAG inserted after the first G (anchor 10): the same placements.
        assert_eq!(shift_span(&c, 10, &Indel::Ins(codes(b"CAG"))), (9, 23));
        assert_eq!(shift_span(&c, 9, &Indel::Ins(codes(b"GCA"))), (9, 23));
        // The span of the T insertion at the junction also takes in the (GCA)n tract that
        // touches it.
        assert_eq!(indel_span(&c, 9, &Indel::Ins(codes(b"T"))), (2, 23));
        assert_eq!(indel_span(&c, 4, &Indel::Del(2)), (2, 10));
        // Outside a repeat: the allele's own REF span.
        let c = codes(b"ACGTACGGTCAT");
        assert_eq!(shift_span(&c, 3, &Indel::Del(2)), (3, 6));
        assert_eq!(shift_span(&c, 3, &Indel::Ins(codes(b"GG"))), (3, 4));
    }

    #[test]
    fn tracts_are_the_longest_repeat_at_the_indel() {
        //             0         1         2         3
        //             0123456789012345678901234567890123456
        let c = codes(b"CCTGAGAGAGAGAGAGAGTTCATTTTTTGCAGCAGG");
        // (AG)n from 3 to 18 (GAGAGAGAGAGAGAGA, 15 bases + the last A: "GAGA..GA" 3..18).
        assert_eq!(tract(&c, 2).map(|t| (t.start, t.end)), Some((3, 18)));
        assert_eq!(tract(&c, 10).map(|t| (t.start, t.end)), Some((3, 18)));
        assert_eq!(tract(&c, 16).map(|t| (t.start, t.end)), Some((3, 18)));
        // The T run, and the CAG run (period 3 beats the GCAG..G period-1 pieces).
        assert_eq!(tract(&c, 23).map(|t| (t.start, t.end)), Some((22, 28)));
        assert_eq!(tract(&c, 29).map(|t| (t.start, t.end)), Some((28, 35)));
        // A 1-base deletion of G inside (AG)n moves nowhere, but a read must cross the
        // whole tract to tell it from a 3-base one.
        assert_eq!(shift_span(&c, 8, &Indel::Del(1)), (8, 10));
        assert_eq!(indel_span(&c, 8, &Indel::Del(1)), (2, 18));
        assert_eq!(indel_span(&c, 8, &Indel::Del(3)), (2, 18));
        // An interrupted repeat: (CAG)4 CAA (CAG)3 CTG (CAG)2, then flank.
        let c = codes(b"TTCAGCAGCAGCAGCAACAGCAGCAGCTGCAGCAGTTT");
        assert_eq!(tract(&c, 1).map(|t| (t.start, t.end)), Some((2, 35)));
        assert_eq!(tract(&c, 30).map(|t| (t.start, t.end)), Some((2, 35)));
        // No repeat: nothing.
        assert_eq!(tract(&codes(b"ACGTCAGT"), 3), None);
        assert_eq!(tract(&c, 1).map(|t| t.period), Some(3));
    }

    #[test]
    fn indels_are_left_aligned() {
        //             0123456789012345
        let c = codes(b"ACGGCGGCGGCGTTAC");
        // CGG inserted after base 9 (…CG|CGG…) is CGG inserted after the A at 0.
        assert_eq!(
            left_align(&c, 9, Indel::Ins(codes(b"CGG"))),
            (0, Indel::Ins(codes(b"CGG")))
        );
        assert_eq!(
            left_align(&c, 8, Indel::Ins(codes(b"GCG"))),
            (0, Indel::Ins(codes(b"CGG")))
        );
        assert_eq!(left_align(&c, 7, Indel::Del(3)), (0, Indel::Del(3)));
        // One T of TT: anchored on the G before it.
        assert_eq!(left_align(&c, 12, Indel::Del(1)), (11, Indel::Del(1)));
        // Nothing to move.
        assert_eq!(
            left_align(&c, 13, Indel::Ins(codes(b"G"))),
            (13, Indel::Ins(codes(b"G")))
        );
    }

    #[test]
    fn spans_stop_at_n_and_at_the_contig_ends() {
        let c = codes(b"AAAANAAAA");
        assert_eq!(shift_span(&c, 0, &Indel::Del(1)), (0, 4));
        // The leftmost anchor may be the N before the run (it is the anchor, not repeated).
        assert_eq!(shift_span(&c, 5, &Indel::Del(1)), (4, 9));
        assert_eq!(shift_span(&c, 7, &Indel::Ins(codes(b"A"))), (4, 9));
        assert_eq!(tract(&c, 2).map(|t| (t.start, t.end)), Some((0, 4)));
        // A deletion running off the end is kept whole.
        assert_eq!(shift_span(&c, 7, &Indel::Del(5)), (7, 9));
        assert_eq!(indel_span(&c, 7, &Indel::Del(5)), (4, 9));
    }
}
