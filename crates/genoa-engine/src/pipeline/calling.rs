//! Calling into a gVCF (or VCF): chunks of the genome called in parallel and written in order,
//! with the QC counts of the calls when asked for.
//!
//! Chunks go through a [`ChunkQueue`]: each is called on the thread pool as soon as it is
//! submitted (at most `threads × 4` at once, which bounds the reads held), and the records of
//! the finished ones are written as soon as every chunk before them is written. There are no
//! waves: a slow chunk (a satellite, a collapsed duplication) holds up only the writing of the
//! chunks after it, never the calling of others, and a small contig is called beside the
//! others instead of alone. The records do not depend on the order chunks finish in.

use crate::profile::{self, Stage};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use crate::backend::Backend;
use crate::call::regions::{self, Chunk};
use crate::call::{CallCounts, CallParams, call_chunk};
use crate::error::Result;
use crate::io::reference::Reference;
use crate::model::Interval;
use crate::model::alignment::AlignedRead;
use crate::model::gvcf::{OutputMode, Record};
use crate::pipeline::source::ReadSource;
use crate::report::qc::QcCounts;

/// What calling produced.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallSummary {
    pub snps: u64,
    pub indels: u64,
    pub counts: CallCounts,
}

/// Calls the chunks of the genome that hold a target (every chunk without targets) on `pool`,
/// from `source`, and writes their records in order into `out` (see [`CallOutput::create`]);
/// the file and its index appear only when complete. Indel likelihoods run on `backend`.
pub fn call_to_file(
    pool: &rayon::ThreadPool,
    reference: &Reference,
    source: &dyn ReadSource,
    targets: Option<&[Interval]>,
    params: &CallParams,
    backend: &dyn Backend,
    out: CallOutput,
) -> Result<CallSummary> {
    let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
    let targets = params.ploidy.targets(&lens, targets);
    let chunks = regions::chunks(&lens, targets.as_deref(), params.chunk_len);
    let limit = pool.current_num_threads().max(1) * 4;
    let out = pool.in_place_scope(|scope| {
        let mut queue = ChunkQueue::new(scope, reference, params, backend, out, limit, usize::MAX);
        for chunk in chunks {
            let c = chunk.clone();
            queue.submit(chunk, move |reads| {
                fetch_downsampled(source, &c, params, reads)
            })?;
        }
        queue.finish()
    })?;
    Ok(out.finish(reference)?.0)
}

/// Appends the reads of `chunk` (those overlapping `[lead_start, end + TAIL)`) from `source`,
/// downsampled as the aligner's stream downsamples them ([`crate::call::downsample`]): the
/// fetch is widened to the start of the window of its first read, so every window whose reads
/// reach the chunk is judged whole.
pub fn fetch_downsampled(
    source: &dyn ReadSource,
    chunk: &regions::Chunk,
    params: &CallParams,
    reads: &mut Vec<AlignedRead>,
) -> Result<()> {
    use crate::call::downsample::{Caps, WINDOW, downsample};
    let (lo, hi) = (chunk.lead_start(), chunk.end + regions::TAIL);
    let from = reads.len();
    // Widened by a guess at the longest read's span first; fetched again from further back
    // when a read reaching the chunk starts before that (rare: a long deletion or read).
    let widened = lo.saturating_sub(SPAN_GUESS) / WINDOW * WINDOW;
    source.fetch(chunk.contig, widened, hi, reads)?;
    let caps = Caps::of(params.ploidy.contig(chunk.contig).model);
    let first = reads[from..]
        .iter()
        .filter(|r| r.end() > lo)
        .map(|r| r.pos)
        .min();
    if let Some(first) = first
        && first / WINDOW * WINDOW < widened
    {
        reads.truncate(from);
        source.fetch(chunk.contig, first / WINDOW * WINDOW, hi, reads)?;
    }
    if let Some(kept) = downsample(&reads[from..], caps, params.min_mapq) {
        reads.truncate(from);
        reads.extend(kept);
    }
    // Only the reads the chunk asked for (the widened fetch brings more).
    let asked: Vec<AlignedRead> = reads
        .drain(from..)
        .filter(|r| r.end() > lo && r.pos < hi)
        .collect();
    reads.extend(asked);
    Ok(())
}

