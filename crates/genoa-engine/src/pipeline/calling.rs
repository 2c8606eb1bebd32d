//! Calling into a gVCF (or VCF): chunks of the genome called in parallel and written in order,
//! with the QC counts of the calls when asked for.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use crate::backend::Backend;
use crate::call::regions;
use crate::call::{CallParams, StageTimes, call_chunk};
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
    pub times: StageTimes,
}

/// Calls the chunks of the genome that hold a target (every chunk without targets) in
/// parallel, from `source`, and writes their records in order into `out` (see
/// [`CallOutput::create`]); the file and its index appear only when complete. Indel
/// likelihoods run on `backend`.
pub fn call_to_file(
    reference: &Reference,
    source: &dyn ReadSource,
    targets: Option<&[Interval]>,
    params: &CallParams,
    backend: &dyn Backend,
    mut out: CallOutput,
) -> Result<CallSummary> {
    let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
    let targets = params.ploidy.targets(&lens, targets);
    let chunks = regions::chunks(&lens, targets.as_deref(), params.chunk_len);
    // Waves of chunks keep a bounded number of chunk results in memory while writing in order.
    let wave = rayon::current_num_threads().max(1) * 4;
    for group in chunks.chunks(wave) {
        out.call_wave(reference, group, params, backend, |chunk, reads| {
            fetch_downsampled(source, chunk, params, reads)
        })?;
    }
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
                    &mut times,
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
