//! Command line: clap derive, one file per subcommand. Arguments become typed configs here;
//! nothing below this module knows clap.

pub mod aggregate;
pub mod backends;
pub mod demo;
pub mod index;
pub mod package;
pub mod qc;
pub mod refid;
pub mod run;
pub mod validate;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::BackendChoice;
use crate::error::Result;
use crate::pipeline::config::AlignConfig;

/// genoa: FASTQ → sorted BAM → gVCF, on any GPU or on CPUs, with the same output everywhere.
#[derive(Parser, Debug)]
#[command(name = "genoa", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// FASTQ → OUTDIR/SAMPLE.bam (+ .bai) and OUTDIR/SAMPLE.g.vcf.gz (+ .tbi).
    Run(run::RunArgs),
    /// Reference FASTA → its minimizer index, saved beside it as FASTA.genoa.idx.
    Index(index::IndexArgs),
    /// FASTQ (BGZF or uncompressed) or unaligned BAM → read indexes, so shards skip others' reads.
    ReadsIndex(index::ReadsIndexArgs),
    /// FASTQ → coordinate-sorted BAM (+ index).
    Align(run::AlignArgs),
    /// Sorted BAM → gVCF (+ index).
    Call(run::CallArgs),
    /// Join the shard directories of `genoa run --shard K/N` into the outputs of one run.
    Gather(run::GatherArgs),
    /// Print the CPU SIMD level, every GPU adapter and what `--backend auto` would choose.
    Backends,
    /// Run the whole pipeline on a small sample built into the binary, into ./genoa-demo/.
    Demo(demo::DemoArgs),
    /// Check a gVCF against the rules joint callers apply.
    Validate(validate::ValidateArgs),
    /// Print a reference's MD5, refget and seqcol digests.
    Refid(refid::RefidArgs),
    /// Check a QC JSON against a policy: PASS or FAIL with reasons.
    Qc(qc::QcArgs),
    /// Many gVCFs → joint genotypes (cohort VCF) and an allele-frequency VCF with a privacy floor.
    Aggregate(aggregate::AggregateArgs),
    /// Write a Crypt4GH key pair (the reference crypt4gh tool's format).
    Keygen(package::KeygenArgs),
    /// Validate, QC-gate and Crypt4GH-encrypt a sample's outputs, with checksums and a manifest.
    Package(package::PackageArgs),
    /// Encrypt any file with Crypt4GH for one or more recipients.
    Encrypt(package::EncryptArgs),
    /// Decrypt a Crypt4GH file (optionally checked against a package manifest).
    Decrypt(package::DecryptArgs),
}

/// Worker threads, declared once for every subcommand that runs a thread pool.
#[derive(Args, Debug, Clone, Copy)]
pub struct ThreadsArg {
    /// Worker threads (0 = one per CPU this process may use; more than that is capped there,
    /// with a warning).
    #[arg(short = '@', long = "threads", default_value_t = 0)]
    pub threads: usize,
}

/// Kernel backends on the command line (`genoa_kernels::backend::BackendChoice`).
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum BackendArg {
    /// The GPU for large batches when a hardware adapter is usable, else SIMD.
    Auto,
    /// The reference implementations (the spec).
    Scalar,
    /// The CPU's widest SIMD instruction set.
    Simd,
    /// The GPU (fails when no adapter is usable).
    Gpu,
}

impl From<BackendArg> for BackendChoice {
    fn from(b: BackendArg) -> BackendChoice {
        match b {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Scalar => BackendChoice::Scalar,
            BackendArg::Simd => BackendChoice::Simd,
            BackendArg::Gpu => BackendChoice::Gpu,
        }
    }
}

/// Threads and kernel backend: what every subcommand that aligns or calls takes.
#[derive(Args, Debug, Clone, Copy)]
pub struct ComputeArgs {
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// Kernel backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
}

/// Alignment tuning shared by `run` and `align`.
#[derive(Args, Debug, Clone)]
pub struct AlignTuningArgs {
    /// Read pairs per batch.
    #[arg(long, default_value_t = AlignConfig::DEFAULT_BATCH_PAIRS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), hide = true)]
    pub batch_pairs: usize,
    /// Memory for sorting alignments (K, M or G suffix); sorted runs spill to disk (the
    /// checkpoint directory) beyond it. In `run` it also bounds the reads the streaming caller
    /// holds (and so does 64 MiB per worker thread). Not a limit on the process: the
    /// reference, its index and the aligner's batches come on top (README, "Memory").
    #[arg(short = 'm', long = "sort-memory", alias = "memory", alias = "max-memory",
          default_value_t = ByteSize(AlignConfig::DEFAULT_MEMORY))]
    pub memory: ByteSize,
    /// Read pairs per checkpointed alignment segment (the unit of resuming and sharding; at
    /// least 2048). Part of the inputs' fingerprint: resume and gather need the same value.
    #[arg(long, default_value_t = crate::pipeline::segments::SEGMENT_PAIRS,
          value_parser = clap::value_parser!(u64).range(AlignConfig::MIN_SEGMENT_PAIRS..), hide = true)]
    pub segment_pairs: u64,
    /// Write a read's alternative alignments (other placements scoring at least 90 % of its
    /// primary, up to 5) as secondary records. Default: listed in the primary's XA tag, as
    /// bwa-mem does, so the BAM holds one primary record per read (plus supplementary parts).
    #[arg(long)]
    pub secondary: bool,
}

