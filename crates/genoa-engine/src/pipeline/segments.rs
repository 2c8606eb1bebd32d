//! Alignment in checkpointed segments: the unit of resuming and of sharding.
//!
//! The read pairs are cut into segments of a fixed number of pairs (`segment_pairs`, counted
//! in input order), so where a segment starts depends only on the input. A segment is aligned,
//! its BAM-encoded records and its duplicate-marking entries sorted into run files (see
//! [`crate::align::sort`]), and then committed: the runs and a `done.json` (pair counts, QC
//! counts, run names) are written in `seg-NNNNNN.tmp/`, which is renamed to `seg-NNNNNN/`.
//! A directory with its final name is therefore a whole segment; anything else left by a
//! killed run is deleted when the run starts again.
//!
//! - **Resume**: a run started again with the same inputs finds its work directory, keeps
//!   the committed segments, reads (but does not align) their pairs, and goes on from the
//!   first missing one. `manifest.json` holds the inputs' fingerprint (reference contigs and
//!   MD5s, read files with sizes and content digests, read groups, segment size, settings,
//!   genoa version); a directory left by other inputs is started over. Read files copied
//!   elsewhere (other paths and times, same content) resume.
//! - **Shards**: shard K of N aligns segments `i` with `i % N == K - 1` (every shard reads the
//!   whole input, aligning an N-th of it) and marks its directory complete with the number of
//!   segments the input has. `genoa gather` merges the segments of all shards.
//! - **Writing** ([`merge_into`]): the runs of every segment are merged in key order, duplicates
//!   decided from all the entries, and the records written once — for a BAM, genome range by
//!   genome range on the pool ([`plan_ranges`]). Sort keys carry the pair's input index, and
//!   the ranges come from per-bin record counts, so the merged order — and the BAM — is the
//!   same bytes whether the pairs were aligned in one process, resumed, or spread over shards.
//! - **Committing** runs on the pool: a full segment is sorted, compressed and written while
//!   the next one is aligned, one at a time, in input order.
//!
//! Each library's insert-size model comes from the first pairs of its first lane; every
//! process reads those, so all shards use the same models. Lanes are read one after the other
//! in the order of their read group IDs; a batch lies within one lane.

use crate::profile::{self, Stage};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::align::bamrun::BamRecords;
use crate::align::markdup::{self, DupKey};
use crate::align::sort::{self, Opaque, PayloadCodec, Sorter};
use crate::align::{AlignScratch, Aligner, Lookahead};
use crate::backend::Backend;
use crate::call::ploidy::CoverageBins;
use crate::error::{Error, Result};
use crate::io::bam::writer;
use crate::io::fastq::{LaneReader, PairedReader, ReadBatch};
use crate::io::reference::Reference;
use crate::io::sink::{AlignmentSink, Part};
use crate::model::alignment::AlignedRead;
use crate::model::alignment::Flags;
use crate::pipeline::Summary;
use crate::pipeline::config::{AlignConfig, ReadsInput};
use crate::report::qc::QcCounts;

/// Read pairs per segment (about 180 MB of encoded 2×150 records): a killed run loses at most
/// this much alignment work.
pub const SEGMENT_PAIRS: u64 = 1 << 18;

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

/// Shard `k` (1-based) of `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// The whole input.
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Parses `K/N` (1 ≤ K ≤ N).
    pub fn parse(s: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("{s:?}: expected K/N with 1 <= K <= N, e.g. 2/8");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// Whether segment `i` is this shard's.
    pub fn owns(&self, i: u64) -> bool {
        i % self.n == self.k - 1
    }
}

/// What the work directory's contents were made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub genoa: String,
    /// (name, length, MD5) of every contig.
    pub reference: Vec<(String, u64, String)>,
    /// (path, size, modification time in seconds) of every read file, lanes in order.
    pub reads: Vec<(String, u64, u64)>,
    /// Content digest of every read file ([`content_digest`]), in the same order: what tells
    /// two read files apart, whatever their paths and times.
    #[serde(default)]
    pub content: Vec<String>,
    /// The lanes' `@RG` lines, in lane order.
    pub read_groups: Vec<String>,
    pub segment_pairs: u64,
    /// Alternative alignments written as secondary records.
    #[serde(default)]
    pub secondary: bool,
    /// The layout of the run files ([`sort::RUN_FORMAT`]; 0 before it was recorded): work
    /// directories of another layout are started over.
    #[serde(default)]
    pub run_format: u32,
}

impl Fingerprint {
    /// The reference part: (name, length, MD5) of every contig.
    pub fn reference_of(reference: &Reference) -> Vec<(String, u64, String)> {
        reference
            .contigs
            .iter()
            .map(|c| (c.name.clone(), c.len(), c.md5.clone()))
            .collect()
    }

    /// Whether a work directory made with `self` holds work of a run with `other` (resume),
    /// or shards made with them may be joined: the same reference, read groups, segment size,
    /// settings and genoa version, and read files of the same sizes and content digests. Paths
    /// and modification times may differ (cloud batch jobs copy the reads to each machine,
    /// a resumed job may find them staged anew); the pair counts are compared as well when
    /// shards finish.
    pub fn same_input(&self, other: &Fingerprint) -> bool {
        let sizes = |f: &Fingerprint| f.reads.iter().map(|r| r.1).collect::<Vec<_>>();
        !self.content.is_empty()
            && self.content == other.content
            && self.genoa == other.genoa
            && self.reference == other.reference
            && self.read_groups == other.read_groups
            && self.segment_pairs == other.segment_pairs
            && self.secondary == other.secondary
            && self.run_format == other.run_format
            && sizes(self) == sizes(other)
    }

