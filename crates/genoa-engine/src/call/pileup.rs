//! Streaming pileup: per-site sufficient statistics of the bases and indels that filtered
//! reads show, kept in a window that starts at the first unfinished site.
//!
//! Reads arrive sorted by position; once a read starting at `P` has arrived no later read can
//! touch a site before `P`, so those sites are handed out, in order, and dropped.
//!
//! Each base observation `b` with error `ε` (from `min(base quality, MAPQ)`) adds to three sums
//! for its base: `log10(1-ε)` (both alleles of a genotype are `b`), `log10(ε/3)` (neither is),
//! `log10((1-ε+ε/3)/2)` (one is). These decompose the diploid likelihood exactly, so the
//! genotype step needs no per-read data.

use std::collections::VecDeque;

use crate::call::CallParams;
use crate::genome::{CigarOp, base_code};
use crate::model::alignment::{AlignedRead, Flags};

/// An indel allele anchored after a reference base.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Indel {
    /// Deletion of this many reference bases after the anchor.
    Del(u32),
    /// Insertion of these bases (codes) after the anchor.
    Ins(Vec<u8>),
}

impl Indel {
    /// The indel of `read`'s CIGAR operation `op` (`Del` or `Ins`) of length `n`, its
    /// inserted bases (if any) starting at query offset `qi`.
    pub fn of_op(read: &AlignedRead, op: CigarOp, n: u32, qi: usize) -> Indel {
        if op == CigarOp::Del {
            Indel::Del(n)
        } else {
            Indel::Ins(
                read.seq[qi..qi + n as usize]
                    .iter()
                    .map(|&b| base_code(b))
                    .collect(),
            )
        }
    }
    /// Bases the allele inserts (0 for a deletion).
    pub fn inserted(&self) -> u64 {
        match self {
            Indel::Del(_) => 0,
            Indel::Ins(seq) => seq.len() as u64,
        }
    }
    /// Reference bases the allele removes (0 for an insertion).
    pub fn deleted(&self) -> u64 {
        match self {
            Indel::Del(n) => u64::from(*n),
            Indel::Ins(_) => 0,
        }
    }
}

/// Sufficient statistics of one site.
#[derive(Clone, Debug, Default)]
pub struct Site {
    /// Filtered base observations per base code.
    pub counts: [u32; 4],
    /// Σ log10(1-ε), Σ log10(ε/3), Σ log10((1-ε+ε/3)/2) per observed base.
    pub both: [f64; 4],
    pub neither: [f64; 4],
    pub one: [f64; 4],
    /// Reads aligned without a gap across this base and the next (reference support for an
    /// indel anchored here).
    pub span: u32,
    /// Filtered reads aligned over this base (bases below the quality threshold included) and
    /// the sum of their squared MAPQs (for the RMS mapping quality, `MQ`).
    pub reads: u32,
    pub mapq_sq: u64,
    /// Filtered reads with a soft clip of at least [`MIN_CLIP`] bases beginning at this base
    /// (a read's clipped head ends just before it, or its clipped tail starts here): where
    /// an aligner gave up on an insertion or a complex change.
    pub clips: u32,
    /// Indels anchored at this base with their read counts, sorted by allele.
    pub indels: Vec<(Indel, u32)>,
    /// Coverage as the GA4GH WGS metrics (Picard `CollectWgsMetrics`) count it: bases of the
    /// filtered reads with base quality ≥ [`QC_MIN_BASE_QUALITY`] (the read's own, not capped
    /// by MAPQ), not `N`, and a pair's overlapping bases once (see [`Pileup::add`]).
    pub qc_depth: u32,
    /// Filtered reads with a deletion over this base (counted in a reference block's DP, as
    /// GATK's pileups count them).
    pub deletions: u32,
    /// Filtered reads whose base here is next to an insertion, a deletion or a soft clip in
    /// their alignment: evidence against hom-ref, as HaplotypeCaller's reference model counts
    /// such pileup elements (its base is counted in `counts` as well).
    pub indel_adjacent: u32,
    /// Filtered reads informative about indels here (HaplotypeCaller's reference model,
    /// approximated): the read's alignment goes on without a gap or a mismatch for at least
    /// [`MAX_INDEL_INFORMATIVE`] bases from this one and past every tandem repeat of period up
    /// to that starting here, so that an insertion or deletion of up to that many bases would
    /// show as mismatches.
    pub indel_informative: u32,
    /// Filtered reads over this base that show an indel within reach of it (where an
    /// informative read must be clean): a gap or soft clip in their alignment, or a mismatch
    /// that a shift of the read's bases explains ([`indel_shaped`]: an indel the aligner wrote
    /// as mismatches, typically in a repeat). The reference model weighs them as evidence for
    /// an indel here ([`crate::call::genotype::indel_pl`]); HaplotypeCaller leaves them out,
    /// and then claims hom-ref from the reads that happen to carry the other allele.
    pub indel_dirty: u32,
    /// 1 + the bases a read must hold from here on to be indel-informative (0: not computed).
    indel_need: u32,
    /// How far an indel here could be shifted to the left and stay the same allele
    /// ([`indel_back`]; valid where `indel_need` is computed).
    indel_back: u32,
}

