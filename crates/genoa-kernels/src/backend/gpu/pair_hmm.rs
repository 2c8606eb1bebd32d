//! Host side of `shaders/pair_hmm.wgsl`: computes every read's row coefficients (the float work
//! all backends share, once, on the host), packs read × haplotype pairs into device buffers,
//! splits them into dispatches under the adapter's binding and workgroup limits, and turns the
//! device's scaled sums into likelihoods. Buffers are kept and reused across batches.

use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use crate::backend::gpu::{Compiled, Gpu, Reusable, pack_bytes};
use crate::error::{Error, Result};
use crate::kernel::pair_hmm::{
    COEFS, HmmBatch, HmmResults, RowCoefs, ScaledSum, all_coefficients, validate,
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
    /// First word of the pair's `3·(n + 1)` scratch words.
    scratch_off: u32,
    _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuOut {
    /// The bits of the `f32` sum.
    sum: u32,
    exponent: i32,
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
                let s = 3 * (n + 1);
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
                    b.host_coefs.extend(row.iter().map(|c| c.to_bits()));
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
            scratch += 3 * (u64::from(hs.len) + 1);
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
                let sum = ScaledSum::new(f32::from_bits(r.sum), r.exponent);
                out.log10[p.out] = sum.log10(batch.haps[p.hap].len);
            }
        }
        b.host = host;
        read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::pair_hmm::FLOOR;

    /// The shader's binary32 arithmetic alone, with an entry point that applies `fmul` and
    /// `fadd` to operand pairs.
    fn arithmetic_shader() -> String {
        let src = crate::backend::shaders::PAIR_HMM;
        let begin = src
            .find("// --- binary32 arithmetic")
            .expect("begin marker");
        let end = src
            .find("// --- end of the binary32 arithmetic")
            .expect("end marker");
        format!(
            "override WG: u32 = 64u;\n{}\n{}",
            &src[begin..end],
            "@group(0) @binding(0) var<storage, read> ops: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> outs: array<vec2<u32>>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * 1024u + wid.x) * WG + lid;
    if i < arrayLength(&ops) {
        outs[i] = vec2<u32>(fmul(ops[i].x, ops[i].y), fadd(ops[i].x, ops[i].y));
    }
}
"
        )
    }

    /// A positive normal f32 with biased exponent `e` and fraction `f`.
    fn float(e: u32, f: u32) -> f32 {
        f32::from_bits((e << 23) | (f & 0x7f_ffff))
    }

    /// Operand pairs inside the domain the contract guarantees (normal, non-negative, normal
    /// results): random ones, and the cases rounding gets wrong if anything is off — exact
    /// ties of products and sums, sums that carry into the exponent with bits shifted out,
    /// operands far apart, zeros.
    fn operands() -> Vec<(f32, f32)> {
        let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
        let mut next = move || rng.u64(..);
        let mut ops = vec![(0.0, 0.0), (0.0, 1.0), (3.5, 0.0), (FLOOR, 1.0)];
        for _ in 0..100_000 {
            let r = next();
            // Exponents 2^-60..2^60: every product and sum stays normal.
            let (ea, eb) = (67 + (r % 121) as u32, 67 + ((r >> 8) % 121) as u32);
            ops.push((float(ea, (r >> 16) as u32), float(eb, (r >> 40) as u32)));
        }
        for _ in 0..100_000 {
            // Sums that carry: a mantissa near all ones plus a smaller value 0..30 binades down.
            let r = next();
            let e = 100 + (r % 20) as u32;
            let a = float(e, 0x7f_ffff - ((r >> 8) as u32 & 0x3ffff));
            let b = float(e - ((r >> 32) % 31) as u32, (r >> 40) as u32);
            ops.push((a, b));
        }
        for k in 0..23u32 {
            for odd in (1..200u32).step_by(2) {
                // (1 + odd·2^(22−k)·2^-23)·(1 + 2^k·2^-23): the product lies exactly halfway.
                let a = float(127, (odd << (22 - k)) & 0x7f_ffff);
                let b = float(127, 1 << k);
                ops.push((a, b));
                ops.push((a * 8.0, b * 0.25));
                // 1.x + half an ulp of it, and + just above / below half an ulp.
                let c = float(127, odd);
                let half = float(127 - 24, 0);
                ops.push((c, half));
                ops.push((c, float(127 - 24, 1)));
                ops.push((c, float(127 - 25, 0x7f_ffff)));
            }
        }
        ops
    }

    #[test]
    fn shader_arithmetic_is_ieee_binary32() {
        let gpu = match Gpu::new(true) {
            Ok(g) => g,
            Err(e) => {
                if std::env::var("GENOA_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                    panic!("GENOA_REQUIRE_GPU=1 but no GPU backend: {e}");
                }
                eprintln!("SKIPPED (no GPU adapter: {e})");
                return;
            }
        };
        use wgpu::BufferBindingType::Storage;
        use wgpu::BufferUsages as U;
        let source = arithmetic_shader();
        let compiled = Compiled::new(
            &gpu.device,
            "pair_hmm_arith",
            &source,
            &[Storage { read_only: true }, Storage { read_only: false }],
        )
        .expect("the arithmetic part compiles alone");
        let ops = operands();
        for chunk in ops.chunks(64 * 1024) {
            let words: Vec<u32> = chunk
                .iter()
                .flat_map(|(a, b)| [a.to_bits(), b.to_bits()])
                .collect();
            let bytes = (words.len() * 4) as u64;
            let mut input = Reusable::new("ops", U::STORAGE | U::COPY_DST);
            let mut output = Reusable::new("outs", U::STORAGE | U::COPY_SRC);
            let mut staging = Reusable::new("staging", U::MAP_READ | U::COPY_DST);
            let input = input.upload(&gpu, bytemuck::cast_slice(&words));
            let output = output.get(&gpu.device, bytes);
            let staging = staging.get(&gpu.device, bytes);
            let groups = (chunk.len() as u32).div_ceil(64);
            let mut host = Vec::new();
            compiled
                .run(
                    &gpu,
                    &[input, output],
                    (groups.min(1024), groups.div_ceil(1024)),
                    &[(output, bytes)],
                    staging,
                    &mut host,
                )
                .expect("dispatch");
            let got: &[u32] = bytemuck::cast_slice(&host[..bytes as usize]);
            for (k, &(a, b)) in chunk.iter().enumerate() {
                assert_eq!(got[2 * k], (a * b).to_bits(), "fmul({a:e}, {b:e})");
                assert_eq!(got[2 * k + 1], (a + b).to_bits(), "fadd({a:e}, {b:e})");
            }
        }
    }
}