    pub fn of(cfg: &AlignConfig, reference: &Reference) -> Result<Fingerprint> {
        let files: Vec<&PathBuf> = cfg.lanes().iter().flat_map(|l| l.reads.files()).collect();
        let mut reads = Vec::new();
        let mut content = Vec::new();
        for f in files {
            content.push(content_digest(f)?);
            let meta = std::fs::metadata(f).map_err(|e| Error::io(f, e))?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            let path = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
            reads.push((path.display().to_string(), meta.len(), mtime));
        }
        Ok(Fingerprint {
            genoa: env!("CARGO_PKG_VERSION").to_string(),
            reference: Fingerprint::reference_of(reference),
            reads,
            content,
            read_groups: cfg.read_groups().iter().map(|rg| rg.to_line()).collect(),
            segment_pairs: cfg.segment_pairs,
            secondary: cfg.secondary,
            run_format: sort::RUN_FORMAT,
        })
    }
}

pub use crate::io::read_index::content_digest;

/// `manifest.json` of a work directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Manifest {
    fingerprint: Fingerprint,
    shard: Shard,
    /// Segments in the whole input, once this shard has committed all of its own.
    complete: Option<u64>,
    /// Pairs in the whole input (known with `complete`).
    #[serde(default)]
    pairs: Option<u64>,
}

/// `done.json` of a committed segment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SegmentDone {
    pub index: u64,
    pub first_pair: u64,
    pub pairs: u64,
    /// Primary records of mapped reads.
    pub mapped: u64,
    /// Run files (names in the segment's directory).
    pub records: Vec<String>,
    pub dups: Vec<String>,
    /// QC counts of the segment's reads.
    pub qc: QcCounts,
    /// Read starts per bin, for the karyotype estimate (empty in segments of versions before
    /// it was counted: the estimate is then made without them).
    #[serde(default)]
    pub coverage: CoverageBins,
    /// Every record placed on a contig (any flags), per bin of the same length: where the
    /// final merge cuts the genome into ranges of about equal work.
    #[serde(default)]
    pub records_per_bin: CoverageBins,
}

/// A directory of committed segments (one run's, or one shard's).
pub struct WorkDir {
    path: PathBuf,
    manifest: Manifest,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes `value` as JSON to `path` through a temporary name (and fsyncs it).
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Internal(format!("JSON of {}: {e}", path.display())))?;
    let pending = crate::io::atomic::Pending::new(path)?;
    {
        use std::io::Write;
        let mut f = pending.create()?;
        f.write_all(&text).map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))?;
    }
    pending.commit()
}

