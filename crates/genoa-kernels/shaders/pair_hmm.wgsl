// pair_hmm: the binary32 pair-HMM forward pass of src/kernel/pair_hmm.rs (the contract) —
// log10 P(read | haplotype) under GATK HaplotypeCaller's model — giving the scalar spec's bits
// (src/backend/scalar/pair_hmm.rs) on every device.
//
// GPU floats are not used: drivers may fuse a multiply and an add into one FMA (one rounding
// instead of two) and may flush or mishandle edge cases, so the same input could give other
// bits on another GPU. Instead every value is an f32 *bit pattern* in a u32, and `fmul` /
// `fadd` below compute the correctly rounded (round to nearest, ties to even) IEEE-754
// binary32 product and sum with integer instructions, which every driver executes exactly.
// They only handle what the contract allows: +0 and positive normal numbers whose results are
// normal (the contract's `lift` and coefficient bound guarantee it; no signs, subnormals,
// infinities or NaNs). For non-negative floats the order of the bit patterns is the order of
// the values, so `lift`, the row maximum and the operand swap in `fadd` are u32 max/min.
//
// Parallelism: one invocation per (read, haplotype) pair, row by row over the read, one row of
// M, I, D in a per-pair slice of `scratch`. Chosen over anti-diagonal (one workgroup per pair)
// because the spec renormalises per read row, which an anti-diagonal sweep can only honour
// with a second pass; a region yields reads × haplotypes pairs (hundreds to thousands), and
// the host packs many regions per dispatch, enough to fill a GPU. A row's renormalisation is
// applied as the next row loads its `up` values (the spec's separate pass, folded in).
//
// Expected throughput on a current datacenter GPU, on paper (NVIDIA H100 SXM: 132 SMs ×
// 128 INT32 lanes at ~1.75 GHz ≈ 30 T int ops/s): `fmul` ≈ 25 integer ops (a 24×24-bit product
// from four 16×16 products, normalise, round), `fadd` ≈ 25 (align with sticky bit, add,
// normalise, round); per cell 6 `fmul` + 4 `fadd` + 3 lifts and a 2-op max, 3 loads, 3 stores,
// haplotype byte extraction ≈ 280 ops, so ~100 G cells/s if ALU-bound. Memory: 3 u32 loads +
// 3 stores per cell to the pair's row slice (3.6 KiB for 150 × 300), which stays in L1/L2 at
// a 64-wide workgroup's occupancy; ~24 B/cell of L2 traffic at ~10 TB/s bounds it near
// ~400 G cells/s. Expect ~50–100 G cells/s, 15–30× one AVX2 core; not measured (no GPU here).
// CI runs this shader on lavapipe for equality with the scalar spec.

override WG: u32 = 64u;

const COEFS: u32 = 14u;
const MI: u32 = 10u;
const II: u32 = 11u;
const MD: u32 = 12u;
const DD: u32 = 13u;
const INIT: u32 = 1820327936u; // bits of 2^90 = (90 + 127) << 23
const RENORM_LOW: i32 = 64;
const RENORM_HIGH: i32 = 100;
const RENORM_TARGET: i32 = 90;

struct Params {
    n_pairs: u32,
    x_groups: u32,
    _pad0: u32,
    _pad1: u32,
}

