//! Active regions: where the pileup shows an indel candidate, or SNP candidates close together,
//! the reads are assembled into haplotypes (`assembly`), the haplotypes aligned to the
//! reference (`banded_align`, global, HaplotypeCaller's haplotype-to-reference scoring) and cut
//! into variant events, and every event genotyped from read × haplotype likelihoods
//! (`pair_hmm`): a read's likelihood for an allele is its best over the haplotypes that carry
//! it, as HaplotypeCaller marginalises. A chunk's regions share one `banded_align` batch and one
//! `pair_hmm` batch.
//!
//! Haplotypes are the assembled ones plus one per pileup candidate in the region (the
//! reference with that one event), so an allele the graph misses (an indel near read ends,
//! where no k-mer path rejoins the reference) is still scored; when assembly fails (repeats
//! longer than every k) only the pileup haplotypes remain.
//!
//! Repeats (`tandem`): a region covers each indel candidate's whole span — every placement of
//! the allele and the repeat tract around it, interruptions included — and the haplotypes
//! scored against the reads reach past it, so reads that end inside a repeat fit every allele
//! alike and the reads that cross it decide. An indel inside a tract that is not a whole number
//! of its units also gets haplotypes with the tract one unit shorter or longer at either end
//! (reads see such an indel but not the tract's length), and a tract where reads' soft clips
//! pile up gets haplotypes of the tract a few copies longer and shorter (an aligner may clip
//! every read of a longer allele instead of gapping it). Events are then genotyped on the
//! likeliest diploid pair of haplotypes (with an indel-length prior), so that haplotypes the
//! reads cannot tell apart do not split the reads between them.
//!
//! Events called at overlapping positions (two alleles at one site, a SNP under the other
//! haplotype's deletion) become one multi-allelic record (REF spans them all, at most three
//! ALTs), genotyped jointly; ALTs the genotype does not use are dropped. Isolated SNP
//! candidates stay with the pileup's exact base-count model (`genotype`).
//! Not yet: `*` alleles (a deletion's record covers its bases; other events under it join
//! its record only when they overlap its REF span).

use crate::profile::{self, Stage};
use std::collections::BTreeMap;

use crate::backend::Backend;
use crate::call::annotate::Collector;
use crate::call::assembly::{AssemblyParams, Piece, assemble};
use crate::call::haplotype::{clip_to_window, genotype_from_likelihoods, informative_allele};
use crate::call::pileup::{Indel, Site};
use crate::call::tandem::{Tract, indel_span, left_align, tract};
use crate::call::{CallCounts, CallParams};
use crate::call::{SortedReads, usable};
use crate::error::Result;
use crate::genome::{Cigar, CigarOp, base_code};
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults, Mode};
use crate::kernel::pair_hmm::{HmmBatch, HmmRead, HmmResults};
use crate::model::alignment::AlignedRead;
use crate::model::gvcf::{Annotations, Genotyped, Phase};

/// SNP candidates closer than this to another candidate make an active region.
pub const CLUSTER: u64 = 20;
/// Active positions closer than this join one region.
pub const MERGE_GAP: u64 = 25;
/// Longest region (anchor span); longer runs of activity are cut.
pub const MAX_REGION: u64 = 300;
/// Reference bases assembled on each side of a region.
pub const ASSEMBLY_PAD: u64 = 60;
/// Reference bases kept on each side of a region's events for the likelihoods.
pub const LIKELIHOOD_PAD: u64 = 20;
/// GATK's default insertion and deletion gap-open quality, and gap continuation quality.
const GAP_OPEN_QUAL: u8 = 45;
const GAP_CONTINUATION_QUAL: u8 = 10;

/// A variant event: a SNP at `pos`, or an indel anchored after the base at `pos`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Event {
    pub pos: u64,
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    Snp(u8),
    Indel(Indel),
}

impl Event {
    /// Reference bases the event's REF allele spans: `[pos, end)`.
    pub fn end(&self) -> u64 {
        match &self.kind {
            EventKind::Snp(_) => self.pos + 1,
            EventKind::Indel(i) => self.pos + 1 + i.deleted(),
        }
    }
    /// (REF, ALT) alleles as base codes.
    pub fn alleles(&self, contig: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let reference = contig[self.pos as usize..self.end() as usize].to_vec();
        let alt = match &self.kind {
            EventKind::Snp(b) => vec![*b],
            EventKind::Indel(Indel::Del(_)) => vec![reference[0]],
            EventKind::Indel(Indel::Ins(seq)) => {
                let mut a = vec![reference[0]];
                a.extend_from_slice(seq);
                a
            }
        };
        (reference, alt)
    }
    /// Reference bases `[start, end)` the event could be placed over ([`indel_span`] for an
    /// indel; a SNP's own base).
    pub fn span(&self, contig: &[u8]) -> Span {
        match &self.kind {
            EventKind::Snp(_) => (self.pos, self.pos + 1),
            EventKind::Indel(i) => {
                let (s, e) = indel_span(contig, self.pos, i);
                (s.min(self.pos), e.max(self.end()))
            }
        }
    }
    fn is_indel(&self) -> bool {
        matches!(self.kind, EventKind::Indel(_))
    }
}

/// Events of `hap` aligned (`cigar`, global) to `reference`, the contig window starting at
/// `w0`; indels are left-aligned within the window, events touching the window's first base
/// dropped.
pub fn events_from_cigar(reference: &[u8], w0: u64, hap: &[u8], cigar: &Cigar) -> Vec<Event> {
    let (mut qi, mut ri) = (0usize, 0usize);
    let mut out = Vec::new();
    for &(op, n) in &cigar.0 {
        let n = n as usize;
        match op {
            CigarOp::Match => {
                for t in 0..n {
                    if hap[qi + t] != reference[ri + t] && hap[qi + t] < 4 {
                        out.push(Event {
                            pos: w0 + (ri + t) as u64,
                            kind: EventKind::Snp(hap[qi + t]),
                        });
                    }
                }
                qi += n;
                ri += n;
            }
            CigarOp::Del => {
                if ri > 0 {
                    let mut a = ri - 1;
                    while a > 0 && reference[a] == reference[a + n] {
                        a -= 1;
                    }
                    if a > 0 || reference[0] != reference[n] {
                        out.push(Event {
                            pos: w0 + a as u64,
                            kind: EventKind::Indel(Indel::Del(n as u32)),
                        });
                    }
                }
                ri += n;
            }
            CigarOp::Ins => {
                if ri > 0 {
                    let mut seq = hap[qi..qi + n].to_vec();
                    let mut a = ri - 1;
                    while a > 0 && reference[a] == *seq.last().unwrap() {
                        seq.rotate_right(1);
                        seq[0] = reference[a];
                        a -= 1;
                    }
                    if seq.iter().all(|&b| b < 4) {
                        out.push(Event {
                            pos: w0 + a as u64,
                            kind: EventKind::Indel(Indel::Ins(seq)),
                        });
                    }
                }
                qi += n;
            }
            CigarOp::SoftClip => qi += n,
        }
    }
    out.sort();
    out
}