impl WorkDir {
    /// Opens (creating) the work directory `path` for `fingerprint` and `shard`. A directory
    /// made from other inputs, or for another shard, is emptied first; segments still being
    /// written when a run was killed are deleted.
    pub fn open(path: &Path, fingerprint: &Fingerprint, shard: Shard) -> Result<WorkDir> {
        let manifest_path = path.join("manifest.json");
        if path.exists() {
            let old: Option<Manifest> = read_json(&manifest_path);
            let reusable = old
                .as_ref()
                .is_some_and(|m| m.fingerprint.same_input(fingerprint) && m.shard == shard);
            if !reusable {
                if old.is_some() {
                    tracing::warn!(
                        "{}: made from other inputs or settings; starting over",
                        path.display()
                    );
                }
                crate::pipeline::lock::clear_dir(path)?;
            }
        }
        crate::pipeline::lock::make_private_dir(path)?;
        let manifest = match read_json::<Manifest>(&manifest_path) {
            Some(m) => m,
            None => {
                let m = Manifest {
                    fingerprint: fingerprint.clone(),
                    shard,
                    complete: None,
                    pairs: None,
                };
                write_json(&manifest_path, &m)?;
                m
            }
        };
        // Leftovers of a killed run: unfinished segments and temporary files.
        for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let entry = entry.map_err(|e| Error::io(path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") || name.ends_with(".genoa-tmp") || name.contains(".merge") {
                let p = entry.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
        Ok(WorkDir {
            path: path.to_path_buf(),
            manifest,
        })
    }

    /// Opens an existing shard directory for gathering (nothing is changed in it).
    pub fn existing(path: &Path) -> Result<WorkDir> {
        let manifest: Manifest = read_json(&path.join("manifest.json"))
            .ok_or_else(|| Error::input(path, "not a genoa shard directory (no manifest.json)"))?;
        Ok(WorkDir {
            path: path.to_path_buf(),
            manifest,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn shard(&self) -> Shard {
        self.manifest.shard
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.manifest.fingerprint
    }

    /// Segments in the input, if this directory's shard finished.
    pub fn complete(&self) -> Option<u64> {
        self.manifest.complete
    }

    fn segment_dir(&self, i: u64) -> PathBuf {
        self.path.join(format!("seg-{i:06}"))
    }

    /// The segments committed here.
    pub fn committed(&self) -> std::collections::BTreeSet<u64> {
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return Default::default();
        };
        entries
            .filter_map(|e| {
                let name = e.ok()?.file_name();
                let i: u64 = name.to_str()?.strip_prefix("seg-")?.parse().ok()?;
                self.done(i).map(|_| i)
            })
            .collect()
    }

    /// Segment `i`, if committed here.
    pub fn done(&self, i: u64) -> Option<SegmentDone> {
        read_json::<SegmentDone>(&self.segment_dir(i).join("done.json")).filter(|d| d.index == i)
    }

    fn mark_complete(&mut self, segments: u64, pairs: u64) -> Result<()> {
        self.manifest.complete = Some(segments);
        self.manifest.pairs = Some(pairs);
        write_json(&self.path.join("manifest.json"), &self.manifest)
    }
}

/// Aligns the segments of `work`'s shard that are not committed yet, committing each; returns
/// the number of segments in the input. `summary` gets the counts of this shard's segments
/// (committed before or now).
pub fn align_segments(
    cfg: &AlignConfig,
    reference: &Reference,
    backend: Arc<dyn Backend>,
    work: &mut WorkDir,
    summary: &mut Summary,
) -> Result<u64> {
    let shard = work.shard();
    let seg_pairs = cfg.segment_pairs;
    let (_, library_of) = cfg.libraries();
    let lanes = cfg.lanes();
    let mut readers = Vec::with_capacity(lanes.len());
    let mut unindexed = Vec::new();
    for (lane, &library) in lanes.iter().zip(&library_of) {
        let mut r = open_lane(&lane.reads, reference)?;
        unindexed.extend(r.use_read_indexes(cfg.read_index_dir.as_deref())?);
        readers.push((r, library as u16));
    }
    // The segments this process aligns; the others are passed over, unread where read indexes
    // allow.
    let committed = work.committed();
    let resuming = !committed.is_empty();
    let wanted = move |s: u64| shard.owns(s) && !committed.contains(&s);
    if shard.n > 1 || resuming {
        if unindexed.is_empty() {
            tracing::info!(
                "reads: every file has a read index: pairs this run does not align are skipped unread"
            );
        } else {
            tracing::info!(
                "reads: {} has no read index: its pairs are all read, also those this run does not align (`genoa reads-index` makes one for BGZF or uncompressed FASTQ and unaligned BAM)",
                names(unindexed).join(", ")
            );
        }
    }
    let reader = LaneReader::new(readers);
    let input = reader.progress_handle();
    let mut aligner = aligner_for(reference, backend, cfg.index.as_deref())?;
    aligner.pair.secondary_records = cfg.secondary;
    // Each library's insert-size model comes from the first pairs of its first lane, which
    // every process reads (so all shards use the same models).
    for (l, &library) in library_of.iter().enumerate() {
        if library_of[..l].contains(&library) {
            continue;
        }
        let mut batch = ReadBatch::default();
        open_lane(&lanes[l].reads, reference)?
            .next_batch(&mut batch, crate::align::pair::CALIBRATION_PAIRS)?;
        batch.library = library as u16;
        aligner.calibrate(&batch, &mut AlignScratch::default())?;
    }
    let mut progress = crate::report::Progress::new("aligning", "pairs", input.get().1);
    let prefetch = Prefetch::start(reader, seg_pairs, cfg.batch_pairs.max(1) as u64, wanted)?;
    let batches = prefetch.iter();
    let codec = BamRecords::new(reference);
    let mut seg = SegmentCursor {
        work,
        cfg,
        codec: &codec,
        summary,
        lens: reference.contigs.iter().map(|c| c.len()).collect(),
        read_groups: lanes.iter().map(|l| l.read_group.id.clone()).collect(),
        current: None,
        open: None,
        full: Vec::new(),
        resumed: 0,
    };
    let mut pairs_read = 0u64;
    // Every batch: one of lookahead, so the CPU seeds batch i+1 while the backend
    // extends batch i. Batches of segments that are not this process's to align (another
    // shard's, or committed by an earlier run) pass through in order, unaligned.
    let mut lookahead = lookahead_for(&aligner);
    let mut owned: Option<(u64, bool)> = None;
    // A full segment is committed (sorted, compressed, written) by a pool task while the
    // next one is aligned; at most one commit at a time.
    rayon::in_place_scope(|scope| -> Result<()> {
        let mut committer = Committer::new(scope);
        let aligned = || -> Result<()> {
            for batch in batches {
                let batch = batch?;
                pairs_read = batch.first_pair + batch.len() as u64 + batch.skipped;
                seg.summary.pairs_skipped += batch.skipped;
                let segment = batch.first_pair / seg_pairs;
                let align = match owned {
                    Some((s, a)) if s == segment => a,
                    _ => {
                        let a = shard.owns(segment) && seg.work.done(segment).is_none();
                        owned = Some((segment, a));
                        a
                    }
                };
                if align {
                    seg.deliver(lookahead.push(batch)?, &prefetch)?;
                } else {
                    seg.deliver(lookahead.flush()?, &prefetch)?;
                    seg.take(&batch, None)?;
                    prefetch.recycle(batch);
                }
                committer.take(&mut seg)?;
                progress.set(seg.summary.pairs, input.get().0);
            }
            seg.deliver(lookahead.flush()?, &prefetch)?;
            seg.full.extend(seg.open.take());
            committer.take(&mut seg)
        };
        let r = aligned();
        // Every commit ends before the scope does; the first error wins.
        r.and(committer.wait())
    })?;
    progress.finish();
    seg.finish(pairs_read)
}

/// Commits segments on the pool ([`OpenSegment::commit`]), one at a time.
struct Committer<'a, 's> {
    scope: &'a rayon::Scope<'s>,
    tx: std::sync::mpsc::Sender<Result<()>>,
    rx: std::sync::mpsc::Receiver<Result<()>>,
    in_flight: usize,
}

impl<'a, 's> Committer<'a, 's> {
    fn new(scope: &'a rayon::Scope<'s>) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        Committer {
            scope,
            tx,
            rx,
            in_flight: 0,
        }
    }

    /// Starts committing the cursor's full segments, each once the one before is committed.
    fn take(&mut self, seg: &mut SegmentCursor<'s>) -> Result<()> {
        for o in std::mem::take(&mut seg.full) {
            self.start(o, seg)?;
        }
        Ok(())
    }

    fn start(&mut self, o: OpenSegment<'s>, seg: &mut SegmentCursor<'s>) -> Result<()> {
        self.wait()?;
        seg.summary.mapped += o.done.mapped;
        let dest = seg.work.segment_dir(o.done.index);
        let tx = self.tx.clone();
        self.scope.spawn(move |_| {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| o.commit(&dest)))
                .unwrap_or_else(|_| Err(Error::Internal("committing a segment panicked".into())));
            let _ = tx.send(r);
        });
        self.in_flight += 1;
        Ok(())
    }

    /// Waits for the commit in flight, running the pool's other work meanwhile.
    fn wait(&mut self) -> Result<()> {
        while self.in_flight > 0 {
            // `self.tx` lives as long as `self`: the channel never disconnects here.
            let r = crate::pipeline::recv_helping(&self.rx)
                .ok_or_else(|| Error::Internal("the segment commits stopped".into()))?;
            self.in_flight -= 1;
            r?;
        }
        Ok(())
    }
}

/// A reader of one lane's files.
fn open_lane(reads: &ReadsInput, reference: &Reference) -> Result<PairedReader> {
    match reads {
        ReadsInput::Paired(r1, r2) => PairedReader::paired(r1, r2),
        ReadsInput::Interleaved(p) => PairedReader::interleaved(p),
        ReadsInput::Unaligned(p) => PairedReader::unaligned(p, Some(reference)),
    }
}

/// The aligner over the reference's index (loaded from `saved`, or from beside the FASTA, or
/// built), logged.
fn aligner_for<'r>(
    reference: &'r Reference,
    backend: Arc<dyn Backend>,
    saved: Option<&Path>,
) -> Result<Aligner<'r>> {
    let t = Instant::now();
    let index = match saved {
        Some(path) => crate::index::Index::load(path, reference)?,
        None => crate::index::Index::for_reference(reference)?,
    };
    let (keys, occurrences) = index.counts();
    tracing::info!(
        "index: {} contigs, {} bp, {keys} minimizers ({occurrences} occurrences), {:.1} MB, in {:.2} s",
        reference.contigs.len(),
        reference.total_len(),
        index.size_bytes() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    Ok(Aligner::new(reference, index, backend))
}

