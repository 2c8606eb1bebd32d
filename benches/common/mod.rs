//! What the criterion benches share: a seeded generator, read mutation, and the backends to
//! time (scalar, every SIMD instruction set of this CPU, the GPU when one opens).

use std::sync::Arc;

use genoa::backend::Backend;

pub mod rng;
// Each bench (and examples/device_bench.rs) uses some of these, none all of them.
#[allow(dead_code)]
pub mod workloads;
#[allow(unused_imports)]
pub use rng::{Rng, mutate};

/// Scalar, each SIMD instruction set of this CPU, and the GPU if one opens.
pub fn backends(bench: &str) -> Vec<Arc<dyn Backend>> {
    let mut backends: Vec<Arc<dyn Backend>> = vec![Arc::new(genoa::backend::scalar::Scalar)];
    for simd in genoa::backend::simd::Simd::available() {
        backends.push(Arc::new(simd));
    }
    match genoa::backend::gpu::Gpu::new(true) {
        Ok(g) => backends.push(Arc::new(g)),
        Err(e) => eprintln!("{bench} bench: no GPU backend ({e})"),
    }
    backends
}

/// A one-thread rayon pool: the benches measure one core.
pub fn one_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
}
