//! Lane abstraction of the SIMD backend: vectors with exactly the operations the kernels use,
//! implemented once per instruction set over `std::arch` intrinsics. [`Lanes`], integer
//! vectors for `banded_align`, in two element widths: 32-bit lanes (any score the contract
//! allows) and 16-bit lanes (twice the lanes per vector, for problems whose scores provably
//! fit; see `backend::simd::banded_align::fits_i16`); masks are vectors of all-ones /
//! all-zeros lanes. [`LanesF32`], binary32 vectors for `pair_hmm`. [`X2`] pairs two vectors
//! into one of twice the lanes.
//!
//! Every method is `unsafe`: it may only run on a CPU with the implementation's instruction
//! set, which the entry points in `backend::simd` guarantee. Each is `#[inline(always)]`, so it
//! is compiled inside the caller's `#[target_feature]` function.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// A lane's element type.
pub trait Elem: Copy + Default + Into<i32> + PartialEq + 'static {
    /// `x` as this type; `x` must be representable.
    fn from_i32(x: i32) -> Self;
}

impl Elem for i32 {
    #[inline(always)]
    fn from_i32(x: i32) -> Self {
        x
    }
}

impl Elem for i16 {
    #[inline(always)]
    fn from_i32(x: i32) -> Self {
        debug_assert!(i16::try_from(x).is_ok());
        x as i16
    }
}

/// A vector of `LANES` integers of type `Elem`.
///
/// # Safety
/// Every method may only run on a CPU with the implementation's instruction set; `load*` and
/// `store*` need `LANES` readable / writable elements at the pointer.
#[allow(clippy::missing_safety_doc)] // the contract above holds for every method
pub trait Lanes: Copy {
    type Elem: Elem;
    const LANES: usize;
    /// The lane value standing for the contract's `NEG` (the lowest score a cell can hold).
    const NEG: i32;
    /// A value below every valid cell's value (the start of a row maximum).
    const MIN: i32;
    /// The largest lane value.
    const MAX: i32;
    /// Every lane `x` (`x` must be representable in `Elem`).
    unsafe fn splat(x: i32) -> Self;
    /// Loads `LANES` values from `p` (unaligned).
    unsafe fn load(p: *const Self::Elem) -> Self;
    /// Loads `LANES` bytes from `p`, zero-extended.
    unsafe fn load_u8(p: *const u8) -> Self;
    unsafe fn store(self, p: *mut Self::Elem);
    /// Stores the low byte of every lane (values must lie in `0..=255`) to `LANES` bytes at `p`.
    unsafe fn store_u8(self, p: *mut u8);
    /// Lane-wise sum; 16-bit lanes saturate (the kernels clamp at `NEG` right after, so a
    /// saturated sum below `NEG` behaves as the 32-bit clamp does).
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn max(self, o: Self) -> Self;
    /// Lane-wise difference; 16-bit lanes saturate.
    unsafe fn sub(self, o: Self) -> Self;
    /// Whether any lane of this mask is set.
    unsafe fn any(self) -> bool;
    /// `max(self + o, neg)` where `neg` is `splat(NEG)`: the kernels' clamped sum. 16-bit
    /// lanes, whose `NEG` is the type's minimum, get it from saturation alone.
    #[inline(always)]
    unsafe fn add_clamp(self, o: Self, neg: Self) -> Self {
        unsafe { self.add(o).max(neg) }
    }
    /// All ones where `self > o`.
    unsafe fn gt(self, o: Self) -> Self;
    /// All ones where `self == o`.
    unsafe fn eq(self, o: Self) -> Self;
    unsafe fn and(self, o: Self) -> Self;
    unsafe fn or(self, o: Self) -> Self;
    /// `!self & o`.
    unsafe fn andnot(self, o: Self) -> Self;
    /// `mask ? a : b` (bitwise, so for any lane width).
    unsafe fn blend(mask: Self, a: Self, b: Self) -> Self;
}