/// The batch lookahead of `aligner`, with a log line saying whether it overlaps.
fn lookahead_for<'a, 'r>(aligner: &'a Aligner<'r>) -> Lookahead<'a, 'r> {
    let lookahead = Lookahead::new(aligner);
    if lookahead.overlaps() {
        tracing::info!(
            "alignment: double-buffered, the next batch is seeded while {} extends the current one",
            aligner.backend.name()
        );
    } else {
        tracing::info!(
            "alignment: one batch at a time ({} runs the kernel on the worker threads)",
            aligner.backend.name()
        );
    }
    lookahead
}

/// Where [`align_segments`] is in the input: the segment of the last batch taken, and that
/// segment's sorters when this process aligns it.
struct SegmentCursor<'w> {
    work: &'w mut WorkDir,
    cfg: &'w AlignConfig,
    /// How the segments' record runs are stored.
    codec: &'w dyn PayloadCodec,
    summary: &'w mut Summary,
    /// Contig lengths (for the coverage bins).
    lens: Vec<u64>,
    /// Read group IDs of the lanes.
    read_groups: Vec<String>,
    current: Option<u64>,
    open: Option<OpenSegment<'w>>,
    /// Segments before `open`, whole, to be committed (in order).
    full: Vec<OpenSegment<'w>>,
    resumed: u64,
}