/// Longest indel (and repeat period) the reference model's indel-informative reads rule out
/// (HaplotypeCaller's 10).
pub const MAX_INDEL_INFORMATIVE: u32 = 10;

/// The bases a gapless read must hold from `pos` on (inclusive) to be informative about
/// indels of up to [`MAX_INDEL_INFORMATIVE`] bases there: for each shift `k`, the read's bases
/// shifted by `k` (an insertion) would match the reference over the `k`-periodic run that
/// starts at `pos` (or right after it), so the read must reach past it by more than `k`.
fn indel_need(contig: &[u8], pos: u64) -> u32 {
    let mut need = MAX_INDEL_INFORMATIVE;
    // An indel at a VCF position changes the bases after it: the repeat may start at the
    // next base (an insertion's anchor before a tandem repeat).
    for from in [pos as usize, pos as usize + 1] {
        let skip = (from - pos as usize) as u32;
        for k in 1..=MAX_INDEL_INFORMATIVE as usize {
            let run = run_right(contig, from, k, MAX_RUN);
            need = need.max(skip + (run + k) as u32 + 1);
        }
    }
    need
}

/// Longest run followed by [`indel_need`] and [`indel_back`].
const MAX_RUN: usize = 1_000;

/// Bytes of any code above `T` (`N`): bits a base code never has.
const NOT_BASE: u64 = 0xfcfc_fcfc_fcfc_fcfc;

