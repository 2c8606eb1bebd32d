//! `genoa run` (FASTQ → BAM/CRAM, gVCF, QC JSON and HTML report, checkpointed) and `genoa
//! gather` (the shards of a sharded run → the same outputs). Both end the same way: the
//! segments' records are merged into the alignment sink while the streaming caller calls them
//! as they pass, then the QC counts of both sides are joined into the report.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Instant;

use crate::backend::{self, Backend, BackendChoice};
use crate::call::CallParams;
use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::io::sam_header::ReadGroupLine;
use crate::model::alignment::AlignedRead;
use crate::model::gvcf::OutputMode;
use crate::pipeline::calling::{CallOutput, CallSummary, ChunkQueue};
use crate::pipeline::config::{GatherConfig, RunConfig, RunOutputs};
use crate::pipeline::lock::WorkLock;
use crate::pipeline::segments::{self, SegmentDone, Shard};
use crate::pipeline::{Summary, ensure_writable_dir, stream, thread_pool};
use crate::report::qc::{
    ContigInfo, ProfileStart, QcCounts, ReferenceInfo, RunInfo, RunProfile, StageBackend,
};

/// FASTQ → `OUTDIR/SAMPLE.bam` or `.cram` (+ index), `OUTDIR/SAMPLE.g.vcf.gz` (+ index),
/// `SAMPLE.qc.json` and `SAMPLE.report.html`; or, with a shard of more than one, that
/// shard's aligned segments (see [`segments`]). Alignment is checkpointed: a run killed and
/// started again with the same command goes on from its last committed segment. The
/// checkpoints are removed when the run succeeds; an error keeps them (hours of alignment are
/// not lost to a full disk: free space and run the command again), and `restart` removes them
/// before the run starts.
pub fn run(cfg: &RunConfig) -> Result<Summary> {
    let t0 = Instant::now();
    cfg.align.check()?;
    if let Some(tmp) = &cfg.tmp_dir
        && !tmp.is_dir()
    {
        return Err(Error::input(
            tmp,
            "--tmp-dir must be an existing directory (genoa creates only its own work directory in it)",
        ));
    }
    let setup = Setup::new(
        &cfg.outdir,
        &cfg.align.reference,
        cfg.align.threads,
        cfg.align.backend,
    )?;
    // Bad regions, PAR or .alt files fail now, not after aligning.
    cfg.targets.resolve(&setup.reference)?;
    crate::pipeline::sex::roles_and_pars(&setup.reference, &cfg.sex)?;
    let mut summary = setup.summary();
    let fingerprint = segments::Fingerprint::of(&cfg.align, &setup.reference)?;
    let align = |work: &mut segments::WorkDir, summary: &mut Summary| {
        setup.pool.install(|| {
            segments::align_segments(
                &cfg.align,
                &setup.reference,
                setup.backend.clone(),
                work,
                summary,
            )
        })
    };
    if cfg.shard.n > 1 {
        let dir = cfg.shard_dir(cfg.shard);
        check_space(cfg, &dir, None)?;
        let _lock = WorkLock::acquire(&dir)?;
        if cfg.restart && dir.exists() {
            crate::pipeline::lock::clear_dir(&dir)?;
        }
        let mut work = segments::WorkDir::open(&dir, &fingerprint, cfg.shard)?;
        align(&mut work, &mut summary)?;
        tracing::info!("{}", RunProfile::since(&setup.profile_start));
        return Ok(setup.finish(summary, t0));
    }
    let dir = cfg.work_dir();
    if let Some(parent) = dir.parent() {
        ensure_writable_dir(parent)?;
    }
    let read_groups = cfg.align.read_groups();
    let plan = OutputPlan {
        outputs: cfg.outputs(),
        sample: &cfg.sample,
        reference_path: &cfg.align.reference,
        read_groups: &read_groups,
        command_line: &cfg.align.command_line,
        call: &cfg.call,
        sex: &cfg.sex,
        targets: &cfg.targets,
        memory: cfg.align.memory,
    };
    // Held until the checkpoints are removed: a second run of this sample here stops at once
    // (and so never removes this run's checkpoints).
    check_space(cfg, &dir, Some(&cfg.outdir))?;
    let lock = WorkLock::acquire(&dir)?;
    if cfg.restart && dir.exists() {
        tracing::info!("--restart: removing the checkpoints in {}", dir.display());
        crate::pipeline::lock::clear_dir(&dir)?;
    }
    let result = (|| {
        let mut work = segments::WorkDir::open(&dir, &fingerprint, Shard::ALL)?;
        align(&mut work, &mut summary)?;
        let segs = segments::collect(std::slice::from_ref(&work))?;
        finish_run(&plan, &setup, &segs, &dir, &mut summary, t0)
    })();
    // Checkpoints go on success, and on errors in the inputs (they must change, and changed
    // inputs start over anyway); any other error (a full disk, a backend failure) or a kill
    // leaves them for the next run.
    let keep = match &result {
        Ok(_) => false,
        Err(Error::Record { .. } | Error::Input { .. } | Error::Config(_)) => false,
        Err(_) => std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .any(|e| e.file_name().to_string_lossy().starts_with("seg-"))
            })
            .unwrap_or(false),
    };
    if keep {
        tracing::warn!(
            "the aligned segments are kept in {}: run the same command again to resume from them (--restart starts over)",
            dir.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    drop(lock);
    result?;
    Ok(setup.finish(summary, t0))
}

/// Disk a run needs per byte of its read files: its checkpoints (sorted runs at ~1.05x their
/// part of the BAM, the BAM ~0.8x the gzipped reads: E. coli 120x, peak 1.09-1.13x a BAM of
/// 0.77x the reads; a margin for reads that compress worse), and its outputs (the BAM or CRAM,
/// the gVCF, the indexes). The final merge's parts in flight come on top of the checkpoints.
const CHECKPOINT_PER_READ_BYTE: f64 = 1.0;
const OUTPUT_PER_READ_BYTE: f64 = 1.0;

/// Checks before aligning that the work directory `dir` (and `outdir`, for the outputs of an
/// unsharded run) have the disk the run needs, from the read files' sizes (this shard's share;
/// less what a resumed run already holds): the estimate is logged, and a shortfall is an
/// error naming both numbers, unless `space_check` is off.
fn check_space(cfg: &RunConfig, dir: &Path, outdir: Option<&Path>) -> Result<()> {
    let reads: u64 = cfg
        .align
        .lanes()
        .iter()
        .flat_map(|l| l.reads.files())
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let share = 1.0 / cfg.shard.n as f64;
    let held = if cfg.restart { 0 } else { dir_bytes(dir) };
    let mut work = (CHECKPOINT_PER_READ_BYTE * reads as f64 * share - held as f64).max(0.0) as u64;
    let out = outdir.map_or(0, |_| (OUTPUT_PER_READ_BYTE * reads as f64) as u64);
    if cfg.shard.n == 1 {
        // The final merge's parts, beside the checkpoints until appended: at most threads + 1
        // of at least 64 ranges (`segments::plan_ranges`).
        let threads = crate::pipeline::config::capped_threads(cfg.align.threads);
        work += (out as f64 * ((threads + 1) as f64 / 64.0).min(1.0)) as u64;
    }
    let probe = |p: &Path| {
        let existing = p.ancestors().find(|a| a.exists()).unwrap_or(Path::new("."));
        rustix::fs::statvfs(existing)
            .ok()
            .map(|v| (v.f_fsid, v.f_bavail.saturating_mul(v.f_frsize)))
    };
    let gb = |b: u64| b as f64 / 1e9;
    let (Some((work_fs, work_free)), out_fs) = (probe(dir), outdir.and_then(probe)) else {
        return Ok(());
    };
    // (file system, free bytes, bytes needed there, what for)
    let mut needs = vec![(work_fs, work_free, work, "checkpoints")];
    if let Some((fs, free)) = out_fs {
        match needs.iter_mut().find(|n| n.0 == fs) {
            Some(n) => {
                n.2 += out;
                n.3 = "checkpoints and outputs";
            }
            None => needs.push((fs, free, out, "outputs")),
        }
    }
    for &(_, free, need, what) in &needs {
        tracing::info!(
            "disk: {what} need about {:.1} GB ({:.1} GB of reads{}), {:.1} GB free",
            gb(need),
            gb(reads),
            if held > 0 {
                format!(", {:.1} GB already held", gb(held))
            } else {
                String::new()
            },
            gb(free)
        );
        if cfg.space_check && free < need {
            return Err(Error::Config(format!(
                "not enough disk for the {what}: about {:.1} GB needed ({:.1}x the {:.1} GB of reads{}), {:.1} GB free in {}; free space, put the checkpoints elsewhere with --tmp-dir, or skip this check with --no-space-check",
                gb(need),
                need as f64 / reads.max(1) as f64,
                gb(reads),
                if cfg.shard.n > 1 {
                    " of this shard"
                } else {
                    ""
                },
                gb(free),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Bytes of the files under `dir` (0 when it does not exist).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// Joins the shard directories of a run made with `--shard K/N` into the outputs an unsharded
/// run writes: the same BAM/CRAM records, gVCF records and QC counts. The read group is the
/// shards' own; it must name the sample.
pub fn gather(cfg: &GatherConfig) -> Result<Summary> {
    let t0 = Instant::now();
    let setup = Setup::new(&cfg.outdir, &cfg.reference, cfg.threads, cfg.backend)?;
    cfg.targets.resolve(&setup.reference)?;
    crate::pipeline::sex::roles_and_pars(&setup.reference, &cfg.sex)?;
    let mut summary = setup.summary();
    let works = cfg
        .shards
        .iter()
        .map(|d| {
            WorkLock::ensure_idle(d)?;
            segments::WorkDir::existing(d)
        })
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = works.first() else {
        return Err(Error::Config("no shard directories to gather".into()));
    };
    if first.fingerprint().run_format != crate::align::sort::RUN_FORMAT {
        return Err(Error::input(
            first.path(),
            format!(
                "holds sort runs of another layout (format {}, this genoa reads {}); align its shards again with this version",
                first.fingerprint().run_format,
                crate::align::sort::RUN_FORMAT
            ),
        ));
    }
    if first.fingerprint().reference != segments::Fingerprint::reference_of(&setup.reference) {
        return Err(Error::input(
            first.path(),
            format!(
                "was aligned to another reference than {}",
                cfg.reference.display()
            ),
        ));
    }
    let read_groups = first
        .fingerprint()
        .read_groups
        .iter()
        .map(|l| ReadGroupLine::parse(l))
        .collect::<Result<Vec<_>>>()?;
    if let Some(rg) = read_groups.iter().find(|rg| rg.sample != cfg.sample) {
        return Err(Error::input(
            first.path(),
            format!(
                "holds sample {:?}, not --sample {:?}",
                rg.sample, cfg.sample
            ),
        ));
    }
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
    let plan = OutputPlan {
        outputs: cfg.outputs(),
        sample: &cfg.sample,
        reference_path: &cfg.reference,
        read_groups: &read_groups,
        command_line: &cfg.command_line,
        call: &cfg.call,
        sex: &cfg.sex,
        targets: &cfg.targets,
        memory: cfg.memory,
    };
    finish_run(&plan, &setup, &segs, scratch.path(), &mut summary, t0)?;
    Ok(setup.finish(summary, t0))
}

/// What `run` and `gather` start from: the reference, the thread pool and the backend.
struct Setup {
    /// The stage counters when the run started (before the reference was loaded).
    profile_start: ProfileStart,
    reference: Reference,
    pool: rayon::ThreadPool,
    timed: Arc<backend::Timed>,
    backend: Arc<dyn Backend>,
}

impl Setup {
    fn new(
        outdir: &Path,
        reference: &Path,
        threads: usize,
        backend: BackendChoice,
    ) -> Result<Setup> {
        let profile_start = ProfileStart::now();
        ensure_writable_dir(outdir)?;
        let reference = Reference::load(reference)?;
        let pool = thread_pool(threads)?;
        let timed = Arc::new(backend::Timed::new(backend::select(backend)?));
        let backend: Arc<dyn Backend> = timed.clone();
        Ok(Setup {
            profile_start,
            reference,
            pool,
            timed,
            backend,
        })
    }

    /// An empty summary naming the backend.
    fn summary(&self) -> Summary {
        Summary {
            backend: self.backend.name(),
            ..Summary::default()
        }
    }

    /// `summary` with the wall time since `t0` and the kernels' time.
    fn finish(&self, mut summary: Summary, t0: Instant) -> Summary {
        summary.seconds = t0.elapsed().as_secs_f64();
        summary.kernel_seconds = self.timed.seconds();
        summary
    }
}

/// What the outputs of a run are made from, for `run` and `gather` alike.
struct OutputPlan<'a> {
    outputs: RunOutputs,
    sample: &'a str,
    reference_path: &'a Path,
    /// The lanes' read groups, in lane order.
    read_groups: &'a [ReadGroupLine],
    command_line: &'a str,
    call: &'a CallParams,
    /// Declared sex and PARs: the ploidy of `call` is decided from them and the coverage.
    sex: &'a crate::pipeline::sex::SexConfig,
    targets: &'a crate::pipeline::config::Targets,
    /// The memory setting (`-m`), which bounds the streaming caller's reads (see
    /// [`crate::pipeline::config::caller_budget`]).
    memory: usize,
}

/// Writes the BAM (or CRAM) from the segments while calling its records as they pass, then
/// the QC JSON and HTML report.
fn finish_run(
    plan: &OutputPlan,
    setup: &Setup,
    segs: &[(PathBuf, SegmentDone)],
    scratch: &Path,
    summary: &mut Summary,
    t0: Instant,
) -> Result<()> {
    // The karyotype from the alignment-time coverage bins, then the ploidy of every base.
    let mut bins = crate::call::ploidy::CoverageBins::default();
    for (_, d) in segs {
        bins.merge(&d.coverage);
    }
    let decision = crate::pipeline::sex::decide(&setup.reference, plan.sex, Some(&bins))?;
    let call = CallParams {
        ploidy: std::sync::Arc::new(decision.ploidy),
        ..plan.call.clone()
    };
    let plan = &OutputPlan {
        call: &call,
        outputs: plan.outputs.clone(),
        ..*plan
    };
    let (called, qc_calls) = write_and_call(plan, setup, segs, scratch, summary)?;
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
    qc.set_karyotype(decision.report.clone());
    qc.add_duplicates(2 * summary.duplicate_pairs + summary.duplicate_fragments);
    let info = run_info(plan, setup, t0);
    if let Some(p) = &info.profile {
        tracing::info!("{p}");
    }
    let report = qc.finish(plan.sample, &info);
    crate::io::atomic::write(&plan.outputs.qc_json, report.to_json().as_bytes())?;
    crate::io::atomic::write(
        &plan.outputs.report_html,
        crate::report::html::render(&report).as_bytes(),
    )?;
    tracing::info!("calling: {}", called.counts);
    Ok(())
}

/// A message from the alignment writer to the streaming caller.
enum Stream {
    Reads(Vec<AlignedRead>),
    /// Every record was written: the caller may finish its output.
    End,
}

/// Reads handed to the streaming caller at a time.
const STREAM_BATCH: usize = 4096;

/// Merges the segments into the alignment sink on the pool and, on a thread of its own, calls
/// the records as they pass into the gVCF: the gVCF's summary and the caller's QC counts.
fn write_and_call(
    plan: &OutputPlan,
    setup: &Setup,
    segs: &[(PathBuf, SegmentDone)],
    scratch: &Path,
    summary: &mut Summary,
) -> Result<(CallSummary, Option<QcCounts>)> {
    let mode = OutputMode::Gvcf;
    let text = crate::pipeline::sex::with_ploidy_line(
        crate::io::gvcf::header(
            &setup.reference,
            plan.sample,
            &plan.call.gq_bands,
            mode,
            plan.command_line,
        ),
        &setup.reference,
        &plan.call.ploidy,
    );
    let out = CallOutput::create(&plan.outputs.gvcf, &text, mode)?.with_qc();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Stream>(4);
        // The caller: a plain thread that hands each batch of reads to the pool, so neither
        // side ever blocks a pool thread while waiting for the other.
        let caller = scope.spawn(move || call_stream(plan, setup, out, rx));
        let written = setup
            .pool
            .install(|| write_alignments(plan, setup, segs, scratch, summary, &tx));
        drop(tx);
        let called = caller
            .join()
            .map_err(|_| Error::Internal("the calling thread panicked".into()))?;
        // The writer's error first: the caller's is then only that its input stopped.
        written?;
        called
    })
}

/// The streaming caller's loop: calls the reads `rx` brings, on the pool, until the end.
fn call_stream(
    plan: &OutputPlan,
    setup: &Setup,
    out: CallOutput,
    rx: Receiver<Stream>,
) -> Result<(CallSummary, Option<QcCounts>)> {
    let pool = &setup.pool;
    let targets = plan.targets.resolve(&setup.reference)?;
    // This thread reads the stream and submits chunks; they are called on the pool.
    pool.in_place_scope(|scope| {
        let threads = pool.current_num_threads();
        let queue = ChunkQueue::new(
            scope,
            &setup.reference,
            plan.call,
            setup.backend.as_ref(),
            out,
            threads.max(1) * 4,
            crate::pipeline::config::caller_budget(plan.memory, threads),
        );
        let mut caller = stream::StreamCaller::new(queue, targets.as_deref());
        loop {
            match rx.recv() {
                Ok(Stream::Reads(reads)) => reads.into_iter().try_for_each(|r| caller.push(r))?,
                Ok(Stream::End) => return caller.finish(),
                Err(_) => return Err(Error::Internal("alignment stopped before its end".into())),
            }
        }
    })
}

/// Merges the segments into the BAM or CRAM (and its index), sending the records the caller
/// uses to `tx` in batches, then the end.
fn write_alignments(
    plan: &OutputPlan,
    setup: &Setup,
    segs: &[(PathBuf, SegmentDone)],
    scratch: &Path,
    summary: &mut Summary,
    tx: &SyncSender<Stream>,
) -> Result<()> {
    let reference = &setup.reference;
    let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
    let header = crate::io::sam_header::build(reference, plan.read_groups, plan.command_line)?;
    let mut sink = crate::io::sink::create(&plan.outputs.alignments, &header, reference)?;
    let mut pending: Vec<AlignedRead> = Vec::with_capacity(STREAM_BATCH);
    segments::merge_into(
        segs,
        reference,
        scratch,
        plan.memory,
        sink.as_mut(),
        summary,
        &mut |recs| {
            // Decoded on the pool, handed over in order.
            let reads: Vec<Result<Option<AlignedRead>>> = recs
                .par_iter()
                .with_min_len(256)
                .map(|rec| crate::io::bam::writer::decode_for_caller(rec, &lens))
                .collect();
            for read in reads {
                if let Some(read) = read? {
                    pending.push(read);
                    if pending.len() >= STREAM_BATCH {
                        send(tx, Stream::Reads(std::mem::take(&mut pending)))?;
                    }
                }
            }
            Ok(())
        },
    )?;
    sink.finish()?;
    send(tx, Stream::Reads(pending))?;
    send(tx, Stream::End)
}

/// Sends without blocking a pool thread: while the channel is full, this thread runs the
/// pool's pending work (the caller's chunks) instead of waiting.
fn send(tx: &SyncSender<Stream>, mut msg: Stream) -> Result<()> {
    loop {
        match tx.try_send(msg) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(m)) => {
                msg = m;
                crate::pipeline::help_pool();
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(Error::Internal("the caller stopped".into()));
            }
        }
    }
}

/// The run section of the QC report.
fn run_info(plan: &OutputPlan, setup: &Setup, t0: Instant) -> RunInfo {
    let reference = &setup.reference;
    let rg = &plan.read_groups[0];
    let tags = |rg: &ReadGroupLine| {
        [
            ("ID".to_string(), rg.id.clone()),
            ("SM".to_string(), rg.sample.clone()),
        ]
        .into_iter()
        .chain(rg.other.iter().cloned())
        .collect()
    };
    let stage = |stage: &str| StageBackend {
        stage: stage.into(),
        backend: setup.backend.name(),
    };
    RunInfo {
        command_line: std::env::args().collect(),
        reference: ReferenceInfo {
            path: plan.reference_path.display().to_string(),
            seqcol_level0: reference.seqcol_level0(),
            contigs: reference
                .contigs
                .iter()
                .map(|c| ContigInfo {
                    name: c.name.clone(),
                    length: c.len(),
                    md5: c.md5.clone(),
                    refget: c.refget.clone(),
                })
                .collect(),
        },
        wall_seconds: t0.elapsed().as_secs_f64(),
        profile: Some(RunProfile::since(&setup.profile_start)),
        backends: vec![stage("align"), stage("call")],
        read_group: tags(rg),
        read_groups: if plan.read_groups.len() > 1 {
            plan.read_groups.iter().map(tags).collect()
        } else {
            Vec::new()
        },
        ..RunInfo::default()
    }
}
