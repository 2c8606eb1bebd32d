//! Lane abstraction of the SIMD backend: 32-bit integer vectors with exactly the operations the
//! kernels use, implemented once per instruction set over `std::arch` intrinsics. Masks are
//! vectors of all-ones / all-zeros lanes.
//!
//! Every method is `unsafe`: it may only run on a CPU with the implementation's instruction
//! set, which the entry points in `backend::simd` guarantee. Each is `#[inline(always)]`, so it
//! is compiled inside the caller's `#[target_feature]` function.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// A vector of `LANES` 32-bit integers.
///
/// # Safety
/// Every method may only run on a CPU with the implementation's instruction set; `load*` and
/// `store` need `LANES` readable / writable elements at the pointer.
#[allow(clippy::missing_safety_doc)] // the contract above holds for every method
pub trait Lanes: Copy {
    const LANES: usize;
    unsafe fn splat(x: i32) -> Self;
    /// Loads `LANES` values from `p` (unaligned).
    unsafe fn load(p: *const i32) -> Self;
    /// Loads `LANES` bytes from `p`, zero-extended.
    unsafe fn load_u8(p: *const u8) -> Self;
    unsafe fn store(self, p: *mut i32);
    /// Stores the low byte of every lane (values must lie in `0..=255`) to `LANES` bytes at `p`.
    unsafe fn store_u8(self, p: *mut u8);
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn max(self, o: Self) -> Self;
    /// All ones where `self > o`.
    unsafe fn gt(self, o: Self) -> Self;
    /// All ones where `self == o`.
    unsafe fn eq(self, o: Self) -> Self;
    unsafe fn and(self, o: Self) -> Self;
    unsafe fn or(self, o: Self) -> Self;
    /// `!self & o`.
    unsafe fn andnot(self, o: Self) -> Self;
    /// `mask ? a : b`.
    #[inline(always)]
    unsafe fn blend(mask: Self, a: Self, b: Self) -> Self {
        unsafe { mask.and(a).or(mask.andnot(b)) }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Sse41(__m128i);

#[cfg(target_arch = "x86_64")]
impl Lanes for Sse41 {
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn splat(x: i32) -> Self {
        unsafe { Sse41(_mm_set1_epi32(x)) }
    }
    #[inline(always)]
    unsafe fn load(p: *const i32) -> Self {
        unsafe { Sse41(_mm_loadu_si128(p.cast())) }
    }
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe {
            Sse41(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(
                p.cast::<i32>().read_unaligned(),
            )))
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut i32) {
        unsafe { _mm_storeu_si128(p.cast(), self.0) }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe {
            let w = _mm_packus_epi32(self.0, self.0);
            let b = _mm_packus_epi16(w, w);
            p.cast::<i32>().write_unaligned(_mm_cvtsi128_si32(b));
        }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { Sse41(_mm_add_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        unsafe { Sse41(_mm_max_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn gt(self, o: Self) -> Self {
        unsafe { Sse41(_mm_cmpgt_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn eq(self, o: Self) -> Self {
        unsafe { Sse41(_mm_cmpeq_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn and(self, o: Self) -> Self {
        unsafe { Sse41(_mm_and_si128(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn or(self, o: Self) -> Self {
        unsafe { Sse41(_mm_or_si128(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn andnot(self, o: Self) -> Self {
        unsafe { Sse41(_mm_andnot_si128(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn blend(mask: Self, a: Self, b: Self) -> Self {
        unsafe { Sse41(_mm_blendv_epi8(b.0, a.0, mask.0)) }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx2(__m256i);

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn splat(x: i32) -> Self {
        unsafe { Avx2(_mm256_set1_epi32(x)) }
    }
    #[inline(always)]
    unsafe fn load(p: *const i32) -> Self {
        unsafe { Avx2(_mm256_loadu_si256(p.cast())) }
    }
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe { Avx2(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut i32) {
        unsafe { _mm256_storeu_si256(p.cast(), self.0) }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe {
            // Packs work per 128-bit half: bytes 0..4 of each half hold lanes 0..4 / 4..8.
            let w = _mm256_packus_epi32(self.0, self.0);
            let b = _mm256_packus_epi16(w, w);
            p.cast::<i32>()
                .write_unaligned(_mm_cvtsi128_si32(_mm256_castsi256_si128(b)));
            p.add(4)
                .cast::<i32>()
                .write_unaligned(_mm_cvtsi128_si32(_mm256_extracti128_si256::<1>(b)));
        }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_add_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_max_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn gt(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_cmpgt_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn eq(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_cmpeq_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn and(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_and_si256(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn or(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_or_si256(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn andnot(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_andnot_si256(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn blend(mask: Self, a: Self, b: Self) -> Self {
        unsafe { Avx2(_mm256_blendv_epi8(b.0, a.0, mask.0)) }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx512(__m512i);

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    #[inline(always)]
    unsafe fn from_mask(k: __mmask16) -> Self {
        unsafe { Avx512(_mm512_maskz_mov_epi32(k, _mm512_set1_epi32(-1))) }
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx512 {
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn splat(x: i32) -> Self {
        unsafe { Avx512(_mm512_set1_epi32(x)) }
    }
    #[inline(always)]
    unsafe fn load(p: *const i32) -> Self {
        unsafe { Avx512(_mm512_loadu_si512(p.cast())) }
    }
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe { Avx512(_mm512_cvtepu8_epi32(_mm_loadu_si128(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut i32) {
        unsafe { _mm512_storeu_si512(p.cast(), self.0) }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe { _mm_storeu_si128(p.cast(), _mm512_cvtepi32_epi8(self.0)) }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_add_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_max_epi32(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn gt(self, o: Self) -> Self {
        unsafe { Avx512::from_mask(_mm512_cmpgt_epi32_mask(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn eq(self, o: Self) -> Self {
        unsafe { Avx512::from_mask(_mm512_cmpeq_epi32_mask(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn and(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_and_si512(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn or(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_or_si512(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn andnot(self, o: Self) -> Self {
        unsafe { Avx512(_mm512_andnot_si512(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn blend(mask: Self, a: Self, b: Self) -> Self {
        // Bitwise select in one instruction: imm 0xCA = first ? second : third.
        unsafe { Avx512(_mm512_ternarylogic_epi32::<0xCA>(mask.0, a.0, b.0)) }
    }
}