/// How far before a chunk's lead a fetch starts, so that the windows of the reads reaching
/// the lead come whole without a second fetch.
const SPAN_GUESS: u64 = 1_000;

/// A gVCF (or VCF) being written from called chunks, in order.
pub struct CallOutput {
    writer: crate::io::gvcf::Writer,
    summary: CallSummary,
    /// Depth and variant QC counts, when asked for.
    qc: Option<QcCounts>,
}

impl CallOutput {
    /// A gVCF (or, in `mode` variants, a VCF) at `path` with the header `header_text`.
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

    /// Writes the records of `chunk`, called, and adds up its counts.
    fn write_called(&mut self, reference: &Reference, chunk: &Chunk, called: Called) -> Result<()> {
        let (records, counts, qc) = called;
        if let (Some(total), Some(q)) = (self.qc.as_mut(), qc) {
            total.merge(&q);
        }
        let _span = profile::span(Stage::GvcfWrite);
        let (snps, indels) = count_variants(&records);
        self.summary.snps += snps;
        self.summary.indels += indels;
        let contig = &reference.contigs[chunk.contig];
        self.writer.push(&contig.name, &contig.codes, &records)?;
        self.summary.counts.add(&counts);
        Ok(())
    }

    /// Finishes the file (and its index) under its final name; the QC counts if asked for.
    pub fn finish(self, reference: &Reference) -> Result<(CallSummary, Option<QcCounts>)> {
        let _span = profile::span(Stage::GvcfWrite);
        self.writer.finish(reference)?;
        Ok((self.summary, self.qc))
    }
}

/// A chunk called: its records, the caller's counts and QC counts (when asked for).
type Called = (Vec<Record>, CallCounts, Option<QcCounts>);

/// Calls `chunk` from the reads `fetch` appends.
fn call_one(
    reference: &Reference,
    chunk: &Chunk,
    params: &CallParams,
    backend: &dyn Backend,
    with_qc: bool,
    fetch: impl FnOnce(&mut Vec<AlignedRead>) -> Result<()>,
) -> Result<Called> {
    let mut counts = CallCounts {
        chunks: 1,
        ..CallCounts::default()
    };
    let t = Instant::now();
    let mut reads = Vec::new();
    profile::time(Stage::CallFetch, || fetch(&mut reads))?;
    counts.reads = reads.len() as u64;
    let contig = &reference.contigs[chunk.contig];
    let autosomal = crate::report::qc::is_autosome(&contig.name);
    let mut qc = with_qc.then(QcCounts::default);
    let ci = chunk.contig;
    let mut count_depth = qc.as_mut().map(|q| {
        move |d| {
            q.add_depth(d, autosomal);
            q.add_contig_depth(ci, d);
        }
    });
    let records = call_chunk(
        &contig.codes,
        chunk,
        &reads,
        params,
        backend,
        &mut counts,
        count_depth.as_mut().map(|f| f as &mut dyn FnMut(u32)),
    )?;
    if let Some(q) = qc.as_mut() {
        q.add_records(&records, autosomal);
    }
    tracing::debug!(
        "chunk {}:{}-{}: {} reads, {:.3} s",
        contig.name,
        chunk.start + 1,
        chunk.end,
        reads.len(),
        t.elapsed().as_secs_f64()
    );
    Ok((records, counts, qc))
}

/// Chunks called on a thread pool as they are submitted, their records written in submission
/// order into a [`CallOutput`] (see the module's doc). The thread that submits must not be one
/// of the pool's: it waits for results when `limit` chunks are in flight.
pub struct ChunkQueue<'a, 's> {
    scope: &'a rayon::Scope<'s>,
    reference: &'s Reference,
    params: &'s CallParams,
    backend: &'s dyn Backend,
    out: CallOutput,
    limit: usize,
    tx: mpsc::Sender<(u64, Result<Called>)>,
    rx: mpsc::Receiver<(u64, Result<Called>)>,
    /// Chunks submitted and not yet written, in order, each with the bytes of reads it holds;
    /// the most bytes held at once (beyond one chunk).
    pending: std::collections::VecDeque<(Chunk, usize)>,
    held: usize,
    budget: usize,
    written: u64,
    /// Results that arrived before the chunks ahead of them.
    done: BTreeMap<u64, Result<Called>>,
}

