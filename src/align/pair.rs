//! Pairing of mates: choose one hit per mate, proper-pair flags, MAPQ, mate fields and TLEN.
//!
//! A proper pair is the two mates on one contig in forward–reverse orientation with an
//! outer distance of at most `max_insert`. The best proper pair is taken unless the two best
//! hits taken separately score more than it plus `unpaired_penalty` (bwa-mem's rule).

use crate::align::index::Index;
use crate::align::map::{Hit, mapq};
use crate::align::record::*;
use crate::genome::{Cigar, base_ascii};

/// Pairing settings.
#[derive(Clone, Copy, Debug)]
pub struct PairParams {
    pub max_insert: u64,
    pub unpaired_penalty: i32,
    pub min_score: i32,
}

impl Default for PairParams {
    fn default() -> Self {
        PairParams {
            max_insert: 1_000,
            unpaired_penalty: 17,
            min_score: 30,
        }
    }
}

/// One mate as read: name, base codes and Phred qualities in sequencing orientation.
pub struct Mate<'a> {
    pub codes: &'a [u8],
    pub qual: &'a [u8],
    pub hits: &'a [Hit],
}

fn proper(a: &Hit, b: &Hit, max_insert: u64) -> bool {
    if a.contig != b.contig || a.reverse == b.reverse {
        return false;
    }
    let (f, r) = if a.reverse { (b, a) } else { (a, b) };
    f.pos <= r.end && r.end - f.pos <= max_insert
}

/// Chooses hits for both mates and returns their records (R1, R2).
pub fn pair(
    name: &str,
    m1: &Mate,
    m2: &Mate,
    index: &Index,
    params: &PairParams,
) -> [AlignedRead; 2] {
    let ok = |h: &&Hit| h.score >= params.min_score;
    let hits1: Vec<&Hit> = m1.hits.iter().filter(ok).collect();
    let hits2: Vec<&Hit> = m2.hits.iter().filter(ok).collect();

    // Best and second-best proper pairs (hits are ranked, so the first maximum is deterministic).
    let mut best_pair: Option<(usize, usize, i32)> = None;
    let mut second_pair: Option<i32> = None;
    for (i, a) in hits1.iter().enumerate() {
        for (j, b) in hits2.iter().enumerate() {
            if !proper(a, b, params.max_insert) {
                continue;
            }
            let s = a.score + b.score;
            match best_pair {
                Some((_, _, bs)) if s <= bs => {
                    second_pair = Some(second_pair.map_or(s, |x| x.max(s)))
                }
                _ => {
                    if let Some((_, _, bs)) = best_pair {
                        second_pair = Some(second_pair.map_or(bs, |x| x.max(bs)));
                    }
                    best_pair = Some((i, j, s));
                }
            }
        }
    }
    let unpaired = match (hits1.first(), hits2.first()) {
        (Some(a), Some(b)) => a.score + b.score - params.unpaired_penalty,
        _ => i32::MIN,
    };
    let single_q = |hits: &[&Hit], chosen: usize| -> u8 {
        let h = hits[chosen];
        let sub = hits
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != chosen)
            .map(|(_, x)| x.score)
            .max();
        mapq(
            h.score,
            sub,
            params.min_score,
            h.cigar.query_len() - clipped(&h.cigar),
        )
    };
    let (c1, c2, is_proper, q1, q2) = match best_pair {
        Some((i, j, s)) if s >= unpaired => {
            let len = hits1[i].cigar.query_len() + hits2[j].cigar.query_len();
            let q_pe = mapq(s, second_pair, 2 * params.min_score, len);
            let (s1, s2) = (single_q(&hits1, i), single_q(&hits2, j));
            let lift = |q: u8| q.max(q_pe.min(q.saturating_add(40))).min(60);
            (Some(i), Some(j), true, lift(s1), lift(s2))
        }
        _ => {
            let c1 = (!hits1.is_empty()).then_some(0);
            let c2 = (!hits2.is_empty()).then_some(0);
            let q1 = c1.map_or(0, |c| single_q(&hits1, c));
            let q2 = c2.map_or(0, |c| single_q(&hits2, c));
            (c1, c2, false, q1, q2)
        }
    };
    let h1 = c1.map(|c| hits1[c]);
    let h2 = c2.map(|c| hits2[c]);
    let mut r1 = record(name, m1, h1, q1, FIRST, index);
    let mut r2 = record(name, m2, h2, q2, LAST, index);
    link_mates(&mut r1, &mut r2, is_proper);
    [r1, r2]
}

fn clipped(c: &Cigar) -> u32 {
    let (a, b) = c.clips();
    a + b
}

fn record(
    name: &str,
    mate: &Mate,
    hit: Option<&Hit>,
    mapq: u8,
    which: u16,
    index: &Index,
) -> AlignedRead {
    let mut r = AlignedRead {
        name: name.to_string(),
        flags: PAIRED | which,
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
    };
    match hit {
        None => r.flags |= UNMAPPED,
        Some(h) => {
            r.contig = Some(h.contig);
            r.pos = h.pos;
            r.mapq = mapq;
            r.cigar = h.cigar.clone();
            let mut oriented = mate.codes.to_vec();
            if h.reverse {
                r.flags |= REVERSE;
                crate::genome::reverse_complement_into(mate.codes, &mut oriented);
                r.seq = oriented.iter().map(|&b| base_ascii(b)).collect();
                r.qual.reverse();
            }
            let (nm, md) = nm_md(&oriented, index.contig(h.contig as usize), h.pos, &h.cigar);
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
                r1.flags |= PROPER_PAIR;
                r2.flags |= PROPER_PAIR;
            }
            if r1.contig == r2.contig {
                let left = r1.pos.min(r2.pos);
                let right = r1.end().max(r2.end());
                let t = (right - left) as i64;
                let r1_left = r1.pos < r2.pos || (r1.pos == r2.pos && r1.flags & FIRST != 0);
                r1.tlen = if r1_left { t } else { -t };
                r2.tlen = -r1.tlen;
            }
        }
        (true, false) => place_unmapped(r2, r1),
        (false, true) => place_unmapped(r1, r2),
        (false, false) => {
            r1.flags |= MATE_UNMAPPED;
            r2.flags |= MATE_UNMAPPED;
            return;
        }
    }
    let info = |r: &AlignedRead| {
        (
            r.contig,
            r.pos,
            r.flags & REVERSE != 0,
            r.is_mapped().then(|| r.cigar.to_string()),
        )
    };
    let (i1, i2) = (info(r1), info(r2));
    for (r, (contig, pos, reverse, cigar)) in [(r1, i2), (r2, i1)] {
        r.mate_contig = contig;
        r.mate_pos = pos;
        if reverse {
            r.flags |= MATE_REVERSE;
        }
        if cigar.is_none() {
            r.flags |= MATE_UNMAPPED;
        }
        r.mate_cigar = cigar;
    }
}

fn place_unmapped(unmapped: &mut AlignedRead, mapped: &AlignedRead) {
    unmapped.contig = mapped.contig;
    unmapped.pos = mapped.pos;
}
