//! The driver: FASTQ → aligned, sorted BAM → gVCF, stage by stage on a thread pool of the
//! requested size. Output depends only on the input: not on the thread count, the batch size or
//! the backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::backend::{self, Backend, BackendChoice};
use crate::call::regions;
use crate::call::{CallParams, StageTimes, call_chunk};
use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::io::sam_header::ReadGroupLine;
use crate::model::Interval;
use crate::model::alignment::AlignedRead;
use crate::model::gvcf::{OutputMode, Record};
use crate::report::qc::QcCounts;

pub mod segments;
pub mod stream;

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
    /// Memory for sorting, in bytes (sorted runs spill to disk beyond it).
    pub memory: usize,
    /// Read pairs per checkpointed segment (see [`segments`]).
    pub segment_pairs: u64,
    pub command_line: String,
}

/// Counters of a run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Pairs aligned (a shard's own), and pairs read from the input.
    pub pairs: u64,
    pub pairs_read: u64,
    /// Segments found committed by an earlier, killed run.
    pub resumed_segments: u64,
    /// Seconds in `banded_align` and `pair_hmm` calls (summed over threads).
    pub kernel_seconds: (f64, f64),
    pub reads: u64,
    pub mapped: u64,
    pub snps: u64,
    pub indels: u64,
    pub duplicate_pairs: u64,
    pub duplicate_fragments: u64,
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

/// Sort key of a record: `[contig << 32 | position, pair << 8 | slot]`; unplaced records
/// (contig `u32::MAX`) last, in input order.
fn record_key(r: &AlignedRead, pair: u64, slot: usize) -> [u64; 2] {
    let c = u64::from(r.contig.unwrap_or(u32::MAX));
    let pos = if r.contig.is_some() { r.pos } else { 0 };
    [
        (c << 32) | pos.min(u64::from(u32::MAX)),
        (pair << 8) | slot.min(255) as u64,
    ]
}

/// Aligns all reads into `output` — BAM, or CRAM when its name ends in `.cram` — with its
/// index: records are encoded as they are aligned, sorted within `cfg.memory` bytes per segment
/// (spilling sorted runs to a temporary directory beside the output), duplicates decided from
/// their own sorted entries, and the merged records streamed once into the file's sink.
pub fn align_to_file(
    cfg: &AlignConfig,
    reference: &Reference,
    backend: Arc<dyn Backend>,
    output: &Path,
    summary: &mut Summary,
) -> Result<()> {
    let parent = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".genoa-sort.")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    let fingerprint = segments::Fingerprint::of(cfg, reference)?;
    let mut work = segments::WorkDir::open(tmp.path(), &fingerprint, segments::Shard::ALL)?;
    segments::align_segments(cfg, reference, backend, &mut work, summary)?;
    let segs = segments::collect(std::slice::from_ref(&work))?;
    let header = crate::io::sam_header::build(reference, &cfg.read_group, &cfg.command_line)?;
    let mut sink = crate::io::sink::create(output, &header, reference)?;
    segments::merge_into(&segs, tmp.path(), sink.as_mut(), summary, &mut |_| Ok(()))?;
    sink.finish()
}

/// Where the caller gets the reads of a chunk.
pub trait ReadSource: Sync {
    /// Appends every read placed on contig `contig` that overlaps `[start, end)`, in
    /// coordinate order (reads that end before `start` may come too).
    fn fetch(&self, contig: usize, start: u64, end: u64, out: &mut Vec<AlignedRead>) -> Result<()>;
    /// `SM` of the input's first read group, if it has one.
    fn sample(&self) -> Option<String> {
        None
    }
}

impl ReadSource for crate::io::bam::IndexedBam {
    fn fetch(&self, contig: usize, start: u64, end: u64, out: &mut Vec<AlignedRead>) -> Result<()> {
        crate::io::bam::IndexedBam::fetch(self, contig, start, end, out)
    }
    fn sample(&self) -> Option<String> {
        crate::io::bam::header_sample(self.header())
    }
}

impl ReadSource for crate::io::cram::IndexedCram {
    fn fetch(&self, contig: usize, start: u64, end: u64, out: &mut Vec<AlignedRead>) -> Result<()> {
        crate::io::cram::IndexedCram::fetch(self, contig, start, end, out)
    }
    fn sample(&self) -> Option<String> {
        crate::io::bam::header_sample(self.header())
    }
}

