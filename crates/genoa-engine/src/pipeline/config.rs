//! Every setting of alignment, `run` and `gather`, typed, with the library's defaults and the
//! checks that make an out-of-range value an error (or a documented cap) instead of a silent
//! clamp. The command line (the `genoa` crate) only turns arguments into these; nothing here
//! knows clap. Calling's settings are [`crate::call::CallParams`].

use std::path::{Path, PathBuf};

use crate::backend::BackendChoice;
use crate::call::CallParams;
use crate::error::{Error, Result};
use crate::io::sam_header::ReadGroupLine;
use crate::pipeline::segments::{SEGMENT_PAIRS, Shard};

/// Where the reads come from.
#[derive(Clone, Debug)]
pub enum ReadsInput {
    Paired(PathBuf, PathBuf),
    Interleaved(PathBuf),
}

/// The worker threads a request gives: 0 means one per CPU this process may use
/// (`std::thread::available_parallelism`, which honours affinity masks and cgroup quotas); a
/// request above that is capped there, with a warning in the log — the workers are
/// compute-bound, so more of them only add memory and contention (`-@ 100000` once started
/// 100,000 threads).
pub fn worker_threads(requested: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    match requested {
        0 => cpus,
        n if n > cpus => {
            tracing::warn!(
                "{n} worker threads requested: capped at {cpus}, the CPUs this process may use"
            );
            cpus
        }
        n => n,
    }
}

/// Bytes of reads the streaming caller of `run` and `gather` holds per worker thread, at most.
/// Its waves of `threads × 4` chunks keep the workers busy; reads buffered beyond this add
/// memory, not parallelism (E. coli 120x, 2 threads: 1,075 MB peak and 72 s with 512 MiB of
/// buffered reads, 476 MB and 65 s with 128 MiB).
pub const CALLER_BYTES_PER_THREAD: usize = 64 << 20;

/// The streaming caller's read budget: the memory setting (`-m`), but no more than
/// [`CALLER_BYTES_PER_THREAD`] per worker.
pub fn caller_budget(memory: usize, threads: usize) -> usize {
    memory.min(CALLER_BYTES_PER_THREAD.saturating_mul(threads.max(1)))
}

/// Settings of alignment (`genoa align`, the first half of `genoa run`).
#[derive(Clone, Debug)]
pub struct AlignConfig {
    pub reference: PathBuf,
    pub reads: ReadsInput,
    pub read_group: ReadGroupLine,
    pub backend: BackendChoice,
    /// Worker threads (see [`worker_threads`]).
    pub threads: usize,
    /// Read pairs per batch handed to the aligner (at least 1).
    pub batch_pairs: usize,
    /// Memory for sorting, in bytes (sorted runs spill to disk beyond it); in `genoa run` it
    /// also bounds the reads the streaming caller holds.
    pub memory: usize,
    /// Read pairs per checkpointed segment (see [`crate::pipeline::segments`]; at least
    /// [`AlignConfig::MIN_SEGMENT_PAIRS`]).
    pub segment_pairs: u64,
    /// The command line, for the `@PG` header line and the gVCF's provenance.
    pub command_line: String,
}

impl AlignConfig {
    /// Read pairs per batch by default.
    pub const DEFAULT_BATCH_PAIRS: usize = 16_384;
    /// Sort memory by default: 512 MiB.
    pub const DEFAULT_MEMORY: usize = 512 << 20;
    /// The smallest segment: the insert-size model is calibrated on the first segment's pairs.
    pub const MIN_SEGMENT_PAIRS: u64 = crate::align::pair::CALIBRATION_PAIRS as u64;

    /// Alignment of `reads` to `reference` with the library's defaults: `auto` backend, one
    /// thread per CPU, the default batch, sort memory and segment size, this process's
    /// command line.
    pub fn new(reference: PathBuf, reads: ReadsInput, read_group: ReadGroupLine) -> AlignConfig {
        AlignConfig {
            reference,
            reads,
            read_group,
            backend: BackendChoice::Auto,
            threads: 0,
            batch_pairs: Self::DEFAULT_BATCH_PAIRS,
            memory: Self::DEFAULT_MEMORY,
            segment_pairs: SEGMENT_PAIRS,
            command_line: std::env::args().collect::<Vec<_>>().join(" "),
        }
    }

    /// Refuses settings out of range, naming them.
    pub fn check(&self) -> Result<()> {
        if self.batch_pairs == 0 {
            return Err(Error::Config("batch pairs: must be at least 1".into()));
        }
        if self.segment_pairs < Self::MIN_SEGMENT_PAIRS {
            return Err(Error::Config(format!(
                "segment pairs {}: must be at least {}",
                self.segment_pairs,
                Self::MIN_SEGMENT_PAIRS
            )));
        }
        if self.memory == 0 {
            return Err(Error::Config("sort memory: must be at least 1 byte".into()));
        }
        Ok(())
    }
}

