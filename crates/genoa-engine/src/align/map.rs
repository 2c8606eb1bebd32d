//! Seeding, chaining and the extension problems of single reads.
//!
//! **Seeds.** The read's (k, w) minimizers ([`crate::index::sketch`]) are looked up in the
//! index; minimizers with more than `max_occ` occurrences (repeats; occurrences on ALT contigs
//! are not counted for a minimizer that also occurs on the primary assembly) are skipped
//! unless the read has no other seed. A hit whose strand agrees with the read's minimizer is an anchor of the
//! forward read, otherwise of its reverse complement; an anchor is `(x, y)`: the global
//! reference position and the read position (on that strand) of the k-mer's first base.
//!
//! **Chains** (minimap2's chaining, integer scores): anchors sorted by (strand, contig, x, y);
//! `f(i) = max(k, max_j f(j) + min(dx, dy, k) − γ(|dx − dy|))` over the `max_lookback`
//! previous anchors `j` of the same strand and contig with `0 < dx ≤ max_dist`, `0 < dy` and
//! `|dx − dy| ≤ max_gap`, where `γ(d) = ⌊d·k/100⌋ + ⌊log2 d⌋/2` (`γ(0) = 0`); on equal scores
//! the nearest `j` wins. Chain ends are taken best score first (then lowest index); each end is
//! followed back until an anchor already in a chain; a chain scores `f(end) − f(stop)`.
//!
//! **Extension.** Each chain becomes one `banded_align` problem (local mode, bwa-mem's scoring,
//! so what does not align is soft-clipped): the whole read on the chain's strand against the
//! reference window its anchors' diagonals span, widened by the band. Chains whose diagonals
//! spread further than the narrow band go to a second batch with the wide band.
//!
//! **ALT contigs** ([`Index::is_alt`]): chains on them never push out a chain on the primary
//! assembly: `max_chains` and the `chain_drop` floor count the two kinds apart, the floor of
//! primary-assembly chains set by the best of them (bwa-mem's `mem_chain_flt` likewise never
//! drops a primary chain for an ALT one), so a read's primary-assembly hits are those it would
//! have without the ALT contigs. Hits remember whether they are on an ALT contig
//! ([`Hit::alt`]); what that changes is in [`crate::align::pair`].

use crate::genome::{Cigar, CigarOp};
use crate::index::{Index, Minimizer, SketchScratch, sketch};
use crate::kernel::banded_align::{AlignBatch, AlignResult, AlignResults};

/// Settings of seeding, chaining and extension.
#[derive(Clone, Copy, Debug)]
pub struct MapParams {
    /// Band half-width of most extensions.
    pub band: u32,
    /// Band half-width for chains whose diagonals spread wider than `band / 2`.
    pub wide_band: u32,
    /// Largest reference distance between consecutive anchors of a chain.
    pub max_dist: u64,
    /// Largest diagonal change (indel length) between consecutive anchors of a chain.
    pub max_gap: u64,
    /// Previous anchors a chain step looks at.
    pub max_lookback: usize,
    /// Minimum chain score.
    pub min_chain_score: i32,
    /// Chains extended per read (best first).
    pub max_chains: usize,
    /// Chains scoring below this fraction of the read's best are not extended.
    pub chain_drop: f32,
    /// Minimum alignment score to report a read as mapped.
    pub min_score: i32,
}

impl Default for MapParams {
    fn default() -> Self {
        MapParams {
            band: 16,
            wide_band: 64,
            max_dist: 400,
            max_gap: 100,
            max_lookback: 50,
            min_chain_score: 25,
            max_chains: 10,
            chain_drop: 0.5,
            min_score: 30,
        }
    }
}

/// A seed hit: global reference position `x` and read position `y` (on the anchor's strand).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Anchor {
    pub reverse: bool,
    pub contig: u32,
    pub x: u64,
    pub y: u32,
}

/// A chain of anchors on one strand and contig.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    pub reverse: bool,
    pub contig: u32,
    pub score: i32,
    pub anchors: u32,
    /// Smallest and largest diagonal (`x − y`, contig-local) of its anchors.
    pub min_diag: i64,
    pub max_diag: i64,
    /// Read range covered by its anchors (on its strand).
    pub query_start: u32,
    pub query_end: u32,
}

