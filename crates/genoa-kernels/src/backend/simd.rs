//! The SIMD CPU backend: kernels written once over lane types (`lanes::Lanes`,
//! `lanes::LanesF32`), instantiated per instruction set inside `#[target_feature]` functions.
//! The instruction set is detected once, at construction, and kept in the backend value; one
//! `unsafe` dispatch point per kernel (`Simd::chunk`, `Simd::hmm`). aarch64 NEON is not built
//! (no machine of ours can build or test it): it needs an `Isa` variant, lane implementations
//! and entry points; on aarch64 the backend reports that no supported instruction set was
//! found and `auto` uses scalar.
//!
//! `detect` takes the widest instruction set for every kernel, except `banded_align` on AMD
//! CPUs, which runs AVX2 rather than AVX-512 (`docs/decisions/0002-avx2-for-banded-align-on-amd.md`).
//! `available` lists every instruction set, each used for every kernel, for tests and benches.

pub mod banded_align;
pub mod lanes;
pub mod pair_hmm;

use crate::backend::{Backend, CpuFeatures, run_chunked, run_hmm_chunked};
use crate::error::{Error, Result};
use crate::kernel::banded_align::{AlignBatch, AlignPair, AlignParams, AlignResults};
use crate::kernel::pair_hmm::{HmmBatch, HmmResults, RowCoefs, ScaledSum};

/// Instruction sets with an entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Sse41,
    Avx2,
    Avx512bw,
}

impl Isa {
    fn name(self) -> &'static str {
        match self {
            Isa::Sse41 => "sse4.1",
            Isa::Avx2 => "avx2",
            Isa::Avx512bw => "avx512bw",
        }
    }
}

/// Whether the CPU's vendor is AMD (CPUID leaf 0 vendor string `AuthenticAMD`).
fn amd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // CPUID leaf 0 exists on every x86_64 CPU.
        let r = std::arch::x86_64::__cpuid(0);
        let mut vendor = [0u8; 12];
        vendor[..4].copy_from_slice(&r.ebx.to_le_bytes());
        vendor[4..8].copy_from_slice(&r.edx.to_le_bytes());
        vendor[8..].copy_from_slice(&r.ecx.to_le_bytes());
        &vendor == b"AuthenticAMD"
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The SIMD backend.
#[derive(Clone, Copy, Debug)]
pub struct Simd {
    isa: Isa,
    /// What `banded_align` runs on (see the module header).
    banded_isa: Isa,
}

impl Simd {
    /// The best instruction set of this CPU, or an error naming what was found.
    pub fn detect() -> Result<Simd> {
        let f = CpuFeatures::detect();
        let isa = if f.avx512bw {
            Isa::Avx512bw
        } else if f.avx2 {
            Isa::Avx2
        } else if f.sse41 {
            Isa::Sse41
        } else {
            return Err(Error::backend(
                "simd",
                format!(
                    "no supported instruction set on this CPU (detected: {})",
                    f.best()
                ),
            ));
        };
        let banded_isa = if isa == Isa::Avx512bw && amd() {
            Isa::Avx2
        } else {
            isa
        };
        Ok(Simd { isa, banded_isa })
    }

    /// Every instruction set this CPU can run, best first (for tests and benches).
    pub fn available() -> Vec<Simd> {
        let f = CpuFeatures::detect();
        let mut v = Vec::new();
        if f.avx512bw {
            v.push(Simd::only(Isa::Avx512bw));
        }
        if f.avx2 {
            v.push(Simd::only(Isa::Avx2));
        }
        if f.sse41 {
            v.push(Simd::only(Isa::Sse41));
        }
        v
    }

    /// One instruction set for every kernel.
    fn only(isa: Isa) -> Simd {
        Simd {
            isa,
            banded_isa: isa,
        }
    }

    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// One chunk of problems on this backend's instruction set.
    fn chunk(&self, batch: &AlignBatch, pairs: &[AlignPair], params: &AlignParams) -> AlignResults {
        let mut out = AlignResults::default();
        let mut s = banded_align::Scratch::default();
        // SAFETY: `self.banded_isa` was chosen from `is_x86_feature_detected!` in
        // `detect`/`available` (AVX2 in place of AVX-512 only on a CPU that has both), so the
        // CPU running this has every feature the entry point is compiled for.
        unsafe {
            match self.banded_isa {
                Isa::Sse41 => entry::sse41(batch, pairs, params, &mut s, &mut out),
                Isa::Avx2 => entry::avx2(batch, pairs, params, &mut s, &mut out),
                Isa::Avx512bw => entry::avx512bw(batch, pairs, params, &mut s, &mut out),
            }
        }
        out
    }

