//! Backends: who runs the kernels. `scalar` is the specification; `gpu` runs the WGSL
//! shaders through wgpu on any Vulkan/Metal/DX12 adapter. All of them give identical results,
//! which the integration tests assert.
//!
//! `auto` ([`Auto`]) decides per kernel call: a call goes to a hardware GPU adapter when one is
//! usable and the call is large enough to fill it ([`GPU_MIN_CELLS`]), else to the CPU's SIMD
//! backend; the first decision for each kernel (the aligner's and the caller's batches differ
//! in size, so this is in effect a choice per stage) is logged with its reason. Results are the
//! same either way, by the kernels' contract. Software adapters (Mesa's lavapipe, type `Cpu`)
//! are never chosen by `auto`: they emulate a GPU on the CPU and are only for testing;
//! `--backend gpu` still uses them.

pub mod scalar;
pub mod shaders;
pub mod simd;

#[cfg(feature = "gpu")]
pub mod gpu;
#[cfg(not(feature = "gpu"))]
#[path = "backend/gpu_disabled.rs"]
pub mod gpu;

use std::sync::Arc;

use crate::error::Result;
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};
use crate::kernel::pair_hmm::{HmmBatch, HmmResults, RowCoefs};

/// A device that runs genoa's kernels.
pub trait Backend: Send + Sync {
    /// Name for logs and reports, e.g. `scalar` or `gpu-vulkan (NVIDIA H100)`.
    fn name(&self) -> String;
    /// Runs `banded_align` on every pair of `batch` into `out` (cleared first).
    fn banded_align(
        &self,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()>;
    /// Runs `pair_hmm` on every read × haplotype pair of every region of `batch` into `out`
    /// (cleared first).
    fn pair_hmm(&self, batch: &HmmBatch, out: &mut HmmResults) -> Result<()>;
    /// Whether (large) kernel calls run on a device while the calling thread waits, rather
    /// than on the CPU's worker threads: then preparing the next batch during a call pays
    /// (the aligner's double buffering). False for the CPU backends.
    fn device_bound(&self) -> bool {
        false
    }
}

/// One unit of CPU `pair_hmm` work: up to [`HMM_CHUNK`] consecutive reads of a region against
/// one of its haplotypes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HmmTask {
    /// Unique per `run_hmm_chunked` call: with `reads`, identifies the reads (and so their
    /// coefficients) across the tasks of one call, for backends that reuse work between tasks.
    pub generation: u64,
    pub region: usize,
    /// Batch index of the haplotype.
    pub hap: usize,
    /// Batch indices of the reads.
    pub reads: (usize, usize),
}

/// Reads per CPU `pair_hmm` task (a multiple of every SIMD lane count).
pub(crate) const HMM_CHUNK: usize = 32;