/// `contig[l0..l1]` with `events` (sorted, inside the range, not overlapping) applied.
fn apply(contig: &[u8], l0: u64, l1: u64, events: &[&Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity((l1 - l0) as usize + 16);
    let mut at = l0;
    for e in events {
        if e.pos < at || e.end() > l1 {
            continue; // overlaps an earlier event, or outside: skipped
        }
        let (_, alt) = e.alleles(contig);
        out.extend_from_slice(&contig[at as usize..e.pos as usize]);
        out.extend_from_slice(&alt);
        at = e.end();
    }
    out.extend_from_slice(&contig[at as usize..l1 as usize]);
    out
}

/// An active region: candidate anchors `start..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Active {
    pub start: u64,
    pub end: u64,
}

/// Reference bases `[start, end)`.
pub type Span = (u64, u64);

/// The pileup's SNP candidate at a site: its most observed non-reference base, when enough
/// reads show it.
pub fn snp_candidate(contig: &[u8], pos: u64, site: &Site, params: &CallParams) -> Option<u8> {
    let ref_base = contig[pos as usize];
    if ref_base > 3 {
        return None;
    }
    site.best_alt(ref_base)
        .filter(|&alt| passes_snp_thresholds(site, alt, params))
}

/// Whether base `b` has the reads and the fraction of the depth a SNP candidate needs.
fn passes_snp_thresholds(site: &Site, b: u8, params: &CallParams) -> bool {
    let n = site.counts[b as usize];
    n >= params.min_alt_reads && f64::from(n) >= params.min_alt_fraction * f64::from(site.depth())
}

/// Whether a second ALT base at `pos` passes the SNP candidate thresholds too (a tri-allelic
/// site, which the pileup's biallelic model would write with one ALT and the other in
/// `<NON_REF>`).
fn second_snp_allele(contig: &[u8], pos: u64, site: &Site, params: &CallParams) -> bool {
    let ref_base = contig[pos as usize];
    (0..4u8)
        .filter(|&b| b != ref_base && passes_snp_thresholds(site, b, params))
        .count()
        >= 2
}

/// Pileup candidates of the site `pos` of a chunk: the SNP allele ([`snp_candidate`]) and the
/// indels enough reads show, each with its [`indel_span`].
pub fn candidates(data: &ChunkData, pos: u64) -> (Option<u8>, Vec<(Indel, Span)>) {
    let (contig, params) = (data.contig, data.params);
    let site = &data.sites[(pos - data.first) as usize];
    if contig[pos as usize] > 3 {
        return (None, Vec::new());
    }
    let snp = snp_candidate(contig, pos, site, params);
    let total = site.span + site.indel_total();
    let indels = site
        .indels
        .iter()
        .filter(|(indel, n)| {
            let fits = pos + 1 + indel.deleted() < contig.len() as u64;
            fits && *n >= params.min_alt_reads
                && f64::from(*n) >= params.min_indel_fraction * f64::from(total)
        })
        .map(|(indel, _)| (indel.clone(), indel_span(contig, pos, indel)))
        .collect();
    (snp, indels)
}

/// Active regions of the sites `sites[k]` at `first + k`: around every indel candidate (over
/// the whole stretch where it could be placed, [`indel_span`]: the repeat it sits in) and every
/// SNP candidate with another candidate within [`CLUSTER`] bases.
pub fn active_regions(data: &ChunkData) -> Vec<Active> {
    let (first, sites, params) = (data.first, data.sites, data.params);
    let mut snps = Vec::new();
    // Anchor ranges (inclusive) that must lie in one region.
    let mut spans: Vec<Span> = Vec::new();
    for (k, site) in sites.iter().enumerate() {
        let pos = first + k as u64;
        let (snp, ind) = candidates(data, pos);
        if snp.is_some() {
            snps.push(pos);
            // Two ALT bases: the pileup model takes one, the region's haplotypes both.
            if second_snp_allele(data.contig, pos, site, params) {
                spans.push((pos, pos));
            }
        }
        for (_, (s, e)) in &ind {
            spans.push(((*s).min(pos).max(first), (*e).max(pos)));
        }
    }
    let mut all: Vec<u64> = snps
        .iter()
        .chain(spans.iter().map(|s| &s.0))
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    let near_other = |p: u64| {
        let k = all.partition_point(|&q| q + CLUSTER < p);
        all[k..]
            .iter()
            .take_while(|&&q| q <= p + CLUSTER)
            .any(|&q| q != p)
    };
    spans.extend(snps.iter().filter(|&&p| near_other(p)).map(|&p| (p, p)));
    // Soft-clip pile-ups: an insertion or complex change the aligner clipped.
    spans.extend(sites.iter().enumerate().filter_map(|(k, site)| {
        let clipped = site.clips >= params.min_alt_reads
            && f64::from(site.clips) >= params.min_indel_fraction * 2.0 * f64::from(site.reads);
        clipped.then_some((first + k as u64, first + k as u64))
    }));
    // Clips spread over a repeat tract: reads of a longer or shorter allele clipped where
    // their ends stop matching, each at its own base.
    let last = first + sites.len() as u64;
    spans.extend(
        clipped_tracts(data, first, last)
            .into_iter()
            .map(|t| (t.start.saturating_sub(1).max(first), t.end.min(last - 1))),
    );
    spans.sort_unstable();
    spans.dedup();
    let mut out: Vec<Active> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(r) if s <= r.end + MERGE_GAP && s - r.start < MAX_REGION => r.end = r.end.max(e),
            _ => out.push(Active { start: s, end: e }),
        }
    }
    // Events the haplotypes place a little off the pileup's anchors (left-aligned indels,
    // a clipped insertion) still fall inside; neighbours stay apart (MERGE_GAP > 2·SLACK).
    let last = first + sites.len() as u64;
    for r in &mut out {
        r.start = r.start.saturating_sub(SLACK).max(first);
        r.end = (r.end + SLACK).min(last.saturating_sub(1));
    }
    out
}