/// A number of bytes, written and parsed with a K, M or G suffix (`512M`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        match n {
            _ if n >= 1 << 30 && n.is_multiple_of(1 << 30) => write!(f, "{}G", n >> 30),
            _ if n >= 1 << 20 && n.is_multiple_of(1 << 20) => write!(f, "{}M", n >> 20),
            _ if n >= 1 << 10 && n.is_multiple_of(1 << 10) => write!(f, "{}K", n >> 10),
            _ => write!(f, "{n}"),
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<ByteSize, String> {
        let t = s.trim();
        let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
            Some('K') => (&t[..t.len() - 1], 1usize << 10),
            Some('M') => (&t[..t.len() - 1], 1 << 20),
            Some('G') => (&t[..t.len() - 1], 1 << 30),
            _ => (t, 1),
        };
        let n: f64 = num
            .parse()
            .map_err(|_| format!("{s:?}: expected a size such as 768M or 2G"))?;
        if !(n.is_finite() && n >= 1.0) {
            return Err(format!("{s:?}: expected a positive size"));
        }
        Ok(ByteSize((n * mult as f64) as usize))
    }
}

/// Input reads: one or more lanes, each R1 and R2 or one interleaved file, or a FASTQ list.
#[derive(Args, Debug, Clone)]
pub struct ReadsArgs {
    /// Reference FASTA, plain, gzip or bgzip (a .fai is written beside a plain one if missing
    /// or stale).
    #[arg(short = 'r', long = "reference")]
    pub reference: PathBuf,
    /// The reference's saved index (`genoa index -o`), when it is not FASTA.genoa.idx beside
    /// the FASTA.
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// First reads (FASTQ, plain, gzip or BGZF); with --interleaved, both mates. Repeat for
    /// each lane: `-1 L1_R1.fq.gz -2 L1_R2.fq.gz -1 L2_R1.fq.gz -2 L2_R2.fq.gz`, with one
    /// `-R` per lane in the same order. An unaligned BAM or CRAM (or one grouped by read name)
    /// holds both mates of a lane and takes no `-2`; without `-R` its header's `@RG` is the
    /// lane's.
    #[arg(short = '1', long = "r1", required_unless_present = "fastq_list")]
    pub r1: Vec<PathBuf>,
    /// Second reads, one per `-1`.
    #[arg(short = '2', long = "r2")]
    pub r2: Vec<PathBuf>,
    /// Each `-1` file holds both mates, alternating.
    #[arg(long, conflicts_with = "r2")]
    pub interleaved: bool,
    /// The lanes as a DRAGEN-style FASTQ list: CSV with the columns RGID, RGSM, RGLB, Lane,
    /// Read1File, Read2File (other RGxx columns become read group tags; relative paths are
    /// taken from the list's directory; rows of other samples than --sample are skipped).
    #[arg(long, conflicts_with_all = ["r1", "r2", "interleaved"])]
    pub fastq_list: Option<PathBuf>,
    /// Directory of the read files' read indexes (`genoa reads-index -o DIR`), when they are
    /// not beside the files. With them a shard (or a resumed run) skips the pairs it does not
    /// align without reading them.
    #[arg(long, value_name = "DIR")]
    pub read_index: Option<PathBuf>,
}

