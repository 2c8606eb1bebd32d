//! SIMD `banded_align`: inter-problem vectorisation. `L` problems run in lock-step, one per
//! 32-bit lane, through exactly the scalar recurrence (`backend::scalar::banded_align`), so every
//! lane reproduces the spec bit for bit: same values, same clamping at `NEG`, same tie-breaks.
//! The traceback is the scalar one, reading this module's direction values.
//!
//! Written once over the [`Lanes`] trait; the ISA entry points in `backend::simd` instantiate it
//! for SSE4.1 (4 lanes), AVX2 (8) and AVX-512BW (16) inside `#[target_feature]` functions.
//!
//! Layout of a group of `L` problems (`M` = longest query, `W = 2·band + 1`), lane-minor:
//! * `target[p·L + l]`: target base of lane `l` at band position `p = i + k` (column
//!   `j = p + diagonal_l − band`), or `INVALID` outside `0..=n_l`, or `COLUMN0` at `j = 0`;
//! * `query[(i−1)·L + l]`: query base of row `i` (`N` past the lane's end);
//! * `h`, `f`: the scalar spec's two rows, `(W + 1)·L` values;
//! * `dirs[((i−1)·W + k)·L + l]`: the direction nibble of the scalar spec, one byte each.
//!
//! # Lane width
//! 32-bit lanes hold every value the contract allows (`kernel::banded_align::validate`). 16-bit
//! lanes run twice the problems per vector, and are used for a group only when [`fits_i16`]
//! proves, before the group runs, that none of its values can leave the 16-bit range; a group
//! that might is run on 32-bit lanes instead, so no result ever depends on the width. In 16-bit
//! lanes the contract's `NEG` is `i16::MIN` and sums saturate, which clamps at `NEG` exactly
//! as the 32-bit `max(sum, NEG)` does. Why the two are order-isomorphic (hence take the same
//! maxima, ties and directions): every cell inside the band and the target has an in-band
//! diagonal predecessor (or is a boundary cell), so by induction its `H` is a real path score;
//! `E`/`F` are `NEG` or real path scores; real scores of a group lie within
//! `±(c·(rows + cols + 2) + end_bonus)` with `c` the largest per-step gain or cost, and
//! [`fits_i16`] keeps that bound, plus one more step, strictly inside the 16-bit range.

use crate::backend::scalar::banded_align::{
    E_EXT, F_EXT, SRC_DIAG, SRC_E, SRC_F, SRC_START, append_cigar, boundary, traceback,
};
use crate::backend::simd::lanes::{Elem, Lanes};
use crate::genome::CigarOp;
use crate::kernel::banded_align::{AlignBatch, AlignPair, AlignParams, AlignResult, Mode, NEG};

const INVALID: u8 = 7;
const COLUMN0: u8 = 6;
/// Widest lane count of any entry point.
const MAX_LANES: usize = 32;
/// Largest bound on a 16-bit group's scores that [`fits_i16`] accepts (a margin below
/// `i16::MAX`).
const I16_BOUND: i64 = 32_000;

/// Whether every value of `group`'s DP provably fits 16-bit lanes (see the module header).
pub fn fits_i16(group: &[AlignPair], params: &AlignParams) -> bool {
    let rows = group
        .iter()
        .map(|p| i64::from(p.query_len))
        .max()
        .unwrap_or(0);
    let cols = group
        .iter()
        .map(|p| i64::from(p.target_len))
        .max()
        .unwrap_or(0);
    let step = [
        params.match_score,
        params.mismatch,
        params.n_penalty,
        params.gap_open + params.gap_extend,
    ]
    .into_iter()
    .map(|v| i64::from(v).abs())
    .max()
    .unwrap_or(0);
    let bonus = i64::from(params.end_bonus).abs();
    let bound = step * (rows + cols + 2) + bonus;
    let width = 2 * i64::from(params.band) + 1;
    bound + step + bonus < I16_BOUND && width < I16_BOUND
}

/// The lane value of contract value `x`.
#[inline(always)]
fn lane_value<V: Lanes>(x: i32) -> V::Elem {
    V::Elem::from_i32(if x == NEG { V::NEG } else { x })
}

/// The contract value of lane value `v`.
#[inline(always)]
fn contract_value<V: Lanes>(v: V::Elem) -> i32 {
    let v: i32 = v.into();
    if v == V::NEG { NEG } else { v }
}

/// `H` and `F` rows of one lane width.
#[derive(Default)]
struct Rows<E> {
    h: Vec<E>,
    f: Vec<E>,
}

/// Picks a [`Scratch`]'s rows of one element type.
pub trait RowsOf: Elem {
    #[doc(hidden)]
    fn rows(s: &mut Scratch) -> (&mut Vec<Self>, &mut Vec<Self>);
}