/// What calling produced.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallSummary {
    pub snps: u64,
    pub indels: u64,
    pub times: StageTimes,
}

/// Calls the chunks of the genome that hold a target (every chunk without targets) in
/// parallel, from `source`, and writes their records in order to the gVCF (or VCF) `path`
/// with `header_text`; the file and its index appear only when complete. Indel likelihoods run
/// on `backend`.
#[allow(clippy::too_many_arguments)]
pub fn call_to_file(
    reference: &Reference,
    source: &dyn ReadSource,
    targets: Option<&[Interval]>,
    params: &CallParams,
    backend: &dyn Backend,
    path: &Path,
    header_text: &str,
    mode: OutputMode,
) -> Result<CallSummary> {
    let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
    let chunks = regions::chunks(&lens, targets, params.chunk_len);
    let mut out = CallOutput::create(path, header_text, mode)?;
    // Waves of chunks keep a bounded number of chunk results in memory while writing in order.
    let wave = rayon::current_num_threads().max(1) * 4;
    for group in chunks.chunks(wave) {
        out.call_wave(reference, group, params, backend, |chunk, reads| {
            source.fetch(
                chunk.contig,
                chunk.lead_start(),
                chunk.end + regions::TAIL,
                reads,
            )
        })?;
    }
    Ok(out.finish(reference)?.0)
}

/// A gVCF (or VCF) being written from called chunks, in order.
pub struct CallOutput {
    writer: crate::io::gvcf::Writer,
    summary: CallSummary,
    /// Depth and variant QC counts, when asked for.
    qc: Option<QcCounts>,
}

impl CallOutput {
    pub fn create(path: &Path, header_text: &str, mode: OutputMode) -> Result<CallOutput> {
        Ok(CallOutput {
            writer: crate::io::gvcf::Writer::create(path, header_text, mode)?,
            summary: CallSummary::default(),
            qc: None,
        })
    }

    /// Also counts depths and variants for the QC report.
    pub fn with_qc(mut self) -> Self {
        self.qc = Some(QcCounts::default());
        self
    }

    /// Calls `group` (consecutive chunks) in parallel, each from the reads `fetch` appends
    /// for it, and writes their records in order.
    pub fn call_wave(
        &mut self,
        reference: &Reference,
        group: &[regions::Chunk],
        params: &CallParams,
        backend: &dyn Backend,
        fetch: impl Fn(&regions::Chunk, &mut Vec<AlignedRead>) -> Result<()> + Sync,
    ) -> Result<()> {
        let with_qc = self.qc.is_some();
        type Called = (Vec<Record>, StageTimes, Option<QcCounts>);
        let results: Vec<Result<Called>> = group
            .par_iter()
            .map(|chunk| {
                let mut times = StageTimes {
                    chunks: 1,
                    ..StageTimes::default()
                };
                let t = Instant::now();
                let mut reads = Vec::new();
                fetch(chunk, &mut reads)?;
                times.fetch = t.elapsed();
                times.reads = reads.len() as u64;
                let contig = &reference.contigs[chunk.contig];
                let autosomal = crate::report::qc::is_autosome(&contig.name);
                let mut qc = with_qc.then(QcCounts::default);
                let mut count_depth = qc.as_mut().map(|q| move |d| q.add_depth(d, autosomal));
                let records = call_chunk(
                    &contig.codes,
                    chunk,
                    &reads,
                    params,
                    backend,
                    &mut times,
                    count_depth.as_mut().map(|f| f as &mut dyn FnMut(u32)),
                )?;
                if let Some(q) = qc.as_mut() {
                    q.add_records(&records, autosomal);
                }
                Ok((records, times, qc))
            })
            .collect();
        for (chunk, result) in group.iter().zip(results) {
            let (records, times, qc) = result?;
            if let (Some(total), Some(q)) = (self.qc.as_mut(), qc) {
                total.merge(&q);
            }
            let t = Instant::now();
            let (snps, indels) = count_variants(&records);
            self.summary.snps += snps;
            self.summary.indels += indels;
            let contig = &reference.contigs[chunk.contig];
            self.writer.push(&contig.name, &contig.codes, &records)?;
            self.summary.times.add(&times);
            self.summary.times.write += t.elapsed();
        }
        Ok(())
    }