/// What to call: every default contig, or the user's regions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Targets {
    /// The primary assembly (ALT and decoy contigs left out; see [`crate::call::ploidy`]).
    #[default]
    All,
    /// `--region` values: CHR, CHR:BEG or CHR:BEG-END (1-based, inclusive).
    Regions(Vec<String>),
    /// `--regions` BED file.
    Bed(PathBuf),
}

impl Targets {
    /// The intervals on `reference` (`None` for [`Targets::All`]).
    pub fn resolve(
        &self,
        reference: &crate::io::reference::Reference,
    ) -> Result<Option<Vec<crate::model::Interval>>> {
        Ok(match self {
            Targets::All => None,
            Targets::Regions(r) => Some(
                r.iter()
                    .map(|r| crate::call::regions::parse_region(r, reference))
                    .collect::<Result<Vec<_>>>()?,
            ),
            Targets::Bed(p) => Some(crate::call::regions::read_bed(p, reference)?),
        })
    }
}

/// Settings of `genoa run`.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub align: AlignConfig,
    pub sample: String,
    pub outdir: PathBuf,
    pub call: CallParams,
    /// Write `SAMPLE.cram` instead of `SAMPLE.bam`.
    pub cram: bool,
    /// Align only this shard's segments into `OUTDIR/SAMPLE.shard-K-of-N/` (for `genoa gather`).
    pub shard: Shard,
    /// Where the checkpoints of an unsharded run live (default: OUTDIR).
    pub tmp_dir: Option<PathBuf>,
    /// Declared sex and PARs (see [`crate::pipeline::sex`]).
    pub sex: crate::pipeline::sex::SexConfig,
    /// What to call (the BAM holds every read regardless).
    pub targets: Targets,
}

impl RunConfig {
    /// A whole run of `align`'s reads for `sample` into `outdir`, BAM output, default calling.
    pub fn new(align: AlignConfig, sample: String, outdir: PathBuf) -> RunConfig {
        RunConfig {
            align,
            sample,
            outdir,
            call: CallParams::default(),
            cram: false,
            shard: Shard::ALL,
            tmp_dir: None,
            sex: Default::default(),
            targets: Targets::All,
        }
    }

    /// The files the run writes.
    pub fn outputs(&self) -> RunOutputs {
        RunOutputs::of(&self.outdir, &self.sample, self.cram)
    }

    /// The directory of shard `shard`'s segments.
    pub fn shard_dir(&self, shard: Shard) -> PathBuf {
        self.outdir
            .join(format!("{}.shard-{}-of-{}", self.sample, shard.k, shard.n))
    }

    /// The checkpoint directory of an unsharded run.
    pub fn work_dir(&self) -> PathBuf {
        self.tmp_dir
            .as_deref()
            .unwrap_or(&self.outdir)
            .join(format!(".genoa-work.{}", self.sample))
    }
}

/// Settings of `genoa gather`: the shards of one `genoa run --shard K/N` joined into the
/// outputs of one run. The reads' settings come from the shards themselves.
#[derive(Clone, Debug)]
pub struct GatherConfig {
    /// The reference the shards were aligned to.
    pub reference: PathBuf,
    pub sample: String,
    pub outdir: PathBuf,
    /// The shard directories, all N of them.
    pub shards: Vec<PathBuf>,
    pub call: CallParams,
    /// Write `SAMPLE.cram` instead of `SAMPLE.bam`.
    pub cram: bool,
    pub backend: BackendChoice,
    /// Worker threads (see [`worker_threads`]).
    pub threads: usize,
    /// Bytes of reads the streaming caller may hold (as `run`'s sort memory).
    pub memory: usize,
    pub command_line: String,
    /// Declared sex and PARs (see [`crate::pipeline::sex`]).
    pub sex: crate::pipeline::sex::SexConfig,
    /// What to call.
    pub targets: Targets,
}

impl GatherConfig {
    /// The files gathering writes (those of the unsharded run).
    pub fn outputs(&self) -> RunOutputs {
        RunOutputs::of(&self.outdir, &self.sample, self.cram)
    }
}

/// Paths `genoa run` (and `gather`) write.
#[derive(Clone, Debug)]
pub struct RunOutputs {
    /// `SAMPLE.bam` or `SAMPLE.cram`.
    pub alignments: PathBuf,
    pub gvcf: PathBuf,
    pub qc_json: PathBuf,
    pub report_html: PathBuf,
}

impl RunOutputs {
    pub fn of(outdir: &Path, sample: &str, cram: bool) -> RunOutputs {
        let file = |ext: &str| outdir.join(format!("{sample}.{ext}"));
        RunOutputs {
            alignments: file(if cram { "cram" } else { "bam" }),
            gvcf: file("g.vcf.gz"),
            qc_json: file("qc.json"),
            report_html: file("report.html"),
        }
    }
}
