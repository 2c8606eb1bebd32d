//! Pairing of mates: the insert-size model, the choice of one primary hit per mate, MAPQ,
//! secondary and supplementary records (with `SA`), mate fields and TLEN.
//!
//! **Insert sizes** are estimated once per run from the first [`CALIBRATION_PAIRS`] pairs (not
//! per batch, so the output does not depend on the batch size): pairs whose mates each have
//! one clear hit, forward–reverse on one contig, within 10 kb. As bwa-mem: the quartiles give
//! the inter-quartile range; pairs outside `[Q1 − 2·IQR, Q3 + 2·IQR]` are dropped before the
//! mean and standard deviation are taken; a proper pair's outer distance lies in
//! `[max(1, Q1 − 3·IQR), max(Q3 + 3·IQR, mean + 4·sd)]`.
//!
//! **Choice.** Every forward–reverse combination of the mates' hits within the proper range
//! scores `s1 + s2 − min(unpaired_penalty, ⌊0.721·z²/2⌋)` with `z = (insert − mean)/sd` (the
//! log-likelihood of the insert under a normal model, in alignment-score units as bwa-mem
//! does); the best combination is taken unless the mates' best hits taken apart score more
//! than it plus `unpaired_penalty`. Among equal best combinations (or equal best hits of an
//! unpaired mate) an FNV-1a hash of the read name chooses: reads of an exact repeat spread
//! over its copies as bwa-mem's random choice does, but the same way on every run.
//!
//! **Other records.** A mate's other hits that share at least half of the primary's read
//! range are alternatives: they set its MAPQ and, as bwa-mem does by default, those scoring at
//! least [`XA_DROP`] of the primary are listed in its `XA` tag when there are at most
//! `max_secondary` of them (more: a repeat, none listed). With
//! [`PairParams::secondary_records`] (`--secondary`, bwa's `-a` in spirit) the best
//! `max_secondary` of them scoring at least `secondary_ratio` of the primary are written as
//! secondary records instead (flag 0x100, no SEQ/QUAL). Hits on a different part of the read (a chimeric or split read) are written as
//! supplementary records (0x800, soft-clipped), and every part names the others in `SA`.
//!
//! **ALT contigs** (bwa-mem's ALT-aware rules, `mem_mark_primary_se` and `mem_sam_pe`). A
//! mate's primary record is chosen among its hits on the primary assembly, and only when it
//! has none there among its ALT hits ([`placements`]): pairing, the choice and MAPQ above
//! see only those, so a hit on an ALT copy of the read's region is no competing placement
//! and MAPQ is what it would be without the ALT contigs, even where the ALT hit scores
//! higher. A read that maps only to ALT contigs keeps its ALT placement, its MAPQ computed
//! over those hits. ALT hits are never secondary records: those sharing at least half of a
//! written part's read range and scoring at least [`XA_DROP`] of it are listed in that
//! record's `XA` tag (bwa's `rname,±pos,CIGAR,NM;`), best first; an ALT hit on a part of the
//! read no other hit covers is a supplementary record like any other part.

use crate::align::map::{Hit, mapq};
use crate::align::record::{nm_md, xa_entry};
use crate::genome::{Cigar, base_ascii};
use crate::io::reference::Reference;
use crate::model::alignment::{AlignedRead, Flags};

/// Pairs whose hits calibrate the insert-size model.
pub const CALIBRATION_PAIRS: usize = 2_048;

/// ALT hits scoring at least this fraction of a record's score are listed in its `XA` (bwa's
/// `XA_drop_ratio`).
pub const XA_DROP: f32 = 0.8;

/// The insert-size distribution and the proper-pair range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InsertModel {
    pub mean: f64,
    pub sd: f64,
    /// Outer distances in `[low, high]` make a proper pair.
    pub low: u64,
    pub high: u64,
    /// Pairs the estimate came from (0: the fallback model).
    pub pairs: usize,
}