    /// The results of `reads` against `hap` on this backend's instruction set.
    fn hmm(
        &self,
        reads: &[&[RowCoefs]],
        id: (u64, usize),
        hap: &[u8],
        s: &mut pair_hmm::Scratch,
        out: &mut Vec<ScaledSum>,
    ) {
        // SAFETY: as in `chunk`: the ISA was detected on this CPU.
        unsafe {
            match self.isa {
                Isa::Sse41 => entry::hmm_sse41(reads, id, hap, s, out),
                Isa::Avx2 => entry::hmm_avx2(reads, id, hap, s, out),
                Isa::Avx512bw => entry::hmm_avx512bw(reads, id, hap, s, out),
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod entry {
    use super::banded_align::{Scratch, align_group, fits_i16};
    use super::lanes::{
        Avx2, Avx2f, Avx2x16, Avx512, Avx512f, Avx512x16, Lanes, Sse41, Sse41f, Sse41x16, X2,
    };
    use super::pair_hmm;
    use crate::kernel::banded_align::{AlignBatch, AlignPair, AlignParams, AlignResults};
    use crate::kernel::pair_hmm::{RowCoefs, ScaledSum};

    macro_rules! entry_point {
        ($name:ident, $features:literal, $narrow:ty, $wide:ty) => {
            #[target_feature(enable = $features)]
            pub unsafe fn $name(
                batch: &AlignBatch,
                pairs: &[AlignPair],
                params: &AlignParams,
                s: &mut Scratch,
                out: &mut AlignResults,
            ) {
                for group in pairs.chunks(<$narrow>::LANES) {
                    // SAFETY: this function is compiled for, and only called on, this ISA.
                    unsafe {
                        if fits_i16(group, params) {
                            align_group::<$narrow>(
                                batch,
                                group,
                                params,
                                s,
                                &mut out.results,
                                &mut out.cigar,
                            );
                        } else {
                            for sub in group.chunks(<$wide>::LANES) {
                                align_group::<$wide>(
                                    batch,
                                    sub,
                                    params,
                                    s,
                                    &mut out.results,
                                    &mut out.cigar,
                                );
                            }
                        }
                    }
                }
            }
        };
    }
    entry_point!(sse41, "sse4.1", Sse41x16, Sse41);
    entry_point!(avx2, "avx2", Avx2x16, Avx2);
    entry_point!(avx512bw, "avx512f,avx512bw", Avx512x16, Avx512);

    macro_rules! hmm_entry_point {
        ($name:ident, $features:literal, $lanes:ty) => {
            #[target_feature(enable = $features)]
            pub unsafe fn $name(
                reads: &[&[RowCoefs]],
                id: (u64, usize),
                hap: &[u8],
                s: &mut pair_hmm::Scratch,
                out: &mut Vec<ScaledSum>,
            ) {
                // SAFETY: this function is compiled for, and only called on, this ISA.
                unsafe { pair_hmm::forward_reads::<$lanes>(reads, id, hap, s, out) }
            }
        };
    }
    hmm_entry_point!(hmm_sse41, "sse4.1", X2<Sse41f>);
    hmm_entry_point!(hmm_avx2, "avx2", X2<Avx2f>);
    hmm_entry_point!(hmm_avx512bw, "avx512f,avx512bw", X2<Avx512f>);
}

#[cfg(not(target_arch = "x86_64"))]
mod entry {
    use super::banded_align::Scratch;
    use crate::kernel::banded_align::{AlignBatch, AlignPair, AlignParams, AlignResults};
    // No x86 instruction set is ever detected here, so these are unreachable by construction.
    pub unsafe fn sse41(
        _: &AlignBatch,
        _: &[AlignPair],
        _: &AlignParams,
        _: &mut Scratch,
        _: &mut AlignResults,
    ) {
    }
    pub use sse41 as avx2;
    pub use sse41 as avx512bw;
    pub unsafe fn hmm_sse41(
        _: &[&[crate::kernel::pair_hmm::RowCoefs]],
        _: (u64, usize),
        _: &[u8],
        _: &mut super::pair_hmm::Scratch,
        _: &mut Vec<crate::kernel::pair_hmm::ScaledSum>,
    ) {
    }
    pub use hmm_sse41 as hmm_avx2;
    pub use hmm_sse41 as hmm_avx512bw;
}

impl Backend for Simd {
    fn name(&self) -> String {
        if self.banded_isa == self.isa {
            format!("simd-{}", self.isa.name())
        } else {
            format!(
                "simd-{} (banded_align: {})",
                self.isa.name(),
                self.banded_isa.name()
            )
        }
    }

    fn banded_align(
        &self,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()> {
        run_chunked(batch, params, out, |c| self.chunk(batch, c, params))
    }

    fn pair_hmm(&self, batch: &HmmBatch, out: &mut HmmResults) -> Result<()> {
        run_hmm_chunked(batch, out, |coefs, task, values| {
            let hap = batch.hap(task.hap);
            let reads: Vec<&[RowCoefs]> = (task.reads.0..task.reads.1)
                .map(|r| batch.read_coefs(coefs, r))
                .collect();
            let mut sums = Vec::with_capacity(reads.len());
            thread_local! {
                static SCRATCH: std::cell::RefCell<pair_hmm::Scratch> = Default::default();
            }
            let id = (task.generation, task.reads.0);
            SCRATCH.with_borrow_mut(|s| self.hmm(&reads, id, hap, s, &mut sums));
            values.extend(sums.iter().map(|f| f.log10(hap.len() as u32)));
        })
    }
}
