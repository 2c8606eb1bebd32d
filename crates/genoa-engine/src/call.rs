//! Variant calling into gVCF records.
//!
//! Contigs are called in fixed grid chunks (`regions`), in parallel, each from the reads that
//! overlap it: a pileup over coordinate-sorted reads gives per-site statistics and candidates;
//! active regions (every indel candidate, SNP candidates close together) are assembled into
//! haplotypes and their events genotyped from read × haplotype likelihoods (`region`);
//! indels in tandem repeats and homopolymers are looked at over their whole repeat (`tandem`);
//! isolated SNPs are genotyped from the pileup's exact base-count likelihoods (`genotype`);
//! every other base goes into GATK-style reference blocks banded by GQ (`gvcf`). Each base is
//! called at its ploidy (`ploidy`: haploid chrX and chrY of a male, PARs diploid); chrM by
//! its own allele-fraction model (`mito`).
//!
//! Not yet (issue 6 is open): dangling-end recovery in the assembly
//! graph.

pub mod annotate;
pub mod assembly;
pub mod downsample;
pub mod genotype;
pub mod gvcf;
pub mod haplotype;
pub mod mito;
pub mod pileup;
pub mod ploidy;
pub mod region;
pub mod regions;
pub mod tandem;

#[cfg(test)]
mod repeat_tests;

use crate::profile::{self, Stage};

use crate::backend::Backend;
use crate::call::genotype::{genotype_ref, genotype_snp};
use crate::call::gvcf::BlockBuilder;
use crate::call::pileup::{Pileup, Site};
use crate::call::regions::Chunk;
use crate::error::Result;
use crate::model::alignment::AlignedRead;
use crate::model::alignment::Flags;
use crate::model::gvcf::{Record, Variant};

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
    /// Variants with QUAL below this are not calls: written as candidates (FILTER `LowQual`)
    /// when `emit_candidates`, else folded into reference blocks.
    pub min_emit_qual: f64,
    /// Write every candidate allele (gVCF): those genotyped `0/0` (FILTER `RefCall`) and those
    /// below `min_emit_qual`, so that joint genotyping can rescue an allele seen weakly in
    /// many samples, as HaplotypeCaller's GVCF mode does. Off for a plain VCF.
    pub emit_candidates: bool,
    /// Variants with QUAL below this are written with FILTER `LowQual` in a plain VCF (a gVCF
    /// leaves filtering to joint genotyping, as HaplotypeCaller's does).
    pub min_pass_qual: f64,
    /// GQ band boundaries of reference blocks.
    pub gq_bands: Vec<u32>,
    /// ReblockGVCF's output (`--gq-bands reblock`, WARP's `--floor-blocks -GQB 20 -GQB 30
    /// -GQB 40`): a block's GQ is its band's floor, and candidates genotyped hom-ref are
    /// folded into the blocks (non-reference candidates stay, as ReblockGVCF keeps them).
    pub reblock: bool,
    /// A variant under another haplotype's deletion as HaplotypeCaller writes it: a record of
    /// its own (events starting at one position share one), with the `*` allele for the
    /// haplotypes whose deletion spans it, overlapping the deletion's record
    /// (`--star-alleles`). Off: overlapping events share one record whose REF covers them
    /// all, so that every base is in exactly one record (what `eval.py --gvcf-check`
    /// requires; `genoa validate` accepts both).
    pub star_alleles: bool,
    /// Longest reference block.
    pub max_block_len: u64,
    /// Grid step of the chunks contigs are called in (`regions::CHUNK_LEN`; part of the
    /// output's definition, as block ends fall on the grid).
    pub chunk_len: u64,
    /// Ploidy of every base, the model of each contig, and the contigs called by default
    /// (default: everything diploid and called).
    pub ploidy: std::sync::Arc<ploidy::GenomePloidy>,
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
            emit_candidates: true,
            min_pass_qual: 20.0,
            gq_bands: crate::model::gvcf::GATK_GQ_BANDS.to_vec(),
            reblock: false,
            star_alleles: false,
            max_block_len: 99_999,
            chunk_len: regions::CHUNK_LEN,
            ploidy: Default::default(),
        }
    }
}

/// What the caller went through. Its stages' CPU time is in the stage profile
/// (`genoa_core::profile`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CallCounts {
    /// Chunks called, reads fetched (with the lead and tail overlaps), active regions.
    pub chunks: u64,
    pub reads: u64,
    pub regions: u64,
    /// Active regions whose assembly found no usable graph (pileup haplotypes only).
    pub assembly_failed: u64,
}