/// Reusable buffers of [`seed`] and [`chain`].
#[derive(Default)]
pub struct SeedScratch {
    sketch: SketchScratch,
    minimizers: Vec<Minimizer>,
    hashes: Vec<u64>,
    ranges: Vec<(u32, u32)>,
    pub anchors: Vec<Anchor>,
    f: Vec<i32>,
    prev: Vec<u32>,
    order: Vec<u32>,
    used: Vec<bool>,
}

/// Collects the anchors of `read` (base codes, sequencing orientation) into `scratch.anchors`.
pub fn seed(index: &Index, read: &[u8], scratch: &mut SeedScratch) {
    let (k, len) = (index.k(), read.len());
    scratch.minimizers.clear();
    scratch.anchors.clear();
    sketch(
        read,
        k,
        index.w(),
        &mut scratch.sketch,
        &mut scratch.minimizers,
    );
    let max_occ = index.max_occ() as usize;
    scratch.hashes.clear();
    scratch
        .hashes
        .extend(scratch.minimizers.iter().map(|m| m.hash));
    index.hit_ranges(&scratch.hashes, &mut scratch.ranges);
    // Repeats are skipped, unless nothing else seeds the read: then the rarest are used.
    let mut rarest = usize::MAX;
    for pass in 0..2 {
        for (m, &range) in scratch.minimizers.iter().zip(&scratch.ranges) {
            let hits = index.positions_of(range);
            // A minimizer only on ALT contigs is a repeat by its ALT occurrences.
            let n = match hits.len() {
                n if n <= max_occ => n,
                n => match index.primary_occurrences(range) {
                    0 => n,
                    primary => primary,
                },
            };
            let take = if pass == 0 { n <= max_occ } else { n == rarest };
            if n == 0 || !take {
                if pass == 0 && n > 0 {
                    rarest = rarest.min(n);
                }
                continue;
            }
            for &h in hits {
                let (gpos, strand) = (h >> 1, h & 1 == 1);
                let reverse = strand != m.reverse;
                let (c, _) = index.locate(gpos);
                let y = if reverse {
                    (len - k) as u32 - m.pos
                } else {
                    m.pos
                };
                scratch.anchors.push(Anchor {
                    reverse,
                    contig: c as u32,
                    x: gpos,
                    y,
                });
            }
        }
        if !scratch.anchors.is_empty() || rarest == usize::MAX || pass == 1 {
            break;
        }
        rarest = rarest.min(20 * max_occ); // a read made only of extreme repeats stays unmapped
    }
    scratch.anchors.sort_unstable();
}

/// Chain gap cost `γ(d)`.
#[inline]
fn gap_cost(d: u64, k: u64) -> i32 {
    if d == 0 {
        0
    } else {
        ((d * k / 100) + u64::from(d.ilog2()) / 2) as i32
    }
}