impl<'a, 's> ChunkQueue<'a, 's> {
    /// A queue calling on `scope`'s pool into `out`, at most `limit` chunks at once, and
    /// waiting while the chunks in flight hold more than `budget` bytes of reads (as
    /// [`ChunkQueue::submit_holding`] declares them).
    pub fn new(
        scope: &'a rayon::Scope<'s>,
        reference: &'s Reference,
        params: &'s CallParams,
        backend: &'s dyn Backend,
        out: CallOutput,
        limit: usize,
        budget: usize,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        ChunkQueue {
            scope,
            reference,
            params,
            backend,
            out,
            limit: limit.max(1),
            tx,
            rx,
            pending: Default::default(),
            held: 0,
            budget,
            written: 0,
            done: BTreeMap::new(),
        }
    }

    /// Calls `chunk` from the reads `fetch` appends (on the pool), after waiting while `limit`
    /// chunks are in flight; writes whatever has finished in order.
    pub fn submit(
        &mut self,
        chunk: Chunk,
        fetch: impl FnOnce(&mut Vec<AlignedRead>) -> Result<()> + Send + 's,
    ) -> Result<()> {
        self.submit_holding(chunk, 0, fetch)
    }

    /// [`ChunkQueue::submit`] of a chunk whose `fetch` holds `bytes` of reads until it runs.
    pub fn submit_holding(
        &mut self,
        chunk: Chunk,
        bytes: usize,
        fetch: impl FnOnce(&mut Vec<AlignedRead>) -> Result<()> + Send + 's,
    ) -> Result<()> {
        while self.pending.len() >= self.limit
            || (!self.pending.is_empty() && self.held + bytes > self.budget)
        {
            self.write_finished(true)?;
        }
        let seq = self.written + self.pending.len() as u64;
        self.pending.push_back((chunk.clone(), bytes));
        self.held += bytes;
        let (tx, reference, params, backend) =
            (self.tx.clone(), self.reference, self.params, self.backend);
        let with_qc = self.out.qc.is_some();
        self.scope.spawn(move |_| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                call_one(reference, &chunk, params, backend, with_qc, fetch)
            }))
            .unwrap_or_else(|_| {
                Err(crate::error::Error::Internal(format!(
                    "calling {}:{}-{} panicked",
                    reference.contigs[chunk.contig].name,
                    chunk.start + 1,
                    chunk.end
                )))
            });
            // The queue is gone only after an error: nothing waits for this result.
            let _ = tx.send((seq, result));
        });
        self.write_finished(false)
    }

    /// The reference the chunks are called against.
    pub fn reference(&self) -> &'s Reference {
        self.reference
    }

    /// The calling settings.
    pub fn params(&self) -> &'s CallParams {
        self.params
    }

    /// Takes the results that arrived (waiting for one when `wait`), and writes the chunks at
    /// the head of the order that are finished.
    fn write_finished(&mut self, wait: bool) -> Result<()> {
        if wait {
            let (seq, r) = self
                .rx
                .recv()
                .map_err(|_| crate::error::Error::Internal("a calling task vanished".into()))?;
            self.done.insert(seq, r);
        }
        while let Ok((seq, r)) = self.rx.try_recv() {
            self.done.insert(seq, r);
        }
        while let Some(r) = self.done.remove(&self.written) {
            let (chunk, bytes) = self
                .pending
                .pop_front()
                .expect("a pending chunk per result");
            self.held -= bytes;
            self.out.write_called(self.reference, &chunk, r?)?;
            self.written += 1;
        }
        Ok(())
    }

    /// Waits for every chunk and writes them; the output, to finish.
    pub fn finish(mut self) -> Result<CallOutput> {
        while !self.pending.is_empty() {
            self.write_finished(true)?;
        }
        Ok(self.out)
    }
}

/// Counts SNP and indel records that pass.
fn count_variants(records: &[Record]) -> (u64, u64) {
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
