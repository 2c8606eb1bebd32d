//! `genoa run`, `genoa align` and `genoa call`.

use std::path::PathBuf;

use clap::Args;

use crate::call::CallParams;
use crate::cli::{ComputeArgs, ReadsArgs};
use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::io::sam_header::ReadGroupLine;
use crate::pipeline::{self, AlignConfig, ReadsInput, RunConfig, Summary};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub reads: ReadsArgs,
    /// Sample name (SM of the read group, gVCF sample column, output file names).
    #[arg(short = 's', long)]
    pub sample: String,
    /// Output directory (created if missing).
    #[arg(short = 'o', long)]
    pub outdir: PathBuf,
    /// Read group line, e.g. '@RG\tID:lane1\tSM:NA12878\tPL:ILLUMINA' (default: ID and SM = sample).
    #[arg(short = 'R', long = "read-group")]
    pub read_group: Option<String>,
    /// Write SAMPLE.cram (reference-based, + .crai) instead of SAMPLE.bam.
    #[arg(long)]
    pub cram: bool,
    /// GQ bands of the gVCF's reference blocks: gatk (1..60,70,80,90,99), warp (10..90 step
    /// 10) or reblock (20,30,40).
    #[arg(long, default_value = "gatk", value_parser = parse_gq_bands)]
    pub gq_bands: GqBands,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// A GQ band preset and its boundaries.
#[derive(Clone, Debug)]
pub struct GqBands(pub Vec<u32>);

fn parse_gq_bands(s: &str) -> std::result::Result<GqBands, String> {
    crate::call::gvcf::gq_band_preset(s)
        .map(GqBands)
        .ok_or_else(|| format!("{s:?}: expected gatk, warp or reblock"))
}

#[derive(Args, Debug)]
pub struct AlignArgs {
    #[command(flatten)]
    pub reads: ReadsArgs,
    /// Read group line, e.g. '@RG\tID:lane1\tSM:NA12878'.
    #[arg(short = 'R', long = "read-group")]
    pub read_group: String,
    /// Output BAM, or CRAM when the name ends in .cram (its index is written beside it).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

#[derive(Args, Debug)]
pub struct CallArgs {
    /// Reference FASTA.
    #[arg(short = 'r', long = "reference")]
    pub reference: PathBuf,
    /// Coordinate-sorted, indexed BAM (.bai or .csi beside it) or CRAM (.crai beside it; decoded
    /// against --reference).
    #[arg(short = 'i', long)]
    pub input: PathBuf,
    /// Output gVCF (.g.vcf.gz), or VCF with --output-mode variants; its index is written
    /// beside it.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Call only this region: CHR, CHR:BEG or CHR:BEG-END (1-based, inclusive). Records that
    /// start inside it are written, exactly as a whole-genome run writes them, so regions that
    /// tile the genome concatenate to the whole-genome file. Repeatable.
    #[arg(long = "region", conflicts_with = "regions")]
    pub region: Vec<String>,
    /// Call only the intervals of this BED file (as --region).
    #[arg(long)]
    pub regions: Option<PathBuf>,
    /// Reads with a lower mapping quality are not used (as HaplotypeCaller's
    /// --minimum-mapping-quality). A used read's base qualities are capped at its MAPQ.
    #[arg(long, default_value_t = 20)]
    pub min_mapq: u8,
    /// Grid step of the calling chunks (part of the output's definition: reference blocks
    /// end on the grid); for tests of the chunk boundaries.
    #[arg(long, default_value_t = crate::call::regions::CHUNK_LEN, hide = true)]
    pub chunk_len: u64,
    /// Sample name (default: SM of the BAM's read group, else the file name).
    #[arg(short = 's', long)]
    pub sample: Option<String>,
    /// Worker threads (0 = one per core).
    #[arg(short = '@', long, default_value_t = 0)]
    pub threads: usize,
    /// Kernel backend (indel likelihoods): auto, scalar, simd or gpu.
    #[arg(long, default_value = "auto", value_parser = super::parse_backend)]
    pub backend: crate::backend::BackendChoice,
    /// GQ bands of the reference blocks: gatk (1..60,70,80,90,99), warp (10..90 step 10) or
    /// reblock (20,30,40).
    #[arg(long, default_value = "gatk", value_parser = parse_gq_bands)]
    pub gq_bands: GqBands,
    /// gvcf (variants and reference blocks, with <NON_REF>) or variants (a plain VCF).
    #[arg(long, default_value = "gvcf", value_parser = parse_output_mode)]
    pub output_mode: crate::call::OutputMode,
}

fn parse_output_mode(s: &str) -> std::result::Result<crate::call::OutputMode, String> {
    match s {
        "gvcf" => Ok(crate::call::OutputMode::Gvcf),
        "variants" => Ok(crate::call::OutputMode::Variants),
        _ => Err(format!("{s:?}: expected gvcf or variants")),
    }
}

fn reads_input(r: &ReadsArgs) -> ReadsInput {
    match (&r.r2, r.interleaved) {
        (Some(r2), false) => ReadsInput::Paired(r.r1.clone(), r2.clone()),
        _ => ReadsInput::Interleaved(r.r1.clone()),
    }
}

fn align_config(
    reads: &ReadsArgs,
    read_group: ReadGroupLine,
    compute: &ComputeArgs,
    command_line: &str,
) -> AlignConfig {
    AlignConfig {
        reference: reads.reference.clone(),
        reads: reads_input(reads),
        read_group,
        backend: compute.backend,
        threads: compute.threads,
        batch_pairs: compute.batch_pairs,
        memory: compute.memory,
        command_line: command_line.to_string(),
    }
}

fn print_summary(s: &Summary) {
    let rate = if s.seconds > 0.0 {
        s.reads as f64 / s.seconds
    } else {
        0.0
    };
    eprintln!(
        "genoa: {} reads, {:.2}% mapped, {} SNPs and {} indels called, backend {}, {:.1} s ({:.0} reads/s)",
        s.reads,
        100.0 * s.mapped_fraction(),
        s.snps,
        s.indels,
        s.backend,
        s.seconds,
        rate
    );
}

pub fn run(a: RunArgs, command_line: &str) -> Result<()> {
    if a.sample.is_empty() || a.sample.contains(['/', '\t', '\n']) {
        return Err(Error::Config(format!(
            "sample name {:?}: must be non-empty, without '/' or tabs",
            a.sample
        )));
    }
    let rg = match &a.read_group {
        Some(line) => {
            let rg = ReadGroupLine::parse(line)?;
            if rg.sample != a.sample {
                return Err(Error::Config(format!(
                    "read group SM {:?} differs from --sample {:?}",
                    rg.sample, a.sample
                )));
            }
            rg
        }
        None => ReadGroupLine::for_sample(&a.sample),
    };
    let cfg = RunConfig {
        align: align_config(&a.reads, rg, &a.compute, command_line),
        sample: a.sample.clone(),
        outdir: a.outdir.clone(),
        call: CallParams {
            gq_bands: a.gq_bands.0.clone(),
            ..CallParams::default()
        },
        cram: a.cram,
    };
    let s = pipeline::run(&cfg)?;
    print_summary(&s);
    Ok(())
}

pub fn align(a: AlignArgs, command_line: &str) -> Result<()> {
    let rg = ReadGroupLine::parse(&a.read_group)?;
    let cfg = align_config(&a.reads, rg, &a.compute, command_line);
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        pipeline::ensure_writable_dir(dir)?;
    }
    let t0 = std::time::Instant::now();
    let reference = Reference::load(&cfg.reference)?;
    let pool = pipeline::thread_pool(cfg.threads)?;
    let backend = crate::backend::select(cfg.backend)?;
    let mut summary = Summary {
        backend: backend.name(),
        ..Summary::default()
    };
    pool.install(|| -> Result<()> {
        pipeline::align_to_file(&cfg, &reference, backend, &a.output, &mut summary).map(drop)
    })?;
    summary.seconds = t0.elapsed().as_secs_f64();
    let s = &summary;
    eprintln!(
        "genoa align: {} reads, {:.2}% mapped, {} duplicate pairs and {} duplicate single reads marked, backend {}, {:.1} s ({:.0} reads/s)",
        s.reads,
        100.0 * s.mapped_fraction(),
        s.duplicate_pairs,
        s.duplicate_fragments,
        s.backend,
        s.seconds,
        s.reads as f64 / s.seconds.max(1e-9)
    );
    Ok(())
}

