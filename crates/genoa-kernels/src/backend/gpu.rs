//! The GPU backend: a wgpu device (Vulkan, Metal, DX12 or GL), one compute pipeline per
//! kernel, and device buffers reused across batches. Every wgpu error is caught (error scopes
//! at pipeline creation, an uncaptured-error handler afterwards) and turned into
//! [`Error::Backend`]; nothing here panics on a driver error.

pub mod banded_align;
pub mod pair_hmm;

use std::sync::{Arc, Mutex};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};
use crate::kernel::pair_hmm::{HmmBatch, HmmResults};

/// What `genoa backends` prints of an adapter.
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

/// The wgpu instance: Vulkan, Metal and DX12 (GL only when `WGPU_BACKEND` asks for it: its
/// compute support is partial and, without a display, it only finds software renderers).
fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    wgpu::Instance::new(desc.with_env())
}

fn report(adapter: &wgpu::Adapter) -> AdapterReport {
    let info = adapter.get_info();
    let limits = adapter.limits();
    AdapterReport {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend).to_lowercase(),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
        max_buffer_size: limits.max_buffer_size,
        max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
        max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
        software: info.device_type == wgpu::DeviceType::Cpu,
    }
}

/// Every adapter wgpu can see (honouring `WGPU_BACKEND`).
pub fn adapters() -> Vec<AdapterReport> {
    let instance = instance();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .iter()
        .map(report)
        .collect()
}

/// Workgroup size of every kernel.
const WORKGROUP: u32 = 64;

/// Workgroups `(x, y)` covering `invocations` with no dimension above `max_per_dim`; the shader
/// computes its index as `(y · x_count + x) · workgroup + local` and skips the overhang.
pub fn grid(invocations: u32, workgroup: u32, max_per_dim: u32) -> (u32, u32) {
    let groups = invocations.div_ceil(workgroup).max(1);
    let max = max_per_dim.max(1);
    if groups <= max {
        (groups, 1)
    } else {
        let y = groups.div_ceil(max);
        (groups.div_ceil(y), y)
    }
}

/// The GPU backend.
pub struct Gpu {
    name: String,
    device: wgpu::Device,
    queue: wgpu::Queue,
    limits: wgpu::Limits,
    binding_cap: u64,
    /// Most loop iterations one shader invocation may run, where the driver caps them: Mesa's
    /// llvmpipe (lavapipe) stops every loop of an invocation after 65,535 iterations in all
    /// (`LP_MAX_TGSI_LOOP_ITERATIONS`), silently. `None` on hardware drivers.
    loop_budget: Option<u64>,
    /// Errors reported by wgpu outside an error scope, taken after each submission.
    uncaptured: Arc<Mutex<Option<String>>>,
    banded_align: banded_align::Kernel,
    pair_hmm: pair_hmm::Kernel,
}

impl Gpu {
    /// Opens the preferred adapter. With `allow_software == false` a software adapter
    /// (lavapipe) is refused, as `auto` wants.
    pub fn new(allow_software: bool) -> Result<Gpu> {
        let instance = instance();
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            ..Default::default()
        }))
        .map_err(|e| Error::backend("gpu", format!("no GPU adapter: {e}")))?;
        let r = report(&adapter);
        if r.software && !allow_software {
            return Err(Error::backend(
                "gpu",
                format!(
                    "only a software adapter is present ({}), which is slower than the CPU backends",
                    r.name
                ),
            ));
        }
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("genoa"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::backend("gpu", format!("{}: cannot open the device: {e}", r.name)))?;
        let uncaptured = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            tracing::error!("wgpu: {e}");
            if let Ok(mut slot) = sink.lock() {
                slot.get_or_insert_with(|| e.to_string());
            }
        }));
        let banded_align = banded_align::Kernel::new(&device)?;
        let pair_hmm = pair_hmm::Kernel::new(&device)?;
        Ok(Gpu {
            name: format!("gpu-{} ({})", r.backend, r.name),
            device,
            queue,
            limits,
            binding_cap: 256 << 20,
            loop_budget: r.name.contains("llvmpipe").then_some(60_000),
            uncaptured,
            banded_align,
            pair_hmm,
        })
    }

    /// Fails with the first uncaptured wgpu error, if any happened.
    fn check(&self) -> Result<()> {
        match self.uncaptured.lock().ok().and_then(|mut e| e.take()) {
            Some(e) => Err(Error::backend(&self.name, e)),
            None => Ok(()),
        }
    }

    /// Largest binding this backend uses (the adapter's limit, at most 256 MiB, or less when
    /// [`Gpu::limit_binding`] asked for less).
    fn max_binding(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.binding_cap)
    }

    /// Caps every buffer binding at `bytes` (at least 4 KiB): batches are then split into more
    /// dispatches. For sharing a device with other work, and for tests of the splitting.
    pub fn limit_binding(&mut self, bytes: u64) {
        self.binding_cap = bytes.max(4096);
    }

    /// A 2-D grid of workgroups covering `invocations`.
    fn grid(&self, invocations: u32) -> (u32, u32) {
        grid(
            invocations,
            WORKGROUP,
            self.limits.max_compute_workgroups_per_dimension,
        )
    }

    /// Compiles a shader and its pipeline inside an error scope.
    fn pipeline(
        device: &wgpu::Device,
        stem: &str,
        source: &str,
        layout: &wgpu::BindGroupLayout,
    ) -> Result<wgpu::ComputePipeline> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(stem),
            source: wgpu::ShaderSource::Wgsl(std::borrow::Cow::Borrowed(source)),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(stem),
            bind_group_layouts: &[Some(layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(stem),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &[("WG", f64::from(WORKGROUP))],
                zero_initialize_workgroup_memory: true,
            },
            cache: None,
        });
        match pollster::block_on(scope.pop()) {
            Some(e) => Err(Error::backend("gpu", format!("shader {stem}: {e}"))),
            None => Ok(pipeline),
        }
    }

    /// Reads back `size` bytes of `buffer` (which must have `MAP_READ`) after `submission`.
    fn read_back(
        &self,
        buffer: &wgpu::Buffer,
        size: u64,
        submission: wgpu::SubmissionIndex,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let slice = buffer.slice(..size);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: None,
            })
            .map_err(|e| Error::backend(&self.name, format!("device poll: {e}")))?;
        self.check()?;
        rx.recv()
            .map_err(|_| Error::backend(&self.name, "buffer mapping was abandoned"))?
            .map_err(|e| Error::backend(&self.name, format!("buffer mapping: {e}")))?;
        {
            let view = slice
                .get_mapped_range()
                .map_err(|e| Error::backend(&self.name, format!("mapped range: {e}")))?;
            out.clear();
            out.extend_from_slice(&view);
        }
        buffer.unmap();
        Ok(())
    }
}

