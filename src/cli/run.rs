//! `genoa run`, `genoa align` and `genoa call`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::call::CallParams;
use crate::cli::{AlignTuningArgs, ComputeArgs, ReadsArgs};
use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::model::gvcf::OutputMode;
use crate::pipeline::config::{AlignConfig, GatherConfig, Lane, RunConfig};
use crate::pipeline::{self, Summary};

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
    /// Read group line, e.g. '@RG\tID:lane1\tSM:NA12878\tLB:lib1\tPL:ILLUMINA'; one per lane
    /// (`-1`), in the same order. LB names the library: duplicates are marked within a
    /// library, and each library has its own insert-size model. Default: ID and SM = sample
    /// (several lanes: ID = sample.R1-file-name), one library.
    #[arg(short = 'R', long = "read-group")]
    pub read_group: Vec<String>,
    /// Write SAMPLE.cram (reference-based, + .crai) instead of SAMPLE.bam.
    #[arg(long)]
    pub cram: bool,
    /// GQ bands of the gVCF's reference blocks: gatk (1..60,70,80,90,99), warp (10..90 step
    /// 10) or reblock (20,30,40).
    #[arg(long, default_value = "gatk", value_parser = parse_gq_bands)]
    pub gq_bands: GqBands,
    /// Write a variant under another haplotype's deletion as HaplotypeCaller does: a record of
    /// its own with the `*` allele, overlapping the deletion's record (GATK-style gVCF).
    /// Default: one record whose REF covers both, so every base is in exactly one record.
    #[arg(long)]
    pub star_alleles: bool,
    /// Align only shard K of N (1-based) of the reads, into OUTDIR/SAMPLE.shard-K-of-N/; then
    /// `genoa gather` joins the N shards into the outputs of one run.
    #[arg(long, value_parser = crate::pipeline::segments::Shard::parse)]
    pub shard: Option<crate::pipeline::segments::Shard>,
    /// Directory for the checkpoints and sort runs of an unsharded run (default: OUTDIR). A run
    /// killed and started again with the same command resumes from them.
    #[arg(long)]
    pub tmp_dir: Option<PathBuf>,
    /// Remove the checkpoints an earlier run of this sample left (killed, or ended by an
    /// error) and start over; without it the run resumes from them when the inputs are the
    /// same.
    #[arg(long)]
    pub restart: bool,
    /// Start even when the free disk looks too small (the estimate, logged with -v: 1.3x the
    /// read files for the checkpoints, 1.0x for the outputs).
    #[arg(long)]
    pub no_space_check: bool,
    #[command(flatten)]
    pub targets: TargetArgs,
    #[command(flatten)]
    pub sex: SexArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
    #[command(flatten)]
    pub tuning: AlignTuningArgs,
}

#[derive(Args, Debug)]
pub struct GatherArgs {
    /// Reference FASTA (the one the shards were aligned to).
    #[arg(short = 'r', long = "reference")]
    pub reference: PathBuf,
    /// Sample name, as given to the shards.
    #[arg(short = 's', long)]
    pub sample: String,
    /// Output directory (created if missing).
    #[arg(short = 'o', long)]
    pub outdir: PathBuf,
    /// The shard directories (SAMPLE.shard-K-of-N), all N of them; default: those in OUTDIR.
    pub shards: Vec<PathBuf>,
    /// Write SAMPLE.cram instead of SAMPLE.bam.
    #[arg(long)]
    pub cram: bool,
    /// GQ bands of the gVCF's reference blocks (as `genoa run`).
    #[arg(long, default_value = "gatk", value_parser = parse_gq_bands)]
    pub gq_bands: GqBands,
    /// Write a variant under another haplotype's deletion as HaplotypeCaller does: a record of
    /// its own with the `*` allele, overlapping the deletion's record (GATK-style gVCF).
    /// Default: one record whose REF covers both, so every base is in exactly one record.
    #[arg(long)]
    pub star_alleles: bool,
    /// Memory for the reads the streaming caller holds (K, M or G suffix), as `genoa run -m`;
    /// not a limit on the process (README, "Memory").
    #[arg(short = 'm', long = "caller-memory", alias = "memory", alias = "max-memory",
          default_value_t = super::ByteSize(AlignConfig::DEFAULT_MEMORY))]
    pub memory: super::ByteSize,
    #[command(flatten)]
    pub targets: TargetArgs,
    #[command(flatten)]
    pub sex: SexArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// A GQ band preset: its boundaries, and whether it is `reblock` (ReblockGVCF's output).
