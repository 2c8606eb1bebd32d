//! Kernel throughput per backend and batch size, for `scripts/device-bench.sh`: each kernel's
//! seeded workload (the criterion benches' own) at several batch sizes, on the scalar spec,
//! every SIMD instruction set of this CPU and the GPU when one opens, on all the process's
//! threads. Each call is timed (best of `--reps`, default 3, after one warm-up) and its results
//! compared with the scalar spec's. One TSV table on stdout:
//!
//! `kernel  workload  batch  cells  backend  seconds  gcells_per_s  identical`
//!
//! `batch` counts pairs (banded_align) or regions of 32 reads × 4 haplotypes (pair_hmm). The
//! smallest GPU batch whose throughput beats the best CPU backend's is what
//! `backend::GPU_MIN_CELLS` should be set from. `--tiny` runs the two smallest sizes only (CI
//! on lavapipe). Exits 1 when a backend's results differ from the spec's, or when
//! `GENOA_REQUIRE_GPU=1` and no GPU opens.
//!
//!     cargo run --release --example device_bench [-- --tiny] [--reps N]

#[path = "../benches/common/rng.rs"]
mod rng;
#[path = "../benches/common/workloads.rs"]
mod workloads;

use std::sync::Arc;
use std::time::Instant;

use genoa::backend::Backend;
use genoa::kernel::banded_align::{AlignBatch, AlignParams, AlignResults, Mode};
use genoa::kernel::pair_hmm::HmmResults;
use rng::{Rng, mutate};

const BAND: u32 = 16;

/// `n` 150-bp reads with 1 % substitutions and indels, extended into their 150+band targets.
fn align_workload(n: usize, seed: u64) -> AlignBatch {
    let mut rng = Rng::with_seed(seed);
    let mut b = AlignBatch::default();
    while b.pairs.len() < n {
        let reference: Vec<u8> = (0..150 + BAND as usize)
            .map(|_| rng.u64(..4) as u8)
            .collect();
        let query = mutate(&mut rng, &reference[..150], 10);
        b.push(&query, &reference, 0);
    }
    b
}

/// Best of `reps` timed calls (after one untimed), and the last call's output.
fn time<T: Default>(reps: usize, mut call: impl FnMut(&mut T)) -> (f64, T) {
    let mut out = T::default();
    call(&mut out);
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        call(&mut out);
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, out)
}

/// Every backend's best time of `call`, and whether its results equal the first backend's
/// (the scalar spec's).
fn each_backend<T: Default + PartialEq>(
    backends: &[Arc<dyn Backend>],
    reps: usize,
    mut call: impl FnMut(&dyn Backend, &mut T),
) -> Vec<(String, f64, bool)> {
    let mut want: Option<T> = None;
    backends
        .iter()
        .map(|b| {
            let (secs, got) = time::<T>(reps, |out| call(b.as_ref(), out));
            let same = match &want {
                Some(w) => *w == got,
                None => {
                    want = Some(got);
                    true
                }
            };
            (b.name(), secs, same)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tiny = args.iter().any(|a| a == "--tiny");
    let reps = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3usize);
    let require_gpu = std::env::var("GENOA_REQUIRE_GPU").is_ok_and(|v| v == "1");
    // The scalar spec first: every other backend's results are compared with its.
    let mut backends: Vec<Arc<dyn Backend>> = vec![Arc::new(genoa::backend::scalar::Scalar)];
    for simd in genoa::backend::simd::Simd::available() {
        backends.push(Arc::new(simd));
    }
    match genoa::backend::gpu::Gpu::new(true) {
        Ok(g) => backends.push(Arc::new(g)),
        Err(e) if require_gpu => {
            eprintln!("device_bench: GENOA_REQUIRE_GPU=1 but no GPU backend: {e}");
            std::process::exit(1);
        }
        Err(e) => eprintln!("device_bench: no GPU backend ({e})"),
    }
    let take = if tiny { 2 } else { 5 };
    let mut differ = false;
    println!("kernel\tworkload\tbatch\tcells\tbackend\tseconds\tgcells_per_s\tidentical");
    // One row per backend: seconds, throughput, and whether its results equal the spec's.
    let mut rows = |kernel: &str,
                    workload: &str,
                    batch: usize,
                    cells: u64,
                    results: Vec<(String, f64, bool)>| {
        for (name, secs, same) in results {
            differ |= !same;
            println!(
                "{kernel}\t{workload}\t{batch}\t{cells}\t{name}\t{secs:.6}\t{:.3}\t{}",
                cells as f64 / secs.max(1e-12) / 1e9,
                if same { "yes" } else { "NO" }
            );
        }
    };
    let params = AlignParams {
        mode: Mode::Extension,
        zdrop: 100,
        ..AlignParams::short_read(BAND)
    };
    for &n in [256usize, 1024, 4096, 16_384, 65_536].iter().take(take) {
        let batch = align_workload(n, 7);
        let results = each_backend::<AlignResults>(&backends, reps, |b, out| {
            b.banded_align(&batch, &params, out).expect("banded_align")
        });
        rows("banded_align", "ext150-1pct", n, batch.cells(BAND), results);
    }
    for &n in [4usize, 16, 64, 256, 1024].iter().take(take) {
        let batch = workloads::hmm_regions(150, 300, n, 11);
        let results = each_backend::<HmmResults>(&backends, reps, |b, out| {
            b.pair_hmm(&batch, out).expect("pair_hmm")
        });
        rows("pair_hmm", "150x300", n, batch.cells(), results);
    }
    if differ {
        eprintln!("device_bench: a backend's results differ from the scalar spec's");
        std::process::exit(1);
    }
}