impl InsertModel {
    /// The model used when too few pairs calibrate one (a 2×150 library of ~400 bp).
    pub fn fallback() -> Self {
        InsertModel {
            mean: 400.0,
            sd: 150.0,
            low: 1,
            high: 1_000,
            pairs: 0,
        }
    }

    /// Estimates the model from outer distances of confidently placed pairs (any order).
    pub fn estimate(inserts: &mut [u64]) -> Self {
        if inserts.len() < 25 {
            return InsertModel::fallback();
        }
        inserts.sort_unstable();
        let q = |f: f64| inserts[((inserts.len() - 1) as f64 * f) as usize] as f64;
        let (q1, q3) = (q(0.25), q(0.75));
        let iqr = q3 - q1;
        let (lo, hi) = (q1 - 2.0 * iqr, q3 + 2.0 * iqr);
        let kept: Vec<f64> = inserts
            .iter()
            .map(|&x| x as f64)
            .filter(|&x| x >= lo && x <= hi)
            .collect();
        let n = kept.len() as f64;
        let mean = kept.iter().sum::<f64>() / n;
        let var = kept.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        let sd = var.sqrt().max(1.0);
        InsertModel {
            mean,
            sd,
            low: (q1 - 3.0 * iqr).max(1.0) as u64,
            high: (q3 + 3.0 * iqr).max(mean + 4.0 * sd) as u64,
            pairs: inserts.len(),
        }
    }

    /// Score penalty of an insert (see the module header).
    pub fn penalty(&self, insert: u64, cap: i32) -> i32 {
        let z = (insert as f64 - self.mean) / self.sd;
        let p = (0.721 * z * z / 2.0).floor();
        if p >= f64::from(cap) { cap } else { p as i32 }
    }
}

/// Pairing settings.
#[derive(Clone, Copy, Debug)]
pub struct PairParams {
    pub unpaired_penalty: i32,
    pub min_score: i32,
    /// Write alternatives as secondary records (else they go to `XA`).
    pub secondary_records: bool,
    /// Secondary records (or non-ALT `XA` entries) per mate, at most.
    pub max_secondary: usize,
    /// Secondary records need at least this fraction of the primary's score.
    pub secondary_ratio: f32,
    /// Supplementary records per mate, at most.
    pub max_supplementary: usize,
}

impl Default for PairParams {
    fn default() -> Self {
        PairParams {
            unpaired_penalty: 17,
            min_score: 30,
            secondary_records: false,
            max_secondary: 5,
            secondary_ratio: 0.9,
            max_supplementary: 2,
        }
    }
}

/// One mate as read: base codes and Phred qualities in sequencing orientation, and its hits
/// (ranked by [`crate::align::map::rank_hits`]).
pub struct Mate<'a> {
    pub codes: &'a [u8],
    pub qual: &'a [u8],
    pub hits: &'a [Hit],
}

/// The hits a mate's primary record is chosen from, in their order: those on the primary
/// assembly, or all of them (its ALT hits) when none is there.
pub fn placements<'h, I>(hits: I) -> impl Iterator<Item = &'h Hit> + Clone
where
    I: IntoIterator<Item = &'h Hit>,
    I::IntoIter: Clone,
{
    let hits = hits.into_iter();
    let primary = hits.clone().any(|h| !h.alt);
    hits.filter(move |h| !primary || !h.alt)
}

/// Outer distance of a forward–reverse pair on one contig, if `a` and `b` are one.
pub fn insert_size(a: &Hit, b: &Hit) -> Option<u64> {
    if a.contig != b.contig || a.reverse == b.reverse {
        return None;
    }
    let (f, r) = if a.reverse { (b, a) } else { (a, b) };
    (f.pos < r.end).then(|| r.end - f.pos)
}

/// Whether `a` and `b` form a proper pair under `model`.
pub fn proper(a: &Hit, b: &Hit, model: &InsertModel) -> bool {
    insert_size(a, b).is_some_and(|d| d >= model.low && d <= model.high)
}

