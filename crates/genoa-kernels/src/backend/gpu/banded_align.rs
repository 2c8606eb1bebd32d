//! Host side of `shaders/banded_align.wgsl`: packs a batch into device buffers, splits it into
//! dispatches that stay under the adapter's binding and workgroup limits, and unpacks results
//! and CIGARs into the caller's [`AlignResults`]. Buffers are kept and reused across batches.

use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use crate::backend::gpu::{Compiled, Gpu, Reusable, pack_bytes};
use crate::error::{Error, Result};
use crate::genome::CigarOp;
use crate::kernel::banded_align::{
    AlignBatch, AlignPair, AlignParams, AlignResult, AlignResults, Mode, validate,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuParams {
    mode: u32,
    match_score: i32,
    mismatch: i32,
    n_penalty: i32,
    gap_open: i32,
    gap_extend: i32,
    band: u32,
    end_bonus: i32,
    n_pairs: u32,
    zdrop: i32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuPair {
    q_off: u32,
    q_len: u32,
    t_off: u32,
    t_len: u32,
    diagonal: i32,
    cigar_off: u32,
    scratch_off: u32,
    dir_off: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuOut {
    score: i32,
    q_start: u32,
    q_end: u32,
    t_start: u32,
    t_end: u32,
    n_runs: u32,
    zdropped: u32,
    _pad: u32,
}

/// One dispatch's share of a batch: its pairs, and the span of the batch's bases they read.
struct Slice {
    pairs: std::ops::Range<usize>,
    bases: std::ops::Range<u64>,
}

struct Buffers {
    params: Reusable,
    pairs: Reusable,
    bases: Reusable,
    scratch: Reusable,
    dirs: Reusable,
    results: Reusable,
    cigar: Reusable,
    staging: Reusable,
    host: Vec<u8>,
    host_pairs: Vec<GpuPair>,
    host_bases: Vec<u32>,
}

/// The compiled kernel and its buffers.
pub struct Kernel {
    compiled: Compiled,
    buffers: Mutex<Buffers>,
}

/// Loop iterations one invocation runs for a problem (initialisation, fill, traceback), with
/// margin: what [`Gpu::loop_budget`] is compared with.
fn iterations(p: &AlignPair, band: u32) -> u64 {
    let w = u64::from(2 * band + 1);
    3 * (w + 1)
        + u64::from(p.query_len) * (w + 2)
        + u64::from(p.query_len)
        + u64::from(p.target_len)
        + 64
}

/// Words of device memory one problem needs: (scratch, dirs, cigar).
fn footprint(q_len: u32, t_len: u32, band: u32) -> (u64, u64, u64) {
    let w = u64::from(2 * band + 1);
    (
        2 * (w + 1),
        (u64::from(q_len) * w).div_ceil(8),
        u64::from(q_len) + u64::from(t_len) + 1,
    )
}

impl Kernel {
    pub fn new(device: &wgpu::Device) -> Result<Kernel> {
        use wgpu::BufferBindingType::{Storage, Uniform};
        let (read, write) = (Storage { read_only: true }, Storage { read_only: false });
        let compiled = Compiled::new(
            device,
            "banded_align",
            crate::backend::shaders::BANDED_ALIGN,
            &[Uniform, read, read, write, write, write, write],
        )?;
        use wgpu::BufferUsages as U;
        let storage = U::STORAGE | U::COPY_DST;
        Ok(Kernel {
            compiled,
            buffers: Mutex::new(Buffers {
                params: Reusable::new("banded_align.params", U::UNIFORM | U::COPY_DST),
                pairs: Reusable::new("banded_align.pairs", storage),
                bases: Reusable::new("banded_align.bases", storage),
                scratch: Reusable::new("banded_align.scratch", U::STORAGE),
                dirs: Reusable::new("banded_align.dirs", U::STORAGE),
                results: Reusable::new("banded_align.results", U::STORAGE | U::COPY_SRC),
                cigar: Reusable::new("banded_align.cigar", U::STORAGE | U::COPY_SRC),
                staging: Reusable::new("banded_align.staging", U::MAP_READ | U::COPY_DST),
                host: Vec::new(),
                host_pairs: Vec::new(),
                host_bases: Vec::new(),
            }),
        })
    }

    /// Runs the whole batch, in as many dispatches as the limits require. On a driver that caps
    /// loop iterations per invocation (see `Gpu::loop_budget`) problems too large for the cap
    /// are computed on the host by the scalar spec, which gives the same result by contract.
    pub fn run(
        &self,
        gpu: &Gpu,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()> {
        validate(batch, params)?;
        out.clear();
        if let Some(budget) = gpu.loop_budget {
            let fits = |p: &AlignPair| iterations(p, params.band) <= budget;
            if !batch.pairs.iter().all(fits) {
                return self.run_split(gpu, batch, params, out, fits);
            }
        }
        self.run_device(gpu, batch, params, out)
    }

    fn run_split(
        &self,
        gpu: &Gpu,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
        fits: impl Fn(&AlignPair) -> bool,
    ) -> Result<()> {
        let mut device_batch = AlignBatch::default();
        for p in batch.pairs.iter().filter(|p| fits(p)) {
            device_batch.push(batch.query(p), batch.target(p), p.diagonal);
        }
        let mut device_out = AlignResults::default();
        self.run_device(gpu, &device_batch, params, &mut device_out)?;
        let mut scratch = crate::backend::scalar::banded_align::Scratch::default();
        let mut next = device_out.results.iter();
        for p in &batch.pairs {
            if fits(p) {
                let r = next.next().expect("one device result per fitting problem");
                let offset = out.cigar.len() as u32;
                out.cigar.extend_from_slice(
                    &device_out.cigar
                        [r.cigar_offset as usize..(r.cigar_offset + r.cigar_len) as usize],
                );
                out.results.push(AlignResult {
                    cigar_offset: offset,
                    ..*r
                });
            } else {
                let r = crate::backend::scalar::banded_align::align_one(
                    batch.query(p),
                    batch.target(p),
                    p.diagonal,
                    params,
                    &mut scratch,
                    &mut out.cigar,
                );
                out.results.push(r);
            }
        }
        Ok(())
    }

    /// Runs every problem of `batch` on the device (results appended to `out`).
    fn run_device(
        &self,
        gpu: &Gpu,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()> {
        let max_words = gpu.max_binding() / 4;
        let max_pairs = (max_words / 8).min(1 << 20) as usize;
        let mut buffers = self.buffers.lock().map_err(|_| {
            Error::backend(
                gpu.name.as_str(),
                "buffer lock poisoned by an earlier failure",
            )
        })?;
        let mut start = 0;
        while start < batch.pairs.len() {
            // Grow the chunk while every buffer stays within one binding.
            let (mut scratch, mut dirs, mut cigar) = (0u64, 0u64, 0u64);
            let (mut lo, mut hi) = (u64::MAX, 0u64);
            let mut end = start;
            while end < batch.pairs.len() && end - start < max_pairs {
                let p = &batch.pairs[end];
                let (s, d, c) = footprint(p.query_len, p.target_len, params.band);
                let plo = u64::from(p.query_offset.min(p.target_offset));
                let phi =
                    u64::from((p.query_offset + p.query_len).max(p.target_offset + p.target_len));
                let (nlo, nhi) = (lo.min(plo) & !3, hi.max(phi));
                let within = |x: u64| x <= max_words;
                if end > start
                    && !(within(scratch + s)
                        && within(dirs + d)
                        && within(cigar + c)
                        && within((nhi - nlo).div_ceil(4)))
                {
                    break;
                }
                if end == start && !(within(s) && within(d) && within(c)) {
                    return Err(Error::backend(
                        gpu.name.as_str(),
                        format!(
                            "banded_align: one problem needs more than the adapter's {} MiB binding limit",
                            gpu.max_binding() >> 20
                        ),
                    ));
                }
                scratch += s;
                dirs += d;
                cigar += c;
                lo = nlo;
                hi = nhi;
                end += 1;
            }
            let slice = Slice {
                pairs: start..end,
                bases: lo..hi,
            };
            self.dispatch(gpu, batch, params, slice, &mut buffers, out)?;
            start = end;
        }
        Ok(())
    }

    fn dispatch(
        &self,
        gpu: &Gpu,
        batch: &AlignBatch,
        params: &AlignParams,
        slice: Slice,
        b: &mut Buffers,
        out: &mut AlignResults,
    ) -> Result<()> {
        let device = &gpu.device;
        let (base_lo, base_hi) = (slice.bases.start, slice.bases.end);
        let pairs = &batch.pairs[slice.pairs];
        let n = pairs.len();
        // Host-side packing.
        b.host_pairs.clear();
        let (mut scratch, mut dirs, mut cigar) = (0u64, 0u64, 0u64);
        for p in pairs {
            b.host_pairs.push(GpuPair {
                q_off: (u64::from(p.query_offset) - base_lo) as u32,
                q_len: p.query_len,
                t_off: (u64::from(p.target_offset) - base_lo) as u32,
                t_len: p.target_len,
                diagonal: p.diagonal,
                cigar_off: cigar as u32,
                scratch_off: scratch as u32,
                dir_off: dirs as u32,
            });
            let (s, d, c) = footprint(p.query_len, p.target_len, params.band);
            scratch += s;
            dirs += d;
            cigar += c;
        }
        b.host_bases.clear();
        let bytes = &batch.bases[base_lo as usize..base_hi as usize];
        pack_bytes(bytes, &mut b.host_bases);
        if b.host_bases.is_empty() {
            b.host_bases.push(0);
        }
        let gp = GpuParams {
            mode: match params.mode {
                Mode::Global => 0,
                Mode::Local => 1,
                Mode::Extension => 2,
            },
            match_score: params.match_score,
            mismatch: params.mismatch,
            n_penalty: params.n_penalty,
            gap_open: params.gap_open,
            gap_extend: params.gap_extend,
            band: params.band,
            end_bonus: params.end_bonus,
            n_pairs: n as u32,
            zdrop: params.zdrop,
            _pad: [0; 2],
        };
        let results_bytes = (n * std::mem::size_of::<GpuOut>()) as u64;
        let cigar_bytes = cigar * 4;
        let params_buf = b.params.upload(gpu, bytemuck::bytes_of(&gp));
        let pairs_buf = b.pairs.upload(gpu, bytemuck::cast_slice(&b.host_pairs));
        let bases_buf = b.bases.upload(gpu, bytemuck::cast_slice(&b.host_bases));
        let scratch_buf = b.scratch.get(device, scratch * 4);
        let dirs_buf = b.dirs.get(device, dirs * 4);
        let results_buf = b.results.get(device, results_bytes);
        let cigar_buf = b.cigar.get(device, cigar_bytes);
        let staging = b.staging.get(device, results_bytes + cigar_bytes);
        let mut host = std::mem::take(&mut b.host);
        let read = self.compiled.run(
            gpu,
            &[
                params_buf,
                pairs_buf,
                bases_buf,
                scratch_buf,
                dirs_buf,
                results_buf,
                cigar_buf,
            ],
            gpu.grid(n as u32),
            &[(results_buf, results_bytes), (cigar_buf, cigar_bytes)],
            staging,
            &mut host,
        );
        let unpacked =
            read.and_then(|()| unpack(&host, pairs, &b.host_pairs, results_bytes as usize, out));
        b.host = host;
        unpacked
    }
}

/// Turns the device's results and reversed CIGAR runs into [`AlignResults`].
fn unpack(
    host: &[u8],
    pairs: &[crate::kernel::banded_align::AlignPair],
    gpu_pairs: &[GpuPair],
    results_bytes: usize,
    out: &mut AlignResults,
) -> Result<()> {
    let results: &[GpuOut] = bytemuck::cast_slice(&host[..results_bytes]);
    let runs: &[u32] = bytemuck::cast_slice(&host[results_bytes..]);
    for ((r, gp), p) in results.iter().zip(gpu_pairs).zip(pairs) {
        let cap = (p.query_len + p.target_len + 1) as usize;
        let n = r.n_runs as usize;
        if n > cap {
            return Err(Error::backend(
                "gpu",
                "banded_align: CIGAR overflow (device result corrupt)",
            ));
        }
        let offset = out.cigar.len() as u32;
        for &run in runs[gp.cigar_off as usize..gp.cigar_off as usize + n]
            .iter()
            .rev()
        {
            let op = match run & 0xf {
                0 => CigarOp::Match,
                1 => CigarOp::Ins,
                2 => CigarOp::Del,
                other => {
                    return Err(Error::backend(
                        "gpu",
                        format!("banded_align: unknown CIGAR op {other} from the device"),
                    ));
                }
            };
            out.cigar.push((op, run >> 4));
        }
        out.results.push(AlignResult {
            score: r.score,
            query_start: r.q_start,
            query_end: r.q_end,
            target_start: r.t_start,
            target_end: r.t_end,
            zdropped: r.zdropped != 0,
            cigar_offset: offset,
            cigar_len: n as u32,
        });
    }
    Ok(())
}
