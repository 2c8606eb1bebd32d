//! The driver: FASTQ → aligned, sorted BAM → gVCF, stage by stage on a thread pool of the
//! requested size. Output depends only on the input: not on the thread count, the batch size or
//! the backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::align::{AlignScratch, AlignedRead, Aligner};
use crate::backend::{self, Backend, BackendChoice};
use crate::call::regions::{self, Interval};
use crate::call::{CallParams, OutputMode, StageTimes, call_chunk, gvcf::Record};
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
    /// Memory for sorting, in bytes (sorted runs spill to disk beyond it).
    pub memory: usize,
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

/// One pair's records encoded for the sorters.
#[derive(Default)]
struct Encoded {
    bytes: Vec<u8>,
    records: Vec<([u64; 2], usize, usize)>,
    dups: Vec<crate::align::markdup::DupKey>,
}

/// Aligns all reads into a coordinate-sorted, duplicate-marked BAM at `bam` (+ index), in one
/// pass: records are encoded as they are aligned, sorted within `cfg.memory` bytes (spilling
/// sorted runs beside the output), duplicates decided from their own sorted entries, and the
/// merged records written once.
pub fn align_to_bam(
    cfg: &AlignConfig,
    reference: &Reference,
    backend: Arc<dyn Backend>,
    bam: &Path,
    summary: &mut Summary,
) -> Result<()> {
    use crate::align::markdup;
    use crate::align::record::{SECONDARY, SUPPLEMENTARY};
    use crate::align::sort::Sorter;
    use crate::io::bam::writer;
    let mut reader = match &cfg.reads {
        ReadsInput::Paired(r1, r2) => PairedReader::paired(r1, r2)?,
        ReadsInput::Interleaved(p) => PairedReader::interleaved(p)?,
    };
    let t = Instant::now();
    let index = crate::index::Index::for_reference(reference)?;
    let (keys, occurrences) = index.counts();
    tracing::info!(
        "index: {} contigs, {} bp, {keys} minimizers ({occurrences} occurrences), {:.1} MB, in {:.2} s",
        reference.contigs.len(),
        reference.total_len(),
        index.size_bytes() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let parent = bam
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".genoa-sort.")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    // Duplicate entries are ~50 bytes a pair against ~700 for the records.
    let mut records: Sorter<[u64; 2]> = Sorter::new(tmp.path(), "records", cfg.memory / 16 * 15);
    let mut dups: Sorter<markdup::DupKey> = Sorter::new(tmp.path(), "dups", cfg.memory / 16);
    let rg = cfg.read_group.id.as_str();
    let mut aligner = Aligner::new(reference, index, backend);
    let mut batch = ReadBatch::default();
    let mut scratch = AlignScratch::default();
    let progress = crate::report::Progress::new("aligning", "pairs");
    let mut first = true;
    loop {
        // The insert-size model comes from the first pairs, whatever the batch size.
        let want = if first {
            crate::align::pair::CALIBRATION_PAIRS
        } else {
            cfg.batch_pairs.max(1)
        };
        if reader.next_batch(&mut batch, want)? == 0 {
            break;
        }
        let pairs = if first {
            first = false;
            aligner.calibrate(&batch, &mut scratch)?
        } else {
            aligner.align_pairs(&batch, &mut scratch)?
        };
        let base = batch.first_pair;
        let encoded: Vec<Encoded> = pairs
            .par_iter()
            .enumerate()
            .map(|(p, recs)| {
                let pair = base + p as u64;
                let mut e = Encoded::default();
                for (slot, r) in recs.iter().enumerate() {
                    let at = e.bytes.len();
                    writer::encode_record(r, rg, &mut e.bytes);
                    e.records
                        .push((record_key(r, pair, slot), at, e.bytes.len()));
                }
                markdup::entries(pair, 0, recs, &mut e.dups);
                e
            })
            .collect();
        for (recs, e) in pairs.iter().zip(&encoded) {
            summary.mapped += recs
                .iter()
                .filter(|r| r.is_mapped() && r.flags & (SECONDARY | SUPPLEMENTARY) == 0)
                .count() as u64;
            for &(key, s, end) in &e.records {
                records.push(key, &e.bytes[s..end])?;
            }
            for k in &e.dups {
                dups.push(*k, &[])?;
            }
        }
        summary.pairs += batch.len() as u64;
        progress.set(summary.pairs);
    }
    progress.finish();
    summary.reads = 2 * summary.pairs;
    tracing::info!(
        "sort: {} records, {} runs spilled",
        records.len(),
        records.runs()
    );
    let set = markdup::resolve(dups)?;
    summary.duplicate_pairs = set.pairs;
    summary.duplicate_fragments = set.fragments;
    // Merge, mark and write.
    let header = crate::io::sam_header::build(reference, &cfg.read_group, &cfg.command_line)?;
    let data = crate::io::atomic::Pending::new(bam);
    let index_file =
        crate::io::atomic::Pending::new(crate::io::bam::index_path(bam, reference.max_len()));
    let mut out = writer::SortedWriter::new(data.create()?, bam, &header, reference.max_len())?;
    let mut merge = records.finish()?;
    let mut rec = Vec::new();
    while let Some(key) = merge.next_into(&mut rec)? {
        let at = writer::FLAG_OFFSET;
        let mut flag = u16::from_le_bytes([rec[at], rec[at + 1]]);
        let mate = u64::from(flag & crate::align::record::LAST != 0);
        if flag & crate::align::record::UNMAPPED == 0 && set.is_dup(key[1] >> 8, mate) {
            flag |= crate::align::record::DUPLICATE;
            rec[at..at + 2].copy_from_slice(&flag.to_le_bytes());
        }
        out.push(&rec)?;
    }
    let built = out.finish(header.reference_sequences().len())?;
    crate::io::bam::write_index(&index_file, built)?;
    crate::io::atomic::commit_all(vec![data, index_file])?;
    drop(tmp);
    Ok(())
}

