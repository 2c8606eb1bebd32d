//! The stage profile: CPU seconds per pipeline stage, always collected (a clock read at each
//! stage's start and end, no sampling profiler), printed by `-v` and written into the QC
//! JSON's run section.
//!
//! Stages are timed where their work runs, on the thread that runs it, by that thread's CPU
//! clock, and summed over the threads. Steps too small for a CPU clock read each (seeding
//! one read) are timed by the wall clock and scaled by the share of time their thread ran
//! ([`Local`]); a parallel sort is its calling thread's CPU time × the pool's threads
//! ([`parallel_span`]).
//! Timers nest: a stage timed inside another on the same thread
//! (BGZF compression inside the merge, a task rayon runs on a thread that waits in a timed
//! stage) counts for itself and not for the outer one, so the stages never count a second
//! twice and their sum is at most the process's CPU time ([`process_cpu_seconds`]); the
//! difference is work no stage claims: BGZF input decompressed on noodles' worker threads
//! (plain gzip is decompressed on the reader thread, inside [`Stage::Input`]), thread
//! start-up, allocation outside stages.
//!
//! Counters are process-wide: two pipelines run at once in one process (tests) share them.
//! A run reports the difference between a [`snapshot`] at its start and one at its end.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// A stage of the pipeline, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Reading the input reads: FASTQ/BAM/CRAM parsing, and decompression where it runs on
    /// the reader's thread (plain gzip; BGZF is inflated on worker threads no stage claims).
    Input,
    /// Minimizers of each read and their hits in the index.
    Seed,
    /// Chaining the hits.
    Chain,
    /// Packing each chain's extension problem for the kernel.
    ExtendSetup,
    /// The `banded_align` kernel (extension, mate rescue, and the caller's haplotypes), on the
    /// CPU backends summed over the threads that run its chunks; on a device, the calling
    /// thread's CPU time to submit and wait (the device's own time is not CPU time, and a
    /// software driver's threads, lavapipe's, are unattributed).
    AlignKernel,
    /// Tracebacks turned into hits, tandem-repeat alternatives, ranking.
    Hits,
    /// Mate rescue, without its kernel calls.
    Rescue,
    /// Pairing, MAPQ and the records of a pair (CIGAR, NM/MD, SA/XA).
    Pair,
    /// BAM record encoding and duplicate keys.
    Encode,
    /// QC counts and coverage bins of the aligned records.
    Qc,
    /// Sorting records in memory before they are written as runs.
    Sort,
    /// Writing runs and checkpoints: blocks encoded, compressed (level 1) and written.
    Spill,
    /// Reading the runs back, merging them, marking duplicates, writing the parts.
    Merge,
    /// BGZF compression of the BAM.
    Bgzf,
    /// Calling: reading and decoding each chunk's reads.
    CallFetch,
    /// Calling: pileup, active regions, isolated SNPs, reference blocks.
    Pileup,
    /// Calling: de Bruijn assembly of the active regions.
    Assembly,
    /// Calling: haplotypes aligned to the reference (without their kernel calls) and their
    /// events.
    HaplotypeAlign,
    /// Calling: read × haplotype likelihoods set up and gathered (without the kernel).
    PairHmm,
    /// The `pair_hmm` kernel, summed over the threads that run it.
    HmmKernel,
    /// Calling: genotyping the active regions' events.
    Genotype,
    /// Calling: gVCF records formatted, compressed and written.
    GvcfWrite,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 22] = [
        Stage::Input,
        Stage::Seed,
        Stage::Chain,
        Stage::ExtendSetup,
        Stage::AlignKernel,
        Stage::Hits,
        Stage::Rescue,
        Stage::Pair,
        Stage::Encode,
        Stage::Qc,
        Stage::Sort,
        Stage::Spill,
        Stage::Merge,
        Stage::Bgzf,
        Stage::CallFetch,
        Stage::Pileup,
        Stage::Assembly,
        Stage::HaplotypeAlign,
        Stage::PairHmm,
        Stage::HmmKernel,
        Stage::Genotype,
        Stage::GvcfWrite,
    ];

    /// The stage's name in logs and the QC JSON.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Input => "read_input",
            Stage::Seed => "seeding",
            Stage::Chain => "chaining",
            Stage::ExtendSetup => "extension_setup",
            Stage::AlignKernel => "banded_align_kernel",
            Stage::Hits => "hits",
            Stage::Rescue => "mate_rescue",
            Stage::Pair => "pairing_mapq",
            Stage::Encode => "record_encoding",
            Stage::Qc => "qc_counts",
            Stage::Sort => "sort",
            Stage::Spill => "run_writing",
            Stage::Merge => "merge_markdup",
            Stage::Bgzf => "bgzf_compression",
            Stage::CallFetch => "call_fetch",
            Stage::Pileup => "pileup",
            Stage::Assembly => "assembly",
            Stage::HaplotypeAlign => "haplotype_alignment",
            Stage::PairHmm => "pair_hmm",
            Stage::HmmKernel => "pair_hmm_kernel",
            Stage::Genotype => "genotyping",
            Stage::GvcfWrite => "gvcf_writing",
        }
    }
}

