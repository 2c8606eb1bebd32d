//! Scalar `banded_align`: the specification the SIMD and GPU backends are tested against.
//!
//! Recurrence, boundaries and tie-breaks: see [`crate::kernel::banded_align`].
//!
//! Layout: the band of row `i` is indexed by `k = j - i - diagonal + band` in `0..W`,
//! `W = 2·band + 1`. Two row arrays `H[k]`, `F[k]` are updated in place with `k` ascending
//! (cell `(i,j)` reads the old `H[k]` as its diagonal and the old `H[k+1]`, `F[k+1]` as the
//! cell above); `E` runs along the row in a scalar. One direction nibble per cell
//! (`bits 0-1`: source of H — 0 start, 1 diagonal, 2 E, 3 F; `bit 2`: E extended; `bit 3`: F
//! extended) is kept for rows `1..=m` and read by the traceback.

use crate::genome::CigarOp;
use crate::kernel::banded_align::{AlignParams, AlignResult, Mode, NEG, substitution};

pub(crate) const SRC_START: u8 = 0;
pub(crate) const SRC_DIAG: u8 = 1;
pub(crate) const SRC_E: u8 = 2;
pub(crate) const SRC_F: u8 = 3;
pub(crate) const E_EXT: u8 = 4;
pub(crate) const F_EXT: u8 = 8;

/// Reusable per-thread scratch for one problem.
#[derive(Default)]
pub struct Scratch {
    h: Vec<i32>,
    f: Vec<i32>,
    dirs: Vec<u8>,
    ops: Vec<CigarOp>,
}

/// Boundary value of `H(i, j)` when `i == 0` or `j == 0`.
pub(crate) fn boundary(params: &AlignParams, i: i64, j: i64) -> i32 {
    match params.mode {
        Mode::Global | Mode::Extension => {
            let len = (i + j) as i32;
            if len == 0 {
                0
            } else {
                (-(params.gap_open + len * params.gap_extend)).max(NEG)
            }
        }
        Mode::Local => {
            if i == 0 {
                params.end_bonus
            } else {
                0
            }
        }
    }
}

/// Aligns one pair, appending its CIGAR runs to `cigar`.
pub fn align_one(
    query: &[u8],
    target: &[u8],
    diagonal: i32,
    params: &AlignParams,
    s: &mut Scratch,
    cigar: &mut Vec<(CigarOp, u32)>,
) -> AlignResult {
    let m = query.len() as i64;
    let n = target.len() as i64;
    let band = i64::from(params.band);
    let w = (2 * band + 1) as usize;
    let diag = i64::from(diagonal);
    let local = params.mode == Mode::Local;
    // Local and extension mode look for the best cell anywhere; global takes (m, n).
    let scan = params.mode != Mode::Global;
    let zdrop = if params.mode == Mode::Extension {
        params.zdrop
    } else {
        0
    };
    let (oe, e) = (params.gap_open + params.gap_extend, params.gap_extend);

    s.h.clear();
    s.h.resize(w + 1, NEG);
    s.f.clear();
    s.f.resize(w + 1, NEG);
    s.dirs.clear();
    s.dirs.resize(m as usize * w, 0);

    // Row 0.
    for k in 0..w {
        let j = diag - band + k as i64;
        if (0..=n).contains(&j) {
            s.h[k] = boundary(params, 0, j);
        }
    }

    let mut best = (0i32, 0i64, 0i64); // (score, i, j): the empty alignment
    let mut zdropped = false;
    for i in 1..=m {
        // The row's largest H and its column, for z-drop.
        let mut row_max: Option<(i32, i64)> = None;
        let qi = query[(i - 1) as usize];
        let mut e_run = NEG; // E(i, j-1)
        let mut h_left = NEG; // H(i, j-1)
        let row = &mut s.dirs[(i - 1) as usize * w..i as usize * w];
        for (k, dir) in row.iter_mut().enumerate() {
            let j = i + diag - band + k as i64;
            let h_diag = s.h[k];
            let (h_up, f_up) = (s.h[k + 1], s.f[k + 1]);
            if j < 0 || j > n {
                s.h[k] = NEG;
                s.f[k] = NEG;
                e_run = NEG;
                h_left = NEG;
                continue;
            }
            if j == 0 {
                let hb = boundary(params, i, 0);
                s.h[k] = hb;
                s.f[k] = NEG;
                e_run = NEG;
                h_left = hb;
                continue;
            }
            let (e_open, e_ext) = ((h_left - oe).max(NEG), (e_run - e).max(NEG));
            let (ev, e_bit) = if e_ext > e_open {
                (e_ext, E_EXT)
            } else {
                (e_open, 0)
            };
            let (f_open, f_ext) = ((h_up - oe).max(NEG), (f_up - e).max(NEG));
            let (fv, f_bit) = if f_ext > f_open {
                (f_ext, F_EXT)
            } else {
                (f_open, 0)
            };
            let mut hv = (h_diag + substitution(params, qi, target[(j - 1) as usize])).max(NEG);
            let mut src = SRC_DIAG;
            if ev > hv {
                hv = ev;
                src = SRC_E;
            }
            if fv > hv {
                hv = fv;
                src = SRC_F;
            }
            if local && 0 > hv {
                hv = 0;
                src = SRC_START;
            }
            *dir = src | e_bit | f_bit;
            s.h[k] = hv;
            s.f[k] = fv;
            e_run = ev;
            h_left = hv;
            if scan {
                let cand = hv + if i == m { params.end_bonus } else { 0 };
                if cand > best.0 {
                    best = (cand, i, j);
                }
            }
            if row_max.is_none_or(|(r, _)| hv > r) {
                row_max = Some((hv, j));
            }
        }
        if let Some((r, jr)) = row_max.filter(|_| zdrop > 0 && i < m) {
            let drift = ((jr - i) - (best.2 - best.1)).abs();
            if i64::from(best.0) - i64::from(r) > i64::from(zdrop) + i64::from(e) * drift {
                zdropped = true;
                break;
            }
        }
    }

    let (score, bi, bj) = if scan {
        best
    } else {
        // validate() guarantees (m, n) lies in the band.
        let k = (n - m - diag + band) as usize;
        let score = if m == 0 {
            boundary(params, 0, n)
        } else {
            s.h[k]
        };
        (score, m, n)
    };

    let (qs, ts) = traceback(
        local,
        (bi, bj),
        diag,
        band,
        |i, k| s.dirs[(i - 1) as usize * w + k],
        &mut s.ops,
    );
    let (cigar_offset, cigar_len) = append_cigar(&s.ops, cigar);
    AlignResult {
        score,
        query_start: qs as u32,
        query_end: bi as u32,
        target_start: ts as u32,
        target_end: bj as u32,
        zdropped,
        cigar_offset,
        cigar_len,
    }
}