impl std::fmt::Display for CallCounts {
    /// As the logs print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} chunks, {} reads, {} active regions ({} not assembled)",
            self.chunks, self.reads, self.regions, self.assembly_failed
        )
    }
}

impl CallCounts {
    pub fn add(&mut self, o: &CallCounts) {
        self.chunks += o.chunks;
        self.reads += o.reads;
        self.regions += o.regions;
        self.assembly_failed += o.assembly_failed;
    }
}

/// Bases past a chunk's end whose sites are computed too, so that an active region reaching
/// over the end is detected and called whole, as the next chunk sees it.
pub const SITES_PAST_END: u64 = 1_000;

/// Calls one grid chunk (see `regions`) of a contig from `reads`: every read placed on the
/// contig that overlaps `[chunk.lead_start(), chunk.end + TAIL)`, coordinate-sorted (others
/// are skipped). Returns the records that start at a base the chunk emits; together with its
/// neighbours' they cover every base once. Haplotype alignment and likelihoods run on
/// `backend`; its errors are the only ones. With `on_depth`, the QC depth of every emitted
/// non-`N` reference base ([`pileup::Site::qc_depth`], the GA4GH definition) is handed to it,
/// in position order.
pub fn call_chunk(
    contig: &[u8],
    chunk: &Chunk,
    reads: &[AlignedRead],
    params: &CallParams,
    backend: &dyn Backend,
    counts: &mut CallCounts,
    mut on_depth: Option<&mut dyn FnMut(u32)>,
) -> Result<Vec<Record>> {
    let pileup_span = profile::span(Stage::Pileup);
    let len = contig.len() as u64;
    let lead = chunk.lead_start();
    let ploidy = params.ploidy.contig(chunk.contig);
    let end = chunk.end.min(len);
    // The reads come downsampled by their source (see [`downsample`]).
    // 1. Per-site statistics over [lead, chunk end + SITES_PAST_END).
    let sites = pileup_sites(
        contig,
        reads,
        lead,
        (chunk.end + SITES_PAST_END).min(len),
        params,
    );
    // 2. Active regions, called together.
    let data = region::ChunkData {
        contig,
        reads: SortedReads::new(reads),
        first: lead,
        sites: &sites,
        params,
        ploidy,
    };
    // The mitochondrial model works on the pileup alone (no active regions).
    let active = if ploidy.model == ploidy::Model::Mito {
        Vec::new()
    } else {
        region::active_regions(&data)
    };
    counts.regions += active.len() as u64;
    drop(pileup_span);
    let called = region::call_regions(&data, &active, backend, counts)?;
    // 3. Records in position order: region calls inside regions, pileup SNPs outside.
    let _span = profile::span(Stage::Pileup);
    let mut records = chunk_records(&data, chunk, &active, &called, end);
    records.retain(|r| chunk.emits(r.start()));
    if let Some(on_depth) = on_depth.as_mut() {
        for &(s, e) in &chunk.emit {
            for pos in s.max(lead)..e.min(end) {
                if contig[pos as usize] != crate::genome::N {
                    on_depth(sites[(pos - lead) as usize].qc_depth);
                }
            }
        }
    }
    Ok(records)
}

/// The pileup's statistics of every site in `[lead, ext)` from the chunk's reads.
fn pileup_sites(
    contig: &[u8],
    reads: &[AlignedRead],
    lead: u64,
    ext: u64,
    params: &CallParams,
) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::with_capacity((ext - lead) as usize);
    let mut pileup = Pileup::new(params, lead);
    for read in reads {
        if read.contig.is_none() || read.flags.intersects(Flags::UNMAPPED) {
            continue;
        }
        pileup.flush_before(read.pos.min(ext), |_, site| sites.push(site));
        if read.pos < ext {
            pileup.add(read, contig);
        }
    }
    pileup.flush_before(ext, |_, site| sites.push(site));
    sites
}

