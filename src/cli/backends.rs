//! `genoa backends`: the CPU SIMD level, every GPU adapter with its key limits, and what
//! `--backend auto` would choose.

use crate::backend::{self, BackendChoice, CpuFeatures};
use crate::error::Result;

pub fn run() -> Result<()> {
    let cpu = CpuFeatures::detect();
    println!(
        "cpu: {} (sse4.1 {}, avx2 {}, avx512bw {}, neon {}); {} threads available",
        cpu.best(),
        yes(cpu.sse41),
        yes(cpu.avx2),
        yes(cpu.avx512bw),
        yes(cpu.neon),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let adapters = backend::gpu::adapters();
    if adapters.is_empty() {
        println!(
            "gpu: no adapter found{}",
            if cfg!(feature = "gpu") {
                ""
            } else {
                " (built without the gpu feature)"
            }
        );
    }
    for (i, a) in adapters.iter().enumerate() {
        println!(
            "gpu {i}: {} | backend {} | type {}{} | driver {}",
            a.name,
            a.backend,
            a.device_type,
            if a.software { " (software)" } else { "" },
            a.driver
        );
        println!(
            "       max storage binding {} MiB, max buffer {} MiB, workgroups/dim {}, invocations/workgroup {}, workgroup memory {} KiB",
            a.max_storage_buffer_binding_size >> 20,
            a.max_buffer_size >> 20,
            a.max_compute_workgroups_per_dimension,
            a.max_compute_invocations_per_workgroup,
            a.max_compute_workgroup_storage_size >> 10
        );
    }
    match backend::select(BackendChoice::Auto) {
        Ok(b) => println!("auto: {}", b.name()),
        Err(e) => println!("auto: unavailable ({e})"),
    }
    match backend::gpu::Gpu::new(true) {
        Ok(g) => println!(
            "gpu: {} (what --backend gpu uses)",
            crate::backend::Backend::name(&g)
        ),
        Err(e) => println!("gpu: --backend gpu would fail: {e}"),
    }
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