const N: usize = Stage::ALL.len();

static NANOS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

thread_local! {
    /// Nanoseconds timed on this thread so far, every stage: what an enclosing timer on the
    /// same thread leaves out of its own.
    static TIMED: Cell<u64> = const { Cell::new(0) };
}

fn add(stage: Stage, nanos: u64) {
    if nanos > 0 {
        NANOS[stage as usize].fetch_add(nanos, Relaxed);
    }
}

/// CPU nanoseconds of the calling thread (`CLOCK_THREAD_CPUTIME_ID`); where there is no such
/// clock, nanoseconds since an arbitrary moment.
pub fn thread_cpu_nanos() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the call writes only into it.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Times a stage from now until it is dropped: the thread's CPU time meanwhile, less what
/// other timers on this thread took.
#[must_use = "the stage is timed until the span is dropped"]
pub struct Span {
    stage: Stage,
    /// The thread's CPU clock at the start.
    start: u64,
    timed: u64,
    /// Threads the time counts for ([`parallel_span`]).
    width: u64,
}

/// A [`Span`] for `stage`, starting now.
pub fn span(stage: Stage) -> Span {
    parallel_span(stage, 1)
}

/// A [`Span`] around a parallel call made from this thread whose work is not timed where it
/// runs (a rayon sort): this thread's CPU time × `threads`, the threads it keeps busy (a CPU
/// clock, so a thread that waits or is preempted adds nothing).
pub fn parallel_span(stage: Stage, threads: usize) -> Span {
    Span {
        stage,
        start: thread_cpu_nanos(),
        timed: TIMED.with(Cell::get),
        width: threads.max(1) as u64,
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        let (total, width) = (thread_cpu_nanos().saturating_sub(self.start), self.width);
        let inner = TIMED.with(|t| {
            let inner = t.get().saturating_sub(self.timed);
            t.set(self.timed + total);
            inner
        });
        add(self.stage, total.saturating_sub(inner) * width);
    }
}

/// Runs `f` as `stage`.
pub fn time<R>(stage: Stage, f: impl FnOnce() -> R) -> R {
    let _span = span(stage);
    f()
}

/// Runs the parallel call `f` as `stage` ([`parallel_span`] over rayon's pool).
pub fn time_parallel<R>(stage: Stage, f: impl FnOnce() -> R) -> R {
    let _span = parallel_span(stage, rayon::current_num_threads());
    f()
}

/// Per-thread sums for timing many small steps (one per read), where a CPU clock read per
/// step would cost more than the step: each step is timed by the wall clock, and when the
/// sums are dropped they are scaled by the thread's CPU time over wall time since they were
/// made (the share of time the thread ran) and added to the process's counters. Use one per
/// rayon task (`map_init(profile::Local::default, …)`); the steps it times must not nest
/// other timers.
pub struct Local {
    nanos: [u64; N],
    wall: Instant,
    cpu: u64,
    /// Where the next [`Local::lap`] starts.
    lap: Instant,
}