/// The records of `[lead, end)` in position order: the regions' calls inside active regions,
/// pileup SNPs outside, reference blocks between. The lead only settles which bases earlier
/// records cover; a chunk's records are all computed (so a block runs to its natural end
/// whatever the targets), and the caller drops those starting outside the targets.
fn chunk_records(
    data: &region::ChunkData,
    chunk: &Chunk,
    active: &[region::Active],
    called: &std::collections::BTreeMap<u64, region::Called>,
    end: u64,
) -> Vec<Record> {
    let (contig, params, lead) = (data.contig, data.params, data.first);
    let mut blocks = BlockBuilder::new(params);
    let mut covered_until = lead; // first position not yet covered by a record
    let mut next_region = 0usize;
    for pos in lead..end {
        while next_region < active.len() && active[next_region].end < pos {
            next_region += 1;
        }
        let in_region = active
            .get(next_region)
            .is_some_and(|r| r.start <= pos && pos <= r.end);
        // Inside an earlier record: only a region's own record there (`--star-alleles`: a
        // variant under a deletion, with its `*` allele) is written, overlapping it.
        if pos < covered_until && !(params.star_alleles && in_region && called.contains_key(&pos)) {
            continue;
        }
        let site = &data.sites[(pos - lead) as usize];
        let variant = if in_region {
            called.get(&pos).map(|c| Variant {
                pos,
                reference: c.reference.clone(),
                alts: c.alts.clone(),
                filter_pass: c.genotyped.qual >= params.min_pass_qual && c.genotyped.gt != [0, 0],
                candidate: c.candidate,
                mq: site.rms_mapq(),
                genotyped: c.genotyped.clone(),
                af: Vec::new(),
                annotations: Some(Box::new(c.annotations.clone())),
                phase: c.phase.clone(),
            })
        } else {
            let v = if data.ploidy.model == ploidy::Model::Mito {
                mito::call_site(contig, pos, site, params)
            } else {
                pileup_snp(contig, pos, site, params, data.ploidy.at(pos))
            };
            v.map(|mut v| {
                v.annotations = Some(Box::new(pileup_annotations(data, &v)));
                v
            })
        };
        let emit = pos >= chunk.start;
        match variant {
            Some(v) => {
                covered_until = covered_until.max(pos + v.reference.len() as u64);
                if emit {
                    blocks.push_variant(v);
                }
            }
            None => {
                covered_until = pos + 1;
                if emit {
                    let g = genotype_ref(contig[pos as usize], site, data.ploidy.at(pos));
                    // DP counts the reads with a deletion here too, as GATK's pileups do.
                    blocks.push_reference(pos, &g, site.depth() + site.deletions);
                }
            }
        }
    }
    blocks.finish()
}

/// The raw annotations of a variant called from the pileup: every usable read over its first
/// base, each for the allele its base and indel there show ([`annotate::pileup_allele`]).
fn pileup_annotations(data: &region::ChunkData, v: &Variant) -> crate::model::gvcf::Annotations {
    let mut collector = annotate::Collector::new(v.pos, v.alts.len() + 2);
    for read in data.reads_over(v.pos, v.pos + 1) {
        let allele = annotate::pileup_allele(
            data.contig,
            read,
            v.pos,
            &v.reference,
            &v.alts,
            data.params.min_base_quality,
        );
        collector.add(read, allele);
    }
    collector.finish()
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
    let mut counts = CallCounts::default();
    let sorted = SortedReads::new(reads);
    for chunk in regions::chunks(&[contig.len() as u64], None, params.chunk_len) {
        out.extend(call_chunk(
            contig,
            &chunk,
            sorted.over(chunk.lead_start(), chunk.end + regions::TAIL),
            params,
            backend,
            &mut counts,
            None,
        )?);
    }
    Ok(out)
}

/// Reads of one contig in coordinate order, with the longest reference span among them: the
/// one way the caller finds the reads over an interval.
#[derive(Clone, Copy)]
pub struct SortedReads<'a> {
    reads: &'a [AlignedRead],
    max_span: u64,
}

impl<'a> SortedReads<'a> {
    pub fn new(reads: &'a [AlignedRead]) -> SortedReads<'a> {
        let max_span = reads.iter().map(|r| r.end() - r.pos).max().unwrap_or(0);
        SortedReads { reads, max_span }
    }

    /// The run of reads that holds every read overlapping `[start, end)` (and possibly some
    /// that end before `start`).
    pub fn over(&self, start: u64, end: u64) -> &'a [AlignedRead] {
        let lo = self
            .reads
            .partition_point(|r| r.pos + self.max_span < start);
        let hi = self.reads.partition_point(|r| r.pos < end);
        &self.reads[lo..hi.max(lo)]
    }
}