struct Pair {
    coef_off: u32, // first row, in units of COEFS words
    m: u32,
    hap_off: u32, // first base, in bytes of the packed haplotype array
    n: u32,
    scratch_off: u32, // first word of this pair's 3·(n + 1) scratch words
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct Out {
    sum: u32, // f32 bits
    exponent: i32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pairs: array<Pair>;
@group(0) @binding(2) var<storage, read> coefs: array<u32>;
@group(0) @binding(3) var<storage, read> haps: array<u32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<u32>;
@group(0) @binding(5) var<storage, read_write> results: array<Out>;

// --- binary32 arithmetic (a unit test in src/backend/gpu/pair_hmm.rs compiles this part alone
// and checks it against the CPU's IEEE operations) ---

const FLOOR: u32 = 343932928u; // bits of 2^-86 = (-86 + 127) << 23
const FLOOR_EXP: i32 = -86;
const HIDDEN: u32 = 0x800000u; // the implicit leading mantissa bit
const FRACTION: u32 = 0x7fffffu;

// a·b as (low word, high word).
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let ll = al * bl;
    let lh = al * bh;
    let hl = ah * bl;
    let hh = ah * bh;
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    let lo = (mid << 16u) | (ll & 0xffffu);
    let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(lo, hi);
}

// Rounds mantissa `m` (24 bits, leading bit set) to nearest-even given the bits below it,
// `rem` out of `half · 2`, and assembles the float with biased exponent `e`; a carry out of
// the mantissa moves into the exponent by the addition itself.
fn assemble(e: u32, m: u32, rem: u32, half: u32) -> u32 {
    let up = rem > half || (rem == half && (m & 1u) == 1u);
    return (e << 23u) + m - HIDDEN + select(0u, 1u, up);
}

// The binary32 product of a and b (+0 or positive normals, normal result).
fn fmul(a: u32, b: u32) -> u32 {
    if a == 0u || b == 0u {
        return 0u;
    }
    let p = mul_wide((a & FRACTION) | HIDDEN, (b & FRACTION) | HIDDEN); // in [2^46, 2^48)
    let top = p.y >> 15u; // 1 when the product is at least 2^47
    let sh = 23u + top;
    let m = (p.y << (32u - sh)) | (p.x >> sh);
    let rem = p.x & ((1u << sh) - 1u);
    return assemble((a >> 23u) + (b >> 23u) + top - 127u, m, rem, 1u << (sh - 1u));
}

// The binary32 sum of a and b (+0 or positive normals).
fn fadd(a: u32, b: u32) -> u32 {
    let hi = max(a, b);
    let lo = min(a, b);
    if lo == 0u {
        return hi;
    }
    let d = (hi >> 23u) - (lo >> 23u);
    if d > 24u {
        return hi; // lo is below half an ulp of hi
    }
    // Six guard bits; what the alignment shifts out of `lo` survives as a sticky bit.
    let mh = ((hi & FRACTION) | HIDDEN) << 6u;
    let ml_full = ((lo & FRACTION) | HIDDEN) << 6u;
    let ml = (ml_full >> d) | select(0u, 1u, (ml_full & ((1u << d) - 1u)) != 0u);
    var s = mh + ml; // below 2^31
    var e = hi >> 23u;
    if s >= 0x40000000u {
        s = (s >> 1u) | (s & 1u);
        e += 1u;
    }
    return assemble(e, s >> 6u, s & 63u, 32u);
}

fn lift(x: u32) -> u32 {
    return max(x, FLOOR);
}

// lift(v · 2^s), exactly: an add to the exponent field (v is at least FLOOR).
fn scale(v: u32, s: i32) -> u32 {
    if s == 0 {
        return v;
    }
    if i32(v >> 23u) - 127 + s < FLOOR_EXP {
        return FLOOR;
    }
    return u32(i32(v) + (s << 23u));
}

// --- end of the binary32 arithmetic ---

fn hap_base(offset: u32) -> u32 {
    return (haps[offset >> 2u] >> ((offset & 3u) * 8u)) & 0xffu;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let idx = (wid.y * params.x_groups + wid.x) * WG + lid;
    if idx >= params.n_pairs {
        return;
    }
    let p = pairs[idx];
    let n = p.n;
    let m = p.m;
    let base = p.scratch_off;
    // Row 0: M = I = 0, D = 2^90 (scratch entry 3·j + {0, 1, 2} = M, I, D of column j).
    for (var j = 1u; j <= n; j++) {
        scratch[base + 3u * j] = 0u;
        scratch[base + 3u * j + 1u] = 0u;
        scratch[base + 3u * j + 2u] = INIT;
    }
    var exponent = 0i;
    var shift = 0i; // the previous row's pending renormalisation
    var sum = 0u;
    for (var i = 0u; i < m; i++) {
        let row = (p.coef_off + i) * COEFS;
        var a: array<u32, 5>;
        var b: array<u32, 5>;
        for (var k = 0u; k < 5u; k++) {
            a[k] = coefs[row + k];
            b[k] = coefs[row + 5u + k];
        }
        let mi = coefs[row + MI];
        let ii = coefs[row + II];
        let md = coefs[row + MD];
        let dd = coefs[row + DD];
        // Column 0 of the previous row: 0, except row 0's D(0, 0) = 2^90.
        var dm = 0u;
        var di = 0u;
        var dl = 0u;
        if i == 0u {
            dl = INIT;
        }
        var lm = 0u;
        var ld = 0u;
        var row_max = 0u;
        let last = i + 1u == m;
        for (var j = 1u; j <= n; j++) {
            let at = base + 3u * j;
            let um = scale(scratch[at], shift);
            let ui = scale(scratch[at + 1u], shift);
            let ud = scale(scratch[at + 2u], shift);
            let h = hap_base(p.hap_off + j - 1u);
            let mv = lift(fadd(fmul(dm, a[h]), fmul(fadd(di, dl), b[h])));
            let iv = lift(fadd(fmul(um, mi), fmul(ui, ii)));
            let dv = lift(fadd(fmul(lm, md), fmul(ld, dd)));
            scratch[at] = mv;
            scratch[at + 1u] = iv;
            scratch[at + 2u] = dv;
            row_max = max(row_max, max(mv, iv));
            if last {
                sum = fadd(sum, fadd(mv, iv));
            }
            dm = um;
            di = ui;
            dl = ud;
            lm = mv;
            ld = dv;
        }
        if last {
            break;
        }
        shift = 0i;
        let e = i32(row_max >> 23u) - 127;
        if e < RENORM_LOW || e > RENORM_HIGH {
            shift = RENORM_TARGET - e;
            exponent += shift;
        }
    }
    if sum == 0u {
        exponent = 0i;
    }
    results[idx] = Out(sum, exponent);
}