/// The operations that do not depend on the lane width, for one register type.
macro_rules! bitwise {
    ($t:ident, $and:ident, $or:ident, $andnot:ident) => {
        #[inline(always)]
        unsafe fn and(self, o: Self) -> Self {
            unsafe { $t($and(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn or(self, o: Self) -> Self {
            unsafe { $t($or(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn andnot(self, o: Self) -> Self {
            unsafe { $t($andnot(self.0, o.0)) }
        }
    };
}

/// Loads, stores, splat, add, max and the comparisons of a width whose comparisons return
/// vectors (SSE4.1, AVX2).
macro_rules! arith {
    ($t:ident, $set1:ident, $elem:ty, $load:ident, $store:ident, $add:ident, $sub:ident, $max:ident, $gt:ident, $eq:ident, $blendv:ident, $movemask:ident) => {
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            unsafe { $t($sub(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn any(self) -> bool {
            unsafe { $movemask(self.0) != 0 }
        }
        #[inline(always)]
        unsafe fn splat(x: i32) -> Self {
            unsafe { $t($set1(x as $elem)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const $elem) -> Self {
            unsafe { $t($load(p.cast())) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut $elem) {
            unsafe { $store(p.cast(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            unsafe { $t($add(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn max(self, o: Self) -> Self {
            unsafe { $t($max(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn gt(self, o: Self) -> Self {
            unsafe { $t($gt(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn eq(self, o: Self) -> Self {
            unsafe { $t($eq(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn blend(mask: Self, a: Self, b: Self) -> Self {
            unsafe { $t($blendv(b.0, a.0, mask.0)) }
        }
    };
}

const NEG32: i32 = crate::kernel::banded_align::NEG;
/// `NEG` of 16-bit lanes: the type's minimum, where saturating sums stop (no valid cell ever
/// holds `NEG`, so [`Lanes::MIN`] may equal it).
const NEG16: i32 = i16::MIN as i32;

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Sse41(__m128i);

#[cfg(target_arch = "x86_64")]
impl Lanes for Sse41 {
    type Elem = i32;
    const LANES: usize = 4;
    const NEG: i32 = NEG32;
    const MIN: i32 = i32::MIN;
    const MAX: i32 = i32::MAX;
    arith!(
        Sse41,
        _mm_set1_epi32,
        i32,
        _mm_loadu_si128,
        _mm_storeu_si128,
        _mm_add_epi32,
        _mm_sub_epi32,
        _mm_max_epi32,
        _mm_cmpgt_epi32,
        _mm_cmpeq_epi32,
        _mm_blendv_epi8,
        _mm_movemask_epi8
    );
    bitwise!(Sse41, _mm_and_si128, _mm_or_si128, _mm_andnot_si128);
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe {
            Sse41(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(
                p.cast::<i32>().read_unaligned(),
            )))
        }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe {
            let w = _mm_packus_epi32(self.0, self.0);
            let b = _mm_packus_epi16(w, w);
            p.cast::<i32>().write_unaligned(_mm_cvtsi128_si32(b));
        }
    }
}

/// SSE4.1, eight 16-bit lanes.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Sse41x16(__m128i);

#[cfg(target_arch = "x86_64")]
impl Lanes for Sse41x16 {
    type Elem = i16;
    const LANES: usize = 8;
    const NEG: i32 = NEG16;
    const MIN: i32 = i16::MIN as i32;
    const MAX: i32 = i16::MAX as i32;
    #[inline(always)]
    unsafe fn add_clamp(self, o: Self, _neg: Self) -> Self {
        unsafe { self.add(o) }
    }
    arith!(
        Sse41x16,
        _mm_set1_epi16,
        i16,
        _mm_loadu_si128,
        _mm_storeu_si128,
        _mm_adds_epi16,
        _mm_subs_epi16,
        _mm_max_epi16,
        _mm_cmpgt_epi16,
        _mm_cmpeq_epi16,
        _mm_blendv_epi8,
        _mm_movemask_epi8
    );
    bitwise!(Sse41x16, _mm_and_si128, _mm_or_si128, _mm_andnot_si128);
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe { Sse41x16(_mm_cvtepu8_epi16(_mm_loadl_epi64(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe { _mm_storel_epi64(p.cast(), _mm_packus_epi16(self.0, self.0)) }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx2(__m256i);

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    type Elem = i32;
    const LANES: usize = 8;
    const NEG: i32 = NEG32;
    const MIN: i32 = i32::MIN;
    const MAX: i32 = i32::MAX;
    arith!(
        Avx2,
        _mm256_set1_epi32,
        i32,
        _mm256_loadu_si256,
        _mm256_storeu_si256,
        _mm256_add_epi32,
        _mm256_sub_epi32,
        _mm256_max_epi32,
        _mm256_cmpgt_epi32,
        _mm256_cmpeq_epi32,
        _mm256_blendv_epi8,
        _mm256_movemask_epi8
    );
    bitwise!(Avx2, _mm256_and_si256, _mm256_or_si256, _mm256_andnot_si256);
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe { Avx2(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p.cast()))) }
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
}

/// AVX2, sixteen 16-bit lanes.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx2x16(__m256i);

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2x16 {
    type Elem = i16;
    const LANES: usize = 16;
    const NEG: i32 = NEG16;
    const MIN: i32 = i16::MIN as i32;
    const MAX: i32 = i16::MAX as i32;
    #[inline(always)]
    unsafe fn add_clamp(self, o: Self, _neg: Self) -> Self {
        unsafe { self.add(o) }
    }
    arith!(
        Avx2x16,
        _mm256_set1_epi16,
        i16,
        _mm256_loadu_si256,
        _mm256_storeu_si256,
        _mm256_adds_epi16,
        _mm256_subs_epi16,
        _mm256_max_epi16,
        _mm256_cmpgt_epi16,
        _mm256_cmpeq_epi16,
        _mm256_blendv_epi8,
        _mm256_movemask_epi8
    );
    bitwise!(
        Avx2x16,
        _mm256_and_si256,
        _mm256_or_si256,
        _mm256_andnot_si256
    );
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe { Avx2x16(_mm256_cvtepu8_epi16(_mm_loadu_si128(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe {
            // Packs work per 128-bit half: the low 8 bytes of each half hold lanes 0..8 /
            // 8..16; gathering 64-bit pieces 0 and 2 puts them in order.
            let b = _mm256_packus_epi16(self.0, self.0);
            let b = _mm256_permute4x64_epi64::<0b00_00_10_00>(b);
            _mm_storeu_si128(p.cast(), _mm256_castsi256_si128(b));
        }
    }
}

/// The AVX-512 operations shared by both lane widths (comparisons return mask registers,
/// turned back into vectors by `$to_vec`).
macro_rules! avx512 {
    ($t:ident, $set1:ident, $elem:ty, $add:ident, $sub:ident, $max:ident, $gt:ident, $eq:ident, $to_vec:expr) => {
        bitwise!($t, _mm512_and_si512, _mm512_or_si512, _mm512_andnot_si512);
        #[inline(always)]
        unsafe fn splat(x: i32) -> Self {
            unsafe { $t($set1(x as $elem)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const $elem) -> Self {
            unsafe { $t(_mm512_loadu_si512(p.cast())) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut $elem) {
            unsafe { _mm512_storeu_si512(p.cast(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            unsafe { $t($add(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            unsafe { $t($sub(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn max(self, o: Self) -> Self {
            unsafe { $t($max(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn any(self) -> bool {
            unsafe { _mm512_test_epi64_mask(self.0, self.0) != 0 }
        }
        #[inline(always)]
        unsafe fn gt(self, o: Self) -> Self {
            unsafe { $t($to_vec($gt(self.0, o.0))) }
        }
        #[inline(always)]
        unsafe fn eq(self, o: Self) -> Self {
            unsafe { $t($to_vec($eq(self.0, o.0))) }
        }
        #[inline(always)]
        unsafe fn blend(mask: Self, a: Self, b: Self) -> Self {
            // Bitwise select in one instruction: imm 0xCA = first ? second : third.
            unsafe { $t(_mm512_ternarylogic_epi32::<0xCA>(mask.0, a.0, b.0)) }
        }
    };
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx512(__m512i);

/// A 16-lane mask register as a vector (`vpmovm2d` would need AVX-512DQ).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn mask32_to_vec(k: __mmask16) -> __m512i {
    unsafe { _mm512_maskz_mov_epi32(k, _mm512_set1_epi32(-1)) }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx512 {
    type Elem = i32;
    const LANES: usize = 16;
    const NEG: i32 = NEG32;
    const MIN: i32 = i32::MIN;
    const MAX: i32 = i32::MAX;
    avx512!(
        Avx512,
        _mm512_set1_epi32,
        i32,
        _mm512_add_epi32,
        _mm512_sub_epi32,
        _mm512_max_epi32,
        _mm512_cmpgt_epi32_mask,
        _mm512_cmpeq_epi32_mask,
        mask32_to_vec
    );
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe { Avx512(_mm512_cvtepu8_epi32(_mm_loadu_si128(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe { _mm_storeu_si128(p.cast(), _mm512_cvtepi32_epi8(self.0)) }
    }
}

/// AVX-512BW, thirty-two 16-bit lanes.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx512x16(__m512i);

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx512x16 {
    type Elem = i16;
    const LANES: usize = 32;
    const NEG: i32 = NEG16;
    const MIN: i32 = i16::MIN as i32;
    const MAX: i32 = i16::MAX as i32;
    #[inline(always)]
    unsafe fn add_clamp(self, o: Self, _neg: Self) -> Self {
        unsafe { self.add(o) }
    }
    avx512!(
        Avx512x16,
        _mm512_set1_epi16,
        i16,
        _mm512_adds_epi16,
        _mm512_subs_epi16,
        _mm512_max_epi16,
        _mm512_cmpgt_epi16_mask,
        _mm512_cmpeq_epi16_mask,
        _mm512_movm_epi16
    );
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        unsafe { Avx512x16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(p.cast()))) }
    }
    #[inline(always)]
    unsafe fn store_u8(self, p: *mut u8) {
        unsafe { _mm256_storeu_si256(p.cast(), _mm512_cvtepi16_epi8(self.0)) }
    }
}

/// A vector of `LANES` binary32 floats, for `pair_hmm`: the operations are the correctly
/// rounded IEEE ones the contract specifies (no fused multiply-add).
///
/// # Safety
/// As [`Lanes`].
#[allow(clippy::missing_safety_doc)]
pub trait LanesF32: Copy {
    const LANES: usize;
    unsafe fn splat(x: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn mul(self, o: Self) -> Self;
    /// Lane-wise maximum (no lane is ever NaN).
    unsafe fn max(self, o: Self) -> Self;
    /// The contract's `lift`: `max(self, floor)` (one `max`; kept apart from [`Self::max`]
    /// so that each use says which of the two it is).
    #[inline(always)]
    unsafe fn lift(self, floor: Self) -> Self {
        unsafe { self.max(floor) }
    }
}

/// The [`LanesF32`] operations shared by SSE and AVX.
macro_rules! lanes_f32 {
    ($t:ident, $set1:ident, $load:ident, $store:ident, $add:ident, $mul:ident, $max:ident) => {
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            unsafe { $t($set1(x)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { $t($load(p)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { $store(p, self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            unsafe { $t($add(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            unsafe { $t($mul(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn max(self, o: Self) -> Self {
            unsafe { $t($max(self.0, o.0)) }
        }
    };
}

/// Four `f32` lanes (SSE).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Sse41f(__m128);

#[cfg(target_arch = "x86_64")]
impl LanesF32 for Sse41f {
    const LANES: usize = 4;
    lanes_f32!(
        Sse41f,
        _mm_set1_ps,
        _mm_loadu_ps,
        _mm_storeu_ps,
        _mm_add_ps,
        _mm_mul_ps,
        _mm_max_ps
    );
}

/// Eight `f32` lanes (AVX2 builds; the operations are AVX ones).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx2f(__m256);

#[cfg(target_arch = "x86_64")]
impl LanesF32 for Avx2f {
    const LANES: usize = 8;
    lanes_f32!(
        Avx2f,
        _mm256_set1_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_add_ps,
        _mm256_mul_ps,
        _mm256_max_ps
    );
}

/// Sixteen `f32` lanes (AVX-512F).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx512f(__m512);

#[cfg(target_arch = "x86_64")]
impl LanesF32 for Avx512f {
    const LANES: usize = 16;
    lanes_f32!(
        Avx512f,
        _mm512_set1_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_add_ps,
        _mm512_mul_ps,
        _mm512_max_ps
    );
}

/// Two vectors used as one of twice the lanes: independent dependency chains for the CPU to
/// overlap (the `D` recurrence runs along the row).
#[derive(Clone, Copy)]
pub struct X2<V>(V, V);

impl<V: LanesF32> LanesF32 for X2<V> {
    const LANES: usize = 2 * V::LANES;
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        unsafe { X2(V::splat(x), V::splat(x)) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        unsafe { X2(V::load(p), V::load(p.add(V::LANES))) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe {
            self.0.store(p);
            self.1.store(p.add(V::LANES));
        }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { X2(self.0.add(o.0), self.1.add(o.1)) }
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        unsafe { X2(self.0.mul(o.0), self.1.mul(o.1)) }
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        unsafe { X2(self.0.max(o.0), self.1.max(o.1)) }
    }
}
