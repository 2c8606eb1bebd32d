//! criterion bench of the `banded_align` kernel: ids `banded_align/<backend>/<read length>`,
//! throughput in cells (band cells of the DP), on batches of read-extension problems shaped
//! like the aligner's (read against its reference window, local mode, band 16).

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genoa::backend::Backend;
use genoa::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};

fn batch(read_len: usize, count: usize, band: u32) -> AlignBatch {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut b = AlignBatch::default();
    for _ in 0..count {
        let window: Vec<u8> = (0..read_len + 2 * band as usize)
            .map(|_| (next() % 4) as u8)
            .collect();
        let mut read = window[band as usize..band as usize + read_len].to_vec();
        for base in read.iter_mut() {
            if next() % 100 == 0 {
                *base = (*base + 1) % 4;
            }
        }
        b.push(&read, &window, band as i32);
    }
    b
}

fn bench(c: &mut Criterion) {
    let band = 16;
    let params = AlignParams::short_read(band);
    let mut backends: Vec<Arc<dyn Backend>> = vec![Arc::new(genoa::backend::scalar::Scalar)];
    for simd in genoa::backend::simd::Simd::available() {
        backends.push(Arc::new(simd));
    }
    match genoa::backend::gpu::Gpu::new(true) {
        Ok(g) => backends.push(Arc::new(g)),
        Err(e) => eprintln!("banded_align bench: no GPU backend ({e})"),
    }
    let mut group = c.benchmark_group("banded_align");
    group.sample_size(10);
    for read_len in [150usize, 250] {
        let b = batch(read_len, 4096, band);
        group.throughput(Throughput::Elements(b.cells(band)));
        for backend in &backends {
            let id = format!(
                "{}/{read_len}",
                backend.name().split(' ').next().unwrap_or("?")
            );
            let mut out = AlignResults::default();
            group.bench_function(id, |bench| {
                bench.iter(|| {
                    backend
                        .banded_align(&b, &params, &mut out)
                        .expect("kernel runs")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
