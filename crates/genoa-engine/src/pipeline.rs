//! The driver: FASTQ → aligned, sorted BAM/CRAM → gVCF, stage by stage on a thread pool of the
//! requested size. Output depends only on the input: not on the thread count, the batch size or
//! the backend.
//!
//! - [`config`]: every setting, typed, with the library's defaults.
//! - [`segments`]: alignment in checkpointed segments (resume, shards) and their merge.
//! - [`run`] and [`gather`] (`run.rs`): the whole pipeline, and the join of a sharded one.
//! - [`align_to_file`] (`genoa align`), [`call_to_file`] (`genoa call`, in `calling.rs`).
//! - [`source`]: where the caller's reads come from; [`stream`]: the streaming caller of `run`.

use std::path::Path;
use std::sync::Arc;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::pipeline::config::AlignConfig;

pub mod calling;
pub mod config;
pub mod lock;
mod run;
pub mod segments;
pub mod sex;
pub mod source;
pub mod stream;

pub use calling::call_to_file;
pub use run::{gather, run};

/// Counters of a run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Pairs aligned (a shard's own), and pairs in the input.
    pub pairs: u64,
    pub pairs_read: u64,
    /// Pairs of the input passed over without being read, through read indexes (other
    /// shards' pairs, segments committed earlier).
    pub pairs_skipped: u64,
    /// Segments found committed by an earlier, killed run.
    pub resumed_segments: u64,
    /// Seconds in `banded_align` and `pair_hmm` calls (summed over threads).
    pub kernel_seconds: (f64, f64),
    pub reads: u64,
    pub mapped: u64,
    pub snps: u64,
    pub indels: u64,
    pub duplicate_pairs: u64,
    /// Duplicate pairs that are optical duplicates (of `duplicate_pairs`).
    pub optical_duplicate_pairs: u64,
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

/// Waits a moment without blocking the pool: runs one of its pending jobs if there is one
/// (when called from a pool thread), else sleeps 200 µs.
pub(crate) fn help_pool() {
    if !matches!(rayon::yield_now(), Some(rayon::Yield::Executed)) {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

/// The next message on `rx`, running the pool's pending work while there is none ([`help_pool`]);
/// `None` once every sender is gone.
pub(crate) fn recv_helping<T>(rx: &std::sync::mpsc::Receiver<T>) -> Option<T> {
    loop {
        match rx.try_recv() {
            Ok(m) => return Some(m),
            Err(std::sync::mpsc::TryRecvError::Empty) => help_pool(),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return None,
        }
    }
}

/// A thread pool of `threads` workers (0 = one per CPU; more than the CPUs this process may
/// use is capped there, with a warning: see [`config::worker_threads`]).
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(config::worker_threads(threads))
        .thread_name(|i| format!("genoa-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the thread pool: {e}")))
}

/// Checks that `dir` exists (creating it) and that files can be created in it.
pub fn ensure_writable_dir(dir: &Path) -> Result<()> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::input(
            dir,
            "is a file, not a directory (it names where the outputs go)",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    crate::io::atomic::Pending::new(dir.join(".genoa-write-test"))
        .map(drop)
        .map_err(|_| Error::input(dir, "output directory is not writable"))
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
    cfg.check()?;
    let fingerprint = segments::Fingerprint::of(cfg, reference)?;
    let mut work = segments::WorkDir::open(tmp.path(), &fingerprint, segments::Shard::ALL)?;
    segments::align_segments(cfg, reference, backend, &mut work, summary)?;
    let segs = segments::collect(std::slice::from_ref(&work))?;
    let header = crate::io::sam_header::build(reference, &cfg.read_groups(), &cfg.command_line)?;
    let mut sink = crate::io::sink::create(output, &header, reference)?;
    segments::merge_into(
        &segs,
        reference,
        tmp.path(),
        cfg.memory,
        sink.as_mut(),
        summary,
        &mut |_| Ok(()),
    )?;
    sink.finish()
}