pub fn call(a: CallArgs, command_line: &str) -> Result<()> {
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        pipeline::ensure_writable_dir(dir)?;
    }
    let t0 = std::time::Instant::now();
    let reference = Reference::load(&a.reference)?;
    let targets = if let Some(bed) = &a.regions {
        Some(crate::call::regions::read_bed(bed, &reference)?)
    } else if !a.region.is_empty() {
        Some(
            a.region
                .iter()
                .map(|r| crate::call::regions::parse_region(r, &reference))
                .collect::<Result<Vec<_>>>()?,
        )
    } else {
        None
    };
    let is_cram = a
        .input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("cram"));
    let source: Box<dyn pipeline::ReadSource> = if is_cram {
        Box::new(crate::io::cram::IndexedCram::open(&a.input, &reference)?)
    } else {
        Box::new(crate::io::bam::IndexedBam::open(&a.input, &reference)?)
    };
    let sample = match a.sample {
        Some(s) => s,
        None => source.sample().unwrap_or_else(|| {
            a.input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "SAMPLE".into())
        }),
    };
    let params = CallParams {
        gq_bands: a.gq_bands.0,
        chunk_len: a.chunk_len.max(2 * crate::call::regions::LEAD),
        min_mapq: a.min_mapq,
        ..CallParams::default()
    };
    let pool = pipeline::thread_pool(a.threads)?;
    let backend = crate::backend::select(a.backend)?;
    let text = crate::io::gvcf::header(
        &reference,
        &sample,
        &params.gq_bands,
        a.output_mode,
        command_line,
    );
    let summary = pool.install(|| {
        pipeline::call_to_file(
            &reference,
            source.as_ref(),
            targets.as_deref(),
            &params,
            backend.as_ref(),
            &a.output,
            &text,
            a.output_mode,
        )
    })?;
    let t = &summary.times;
    eprintln!(
        "genoa: {} chunks, {} reads, {} SNPs and {} indels called, {:.1} s",
        t.chunks,
        t.reads,
        summary.snps,
        summary.indels,
        t0.elapsed().as_secs_f64()
    );
    eprintln!(
        "genoa: {} active regions ({} not assembled); stage CPU time: fetch {:.2} s, pileup {:.2} s, assembly {:.2} s, haplotype alignment {:.2} s, pair-HMM {:.2} s, genotyping {:.2} s, write {:.2} s",
        t.regions,
        t.assembly_failed,
        t.fetch.as_secs_f64(),
        t.pileup.as_secs_f64(),
        t.assembly.as_secs_f64(),
        t.haplotype_align.as_secs_f64(),
        t.pair_hmm.as_secs_f64(),
        t.genotype.as_secs_f64(),
        t.write.as_secs_f64()
    );
    Ok(())
}