/// Chains `scratch.anchors` (sorted by [`seed`]); appends chains best first to `out`.
pub fn chain(index: &Index, params: &MapParams, scratch: &mut SeedScratch, out: &mut Vec<Chain>) {
    out.clear();
    let a = &scratch.anchors;
    let n = a.len();
    let k = index.k() as u64;
    const NONE: u32 = u32::MAX;
    scratch.f.clear();
    scratch.prev.clear();
    for i in 0..n {
        let ai = a[i];
        let mut best = k as i32;
        let mut from = NONE;
        let lo = i.saturating_sub(params.max_lookback);
        for j in (lo..i).rev() {
            let aj = a[j];
            if aj.reverse != ai.reverse || aj.contig != ai.contig {
                break;
            }
            let dx = ai.x - aj.x;
            if dx > params.max_dist {
                break;
            }
            if dx == 0 || aj.y >= ai.y {
                continue;
            }
            let dy = u64::from(ai.y - aj.y);
            let dd = dx.abs_diff(dy);
            if dd > params.max_gap {
                continue;
            }
            let s = scratch.f[j] + dx.min(dy).min(k) as i32 - gap_cost(dd, k);
            if s > best {
                best = s;
                from = j as u32;
            }
        }
        scratch.f.push(best);
        scratch.prev.push(from);
    }
    scratch.order.clear();
    scratch.order.extend(0..n as u32);
    let f = &scratch.f;
    scratch
        .order
        .sort_unstable_by(|&i, &j| f[j as usize].cmp(&f[i as usize]).then(i.cmp(&j)));
    scratch.used.clear();
    scratch.used.resize(n, false);
    for &end in &scratch.order {
        let end = end as usize;
        if scratch.used[end] {
            continue;
        }
        let mut i = end;
        let mut stop_score = 0;
        let start_anchor = a[end];
        let (mut min_d, mut max_d) = (i64::MAX, i64::MIN);
        let mut count = 0u32;
        let mut first;
        loop {
            scratch.used[i] = true;
            count += 1;
            first = i;
            let d = a[i].x as i64 - i64::from(a[i].y);
            min_d = min_d.min(d);
            max_d = max_d.max(d);
            let p = scratch.prev[i];
            if p == NONE {
                break;
            }
            if scratch.used[p as usize] {
                stop_score = f[p as usize];
                break;
            }
            i = p as usize;
        }
        let score = f[end] - stop_score;
        if score < params.min_chain_score {
            continue;
        }
        let base = index.contig_start(start_anchor.contig as usize) as i64;
        out.push(Chain {
            reverse: start_anchor.reverse,
            contig: start_anchor.contig,
            score,
            anchors: count,
            min_diag: min_d - base,
            max_diag: max_d - base,
            query_start: a[first].y,
            query_end: a[end].y + k as u32,
        });
    }
    out.sort_by(|x, y| {
        y.score
            .cmp(&x.score)
            .then(x.contig.cmp(&y.contig))
            .then(x.min_diag.cmp(&y.min_diag))
            .then(x.reverse.cmp(&y.reverse))
    });
    // The best `max_chains` chains scoring at least `chain_drop` of the best, counted apart on
    // the primary assembly and on ALT contigs; a primary-assembly chain's floor is set by the
    // best primary-assembly chain, so ALT chains never push one out.
    let Some(best) = out.first().map(|c| c.score) else {
        return;
    };
    let best_primary = out
        .iter()
        .find(|c| !index.is_alt(c.contig as usize))
        .map_or(best, |c| c.score);
    let (mut primary, mut alt) = (0usize, 0usize);
    out.retain(|c| {
        let (kept, from) = if index.is_alt(c.contig as usize) {
            (&mut alt, best)
        } else {
            (&mut primary, best_primary)
        };
        let keep = *kept < params.max_chains && c.score >= (from as f32 * params.chain_drop) as i32;
        *kept += usize::from(keep);
        keep
    });
}

/// Whether `chain` needs the wide band.
pub fn needs_wide_band(chain: &Chain, params: &MapParams) -> bool {
    (chain.max_diag - chain.min_diag) as u64 > u64::from(params.band / 2)
}

/// Adds the extension problem of `chain` to `batch` with band `band`; returns the contig-local
/// reference start of its target window. `oriented` is the read on the chain's strand.
pub fn push_problem(
    contig: &[u8],
    chain: &Chain,
    oriented: &[u8],
    band: u32,
    batch: &mut AlignBatch,
) -> u64 {
    let len = contig.len() as i64;
    let centre = (chain.min_diag + chain.max_diag).div_euclid(2);
    let start = (chain.min_diag - i64::from(band)).clamp(0, len);
    let end = (chain.max_diag + oriented.len() as i64 + i64::from(band)).clamp(start, len);
    batch.push(
        oriented,
        &contig[start as usize..end as usize],
        (centre - start) as i32,
    );
    start as u64
}

/// One extended alignment of a read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub reverse: bool,
    pub contig: u32,
    /// 0-based leftmost reference position of the first aligned base.
    pub pos: u64,
    /// 0-based exclusive end on the reference.
    pub end: u64,
    pub score: i32,
    /// Aligned read range on the forward strand of the read as sequenced.
    pub query_start: u32,
    pub query_end: u32,
    /// CIGAR including soft clips, on the forward reference strand.
    pub cigar: Cigar,
    /// Best score of the same alignment shifted by a multiple of the read's period, when the
    /// read is a tandem repeat ([`tandem_alternative`]): an equally good placement that no
    /// chain or mate can tell apart.
    pub tandem_alt: Option<i32>,
    /// On an ALT contig ([`Index::is_alt`]).
    pub alt: bool,
}