/// The reference window where the mate of `hit` lies if the two form a proper pair:
/// (contig-local start, end, whether the mate is reverse).
pub fn rescue_window(hit: &Hit, model: &InsertModel, contig_len: u64) -> (u64, u64, bool) {
    if hit.reverse {
        let end = hit.end.min(contig_len);
        (end.saturating_sub(model.high), end, false)
    } else {
        (hit.pos, (hit.pos + model.high).min(contig_len), true)
    }
}

/// Chooses primary hits, writes every record of the pair (R1 primary, R2 primary, then
/// secondary and supplementary records) to `out`.
pub fn pair(
    name: &str,
    m1: &Mate,
    m2: &Mate,
    reference: &Reference,
    model: &InsertModel,
    params: &PairParams,
    out: &mut Vec<AlignedRead>,
) {
    let ok = |h: &&Hit| h.score >= params.min_score;
    let hits1: Vec<&Hit> = placements(m1.hits.iter().filter(ok)).collect();
    let hits2: Vec<&Hit> = placements(m2.hits.iter().filter(ok)).collect();

    // Every proper combination; among equal best ones the read name's hash chooses, so
    // reads of an exact repeat spread over its copies the same way on every run.
    let mut combos: Vec<(usize, usize, i32)> = Vec::new();
    for (i, a) in hits1.iter().enumerate() {
        for (j, b) in hits2.iter().enumerate() {
            let Some(d) = insert_size(a, b) else { continue };
            if d < model.low || d > model.high {
                continue;
            }
            combos.push((
                i,
                j,
                a.score + b.score - model.penalty(d, params.unpaired_penalty),
            ));
        }
    }
    let tie = name_hash(name);
    let best_pair = combos.iter().map(|c| c.2).max().map(|bs| {
        let ties: Vec<&(usize, usize, i32)> = combos.iter().filter(|c| c.2 == bs).collect();
        *ties[(tie % ties.len() as u64) as usize]
    });
    let second_pair = best_pair.and_then(|(bi, bj, _)| {
        combos
            .iter()
            .filter(|c| (c.0, c.1) != (bi, bj))
            .map(|c| c.2)
            .max()
    });
    let unpaired = match (hits1.first(), hits2.first()) {
        (Some(a), Some(b)) => a.score + b.score - params.unpaired_penalty,
        _ => i32::MIN,
    };
    let (c1, c2, is_proper, q1, q2) = match best_pair {
        Some((i, j, s)) if s >= unpaired => {
            // bwa-mem's pair MAPQ: 6.02 per score point (one point = a 10^0.6 likelihood
            // ratio at match score 1) of the best pair over the runner-up.
            let q_pe = match second_pair {
                None => 60,
                Some(sub) => (6.02 * f64::from(s - sub)).round().clamp(0.0, 60.0) as u8,
            };
            let (s1, s2) = (single_q(&hits1, i, params), single_q(&hits2, j, params));
            // Pairing lifts a mate's MAPQ, except where the mate is a tandem repeat that can
            // shift by its period: the insert size cannot tell those placements apart.
            let lift = |q: u8, h: &Hit| {
                if h.tandem_alt.is_some_and(|a| a + 5 >= h.score) {
                    q
                } else {
                    q.max(q_pe.min(q.saturating_add(40))).min(60)
                }
            };
            (
                Some(i),
                Some(j),
                true,
                lift(s1, hits1[i]),
                lift(s2, hits2[j]),
            )
        }
        _ => {
            let c1 = pick_best(&hits1, tie);
            let c2 = pick_best(&hits2, tie);
            let q1 = c1.map_or(0, |c| single_q(&hits1, c, params));
            let q2 = c2.map_or(0, |c| single_q(&hits2, c, params));
            (c1, c2, false, q1, q2)
        }
    };
    let h1 = c1.map(|c| hits1[c]);
    let h2 = c2.map(|c| hits2[c]);
    let mut r1 = record(name, m1, h1, q1, Flags::FIRST_SEGMENT, reference);
    let mut r2 = record(name, m2, h2, q2, Flags::LAST_SEGMENT, reference);
    link_mates(&mut r1, &mut r2, is_proper);
    let first = out.len();
    out.push(r1);
    out.push(r2);
    for (mate, hits, chosen, which, at) in [
        (m1, &hits1, c1, Flags::FIRST_SEGMENT, first),
        (m2, &hits2, c2, Flags::LAST_SEGMENT, first + 1),
    ] {
        if let Some(chosen) = chosen {
            // The ALT hits above the floor that are not placements (none when the mate maps
            // only to ALT contigs).
            let alts: Vec<&Hit> = if hits.iter().all(|h| h.alt) {
                Vec::new()
            } else {
                mate.hits.iter().filter(ok).filter(|h| h.alt).collect()
            };
            let primary = Primary {
                mate,
                hits,
                alts: &alts,
                chosen,
                which,
                at,
            };
            others(name, &primary, reference, params, out);
        }
    }
}

