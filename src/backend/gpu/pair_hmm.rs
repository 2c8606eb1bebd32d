//! Host side of `shaders/pair_hmm.wgsl`: computes every read's row coefficients (the float work
//! all backends share, once, on the host), packs read × haplotype pairs into device buffers,
//! splits them into dispatches under the adapter's binding and workgroup limits, and turns the
//! device's fixed-point sums into likelihoods. Buffers are kept and reused across batches.

use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use crate::backend::gpu::{Compiled, Gpu, Reusable, pack_bytes};
use crate::error::{Error, Result};
use crate::kernel::pair_hmm::{
    COEFS, FixedResult, HmmBatch, HmmResults, RowCoefs, all_coefficients, validate,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuParams {
    n_pairs: u32,
    x_groups: u32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuPair {
    coef_off: u32,
    m: u32,
    hap_off: u32,
    n: u32,
    /// First word of the pair's `6·(n + 1)` scratch words (an even number).
    scratch_off: u32,
    _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuOut {
    sum_lo: u32,
    sum_hi: u32,
    exponent: i32,
    _pad: u32,
}

/// One read × haplotype problem: batch indices and where its likelihood goes.
#[derive(Clone, Copy)]
struct Problem {
    read: usize,
    hap: usize,
    out: usize,
}

struct Buffers {
    params: Reusable,
    pairs: Reusable,
    coefs: Reusable,
    haps: Reusable,
    scratch: Reusable,
    results: Reusable,
    staging: Reusable,
    host: Vec<u8>,
    host_pairs: Vec<GpuPair>,
    host_coefs: Vec<u32>,
    host_haps: Vec<u32>,
}

/// The compiled kernel and its buffers.
pub struct Kernel {
    compiled: Compiled,
    buffers: Mutex<Buffers>,
}

/// Loop iterations one invocation runs for an `m × n` problem, with margin (compared with
/// `Gpu::loop_budget`).
fn iterations(m: u32, n: u32) -> u64 {
    u64::from(m) * (u64::from(n) + 6) + u64::from(n) + 64
}

impl Kernel {
    pub fn new(device: &wgpu::Device) -> Result<Kernel> {
        use wgpu::BufferBindingType::{Storage, Uniform};
        let (read, write) = (Storage { read_only: true }, Storage { read_only: false });
        let compiled = Compiled::new(
            device,
            "pair_hmm",
            crate::backend::shaders::PAIR_HMM,
            &[Uniform, read, read, read, write, write],
        )?;
        use wgpu::BufferUsages as U;
        let storage = U::STORAGE | U::COPY_DST;
        Ok(Kernel {
            compiled,
            buffers: Mutex::new(Buffers {
                params: Reusable::new("pair_hmm.params", U::UNIFORM | U::COPY_DST),
                pairs: Reusable::new("pair_hmm.pairs", storage),
                coefs: Reusable::new("pair_hmm.coefs", storage),
                haps: Reusable::new("pair_hmm.haps", storage),
                scratch: Reusable::new("pair_hmm.scratch", U::STORAGE),
                results: Reusable::new("pair_hmm.results", U::STORAGE | U::COPY_SRC),
                staging: Reusable::new("pair_hmm.staging", U::MAP_READ | U::COPY_DST),
                host: Vec::new(),
                host_pairs: Vec::new(),
                host_coefs: Vec::new(),
                host_haps: Vec::new(),
            }),
        })
    }

    /// Runs the whole batch. Degenerate pairs (empty read or haplotype) and, on a driver that
    /// caps loop iterations (see `Gpu::loop_budget`), pairs too large for the cap are computed
    /// on the host by the scalar spec, which gives the same result by contract.
    pub fn run(&self, gpu: &Gpu, batch: &HmmBatch, out: &mut HmmResults) -> Result<()> {
        validate(batch)?;
        let coefs = all_coefficients(batch);
        out.log10.clear();
        out.log10.resize(batch.pairs(), 0.0);
        let mut device = Vec::new();
        let mut host_scratch = crate::backend::scalar::pair_hmm::Scratch::default();
        for g in &batch.regions {
            for r in 0..g.reads as usize {
                for h in 0..g.haps as usize {
                    let p = Problem {
                        read: g.first_read as usize + r,
                        hap: g.first_hap as usize + h,
                        out: g.out_offset as usize + r * g.haps as usize + h,
                    };
                    let (m, n) = (batch.reads[p.read].len, batch.haps[p.hap].len);
                    let fits = gpu.loop_budget.is_none_or(|b| iterations(m, n) <= b);
                    if m > 0 && n > 0 && fits {
                        device.push(p);
                    } else {
                        out.log10[p.out] = crate::backend::scalar::pair_hmm::forward(
                            batch.read_coefs(&coefs, p.read),
                            batch.hap(p.hap),
                            &mut host_scratch,
                        )
                        .log10(n);
                    }
                }
            }
        }
        let mut buffers = self.buffers.lock().map_err(|_| {
            Error::backend(
                gpu.name.as_str(),
                "buffer lock poisoned by an earlier failure",
            )
        })?;
        let max_words = gpu.max_binding() / 4;
        let max_pairs = (max_words / 8).min(1 << 20) as usize;
        let mut start = 0;
        while start < device.len() {
            // Grow the chunk while every buffer stays within one binding.
            let (mut scratch, mut coef_words, mut hap_words) = (0u64, 0u64, 0u64);
            let (mut last_read, mut last_hap) = (usize::MAX, usize::MAX);
            let mut end = start;
            while end < device.len() && end - start < max_pairs {
                let p = device[end];
                let (m, n) = (
                    u64::from(batch.reads[p.read].len),
                    u64::from(batch.haps[p.hap].len),
                );
                let s = 6 * (n + 1);
                let c = if p.read == last_read {
                    0
                } else {
                    m * COEFS as u64
                };
                let h = if p.hap == last_hap {
                    0
                } else {
                    n.div_ceil(4) + 1
                };
                let within = |x: u64| x <= max_words;
                if !(within(scratch + s) && within(coef_words + c) && within(hap_words + h)) {
                    if end == start {
                        return Err(Error::backend(
                            gpu.name.as_str(),
                            format!(
                                "pair_hmm: one problem needs more than the adapter's {} MiB binding limit",
                                gpu.max_binding() >> 20
                            ),
                        ));
                    }
                    break;
                }
                scratch += s;
                coef_words += c;
                hap_words += h;
                last_read = p.read;
                last_hap = p.hap;
                end += 1;
            }
            self.dispatch(gpu, batch, &coefs, &device[start..end], &mut buffers, out)?;
            start = end;
        }
        Ok(())
    }

    fn dispatch(
        &self,
        gpu: &Gpu,
        batch: &HmmBatch,
        coefs: &[RowCoefs],
        problems: &[Problem],
        b: &mut Buffers,
        out: &mut HmmResults,
    ) -> Result<()> {
        let device = &gpu.device;
        let n_pairs = problems.len();
        // Host packing: each read's coefficient rows and each haplotype once per dispatch
        // (consecutive problems share them).
        b.host_pairs.clear();
        b.host_coefs.clear();
        b.host_haps.clear();
        let (mut last_read, mut last_hap) = (usize::MAX, usize::MAX);
        let (mut coef_off, mut hap_off) = (0u32, 0u32);
        let mut scratch = 0u64;
        for p in problems {
            let (rs, hs) = (batch.reads[p.read], batch.haps[p.hap]);
            if p.read != last_read {
                coef_off = (b.host_coefs.len() / COEFS) as u32;
                for row in batch.read_coefs(coefs, p.read) {
                    b.host_coefs.extend_from_slice(row);
                }
                last_read = p.read;
            }
            if p.hap != last_hap {
                // Each haplotype starts on a word boundary; `hap_off` counts bytes.
                hap_off = (b.host_haps.len() * 4) as u32;
                pack_bytes(batch.hap(p.hap), &mut b.host_haps);
                last_hap = p.hap;
            }
            b.host_pairs.push(GpuPair {
                coef_off,
                m: rs.len,
                hap_off,
                n: hs.len,
                scratch_off: scratch as u32,
                _pad: [0; 3],
            });
            scratch += 6 * (u64::from(hs.len) + 1);
        }
        if b.host_haps.is_empty() {
            b.host_haps.push(0);
        }
        if b.host_coefs.is_empty() {
            b.host_coefs.push(0);
        }
        let (x, y) = gpu.grid(n_pairs as u32);
        let gp = GpuParams {
            n_pairs: n_pairs as u32,
            x_groups: x,
            _pad: [0; 2],
        };
        let results_bytes = (n_pairs * std::mem::size_of::<GpuOut>()) as u64;
        let params_buf = b.params.upload(gpu, bytemuck::bytes_of(&gp));
        let pairs_buf = b.pairs.upload(gpu, bytemuck::cast_slice(&b.host_pairs));
        let coefs_buf = b.coefs.upload(gpu, bytemuck::cast_slice(&b.host_coefs));
        let haps_buf = b.haps.upload(gpu, bytemuck::cast_slice(&b.host_haps));
        let scratch_buf = b.scratch.get(device, scratch * 4);
        let results_buf = b.results.get(device, results_bytes);
        let staging = b.staging.get(device, results_bytes);
        let mut host = std::mem::take(&mut b.host);
        let read = self.compiled.run(
            gpu,
            &[
                params_buf,
                pairs_buf,
                coefs_buf,
                haps_buf,
                scratch_buf,
                results_buf,
            ],
            (x, y),
            &[(results_buf, results_bytes)],
            staging,
            &mut host,
        );
        if read.is_ok() {
            let results: &[GpuOut] = bytemuck::cast_slice(&host[..results_bytes as usize]);
            for (r, p) in results.iter().zip(problems) {
                let fixed = FixedResult {
                    sum: u64::from(r.sum_lo) | (u64::from(r.sum_hi) << 32),
                    exponent: r.exponent,
                };
                out.log10[p.out] = fixed.log10(batch.haps[p.hap].len);
            }
        }
        b.host = host;
        read
    }
}