/// Shortest period (1–6 bases, a microsatellite's unit) with which `read` repeats itself: at
/// most 1 base in 10 differs from the base a period later (sequencing errors and short
/// indels break the period locally).
pub fn period(read: &[u8]) -> Option<usize> {
    if read.len() < 20 {
        return None;
    }
    (1..=6).find(|&p| {
        let allowed = (read.len() - p) / 10;
        let mut diff = 0;
        for (a, b) in read.iter().zip(&read[p..]) {
            diff += usize::from(a != b || *a > 3);
            if diff > allowed {
                return false;
            }
        }
        true
    })
}

/// For a read of period `p` (see [`period`]), the best score of the same alignment (same
/// CIGAR) moved by ±p, ±2p, … up to 30 bases on the reference (`oriented`: the read on the
/// hit's strand; bwa-mem's scores: +1 match, −4 mismatch, −1 N, gaps −(6 + length)).
pub fn tandem_alternative(hit: &Hit, oriented: &[u8], contig: &[u8], p: usize) -> Option<i32> {
    let score_at = |start: i64| -> Option<i32> {
        let mut r = usize::try_from(start).ok()?;
        let mut q = 0usize;
        let mut score = 0i32;
        for &(op, n) in &hit.cigar.0 {
            let n = n as usize;
            match op {
                CigarOp::SoftClip => q += n,
                CigarOp::Ins => {
                    q += n;
                    score -= 6 + n as i32;
                }
                CigarOp::Del => {
                    r += n;
                    score -= 6 + n as i32;
                }
                CigarOp::Match => {
                    let t = contig.get(r..r + n)?;
                    for (&a, &b) in oriented.get(q..q + n)?.iter().zip(t) {
                        score += match (a, b) {
                            (a, b) if a > 3 || b > 3 => -1,
                            (a, b) if a == b => 1,
                            _ => -4,
                        };
                    }
                    q += n;
                    r += n;
                }
            }
        }
        Some(score)
    };
    let here = score_at(hit.pos as i64)?;
    let mut best: Option<i32> = None;
    for k in 1..=(30 / p) as i64 {
        for d in [-k * p as i64, k * p as i64] {
            if let Some(sc) = score_at(hit.pos as i64 + d) {
                let alt = hit.score - here + sc;
                best = Some(best.map_or(alt, |b| b.max(alt)));
            }
        }
    }
    best
}

impl Hit {
    /// Builds a hit from a kernel result; `read_len` is the whole read's length, `index` tells
    /// whether `contig` is an ALT contig.
    pub fn from_result(
        reverse: bool,
        contig: u32,
        window_start: u64,
        r: &AlignResult,
        results: &AlignResults,
        read_len: u32,
        index: &Index,
    ) -> Hit {
        let mut cigar = Cigar::default();
        cigar.push(CigarOp::SoftClip, r.query_start);
        for &(op, n) in
            &results.cigar[r.cigar_offset as usize..(r.cigar_offset + r.cigar_len) as usize]
        {
            cigar.push(op, n);
        }
        cigar.push(CigarOp::SoftClip, read_len - r.query_end);
        let (query_start, query_end) = if reverse {
            (read_len - r.query_end, read_len - r.query_start)
        } else {
            (r.query_start, r.query_end)
        };
        Hit {
            reverse,
            contig,
            pos: window_start + u64::from(r.target_start),
            end: window_start + u64::from(r.target_end),
            score: r.score,
            query_start,
            query_end,
            cigar,
            tandem_alt: None,
            alt: index.is_alt(contig as usize),
        }
    }

    /// Aligned read bases (excluding soft clips).
    pub fn aligned_len(&self) -> u32 {
        self.query_end - self.query_start
    }

    /// Fraction of the shorter of the two read ranges that the two hits share.
    pub fn query_overlap(&self, other: &Hit) -> f32 {
        let (shared, shorter) = self.query_shared(other);
        shared as f32 / shorter as f32
    }

    /// Bases of the two hits' read ranges they share, and the shorter range's length (≥ 1).
    fn query_shared(&self, other: &Hit) -> (u64, u64) {
        shared(
            (self.query_start.into(), self.query_end.into()),
            (other.query_start.into(), other.query_end.into()),
        )
    }
}