impl RowsOf for i32 {
    fn rows(s: &mut Scratch) -> (&mut Vec<i32>, &mut Vec<i32>) {
        (&mut s.rows32.h, &mut s.rows32.f)
    }
}

impl RowsOf for i16 {
    fn rows(s: &mut Scratch) -> (&mut Vec<i16>, &mut Vec<i16>) {
        (&mut s.rows16.h, &mut s.rows16.f)
    }
}

/// Reusable buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    target: Vec<u8>,
    query: Vec<u8>,
    dirs: Vec<u8>,
    rows32: Rows<i32>,
    rows16: Rows<i16>,
    ops: Vec<CigarOp>,
}

/// Aligns up to `V::LANES` pairs of `batch`, appending results in order.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub unsafe fn align_group<V: Lanes>(
    batch: &AlignBatch,
    pairs: &[AlignPair],
    params: &AlignParams,
    s: &mut Scratch,
    results: &mut Vec<AlignResult>,
    cigar: &mut Vec<(CigarOp, u32)>,
) where
    V::Elem: RowsOf,
{
    let lanes = V::LANES;
    debug_assert!(!pairs.is_empty() && pairs.len() <= lanes && lanes <= MAX_LANES);
    let band = i64::from(params.band);
    let w = (2 * band + 1) as usize;
    let local = params.mode == Mode::Local;
    let scan = params.mode != Mode::Global;
    let zdrop = if params.mode == Mode::Extension {
        params.zdrop
    } else {
        0
    };
    let (oe, ge) = (params.gap_open + params.gap_extend, params.gap_extend);
    let mut m = [0i64; MAX_LANES];
    let mut n = [0i64; MAX_LANES];
    let mut diag = [0i64; MAX_LANES];
    for (l, p) in pairs.iter().enumerate() {
        m[l] = i64::from(p.query_len);
        n[l] = i64::from(p.target_len);
        diag[l] = i64::from(p.diagonal);
    }
    let rows = m.iter().copied().max().unwrap_or(0) as usize;

    // Transposed sequences.
    let positions = rows + w + 1;
    s.target.clear();
    s.target.resize(positions * lanes, INVALID);
    s.query.clear();
    s.query.resize(rows.max(1) * lanes, 4);
    for (l, p) in pairs.iter().enumerate() {
        let (q, t) = (batch.query(p), batch.target(p));
        for (i, &b) in q.iter().enumerate() {
            s.query[i * lanes + l] = b;
        }
        // Position `pos` holds column `j = pos + diag - band`: INVALID (the fill) outside
        // `0..=n`, COLUMN0 at `j = 0`, the target base `t[j - 1]` in `1..=n`.
        let offset = band - diag[l]; // position of column 0
        if (0..positions as i64).contains(&offset) {
            s.target[offset as usize * lanes + l] = COLUMN0;
        }
        let first = (offset + 1).max(0);
        let last = (offset + n[l]).min(positions as i64 - 1);
        for pos in first..=last {
            s.target[pos as usize * lanes + l] = t[(pos - offset - 1) as usize];
        }
    }
    s.dirs.clear();
    s.dirs.resize(rows * w * lanes, 0);
    let (h_row, f_row) = V::Elem::rows(s);
    let neg = lane_value::<V>(NEG);
    h_row.clear();
    h_row.resize((w + 1) * lanes, neg);
    f_row.clear();
    f_row.resize((w + 1) * lanes, neg);

    // Row 0.
    for k in 0..w {
        for l in 0..lanes {
            let j = k as i64 + diag[l] - band;
            if (0..=n[l]).contains(&j) {
                h_row[k * lanes + l] = lane_value::<V>(boundary(params, 0, j));
            }
        }
    }
    let mut global_score = [0i32; MAX_LANES];
    let capture_global = |row: i64, h: &[V::Elem], score: &mut [i32; MAX_LANES]| {
        for l in 0..pairs.len() {
            if m[l] == row {
                let k = (n[l] - m[l] - diag[l] + band) as usize;
                score[l] = contract_value::<V>(h[k * lanes + l]);
            }
        }
    };
    if !scan {
        capture_global(0, h_row, &mut global_score);
    }
    let h = h_row.as_mut_ptr();
    let f = f_row.as_mut_ptr();
    // Lanes still computing (z-drop stops a lane; later rows of it are computed but unused).
    let (dead, live_lane) = (V::Elem::from_i32(0), V::Elem::from_i32(-1));
    let mut alive = [live_lane; MAX_LANES];
    let mut zdropped = [false; MAX_LANES];

    let mut m_lane = [V::Elem::default(); MAX_LANES];
    for l in 0..lanes {
        m_lane[l] = V::Elem::from_i32(m[l] as i32);
    }
    // SAFETY (whole block): the caller guarantees `V`'s instruction set; every pointer below
    // stays inside the buffers sized above: `target` has `(rows + w + 1)·L` bytes and is read
    // at `(i + k)·L` with `i <= rows`, `k < w`; `h`/`f` have `(w + 1)·L` values, read at
    // `(k + 1)·L`; `dirs` has `rows·w·L` values, written at `((i − 1)·w + k)·L`; `query` at
    // `(i − 1)·L`.
    let (score_v, best_i, best_k) = unsafe {
        let splat = |x: i32| V::splat(x);
        let (vmatch, vmis, vn) = (
            splat(params.match_score),
            splat(-params.mismatch),
            splat(-params.n_penalty),
        );
        let (neg, zero, one, three, ones) =
            (splat(V::NEG), splat(0), splat(1), splat(3), splat(-1));
        let (v_oe, v_ge) = (splat(-oe), splat(-ge));
        let (v_invalid, v_col0) = (splat(i32::from(INVALID)), splat(i32::from(COLUMN0)));
        let (v_src_e, v_src_f, v_src_diag) = (
            splat(i32::from(SRC_E)),
            splat(i32::from(SRC_F)),
            splat(i32::from(SRC_DIAG)),
        );
        let (v_e_ext, v_f_ext) = (splat(i32::from(E_EXT)), splat(i32::from(F_EXT)));
        debug_assert_eq!(SRC_START, 0);
        let vm = V::load(m_lane.as_ptr());
        let v_zdrop = splat(zdrop.min(V::MAX));
        let bonus = splat(params.end_bonus);
        let mut score = zero;
        let mut best_i = zero;
        let mut best_k = zero;
        let target = s.target.as_ptr();
        let dirs = s.dirs.as_mut_ptr();
        for i in 1..=rows {
            let vi = splat(i as i32);
            let q = V::load_u8(s.query.as_ptr().add((i - 1) * lanes));
            let q_n = q.gt(three);
            let column0 = splat(lane_value::<V>(boundary(params, i as i64, 0)).into());
            let live = vi.gt(vm).andnot(V::load(alive.as_ptr()));
            let mut row_max = splat(V::MIN);
            let mut row_k = zero;
            let row_bonus = vm.eq(vi).and(bonus);
            let mut e_run = neg;
            let mut h_left = neg;
            let dirs_row = dirs.add((i - 1) * w * lanes);
            // A row whose band lies inside every lane's target (no column outside 1..=n) needs
            // none of the edge masks: the loop body is expanded twice, with and without them.
            let clean = pairs.iter().enumerate().all(|(l, _)| {
                let first = i as i64 + diag[l] - band;
                first >= 1 && first + w as i64 - 1 <= n[l]
            });
            let mut h_diag = V::load(h);
            macro_rules! row {
                ($clean:expr) => {
                    let mut vk = zero;
                    for k in 0..w {
                        let t = V::load_u8(target.add((i + k) * lanes));
                        let h_up = V::load(h.add((k + 1) * lanes));
                        let f_up = V::load(f.add((k + 1) * lanes));

                        let e_open = h_left.add_clamp(v_oe, neg);
                        let e_ext = e_run.add_clamp(v_ge, neg);
                        let e_is_ext = e_ext.gt(e_open);
                        let ev = V::blend(e_is_ext, e_ext, e_open);
                        let f_open = h_up.add_clamp(v_oe, neg);
                        let f_ext = f_up.add_clamp(v_ge, neg);
                        let f_is_ext = f_ext.gt(f_open);
                        let fv = V::blend(f_is_ext, f_ext, f_open);
                        let any_n = q_n.or(t.gt(three));
                        let subst = V::blend(any_n, vn, V::blend(q.eq(t), vmatch, vmis));
                        let mut hv = h_diag.add_clamp(subst, neg);
                        let mut src = v_src_diag;
                        let take_e = ev.gt(hv);
                        hv = V::blend(take_e, ev, hv);
                        src = V::blend(take_e, v_src_e, src);
                        let take_f = fv.gt(hv);
                        hv = V::blend(take_f, fv, hv);
                        src = V::blend(take_f, v_src_f, src);
                        if local {
                            let start = zero.gt(hv);
                            hv = V::blend(start, zero, hv);
                            src = V::blend(start, zero, src);
                        }
                        let dir = src.or(e_is_ext.and(v_e_ext)).or(f_is_ext.and(v_f_ext));
                        // The old H[k+1] is the next cell's diagonal.
                        h_diag = h_up;
                        let k_here = vk;
                        vk = vk.add(one);
                        if $clean {
                            hv.store(h.add(k * lanes));
                            fv.store(f.add(k * lanes));
                            e_run = ev;
                            h_left = hv;
                            dir.store_u8(dirs_row.add(k * lanes));
                            if scan {
                                let higher = hv.gt(row_max);
                                row_max = V::blend(higher, hv, row_max);
                                row_k = V::blend(higher, k_here, row_k);
                            }
                        } else {
                            let invalid = t.eq(v_invalid);
                            let col0 = t.eq(v_col0);
                            let cell = invalid.or(col0).andnot(ones);
                            let h_new = V::blend(invalid, neg, V::blend(col0, column0, hv));
                            h_new.store(h.add(k * lanes));
                            V::blend(cell, fv, neg).store(f.add(k * lanes));
                            e_run = V::blend(cell, ev, neg);
                            h_left = h_new;
                            cell.and(dir).store_u8(dirs_row.add(k * lanes));
                            if scan {
                                // The row's first maximum: within one row the bonus is
                                // constant, so the scan's "first cell strictly above the best
                                // so far" is the row's first maximum when that beats the best
                                // (applied after the row).
                                let higher = hv.gt(row_max).and(cell);
                                row_max = V::blend(higher, hv, row_max);
                                row_k = V::blend(higher, k_here, row_k);
                            }
                        }
                    }
                };
            }
            if clean {
                row!(true);
            } else {
                row!(false);
            }
            if scan {
                let cand = row_max.add(row_bonus);
                let better = cand.gt(score).and(row_max.gt(splat(V::MIN))).and(live);
                score = V::blend(better, cand, score);
                best_i = V::blend(better, vi, best_i);
                best_k = V::blend(better, row_k, best_k);
            }
            if !scan {
                capture_global(
                    i as i64,
                    std::slice::from_raw_parts(h, (w + 1) * lanes),
                    &mut global_score,
                );
            }
            // Z-drop needs `score - row_max > zdrop` (the diagonal term is never negative):
            // a vector test of that, exact in 32-bit lanes and saturating in 16-bit ones
            // (a saturated difference is `V::MAX`, above any threshold it is compared with),
            // skips the per-lane check on the rows where no lane can stop.
            let may_drop = zdrop > 0
                && (zdrop >= V::MAX
                    || score
                        .sub(row_max)
                        .gt(v_zdrop)
                        .and(live)
                        .and(row_max.gt(splat(V::MIN)))
                        .any());
            if may_drop {
                let mut lane_vals = [[V::Elem::default(); MAX_LANES]; 5];
                for (v, dst) in [score, best_i, best_k, row_max, row_k]
                    .into_iter()
                    .zip(lane_vals.iter_mut())
                {
                    v.store(dst.as_mut_ptr());
                }
                let [sc, bi, bk, rm, rk] = lane_vals.map(|v| v.map(|x| -> i32 { x.into() }));
                for l in 0..pairs.len() {
                    if alive[l] == dead || i as i64 >= m[l] || rm[l] == V::MIN {
                        continue;
                    }
                    // Diagonals j - i of the row maximum and of the best cell (the empty
                    // alignment's is 0).
                    let row_diag = diag[l] - band + i64::from(rk[l]);
                    let best_diag = if bi[l] == 0 {
                        0
                    } else {
                        diag[l] - band + i64::from(bk[l])
                    };
                    if i64::from(sc[l]) - i64::from(rm[l])
                        > i64::from(zdrop) + i64::from(ge) * (row_diag - best_diag).abs()
                    {
                        alive[l] = dead;
                        zdropped[l] = true;
                    }
                }
            }
        }
        let mut out = [[V::Elem::default(); MAX_LANES]; 3];
        score.store(out[0].as_mut_ptr());
        best_i.store(out[1].as_mut_ptr());
        best_k.store(out[2].as_mut_ptr());
        let [sc, bi, bk] = out;
        (
            sc.map(|x| contract_value::<V>(x)),
            bi.map(|x| -> i32 { x.into() }),
            bk.map(|x| -> i32 { x.into() }),
        )
    };
    let score = if scan { score_v } else { global_score };
    for l in 0..pairs.len() {
        let (bi, bj) = if scan {
            let bi = i64::from(best_i[l]);
            (
                bi,
                if bi == 0 {
                    0
                } else {
                    bi + diag[l] - band + i64::from(best_k[l])
                },
            )
        } else {
            (m[l], n[l])
        };
        let dirs = &s.dirs;
        let (qs, ts) = traceback(
            local,
            (bi, bj),
            diag[l],
            band,
            |i, k| dirs[((i - 1) as usize * w + k) * lanes + l],
            &mut s.ops,
        );
        let (cigar_offset, cigar_len) = append_cigar(&s.ops, cigar);
        results.push(AlignResult {
            score: score[l],
            query_start: qs as u32,
            query_end: bi as u32,
            target_start: ts as u32,
            target_end: bj as u32,
            zdropped: zdropped[l],
            cigar_offset,
            cigar_len,
        });
    }
}