impl ReadsArgs {
    /// The files these arguments name (the FASTQ list itself, not the files it lists).
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        let mut v = vec![self.reference.as_path()];
        v.extend(self.index.as_deref());
        v.extend(self.r1.iter().map(|p| p.as_path()));
        v.extend(self.r2.iter().map(|p| p.as_path()));
        v.extend(self.fastq_list.as_deref());
        v
    }

    /// The lanes: from the FASTQ list (rows of `sample`, or of its one sample), or one per
    /// `-1` with the `-R` line of the same position. Without `-R`, one lane has the read group
    /// made from the sample's name; several lanes get IDs from their R1 file names (so the
    /// order the lanes are given in changes nothing).
    pub fn lanes(
        &self,
        sample: Option<&str>,
        read_groups: &[String],
    ) -> Result<Vec<crate::pipeline::config::Lane>> {
        use crate::io::sam_header::ReadGroupLine;
        use crate::pipeline::config::{Lane, ReadsInput};
        if let Some(list) = &self.fastq_list {
            if !read_groups.is_empty() {
                return Err(crate::error::Error::Config(
                    "-R and --fastq-list: the list gives each lane's read group".into(),
                ));
            }
            let lanes = crate::pipeline::config::fastq_list(list, sample)?;
            for l in &lanes {
                check_distinct(&l.reads)?;
            }
            return Ok(lanes);
        }
        let n = self.r1.len();
        let bam: Vec<bool> = self
            .r1
            .iter()
            .map(|p| crate::io::ubam::sniff(p).is_some())
            .collect();
        let fastq = bam.iter().filter(|&&b| !b).count();
        if !self.interleaved && self.r2.len() != fastq {
            return Err(crate::error::Error::Config(format!(
                "{fastq} FASTQ -1 files and {} -2 files: give one -2 per FASTQ -1, in the same order (or --interleaved; an unaligned BAM or CRAM takes none)",
                self.r2.len()
            )));
        }
        if !read_groups.is_empty() && read_groups.len() != n {
            return Err(crate::error::Error::Config(format!(
                "{} -R lines for {n} lanes: give one -R per lane, in the order of the -1 files",
                read_groups.len()
            )));
        }
        let mut lanes = Vec::with_capacity(n);
        let mut r2 = self.r2.iter();
        for (k, r1) in self.r1.iter().enumerate() {
            let (reads, header_rg) = if bam[k] {
                let rgs = crate::io::ubam::UnalignedReader::open(r1, None)?
                    .read_groups()
                    .to_vec();
                if rgs.len() > 1 && read_groups.is_empty() {
                    return Err(crate::error::Error::input(
                        r1,
                        format!(
                            "has {} read groups in its header: genoa takes one lane per file (split it with `samtools split`, or give its read group with -R)",
                            rgs.len()
                        ),
                    ));
                }
                (ReadsInput::Unaligned(r1.clone()), rgs.into_iter().next())
            } else if self.interleaved {
                (ReadsInput::Interleaved(r1.clone()), None)
            } else {
                let r2 = r2.next().expect("one -2 per FASTQ -1, checked above");
                (ReadsInput::Paired(r1.clone(), r2.clone()), None)
            };
            check_distinct(&reads)?;
            let rg = match (read_groups.get(k).or(header_rg.as_ref()), sample) {
                (Some(line), _) => {
                    let rg = ReadGroupLine::parse(line)?;
                    if let Some(s) = sample
                        && rg.sample != s
                    {
                        let m =
                            format!("read group SM {:?} differs from --sample {s:?}", rg.sample);
                        return Err(if read_groups.get(k).is_none() {
                            crate::error::Error::input(
                                r1,
                                format!("{m} (its header's @RG; -R sets another)"),
                            )
                        } else {
                            crate::error::Error::Config(m)
                        });
                    }
                    rg
                }
                (None, Some(s)) if n == 1 => ReadGroupLine::for_sample(s),
                (None, Some(s)) => ReadGroupLine {
                    id: format!("{s}.{}", reads_stem(r1)),
                    ..ReadGroupLine::for_sample(s)
                },
                (None, None) => {
                    return Err(crate::error::Error::Config(
                        "give each lane's read group with -R".into(),
                    ));
                }
            };
            lanes.push(Lane::new(rg, reads));
        }
        Ok(lanes)
    }
}

/// A read file's name without its directory and `.fastq.gz`/`.fq.gz`/`.fastq`/`.fq`/`.bam`
/// ending.
fn reads_stem(p: &std::path::Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    [
        ".fastq.gz",
        ".fq.gz",
        ".fastq.bgz",
        ".fq.bgz",
        ".fastq",
        ".fq",
        ".unaligned.bam",
        ".unaligned.cram",
        ".bam",
        ".cram",
        ".gz",
    ]
    .iter()
    .find_map(|e| name.strip_suffix(e).map(str::to_string))
    .unwrap_or(name)
}

/// Refuses R1 and R2 that are one file (by name, symlink or hard link): every pair would be a
/// read paired with itself.
fn check_distinct(reads: &crate::pipeline::config::ReadsInput) -> Result<()> {
    if let crate::pipeline::config::ReadsInput::Paired(r1, r2) = reads
        && (r2 == r1
            || crate::io::atomic::file_id(r2)
                .is_some_and(|id| Some(id) == crate::io::atomic::file_id(r1)))
    {
        return Err(crate::error::Error::input(
            r2,
            format!(
                "is the same file as -1 {}: give the second reads of each pair to -2",
                r1.display()
            ),
        ));
    }
    Ok(())
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    match cli.command {
        Command::Run(a) => run::run(a, &command_line),
        Command::Index(a) => index::run(a),
        Command::ReadsIndex(a) => index::reads_index(a),
        Command::Align(a) => run::align(a, &command_line),
        Command::Call(a) => run::call(a, &command_line),
        Command::Gather(a) => run::gather(a, &command_line),
        Command::Backends => backends::run(),
        Command::Demo(a) => demo::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Refid(a) => refid::run(a),
        Command::Qc(a) => qc::run(a),
        Command::Aggregate(a) => aggregate::run(a, &command_line),
        Command::Keygen(a) => package::keygen(a),
        Command::Package(a) => package::package(a),
        Command::Encrypt(a) => package::encrypt(a),
        Command::Decrypt(a) => package::decrypt(a),
    }
}