/// Bases two ranges `[start, end)` share, and the shorter one's length (at least 1).
fn shared(a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    let overlap = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    (overlap, (a.1 - a.0).min(b.1 - b.0).max(1))
}

/// Sorts hits best first (score, then primary-assembly before ALT contigs as bwa-mem does, then
/// contig, position and strand, for determinism) and drops
/// redundant ones, as bwa-mem does (`mem_sort_dedup_patch`, `mask_level_redun` 0.95): a hit
/// that shares more than 95 % of both its reference span and its read range with a better hit
/// on the same strand is the same placement aligned another way (a deletion clipped instead
/// of gapped, two chains extended to one place), not an alternative, and must not lower MAPQ.
/// Hits shifted further stay: in a tandem repeat they are the read's equally good
/// alternatives, and MAPQ must see them (a read that is all repeat also gets
/// [`tandem_alternative`]).
pub fn rank_hits(hits: &mut Vec<Hit>) {
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.alt.cmp(&b.alt))
            .then(a.contig.cmp(&b.contig))
            .then(a.pos.cmp(&b.pos))
            .then(a.reverse.cmp(&b.reverse))
            .then(a.query_start.cmp(&b.query_start))
    });
    let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
    for h in hits.drain(..) {
        if h.end <= h.pos {
            continue;
        }
        if !kept.iter().any(|k| k.is_redundant(&h)) {
            kept.push(h);
        }
    }
    *hits = kept;
}

/// Share of the shorter span above which two hits are one placement (bwa's
/// `mask_level_redun`).
const REDUNDANT: f64 = 0.95;

impl Hit {
    /// Whether `other` is this hit's placement aligned another way (see [`rank_hits`]).
    fn is_redundant(&self, other: &Hit) -> bool {
        if self.reverse != other.reverse || self.contig != other.contig {
            return false;
        }
        let most = |(overlap, shorter): (u64, u64)| overlap as f64 > REDUNDANT * shorter as f64;
        most(shared((self.pos, self.end), (other.pos, other.end))) && most(self.query_shared(other))
    }
}