#[derive(Clone, Debug)]
pub struct GqBands(pub Vec<u32>, pub bool);

fn parse_gq_bands(s: &str) -> std::result::Result<GqBands, String> {
    crate::model::gvcf::gq_band_preset(s)
        .map(|b| GqBands(b, s == "reblock"))
        .ok_or_else(|| format!("{s:?}: expected gatk, warp or reblock"))
}

#[derive(Args, Debug)]
pub struct AlignArgs {
    #[command(flatten)]
    pub reads: ReadsArgs,
    /// Read group line, e.g. '@RG\tID:lane1\tSM:NA12878\tLB:lib1'; one per lane (`-1`), in
    /// the same order (not with --fastq-list).
    #[arg(short = 'R', long = "read-group")]
    pub read_group: Vec<String>,
    /// Output BAM, or CRAM when the name ends in .cram (its index is written beside it).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
    #[command(flatten)]
    pub tuning: AlignTuningArgs,
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
    #[command(flatten)]
    pub targets: TargetArgs,
    #[command(flatten)]
    pub sex: SexArgs,
    /// Reads with a lower mapping quality are not used (as HaplotypeCaller's
    /// --minimum-mapping-quality). A used read's base qualities are capped at its MAPQ.
    #[arg(long, default_value_t = 20)]
    pub min_mapq: u8,
    /// Grid step of the calling chunks (part of the output's definition: reference blocks
    /// end on the grid; at least twice the chunks' 1-kb lead); for tests of the chunk
    /// boundaries.
    #[arg(long, default_value_t = crate::call::regions::CHUNK_LEN, hide = true,
          value_parser = clap::value_parser!(u64).range(2 * crate::call::regions::LEAD..))]
    pub chunk_len: u64,
    /// Sample name (default: SM of the BAM's read group, else the file name).
    #[arg(short = 's', long)]
    pub sample: Option<String>,
    #[command(flatten)]
    pub compute: ComputeArgs,
    /// GQ bands of the reference blocks: gatk (1..60,70,80,90,99), warp (10..90 step 10) or
    /// reblock (20,30,40).
    #[arg(long, default_value = "gatk", value_parser = parse_gq_bands)]
    pub gq_bands: GqBands,
    /// Write a variant under another haplotype's deletion as HaplotypeCaller does: a record of
    /// its own with the `*` allele, overlapping the deletion's record (GATK-style gVCF).
    /// Default: one record whose REF covers both, so every base is in exactly one record.
    #[arg(long)]
    pub star_alleles: bool,
    /// gvcf (variants and reference blocks, with <NON_REF>) or variants (a plain VCF).
    #[arg(long, value_enum, default_value_t = OutputModeArg::Gvcf)]
    pub output_mode: OutputModeArg,
}

/// What to call.
#[derive(Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// Call only this region: CHR, CHR:BEG or CHR:BEG-END (1-based, inclusive). Records that
    /// start inside it are written, exactly as a whole-genome run writes them, so regions that
    /// tile the genome concatenate to the whole-genome file. Repeatable. Without it the
    /// primary assembly is called: ALT haplotypes, HLA and decoy contigs (EBV, *_decoy) only
    /// when a region names them.
    #[arg(long = "region", conflicts_with = "regions")]
    pub region: Vec<String>,
    /// Call only the intervals of this BED file (as --region).
    #[arg(long)]
    pub regions: Option<PathBuf>,
}

impl TargetArgs {
    fn inputs(&self) -> Option<&Path> {
        self.regions.as_deref()
    }

    fn targets(&self) -> pipeline::config::Targets {
        use pipeline::config::Targets;
        match (&self.regions, self.region.is_empty()) {
            (Some(bed), _) => Targets::Bed(bed.clone()),
            (None, false) => Targets::Regions(self.region.clone()),
            (None, true) => Targets::All,
        }
    }
}