/// Bases `i = 0, 1, …` (fewer than `cap`) from `a` on over which `s` equals itself shifted by
/// `k` (`s[a + i] == s[a + i + k]`, inside `s`) and is not `N`; eight bases per step.
fn run_right(s: &[u8], a: usize, k: usize, cap: usize) -> usize {
    let limit = cap.min(s.len().saturating_sub(a + k));
    let word = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 <= limit {
        let x = word(a + i);
        let stop = (x ^ word(a + i + k)) | (x & NOT_BASE);
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < limit && s[a + i] == s[a + i + k] && s[a + i] < 4 {
        i += 1;
    }
    i
}

/// Bases `i = 0, 1, …` (fewer than `cap`) before `p` (at `j = p − 1 − i`) over which `s`
/// equals itself shifted by `k` (`s[j] == s[j + k]`, inside `s`) and is not `N`; eight bases
/// per step.
fn run_left(s: &[u8], p: usize, k: usize, cap: usize) -> usize {
    // `j + k` only falls as `i` grows: inside `s` for all if for the first.
    if p + k > s.len() {
        return 0;
    }
    let limit = cap.min(p);
    let word = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 <= limit {
        // Bytes p − i − 8 .. p − i; the highest is the next base back.
        let at = p - i - 8;
        let x = word(at);
        let stop = (x ^ word(at + k)) | (x & NOT_BASE);
        if stop != 0 {
            return i + (stop.leading_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < limit && s[p - i - 1] == s[p - i - 1 + k] && s[p - i - 1] < 4 {
        i += 1;
    }
    i
}

/// How many bases to the left of `pos` a read's sign of an indel counts against hom-ref here:
/// as far as an indel anchored at `pos` (up to [`MAX_INDEL_INFORMATIVE`] bases, or a repeat
/// unit of that period) could be moved and stay the same allele (the longest run ending at
/// `pos` over which the reference equals itself shifted by `k`), and at least the base before
/// (an insertion anchored there changes the bases between it and `pos`; a read aligned
/// without it shows its mismatches on the anchor's side). The aligner may put an indel's
/// mismatches on either side of it.
fn indel_back(contig: &[u8], pos: u64) -> u32 {
    let run_to = |p: usize| {
        (1..=MAX_INDEL_INFORMATIVE as usize)
            .map(|k| run_left(contig, p, k, MAX_RUN) as u32)
            .max()
            .unwrap_or(0)
    };
    let p = pos as usize;
    run_to(p).max(if p > 0 { 1 + run_to(p - 1) } else { 0 })
}

/// Bases compared on one side of a mismatch by [`indel_shaped`] (the mismatch included).
const SHAPE_WINDOW: usize = 8;

/// Largest shift [`indel_shaped`] tries: two copies of the longest repeat unit the
/// reference model follows, and more.
const MAX_SHAPE_SHIFT: i64 = 24;

/// Whether the mismatch at offset `t` of an aligned block (read bases `bases`, reference
/// from `ri`) is what an indel of up to [`MAX_SHAPE_SHIFT`] bases that the aligner wrote as
/// mismatches would leave: the [`SHAPE_WINDOW`] read bases starting or ending at it all
/// equal the reference shifted by that many bases. A substitution matches a shifted
/// reference over 8 bases by chance about once in 16,000 per shift outside repeats; in a
/// repeat a shift by whole units matches everywhere but at the repeat's edges and
/// interruptions, which is where a misplaced indel leaves its mismatches.
fn indel_shaped(contig: &[u8], bases: &[u8], ri: u64, t: usize) -> bool {
    let ref_at = |x: i64| -> u8 {
        usize::try_from(x)
            .ok()
            .and_then(|x| contig.get(x).copied())
            .unwrap_or(4)
    };
    let fits = |from: usize, shift: i64| {
        (from..from + SHAPE_WINDOW).all(|j| {
            let b = base_code(bases[j]);
            b < 4 && b == ref_at(ri as i64 + j as i64 + shift)
        })
    };
    let mut windows = [None, None];
    if t + SHAPE_WINDOW <= bases.len() {
        windows[0] = Some(t);
    }
    if t + 1 >= SHAPE_WINDOW {
        windows[1] = Some(t + 1 - SHAPE_WINDOW);
    }
    windows
        .into_iter()
        .flatten()
        .any(|from| (1..=MAX_SHAPE_SHIFT).any(|k| fits(from, k) || fits(from, -k)))
}

/// The base quality the QC coverage counts from (GA4GH, Picard `CollectWgsMetrics`).
pub const QC_MIN_BASE_QUALITY: u8 = 20;

/// Reference length of a CIGAR string (`MC`), if it parses.
fn cigar_ref_len(cigar: &str) -> Option<u64> {
    let (mut len, mut n) = (0u64, 0u64);
    for c in cigar.bytes() {
        match c {
            b'0'..=b'9' => n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?,
            b'M' | b'D' | b'N' | b'=' | b'X' => {
                len += n;
                n = 0;
            }
            b'I' | b'S' | b'H' | b'P' => n = 0,
            _ => return None,
        }
    }
    Some(len)
}

/// The reference span `[start, end)` of `read`'s mate when the mate starts first (or at the
/// same base and `read` is the second segment) on the same contig: there the QC coverage counts
/// the mate's base, not this read's. The mate's own filters and base qualities are not known
/// here; Picard counts this read where the mate's base fails them (a small difference: the
/// mate's MAPQ and quality at one base rarely fall below 20 when this read's do not).
fn mate_overlap(read: &AlignedRead) -> Option<(u64, u64)> {
    if read.flags.intersects(Flags::MATE_UNMAPPED)
        || !read.flags.intersects(Flags::SEGMENTED)
        || read.mate_contig != read.contig
    {
        return None;
    }
    let first = read.mate_pos < read.pos
        || (read.mate_pos == read.pos && read.flags.intersects(Flags::LAST_SEGMENT));
    if !first {
        return None;
    }
    let len = cigar_ref_len(read.mate_cigar.as_deref()?)?;
    Some((read.mate_pos, read.mate_pos + len))
}

impl Site {
    /// Filtered base depth.
    pub fn depth(&self) -> u32 {
        self.counts.iter().sum()
    }
    /// Root mean square MAPQ of the reads over this base (0 without reads).
    pub fn rms_mapq(&self) -> f64 {
        if self.reads == 0 {
            0.0
        } else {
            (self.mapq_sq as f64 / f64::from(self.reads)).sqrt()
        }
    }
    /// The most observed non-reference base (lowest code on ties), if observed at all.
    pub fn best_alt(&self, ref_base: u8) -> Option<u8> {
        (0..4u8)
            .filter(|&b| b != ref_base && self.counts[b as usize] > 0)
            .max_by(|&a, &b| {
                self.counts[a as usize]
                    .cmp(&self.counts[b as usize])
                    .then(b.cmp(&a))
            })
    }
    /// The most observed indel (the first in allele order on ties).
    pub fn best_indel(&self) -> Option<(&Indel, u32)> {
        let mut best: Option<(&Indel, u32)> = None;
        for (i, n) in &self.indels {
            if best.is_none_or(|(_, bn)| *n > bn) {
                best = Some((i, *n));
            }
        }
        best
    }
    /// Reads showing any indel here.
    pub fn indel_total(&self) -> u32 {
        self.indels.iter().map(|(_, n)| n).sum()
    }
    fn add_indel(&mut self, indel: Indel) {
        match self.indels.binary_search_by(|(i, _)| i.cmp(&indel)) {
            Ok(k) => self.indels[k].1 += 1,
            Err(k) => self.indels.insert(k, (indel, 1)),
        }
    }
}

/// The indel of `read`'s CIGAR operation `k` (a deletion or insertion at reference position
/// `ri`, query offset `qi`) at its left-aligned anchor (aligners do not always left-align
/// inside a long repeat), when it lies between two aligned blocks (the only indels counted).
pub fn anchored_indel(
    contig: &[u8],
    read: &AlignedRead,
    k: usize,
    ri: u64,
    qi: usize,
) -> Option<(u64, Indel)> {
    let ops = &read.cigar.0;
    let (op, n) = ops[k];
    let anchored = k > 0
        && ops[k - 1].0 == CigarOp::Match
        && ops.get(k + 1).is_some_and(|o| o.0 == CigarOp::Match);
    (anchored && ri > 0 && (ri as usize) <= contig.len())
        .then(|| crate::call::tandem::left_align(contig, ri - 1, Indel::of_op(read, op, n, qi)))
}

/// Shortest soft clip counted in [`Site::clips`].
pub const MIN_CLIP: u32 = 5;

/// The window of unfinished sites.
pub struct Pileup {
    start: u64,
    sites: VecDeque<Site>,
    min_mapq: u8,
    min_base_quality: u8,
    /// Per Phred value: (log10(1-ε), log10(ε/3), log10((1-ε+ε/3)/2)).
    table: Vec<(f64, f64, f64)>,
    /// Per base of the aligned block being added: bases from it to the block's next mismatch
    /// (or its end).
    clean: Vec<u32>,
    /// Per base of the aligned block being added: bases from it to the next sign of an indel
    /// (a mismatch [`indel_shaped`], or the block's end where a gap or soft clip follows);
    /// `u32::MAX` where none follows in the block.
    shaped: Vec<u32>,
}

impl Pileup {
    /// A pileup whose first site is `start` (bases of reads before it are ignored).
    pub fn new(params: &CallParams, start: u64) -> Self {
        let table = (0..=93u8)
            .map(|q| {
                let e = crate::genome::phred_to_error(q).min(0.75);
                (
                    (1.0 - e).log10(),
                    (e / 3.0).log10(),
                    ((1.0 - e + e / 3.0) / 2.0).log10(),
                )
            })
            .collect();
        Pileup {
            start,
            sites: VecDeque::new(),
            min_mapq: params.min_mapq,
            min_base_quality: params.min_base_quality,
            table,
            clean: Vec::new(),
            shaped: Vec::new(),
        }
    }

    /// Hands out (in order) and drops every site before `pos`, including empty ones.
    pub fn flush_before(&mut self, pos: u64, mut f: impl FnMut(u64, Site)) {
        while self.start < pos {
            f(self.start, self.sites.pop_front().unwrap_or_default());
            self.start += 1;
        }
    }

    /// The site at `pos` (`pos >= self.start`).
    fn site(&mut self, pos: u64) -> &mut Site {
        let k = (pos - self.start) as usize;
        if k >= self.sites.len() {
            self.sites.resize_with(k + 1, Site::default);
        }
        &mut self.sites[k]
    }

    /// Marks the aligned bases on each side of `read`'s gap or soft clip `ops[k]` (at reference
    /// position `r`) as next to one ([`Site::indel_adjacent`]).
    fn mark_gap_sides(&mut self, ops: &[(CigarOp, u32)], k: usize, r: u64, read_pos: u64) {
        let (op, n) = ops[k];
        let prev = k > 0 && ops[k - 1].0 == CigarOp::Match;
        let next = ops.get(k + 1).is_some_and(|o| o.0 == CigarOp::Match);
        let after = if op == CigarOp::Del {
            r + u64::from(n)
        } else {
            r
        };
        let before = (prev && r > read_pos).then(|| r - 1);
        for pos in before.into_iter().chain(next.then_some(after)) {
            if pos >= self.start {
                self.site(pos).indel_adjacent += 1;
            }
        }
    }

    /// Adds a read (sorted order; a read not passing the filters is ignored).
    pub fn add(&mut self, read: &AlignedRead, contig: &[u8]) {
        if !crate::call::usable(read, self.min_mapq) {
            return;
        }
        let (mut qi, mut ri) = (0usize, read.pos);
        let start = self.start;
        let ops = &read.cigar.0;
        let (lead, tail) = read.cigar.clips();
        if lead >= MIN_CLIP && read.pos >= start {
            self.site(read.pos).clips += 1;
        }
        if tail >= MIN_CLIP && read.end() >= start {
            self.site(read.end()).clips += 1;
        }
        let mapq_sq = u64::from(read.mapq) * u64::from(read.mapq);
        let (mate_from, mate_to) = mate_overlap(read).unwrap_or((0, 0));
        for (k, &(op, n)) in ops.iter().enumerate() {
            let n64 = u64::from(n);
            if op != CigarOp::Match {
                self.mark_gap_sides(ops, k, ri, read.pos);
            }
            match op {
                CigarOp::SoftClip => qi += n as usize,
                CigarOp::Match => {
                    // Bases before the window's first site are not counted.
                    let skip = start.saturating_sub(ri).min(n64) as usize;
                    // Mismatch-free bases from each base on: a read with a mismatch within
                    // reach of a site may be a misaligned indel (a shift could explain it),
                    // so it is not indel-informative there (HaplotypeCaller compares the
                    // read's mismatches under each shift; measured 3-5x slower for no fewer
                    // claimed missed indels on the bench).
                    // Bases to the next sign of an indel: a gap or clip after the block, or a
                    // good mismatch that a shift explains (counted as indel evidence).
                    let gap = |o: Option<&(CigarOp, u32)>| {
                        o.is_some_and(|o| {
                            matches!(o.0, CigarOp::Del | CigarOp::Ins | CigarOp::SoftClip)
                        })
                    };
                    let gap_after = gap(ops.get(k + 1));
                    let gap_before = k > 0 && gap(ops.get(k - 1));
                    let bases = &read.seq[qi..qi + n as usize];
                    self.clean.clear();
                    self.clean.resize(n as usize + 1, 0);
                    self.shaped.clear();
                    self.shaped
                        .resize(n as usize + 1, if gap_after { 0 } else { u32::MAX });
                    for t in (0..n as usize).rev() {
                        let c = contig.get((ri + t as u64) as usize).copied().unwrap_or(4);
                        let b = base_code(bases[t]);
                        let after = self.shaped[t + 1].saturating_add(1);
                        if b == c {
                            self.clean[t] = self.clean[t + 1] + 1;
                            self.shaped[t] = after;
                        } else {
                            self.clean[t] = 0;
                            let good = b < 4 && read.qual[qi + t] >= self.min_base_quality;
                            self.shaped[t] = if good && indel_shaped(contig, bases, ri, t) {
                                0
                            } else {
                                after
                            };
                        }
                    }
                    // Walking on: bases back to the previous sign of an indel (the block's
                    // start where a gap or clip precedes it), and mismatch-free bases before.
                    let mut sign_back = if gap_before { 0 } else { u32::MAX };
                    let mut anchored = 0u32;
                    for t in 0..n as usize {
                        sign_back = if self.shaped[t] == 0 {
                            0
                        } else {
                            sign_back.saturating_add(1)
                        };
                        let anchored_here = anchored;
                        anchored = if self.clean[t] > 0 { anchored + 1 } else { 0 };
                        if t < skip {
                            continue;
                        }
                        let anchored = anchored_here;
                        let b = base_code(read.seq[qi + t]);
                        let q = read.qual[qi + t].min(read.mapq).min(93);
                        let pos = ri + t as u64;
                        let entry = self.table[q as usize];
                        // A pair's overlapping bases are one observation of the fragment:
                        // the mate that starts first gives it (GATK counts a fragment once).
                        let second = (mate_from..mate_to).contains(&pos);
                        let ok = b < 4 && q >= self.min_base_quality && !second;
                        let qc = b < 4 && read.qual[qi + t] >= QC_MIN_BASE_QUALITY && !second;
                        let left = self.clean[t];
                        let sign = self.shaped[t];
                        let site = self.site(pos);
                        if site.indel_need == 0 {
                            site.indel_need = indel_need(contig, pos) + 1;
                            site.indel_back = indel_back(contig, pos);
                        }
                        // A sign of an indel within reach on the right, or as far left as the
                        // indel could be moved: counted against hom-ref, not informative. An
                        // informative read crosses, clean, both ways: past the repeat on the
                        // right and past where the indel could move on the left (a read that
                        // starts inside a repeat is placed by its other end; it would look
                        // the same with an indel there).
                        let dirty = sign < site.indel_need || sign_back <= site.indel_back;
                        let informative =
                            !dirty && left >= site.indel_need - 1 && anchored > site.indel_back;
                        site.indel_informative += u32::from(informative);
                        site.indel_dirty += u32::from(dirty);
                        site.qc_depth += u32::from(qc);
                        site.reads += 1;
                        site.mapq_sq += mapq_sq;
                        if ok {
                            let b = b as usize;
                            site.counts[b] += 1;
                            site.both[b] += entry.0;
                            site.neither[b] += entry.1;
                            site.one[b] += entry.2;
                        }
                        if t + 1 < n as usize {
                            site.span += 1;
                        }
                    }
                    qi += n as usize;
                    ri += n64;
                }
                CigarOp::Del | CigarOp::Ins => {
                    if let Some((anchor, indel)) = anchored_indel(contig, read, k, ri, qi)
                        && anchor >= start
                    {
                        self.site(anchor).add_indel(indel);
                    }
                    if op == CigarOp::Del {
                        for pos in ri.max(start)..ri + n64 {
                            self.site(pos).deletions += 1;
                        }
                        ri += n64;
                    } else {
                        qi += n as usize;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runs as first written, base by base: the spec of [`run_right`] and [`run_left`].
    fn runs_base_by_base(contig: &[u8], p: usize, k: usize) -> (usize, usize) {
        let mut right = 0usize;
        while right < MAX_RUN
            && p + right + k < contig.len()
            && contig[p + right] == contig[p + right + k]
            && contig[p + right] < 4
        {
            right += 1;
        }
        let mut left = 0usize;
        while left < MAX_RUN
            && left < p
            && p - left - 1 + k < contig.len()
            && contig[p - left - 1] == contig[p - left - 1 + k]
            && contig[p - left - 1] < 4
        {
            left += 1;
        }
        (right, left)
    }

    #[test]
    fn word_runs_equal_the_base_by_base_runs() {
        let mut rng = fastrand::Rng::with_seed(23);
        for round in 0..300 {
            // Tandem repeats of periods 1..=12 (up to 2,000 bases, past the cap) between
            // random bases, some N, at both ends of the contig.
            let mut contig = Vec::new();
            while contig.len() < 3_000 {
                let unit: Vec<u8> = (0..rng.usize(1..=12)).map(|_| rng.u8(0..4)).collect();
                let len = if round % 10 == 0 {
                    2_000
                } else {
                    rng.usize(0..40)
                };
                contig.extend(unit.iter().cycle().take(len));
                contig.extend(
                    (0..rng.usize(0..20))
                        .map(|_| if rng.u8(0..30) == 0 { N } else { rng.u8(0..4) }),
                );
            }
            contig.truncate(rng.usize(1..=3_000));
            for p in (0..=contig.len()).step_by(rng.usize(1..8)) {
                for k in 1..=12 {
                    let (right, left) = runs_base_by_base(&contig, p, k);
                    assert_eq!(
                        run_right(&contig, p, k, MAX_RUN),
                        right,
                        "right p {p} k {k}"
                    );
                    assert_eq!(run_left(&contig, p, k, MAX_RUN), left, "left p {p} k {k}");
                }
            }
        }
    }
    use crate::genome::{Cigar, N};

    fn read(pos: u64, len: usize, flags: Flags, mate: Option<(u64, &str)>, q: u8) -> AlignedRead {
        AlignedRead {
            name: String::new(),
            flags,
            contig: Some(0),
            pos,
            mapq: 60,
            cigar: Cigar(vec![(CigarOp::Match, len as u32)]),
            mate_contig: mate.map(|_| 0),
            mate_pos: mate.map_or(0, |m| m.0),
            tlen: 0,
            seq: vec![b'A'; len],
            qual: vec![q; len],
            nm: 0,
            md: String::new(),
            mate_cigar: mate.map(|m| m.1.to_string()),
            sa: None,
            xa: None,
        }
    }

    /// QC depths of `[0, 30)` after adding `reads` (in order).
    fn qc_depths(reads: &[AlignedRead]) -> Vec<u32> {
        let contig = vec![0u8; 100];
        let mut p = Pileup::new(&CallParams::default(), 0);
        for r in reads {
            p.add(r, &contig);
        }
        let mut out = Vec::new();
        p.flush_before(30, |_, s| out.push(s.qc_depth));
        out
    }

    #[test]
    fn qc_depth_counts_an_overlapping_pair_once_and_base_quality_from_20() {
        let paired = Flags::SEGMENTED | Flags::PROPERLY_SEGMENTED;
        let first = read(0, 20, paired | Flags::FIRST_SEGMENT, Some((10, "20M")), 30);
        let second = read(10, 20, paired | Flags::LAST_SEGMENT, Some((0, "20M")), 30);
        let d = qc_depths(&[first, second]);
        assert_eq!(&d[..10], &[1; 10]);
        assert_eq!(&d[10..20], &[1; 10], "the overlap counts once");
        assert_eq!(&d[20..30], &[1; 10]);
        // Two unrelated reads over the same bases count twice; Q19 bases do not count (the
        // caller still uses them from Q10).
        let a = read(0, 20, Flags::empty(), None, 30);
        let b = read(5, 20, Flags::empty(), None, 30);
        let low = read(0, 30, Flags::empty(), None, 19);
        let d = qc_depths(&[a, b, low]);
        assert_eq!(d[7], 2);
        assert_eq!(d[27], 0);
    }

    #[test]
    fn reads_are_indel_informative_only_past_the_repeat_and_deletions_count() {
        // 20 random-looking bases, a 12-base A homopolymer at 20..32, then more bases.
        let mut contig = crate::genome::base_codes(b"CGTACCTGATGCGTTACGGC");
        contig.extend([0u8; 12]);
        contig.extend(crate::genome::base_codes(
            b"CTGGTCATCGCGTTCAGTCCGTAGCTTGCATGCCTTGAGC",
        ));
        let seq = |from: usize, len: usize| -> Vec<u8> {
            contig[from..from + len]
                .iter()
                .map(|&c| b"ACGT"[c as usize])
                .collect()
        };
        let mk = |pos: u64, len: usize| {
            let mut r = read(pos, len, Flags::empty(), None, 30);
            r.seq = seq(pos as usize, len);
            r
        };
        // Ends inside the homopolymer (at 28) / reaches well past it (to 60).
        let short = mk(4, 24);
        let long = mk(4, 56);
        let mut del = mk(10, 40);
        del.cigar = Cigar(vec![
            (CigarOp::Match, 5),
            (CigarOp::Del, 2),
            (CigarOp::Match, 35),
        ]);
        del.seq = [seq(10, 5), seq(17, 35)].concat();
        let sites_of = |reads: &[&AlignedRead]| {
            let mut p = Pileup::new(&CallParams::default(), 0);
            for r in reads {
                p.add(r, &contig);
            }
            let mut sites = Vec::new();
            p.flush_before(60, |_, s| sites.push(s));
            sites
        };
        // At 12, 8 bases before the run, an indel would show in the short read too; at 19
        // (right before the run: an insertion's anchor) and 25 (inside it) only a read reaching
        // past the run's end (32) and more rules one out.
        let one = |r: &AlignedRead| -> Vec<u32> {
            let sites = sites_of(&[r]);
            [12, 19, 25].map(|k| sites[k].indel_informative).to_vec()
        };
        assert_eq!(one(&short), vec![1, 0, 0]);
        assert_eq!(one(&long), vec![1, 1, 1]);
        // The deletion read: gapless blocks 10..15 and 17..52 (reference). At 19 its two
        // bases before are too few to place it (an indel at 19 could sit two bases left).
        assert_eq!(one(&del), vec![0, 0, 1]);
        let sites = sites_of(&[&del]);
        assert_eq!((sites[15].deletions, sites[16].deletions), (1, 1));
        // The bases on each side of the deletion are marked, no other.
        assert_eq!((sites[14].indel_adjacent, sites[17].indel_adjacent), (1, 1));
        assert_eq!(sites[13].indel_adjacent + sites[18].indel_adjacent, 0);
        // ... and the deletion read shows an indel within reach of 12 (its block ends in a
        // gap 3 bases on), of none of the others.
        assert_eq!(sites[12].indel_dirty, 1);
        let dirty = |r: &AlignedRead| -> Vec<u32> {
            let sites = sites_of(&[r]);
            [12, 19, 25].map(|k| sites[k].indel_dirty).to_vec()
        };
        assert_eq!(dirty(&short), vec![0, 0, 0]);
        assert_eq!(dirty(&long), vec![0, 0, 0]);
        // One more A in the homopolymer, aligned without a gap: the read's bases from 32 on
        // are the reference's from 31 on (a shift of one), so its mismatches there are an
        // indel's, and it counts against hom-ref wherever they are within reach.
        let mut ins = mk(10, 50);
        ins.seq = [seq(10, 22), b"A".to_vec(), seq(32, 27)].concat();
        ins.seq.truncate(50);
        assert_eq!(dirty(&ins), vec![0, 1, 1]);
        assert_eq!(sites_of(&[&ins])[19].indel_informative, 0);
        // A G in the run (at 30): no shift explains it; the read is not informative where
        // the mismatch is within reach, but shows no indel either. (A C there would: the run
        // ends in one.)
        let mut snp = mk(4, 56);
        snp.seq[26] = b'G';
        assert_eq!(dirty(&snp), vec![0, 0, 0]);
        assert_eq!(
            [12, 19, 25].map(|k| sites_of(&[&snp])[k].indel_informative),
            [1, 0, 0]
        );
        snp.seq[26] = b'C';
        assert_eq!(dirty(&snp), vec![0, 1, 1]);
        // A read that starts inside the run is placed by its other end: not informative there.
        assert_eq!(one(&mk(24, 36)), vec![0, 0, 0]);
        assert_eq!(sites_of(&[&mk(24, 36)])[40].indel_informative, 1);
    }

    #[test]
    fn mate_cigars_give_reference_lengths() {
        assert_eq!(cigar_ref_len("150M"), Some(150));
        assert_eq!(cigar_ref_len("5S100M2D3I40M"), Some(142));
        assert_eq!(cigar_ref_len("*"), None);
    }
}