/// MAPQ of a best score given the runner-up (bwa-mem's shape: 30·(1 − sub/best)·ln(len)),
/// lowered when several alternatives score close to the runner-up.
pub fn mapq(best: i32, second: Option<i32>, min_score: i32, aligned_len: u32, n_sub: u32) -> u8 {
    let sub = second.unwrap_or(min_score).max(min_score);
    if best <= 0 || sub >= best {
        return 0;
    }
    let mut q =
        30.0 * (1.0 - f64::from(sub) / f64::from(best)) * f64::from(aligned_len.max(2)).ln();
    if n_sub > 0 {
        q -= 4.343 * f64::from(n_sub + 1).ln();
    }
    q.round().clamp(0.0, 60.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::random_bases;
    use crate::genome::{Cigar, CigarOp, reverse_complement_into};
    use crate::io::reference::{Contig, Reference};

    /// The index of contigs `c0`, `c1`, ….
    fn index_of(seqs: &[Vec<u8>]) -> Index {
        let named: Vec<(String, Vec<u8>)> = seqs
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("c{i}"), s.clone()))
            .collect();
        named_index(&named)
    }

    /// The index of named contigs (`*_alt` ones are ALT contigs).
    fn named_index(contigs: &[(String, Vec<u8>)]) -> Index {
        let r = Reference {
            path: "t.fa".into(),
            contigs: contigs
                .iter()
                .map(|(name, s)| Contig {
                    name: name.clone(),
                    codes: s.clone(),
                    md5: "0".repeat(32),
                    refget: String::new(),
                })
                .collect(),
        };
        Index::build(&r).unwrap()
    }

    #[test]
    fn a_read_chains_to_its_origin_on_either_strand() {
        let a = random_bases(&mut fastrand::Rng::with_seed(3), 20_000);
        let b = random_bases(&mut fastrand::Rng::with_seed(4), 20_000);
        let index = index_of(&[a.clone(), b.clone()]);
        let params = MapParams::default();
        let mut s = SeedScratch::default();
        let mut chains = Vec::new();
        // Forward read from contig 1 at 5000 with a 3-base deletion at read position 80.
        let mut read: Vec<u8> = b[5000..5080].to_vec();
        read.extend_from_slice(&b[5083..5153]);
        seed(&index, &read, &mut s);
        chain(&index, &params, &mut s, &mut chains);
        assert_eq!(chains.len(), 1, "{chains:?}");
        let c = chains[0];
        assert_eq!(
            (c.reverse, c.contig, c.min_diag, c.max_diag),
            (false, 1, 5000, 5003)
        );
        assert!(needs_wide_band(&c, &params) == (3 > params.band / 2));
        // The same read reverse-complemented.
        let mut rc = Vec::new();
        reverse_complement_into(&read, &mut rc);
        seed(&index, &rc, &mut s);
        chain(&index, &params, &mut s, &mut chains);
        assert_eq!(chains.len(), 1);
        assert_eq!(
            (
                chains[0].reverse,
                chains[0].contig,
                chains[0].min_diag,
                chains[0].max_diag
            ),
            (true, 1, 5000, 5003)
        );
        // A read from nowhere has no chain.
        seed(
            &index,
            &random_bases(&mut fastrand::Rng::with_seed(99), 150),
            &mut s,
        );
        chain(&index, &params, &mut s, &mut chains);
        assert!(chains.is_empty());
    }

    #[test]
    fn a_repeat_gives_one_chain_per_copy() {
        let unit = random_bases(&mut fastrand::Rng::with_seed(5), 400);
        let mut g = random_bases(&mut fastrand::Rng::with_seed(6), 3000);
        g.extend_from_slice(&unit);
        g.extend(random_bases(&mut fastrand::Rng::with_seed(7), 3000));
        g.extend_from_slice(&unit);
        g.extend(random_bases(&mut fastrand::Rng::with_seed(8), 3000));
        let index = index_of(&[g]);
        let mut s = SeedScratch::default();
        let mut chains = Vec::new();
        seed(&index, &unit[100..250], &mut s);
        chain(&index, &MapParams::default(), &mut s, &mut chains);
        assert_eq!(chains.len(), 2);
        assert_eq!(chains[0].score, chains[1].score);
        assert_eq!(chains[0].min_diag, 3100);
        assert_eq!(chains[1].min_diag, 6500);
    }

    #[test]
    fn a_read_inside_a_microsatellite_has_equal_shifted_alternatives() {
        // Unique flank, 200 bases of (CT)n, unique flank.
        let mut contig = random_bases(&mut fastrand::Rng::with_seed(41), 300);
        contig.extend((0..200).map(|i| if i % 2 == 0 { 1 } else { 3 }));
        contig.extend(random_bases(&mut fastrand::Rng::with_seed(42), 300));
        let read = contig[330..450].to_vec();
        assert_eq!(period(&read), Some(2));
        assert_eq!(
            period(&random_bases(&mut fastrand::Rng::with_seed(43), 150)),
            None
        );
        let hit = Hit {
            reverse: false,
            contig: 0,
            pos: 330,
            end: 450,
            score: 130,
            query_start: 0,
            query_end: 120,
            cigar: Cigar(vec![(CigarOp::Match, 120)]),
            tandem_alt: None,
            alt: false,
        };
        // Shifts of up to 30 bases stay inside the repeat: as good as the hit itself.
        assert_eq!(tandem_alternative(&hit, &read, &contig, 2), Some(130));
        // Half of the read in the unique flank: every shift costs mismatches.
        let edge = contig[250..370].to_vec();
        let hit = Hit {
            pos: 250,
            end: 370,
            ..hit
        };
        let alt = tandem_alternative(&hit, &edge, &contig, 2).unwrap();
        assert!(alt < 130 - 20, "{alt}");
    }

    #[test]
    fn a_hit_aligned_another_way_at_the_same_place_is_not_an_alternative() {
        let hit =
            |pos: u64, end: u64, query_end: u32, score: i32, cigar: Vec<(CigarOp, u32)>| Hit {
                reverse: false,
                contig: 0,
                pos,
                end,
                score,
                query_start: 0,
                query_end,
                cigar: Cigar(cigar),
                tandem_alt: None,
                alt: false,
            };
        use CigarOp::*;
        // A read with a 12-base deletion near its end, in a repeat: gapped (score 132) or
        // clipped before the deletion (131) — one placement, which must not cost MAPQ.
        let gapped = hit(
            1000,
            1162,
            150,
            132,
            vec![(Match, 86), (Del, 12), (Match, 64)],
        );
        let clipped = hit(1000, 1136, 136, 131, vec![(Match, 136), (SoftClip, 14)]);
        // The same read 20 bases on in the repeat: a real alternative.
        let shifted = hit(
            1020,
            1182,
            150,
            130,
            vec![(Match, 86), (Del, 12), (Match, 64)],
        );
        // The other strand is never the same placement.
        let reverse = Hit {
            reverse: true,
            ..clipped.clone()
        };
        let mut hits = vec![clipped, shifted.clone(), gapped.clone(), reverse.clone()];
        rank_hits(&mut hits);
        let kept: Vec<(u64, bool, i32)> =
            hits.iter().map(|h| (h.pos, h.reverse, h.score)).collect();
        assert_eq!(
            kept,
            vec![(1000, false, 132), (1000, true, 131), (1020, false, 130)]
        );
    }

    #[test]
    fn alt_chains_do_not_push_out_primary_assembly_chains() {
        // A 150-base region on the primary assembly, with a substitution every 30 bases, and
        // 12 exact ALT copies of it: the read (the ALT version) chains best on every ALT copy.
        let mut rng = fastrand::Rng::with_seed(21);
        let region = random_bases(&mut rng, 150);
        let mut primary = region.clone();
        for i in (15..150).step_by(30) {
            primary[i] = (primary[i] + 1) % 4;
        }
        let flank = |rng: &mut fastrand::Rng| random_bases(rng, 300);
        let mut contigs = vec![(
            "chr1".to_string(),
            [flank(&mut rng), primary, flank(&mut rng)].concat(),
        )];
        for i in 0..12 {
            let copy = [flank(&mut rng), region.clone(), flank(&mut rng)].concat();
            contigs.push((format!("chr1_{i}_alt"), copy));
        }
        let index = named_index(&contigs);
        let params = MapParams::default();
        let mut s = SeedScratch::default();
        let mut chains = Vec::new();
        seed(&index, &region, &mut s);
        chain(&index, &params, &mut s, &mut chains);
        let (alt, primary): (Vec<&Chain>, Vec<&Chain>) =
            chains.iter().partition(|c| index.is_alt(c.contig as usize));
        assert_eq!(alt.len(), params.max_chains);
        assert_eq!(primary.len(), 1);
        assert_eq!(primary[0].contig, 0);
        assert!(primary[0].score < alt[0].score);
    }

    #[test]
    fn alt_copies_do_not_make_a_minimizer_a_repeat() {
        // 100 bases once on the primary assembly and on 100 ALT contigs: with its ALT copies a
        // minimizer there occurs more than max_occ (100) times, yet seeds a read from chr1.
        // (chr1 is long enough for those minimizers to be rarer than the index's 0.9998
        // quantile, so that max_occ stays at its floor.)
        let mut rng = fastrand::Rng::with_seed(22);
        let chr1 = random_bases(&mut rng, 600_000);
        let shared = chr1[1_000..1_100].to_vec();
        let mut contigs = vec![("chr1".to_string(), chr1.clone())];
        for i in 0..100 {
            let copy = [
                random_bases(&mut rng, 100),
                shared.clone(),
                random_bases(&mut rng, 100),
            ];
            contigs.push((format!("chr1_{i}_alt"), copy.concat()));
        }
        let index = named_index(&contigs);
        assert_eq!(index.max_occ(), 100);
        let mut s = SeedScratch::default();
        seed(&index, &chr1[950..1_100], &mut s);
        let shared_on_chr1 = s
            .anchors
            .iter()
            .filter(|a| a.contig == 0 && a.y >= 50)
            .count();
        assert!(shared_on_chr1 > 0, "{:?}", s.anchors);
        assert!(s.anchors.iter().any(|a| a.contig > 0));
    }

    #[test]
    fn gap_cost_grows_with_the_gap() {
        assert_eq!(gap_cost(0, 21), 0);
        assert!(gap_cost(1, 21) < gap_cost(10, 21));
        assert!(gap_cost(10, 21) < gap_cost(100, 21));
    }
}
