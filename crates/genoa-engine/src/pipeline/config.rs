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

/// Where the reads of one lane come from.
#[derive(Clone, Debug)]
pub enum ReadsInput {
    Paired(PathBuf, PathBuf),
    Interleaved(PathBuf),
    /// An unaligned (or read-name-grouped) BAM file: both mates ([`crate::io::ubam`]).
    Unaligned(PathBuf),
}

impl ReadsInput {
    /// The files.
    pub fn files(&self) -> Vec<&PathBuf> {
        match self {
            ReadsInput::Paired(a, b) => vec![a, b],
            ReadsInput::Interleaved(a) | ReadsInput::Unaligned(a) => vec![a],
        }
    }
}

/// One lane (or any unit of sequencing with a read group of its own): its reads and its `@RG`
/// line, whose `LB` names the library (lanes without `LB` are one library, as Picard's
/// "Unknown Library").
#[derive(Clone, Debug)]
pub struct Lane {
    pub read_group: ReadGroupLine,
    pub reads: ReadsInput,
}

impl Lane {
    pub fn new(read_group: ReadGroupLine, reads: ReadsInput) -> Lane {
        Lane { read_group, reads }
    }

    /// The library: the read group's `LB`, or "" when it has none.
    pub fn library(&self) -> &str {
        self.read_group.tag("LB").unwrap_or("")
    }
}

/// The worker threads a request gives: 0 means one per CPU this process may use
/// (`std::thread::available_parallelism`, which honours affinity masks and cgroup quotas); a
/// request above that is capped there, with a warning in the log — the workers are
/// compute-bound, so more of them only add memory and contention (`-@ 100000` once started
/// 100,000 threads).
pub fn worker_threads(requested: usize) -> usize {
    let threads = capped_threads(requested);
    if requested > threads {
        tracing::warn!(
            "{requested} worker threads requested: capped at {threads}, the CPUs this process may use"
        );
    }
    threads
}

/// [`worker_threads`] without the warning.
pub fn capped_threads(requested: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    match requested {
        0 => cpus,
        n => n.min(cpus),
    }
}

/// Bytes of reads the streaming caller of `run` and `gather` holds per worker thread, at most.
/// Its `threads × 4` chunks in flight keep the workers busy; reads buffered beyond this add
/// memory, not parallelism (measured when chunks went in waves: E. coli 120x, 2 threads:
/// 1,075 MB peak and 72 s with 512 MiB of buffered reads, 476 MB and 65 s with 128 MiB).
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
    /// The sample's lanes, in any order: they are read in the order of their read group IDs
    /// ([`AlignConfig::lanes`]), so the output does not depend on the order given.
    pub lanes: Vec<Lane>,
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
    /// Write alternative alignments as secondary records (default: in the primary's `XA`
    /// tag, as bwa-mem; see [`crate::align::pair`]).
    pub secondary: bool,
    /// The reference's saved index, when not beside the FASTA (see [`crate::index`]).
    pub index: Option<PathBuf>,
    /// Where the read files' read indexes are, when not beside the files (see
    /// [`crate::io::read_index`]).
    pub read_index_dir: Option<PathBuf>,
}

impl AlignConfig {
    /// Read pairs per batch by default.
    pub const DEFAULT_BATCH_PAIRS: usize = 16_384;
    /// Sort memory by default: 512 MiB.
    pub const DEFAULT_MEMORY: usize = 512 << 20;
    /// The smallest segment: the insert-size model is calibrated on the first segment's pairs.
    pub const MIN_SEGMENT_PAIRS: u64 = crate::align::pair::CALIBRATION_PAIRS as u64;

    /// Alignment of `lanes` (at least one; one sample) to `reference` with the library's
    /// defaults: `auto` backend, one thread per CPU, the default batch, sort memory and segment
    /// size, this process's command line.
    pub fn new(reference: PathBuf, lanes: Vec<Lane>) -> AlignConfig {
        AlignConfig {
            reference,
            lanes,
            backend: BackendChoice::Auto,
            threads: 0,
            batch_pairs: Self::DEFAULT_BATCH_PAIRS,
            memory: Self::DEFAULT_MEMORY,
            segment_pairs: SEGMENT_PAIRS,
            command_line: std::env::args().collect::<Vec<_>>().join(" "),
            secondary: false,
            index: None,
            read_index_dir: None,
        }
    }

    /// One lane of `reads` with read group `read_group`.
    pub fn single(reference: PathBuf, reads: ReadsInput, read_group: ReadGroupLine) -> AlignConfig {
        AlignConfig::new(reference, vec![Lane::new(read_group, reads)])
    }

    /// The lanes in the order they are read: by read group ID (unique, see
    /// [`AlignConfig::check`]), whatever the order they were given in.
    pub fn lanes(&self) -> Vec<&Lane> {
        let mut v: Vec<&Lane> = self.lanes.iter().collect();
        v.sort_by(|a, b| a.read_group.id.cmp(&b.read_group.id));
        v
    }

    /// The read groups, in lane order.
    pub fn read_groups(&self) -> Vec<ReadGroupLine> {
        self.lanes().iter().map(|l| l.read_group.clone()).collect()
    }

    /// The libraries (distinct `LB` values, sorted) and each lane's index among them, in lane
    /// order.
    pub fn libraries(&self) -> (Vec<String>, Vec<usize>) {
        library_table(self.lanes().into_iter().map(|l| l.library()))
    }

