//! Variant calling into gVCF records.
//!
//! Contigs are called in fixed grid chunks (`regions`), in parallel, each from the reads that
//! overlap it: a streaming pileup over coordinate-sorted reads, one candidate SNP and one
//! candidate indel per site, diploid genotype likelihoods over (REF, ALT, `<NON_REF>`) — SNPs
//! from the pileup's base counts, indels from pair-HMM read × haplotype likelihoods
//! (`haplotype`) — and GATK-style reference blocks banded by GQ.
//!
//! Not yet HaplotypeCaller-class (issue 6 is open): no active regions or local de Bruijn
//! assembly (candidate indels come from the aligner's CIGARs), no multi-allelic sites, and
//! one small `pair_hmm` batch per candidate indel instead of one per region.

pub mod genotype;
pub mod gvcf;
pub mod haplotype;
pub mod pileup;
pub mod regions;

use std::time::{Duration, Instant};

use crate::align::AlignedRead;
use crate::align::record::UNMAPPED;
use crate::backend::Backend;
use crate::call::genotype::{Genotyped, genotype_ref, genotype_snp};
use crate::call::gvcf::{BlockBuilder, Record, Variant};
use crate::call::pileup::{Indel, Pileup, Site};
use crate::call::regions::Chunk;
use crate::error::{Error, Result};
use crate::kernel::pair_hmm::{HmmBatch, HmmResults};

/// What `genoa call` writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputMode {
    /// A gVCF: variant records with `<NON_REF>`, and reference blocks over every other base.
    #[default]
    Gvcf,
    /// A plain VCF: the variant records only, without `<NON_REF>` (its AD and PL entries
    /// dropped).
    Variants,
}

/// Caller settings.
#[derive(Clone, Debug)]
pub struct CallParams {
    pub min_mapq: u8,
    pub min_base_quality: u8,
    /// Prior heterozygosity of SNPs and of indels.
    pub snp_heterozygosity: f64,
    pub indel_heterozygosity: f64,
    /// Minimum reads and fraction of the depth supporting an alternate allele (a candidate
    /// indel needs a smaller fraction: reads whose ends hold an indel are often aligned
    /// without it, and the read × haplotype likelihoods decide its genotype anyway).
    pub min_alt_reads: u32,
    pub min_alt_fraction: f64,
    pub min_indel_fraction: f64,
    /// Variants with QUAL below this are folded into reference blocks.
    pub min_emit_qual: f64,
    /// Variants with QUAL below this are written with FILTER `LowQual`.
    pub min_pass_qual: f64,
    /// GQ band boundaries of reference blocks.
    pub gq_bands: Vec<u32>,
    /// Longest reference block.
    pub max_block_len: u64,
    /// Grid step of the chunks contigs are called in (`regions::CHUNK_LEN`; part of the
    /// output's definition, as block ends fall on the grid).
    pub chunk_len: u64,
}

impl Default for CallParams {
    fn default() -> Self {
        CallParams {
            min_mapq: 20,
            min_base_quality: 10,
            snp_heterozygosity: 1e-3,
            indel_heterozygosity: 1.25e-4,
            min_alt_reads: 2,
            min_alt_fraction: 0.15,
            min_indel_fraction: 0.05,
            min_emit_qual: 10.0,
            min_pass_qual: 20.0,
            gq_bands: gvcf::GATK_GQ_BANDS.to_vec(),
            max_block_len: 99_999,
            chunk_len: regions::CHUNK_LEN,
        }
    }
}

/// Time spent per caller stage, summed over threads (CPU time, not wall time).
#[derive(Clone, Copy, Debug, Default)]
pub struct StageTimes {
    /// Reading and decoding the reads of each chunk.
    pub fetch: Duration,
    /// Pileup, SNP genotyping and reference blocks.
    pub pileup: Duration,
    /// Indel haplotypes, read × haplotype likelihoods (`pair_hmm`) and indel genotyping.
    pub pair_hmm: Duration,
    /// Formatting and compressing the records.
    pub write: Duration,
    /// Chunks called and reads fetched (with the lead and tail overlaps).
    pub chunks: u64,
    pub reads: u64,
}