    /// Finishes the file (and its index) under its final name; the QC counts if asked for.
    pub fn finish(mut self, reference: &Reference) -> Result<(CallSummary, Option<QcCounts>)> {
        let t = Instant::now();
        self.writer.finish(reference)?;
        self.summary.times.write += t.elapsed();
        Ok((self.summary, self.qc))
    }
}

/// Counts SNP and indel records that pass.
pub fn count_variants(records: &[Record]) -> (u64, u64) {
    let (mut snps, mut indels) = (0, 0);
    for r in records {
        if let Record::Variant(v) = r {
            if !v.filter_pass {
                continue;
            }
            if v.reference.len() == 1 && v.alts.iter().all(|a| a.len() == 1) {
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
    /// Align only this shard's segments into `OUTDIR/SAMPLE.shard-K-of-N/` (for `genoa gather`).
    pub shard: segments::Shard,
    /// Where the checkpoints of an unsharded run live (default: OUTDIR).
    pub tmp_dir: Option<PathBuf>,
}

/// Paths `genoa run` writes.
#[derive(Clone, Debug)]
pub struct RunOutputs {
    /// `SAMPLE.bam` or `SAMPLE.cram`.
    pub alignments: PathBuf,
    pub gvcf: PathBuf,
    pub qc_json: PathBuf,
    pub report_html: PathBuf,
}

impl RunConfig {
    pub fn outputs(&self) -> RunOutputs {
        let file = |ext: &str| self.outdir.join(format!("{}.{ext}", self.sample));
        RunOutputs {
            alignments: file(if self.cram { "cram" } else { "bam" }),
            gvcf: file("g.vcf.gz"),
            qc_json: file("qc.json"),
            report_html: file("report.html"),
        }
    }

    /// The directory of shard `shard`'s segments.
    pub fn shard_dir(&self, shard: segments::Shard) -> PathBuf {
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

/// FASTQ → `OUTDIR/SAMPLE.bam` or `.cram` (+ index), `OUTDIR/SAMPLE.g.vcf.gz` (+ index),
/// `SAMPLE.qc.json` and `SAMPLE.report.html`; or, with a shard of more than one, that
/// shard's aligned segments (see [`segments`]). Alignment is checkpointed: a run killed and
/// started again with the same command goes on from its last committed segment. The
/// checkpoints are removed when the run ends, with success or with an error.
pub fn run(cfg: &RunConfig) -> Result<Summary> {
    let t0 = Instant::now();
    let Setup {
        reference,
        pool,
        timed,
        backend,
        mut summary,
    } = Setup::new(cfg)?;
    let fingerprint = segments::Fingerprint::of(&cfg.align, &reference)?;
    if cfg.shard.n > 1 {
        let dir = cfg.shard_dir(cfg.shard);
        let mut work = segments::WorkDir::open(&dir, &fingerprint, cfg.shard)?;
        pool.install(|| {
            segments::align_segments(&cfg.align, &reference, backend, &mut work, &mut summary)
        })?;
        summary.seconds = t0.elapsed().as_secs_f64();
        summary.kernel_seconds = timed.seconds();
        return Ok(summary);
    }
    let dir = cfg.work_dir();
    if let Some(parent) = dir.parent() {
        ensure_writable_dir(parent)?;
    }
    let result = (|| {
        let mut work = segments::WorkDir::open(&dir, &fingerprint, segments::Shard::ALL)?;
        pool.install(|| {
            segments::align_segments(
                &cfg.align,
                &reference,
                backend.clone(),
                &mut work,
                &mut summary,
            )
        })?;
        let segs = segments::collect(std::slice::from_ref(&work))?;
        finish_run(
            cfg,
            &reference,
            &pool,
            backend,
            &segs,
            &dir,
            &mut summary,
            t0,
        )
    })();
    // Checkpoints go on success and on errors (a kill leaves them for the next run).
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    summary.seconds = t0.elapsed().as_secs_f64();
    summary.kernel_seconds = timed.seconds();
    Ok(summary)
}

/// What `run` and `gather` start from.
struct Setup {
    reference: Reference,
    pool: rayon::ThreadPool,
    timed: Arc<backend::Timed>,
    backend: Arc<dyn Backend>,
    summary: Summary,
}

impl Setup {
    fn new(cfg: &RunConfig) -> Result<Setup> {
        ensure_writable_dir(&cfg.outdir)?;
        let reference = Reference::load(&cfg.align.reference)?;
        let pool = thread_pool(cfg.align.threads)?;
        let timed = Arc::new(backend::Timed::new(backend::select(cfg.align.backend)?));
        let backend: Arc<dyn Backend> = timed.clone();
        let summary = Summary {
            backend: backend.name(),
            ..Summary::default()
        };
        Ok(Setup {
            reference,
            pool,
            timed,
            backend,
            summary,
        })
    }
}

/// Joins the shard directories of a run made with `--shard K/N` into the outputs an unsharded
/// run writes: the same BAM/CRAM records, gVCF records and QC counts.
pub fn gather(cfg: &RunConfig, shard_dirs: &[PathBuf]) -> Result<Summary> {
    let t0 = Instant::now();
    let Setup {
        reference,
        pool,
        timed,
        backend,
        mut summary,
    } = Setup::new(cfg)?;
    let works = shard_dirs
        .iter()
        .map(|d| segments::WorkDir::existing(d))
        .collect::<Result<Vec<_>>>()?;
    if let Some(w) = works.first()
        && w.fingerprint().reference != segments::Fingerprint::reference_of(&reference)
    {
        return Err(Error::input(
            w.path(),
            format!(
                "was aligned to another reference than {}",
                cfg.align.reference.display()
            ),
        ));
    }
    let mut cfg = cfg.clone();
    if let Some(w) = works.first() {
        let rg = ReadGroupLine::parse(&w.fingerprint().read_group)?;
        if rg.sample != cfg.sample {
            return Err(Error::input(
                w.path(),
                format!(
                    "holds sample {:?}, not --sample {:?}",
                    rg.sample, cfg.sample
                ),
            ));
        }
        cfg.align.read_group = rg;
    }
    let cfg = &cfg;
    let segs = segments::collect(&works)?;
    for (_, d) in &segs {
        summary.pairs += d.pairs;
        summary.mapped += d.mapped;
    }
    summary.reads = 2 * summary.pairs;
    let scratch = tempfile::Builder::new()
        .prefix(".genoa-gather.")
        .tempdir_in(&cfg.outdir)
        .map_err(|e| Error::io(&cfg.outdir, e))?;
    finish_run(
        cfg,
        &reference,
        &pool,
        backend,
        &segs,
        scratch.path(),
        &mut summary,
        t0,
    )?;
    summary.seconds = t0.elapsed().as_secs_f64();
    summary.kernel_seconds = timed.seconds();
    Ok(summary)
}

/// A message from the BAM writer to the streaming caller.
enum Stream {
    Reads(Vec<AlignedRead>),
    /// Every record was written: the caller may finish its output.
    End,
}

/// Writes the BAM (or CRAM) from the segments while calling its records as they pass, then
/// the QC JSON and HTML report.
#[allow(clippy::too_many_arguments)]
fn finish_run(
    cfg: &RunConfig,
    reference: &Reference,
    pool: &rayon::ThreadPool,
    backend: Arc<dyn Backend>,
    segs: &[(PathBuf, segments::SegmentDone)],
    scratch: &Path,
    summary: &mut Summary,
    t0: Instant,
) -> Result<()> {
    let outputs = cfg.outputs();
    let mode = OutputMode::Gvcf;
    let text = crate::io::gvcf::header(
        reference,
        &cfg.sample,
        &cfg.call.gq_bands,
        mode,
        &cfg.align.command_line,
    );
    let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
    let out = CallOutput::create(&outputs.gvcf, &text, mode)?.with_qc();
    let (called, qc_calls) = std::thread::scope(|scope| -> Result<_> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Stream>(16);
        let params = &cfg.call;
        let backend_ref = backend.as_ref();
        // The caller: a plain thread that hands each batch of reads to the pool, so neither
        // side ever blocks a pool thread while waiting for the other.
        let caller = scope.spawn(move || -> Result<_> {
            let mut caller = stream::StreamCaller::new(
                reference,
                params,
                backend_ref,
                out,
                pool.current_num_threads(),
                cfg.align.memory,
            );
            loop {
                match rx.recv() {
                    Ok(Stream::Reads(reads)) => {
                        pool.install(|| reads.into_iter().try_for_each(|r| caller.push(r)))?
                    }
                    Ok(Stream::End) => return pool.install(|| caller.finish()),
                    Err(_) => {
                        return Err(Error::Internal("alignment stopped before its end".into()));
                    }
                }
            }
        });
        let mut pending: Vec<AlignedRead> = Vec::with_capacity(STREAM_BATCH);
        // Sends without blocking a pool thread: while the channel is full, this thread runs
        // the pool's pending work (the caller's chunks) instead of waiting.
        let send = |msg: Stream| -> Result<()> {
            let mut msg = msg;
            loop {
                match tx.try_send(msg) {
                    Ok(()) => return Ok(()),
                    Err(std::sync::mpsc::TrySendError::Full(m)) => {
                        msg = m;
                        if !matches!(rayon::yield_now(), Some(rayon::Yield::Executed)) {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                    }
                    Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                        return Err(Error::Internal("the caller stopped".into()));
                    }
                }
            }
        };
        let written = pool.install(|| {
            let header = crate::io::sam_header::build(
                reference,
                &cfg.align.read_group,
                &cfg.align.command_line,
            )?;
            let mut sink = crate::io::sink::create(&outputs.alignments, &header, reference)?;
            segments::merge_into(segs, scratch, sink.as_mut(), summary, &mut |rec| {
                if let Some(read) = crate::io::bam::writer::decode_for_caller(rec, &lens)? {
                    pending.push(read);
                    if pending.len() >= STREAM_BATCH {
                        send(Stream::Reads(std::mem::take(&mut pending)))?;
                    }
                }
                Ok(())
            })?;
            sink.finish()?;
            send(Stream::Reads(std::mem::take(&mut pending)))?;
            send(Stream::End)
        });
        drop(tx);
        let called = caller
            .join()
            .map_err(|_| Error::Internal("the calling thread panicked".into()))?;
        // The writer's error first: the caller's is then only that its input stopped.
        written?;
        called
    })?;
    summary.snps = called.snps;
    summary.indels = called.indels;
    // QC: the reads' counts from the segments, depths and variants from the caller.
    let mut qc = QcCounts::default();
    for (_, d) in segs {
        qc.merge(&d.qc);
    }
    if let Some(q) = qc_calls {
        qc.merge(&q);
    }
    qc.add_duplicates(2 * summary.duplicate_pairs + summary.duplicate_fragments);
    let info = crate::report::qc::RunInfo {
        command_line: std::env::args().collect(),
        reference: crate::report::qc::ReferenceInfo {
            path: cfg.align.reference.display().to_string(),
            seqcol_level0: reference.seqcol_level0(),
            contigs: reference
                .contigs
                .iter()
                .map(|c| crate::report::qc::ContigInfo {
                    name: c.name.clone(),
                    length: c.len(),
                    md5: c.md5.clone(),
                    refget: c.refget.clone(),
                })
                .collect(),
        },
        wall_seconds: t0.elapsed().as_secs_f64(),
        backends: vec![
            crate::report::qc::StageBackend {
                stage: "align".into(),
                backend: backend.name(),
            },
            crate::report::qc::StageBackend {
                stage: "call".into(),
                backend: backend.name(),
            },
        ],
        read_group: std::iter::once(("ID".to_string(), cfg.align.read_group.id.clone()))
            .chain(std::iter::once((
                "SM".to_string(),
                cfg.align.read_group.sample.clone(),
            )))
            .chain(cfg.align.read_group.other.iter().cloned())
            .collect(),
        ..crate::report::qc::RunInfo::default()
    };
    let report = qc.finish(&cfg.sample, &info);
    write_text(&outputs.qc_json, &report.to_json())?;
    write_text(&outputs.report_html, &crate::report::html::render(&report))?;
    tracing::info!(
        "stage CPU time: fetch {:.2} s, pileup {:.2} s, assembly {:.2} s, haplotype alignment {:.2} s, pair-HMM {:.2} s, genotyping {:.2} s, write {:.2} s",
        called.times.fetch.as_secs_f64(),
        called.times.pileup.as_secs_f64(),
        called.times.assembly.as_secs_f64(),
        called.times.haplotype_align.as_secs_f64(),
        called.times.pair_hmm.as_secs_f64(),
        called.times.genotype.as_secs_f64(),
        called.times.write.as_secs_f64()
    );
    Ok(())
}

/// Reads handed to the streaming caller at a time.
const STREAM_BATCH: usize = 4096;

/// Writes `text` to `path` through a temporary name.
fn write_text(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let pending = crate::io::atomic::Pending::new(path);
    let mut f = pending.create()?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::io(path, e))?;
    drop(f);
    pending.commit()
}
