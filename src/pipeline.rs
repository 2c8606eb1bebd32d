//! The driver: FASTQ → aligned, sorted BAM → gVCF, stage by stage on a thread pool of the
//! requested size. Output depends only on the input: not on the thread count, the batch size or
//! the backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::align::{AlignScratch, AlignedRead, Aligner, sort_records};
use crate::backend::{self, Backend, BackendChoice};
use crate::call::{CallParams, call_contig, gvcf::Record};
use crate::error::{Error, Result};
use crate::io::fastq::{PairedReader, ReadBatch};
use crate::io::reference::Reference;
use crate::io::sam_header::ReadGroupLine;

/// Where the reads come from.
#[derive(Clone, Debug)]
pub enum ReadsInput {
    Paired(PathBuf, PathBuf),
    Interleaved(PathBuf),
}

/// Settings of alignment (`genoa align`, first half of `genoa run`).
#[derive(Clone, Debug)]
pub struct AlignConfig {
    pub reference: PathBuf,
    pub reads: ReadsInput,
    pub read_group: ReadGroupLine,
    pub backend: BackendChoice,
    pub threads: usize,
    pub batch_pairs: usize,
    pub command_line: String,
}

/// Counters of a run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub pairs: u64,
    pub reads: u64,
    pub mapped: u64,
    pub snps: u64,
    pub indels: u64,
    pub backend: String,
    pub seconds: f64,
}

impl Summary {
    /// Fraction of reads mapped.
    pub fn mapped_fraction(&self) -> f64 {
        if self.reads == 0 {
            0.0
        } else {
            self.mapped as f64 / self.reads as f64
        }
    }
}

/// A thread pool of `threads` workers (0 = one per core).
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("genoa-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("thread pool: {e}")))
}

/// Checks that `dir` exists (creating it) and that files can be created in it.
pub fn ensure_writable_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let probe = crate::io::atomic::Pending::new(dir.join(".genoa-write-test"));
    probe
        .create()
        .map(drop)
        .map_err(|_| Error::input(dir, "output directory is not writable"))
}

/// Aligns all reads; returns coordinate-sorted records and counters.
pub fn align_reads(
    cfg: &AlignConfig,
    reference: &Reference,
    backend: Arc<dyn Backend>,
    summary: &mut Summary,
) -> Result<Vec<AlignedRead>> {
    let mut reader = match &cfg.reads {
        ReadsInput::Paired(r1, r2) => PairedReader::paired(r1, r2)?,
        ReadsInput::Interleaved(p) => PairedReader::interleaved(p)?,
    };
    let t = Instant::now();
    let aligner = Aligner::new(reference, backend);
    tracing::info!(
        "index: {} contigs, {} bp, k={} in {:.2} s",
        reference.contigs.len(),
        reference.total_len(),
        crate::align::SEED_K,
        t.elapsed().as_secs_f64()
    );
    let mut batch = ReadBatch::default();
    let mut scratch = AlignScratch::default();
    let mut records = Vec::new();
    let progress = crate::report::Progress::new("aligning", "pairs");
    while reader.next_batch(&mut batch, cfg.batch_pairs.max(1))? > 0 {
        aligner.align_batch(&batch, &mut scratch, &mut records)?;
        summary.pairs += batch.len() as u64;
        progress.set(summary.pairs);
    }
    progress.finish();
    summary.reads = 2 * summary.pairs;
    summary.mapped = records.iter().filter(|r| r.is_mapped()).count() as u64;
    sort_records(&mut records);
    Ok(records)
}

/// Calls every contig (in parallel, each contig on its own; results in contig order), indel
/// likelihoods on `backend`.
pub fn call_records(
    reference: &Reference,
    records: &[AlignedRead],
    params: &CallParams,
    backend: &dyn Backend,
) -> Result<Vec<Vec<Record>>> {
    // Records are coordinate-sorted: each contig's placed reads are one contiguous slice.
    let mut slices = Vec::with_capacity(reference.contigs.len());
    let mut start = 0;
    for c in 0..reference.contigs.len() as u32 {
        let len = records[start..].partition_point(|r| r.contig == Some(c));
        slices.push(&records[start..start + len]);
        start += len;
    }
    reference
        .contigs
        .par_iter()
        .zip(slices)
        .map(|(contig, reads)| call_contig(&contig.codes, reads, params, backend))
        .collect()
}

/// Writes coordinate-sorted records as CRAM when `path` ends in `.cram`, else as BAM, with
/// the matching index.
pub fn write_alignments(
    path: &Path,
    reference: &Reference,
    read_group: &ReadGroupLine,
    command_line: &str,
    records: &[AlignedRead],
) -> Result<()> {
    let header = crate::io::sam_header::build(reference, read_group, command_line)?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("cram"))
    {
        crate::io::cram::write(path, &header, records, &read_group.id, reference)
    } else {
        crate::io::bam::write(path, &header, records, &read_group.id, reference.max_len())
    }
}

/// Counts SNP and indel records that pass.
pub fn count_variants(records: &[Vec<Record>]) -> (u64, u64) {
    let (mut snps, mut indels) = (0, 0);
    for r in records.iter().flatten() {
        if let Record::Variant(v) = r {
            if !v.filter_pass {
                continue;
            }
            if v.reference.len() == 1 && v.alt.len() == 1 {
                snps += 1;
            } else {
                indels += 1;
            }
        }
    }
    (snps, indels)
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
}

/// Paths `genoa run` writes.
#[derive(Clone, Debug)]
pub struct RunOutputs {
    /// `SAMPLE.bam` or `SAMPLE.cram`.
    pub alignments: PathBuf,
    pub gvcf: PathBuf,
}

impl RunConfig {
    pub fn outputs(&self) -> RunOutputs {
        RunOutputs {
            alignments: self.outdir.join(format!(
                "{}.{}",
                self.sample,
                if self.cram { "cram" } else { "bam" }
            )),
            gvcf: self.outdir.join(format!("{}.g.vcf.gz", self.sample)),
        }
    }
}

/// FASTQ → `OUTDIR/SAMPLE.bam` or `.cram` (+ index) and `OUTDIR/SAMPLE.g.vcf.gz` (+ index).
pub fn run(cfg: &RunConfig) -> Result<Summary> {
    let t0 = Instant::now();
    ensure_writable_dir(&cfg.outdir)?;
    let reference = Reference::load(&cfg.align.reference)?;
    let pool = thread_pool(cfg.align.threads)?;
    let backend = backend::select(cfg.align.backend)?;
    let mut summary = Summary {
        backend: backend.name(),
        ..Summary::default()
    };
    let outputs = cfg.outputs();
    pool.install(|| -> Result<()> {
        let records = align_reads(&cfg.align, &reference, backend.clone(), &mut summary)?;
        write_alignments(
            &outputs.alignments,
            &reference,
            &cfg.align.read_group,
            &cfg.align.command_line,
            &records,
        )?;
        let calls = call_records(&reference, &records, &cfg.call, backend.as_ref())?;
        let (snps, indels) = count_variants(&calls);
        summary.snps = snps;
        summary.indels = indels;
        let text = crate::io::gvcf::header(
            &reference,
            &cfg.sample,
            &cfg.call.gq_bands,
            &cfg.align.command_line,
        );
        crate::io::gvcf::write(&outputs.gvcf, &reference, &text, &calls)
    })?;
    summary.seconds = t0.elapsed().as_secs_f64();
    Ok(summary)
}