/// Whether the caller uses a read at all — the one read filter of pileup and haplotype
/// scoring: mapped, primary, not a duplicate, not failing QC, MAPQ at least `min_mapq` (as
/// HaplotypeCaller's default read filters).
pub fn usable(read: &AlignedRead, min_mapq: u8) -> bool {
    !read.flags.intersects(
        Flags::UNMAPPED
            | Flags::SECONDARY
            | Flags::SUPPLEMENTARY
            | Flags::DUPLICATE
            | Flags::QC_FAIL,
    ) && read.mapq >= min_mapq
}

/// An isolated SNP called from the pileup's base counts at `pos`, if any, at `ploidy`.
fn pileup_snp(
    contig: &[u8],
    pos: u64,
    site: &Site,
    params: &CallParams,
    ploidy: u8,
) -> Option<Variant> {
    let ref_base = contig[pos as usize];
    let alt = region::snp_candidate(contig, pos, site, params)?;
    let g = genotype_snp(ref_base, alt, site, params, ploidy);
    let candidate = g.gt == [0, 0] || g.qual < params.min_emit_qual;
    if candidate && (!params.emit_candidates || (params.reblock && g.gt == [0, 0])) {
        return None;
    }
    Some(Variant {
        pos,
        reference: vec![ref_base],
        alts: vec![vec![alt]],
        filter_pass: g.qual >= params.min_pass_qual && g.gt != [0, 0],
        candidate,
        mq: site.rms_mapq(),
        genotyped: g,
        af: Vec::new(),
        annotations: None,
        phase: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::scalar::Scalar;
    use crate::genome::random_bases;
    use crate::genome::{Cigar, CigarOp};

    fn read(pos: u64, cigar: Vec<(CigarOp, u32)>, codes: &[u8]) -> AlignedRead {
        AlignedRead {
            name: String::new(),
            flags: Flags::empty(),
            contig: Some(0),
            pos,
            mapq: 60,
            cigar: Cigar(cigar),
            mate_contig: None,
            mate_pos: 0,
            tlen: 0,
            seq: codes.iter().map(|&c| b"ACGT"[c as usize]).collect(),
            qual: vec![30; codes.len()],
            nm: 0,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    }

    /// A called variant: position, REF, ALTs, genotype.
    type Call = (u64, Vec<u8>, Vec<Vec<u8>>, [u8; 2]);

    /// Calls a whole contig on the grid; the variant records.
    fn variants(contig: &[u8], mut reads: Vec<AlignedRead>) -> Vec<Call> {
        reads.sort_by_key(|r| r.pos);
        call_contig(contig, &reads, &CallParams::default(), &Scalar)
            .unwrap()
            .into_iter()
            .filter_map(|r| match r {
                Record::Variant(v) => Some((v.pos, v.reference, v.alts, v.genotyped.gt)),
                Record::Block(_) => None,
            })
            .collect()
    }

    #[test]
    fn haploid_regions_get_haploid_calls() {
        // Reads of two haplotypes (a SNP at 300 on one, at 600 on the other) over a contig
        // whose second half is haploid: the diploid half calls a het, the haploid half the
        // majority allele (never a het) with one PL per allele.
        let contig = random_bases(&mut fastrand::Rng::with_seed(31), 1000);
        let mut h = contig.clone();
        h[300] = (h[300] + 1) % 4;
        h[600] = (h[600] + 1) % 4;
        let mut reads = Vec::new();
        for s in (150..750).step_by(3) {
            reads.push(read(
                s,
                vec![(CigarOp::Match, 100)],
                &h[s as usize..s as usize + 100],
            ));
            if s % 2 == 0 {
                reads.push(read(
                    s,
                    vec![(CigarOp::Match, 100)],
                    &contig[s as usize..s as usize + 100],
                ));
            }
        }
        reads.sort_by_key(|r| r.pos);
        let params = CallParams {
            ploidy: std::sync::Arc::new(ploidy::GenomePloidy {
                contigs: vec![ploidy::ContigPloidy {
                    model: ploidy::Model::Germline,
                    spans: vec![(0, 500, 2), (500, 1000, 1)],
                }],
                called: vec![true],
                ..Default::default()
            }),
            ..CallParams::default()
        };
        let records = call_contig(&contig, &reads, &params, &Scalar).unwrap();
        let calls: Vec<(u64, [u8; 2], u8, usize)> = records
            .iter()
            .filter_map(|r| match r {
                Record::Variant(v) => Some((
                    v.pos,
                    v.genotyped.gt,
                    v.genotyped.ploidy,
                    v.genotyped.pl.len(),
                )),
                Record::Block(_) => None,
            })
            .collect();
        assert_eq!(calls, vec![(300, [0, 1], 2, 6), (600, [1, 1], 1, 3)]);
        // Reference blocks are haploid past 500 and never straddle the boundary.
        for r in &records {
            if let Record::Block(b) = r {
                let expect = if b.start >= 500 { 1 } else { 2 };
                assert_eq!(b.ploidy, expect, "{b:?}");
                assert!(b.start >= 500 || b.end < 500, "{b:?}");
            }
        }
    }

    #[test]
    fn a_clipped_insertion_is_assembled() {
        // A heterozygous 30-base insertion after base 500 that the "aligner" never placed:
        // alternate reads are soft-clipped where they enter it.
        let contig = random_bases(&mut fastrand::Rng::with_seed(21), 1000);
        let mut ins = random_bases(&mut fastrand::Rng::with_seed(22), 30);
        // Its last base differs from the base before it, so it cannot be left-shifted.
        ins[29] = (contig[500] + 1) % 4;
        let mut alt = contig[..=500].to_vec();
        alt.extend(&ins);
        alt.extend(&contig[501..]);
        let mut reads = Vec::new();
        for s in (300..600).step_by(4) {
            reads.push(read(
                s,
                vec![(CigarOp::Match, 100)],
                &contig[s as usize..s as usize + 100],
            ));
            let a = &alt[s as usize..s as usize + 100];
            let cigar = if s + 100 <= 501 {
                vec![(CigarOp::Match, 100)]
            } else if s <= 501 {
                let m = (501 - s) as u32;
                vec![(CigarOp::Match, m), (CigarOp::SoftClip, 100 - m)]
            } else if s < 531 {
                // Starts inside the insertion: its first bases clipped, the rest on 501...
                let c = (531 - s) as u32;
                reads.push(read(
                    501,
                    vec![(CigarOp::SoftClip, c), (CigarOp::Match, 100 - c)],
                    a,
                ));
                continue;
            } else {
                // Past it: aligned on the reference 30 bases to the left.
                reads.push(read(s - 30, vec![(CigarOp::Match, 100)], a));
                continue;
            };
            reads.push(read(s, cigar, a));
        }
        let mut expected_alt = vec![contig[500]];
        expected_alt.extend(&ins);
        let calls = variants(&contig, reads);
        assert!(
            calls
                .iter()
                .any(|c| c.0 == 500 && c.2 == vec![expected_alt.clone()] && c.3 == [0, 1]),
            "{calls:?}"
        );
        assert_eq!(calls.len(), 1, "{calls:?}");
    }

    #[test]
    fn nearby_variants_on_different_haplotypes_are_both_heterozygous() {
        // Haplotype 1 deletes 2 bases after 400; haplotype 2 has a SNP at 412.
        let contig = random_bases(&mut fastrand::Rng::with_seed(5), 900);
        let mut h1 = contig[..=400].to_vec();
        h1.extend(&contig[403..]);
        let mut h2 = contig.clone();
        h2[412] = (h2[412] + 1) % 4;
        let mut reads = Vec::new();
        for s in (250..450).step_by(5) {
            let s = s as usize;
            reads.push(read(s as u64, vec![(CigarOp::Match, 100)], &h2[s..s + 100]));
            let cigar = if s + 100 <= 401 || s > 401 {
                vec![(CigarOp::Match, 100)]
            } else {
                let m = (401 - s) as u32;
                vec![
                    (CigarOp::Match, m),
                    (CigarOp::Del, 2),
                    (CigarOp::Match, 100 - m),
                ]
            };
            let pos = if s > 401 { s as u64 + 2 } else { s as u64 };
            reads.push(read(pos, cigar, &h1[s..s + 100]));
        }
        let records: Vec<Variant> = {
            let mut sorted = reads.clone();
            sorted.sort_by_key(|r| r.pos);
            call_contig(&contig, &sorted, &CallParams::default(), &Scalar)
                .unwrap()
                .into_iter()
                .filter_map(|r| match r {
                    Record::Variant(v) => Some(v),
                    Record::Block(_) => None,
                })
                .collect()
        };
        // Phased against each other (trans), in one phase group named after the first.
        let phases: Vec<_> = records.iter().map(|v| v.phase.clone().unwrap()).collect();
        assert_eq!(phases[0].id, phases[1].id);
        assert_eq!(phases[0].set, records[0].pos + 1);
        assert!(
            phases[0]
                .id
                .starts_with(&format!("{}_", records[0].pos + 1))
        );
        assert_ne!(phases[0].gt, phases[1].gt, "on different haplotypes");
        assert!(phases.iter().all(|p| p.gt == [0, 1] || p.gt == [1, 0]));
        let calls = variants(&contig, reads);
        assert_eq!(calls.len(), 2, "{calls:?}");
        // The deletion, left-aligned: deleting its two bases gives haplotype 1.
        let (pos, r, a, gt) = &calls[0];
        assert_eq!((r.len(), a[0].len(), *gt), (3, 1, [0, 1]));
        let mut applied = contig[..=*pos as usize].to_vec();
        applied.extend(&contig[*pos as usize + 3..]);
        assert_eq!(applied, h1);
        assert_eq!(
            calls[1],
            (412u64, vec![contig[412]], vec![vec![h2[412]]], [0u8, 1])
        );
    }

    /// Reads of 100 bases every 4 from `hap`, aligned with a deletion of `del` bases after
    /// `anchor` where they cross it.
    fn reads_with_deletion(
        hap: &[u8],
        anchor: usize,
        del: u32,
        from: usize,
        to: usize,
    ) -> Vec<AlignedRead> {
        let mut out = Vec::new();
        for s in (from..to).step_by(4) {
            let cigar = if s + 100 <= anchor + 1 || del == 0 {
                vec![(CigarOp::Match, 100)]
            } else if s <= anchor {
                let m = (anchor + 1 - s) as u32;
                vec![
                    (CigarOp::Match, m),
                    (CigarOp::Del, del),
                    (CigarOp::Match, 100 - m),
                ]
            } else {
                out.push(read(
                    s as u64 + u64::from(del),
                    vec![(CigarOp::Match, 100)],
                    &hap[s..s + 100],
                ));
                continue;
            };
            out.push(read(s as u64, cigar, &hap[s..s + 100]));
        }
        out
    }

    #[test]
    fn an_isolated_site_with_two_alt_bases_is_one_record_of_both() {
        let contig = random_bases(&mut fastrand::Rng::with_seed(9), 700);
        let (mut h1, mut h2) = (contig.clone(), contig.clone());
        h1[350] = (contig[350] + 1) % 4;
        h2[350] = (contig[350] + 2) % 4;
        let mut reads = Vec::new();
        for s in (200..450).step_by(6) {
            reads.push(read(
                s,
                vec![(CigarOp::Match, 100)],
                &h1[s as usize..s as usize + 100],
            ));
            reads.push(read(
                s + 3,
                vec![(CigarOp::Match, 100)],
                &h2[s as usize + 3..s as usize + 103],
            ));
        }
        let calls = variants(&contig, reads);
        assert_eq!(calls.len(), 1, "{calls:?}");
        let (pos, _, alts, gt) = &calls[0];
        assert_eq!((*pos, alts.len(), *gt), (350, 2, [1, 2]), "{calls:?}");
    }

    #[test]
    fn two_alternate_alleles_make_one_multi_allelic_record() {
        // A 3-base deletion after 400 on one haplotype, a SNP inside it (402) on the other.
        let contig = random_bases(&mut fastrand::Rng::with_seed(8), 900);
        let mut h1 = contig[..=400].to_vec();
        h1.extend(&contig[404..]);
        let mut h2 = contig.clone();
        h2[402] = (h2[402] + 1) % 4;
        let mut reads = reads_with_deletion(&h1, 400, 3, 250, 450);
        reads.extend(reads_with_deletion(&h2, 400, 0, 250, 450));
        let calls = variants(&contig, reads);
        assert_eq!(calls.len(), 1, "{calls:?}");
        let (pos, r, alts, gt) = &calls[0];
        // Each ALT in place of REF gives one haplotype (the deletion may be left-aligned).
        let with = |alt: &[u8]| {
            let mut h = contig[..*pos as usize].to_vec();
            h.extend(alt);
            h.extend(&contig[*pos as usize + r.len()..]);
            h
        };
        assert_eq!(alts.len(), 2, "{calls:?}");
        assert_eq!(with(&alts[0]), h1);
        assert_eq!(with(&alts[1]), h2);
        assert_eq!(*gt, [1, 2]);
    }
}