/// The sample's sex and the PARs.
#[derive(Args, Debug, Clone)]
pub struct SexArgs {
    /// The sample's sex: XX or XY as declared (calls follow it; the default QC policy fails a
    /// sample whose X and Y depth say otherwise), or auto: estimated from the X and Y depth
    /// against the autosomes. chrX outside the PARs and chrY are haploid with one X or Y;
    /// chrY is not called without Y.
    #[arg(long, default_value = "auto", value_parser = parse_sex)]
    pub sex: SexValue,
    /// BED of the pseudo-autosomal regions on X (and Y), for a reference other than GRCh38,
    /// GRCh37 and T2T-CHM13 (theirs are built in, recognised by the X and Y lengths).
    #[arg(long)]
    pub par_bed: Option<PathBuf>,
}

/// A `--sex` value.
#[derive(Clone, Copy, Debug)]
pub struct SexValue(pub crate::call::ploidy::SexArg);

fn parse_sex(s: &str) -> std::result::Result<SexValue, String> {
    use crate::call::ploidy::{Karyotype, SexArg};
    match s {
        "auto" => Ok(SexValue(SexArg::Auto)),
        _ => Karyotype::parse_sex(s)
            .map(|k| SexValue(SexArg::Declared(k)))
            .ok_or_else(|| format!("{s:?}: expected XX, XY or auto")),
    }
}

impl SexArgs {
    fn inputs(&self) -> Option<&Path> {
        self.par_bed.as_deref()
    }

    fn config(&self) -> pipeline::sex::SexConfig {
        pipeline::sex::SexConfig {
            sex: self.sex.0,
            par_bed: self.par_bed.clone(),
        }
    }
}

/// What `genoa call` writes.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum OutputModeArg {
    /// Variants and reference blocks, with `<NON_REF>`.
    Gvcf,
    /// A plain VCF of the variants.
    Variants,
}

impl From<OutputModeArg> for OutputMode {
    fn from(m: OutputModeArg) -> OutputMode {
        match m {
            OutputModeArg::Gvcf => OutputMode::Gvcf,
            OutputModeArg::Variants => OutputMode::Variants,
        }
    }
}

fn align_config(
    reads: &ReadsArgs,
    lanes: Vec<Lane>,
    compute: &ComputeArgs,
    tuning: &AlignTuningArgs,
    command_line: &str,
) -> AlignConfig {
    AlignConfig {
        backend: compute.backend.into(),
        threads: compute.threads.threads,
        batch_pairs: tuning.batch_pairs,
        memory: tuning.memory.0,
        segment_pairs: tuning.segment_pairs,
        secondary: tuning.secondary,
        index: reads.index.clone(),
        read_index_dir: reads.read_index.clone(),
        command_line: command_line.to_string(),
        ..AlignConfig::new(reads.reference.clone(), lanes)
    }
}

fn print_summary(s: &Summary) {
    if s.resumed_segments > 0 {
        eprintln!(
            "genoa: resumed: {} aligned segments of an earlier run were kept ({} of their pairs skipped unread through read indexes)",
            s.resumed_segments, s.pairs_skipped
        );
    }
    let rate = s.reads as f64 / s.seconds.max(1e-9);
    let peak = crate::report::progress::peak_rss().unwrap_or(0) as f64 / 1e6;
    let (ba, hmm) = s.kernel_seconds;
    crate::report::progress::summary(
        &format!(
            "{} reads, {:.2}% mapped, {} SNPs and {} indels called; wall {:.1} s ({:.0} reads/s), peak memory {:.0} MB; backend {} for alignment and calling; kernels {:.2} s (banded_align {:.2} s, pair_hmm {:.2} s, summed over threads)",
            s.reads,
            100.0 * s.mapped_fraction(),
            s.snps,
            s.indels,
            s.seconds,
            rate,
            peak,
            s.backend,
            ba + hmm,
            ba,
            hmm
        ),
        &[
            ("reads", s.reads.to_string()),
            ("mapped_fraction", format!("{:.6}", s.mapped_fraction())),
            ("snps", s.snps.to_string()),
            ("indels", s.indels.to_string()),
            ("wall_seconds", format!("{:.2}", s.seconds)),
            ("reads_per_second", format!("{rate:.0}")),
            ("peak_memory_mb", format!("{peak:.0}")),
            ("backend_align", s.backend.clone()),
            ("backend_call", s.backend.clone()),
            ("banded_align_seconds", format!("{ba:.2}")),
            ("pair_hmm_seconds", format!("{hmm:.2}")),
            ("resumed_segments", s.resumed_segments.to_string()),
        ],
    );
}