impl SegmentCursor<'_> {
    /// Takes an aligned batch, if any, and hands its buffers back to the reader.
    /// Commits the open segment and marks the work directory complete after `pairs_read`
    /// pairs: the number of segments the input has.
    fn finish(self, pairs_read: u64) -> Result<u64> {
        let SegmentCursor {
            work,
            cfg,
            summary,
            resumed,
            ..
        } = self;
        let segments = pairs_read.div_ceil(cfg.segment_pairs);
        if resumed > 0 {
            tracing::info!("resumed: {resumed} segments were already aligned");
        }
        summary.resumed_segments = resumed;
        summary.reads = 2 * summary.pairs;
        summary.pairs_read = pairs_read;
        work.mark_complete(segments, pairs_read)?;
        Ok(segments)
    }

    fn deliver(
        &mut self,
        aligned: Option<crate::align::Aligned>,
        prefetch: &Prefetch,
    ) -> Result<()> {
        if let Some((batch, pairs)) = aligned {
            self.take(&batch, Some(&pairs))?;
            prefetch.recycle(batch);
        }
        Ok(())
    }

    /// Takes the next batch in input order, with its pairs' records when it was aligned for
    /// this process (`None`: another shard's pairs, or a segment committed earlier).
    fn take(&mut self, batch: &ReadBatch, aligned: Option<&[Vec<AlignedRead>]>) -> Result<()> {
        let segment = batch.first_pair / self.cfg.segment_pairs;
        if self.current != Some(segment) {
            if let Some(o) = self.open.take() {
                self.full.push(o);
            }
            self.current = Some(segment);
            let mine = self.work.shard().owns(segment);
            match self.work.done(segment).filter(|_| mine) {
                Some(done) => {
                    // Committed by an earlier run: its pairs are read past.
                    self.resumed += 1;
                    self.summary.pairs += done.pairs;
                    self.summary.mapped += done.mapped;
                }
                None if mine => {
                    self.open = Some(OpenSegment::new(
                        self.work, segment, self.cfg, &self.lens, self.codec,
                    )?)
                }
                None => {}
            }
        }
        if let Some(o) = self.open.as_mut() {
            let Some(pairs) = aligned else {
                return Err(Error::Internal(format!(
                    "pairs {}.. of segment {segment} were not aligned",
                    batch.first_pair
                )));
            };
            let rg = &self.read_groups[usize::from(batch.lane)];
            o.push(pairs, batch.first_pair, rg, u64::from(batch.library))?;
            self.summary.pairs += batch.len() as u64;
        }
        Ok(())
    }
}

/// A segment being aligned: its sorters in `seg-N.tmp/`.
struct OpenSegment<'c> {
    dir: PathBuf,
    records: Sorter<'c, [u64; 2]>,
    dups: Sorter<'static, DupKey>,
    done: SegmentDone,
}

impl<'c> OpenSegment<'c> {
    fn new(
        work: &WorkDir,
        segment: u64,
        cfg: &AlignConfig,
        lens: &[u64],
        codec: &'c dyn PayloadCodec,
    ) -> Result<OpenSegment<'c>> {
        let dir = work.path().join(format!("seg-{segment:06}.tmp"));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(OpenSegment {
            // Half the memory: a segment may be committed while the next one fills.
            records: Sorter::with_codec(&dir, "records", cfg.memory / 32 * 15, codec),
            dups: Sorter::new(&dir, "dups", cfg.memory / 32),
            done: SegmentDone {
                index: segment,
                first_pair: segment * cfg.segment_pairs,
                pairs: 0,
                mapped: 0,
                records: Vec::new(),
                dups: Vec::new(),
                qc: QcCounts::default(),
                coverage: CoverageBins::new(lens),
                records_per_bin: CoverageBins::new(lens),
            },
            dir,
        })
    }

    fn push(
        &mut self,
        pairs: &[Vec<AlignedRead>],
        base: u64,
        rg: &str,
        library: u64,
    ) -> Result<()> {
        push_batch(
            pairs,
            base,
            rg,
            library,
            &mut self.records,
            &mut self.dups,
            &mut self.done,
        )
    }

    /// Writes what is in memory as runs, then `done.json`, and renames the directory to its
    /// final name: from then on the segment counts as aligned.
    /// `dest` is the segment's final directory.
    fn commit(mut self, dest: &Path) -> Result<()> {
        self.done.records = names(self.records.checkpoint()?);
        self.done.dups = names(self.dups.checkpoint()?);
        write_json(&self.dir.join("done.json"), &self.done)?;
        std::fs::rename(&self.dir, dest).map_err(|e| Error::io(dest, e))?;
        tracing::debug!(
            "segment {}: {} pairs committed",
            self.done.index,
            self.done.pairs
        );
        Ok(())
    }
}

/// Read batches parsed ahead on their own thread (double buffering: one batch is parsed while
/// the previous one is aligned). Every batch lies within one segment and one lane. Batches come back through `recycle` to reuse their buffers.
struct Prefetch {
    rx: std::sync::mpsc::Receiver<Result<ReadBatch>>,
    recycle: std::sync::mpsc::SyncSender<ReadBatch>,
}