/// Bases added on each side of an active region's anchors.
pub const SLACK: u64 = 10;

/// One genotyped event of a region.
pub struct Called {
    pub pos: u64,
    pub reference: Vec<u8>,
    /// The alternate alleles (several when called events overlap).
    pub alts: Vec<Vec<u8>>,
    pub genotyped: Genotyped,
    /// Raw annotations from the reads genotyped, each for the allele it is informative for.
    pub annotations: Annotations,
    /// Not a call (see [`crate::model::gvcf::Variant::candidate`]).
    pub candidate: bool,
    /// For each ALT, the trimmed haplotypes that carry it.
    pub alt_carriers: Vec<Vec<usize>>,
    /// Physical phasing with the region's other calls.
    pub phase: Option<Box<Phase>>,
}

/// A region being called: its window, haplotypes and events.
struct Work {
    region: Active,
    /// Assembly window `[w0, w1)`.
    w0: u64,
    w1: u64,
    haps: Vec<Vec<u8>>,
    /// Index of each non-reference haplotype's alignment in the chunk's batch.
    aligned: Vec<usize>,
}

/// What the active regions of one chunk are called from.
pub struct ChunkData<'a> {
    pub contig: &'a [u8],
    /// The chunk's reads, coordinate-sorted.
    pub reads: SortedReads<'a>,
    /// Per-site statistics: `sites[k]` is at `first + k`.
    pub first: u64,
    pub sites: &'a [Site],
    pub params: &'a CallParams,
    /// Ploidy along the contig.
    pub ploidy: &'a crate::call::ploidy::ContigPloidy,
}

impl<'a> ChunkData<'a> {
    /// The usable reads (see [`crate::call::usable`]) that overlap `[a, b)`.
    pub(crate) fn reads_over(
        &self,
        a: u64,
        b: u64,
    ) -> impl Iterator<Item = &'a AlignedRead> + use<'a> {
        let min_mapq = self.params.min_mapq;
        self.reads
            .over(a, b)
            .iter()
            .filter(move |r| usable(r, min_mapq) && r.end() > a && r.pos < b)
    }
}

/// Calls the active `regions` of a chunk: the events genotyped as variants, by position (the
/// best by QUAL where several start at one position). Four phases, each a profile stage:
/// haplotypes per region (assembled, plus the pileup's candidates), their alignment to the
/// reference (one `banded_align` batch), the reads scored against them (one `pair_hmm` batch),
/// and every event genotyped.
pub fn call_regions(
    data: &ChunkData,
    regions: &[Active],
    backend: &dyn Backend,
    counts: &mut CallCounts,
) -> Result<BTreeMap<u64, Called>> {
    let mut out = BTreeMap::new();
    if regions.is_empty() {
        return Ok(out);
    }
    let mut batch = AlignBatch::default();
    let works: Vec<Work> = profile::time(Stage::Assembly, || {
        regions
            .iter()
            .map(|&region| build_haplotypes(data, region, &mut batch, counts))
            .collect()
    });
    let haplotypes_span = profile::span(Stage::HaplotypeAlign);
    let aligns = align_haplotypes(&works, &batch, backend)?;
    drop(haplotypes_span);
    let mut hmm = HmmBatch::default();
    let scored: Vec<Option<Scored>> = profile::time(Stage::PairHmm, || {
        works
            .iter()
            .map(|w| score_reads(data, w, &aligns, &mut hmm))
            .collect()
    });
    let mut likelihoods = HmmResults::default();
    if !hmm.regions.is_empty() {
        profile::time(Stage::PairHmm, || backend.pair_hmm(&hmm, &mut likelihoods))?;
    }
    profile::time(Stage::Genotype, || {
        for s in scored.iter().flatten() {
            genotype_events(data, s, &Likelihoods(&hmm, &likelihoods), &mut out);
        }
    });
    Ok(out)
}

/// Phase 1 for one region: its assembly window and haplotypes — assembled from the reads, plus
/// one per pileup candidate and per combination of candidates that reads carry together —
/// each non-reference haplotype pushed to `batch` against the window.
fn build_haplotypes(
    data: &ChunkData,
    region: Active,
    batch: &mut AlignBatch,
    counts: &mut CallCounts,
) -> Work {
    let contig = data.contig;
    let w0 = region.start.saturating_sub(ASSEMBLY_PAD);
    let w1 = (region.end + 1 + ASSEMBLY_PAD + MAX_DELETION).min(contig.len() as u64);
    let window = &contig[w0 as usize..w1 as usize];
    let mut haps = assembled_haplotypes(data, region, w0, w1, counts);
    // Pileup candidates: each alone, and every combination that reads carry together
    // (phased evidence the graph can lose when errors break a low-coverage path).
    for h in candidate_haplotypes(data, region, w0, w1) {
        if !haps.contains(&h) && haps.len() < MAX_HAPLOTYPES {
            haps.push(h);
        }
    }
    let aligned = haps[1..].iter().map(|h| batch.push(h, window, 0)).collect();
    Work {
        region,
        w0,
        w1,
        haps,
        aligned,
    }
}

/// The haplotypes the de Bruijn assembly finds in the window `[w0, w1)` (the reference
/// window first); the reference alone when assembly fails.
fn assembled_haplotypes(
    data: &ChunkData,
    region: Active,
    w0: u64,
    w1: u64,
    counts: &mut CallCounts,
) -> Vec<Vec<u8>> {
    let window = &data.contig[w0 as usize..w1 as usize];
    let pieces: Vec<(Vec<u8>, Vec<u8>)> = data
        .reads_over(w0, w1)
        .filter_map(|r| {
            let (a, b) = clip_to_window(r, w0, w1)?;
            Some((
                r.seq[a..b].iter().map(|&c| base_code(c)).collect(),
                r.qual[a..b].to_vec(),
            ))
        })
        .collect();
    let views: Vec<Piece> = pieces
        .iter()
        .map(|(b, q)| Piece { bases: b, quals: q })
        .collect();
    let haps = assemble(window, &views, &AssemblyParams::default()).unwrap_or_else(|| {
        counts.assembly_failed += 1;
        tracing::debug!(
            "assembly failed for {}..={} ({} reads)",
            region.start + 1,
            region.end + 1,
            views.len()
        );
        vec![window.to_vec()]
    });
    tracing::trace!(
        "region {}..={}: {} reads, {} assembled haplotypes",
        region.start + 1,
        region.end + 1,
        views.len(),
        haps.len()
    );
    haps
}