/// Aligns into `output` (BAM, or CRAM when it ends in `.cram`; index beside it). CRAM goes
/// through a temporary BAM beside it, read back once to re-encode; its records are returned.
pub fn align_to_file(
    cfg: &AlignConfig,
    reference: &Reference,
    backend: Arc<dyn Backend>,
    output: &Path,
    summary: &mut Summary,
) -> Result<Option<Vec<AlignedRead>>> {
    if !is_cram(output) {
        return align_to_bam(cfg, reference, backend, output, summary).map(|()| None);
    }
    let tmp = crate::io::with_suffix(output, ".genoa-tmp.bam");
    let result = (|| {
        align_to_bam(cfg, reference, backend, &tmp, summary)?;
        let records = crate::io::bam::read(&tmp, reference)?;
        write_alignments(
            output,
            reference,
            &cfg.read_group,
            &cfg.command_line,
            &records,
        )?;
        Ok(Some(records))
    })();
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(crate::io::bam::index_path(&tmp, reference.max_len()));
    result
}

fn is_cram(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("cram"))
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

/// Coordinate-sorted reads in memory (contigs in reference order, unplaced last).
pub struct SortedReads<'a> {
    /// Each contig's reads.
    slices: Vec<&'a [AlignedRead]>,
}

impl<'a> SortedReads<'a> {
    pub fn new(records: &'a [AlignedRead], contigs: usize) -> Self {
        let mut slices = Vec::with_capacity(contigs);
        let mut start = 0;
        for c in 0..contigs as u32 {
            let len = records[start..].partition_point(|r| r.contig == Some(c));
            slices.push(&records[start..start + len]);
            start += len;
        }
        SortedReads { slices }
    }
}

impl ReadSource for SortedReads<'_> {
    fn fetch(&self, contig: usize, start: u64, end: u64, out: &mut Vec<AlignedRead>) -> Result<()> {
        let reads = self.slices[contig];
        let (lo, hi) = crate::call::overlapping(reads, start, end);
        out.extend(
            reads[lo..hi]
                .iter()
                .filter(|r| r.end() > start && r.flags & crate::align::record::UNMAPPED == 0)
                .cloned(),
        );
        Ok(())
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
    let mut writer = crate::io::gvcf::Writer::create(path, header_text, mode)?;
    let mut summary = CallSummary::default();
    // Waves of chunks keep a bounded number of chunk results in memory while writing in order.
    let wave = rayon::current_num_threads().max(1) * 4;
    for group in chunks.chunks(wave) {
        let results: Vec<Result<(Vec<Record>, StageTimes)>> = group
            .par_iter()
            .map(|chunk| {
                let mut times = StageTimes {
                    chunks: 1,
                    ..StageTimes::default()
                };
                let t = Instant::now();
                let mut reads = Vec::new();
                source.fetch(
                    chunk.contig,
                    chunk.lead_start(),
                    chunk.end + regions::TAIL,
                    &mut reads,
                )?;
                times.fetch = t.elapsed();
                times.reads = reads.len() as u64;
                let contig = &reference.contigs[chunk.contig].codes;
                let records = call_chunk(contig, chunk, &reads, params, backend, &mut times)?;
                Ok((records, times))
            })
            .collect();
        for (chunk, result) in group.iter().zip(results) {
            let (records, times) = result?;
            let t = Instant::now();
            let (snps, indels) = count_variants(&records);
            summary.snps += snps;
            summary.indels += indels;
            let contig = &reference.contigs[chunk.contig];
            writer.push(&contig.name, &contig.codes, &records)?;
            summary.times.add(&times);
            summary.times.write += t.elapsed();
        }
    }
    let t = Instant::now();
    writer.finish(reference)?;
    summary.times.write += t.elapsed();
    Ok(summary)
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
    if is_cram(path) {
        crate::io::cram::write(path, &header, records, &read_group.id, reference)
    } else {
        crate::io::bam::write(path, &header, records, &read_group.id, reference.max_len())
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
        let in_memory = align_to_file(
            &cfg.align,
            &reference,
            backend.clone(),
            &outputs.alignments,
            &mut summary,
        )?;
        let mode = OutputMode::Gvcf;
        let text = crate::io::gvcf::header(
            &reference,
            &cfg.sample,
            &cfg.call.gq_bands,
            mode,
            &cfg.align.command_line,
        );
        let call = |source: &dyn ReadSource| {
            call_to_file(
                &reference,
                source,
                None,
                &cfg.call,
                backend.as_ref(),
                &outputs.gvcf,
                &text,
                mode,
            )
        };
        let called = match in_memory {
            Some(records) => call(&SortedReads::new(&records, reference.contigs.len()))?,
            None => call(&crate::io::bam::IndexedBam::open(
                &outputs.alignments,
                &reference,
            )?)?,
        };
        summary.snps = called.snps;
        summary.indels = called.indels;
        Ok(())
    })?;
    summary.seconds = t0.elapsed().as_secs_f64();
    Ok(summary)
}