/// FNV-1a hash of a read name: the deterministic tie-break between equal hits.
fn name_hash(name: &str) -> u64 {
    crate::genome::fnv1a(name.bytes())
}

/// Index of one of the best-scoring hits (ranked first), chosen among equals by `tie`.
fn pick_best(hits: &[&Hit], tie: u64) -> Option<usize> {
    let best = hits.first()?.score;
    let n = hits.iter().take_while(|h| h.score == best).count();
    Some((tie % n as u64) as usize)
}

/// MAPQ of `hits[chosen]` from the alternatives that share its read range.
fn single_q(hits: &[&Hit], chosen: usize, params: &PairParams) -> u8 {
    let h = hits[chosen];
    let mut sub: Option<i32> = h.tandem_alt;
    let mut n_sub = u32::from(h.tandem_alt.is_some_and(|a| a + 5 >= h.score));
    for (k, x) in hits.iter().enumerate() {
        if k == chosen || x.query_overlap(h) < 0.5 {
            continue;
        }
        sub = Some(sub.map_or(x.score, |s| s.max(x.score)));
        if x.score + 5 >= h.score {
            n_sub += 1;
        }
    }
    mapq(
        h.score,
        sub,
        params.min_score,
        h.aligned_len(),
        n_sub.max(1) - 1,
    )
}

/// One mate's primary record and the hits it was chosen from.
struct Primary<'a> {
    mate: &'a Mate<'a>,
    /// The mate's placements ([`placements`]), best first; `hits[chosen]` is the primary's.
    hits: &'a [&'a Hit],
    /// Its ALT hits that are not placements, best first.
    alts: &'a [&'a Hit],
    chosen: usize,
    /// `FIRST_SEGMENT` or `LAST_SEGMENT`.
    which: Flags,
    /// Index of the primary record in `out`.
    at: usize,
}