    /// Refuses settings out of range, naming them.
    pub fn check(&self) -> Result<()> {
        let Some(first) = self.lanes.first() else {
            return Err(Error::Config("no reads: give -1/-2 or --fastq-list".into()));
        };
        for w in self.lanes().windows(2) {
            if w[0].read_group.id == w[1].read_group.id {
                return Err(Error::Config(format!(
                    "read group ID {:?} is given to two lanes: each lane needs its own",
                    w[0].read_group.id
                )));
            }
        }
        if let Some(l) = self
            .lanes
            .iter()
            .find(|l| l.read_group.sample != first.read_group.sample)
        {
            return Err(Error::Config(format!(
                "read group {:?} has SM {:?}, read group {:?} SM {:?}: one run is one sample",
                l.read_group.id, l.read_group.sample, first.read_group.id, first.read_group.sample
            )));
        }
        let mut seen: Vec<(&PathBuf, Option<(u64, u64)>)> = Vec::new();
        for f in self.lanes().iter().flat_map(|l| l.reads.files()) {
            let id = crate::io::atomic::file_id(f);
            if let Some((g, _)) = seen
                .iter()
                .find(|(g, gid)| *g == f || (id.is_some() && *gid == id))
            {
                return Err(Error::input(
                    f,
                    format!(
                        "is given twice (as {}): every pair would be read twice",
                        g.display()
                    ),
                ));
            }
            seen.push((f, id));
        }
        if self.lanes.len() > u16::MAX as usize {
            return Err(Error::Config(format!(
                "{} lanes: at most {}",
                self.lanes.len(),
                u16::MAX
            )));
        }
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

/// The lanes of `sample` in a DRAGEN-style FASTQ list: a CSV file with a header naming at
/// least `RGID`, `RGSM`, `RGLB`, `Lane`, `Read1File` and `Read2File` (in any order; other
/// `RGxx` columns, such as `RGPL` or `RGPU`, become the read group's `xx` tags; `PL` is
/// `ILLUMINA` unless given). Relative file paths are taken from the list's directory. Rows of
/// other samples are skipped; with `sample` `None` the list must hold one sample.
pub fn fastq_list(path: &Path, sample: Option<&str>) -> Result<Vec<Lane>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| Error::input(path, format!("cannot read as CSV: {e}")))?;
    let header = reader
        .headers()
        .map_err(|e| Error::input(path, format!("header: {e}")))?
        .clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                Error::input(
                    path,
                    format!(
                        "header has no {name} column (a FASTQ list needs RGID, RGSM, RGLB, Lane, Read1File, Read2File)"
                    ),
                )
            })
    };
    let (id, sm, lb) = (column("RGID")?, column("RGSM")?, column("RGLB")?);
    let (_lane, r1, r2) = (column("Lane")?, column("Read1File")?, column("Read2File")?);
    let extra: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let tag = h.strip_prefix("RG")?.to_ascii_uppercase();
            (tag.len() == 2 && !["ID", "SM", "LB"].contains(&tag.as_str())).then_some((i, tag))
        })
        .collect();
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |f: &str| {
        let p = PathBuf::from(f);
        if p.is_absolute() { p } else { base.join(p) }
    };
    let mut lanes = Vec::new();
    let mut samples = std::collections::BTreeSet::new();
    for (k, row) in reader.records().enumerate() {
        let line = k as u64 + 2;
        let bad = |message: String| Error::Record {
            path: path.to_path_buf(),
            record: k as u64 + 1,
            line: Some(line),
            message,
        };
        let row = row.map_err(|e| bad(e.to_string()))?;
        let field = |i: usize| row.get(i).unwrap_or("");
        samples.insert(field(sm).to_string());
        if sample.is_some_and(|s| s != field(sm)) {
            continue;
        }
        for (name, i) in [
            ("RGID", id),
            ("RGSM", sm),
            ("Read1File", r1),
            ("Read2File", r2),
        ] {
            if field(i).is_empty() {
                return Err(bad(format!("{name} is empty")));
            }
        }
        let mut other = Vec::new();
        if !field(lb).is_empty() {
            other.push(("LB".to_string(), field(lb).to_string()));
        }
        for (i, tag) in &extra {
            if !field(*i).is_empty() {
                other.push((tag.clone(), field(*i).to_string()));
            }
        }
        if !other.iter().any(|(t, _)| t == "PL") {
            other.push(("PL".to_string(), "ILLUMINA".to_string()));
        }
        let rg = ReadGroupLine {
            id: field(id).to_string(),
            sample: field(sm).to_string(),
            other,
        };
        lanes.push(Lane::new(
            rg,
            ReadsInput::Paired(resolve(field(r1)), resolve(field(r2))),
        ));
    }
    if sample.is_none() && samples.len() > 1 {
        return Err(Error::input(
            path,
            format!(
                "holds {} samples ({}): say which with --sample",
                samples.len(),
                samples.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if lanes.is_empty() {
        return Err(Error::input(
            path,
            match sample {
                Some(s) => format!(
                    "no rows of sample {s:?} (RGSM values: {})",
                    samples.into_iter().collect::<Vec<_>>().join(", ")
                ),
                None => "no rows".to_string(),
            },
        ));
    }
    Ok(lanes)
}

/// The distinct names of `libraries` (sorted) and each item's index among them.
pub fn library_table<'a>(
    libraries: impl Iterator<Item = &'a str> + Clone,
) -> (Vec<String>, Vec<usize>) {
    let mut names: Vec<String> = libraries.clone().map(str::to_string).collect();
    names.sort();
    names.dedup();
    let index = libraries
        .map(|l| names.binary_search_by(|n| n.as_str().cmp(l)).unwrap_or(0))
        .collect();
    (names, index)
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
    /// Remove the checkpoints of an earlier run before starting (else it resumes from them).
    pub restart: bool,
    /// Refuse to start when the disk looks too small for the run (see `pipeline::run`).
    pub space_check: bool,
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
            restart: false,
            space_check: true,
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