/// A sample name that can name files and a VCF column: not empty, no '/', no whitespace other
/// than a plain space, no control characters.
fn check_sample(sample: &str) -> Result<()> {
    if sample.is_empty()
        || sample.trim() != sample
        || sample
            .chars()
            .any(|c| c == '/' || c.is_control() || (c.is_whitespace() && c != ' '))
    {
        return Err(Error::Config(format!(
            "sample name {sample:?}: must be non-empty, without '/', tabs, line breaks, other control characters or leading/trailing spaces"
        )));
    }
    Ok(())
}

/// Every file a run reads: the arguments' and the lanes' (those a FASTQ list names).
fn lane_inputs<'a>(reads: &'a ReadsArgs, lanes: &'a [Lane]) -> Vec<&'a Path> {
    let mut v = reads.inputs();
    v.extend(
        lanes
            .iter()
            .flat_map(|l| l.reads.files())
            .map(|p| p.as_path()),
    );
    v
}

pub fn run(a: RunArgs, command_line: &str) -> Result<()> {
    check_sample(&a.sample)?;
    let lanes = a.reads.lanes(Some(&a.sample), &a.read_group)?;
    {
        let o = crate::pipeline::config::RunOutputs::of(&a.outdir, &a.sample, a.cram);
        let mut inputs = lane_inputs(&a.reads, &lanes);
        inputs.extend(a.targets.inputs().into_iter().chain(a.sex.inputs()));
        crate::io::atomic::refuse_inputs(
            &[&o.alignments, &o.gvcf, &o.qc_json, &o.report_html],
            &inputs,
        )?;
    }
    let shard = a.shard.unwrap_or(crate::pipeline::segments::Shard::ALL);
    let align = align_config(&a.reads, lanes, &a.compute, &a.tuning, command_line);
    let cfg = RunConfig {
        call: CallParams {
            gq_bands: a.gq_bands.0.clone(),
            reblock: a.gq_bands.1,
            star_alleles: a.star_alleles,
            ..CallParams::default()
        },
        cram: a.cram,
        shard,
        tmp_dir: a.tmp_dir.clone(),
        restart: a.restart,
        space_check: !a.no_space_check,
        sex: a.sex.config(),
        targets: a.targets.targets(),
        ..RunConfig::new(align, a.sample.clone(), a.outdir.clone())
    };
    let s = pipeline::run(&cfg)?;
    if shard.n > 1 {
        eprintln!(
            "genoa: shard {}/{}: {} read pairs aligned (of {} pairs in the input, {} of them skipped unread through read indexes) into {}, {:.1} s; join the shards with `genoa gather`",
            shard.k,
            shard.n,
            s.pairs,
            s.pairs_read,
            s.pairs_skipped,
            cfg.shard_dir(shard).display(),
            s.seconds
        );
    } else {
        print_summary(&s);
    }
    Ok(())
}

pub fn gather(a: GatherArgs, command_line: &str) -> Result<()> {
    // The read group is the shards' own (checked against the sample by the pipeline).
    check_sample(&a.sample)?;
    {
        let o = crate::pipeline::config::RunOutputs::of(&a.outdir, &a.sample, a.cram);
        let mut inputs = vec![a.reference.as_path()];
        inputs.extend(a.targets.inputs().into_iter().chain(a.sex.inputs()));
        crate::io::atomic::refuse_inputs(
            &[&o.alignments, &o.gvcf, &o.qc_json, &o.report_html],
            &inputs,
        )?;
    }
    let shards = if a.shards.is_empty() {
        let prefix = format!("{}.shard-", a.sample);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&a.outdir)
            .map_err(|e| Error::io(&a.outdir, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix) && e.path().is_dir())
            .map(|e| e.path())
            .collect();
        found.sort();
        found
    } else {
        a.shards.clone()
    };
    let cfg = GatherConfig {
        reference: a.reference.clone(),
        sample: a.sample.clone(),
        outdir: a.outdir.clone(),
        shards,
        call: CallParams {
            gq_bands: a.gq_bands.0.clone(),
            reblock: a.gq_bands.1,
            star_alleles: a.star_alleles,
            ..CallParams::default()
        },
        cram: a.cram,
        backend: a.compute.backend.into(),
        threads: a.compute.threads.threads,
        memory: a.memory.0,
        command_line: command_line.to_string(),
        sex: a.sex.config(),
        targets: a.targets.targets(),
    };
    let s = pipeline::gather(&cfg)?;
    print_summary(&s);
    Ok(())
}