/// Secondary and supplementary records of one mate whose primary is `out[p.at]`, and the
/// `XA` tags of its parts.
fn others(
    name: &str,
    p: &Primary,
    reference: &Reference,
    params: &PairParams,
    out: &mut Vec<AlignedRead>,
) {
    let Primary {
        mate,
        hits,
        alts,
        chosen,
        which,
        at,
    } = *p;
    let primary = hits[chosen];
    let mut secondary = 0;
    let mut parts: Vec<usize> = vec![at]; // record indexes of the primary and supplementaries
    let mut part_hits: Vec<&Hit> = vec![primary];
    let mut listed: Vec<Vec<&Hit>> = vec![Vec::new()]; // per part, its XA hits
    let mut alternatives: Vec<&Hit> = Vec::new(); // the primary's XA hits off ALT contigs
    let all = hits
        .iter()
        .map(|&h| (h, true))
        .chain(alts.iter().map(|&h| (h, false)));
    for (k, (h, placement)) in all.enumerate() {
        if k == chosen {
            continue;
        }
        // An ALT hit on a part already written: that part's XA, if it scores close enough.
        if h.alt
            && let Some(i) = part_hits.iter().position(|p| h.query_overlap(p) >= 0.5)
        {
            if h.score as f32 >= XA_DROP * part_hits[i].score as f32 {
                listed[i].push(h);
            }
            continue;
        }
        if h.query_overlap(primary) >= 0.5 {
            if !params.secondary_records {
                if h.score as f32 >= XA_DROP * primary.score as f32 {
                    alternatives.push(h);
                }
            } else if secondary < params.max_secondary
                && h.score as f32 >= params.secondary_ratio * primary.score as f32
            {
                secondary += 1;
                let mut r = record(name, mate, Some(h), 0, which | Flags::SECONDARY, reference);
                r.seq.clear();
                r.qual.clear();
                copy_mate_fields(&out[at], &mut r);
                out.push(r);
            }
        } else if parts.len() <= params.max_supplementary
            && part_hits.iter().all(|p| h.query_overlap(p) < 0.5)
        {
            // An ALT part's MAPQ counts every hit (bwa: ALT hits compete with all).
            let q = if placement {
                single_q(hits, k, params)
            } else {
                let every: Vec<&Hit> = hits.iter().chain(alts).copied().collect();
                single_q(&every, k, params)
            }
            .min(out[at].mapq);
            let mut r = record(
                name,
                mate,
                Some(h),
                q,
                which | Flags::SUPPLEMENTARY,
                reference,
            );
            copy_mate_fields(&out[at], &mut r);
            parts.push(out.len());
            part_hits.push(h);
            listed.push(Vec::new());
            out.push(r);
        }
    }
    // bwa's rule: a read with more alternatives than that is a repeat; none are listed.
    if alternatives.len() <= params.max_secondary {
        listed[0].splice(0..0, alternatives);
    }
    for (&part, hits) in parts.iter().zip(&listed) {
        if !hits.is_empty() {
            let mut xa = String::new();
            for h in hits {
                let name = &reference.contigs[h.contig as usize].name;
                xa_entry(&mut xa, name, h, nm_of(mate, h, reference));
            }
            out[part].xa = Some(xa);
        }
    }
    if parts.len() > 1 {
        let describe = |r: &AlignedRead| {
            format!(
                "{},{},{},{},{},{};",
                reference.contigs[r.contig.unwrap_or(0) as usize].name,
                r.pos + 1,
                if r.flags.intersects(Flags::REVERSE_COMPLEMENTED) {
                    '-'
                } else {
                    '+'
                },
                r.cigar,
                r.mapq,
                r.nm
            )
        };
        let texts: Vec<String> = parts.iter().map(|&p| describe(&out[p])).collect();
        for (i, &p) in parts.iter().enumerate() {
            let sa: String = texts
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, t)| t.as_str())
                .collect();
            out[p].sa = Some(sa);
        }
    }
}

/// Mate fields of a secondary or supplementary record: those of its primary.
fn copy_mate_fields(primary: &AlignedRead, r: &mut AlignedRead) {
    r.flags |= primary.flags
        & (Flags::PROPERLY_SEGMENTED | Flags::MATE_UNMAPPED | Flags::MATE_REVERSE_COMPLEMENTED);
    r.mate_contig = primary.mate_contig;
    r.mate_pos = primary.mate_pos;
    r.mate_cigar = primary.mate_cigar.clone();
    r.tlen = 0;
}

/// The read of `mate` on the strand of `hit`.
fn oriented(mate: &Mate, hit: &Hit) -> Vec<u8> {
    if !hit.reverse {
        return mate.codes.to_vec();
    }
    let mut rc = Vec::with_capacity(mate.codes.len());
    crate::genome::reverse_complement_into(mate.codes, &mut rc);
    rc
}

/// `NM` of `hit`.
fn nm_of(mate: &Mate, hit: &Hit, reference: &Reference) -> u32 {
    let contig = &reference.contigs[hit.contig as usize].codes;
    nm_md(&oriented(mate, hit), contig, hit.pos, &hit.cigar).0
}