impl Prefetch {
    /// Reads `reader` in batches within segments of `seg_pairs` pairs. Segments `wanted` says
    /// no to are skipped where the reader can ([`LaneReader::skip_to`]): they come as empty
    /// batches whose `skipped` counts the pairs passed.
    fn start(
        mut reader: LaneReader,
        seg_pairs: u64,
        batch_pairs: u64,
        wanted: impl Fn(u64) -> bool + Send + 'static,
    ) -> Result<Prefetch> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<ReadBatch>>(1);
        let (recycle, returned) = std::sync::mpsc::sync_channel::<ReadBatch>(2);
        std::thread::Builder::new()
            .name("genoa-fastq".into())
            .spawn(move || {
                let mut next = 0u64;
                loop {
                    let segment = next / seg_pairs;
                    if !wanted(segment) {
                        // Every shard owns segments up to the end, and committed ones are
                        // finite: the next wanted segment exists.
                        let mut to = segment + 1;
                        while !wanted(to) {
                            to += 1;
                        }
                        let reached =
                            match profile::time(Stage::Input, || reader.skip_to(to * seg_pairs)) {
                                Ok(p) => p,
                                Err(e) => {
                                    let _ = tx.send(Err(e));
                                    return;
                                }
                            };
                        // One empty batch per segment passed (the consumer counts the
                        // committed ones).
                        while next < reached {
                            let end = reached.min((next / seg_pairs + 1) * seg_pairs);
                            let mut batch = returned.try_recv().unwrap_or_default();
                            batch.r1.clear();
                            batch.r2.clear();
                            batch.first_pair = next;
                            batch.skipped = end - next;
                            next = end;
                            if tx.send(Ok(batch)).is_err() {
                                return;
                            }
                        }
                    }
                    let want = batch_pairs.min(seg_pairs - next % seg_pairs);
                    // A returned batch keeps its records' buffers for reuse.
                    let mut batch = returned.try_recv().unwrap_or_default();
                    batch.skipped = 0;
                    let n = match profile::time(Stage::Input, || {
                        reader.next_batch(&mut batch, want as usize)
                    }) {
                        Ok(n) => n as u64,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    if n == 0 {
                        return;
                    }
                    batch.first_pair = next;
                    next += n;
                    if tx.send(Ok(batch)).is_err() {
                        return; // the consumer stopped
                    }
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start the FASTQ reader thread: {e}")))?;
        Ok(Prefetch { rx, recycle })
    }

    fn iter(&self) -> impl Iterator<Item = Result<ReadBatch>> + '_ {
        self.rx.iter()
    }

    fn recycle(&self, batch: ReadBatch) {
        let _ = self.recycle.try_send(batch);
    }
}

fn names(paths: Vec<PathBuf>) -> Vec<String> {
    paths
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

/// A pair's records encoded: their bytes, each one's sort key and byte range, and the pair's
/// duplicate entries.
struct Encoded {
    bytes: Vec<u8>,
    records: Vec<([u64; 2], usize, usize)>,
    dups: Vec<DupKey>,
}

/// Encodes pair `pair`'s records.
fn encode_pair(pair: u64, recs: &[AlignedRead], rg: &str, library: u64) -> Encoded {
    let mut e = Encoded {
        bytes: Vec::new(),
        records: Vec::with_capacity(recs.len()),
        dups: Vec::new(),
    };
    for (slot, r) in recs.iter().enumerate() {
        let at = e.bytes.len();
        writer::encode_record(r, rg, &mut e.bytes);
        e.records
            .push((record_key(r, pair, slot), at, e.bytes.len()));
    }
    markdup::entries(pair, library, recs, &mut e.dups);
    e
}

/// Encodes one batch's records and duplicate entries into the segment's sorters.
fn push_batch(
    pairs: &[Vec<AlignedRead>],
    base: u64,
    rg: &str,
    library: u64,
    records: &mut Sorter<'_, [u64; 2]>,
    dups: &mut Sorter<'_, DupKey>,
    done: &mut SegmentDone,
) -> Result<()> {
    let encoded: Vec<Encoded> = pairs
        .par_iter()
        .enumerate()
        .map_init(profile::Local::default, |local, (p, recs)| {
            local.time(Stage::Encode, || {
                encode_pair(base + p as u64, recs, rg, library)
            })
        })
        .collect();
    // QC counts per run of pairs, then added up: sums, so the grouping changes nothing (one
    // QcCounts per pair cost an allocation and a serial merge per pair).
    let qc = pairs
        .par_iter()
        .fold(
            || (QcCounts::default(), profile::Local::default()),
            |(mut q, mut local), recs| {
                local.time(Stage::Qc, || q.add_pair(recs));
                (q, local)
            },
        )
        .map(|(q, _)| q)
        .reduce(QcCounts::default, |mut a, b| {
            a.merge(&b);
            a
        });
    let qc_span = profile::span(Stage::Qc);
    done.qc.merge(&qc);
    for r in pairs.iter().flatten() {
        done.coverage.add(r);
        if let Some(c) = r.contig {
            done.records_per_bin.add_placed(c, r.pos);
        }
    }
    drop(qc_span);
    let _span = profile::span(Stage::Encode);
    for (recs, e) in pairs.iter().zip(&encoded) {
        done.mapped += recs
            .iter()
            .filter(|r| {
                r.is_mapped() && !r.flags.intersects(Flags::SECONDARY | Flags::SUPPLEMENTARY)
            })
            .count() as u64;
        for &(key, s, end) in &e.records {
            records.push(key, &e.bytes[s..end])?;
        }
        for k in &e.dups {
            dups.push(*k, &[])?;
        }
    }
    done.pairs += pairs.len() as u64;
    Ok(())
}

/// Every segment of the input, from the work directories of one run or of all its shards:
/// each exactly once, in input order (an error names what is missing or doubled).
pub fn collect(works: &[WorkDir]) -> Result<Vec<(PathBuf, SegmentDone)>> {
    let first = works
        .first()
        .ok_or_else(|| Error::Config("no shard directories to gather".into()))?;
    let total = first.complete();
    let n = first.shard().n;
    let mut seen = vec![false; n as usize];
    for w in works {
        let bad = |m: String| Error::input(w.path(), m);
        if w.complete().is_none() {
            return Err(bad(
                "shard did not finish; run its `genoa run --shard` again".into(),
            ));
        }
        if !w.fingerprint().same_input(first.fingerprint())
            || w.manifest.pairs != first.manifest.pairs
            || w.complete() != total
        {
            return Err(bad(format!(
                "made from other inputs or settings than {}",
                first.path().display()
            )));
        }
        if w.shard().n != n {
            return Err(bad(format!(
                "is shard {}/{}, expected N = {n}",
                w.shard().k,
                w.shard().n
            )));
        }
        let k = (w.shard().k - 1) as usize;
        if std::mem::replace(&mut seen[k], true) {
            return Err(bad(format!("shard {}/{n} given twice", w.shard().k)));
        }
    }
    if let Some(k) = seen.iter().position(|s| !s) {
        return Err(Error::Config(format!("shard {}/{n} is missing", k + 1)));
    }
    let total = total.unwrap_or(0);
    let mut out = Vec::with_capacity(total as usize);
    for i in 0..total {
        let w = works
            .iter()
            .find(|w| w.shard().owns(i))
            .ok_or_else(|| Error::Config(format!("no shard holds segment {i}")))?;
        let done = w
            .done(i)
            .ok_or_else(|| Error::input(w.path(), format!("segment {i} is missing or damaged")))?;
        out.push((w.segment_dir(i), done));
    }
    Ok(out)
}

/// Merges the segments' records in coordinate order into `sink`, duplicates marked (decided
/// from the entries of every segment), handing the records to `tap` too, in order, a batch at
/// a time, once they are written. Merge scratch goes to `scratch`; `reference` is the one the
/// segments were aligned to; `memory` (`-m`) bounds the ranges merged at once.
///
/// A BAM sink takes the records as parts: the genome is cut into ranges of about equal record
/// counts ([`plan_ranges`], from the segments' per-bin counts, so the cuts — and the bytes —
/// depend on the input only), each range is merged from every run and compressed on a pool
/// thread into a part file, and the parts are appended in order. Other sinks (CRAM) take the
/// records one by one from a single merge.
pub fn merge_into(
    segments: &[(PathBuf, SegmentDone)],
    reference: &Reference,
    scratch: &Path,
    memory: usize,
    sink: &mut dyn AlignmentSink,
    summary: &mut Summary,
    tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>,
) -> Result<()> {
    let runs = |pick: fn(&SegmentDone) -> &Vec<String>| -> Vec<PathBuf> {
        segments
            .iter()
            .flat_map(|(dir, d)| pick(d).iter().map(move |n| dir.join(n)))
            .collect()
    };
    let merge_span = profile::span(Stage::Merge);
    let dup_merge = sort::merge_runs::<DupKey>(runs(|d| &d.dups), scratch, "dups", &Opaque)?;
    let set = markdup::resolve(dup_merge)?;
    summary.duplicate_pairs = set.pairs;
    summary.optical_duplicate_pairs = set.optical_pairs;
    summary.duplicate_fragments = set.fragments;
    let codec = BamRecords::new(reference);
    let mut bins = CoverageBins::default();
    for (_, d) in segments {
        bins.merge(&d.records_per_bin);
    }
    let (ranges, placed_counts) = plan_counted_ranges(&bins);
    // Records before each range; the unplaced range (last) follows every placed record.
    let first_records: Vec<u64> = std::iter::once(0)
        .chain(placed_counts.iter().scan(0, |acc, &n| {
            *acc += n;
            Some(*acc)
        }))
        .collect();
    let parts = sink.parts();
    let runs = sort::compact_runs::<[u64; 2]>(runs(|d| &d.records), scratch, "records", &codec)?;
    drop(merge_span);
    let at_once = ranges_at_once(rayon::current_num_threads(), runs.len(), memory);
    tracing::debug!(
        "merge: {} ranges over {} runs, {} at once",
        ranges.len(),
        runs.len(),
        at_once
    );
    let merge_part = |i: usize| -> Result<Part> {
        let (from, until) = ranges[i];
        let base = scratch.join(format!("records.merge-part.{i:06}"));
        let mut part = parts.create(&base, first_records[i])?;
        let _span = profile::span(Stage::Merge);
        let mut merge = sort::merge_range(&runs, &codec, from, until)?;
        let mut rec = Vec::new();
        let mut n = 0u64;
        while let Some(key) = merge.next_into(&mut rec)? {
            set.mark(key, &mut rec);
            part.push(&rec)?;
            n += 1;
        }
        // The placed ranges' counts come from the bins; CRAM numbers records by them.
        if let Some(&want) = placed_counts.get(i)
            && n != want
        {
            tracing::warn!("merge range {i}: {n} records, the bins counted {want}");
        }
        part.finish()
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    rayon::in_place_scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Part>)>();
        let mut ready = std::collections::BTreeMap::new();
        let (mut submitted, mut written) = (0, 0);
        let result = (|| {
            while written < ranges.len() {
                // At most `at_once` parts merged or waiting to be appended.
                while submitted < ranges.len() && submitted - written < at_once {
                    let (tx, merge_part, stop) = (tx.clone(), &merge_part, &stop);
                    let i = submitted;
                    scope.spawn(move |_| {
                        let r = if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            Err(Error::Internal("merge stopped".into()))
                        } else {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| merge_part(i)))
                                .unwrap_or_else(|_| {
                                    Err(Error::Internal(format!("merging range {i} panicked")))
                                })
                        };
                        let _ = tx.send((i, r));
                    });
                    submitted += 1;
                }
                // Waiting runs the pool's pending work (merges, the caller) meanwhile.
                let part = loop {
                    if let Some(r) = ready.remove(&written) {
                        break r;
                    }
                    let (i, r) = crate::pipeline::recv_helping(&rx)
                        .ok_or_else(|| Error::Internal("the range merges stopped".into()))?;
                    ready.insert(i, r);
                }?;
                profile::time(Stage::Merge, || sink.append_part(&part, tap))?;
                part.remove()?;
                written += 1;
            }
            Ok(())
        })();
        if result.is_err() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        result
    })?;
    // Parts of a failed merge are left for the work directory's clean-up (`.merge` names).
    Ok(())
}