/// The window `[w0, w1)` with each pileup candidate of the region applied alone, then with
/// each combination of candidates a read carries, the most supported first. Combinations are of
/// candidates only (each already seen in enough reads), so one read showing them together is
/// enough.
fn candidate_haplotypes(data: &ChunkData, region: Active, w0: u64, w1: u64) -> Vec<Vec<u8>> {
    let mut cands: Vec<Event> = Vec::new();
    for p in region.start..=region.end {
        let (snp, indels) = candidates(data, p);
        cands.extend(snp.map(|b| Event {
            pos: p,
            kind: EventKind::Snp(b),
        }));
        cands.extend(indels.into_iter().map(|(i, _)| Event {
            pos: p,
            kind: EventKind::Indel(i),
        }));
    }
    cands.retain(|e| e.end() <= w1);
    let mut combos: BTreeMap<Vec<usize>, u32> =
        (0..cands.len()).map(|k| (vec![k], u32::MAX)).collect();
    for r in data.reads_over(w0, w1) {
        let carried = carried_events(data.contig, r, &cands);
        if carried.len() > 1 {
            *combos.entry(carried).or_default() += 1;
        }
    }
    let mut combos: Vec<(Vec<usize>, u32)> = combos.into_iter().collect();
    combos.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let haplotype = |events: &[&Event]| apply(data.contig, w0, w1, events);
    let mut out: Vec<Vec<u8>> = Vec::new();
    let (singles, multi) = combos.split_at(cands.len());
    out.extend(singles.iter().map(|(c, _)| haplotype(&[&cands[c[0]]])));
    // An indel inside a repeat that is not a whole number of its units (one G inserted in
    // (GAAAA)n, GAG deleted from (AG)n), with the tract one unit shorter or longer at either
    // end: reads that end inside the tract see the indel but not the tract's length, so the
    // aligners' shortest edit is often not the allele; the haplotypes decide.
    let mut units = 0;
    for e in &cands {
        let EventKind::Indel(indel) = &e.kind else {
            continue;
        };
        let Some(t) = tract(data.contig, e.pos) else {
            continue;
        };
        let len = indel.deleted() + indel.inserted();
        if len % t.period == 0 || t.start <= w0 || t.end >= w1 {
            continue;
        }
        for u in unit_changes(data.contig, t) {
            if units < MAX_UNIT_HAPLOTYPES && (u.end() <= e.pos || e.end() <= u.pos) {
                let pair = if u.pos < e.pos { [&u, e] } else { [e, &u] };
                out.push(haplotype(&pair));
                units += 1;
            }
        }
    }
    // A repeat whose reads are clipped inside it: the tract up to MAX_COPY_BASES (at most
    // MAX_COPIES copies) longer or shorter, whether or not a read shows the indel (an aligner
    // may clip every read of a longer allele; the clipped bases still count in the likelihoods).
    for t in clipped_tracts(data, region.start, region.end + 1) {
        if t.start <= w0 || t.end >= w1 {
            continue;
        }
        let p = t.period;
        let unit = &data.contig[t.start as usize..(t.start + p) as usize];
        for k in 1..=(MAX_COPY_BASES / p).clamp(1, MAX_COPIES) {
            let mut changes = vec![Indel::Ins(unit.repeat(k as usize))];
            if (k + 1) * p <= t.end - t.start {
                changes.push(Indel::Del((k * p) as u32));
            }
            for indel in changes {
                let e = Event {
                    pos: t.start - 1,
                    kind: EventKind::Indel(indel),
                };
                if units < MAX_UNIT_HAPLOTYPES && !cands.contains(&e) {
                    out.push(haplotype(&[&e]));
                    units += 1;
                }
            }
        }
    }
    out.extend(multi.iter().map(|(combo, _)| {
        let events: Vec<&Event> = combo.iter().map(|&k| &cands[k]).collect();
        haplotype(&events)
    }));
    out
}

/// Most copies of a repeat's unit, and most bases, a clipped tract's haplotypes add or remove.
const MAX_COPIES: u64 = 8;
const MAX_COPY_BASES: u64 = 24;

/// Shortest tract whose clipped reads make haplotypes ([`clipped_tracts`]).
const MIN_CLIPPED_TRACT: u64 = 10;

/// The repeat tracts (at least [`MIN_CLIPPED_TRACT`] bases) holding a base of `[lo, hi)` where
/// reads' soft clips begin, with at least `min_alt_reads` clips in all and a share of the reads
/// over the tract's first base (as a single site's clip pile-up needs), in position order.
fn clipped_tracts(data: &ChunkData, lo: u64, hi: u64) -> Vec<Tract> {
    let params = data.params;
    let end = data.first + data.sites.len() as u64;
    let mut clips: BTreeMap<(u64, u64), (Tract, u32)> = BTreeMap::new();
    for pos in lo.max(data.first)..hi.min(end) {
        let site = &data.sites[(pos - data.first) as usize];
        if site.clips == 0 {
            continue;
        }
        if let Some(t) = tract(data.contig, pos).filter(|t| t.end - t.start >= MIN_CLIPPED_TRACT) {
            clips.entry((t.start, t.end)).or_insert((t, 0)).1 += site.clips;
        }
    }
    clips
        .into_values()
        .filter(|(t, n)| {
            let reads = if t.start >= data.first && t.start < end {
                data.sites[(t.start - data.first) as usize].reads
            } else {
                0
            };
            *n >= params.min_alt_reads
                && f64::from(*n) >= params.min_indel_fraction * 2.0 * f64::from(reads)
        })
        .map(|(t, _)| t)
        .collect()
}

/// Most haplotypes a region gets from [`unit_changes`] and from its clipped tracts
/// ([`clipped_tracts`]) together.
const MAX_UNIT_HAPLOTYPES: usize = 16;

