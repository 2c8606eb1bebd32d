//! The GPU backend's surface when genoa is built without the `gpu` feature: the same names,
//! and a typed error wherever a device would be needed.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};
use crate::kernel::pair_hmm::{HmmBatch, HmmResults};

/// What `genoa backends` prints of an adapter (none exist in this build).
#[derive(Clone, Debug)]
pub struct AdapterReport {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub software: bool,
}

/// No adapters without the `gpu` feature.
pub fn adapters() -> Vec<AdapterReport> {
    Vec::new()
}

/// Never constructed: [`Gpu::new`] always fails in this build.
pub struct Gpu(());

impl Gpu {
    pub fn new(_allow_software: bool) -> Result<Gpu> {
        Err(Error::backend(
            "gpu",
            "genoa was built without the `gpu` feature",
        ))
    }

    /// No-op: there is no device whose bindings could be capped.
    pub fn limit_binding(&mut self, _bytes: u64) {}
}

impl Backend for Gpu {
    fn name(&self) -> String {
        "gpu (disabled)".to_string()
    }
    fn banded_align(&self, _: &AlignBatch, _: &AlignParams, _: &mut AlignResults) -> Result<()> {
        Err(Error::backend(
            "gpu",
            "genoa was built without the `gpu` feature",
        ))
    }
    fn pair_hmm(&self, _: &HmmBatch, _: &mut HmmResults) -> Result<()> {
        Err(Error::backend(
            "gpu",
            "genoa was built without the `gpu` feature",
        ))
    }
}