/// A merge range: keys from `.0` (inclusive) to `.1` (exclusive); `None`: unbounded.
type KeyRange = (Option<[u64; 2]>, Option<[u64; 2]>);

/// Records per merge range: the placed records / 64, within these bounds (so a small sample
/// still spreads over the threads, and a 30x genome's parts stay a few hundred MB).
const RANGE_RECORDS_MIN: u64 = 1 << 15;
const RANGE_RECORDS_MAX: u64 = 1 << 22;

/// Cuts the genome into merge ranges at bin starts, each about `placed / 64` records (within
/// [`RANGE_RECORDS_MIN`]..[`RANGE_RECORDS_MAX`]) by `bins` (every placed record per bin), and a
/// last range for the unplaced records. Depends on the counts only.
pub fn plan_ranges(bins: &CoverageBins) -> Vec<KeyRange> {
    plan_counted_ranges(bins).0
}

/// [`plan_ranges`], with the placed records of every range but the last (the unplaced one),
/// as the bins count them.
fn plan_counted_ranges(bins: &CoverageBins) -> (Vec<KeyRange>, Vec<u64>) {
    let total: u64 = bins.counts.iter().flatten().map(|&n| u64::from(n)).sum();
    let target = (total / 64).clamp(RANGE_RECORDS_MIN, RANGE_RECORDS_MAX);
    let mut cuts = Vec::new();
    let mut counts = Vec::new();
    let mut acc = 0u64;
    for (c, contig) in bins.counts.iter().enumerate() {
        for (b, &n) in contig.iter().enumerate() {
            if acc >= target {
                cuts.push([(c as u64) << 32 | (b as u64 * bins.bin_len), 0]);
                counts.push(acc);
                acc = 0;
            }
            acc += u64::from(n);
        }
    }
    // Unplaced records (contig u32::MAX) apart.
    cuts.push([u64::from(u32::MAX) << 32, 0]);
    counts.push(acc);
    let mut ranges = Vec::with_capacity(cuts.len() + 1);
    let mut from = None;
    for c in cuts {
        ranges.push((from, Some(c)));
        from = Some(c);
    }
    ranges.push((from, None));
    (ranges, counts)
}