/// The events that make a repeat tract one copy of its unit shorter or longer, at its start and
/// at its end (the same allele in a pure tract; not across an indel inside it).
fn unit_changes(contig: &[u8], t: Tract) -> Vec<Event> {
    let p = t.period;
    let mut out = Vec::with_capacity(4);
    let unit = |a: u64| contig[a as usize..(a + p) as usize].to_vec();
    if t.start > 0 {
        out.push(Event {
            pos: t.start - 1,
            kind: EventKind::Indel(Indel::Del(p as u32)),
        });
        out.push(Event {
            pos: t.start - 1,
            kind: EventKind::Indel(Indel::Ins(unit(t.start))),
        });
    }
    if t.end > p {
        out.push(Event {
            pos: t.end - p - 1,
            kind: EventKind::Indel(Indel::Del(p as u32)),
        });
    }
    out.push(Event {
        pos: t.end - 1,
        kind: EventKind::Indel(Indel::Ins(unit(t.end - p))),
    });
    out
}

/// Phase 2: every region's non-reference haplotypes aligned to their windows in one batch
/// (global, a band wide enough for the largest length difference).
fn align_haplotypes(
    works: &[Work],
    batch: &AlignBatch,
    backend: &dyn Backend,
) -> Result<AlignResults> {
    let max_diff = works
        .iter()
        .flat_map(|w| {
            let len = (w.w1 - w.w0) as usize;
            w.haps[1..].iter().map(move |h| h.len().abs_diff(len))
        })
        .max()
        .unwrap_or(0);
    let align_params = AlignParams {
        mode: Mode::Global,
        match_score: 200,
        mismatch: 150,
        n_penalty: 150,
        gap_open: 249,
        gap_extend: 11,
        band: (max_diff as u32 + 32).min(crate::kernel::banded_align::MAX_BAND),
        end_bonus: 0,
        zdrop: 0,
    };
    let mut aligns = AlignResults::default();
    if !batch.pairs.is_empty() {
        backend.banded_align(batch, &align_params, &mut aligns)?;
    }
    Ok(aligns)
}

/// Phase 3 for one region: its haplotypes' events (from their alignments), the haplotypes
/// trimmed around the events, and the reads over them, pushed to `hmm` as one region; `None`
/// when no event falls inside the region.
fn score_reads<'a>(
    data: &ChunkData<'a>,
    w: &Work,
    aligns: &AlignResults,
    hmm: &mut HmmBatch,
) -> Option<Scored<'a>> {
    let contig = data.contig;
    let window = &contig[w.w0 as usize..w.w1 as usize];
    let mut hap_events: Vec<Vec<Event>> = vec![Vec::new()];
    for &k in &w.aligned {
        let r = &aligns.results[k];
        let cigar = aligns.cigar_of(r);
        let h = &w.haps[hap_events.len()];
        hap_events.push(events_from_cigar(window, w.w0, h, &cigar));
    }
    // Events inside the region (others belong to a neighbouring region or the pileup).
    let mut events: Vec<Event> = hap_events
        .iter()
        .flatten()
        .filter(|e| e.pos >= w.region.start && e.pos <= w.region.end)
        .cloned()
        .collect();
    events.sort();
    events.dedup();
    tracing::trace!(
        "region {}..={}: {} haplotypes, events {:?}",
        w.region.start + 1,
        w.region.end + 1,
        w.haps.len(),
        hap_events
    );
    if events.is_empty() {
        return None;
    }
    // The haplotypes reach LIKELIHOOD_PAD bases past every event's whole span (the repeat it
    // sits in), so reads ending inside a repeat fit every allele alike.
    let spans: Vec<Span> = events.iter().map(|e| e.span(contig)).collect();
    let l0 = spans
        .iter()
        .map(|s| s.0)
        .min()?
        .saturating_sub(LIKELIHOOD_PAD)
        .max(w.w0);
    let l1 = (spans.iter().map(|s| s.1).max()? + LIKELIHOOD_PAD).min(w.w1);
    // Trimmed haplotypes (distinct), each with the region's events it carries.
    let mut trimmed: Vec<(Vec<u8>, Vec<&Event>)> = Vec::new();
    for he in &hap_events {
        let inside: Vec<&Event> = he
            .iter()
            .filter(|e| e.pos >= l0 && e.end() <= l1 && events.binary_search(e).is_ok())
            .collect();
        let seq = apply(contig, l0, l1, &inside);
        if !trimmed.iter().any(|(s, _)| *s == seq) {
            trimmed.push((seq, inside));
        }
    }
    let carriers: Vec<Vec<usize>> = events
        .iter()
        .map(|e| {
            (0..trimmed.len())
                .filter(|&h| trimmed[h].1.contains(&e))
                .collect()
        })
        .collect();
    let reference_like: Vec<Vec<usize>> = events
        .iter()
        .map(|e| {
            // No event of the haplotype overlaps the event's REF span (a deletion over
            // it, another allele at its position).
            (0..trimmed.len())
                .filter(|&h| {
                    trimmed[h]
                        .1
                        .iter()
                        .all(|o| o.pos >= e.end() || o.end() <= e.pos)
                })
                .collect()
        })
        .collect();
    let haps: Vec<&[u8]> = trimmed.iter().map(|(s, _)| s.as_slice()).collect();
    let (spans, reads, hmm_region) = push_reads(data, l0, l1, &haps, hmm);
    Some(Scored {
        reads,
        events,
        carriers,
        reference_like,
        spans,
        hmm_region,
        haplotypes: haps.len(),
    })
}