impl Backend for Gpu {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn banded_align(
        &self,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()> {
        let _span = genoa_core::profile::span(genoa_core::profile::Stage::AlignKernel);
        self.banded_align.run(self, batch, params, out)
    }

    fn pair_hmm(&self, batch: &HmmBatch, out: &mut HmmResults) -> Result<()> {
        let _span = genoa_core::profile::span(genoa_core::profile::Stage::HmmKernel);
        self.pair_hmm.run(self, batch, out)
    }

    /// Also for a software adapter (lavapipe), so the tests run the overlapped path.
    fn device_bound(&self) -> bool {
        true
    }
}

/// A kernel's compiled pipeline and its bind group layout: one buffer per binding, numbered in
/// order.
pub(crate) struct Compiled {
    stem: &'static str,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl Compiled {
    /// Compiles `source` (entry point `main`) with bindings `0..` of the given kinds.
    pub(crate) fn new(
        device: &wgpu::Device,
        stem: &'static str,
        source: &str,
        bindings: &[wgpu::BufferBindingType],
    ) -> Result<Compiled> {
        let entries: Vec<_> = bindings
            .iter()
            .enumerate()
            .map(|(i, &ty)| entry(i as u32, ty))
            .collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(stem),
            entries: &entries,
        });
        let pipeline = Gpu::pipeline(device, stem, source, &layout)?;
        Ok(Compiled {
            stem,
            layout,
            pipeline,
        })
    }

    /// Binds `buffers` (binding `i` = `buffers[i]`), dispatches `groups` workgroups, copies each
    /// `(buffer, bytes)` of `outputs` into `staging` one after the other, and reads `staging`
    /// back into `host`.
    pub(crate) fn run(
        &self,
        gpu: &Gpu,
        buffers: &[&wgpu::Buffer],
        groups: (u32, u32),
        outputs: &[(&wgpu::Buffer, u64)],
        staging: &wgpu::Buffer,
        host: &mut Vec<u8>,
    ) -> Result<()> {
        let entries: Vec<_> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.stem),
            layout: &self.layout,
            entries: &entries,
        });
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some(self.stem),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(self.stem),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
        let mut offset = 0;
        for &(buffer, bytes) in outputs {
            encoder.copy_buffer_to_buffer(buffer, 0, staging, offset, bytes);
            offset += bytes;
        }
        let submission = gpu.queue.submit([encoder.finish()]);
        gpu.read_back(staging, offset, submission, host)
    }
}

/// Appends `bytes` to `words` four to a little-endian word (the last one zero-padded), as the
/// shaders read base codes.
pub(crate) fn pack_bytes(bytes: &[u8], words: &mut Vec<u32>) {
    words.extend(bytes.chunks(4).map(|c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        u32::from_le_bytes(w)
    }));
}

/// A compute-visible buffer entry of a bind group layout.
fn entry(binding: u32, ty: wgpu::BufferBindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// A device buffer that grows on demand and is reused across batches.
struct Reusable {
    usage: wgpu::BufferUsages,
    label: &'static str,
    buffer: Option<wgpu::Buffer>,
}

impl Reusable {
    fn new(label: &'static str, usage: wgpu::BufferUsages) -> Self {
        Reusable {
            usage,
            label,
            buffer: None,
        }
    }

    /// The buffer, grown to hold `data`, with `data` written at its start.
    fn upload(&mut self, gpu: &Gpu, data: &[u8]) -> &wgpu::Buffer {
        let buffer = self.get(&gpu.device, data.len() as u64);
        gpu.queue.write_buffer(buffer, 0, data);
        buffer
    }

    /// The buffer, at least `size` bytes (rounded up to a power of two, at least 256).
    fn get(&mut self, device: &wgpu::Device, size: u64) -> &wgpu::Buffer {
        let size = size.max(256).next_power_of_two();
        if self.buffer.as_ref().is_none_or(|b| b.size() < size) {
            self.buffer = Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(self.label),
                size,
                usage: self.usage,
                mapped_at_creation: false,
            }));
        }
        self.buffer.as_ref().expect("just created")
    }
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn grids_stay_under_the_dimension_limit_and_cover_everything() {
        for (n, wg, max) in [
            (1, 64, 65_535),
            (64 * 65_535, 64, 65_535),
            (64 * 65_535 + 1, 64, 65_535),
            (u32::MAX, 64, 65_535),
            (40, 1, 7),
        ] {
            let (x, y) = grid(n, wg, max);
            assert!(x <= max && y <= max, "{n}: {x}x{y}");
            assert!(
                u64::from(x) * u64::from(y) * u64::from(wg) >= u64::from(n),
                "{n}: {x}x{y} too small"
            );
        }
    }
}