impl Default for Local {
    fn default() -> Self {
        let now = Instant::now();
        Local {
            nanos: [0; N],
            wall: now,
            cpu: thread_cpu_nanos(),
            lap: now,
        }
    }
}

impl Local {
    /// Runs `f` as `stage`.
    pub fn time<R>(&mut self, stage: Stage, f: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let r = f();
        self.nanos[stage as usize] += start.elapsed().as_nanos() as u64;
        r
    }

    /// Starts a lap: the next [`Local::lap`] times from now.
    pub fn mark(&mut self) {
        self.lap = Instant::now();
    }

    /// Counts the time since the last [`Local::mark`] or lap as `stage`, and starts the next
    /// lap: steps one after another at one clock read each.
    pub fn lap(&mut self, stage: Stage) {
        let now = Instant::now();
        self.nanos[stage as usize] += now.duration_since(self.lap).as_nanos() as u64;
        self.lap = now;
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let wall = self.wall.elapsed().as_nanos() as u64;
        let cpu = thread_cpu_nanos().saturating_sub(self.cpu);
        let share = if wall == 0 {
            1.0
        } else {
            (cpu as f64 / wall as f64).min(1.0)
        };
        let mut sum = 0;
        for (stage, &n) in Stage::ALL.iter().zip(&self.nanos) {
            let n = (n as f64 * share) as u64;
            sum += n;
            add(*stage, n);
        }
        TIMED.with(|t| t.set(t.get() + sum));
    }
}

/// The process's stage counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    nanos: [u64; N],
}

/// The counters now.
pub fn snapshot() -> Snapshot {
    Snapshot {
        nanos: std::array::from_fn(|i| NANOS[i].load(Relaxed)),
    }
}

impl Snapshot {
    /// What was counted between `earlier` and this snapshot.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            nanos: std::array::from_fn(|i| self.nanos[i].saturating_sub(earlier.nanos[i])),
        }
    }

    /// Seconds of `stage`.
    pub fn seconds(&self, stage: Stage) -> f64 {
        self.nanos[stage as usize] as f64 * 1e-9
    }

    /// Every stage with its seconds, in order.
    pub fn stages(&self) -> impl Iterator<Item = (Stage, f64)> + '_ {
        Stage::ALL.iter().map(|&s| (s, self.seconds(s)))
    }
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`; `None`
/// elsewhere).
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name; in USER_HZ
    // ticks, which Linux fixes at 100 per second for this interface.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Busy for `ms` ms of this thread's CPU time.
    fn spin(ms: u64) {
        let t = thread_cpu_nanos();
        while thread_cpu_nanos() - t < ms * 1_000_000 {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn nested_timers_count_their_time_once() {
        // Counters are process-wide: these stages are timed only by the engine, not by any
        // other test of this crate.
        let before = snapshot();
        let cpu = thread_cpu_nanos();
        {
            let _outer = span(Stage::Rescue);
            spin(30);
            time(Stage::Hits, || spin(40));
            let mut local = Local::default();
            local.time(Stage::Pair, || spin(10));
            local.mark();
            spin(10);
            local.lap(Stage::Pair);
        }
        let cpu = (thread_cpu_nanos() - cpu) as f64 * 1e-9;
        let d = snapshot().since(&before);
        let (outer, inner, local) = (
            d.seconds(Stage::Rescue),
            d.seconds(Stage::Hits),
            d.seconds(Stage::Pair),
        );
        assert!(outer >= 0.030 && inner >= 0.040, "{outer} {inner}");
        // Wall time scaled by the thread's share: about the CPU time.
        assert!(local >= 0.010, "{local}");
        // The nested ones are left out of the outer one: together at most the block's CPU.
        assert!(
            outer + inner + local <= cpu + 1e-6,
            "{outer} {inner} {local} {cpu}"
        );
        assert!(
            outer < 0.030 + (cpu - 0.090).max(0.0) + 1e-3,
            "{outer} {cpu}"
        );
        assert_eq!(d.seconds(Stage::Seed), 0.0);
    }

    #[test]
    fn process_cpu_time_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            spin(20);
            assert!(process_cpu_seconds().is_some_and(|s| s > 0.0));
        }
    }
}