/// The reads over `[l0, l1)`, cut to it (base qualities capped at the read's MAPQ), pushed to
/// `hmm` as one region against `haps`: the reads' reference spans (soft clips included), the
/// reads, and the region's index.
#[allow(clippy::type_complexity)]
fn push_reads<'a>(
    data: &ChunkData<'a>,
    l0: u64,
    l1: u64,
    haps: &[&[u8]],
    hmm: &mut HmmBatch,
) -> (Vec<(u64, u64)>, Vec<&'a AlignedRead>, usize) {
    let mut pieces: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut spans = Vec::new();
    let mut reads = Vec::new();
    for r in data.reads_over(l0, l1) {
        if let Some((a, b)) = clip_to_window(r, l0, l1) {
            reads.push(r);
            pieces.push((
                r.seq[a..b].iter().map(|&c| base_code(c)).collect(),
                r.qual[a..b].iter().map(|&q| q.min(r.mapq)).collect(),
            ));
            // Soft-clipped bases count as aligned (as in the window cut).
            let (lead, tail) = r.cigar.clips();
            spans.push((
                r.pos.saturating_sub(u64::from(lead)),
                r.end() + u64::from(tail),
            ));
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
    (spans, reads, hmm.push_region(&views, haps))
}

/// The `pair_hmm` batch and its results.
struct Likelihoods<'a>(&'a HmmBatch, &'a HmmResults);

/// Phase 4 for one region: every event genotyped against the rest; events called that overlap
/// (or share a position) become one multi-allelic record, genotyped jointly, into `out`.
fn genotype_events(
    data: &ChunkData,
    s: &Scored,
    likelihoods: &Likelihoods,
    out: &mut BTreeMap<u64, Called>,
) {
    let params = data.params;
    let Likelihoods(hmm, results) = *likelihoods;
    let best = |r: usize, set: &[usize]| {
        set.iter()
            .map(|&h| results.get(hmm, s.hmm_region, r, h))
            .fold(f64::NEG_INFINITY, f64::max)
    };
    // Reads covering [a, b) with a base on each side.
    let covering = |a: u64, b: u64| -> Vec<usize> {
        (0..s.spans.len())
            .filter(|&r| s.spans[r].0 <= a && s.spans[r].1 > b)
            .collect()
    };
    let theta = |e: &Event| {
        if e.is_indel() {
            params.indel_heterozygosity
        } else {
            params.snp_heterozygosity
        }
    };
    let restricted;
    // Haploid where the region starts haploid (a PAR boundary inside one region is left to
    // the side it starts on; each record below takes the ploidy at its own position).
    let haploid = s.events.first().is_some_and(|e| data.ploidy.at(e.pos) == 1);
    let like = |r, h| results.get(hmm, s.hmm_region, r, h);
    let (s, pair) = match likeliest_pair(s, &like, &theta, haploid) {
        Some((keep, i, j)) => {
            restricted = s.restricted(&keep);
            (&restricted, Some((i, j)))
        }
        None => (s, None),
    };
    let mut called: Vec<(usize, f64)> = Vec::new();
    for (k, e) in s.events.iter().enumerate() {
        let (alt_set, ref_set) = (&s.carriers[k], &s.reference_like[k]);
        if alt_set.is_empty() || ref_set.is_empty() {
            continue;
        }
        let reads = covering(e.pos, e.end());
        if reads.is_empty() {
            continue;
        }
        let g = genotype_from_likelihoods(
            reads.len(),
            |i, a| best(reads[i], if a == 0 { ref_set } else { alt_set }),
            &[theta(e)],
            data.ploidy.at(e.pos),
        );
        if (g.gt != [0, 0] && g.qual >= params.min_emit_qual) || params.emit_candidates {
            called.push((k, g.qual));
        }
    }
    // Clusters of overlapping called events (REF spans; an insertion spans its anchor), or
    // with `*` alleles, of events starting at one position.
    let mut region_calls: Vec<Called> = Vec::new();
    let mut k = 0;
    while k < called.len() {
        let start = s.events[called[k].0].pos;
        let mut end = s.events[called[k].0].end();
        let mut j = k + 1;
        while j < called.len()
            && if params.star_alleles {
                s.events[called[j].0].pos == start
            } else {
                s.events[called[j].0].pos < end
            }
        {
            end = end.max(s.events[called[j].0].end());
            j += 1;
        }
        let mut members: Vec<(usize, f64)> = called[k..j].to_vec();
        k = j;
        // At most MAX_ALTS alleles, the strongest; then by position.
        members.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        members.truncate(MAX_ALTS);
        members.sort_by_key(|m| m.0);
        if let Some(c) = joint_record(data, s, &members, &best, &covering, &theta) {
            region_calls.push(c);
        }
    }
    if let Some(pair) = pair {
        phase(&mut region_calls, pair);
    }
    for c in region_calls {
        out.insert(c.pos, c);
    }
}

/// Physical phasing of a region's calls from the haplotype pair `(i, j)` they were genotyped
/// against, as HaplotypeCaller's PGT/PID: each heterozygous call (not a candidate) whose two
/// alleles are the ones haplotypes `i` and `j` carry gets `i`'s allele first; when two or more
/// calls are so phased they share the ID `POS_REF_ALT` of the first, and PS its POS.
fn phase(calls: &mut [Called], (i, j): (usize, usize)) {
    let allele_on = |c: &Called, h: usize| -> u8 {
        c.alt_carriers
            .iter()
            .position(|set| set.contains(&h))
            .map_or(0, |k| k as u8 + 1)
    };
    let phased: Vec<usize> = (0..calls.len())
        .filter(|&k| {
            let c = &calls[k];
            let (a, b) = (allele_on(c, i), allele_on(c, j));
            let g = c.genotyped.gt;
            !c.candidate
                && c.genotyped.ploidy == 2
                && a != b
                && ((a, b) == (g[0], g[1]) || (b, a) == (g[0], g[1]))
        })
        .collect();
    if phased.len() < 2 {
        return;
    }
    let first = &calls[phased[0]];
    let text = |codes: &[u8]| -> String {
        codes
            .iter()
            .map(|&b| crate::genome::base_ascii(b) as char)
            .collect()
    };
    let id = format!(
        "{}_{}_{}",
        first.pos + 1,
        text(&first.reference),
        text(&first.alts[0])
    );
    let set = first.pos + 1;
    for k in phased {
        let (a, b) = (allele_on(&calls[k], i), allele_on(&calls[k], j));
        calls[k].phase = Some(Box::new(Phase {
            gt: [a, b],
            id: id.clone(),
            set,
        }));
    }
}

/// Most alternate alleles in one record.
const MAX_ALTS: usize = 3;

/// A region's events, haplotypes and reads after `pair_hmm`.
struct Scored<'a> {
    /// The reads scored, in the order of `spans`.
    reads: Vec<&'a AlignedRead>,
    events: Vec<Event>,
    /// For each event, the trimmed haplotypes carrying it.
    carriers: Vec<Vec<usize>>,
    /// For each event, the trimmed haplotypes with no event over its REF span.
    reference_like: Vec<Vec<usize>>,
    /// Reads' reference spans (soft clips included).
    spans: Vec<(u64, u64)>,
    hmm_region: usize,
    /// Trimmed haplotypes scored (the reference first).
    haplotypes: usize,
}

impl<'a> Scored<'a> {
    /// The same region with only the haplotypes `keep` as carriers and reference-like ones.
    fn restricted(&self, keep: &[bool]) -> Scored<'a> {
        let only = |sets: &[Vec<usize>]| -> Vec<Vec<usize>> {
            sets.iter()
                .map(|set| set.iter().copied().filter(|&h| keep[h]).collect())
                .collect()
        };
        Scored {
            events: self.events.clone(),
            carriers: only(&self.carriers),
            reference_like: only(&self.reference_like),
            reads: self.reads.clone(),
            spans: self.spans.clone(),
            hmm_region: self.hmm_region,
            haplotypes: self.haplotypes,
        }
    }
}

