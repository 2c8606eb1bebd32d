// pair_hmm: the fixed-point pair-HMM forward pass of src/kernel/pair_hmm.rs (the contract) —
// log10 P(read | haplotype) under GATK HaplotypeCaller's model, computed in u32 integers so
// that every device gives the scalar spec's bits (src/backend/scalar/pair_hmm.rs).
//
// Parallelism: one invocation per (read, haplotype) pair, row by row over the read, one row of
// M, I, D in a per-pair slice of `scratch`. Chosen over anti-diagonal (one workgroup per pair)
// because the spec renormalises per read row, which an anti-diagonal sweep can only honour
// with a second pass; a region yields reads × haplotypes pairs (hundreds to thousands), and
// the host packs many regions per dispatch, enough to fill a GPU.
//
// Values are u64, held as vec2<u32> (x = low word, y = high word). The product
// v ⊗ c = floor(v·c / 2^31) = 2c·hi(v) + floor(lo(v)·c / 2^31): one full 32×32 → 64-bit product
// and one high-part product, each built from four 16×16-bit products (`mul_wide`), since WGSL
// has neither u64 nor a multiply-high. The per-row renormalising shift is applied as the next
// row loads its `up` values, which is the spec's separate pass folded in.
//
// Expected throughput on a current datacenter GPU, on paper (NVIDIA H100 SXM: 132 SMs ×
// 128 INT32 lanes at ~1.75 GHz ≈ 30 T int ops/s): per cell 6 `mul_q31` (each 8 IMUL and
// ~25 shift/add/mask/compare) + ~40 other integer ops (64-bit adds with carries, ORs, shifts)
// ≈ 240 ops, so ~120 G cells/s if ALU-bound. Memory: 3 u64 loads + 3 stores per cell to the
// pair's row slice (7 KiB for 150 × 300), which stays in L1/L2 at a 64-wide workgroup's
// occupancy; ~48 B/cell of L2 traffic at ~10 TB/s bounds it near ~200 G cells/s. Expect
// ~50–120 G cells/s, 40–100× one AVX2 core; not measured (no GPU here). CI runs this shader
// on lavapipe for equality with the scalar spec.

override WG: u32 = 64u;

const COEFS: u32 = 14u;
const MI: u32 = 10u;
const II: u32 = 11u;
const MD: u32 = 12u;
const DD: u32 = 13u;
const INIT_HI: u32 = 268435456u; // 2^60 = (0, 2^28)
const TOP_BITS: u32 = 61u;
const RENORM_LOW: u32 = 48u;
const SUM_SHIFT: u32 = 16u;

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
    scratch_off: u32, // first word of this pair's 6·(n + 1) scratch words
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct Out {
    sum_lo: u32,
    sum_hi: u32,
    exponent: i32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pairs: array<Pair>;
@group(0) @binding(2) var<storage, read> coefs: array<u32>;
@group(0) @binding(3) var<storage, read> haps: array<u32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> results: array<Out>;

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

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// v ⊗ c = 2c·hi(v) + floor(lo(v)·c / 2^31), c < 2^31.
fn mul_q31(v: vec2<u32>, c: u32) -> vec2<u32> {
    let low = mul_wide(v.x, c);
    let low_part = (low.y << 1u) | (low.x >> 31u);
    return add64(mul_wide(v.y, c << 1u), vec2<u32>(low_part, 0u));
}

// (v << l) >> r for l, r < 64 (at most one of them non-zero).
fn shift64(v: vec2<u32>, l: u32, r: u32) -> vec2<u32> {
    var x = v;
    if l >= 32u {
        x = vec2<u32>(0u, x.x << (l - 32u));
    } else if l > 0u {
        x = vec2<u32>(x.x << l, (x.y << l) | (x.x >> (32u - l)));
    }
    if r >= 32u {
        x = vec2<u32>(x.y >> (r - 32u), 0u);
    } else if r > 0u {
        x = vec2<u32>((x.x >> r) | (x.y << (32u - r)), x.y >> r);
    }
    return x;
}

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
    let base = p.scratch_off / 2u;
    let zero = vec2<u32>(0u, 0u);
    // Row 0: M = I = 0, D = 2^60 (scratch entry 3·j + {0, 1, 2} = M, I, D of column j).
    for (var j = 1u; j <= n; j++) {
        scratch[base + 3u * j] = zero;
        scratch[base + 3u * j + 1u] = zero;
        scratch[base + 3u * j + 2u] = vec2<u32>(0u, INIT_HI);
    }
    var exponent = 0i;
    var left_shift = 0u; // the previous row's pending renormalisation
    var right_shift = 0u;
    var sum = zero;
    var dead = false;
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
        // Column 0 of the previous row: 0, except row 0's D(0, 0) = 2^60.
        var dm = zero;
        var di = zero;
        var dl = zero;
        if i == 0u {
            dl = vec2<u32>(0u, INIT_HI);
        }
        var lm = zero;
        var ld = zero;
        var or_all = zero;
        let last = i + 1u == m;
        for (var j = 1u; j <= n; j++) {
            let at = base + 3u * j;
            let um = shift64(scratch[at], left_shift, right_shift);
            let ui = shift64(scratch[at + 1u], left_shift, right_shift);
            let ud = shift64(scratch[at + 2u], left_shift, right_shift);
            let h = hap_base(p.hap_off + j - 1u);
            let mv = add64(mul_q31(dm, a[h]), mul_q31(add64(di, dl), b[h]));
            let iv = add64(mul_q31(um, mi), mul_q31(ui, ii));
            let dv = add64(mul_q31(lm, md), mul_q31(ld, dd));
            scratch[at] = mv;
            scratch[at + 1u] = iv;
            scratch[at + 2u] = dv;
            or_all = or_all | mv | iv | dv;
            if last {
                // M + I < 5·2^61 < 2^64; shifted right 16 before summing.
                sum = add64(sum, shift64(add64(mv, iv), 0u, SUM_SHIFT));
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
        var bits = 32u - countLeadingZeros(or_all.x);
        if or_all.y != 0u {
            bits = 64u - countLeadingZeros(or_all.y);
        }
        left_shift = 0u;
        right_shift = 0u;
        if bits == 0u {
            dead = true;
            break;
        }
        if bits < RENORM_LOW {
            left_shift = TOP_BITS - bits;
            exponent += i32(left_shift);
        } else if bits > TOP_BITS {
            right_shift = bits - TOP_BITS;
            exponent -= i32(right_shift);
        }
    }
    if dead {
        results[idx] = Out(0u, 0u, 0i, 0u);
    } else {
        results[idx] = Out(sum.x, sum.y, exponent, 0u);
    }
}
