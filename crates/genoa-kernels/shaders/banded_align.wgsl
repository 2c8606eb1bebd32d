// banded_align: banded affine-gap alignment with traceback, one invocation per problem.
//
// Contract (recurrence, boundaries, tie-breaks, clamping at NEG): src/kernel/banded_align.rs.
// Reference implementation: src/backend/scalar/banded_align.rs; this shader follows it line
// for line and is tested against it for equality (score, ends, CIGAR).
//
// Parallelism: inter-problem. Each invocation runs one problem's whole band, row by row, with
// its H and F rows in `scratch` and its direction nibbles in `dirs`. Read-extension problems
// are short (150 × 33 cells), numerous and independent, so one per lane keeps every lane busy
// without synchronisation; anti-diagonal (intra-problem) parallelism pays only for long
// problems and is left to a later kernel revision, chosen by measurement on real GPUs.
//
// Expected throughput on a current datacenter GPU (on paper: no machine of ours has one).
// Per band cell the fill loop issues ~40 32-bit integer operations (3 add, 6 max, 5 compares,
// 6 selects, index arithmetic, nibble packing), 3 loads and 2 stores to this invocation's
// scratch rows (20 B, L1-resident: 2·(W+1)·4 B = 272 B per invocation at band 16, 17 KiB per
// 64-wide workgroup) and 0.5 B of direction bits to memory. On an H100 SXM (132 SMs × 64 INT32
// lanes × 1.98 GHz ≈ 16.7 T int-op/s) the ALU bound is ≈ 400 G cells/s; L1 traffic (≈ 33 TB/s
// aggregate) bounds it at ≈ 1.6 T cells/s and HBM (3.35 TB/s for the direction bits) at
// ≈ 6 T cells/s, so the kernel is ALU-bound. Read batches keep warps convergent (equal-length
// problems), and at ≤ 64 registers per thread occupancy is ≥ 50 %; we therefore expect
// 100–200 G cells/s, i.e. ≈ 20–40 M 150-bp read extensions per second at band 16, against
// ~0.5–1 G cells/s per CPU core for the SIMD backend. lavapipe (CI) runs this shader at
// ≈ 0.06 G cells/s on 2 CPU cores; that figure measures the emulator, not the kernel.
//
// Layout (all offsets in 32-bit words, relative to this dispatch's buffers):
//   bases:   4 base codes per word, little-endian bytes (0..3 ACGT, 4 N)
//   pairs:   q_off, q_len, t_off, t_len (in bases), diagonal, cigar_off, scratch_off, dir_off
//   scratch: H[0..=W], F[0..=W] (W = 2·band + 1)
//   dirs:    one nibble per cell of rows 1..=m, 8 per word; bits 0-1 source of H
//            (0 start, 1 diagonal, 2 E, 3 F), bit 2 E extended, bit 3 F extended
//   cigar:   runs `len << 4 | op` (0 M, 1 I, 2 D) from the END of the alignment backwards
//   results: score, q_start, q_end, t_start, t_end, n_runs, zdropped, 0

override WG: u32 = 64u;

struct Params {
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
    _p1: u32,
    _p2: u32,
}

struct Pair {
    q_off: u32,
    q_len: u32,
    t_off: u32,
    t_len: u32,
    diagonal: i32,
    cigar_off: u32,
    scratch_off: u32,
    dir_off: u32,
}