/// Runs `task` over every [`HmmTask`] of `batch` in parallel (rayon) and scatters the
/// likelihoods into `out`: each task fills one value per read. The row coefficients of every
/// read are computed once, first, and passed in indexed like the read bases.
pub(crate) fn run_hmm_chunked(
    batch: &HmmBatch,
    out: &mut HmmResults,
    task: impl Fn(&[RowCoefs], HmmTask, &mut Vec<f64>) + Send + Sync,
) -> Result<()> {
    use rayon::prelude::*;
    crate::kernel::pair_hmm::validate(batch)?;
    let coefs = crate::kernel::pair_hmm::all_coefficients(batch);
    static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Read chunk outer, haplotype inner: consecutive tasks (which rayon mostly gives one
    // thread) share their reads.
    let mut tasks = Vec::new();
    for (region, g) in batch.regions.iter().enumerate() {
        let first = g.first_read as usize;
        let mut r = first;
        while r < first + g.reads as usize {
            let end = (r + HMM_CHUNK).min(first + g.reads as usize);
            for hap in g.first_hap as usize..(g.first_hap + g.haps) as usize {
                tasks.push(HmmTask {
                    generation,
                    region,
                    hap,
                    reads: (r, end),
                });
            }
            r = end;
        }
    }
    let parts: Vec<Vec<f64>> = tasks
        .par_iter()
        .map(|&t| {
            let _span = genoa_core::profile::span(genoa_core::profile::Stage::HmmKernel);
            let mut v = Vec::with_capacity(t.reads.1 - t.reads.0);
            task(&coefs, t, &mut v);
            v
        })
        .collect();
    out.log10.clear();
    out.log10.resize(batch.pairs(), 0.0);
    for (t, part) in tasks.iter().zip(parts) {
        let g = &batch.regions[t.region];
        let h = t.hap - g.first_hap as usize;
        for (k, v) in part.into_iter().enumerate() {
            let r = t.reads.0 + k - g.first_read as usize;
            out.log10[g.out_offset as usize + r * g.haps as usize + h] = v;
        }
    }
    Ok(())
}

/// Runs `chunk` on fixed-size slices of `batch.pairs` in parallel (rayon) and concatenates the
/// parts in order into `out`: how the CPU backends use every core while staying independent
/// of the thread count.
pub(crate) fn run_chunked(
    batch: &AlignBatch,
    params: &AlignParams,
    out: &mut AlignResults,
    chunk: impl Fn(&[crate::kernel::banded_align::AlignPair]) -> AlignResults + Send + Sync,
) -> Result<()> {
    use rayon::prelude::*;
    /// Problems per parallel chunk (a multiple of every SIMD lane count).
    const CHUNK: usize = 256;
    crate::kernel::banded_align::validate(batch, params)?;
    let parts: Vec<AlignResults> = batch
        .pairs
        .par_chunks(CHUNK)
        .map(|c| genoa_core::profile::time(genoa_core::profile::Stage::AlignKernel, || chunk(c)))
        .collect();
    out.clear();
    for part in parts {
        out.append(part);
    }
    Ok(())
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendChoice {
    #[default]
    Auto,
    Scalar,
    Simd,
    Gpu,
}

/// SIMD instruction sets detected on this CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuFeatures {
    pub sse41: bool,
    pub avx2: bool,
    pub avx512bw: bool,
    pub neon: bool,
}

impl CpuFeatures {
    /// Detects the instruction sets once, at run time.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            CpuFeatures {
                sse41: is_x86_feature_detected!("sse4.1"),
                avx2: is_x86_feature_detected!("avx2"),
                avx512bw: is_x86_feature_detected!("avx512bw"),
                neon: false,
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            CpuFeatures {
                neon: std::arch::is_aarch64_feature_detected!("neon"),
                ..Default::default()
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            CpuFeatures::default()
        }
    }

    /// The best level, as a name.
    pub fn best(&self) -> &'static str {
        if self.avx512bw {
            "avx512bw"
        } else if self.avx2 {
            "avx2"
        } else if self.sse41 {
            "sse4.1"
        } else if self.neon {
            "neon"
        } else {
            "none"
        }
    }
}

/// Makes the backend for `choice` (`auto`: see [`Auto`]).
pub fn select(choice: BackendChoice) -> Result<Arc<dyn Backend>> {
    match choice {
        BackendChoice::Scalar => Ok(Arc::new(scalar::Scalar)),
        BackendChoice::Simd => Ok(Arc::new(simd::Simd::detect()?)),
        BackendChoice::Gpu => Ok(Arc::new(gpu::Gpu::new(true)?)),
        BackendChoice::Auto => {
            let (cpu, cpu_why): (Arc<dyn Backend>, String) = match simd::Simd::detect() {
                Ok(s) => (Arc::new(s), String::new()),
                Err(e) => (Arc::new(scalar::Scalar), format!("; {e}")),
            };
            Ok(Arc::new(match gpu::Gpu::new(false) {
                Ok(g) => Auto::new(Some(Arc::new(g)), cpu, GPU_MIN_CELLS, String::new()),
                Err(e) => Auto::new(None, cpu, GPU_MIN_CELLS, format!("{e}{cpu_why}")),
            }))
        }
    }
}