/// Memory a range merge holds per run it reads: the run's decoded block (at most 64 KiB of
/// payloads, its keys and lengths) and its read buffer.
const RANGE_BYTES_PER_RUN: usize = 96 << 10;

/// Ranges merged (or waiting to be appended) at once: one per thread and one more, as far as
/// open files (each range opens every run) and `memory` allow; at least one. A 30x genome's
/// ~1,500 runs take ~150 MB per range: `-m 4G` lets 28 ranges merge at once.
fn ranges_at_once(threads: usize, runs: usize, memory: usize) -> usize {
    let runs = runs.max(1);
    let by_files = sort::open_files() / runs;
    let by_memory = memory / (runs * RANGE_BYTES_PER_RUN);
    let n = (threads + 1).min(by_files).min(by_memory).max(1);
    if n < threads {
        tracing::info!(
            "merge: {n} ranges at once for {threads} threads ({runs} runs: {} MB each, -m {} MB; open-file limit {})",
            (runs * RANGE_BYTES_PER_RUN) >> 20,
            memory >> 20,
            sort::open_files() + 256
        );
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_ranges_cover_the_keys_once_in_order_at_about_the_target() {
        // Two contigs of 10 bins, 100,000 records each on a hot bin and spread.
        let mut bins = CoverageBins::new(&[10_000, 10_000]);
        assert_eq!(bins.bin_len, 1_000);
        for b in 0..10 {
            bins.counts[0][b] = 20_000;
            bins.counts[1][b] = if b == 3 { 100_000 } else { 10 };
        }
        let ranges = plan_ranges(&bins);
        assert_eq!(ranges.first().unwrap().0, None);
        assert_eq!(ranges.last().unwrap().1, None);
        for w in ranges.windows(2) {
            assert_eq!(w[0].1, w[1].0, "contiguous");
            assert!(w[0].1.is_some());
        }
        // Target: 300,090 / 64 → the minimum, 32,768: a cut every 2 bins on contig 0.
        let cuts: Vec<[u64; 2]> = ranges.iter().filter_map(|r| r.1).collect();
        assert_eq!(cuts[0], [2_000, 0]);
        assert_eq!(cuts[1], [4_000, 0]);
        assert!(cuts.contains(&[1 << 32 | 4_000, 0]), "{cuts:?}");
        assert_eq!(*cuts.last().unwrap(), [u64::from(u32::MAX) << 32, 0]);
        // No counts (segments of older versions): one range for the placed, one for the rest.
        assert_eq!(plan_ranges(&CoverageBins::default()).len(), 2);
    }
}