/// The haplotypes of the likeliest diploid pair (and the reference): the pair `(i, j)` with the
/// highest `Σ_reads log10(L(r|i)/2 + L(r|j)/2)` plus the prior of the events they carry
/// (`log10 θ` each, and for an indel `log10 ½` per base past the first: short indels are the
/// common ones); on a tie the earlier pair in haplotype order (assembled, pileup candidates,
/// unit changes, combinations). Events off this pair are not called, and the pair's events
/// are genotyped against the pair and the reference only, so that haplotypes the reads cannot
/// tell apart (an indel at a junction inside a tract longer than the reads, with the tract one
/// unit longer or shorter at the far end) do not split the reads between them; the prior
/// settles what the reads cannot. `None` when the reference pair is the likeliest (each event
/// is then genotyped against all the haplotypes). `haploid`: only pairs `(i, i)`, one
/// haplotype.
fn likeliest_pair(
    s: &Scored,
    like: &dyn Fn(usize, usize) -> f64,
    theta: &dyn Fn(&Event) -> f64,
    haploid: bool,
) -> Option<(Vec<bool>, usize, usize)> {
    let n = s.haplotypes;
    let carried: Vec<Vec<usize>> = (0..n)
        .map(|h| {
            (0..s.events.len())
                .filter(|&k| s.carriers[k].contains(&h))
                .collect()
        })
        .collect();
    let l: Vec<Vec<f64>> = (0..s.spans.len())
        .map(|r| {
            let mut v: Vec<f64> = (0..n).map(|h| like(r, h)).collect();
            super::haplotype::cap_mismapping(&mut v);
            v
        })
        .collect();
    let half = 0.5f64.log10();
    let prior = |e: &Event| {
        let extra = match &e.kind {
            EventKind::Indel(i) => (i.deleted() + i.inserted()).saturating_sub(1) as f64,
            EventKind::Snp(_) => 0.0,
        };
        theta(e).log10() + extra * half
    };
    let mut best = (f64::NEG_INFINITY, 0, 0);
    for i in 0..n {
        for j in i..n {
            if haploid && j != i {
                break;
            }
            let mut score: f64 = carried[i]
                .iter()
                .chain(carried[j].iter().filter(|k| !carried[i].contains(k)))
                .map(|&k| prior(&s.events[k]))
                .sum();
            for lr in &l {
                score += super::haplotype::log10_sum(lr[i], lr[j]) + half;
            }
            tracing::trace!("pair ({i}, {j}): {score:.2}");
            if score > best.0 {
                best = (score, i, j);
            }
        }
    }
    let (score, i, j) = best;
    tracing::trace!("likeliest pair ({i}, {j}) of {n} haplotypes, {score:.2}");
    (j != 0).then(|| ((0..n).map(|h| h == 0 || h == i || h == j).collect(), i, j))
}

/// One record for the overlapping called events `members` (indexes into `s.events`, with
/// their biallelic QUAL; sorted by position): REF spans them all, each ALT is REF with one
/// event applied. Genotyped jointly from each read's best haplotype per allele; ALTs the
/// genotype does not use are dropped and the rest genotyped again. `None` when no ALT is
/// left or the reads cannot tell the alleles apart.
fn joint_record(
    data: &ChunkData,
    s: &Scored,
    members: &[(usize, f64)],
    best: &dyn Fn(usize, &[usize]) -> f64,
    covering: &dyn Fn(u64, u64) -> Vec<usize>,
    theta: &dyn Fn(&Event) -> f64,
) -> Option<Called> {
    let (contig, params) = (data.contig, data.params);
    let mut members: Vec<usize> = members.iter().map(|m| m.0).collect();
    let mut star = params.star_alleles;
    loop {
        let events: Vec<&Event> = members.iter().map(|&k| &s.events[k]).collect();
        let start = events.iter().map(|e| e.pos).min()?;
        let end = events.iter().map(|e| e.end()).max()?;
        let (ref_set, star_set) = if star {
            star_sets(s, &members, start)
        } else {
            // Haplotypes with none of the alleles (nor anything else over the span).
            let ref_set = s.reference_like[members[0]]
                .iter()
                .copied()
                .filter(|h| members.iter().all(|&k| s.reference_like[k].contains(h)))
                .collect();
            (ref_set, Vec::new())
        };
        let reads = covering(start, end);
        if ref_set.is_empty() || reads.is_empty() {
            return None;
        }
        let sets: Vec<&[usize]> = std::iter::once(ref_set.as_slice())
            .chain(members.iter().map(|&k| s.carriers[k].as_slice()))
            .chain((!star_set.is_empty()).then_some(star_set.as_slice()))
            .collect();
        let thetas: Vec<f64> = events
            .iter()
            .map(|e| theta(e))
            .chain((!star_set.is_empty()).then_some(params.indel_heterozygosity))
            .collect();
        let mut g = genotype_from_likelihoods(
            reads.len(),
            |i, a| best(reads[i], sets[a]),
            &thetas,
            data.ploidy.at(start),
        );
        g.dp = reads.len() as u32;
        // Not a call: a candidate (every allele kept) or nothing.
        let candidate = g.gt == [0, 0] || g.qual < params.min_emit_qual;
        if candidate && (!params.emit_candidates || (params.reblock && g.gt == [0, 0])) {
            return None;
        }
        let used: Vec<usize> = (0..members.len())
            .filter(|&i| g.gt.contains(&(i as u8 + 1)))
            .collect();
        let star_unused = !star_set.is_empty() && !g.gt.contains(&(members.len() as u8 + 1));
        if !candidate && (used.len() < members.len() || star_unused) {
            members = used.iter().map(|&i| members[i]).collect();
            // The `*` allele only where the genotype has a spanning deletion.
            star &= !star_unused;
            if members.is_empty() {
                return None;
            }
            continue;
        }
        let mut collector = Collector::new(start, sets.len() + 1);
        let mut l = vec![0f64; sets.len()];
        for &r in &reads {
            for (a, v) in l.iter_mut().enumerate() {
                *v = best(r, sets[a]);
            }
            collector.add(s.reads[r], informative_allele(&l));
        }
        let reference = contig[start as usize..end as usize].to_vec();
        let alts = events
            .iter()
            .map(|e| {
                let (_, alt) = e.alleles(contig);
                let mut a = contig[start as usize..e.pos as usize].to_vec();
                a.extend_from_slice(&alt);
                a.extend_from_slice(&contig[e.end() as usize..end as usize]);
                a
            })
            .chain((!star_set.is_empty()).then(|| vec![crate::genome::SPANNING_DELETION]))
            .collect();
        return Some(Called {
            pos: start,
            reference,
            alts,
            genotyped: g,
            annotations: collector.finish(),
            candidate,
            alt_carriers: members
                .iter()
                .map(|&k| s.carriers[k].clone())
                .chain((!star_set.is_empty()).then(|| star_set.clone()))
                .collect(),
            phase: None,
        });
    }
}