impl StageTimes {
    pub fn add(&mut self, o: &StageTimes) {
        self.fetch += o.fetch;
        self.pileup += o.pileup;
        self.pair_hmm += o.pair_hmm;
        self.write += o.write;
        self.chunks += o.chunks;
        self.reads += o.reads;
    }
}

/// What genotyping an indel needs besides the site: the chunk's reads, the backend that
/// runs `pair_hmm`, reused buffers, and the first error.
struct IndelContext<'a> {
    reads: &'a [AlignedRead],
    /// Longest reference span of any read (to find the reads overlapping a position).
    max_span: u64,
    backend: &'a dyn Backend,
    batch: HmmBatch,
    out: HmmResults,
    error: Option<Error>,
    hmm_time: Duration,
}

/// Calls one grid chunk (see `regions`) of a contig from `reads`: every read placed on the
/// contig that overlaps `[chunk.lead_start(), chunk.end + TAIL)`, coordinate-sorted (others
/// are skipped). Returns the records that start at a base the chunk emits; together with its
/// neighbours' they cover every base once. Indel likelihoods run on `backend`; its errors are
/// the only ones.
pub fn call_chunk(
    contig: &[u8],
    chunk: &Chunk,
    reads: &[AlignedRead],
    params: &CallParams,
    backend: &dyn Backend,
    times: &mut StageTimes,
) -> Result<Vec<Record>> {
    let t0 = Instant::now();
    let lead = chunk.lead_start();
    let end = chunk.end.min(contig.len() as u64);
    let mut pileup = Pileup::new(params, lead);
    let mut blocks = BlockBuilder::new(params);
    let mut cx = IndelContext {
        reads,
        max_span: reads.iter().map(|r| r.end() - r.pos).max().unwrap_or(0),
        backend,
        batch: HmmBatch::default(),
        out: HmmResults::default(),
        error: None,
        hmm_time: Duration::ZERO,
    };
    let mut covered_until = lead; // first position not yet covered by a record
    let mut site_at = |pos: u64, site: &Site, blocks: &mut BlockBuilder| {
        if pos < covered_until || cx.error.is_some() {
            return;
        }
        let ref_base = contig[pos as usize];
        let variant = best_variant(contig, pos, ref_base, site, params, &mut cx);
        // The lead only settles which bases earlier records cover; a chunk's records are all
        // computed (so a block runs to its natural end whatever the targets), then those
        // starting outside the targets are dropped.
        let emit = pos >= chunk.start;
        match variant {
            Some(v) => {
                covered_until = pos + v.reference.len() as u64;
                if emit {
                    blocks.push_variant(v);
                }
            }
            None => {
                covered_until = pos + 1;
                if emit {
                    let g = genotype_ref(ref_base, site);
                    blocks.push_reference(pos, &g, site.depth());
                }
            }
        }
    };
    for read in reads {
        if read.contig.is_none() || read.flags & UNMAPPED != 0 {
            continue;
        }
        pileup.flush_before(read.pos.min(end), |pos, site| {
            site_at(pos, site, &mut blocks)
        });
        if read.pos < end {
            pileup.add(read, contig);
        }
    }
    pileup.flush_before(end, |pos, site| site_at(pos, site, &mut blocks));
    let hmm = cx.hmm_time;
    times.pair_hmm += hmm;
    times.pileup += t0.elapsed().saturating_sub(hmm);
    match cx.error {
        Some(e) => Err(e),
        None => {
            let mut records = blocks.finish();
            records.retain(|r| chunk.emits(r.start()));
            Ok(records)
        }
    }
}