struct Out {
    score: i32,
    q_start: u32,
    q_end: u32,
    t_start: u32,
    t_end: u32,
    n_runs: u32,
    zdropped: u32,
    _p1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pairs: array<Pair>;
@group(0) @binding(2) var<storage, read> bases: array<u32>;
@group(0) @binding(3) var<storage, read_write> scratch: array<i32>;
@group(0) @binding(4) var<storage, read_write> dirs: array<u32>;
@group(0) @binding(5) var<storage, read_write> results: array<Out>;
@group(0) @binding(6) var<storage, read_write> cigar: array<u32>;

const NEG: i32 = -536870912;
const SRC_START: u32 = 0u;
const SRC_DIAG: u32 = 1u;
const SRC_E: u32 = 2u;
const SRC_F: u32 = 3u;
const E_EXT: u32 = 4u;
const F_EXT: u32 = 8u;
const OP_M: u32 = 0u;
const OP_I: u32 = 1u;
const OP_D: u32 = 2u;

fn base_at(i: u32) -> u32 {
    return (bases[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

// Modes: 0 global, 1 local, 2 extension.
fn boundary(i: i32, j: i32) -> i32 {
    if (params.mode != 1u) {
        let len = i + j;
        if (len == 0) {
            return 0;
        }
        return max(-(params.gap_open + len * params.gap_extend), NEG);
    }
    if (i == 0) {
        return params.end_bonus;
    }
    return 0;
}

fn substitution(a: u32, b: u32) -> i32 {
    if (a > 3u || b > 3u) {
        return -params.n_penalty;
    }
    if (a == b) {
        return params.match_score;
    }
    return -params.mismatch;
}

fn dir_at(p: Pair, cell: u32) -> u32 {
    return (dirs[p.dir_off + (cell >> 3u)] >> ((cell & 7u) * 4u)) & 0xfu;
}

// Appends a run to the reversed CIGAR, merging with the previous run.
fn push_op(p: Pair, n_runs: ptr<function, u32>, op: u32, len: u32) {
    if (len == 0u) {
        return;
    }
    let n = *n_runs;
    if (n > 0u) {
        let last = cigar[p.cigar_off + n - 1u];
        if ((last & 0xfu) == op) {
            cigar[p.cigar_off + n - 1u] = last + (len << 4u);
            return;
        }
    }
    cigar[p.cigar_off + n] = (len << 4u) | op;
    *n_runs = n + 1u;
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.y * nwg.x + wid.x) * WG + lid;
    if (idx >= params.n_pairs) {
        return;
    }
    let p = pairs[idx];
    let m = i32(p.q_len);
    let n = i32(p.t_len);
    let band = i32(params.band);
    let w = 2 * band + 1;
    let diag = p.diagonal;
    let is_local = params.mode == 1u;
    let scan = params.mode != 0u;
    var zdrop = 0;
    if (params.mode == 2u) {
        zdrop = params.zdrop;
    }
    var zdropped = 0u;
    let oe = params.gap_open + params.gap_extend;
    let ge = params.gap_extend;
    let hb = p.scratch_off;
    let fb = p.scratch_off + u32(w + 1);

    for (var k = 0; k <= w; k += 1) {
        scratch[hb + u32(k)] = NEG;
        scratch[fb + u32(k)] = NEG;
    }
    for (var k = 0; k < w; k += 1) {
        let j = diag - band + k;
        if (j >= 0 && j <= n) {
            scratch[hb + u32(k)] = boundary(0, j);
        }
    }

    var best = 0;
    var bi = 0;
    var bj = 0;
    var word = 0u;
    var cell = 0u;
    for (var i = 1; i <= m; i += 1) {
        let qi = base_at(p.q_off + u32(i - 1));
        var e_run = NEG;
        var h_left = NEG;
        var has_cell = false;
        var row_max = NEG;
        var row_j = 0;
        for (var k = 0; k < w; k += 1) {
            let j = i + diag - band + k;
            let uk = u32(k);
            let h_diag = scratch[hb + uk];
            let h_up = scratch[hb + uk + 1u];
            let f_up = scratch[fb + uk + 1u];
            var d = 0u;
            if (j < 0 || j > n) {
                scratch[hb + uk] = NEG;
                scratch[fb + uk] = NEG;
                e_run = NEG;
                h_left = NEG;
            } else if (j == 0) {
                let hv = boundary(i, 0);
                scratch[hb + uk] = hv;
                scratch[fb + uk] = NEG;
                e_run = NEG;
                h_left = hv;
            } else {
                let e_open = max(h_left - oe, NEG);
                let e_ext = max(e_run - ge, NEG);
                var ev = e_open;
                var e_bit = 0u;
                if (e_ext > e_open) {
                    ev = e_ext;
                    e_bit = E_EXT;
                }
                let f_open = max(h_up - oe, NEG);
                let f_ext = max(f_up - ge, NEG);
                var fv = f_open;
                var f_bit = 0u;
                if (f_ext > f_open) {
                    fv = f_ext;
                    f_bit = F_EXT;
                }
                var hv = max(h_diag + substitution(qi, base_at(p.t_off + u32(j - 1))), NEG);
                var src = SRC_DIAG;
                if (ev > hv) {
                    hv = ev;
                    src = SRC_E;
                }
                if (fv > hv) {
                    hv = fv;
                    src = SRC_F;
                }
                if (is_local && 0 > hv) {
                    hv = 0;
                    src = SRC_START;
                }
                d = src | e_bit | f_bit;
                scratch[hb + uk] = hv;
                scratch[fb + uk] = fv;
                e_run = ev;
                h_left = hv;
                if (!has_cell || hv > row_max) {
                    has_cell = true;
                    row_max = hv;
                    row_j = j;
                }
                if (scan) {
                    var cand = hv;
                    if (i == m) {
                        cand = hv + params.end_bonus;
                    }
                    if (cand > best) {
                        best = cand;
                        bi = i;
                        bj = j;
                    }
                }
            }
            word = word | (d << ((cell & 7u) * 4u));
            if ((cell & 7u) == 7u) {
                dirs[p.dir_off + (cell >> 3u)] = word;
                word = 0u;
            }
            cell += 1u;
        }
        if (zdrop > 0 && has_cell && i < m) {
            let drift = abs((row_j - i) - (bj - bi));
            if (best - row_max > zdrop + ge * drift) {
                zdropped = 1u;
                break;
            }
        }
    }
    if ((cell & 7u) != 0u) {
        dirs[p.dir_off + (cell >> 3u)] = word;
    }

    var score = best;
    if (!scan) {
        let k = n - m - diag + band;
        score = scratch[hb + u32(k)];
        bi = m;
        bj = n;
    }

    var n_runs = 0u;
    var i = bi;
    var j = bj;
    var state = SRC_DIAG;
    loop {
        if (i == 0 || j == 0) {
            if (!is_local) {
                push_op(p, &n_runs, OP_D, u32(j));
                push_op(p, &n_runs, OP_I, u32(i));
                i = 0;
                j = 0;
            }
            break;
        }
        let k = j - i - diag + band;
        let d = dir_at(p, u32((i - 1) * w + k));
        if (state == SRC_E) {
            push_op(p, &n_runs, OP_D, 1u);
            j -= 1;
            if ((d & E_EXT) == 0u) {
                state = SRC_DIAG;
            }
        } else if (state == SRC_F) {
            push_op(p, &n_runs, OP_I, 1u);
            i -= 1;
            if ((d & F_EXT) == 0u) {
                state = SRC_DIAG;
            }
        } else {
            let src = d & 3u;
            if (src == SRC_DIAG) {
                push_op(p, &n_runs, OP_M, 1u);
                i -= 1;
                j -= 1;
            } else if (src == SRC_E) {
                state = SRC_E;
            } else if (src == SRC_F) {
                state = SRC_F;
            } else {
                break;
            }
        }
    }
    results[idx] = Out(score, u32(i), u32(bi), u32(j), u32(bj), n_runs, zdropped, 0u);
}