/// Follows the direction nibbles from the best cell `(bi, bj)` back to the start, pushing the
/// operations (last first) into `ops`; returns the start `(i, j)`. `dir(i, k)` is the nibble of
/// row `i >= 1`, band index `k`. Shared by every CPU backend: the traceback is part of the spec.
pub(crate) fn traceback(
    local: bool,
    (bi, bj): (i64, i64),
    diag: i64,
    band: i64,
    dir: impl Fn(i64, usize) -> u8,
    ops: &mut Vec<CigarOp>,
) -> (i64, i64) {
    ops.clear();
    let (mut i, mut j) = (bi, bj);
    let mut state = SRC_DIAG; // "in H"
    loop {
        if i == 0 || j == 0 {
            if !local {
                ops.extend(std::iter::repeat_n(CigarOp::Del, j as usize));
                ops.extend(std::iter::repeat_n(CigarOp::Ins, i as usize));
                i = 0;
                j = 0;
            }
            break;
        }
        let d = dir(i, (j - i - diag + band) as usize);
        match state {
            SRC_E => {
                ops.push(CigarOp::Del);
                j -= 1;
                if d & E_EXT == 0 {
                    state = SRC_DIAG;
                }
            }
            SRC_F => {
                ops.push(CigarOp::Ins);
                i -= 1;
                if d & F_EXT == 0 {
                    state = SRC_DIAG;
                }
            }
            _ => match d & 3 {
                SRC_DIAG => {
                    ops.push(CigarOp::Match);
                    i -= 1;
                    j -= 1;
                }
                SRC_E => state = SRC_E,
                SRC_F => state = SRC_F,
                _ => break,
            },
        }
    }
    (i, j)
}

/// Appends `ops` (last first, as [`traceback`] leaves them) to `cigar` as runs; returns the
/// new runs' offset and count.
pub(crate) fn append_cigar(ops: &[CigarOp], cigar: &mut Vec<(CigarOp, u32)>) -> (u32, u32) {
    let cigar_offset = cigar.len() as u32;
    for &op in ops.iter().rev() {
        let open_run = cigar.len() as u32 > cigar_offset;
        match cigar.last_mut() {
            Some((last, len)) if open_run && *last == op => *len += 1,
            _ => cigar.push((op, 1)),
        }
    }
    (cigar_offset, cigar.len() as u32 - cigar_offset)
}