fn record(
    name: &str,
    mate: &Mate,
    hit: Option<&Hit>,
    mapq: u8,
    which: Flags,
    reference: &Reference,
) -> AlignedRead {
    let mut r = AlignedRead {
        name: name.to_string(),
        flags: Flags::SEGMENTED | which,
        contig: None,
        pos: 0,
        mapq: 0,
        cigar: Cigar::default(),
        mate_contig: None,
        mate_pos: 0,
        tlen: 0,
        seq: mate.codes.iter().map(|&b| base_ascii(b)).collect(),
        qual: mate.qual.to_vec(),
        nm: 0,
        md: String::new(),
        mate_cigar: None,
        sa: None,
        xa: None,
    };
    match hit {
        None => r.flags |= Flags::UNMAPPED,
        Some(h) => {
            r.contig = Some(h.contig);
            r.pos = h.pos;
            r.mapq = mapq;
            r.cigar = h.cigar.clone();
            let oriented = oriented(mate, h);
            if h.reverse {
                r.flags |= Flags::REVERSE_COMPLEMENTED;
                r.seq = oriented.iter().map(|&b| base_ascii(b)).collect();
                r.qual.reverse();
            }
            let (nm, md) = nm_md(
                &oriented,
                &reference.contigs[h.contig as usize].codes,
                h.pos,
                &h.cigar,
            );
            r.nm = nm;
            r.md = md;
        }
    }
    r
}

/// Fills mate fields, TLEN and the pair flags of two mates; unmapped mates are placed at their
/// mapped mate's position, as the SAM specification recommends.
fn link_mates(r1: &mut AlignedRead, r2: &mut AlignedRead, is_proper: bool) {
    match (r1.is_mapped(), r2.is_mapped()) {
        (true, true) => {
            if is_proper {
                r1.flags |= Flags::PROPERLY_SEGMENTED;
                r2.flags |= Flags::PROPERLY_SEGMENTED;
            }
            if r1.contig == r2.contig {
                let left = r1.pos.min(r2.pos);
                let right = r1.end().max(r2.end());
                let t = (right - left) as i64;
                let r1_left = r1.pos < r2.pos
                    || (r1.pos == r2.pos && r1.flags.intersects(Flags::FIRST_SEGMENT));
                r1.tlen = if r1_left { t } else { -t };
                r2.tlen = -r1.tlen;
            }
        }
        (true, false) => place_unmapped(r2, r1),
        (false, true) => place_unmapped(r1, r2),
        (false, false) => {
            r1.flags |= Flags::MATE_UNMAPPED;
            r2.flags |= Flags::MATE_UNMAPPED;
            return;
        }
    }
    let info = |r: &AlignedRead| {
        (
            r.contig,
            r.pos,
            r.flags.intersects(Flags::REVERSE_COMPLEMENTED),
            r.is_mapped().then(|| r.cigar.to_string()),
        )
    };
    let (i1, i2) = (info(r1), info(r2));
    for (r, (contig, pos, reverse, cigar)) in [(r1, i2), (r2, i1)] {
        r.mate_contig = contig;
        r.mate_pos = pos;
        if reverse {
            r.flags |= Flags::MATE_REVERSE_COMPLEMENTED;
        }
        if cigar.is_none() {
            r.flags |= Flags::MATE_UNMAPPED;
        }
        r.mate_cigar = cigar;
    }
}

fn place_unmapped(unmapped: &mut AlignedRead, mapped: &AlignedRead) {
    unmapped.contig = mapped.contig;
    unmapped.pos = mapped.pos;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_model_follows_quartiles_and_drops_outliers() {
        let mut v: Vec<u64> = (0..1000).map(|i| 350 + (i % 101)).collect();
        v.extend([5, 9000, 20_000]);
        let m = InsertModel::estimate(&mut v);
        assert!((m.mean - 400.0).abs() < 1.0, "{m:?}");
        assert!(m.sd > 25.0 && m.sd < 35.0, "{m:?}");
        assert!(m.low < 350 && m.high > 450 && m.high < 700, "{m:?}");
        assert_eq!(m.penalty(400, 17), 0);
        assert!(m.penalty(500, 17) > 0);
        assert_eq!(m.penalty(5000, 17), 17);
        assert_eq!(
            InsertModel::estimate(&mut [400; 3]),
            InsertModel::fallback()
        );
    }
}