/// The REF and `*` haplotypes of a record at `start` for the events `members` (all starting
/// there), as HaplotypeCaller assigns alleles to haplotypes: a haplotype carrying none of
/// them has the `*` allele when one of its deletions starts before `start` and spans it, else
/// REF unless it carries another event starting at `start` (then it is neither). Haplotypes
/// are those the region still weighs (its carriers and reference-like sets).
fn star_sets(s: &Scored, members: &[usize], start: u64) -> (Vec<usize>, Vec<usize>) {
    let mut all: Vec<usize> = s
        .carriers
        .iter()
        .chain(s.reference_like.iter())
        .flatten()
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    let (mut ref_set, mut star_set) = (Vec::new(), Vec::new());
    for h in all {
        if members.iter().any(|&k| s.carriers[k].contains(&h)) {
            continue;
        }
        let carried = |f: &dyn Fn(&Event) -> bool| {
            (0..s.events.len()).any(|k| f(&s.events[k]) && s.carriers[k].contains(&h))
        };
        if carried(&|e| e.pos < start && e.end() > start && e.is_indel()) {
            star_set.push(h);
        } else if !carried(&|e| e.pos == start) {
            ref_set.push(h);
        }
    }
    (ref_set, star_set)
}

/// Most haplotypes a region scores (assembled and pileup ones together).
const MAX_HAPLOTYPES: usize = 24;

/// Indexes of the `candidates` (sorted by position) that `read` carries as its alignment
/// shows them: the SNP's base at its position, the indel anchored at its position.
fn carried_events(contig: &[u8], read: &AlignedRead, candidates: &[Event]) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut qi, mut ri) = (0usize, read.pos);
    let ops = &read.cigar.0;
    for (k, &(op, n)) in ops.iter().enumerate() {
        let n64 = u64::from(n);
        match op {
            CigarOp::SoftClip => qi += n as usize,
            CigarOp::Match => {
                let lo = candidates.partition_point(|e| e.pos < ri);
                for (c, e) in candidates.iter().enumerate().skip(lo) {
                    if e.pos >= ri + n64 {
                        break;
                    }
                    if let EventKind::Snp(b) = e.kind
                        && base_code(read.seq[qi + (e.pos - ri) as usize]) == b
                    {
                        out.push(c);
                    }
                }
                qi += n as usize;
                ri += n64;
            }
            CigarOp::Del | CigarOp::Ins => {
                let anchored = k > 0 && ops[k - 1].0 == CigarOp::Match && ri > 0;
                if anchored {
                    let (anchor, indel) = left_align(contig, ri - 1, Indel::of_op(read, op, n, qi));
                    let kind = EventKind::Indel(indel);
                    if let Some(c) = candidates
                        .iter()
                        .position(|e| e.pos == anchor && e.kind == kind)
                    {
                        out.push(c);
                    }
                }
                if op == CigarOp::Del {
                    ri += n64;
                } else {
                    qi += n as usize;
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// Longest deletion an assembly window makes room for past a region's last anchor.
const MAX_DELETION: u64 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_and_left_aligned() {
        // Reference ACGTTTTACG...; the haplotype deletes one T of the run (aligned at its end).
        let reference: Vec<u8> = vec![0, 1, 2, 3, 3, 3, 3, 0, 1, 2, 0, 0];
        let hap: Vec<u8> = vec![0, 1, 2, 3, 3, 3, 0, 1, 2, 0, 0];
        let cigar = Cigar(vec![
            (CigarOp::Match, 6),
            (CigarOp::Del, 1),
            (CigarOp::Match, 5),
        ]);
        let ev = events_from_cigar(&reference, 100, &hap, &cigar);
        assert_eq!(
            ev,
            vec![Event {
                pos: 102,
                kind: EventKind::Indel(Indel::Del(1))
            }]
        );
        // An insertion of T after the run, and a SNP.
        let hap: Vec<u8> = vec![0, 1, 2, 3, 3, 3, 3, 3, 0, 1, 1, 0, 0];
        let cigar = Cigar(vec![
            (CigarOp::Match, 7),
            (CigarOp::Ins, 1),
            (CigarOp::Match, 5),
        ]);
        let ev = events_from_cigar(&reference, 0, &hap, &cigar);
        assert_eq!(
            ev,
            vec![
                Event {
                    pos: 2,
                    kind: EventKind::Indel(Indel::Ins(vec![3]))
                },
                Event {
                    pos: 9,
                    kind: EventKind::Snp(1)
                }
            ]
        );
        let (r, a) = ev[0].alleles(&reference);
        assert_eq!((r, a), (vec![2], vec![2, 3]));
        // Applying the events rebuilds the haplotype.
        assert_eq!(apply(&reference, 0, 12, &[&ev[0], &ev[1]]), hap);
    }
}