/// Calls a whole contig from all its reads (coordinate-sorted) on the fixed grid: the records
/// of every chunk in order, covering every base once.
pub fn call_contig(
    contig: &[u8],
    reads: &[AlignedRead],
    params: &CallParams,
    backend: &dyn Backend,
) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut times = StageTimes::default();
    for chunk in regions::chunks(&[contig.len() as u64], None, params.chunk_len) {
        let (lo, hi) = overlapping(reads, chunk.lead_start(), chunk.end + regions::TAIL);
        out.extend(call_chunk(
            contig,
            &chunk,
            &reads[lo..hi],
            params,
            backend,
            &mut times,
        )?);
    }
    Ok(out)
}

/// The index range of `reads` (coordinate-sorted, one contig) that holds every read
/// overlapping `[start, end)` (and possibly some that end before `start`).
pub fn overlapping(reads: &[AlignedRead], start: u64, end: u64) -> (usize, usize) {
    let max_span = reads.iter().map(|r| r.end() - r.pos).max().unwrap_or(0);
    let lo = reads.partition_point(|r| r.pos + max_span < start);
    let hi = reads.partition_point(|r| r.pos < end);
    (lo, hi.max(lo))
}

/// The best called variant at `pos`, if any.
fn best_variant(
    contig: &[u8],
    pos: u64,
    ref_base: u8,
    site: &Site,
    params: &CallParams,
    cx: &mut IndelContext,
) -> Option<Variant> {
    if ref_base > 3 {
        return None;
    }
    let depth = site.depth();
    let mut best: Option<(Genotyped, Vec<u8>, Vec<u8>)> = None;
    let mut consider = |g: Genotyped, reference: Vec<u8>, alt: Vec<u8>| {
        if g.gt == [0, 0] || g.qual < params.min_emit_qual {
            return;
        }
        if best.as_ref().is_none_or(|(b, _, _)| g.qual > b.qual) {
            best = Some((g, reference, alt));
        }
    };
    if let Some(alt) = site.best_alt(ref_base) {
        let n = site.counts[alt as usize];
        if n >= params.min_alt_reads && f64::from(n) >= params.min_alt_fraction * f64::from(depth) {
            consider(
                genotype_snp(ref_base, alt, site, params),
                vec![ref_base],
                vec![alt],
            );
        }
    }
    if let Some((indel, n)) = site.best_indel() {
        let total = site.span + site.indel_total();
        let fits = match indel {
            Indel::Del(len) => pos + u64::from(*len) < contig.len() as u64,
            Indel::Ins(_) => true,
        };
        if fits
            && n >= params.min_alt_reads
            && f64::from(n) >= params.min_indel_fraction * f64::from(total)
        {
            let (reference, alt) = match indel {
                Indel::Del(len) => (
                    contig[pos as usize..=(pos + u64::from(*len)) as usize].to_vec(),
                    vec![ref_base],
                ),
                Indel::Ins(seq) => {
                    let mut alt = vec![ref_base];
                    alt.extend_from_slice(seq);
                    (vec![ref_base], alt)
                }
            };
            let del = indel.deleted();
            // Reads that may overlap the indel: those starting in [pos − max_span, pos + del + 1].
            let lo = cx.reads.partition_point(|r| r.pos + cx.max_span < pos);
            let hi = cx.reads.partition_point(|r| r.pos <= pos + del + 1);
            let t = Instant::now();
            let result = haplotype::genotype_indel_hmm(
                contig,
                pos,
                indel,
                &cx.reads[lo..hi.max(lo)],
                params,
                cx.backend,
                &mut cx.batch,
                &mut cx.out,
            );
            cx.hmm_time += t.elapsed();
            match result {
                Ok(g) => consider(g, reference, alt),
                Err(e) => cx.error = Some(e),
            }
        }
    }
    best.map(|(g, reference, alt)| Variant {
        pos,
        reference,
        alt,
        filter_pass: g.qual >= params.min_pass_qual,
        mq: site.rms_mapq(),
        genotyped: g,
    })
}