pub fn align(a: AlignArgs, command_line: &str) -> Result<()> {
    let lanes = a.reads.lanes(None, &a.read_group)?;
    crate::io::atomic::refuse_inputs(&[&a.output], &lane_inputs(&a.reads, &lanes))?;
    let cfg = align_config(&a.reads, lanes, &a.compute, &a.tuning, command_line);
    cfg.check()?;
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        pipeline::ensure_writable_dir(dir)?;
    }
    let t0 = std::time::Instant::now();
    let profile = crate::report::qc::ProfileStart::now();
    let reference = Reference::load(&cfg.reference)?;
    let pool = pipeline::thread_pool(cfg.threads)?;
    let backend = crate::backend::select(cfg.backend)?;
    let mut summary = Summary {
        backend: backend.name(),
        ..Summary::default()
    };
    pool.install(|| -> Result<()> {
        pipeline::align_to_file(&cfg, &reference, backend, &a.output, &mut summary)
    })?;
    summary.seconds = t0.elapsed().as_secs_f64();
    tracing::info!("{}", crate::report::qc::RunProfile::since(&profile));
    let s = &summary;
    eprintln!(
        "genoa align: {} reads, {:.2}% mapped, {} duplicate pairs ({} optical) and {} duplicate single reads marked, backend {}, {:.1} s ({:.0} reads/s)",
        s.reads,
        100.0 * s.mapped_fraction(),
        s.duplicate_pairs,
        s.optical_duplicate_pairs,
        s.duplicate_fragments,
        s.backend,
        s.seconds,
        s.reads as f64 / s.seconds.max(1e-9)
    );
    Ok(())
}

pub fn call(a: CallArgs, command_line: &str) -> Result<()> {
    if let Some(s) = &a.sample {
        check_sample(s)?;
    }
    {
        let mut inputs = vec![a.reference.as_path(), a.input.as_path()];
        inputs.extend(a.targets.inputs().into_iter().chain(a.sex.inputs()));
        crate::io::atomic::refuse_inputs(&[&a.output], &inputs)?;
    }
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        pipeline::ensure_writable_dir(dir)?;
    }
    let t0 = std::time::Instant::now();
    let profile = crate::report::qc::ProfileStart::now();
    let reference = Reference::load(&a.reference)?;
    let targets = a.targets.targets().resolve(&reference)?;
    let source: Box<dyn pipeline::source::ReadSource> = if crate::io::sink::is_cram(&a.input) {
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
    check_sample(&sample)?;
    let pool = pipeline::thread_pool(a.compute.threads.threads)?;
    // The karyotype from a pass over the X, Y and a sample of the autosomes' reads.
    let decision = pool.install(|| {
        pipeline::sex::decide_from_source(&reference, &a.sex.config(), source.as_ref())
    })?;
    let params = CallParams {
        gq_bands: a.gq_bands.0,
        reblock: a.gq_bands.1,
        star_alleles: a.star_alleles,
        chunk_len: a.chunk_len,
        min_mapq: a.min_mapq,
        ploidy: std::sync::Arc::new(decision.ploidy),
        // A plain VCF holds calls only.
        emit_candidates: a.output_mode == OutputModeArg::Gvcf,
        ..CallParams::default()
    };
    let backend = crate::backend::select(a.compute.backend.into())?;
    let mode = OutputMode::from(a.output_mode);
    let text = pipeline::sex::with_ploidy_line(
        crate::io::gvcf::header(&reference, &sample, &params.gq_bands, mode, command_line),
        &reference,
        &params.ploidy,
    );
    let out = pipeline::calling::CallOutput::create(&a.output, &text, mode)?;
    let summary = pipeline::call_to_file(
        &pool,
        &reference,
        source.as_ref(),
        targets.as_deref(),
        &params,
        backend.as_ref(),
        out,
    )?;
    let profile = crate::report::qc::RunProfile::since(&profile);
    let t = &summary.counts;
    eprintln!(
        "genoa: {} chunks, {} reads, {} SNPs and {} indels called, {:.1} s",
        t.chunks,
        t.reads,
        summary.snps,
        summary.indels,
        t0.elapsed().as_secs_f64()
    );
    eprintln!(
        "genoa: {} active regions ({} not assembled); {profile}",
        t.regions, t.assembly_failed
    );
    Ok(())
}
