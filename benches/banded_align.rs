//! criterion bench of the `banded_align` kernel, ids `banded_align/<backend>/<workload>`,
//! throughput in band cells (query length × (2·band + 1)) per second, one thread.
//!
//! Workloads (4,096 problems each, seeded):
//! * `ext150-1pct`, `ext150-5pct`: 150-bp reads extended (extension mode, z-drop 100, end bonus
//!   5) into their 150+band reference targets, with 1 % or 5 % substitutions and indels;
//! * `ext250-1pct`: the same with 250-bp reads;
//! * `global300-600`: haplotypes of 300–600 bp against their reference span (global mode).
//!
//! The peer, on the identical inputs and scoring in the same run: ksw2's `ksw_extz2_sse`
//! (minimap2's kernel, through `minimap2-sys`; extension-only for the extension workloads,
//! global for the haplotype one), with CIGAR like genoa. Build with
//! `RUSTFLAGS="-C target-feature=+sse4.1"` so ksw2 compiles its SSE4.1 path rather than SSE2.

mod common;

use common::{Rng, mutate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genoa::kernel::banded_align::{AlignBatch, AlignParams, AlignResults, Mode};

const BAND: u32 = 16;

fn workload(
    len: std::ops::RangeInclusive<usize>,
    per_mille: u64,
    mode: Mode,
    seed: u64,
) -> AlignBatch {
    let mut rng = Rng::with_seed(seed);
    let mut b = AlignBatch::default();
    while b.pairs.len() < 4096 {
        let n = *len.start() + rng.u64(..(len.end() - len.start() + 1) as u64) as usize;
        let reference: Vec<u8> = (0..n + BAND as usize).map(|_| rng.u64(..4) as u8).collect();
        let query = mutate(&mut rng, &reference[..n], per_mille);
        match mode {
            Mode::Global => {
                let target = &reference[..n];
                let d = target.len() as i64 - query.len() as i64;
                if d.unsigned_abs() <= u64::from(BAND) / 2 {
                    b.push(&query, target, 0);
                }
            }
            _ => {
                b.push(&query, &reference, 0);
            }
        }
    }
    b
}

fn params(mode: Mode) -> AlignParams {
    AlignParams {
        mode,
        zdrop: if mode == Mode::Extension { 100 } else { 0 },
        ..AlignParams::short_read(BAND)
    }
}

/// ksw2's extension kernel over the batch (one thread), same scoring.
fn ksw2(batch: &AlignBatch, p: &AlignParams, ez: &mut minimap2_sys::ksw_extz_t) -> i64 {
    let (a, b, n) = (
        p.match_score as i8,
        -(p.mismatch as i8),
        -(p.n_penalty as i8),
    );
    let mut mat = [0i8; 25];
    for i in 0..5 {
        for j in 0..5 {
            mat[i * 5 + j] = if i == 4 || j == 4 {
                n
            } else if i == j {
                a
            } else {
                b
            };
        }
    }
    let mut total = 0i64;
    for pair in &batch.pairs {
        let (q, t) = (batch.query(pair), batch.target(pair));
        // SAFETY: valid pointers and lengths; `ez` is reused, ksw2 grows its CIGAR buffer.
        unsafe {
            minimap2_sys::ksw_extz2_sse(
                std::ptr::null_mut(),
                q.len() as i32,
                q.as_ptr(),
                t.len() as i32,
                t.as_ptr(),
                5,
                mat.as_ptr(),
                p.gap_open as i8,
                p.gap_extend as i8,
                p.band as i32,
                if p.zdrop > 0 { p.zdrop } else { -1 }, // ksw2: negative = no z-drop
                p.end_bonus,
                // KSW_EZ_EXTZ_ONLY for extension; 0 = global (ez.score); CIGAR in both.
                if p.mode == Mode::Extension { 0x40 } else { 0 },
                ez,
            );
        }
        total += i64::from(ez.max_q) + i64::from(ez.score);
    }
    total
}

fn bench(c: &mut Criterion) {
    let one_thread = common::one_thread();
    let backends = common::backends("banded_align");
    let workloads = [
        (
            "ext150-1pct",
            workload(150..=150, 10, Mode::Extension, 1),
            Mode::Extension,
        ),
        (
            "ext150-5pct",
            workload(150..=150, 50, Mode::Extension, 2),
            Mode::Extension,
        ),
        (
            "ext250-1pct",
            workload(250..=250, 10, Mode::Extension, 3),
            Mode::Extension,
        ),
        (
            "global300-600",
            workload(300..=600, 10, Mode::Global, 4),
            Mode::Global,
        ),
    ];
    let mut group = c.benchmark_group("banded_align");
    group.sample_size(10);
    for (name, batch, mode) in &workloads {
        let p = params(*mode);
        group.throughput(Throughput::Elements(batch.cells(BAND)));
        for backend in &backends {
            let id = format!("{}/{name}", backend.name().split(' ').next().unwrap_or("?"));
            let mut out = AlignResults::default();
            group.bench_function(id, |bench| {
                bench.iter(|| {
                    one_thread.install(|| {
                        backend
                            .banded_align(batch, &p, &mut out)
                            .expect("kernel runs")
                    })
                })
            });
        }
        // SAFETY: ksw_extz_t is plain data; all-zero is its reset state.
        let mut ez: minimap2_sys::ksw_extz_t = unsafe { std::mem::zeroed() };
        group.bench_function(format!("ksw2-extz2-sse/{name}"), |bench| {
            bench.iter(|| ksw2(batch, &p, &mut ez))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