/// Dynamic-programming cells below which `auto` keeps a kernel call on the CPU even with a GPU:
/// `[banded_align, pair_hmm]`. A call's transfer and dispatch cost a GPU about what a CPU core
/// computes in this many cells; these are estimates from the CPU kernels' throughput (~1 G
/// cells/s per core) and a ~1 ms dispatch round trip, not yet measured on GPU hardware.
pub const GPU_MIN_CELLS: [u64; 2] = [4 << 20, 16 << 20];

/// `--backend auto`: routes each kernel call to the GPU (if any) when it holds at least
/// `min_cells` cells of work, else to the CPU backend, and logs the first decision for each
/// kernel with its reason.
pub struct Auto {
    gpu: Option<Arc<dyn Backend>>,
    cpu: Arc<dyn Backend>,
    min_cells: [u64; 2],
    /// Why there is no GPU (empty when there is one).
    no_gpu: String,
    logged: [std::sync::Once; 2],
}

impl Auto {
    pub fn new(
        gpu: Option<Arc<dyn Backend>>,
        cpu: Arc<dyn Backend>,
        min_cells: [u64; 2],
        no_gpu: String,
    ) -> Self {
        Auto {
            gpu,
            cpu,
            min_cells,
            no_gpu,
            logged: [std::sync::Once::new(), std::sync::Once::new()],
        }
    }

    /// The backend for a call of kernel `k` (0 `banded_align`, 1 `pair_hmm`) of `cells` cells.
    fn route(&self, k: usize, cells: u64) -> &dyn Backend {
        let kernel = ["banded_align", "pair_hmm"][k];
        let (chosen, why) = match &self.gpu {
            Some(g) if cells >= self.min_cells[k] => (g.as_ref(), format!("{cells} cells")),
            Some(_) => (
                self.cpu.as_ref(),
                format!(
                    "{cells} cells, below the {} that pay for a GPU dispatch",
                    self.min_cells[k]
                ),
            ),
            None => (self.cpu.as_ref(), format!("no GPU: {}", self.no_gpu)),
        };
        self.logged[k].call_once(|| {
            tracing::info!(
                "backend auto: {kernel} on {} ({why}; each call decides by its size)",
                chosen.name()
            )
        });
        chosen
    }
}

impl Backend for Auto {
    fn name(&self) -> String {
        match &self.gpu {
            Some(g) => format!(
                "auto: {} for large batches, {} for small",
                g.name(),
                self.cpu.name()
            ),
            None => self.cpu.name(),
        }
    }
    fn banded_align(
        &self,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()> {
        self.route(0, batch.cells(params.band))
            .banded_align(batch, params, out)
    }
    fn pair_hmm(&self, batch: &HmmBatch, out: &mut HmmResults) -> Result<()> {
        self.route(1, batch.cells()).pair_hmm(batch, out)
    }
    fn device_bound(&self) -> bool {
        self.gpu.is_some()
    }
}

/// A backend that measures the time spent in each kernel call (summed over the threads that
/// call it), to show how much of a run the kernels take.
pub struct Timed {
    inner: Arc<dyn Backend>,
    banded_align_ns: std::sync::atomic::AtomicU64,
    pair_hmm_ns: std::sync::atomic::AtomicU64,
}

impl Timed {
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        Timed {
            inner,
            banded_align_ns: Default::default(),
            pair_hmm_ns: Default::default(),
        }
    }

    /// Seconds spent in `banded_align` and in `pair_hmm` calls so far.
    pub fn seconds(&self) -> (f64, f64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.banded_align_ns.load(Relaxed) as f64 * 1e-9,
            self.pair_hmm_ns.load(Relaxed) as f64 * 1e-9,
        )
    }
}

impl Backend for Timed {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn banded_align(
        &self,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()> {
        let t = std::time::Instant::now();
        let r = self.inner.banded_align(batch, params, out);
        self.banded_align_ns.fetch_add(
            t.elapsed().as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        r
    }
    fn pair_hmm(&self, batch: &HmmBatch, out: &mut HmmResults) -> Result<()> {
        let t = std::time::Instant::now();
        let r = self.inner.pair_hmm(batch, out);
        self.pair_hmm_ns.fetch_add(
            t.elapsed().as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        r
    }
    fn device_bound(&self) -> bool {
        self.inner.device_bound()
    }
}
