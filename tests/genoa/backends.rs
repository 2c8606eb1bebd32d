//! `banded_align` on every backend: the scalar spec checked against an independent full-matrix
//! implementation and against a re-scoring of its own CIGARs, and every other backend checked
//! for equality with scalar (score, ends, CIGAR) on edge cases and seeded random cases.

use genoa::backend::Backend;
use genoa::backend::scalar::Scalar;
use genoa::genome::CigarOp;
use genoa::kernel::banded_align::{AlignBatch, AlignParams, AlignResults, Mode, NEG, substitution};

use super::common::{Rng, backend_tests, gpu};

/// Independent reference: full (m+1)×(n+1) matrices, the band applied as a mask, traceback
/// over the stored matrices rather than direction bits.
/// (score, query start, query end, target start, target end, z-dropped, CIGAR).
type Expected = (i32, u32, u32, u32, u32, bool, Vec<(CigarOp, u32)>);

#[allow(clippy::needless_range_loop)] // index arithmetic mirrors the recurrence
fn naive(q: &[u8], t: &[u8], diag: i32, p: &AlignParams) -> Expected {
    let (m, n) = (q.len(), t.len());
    let inband =
        |i: usize, j: usize| (j as i64 - i as i64 - i64::from(diag)).abs() <= i64::from(p.band);
    let local = p.mode == Mode::Local;
    let scan = p.mode != Mode::Global;
    let zdrop = if p.mode == Mode::Extension {
        p.zdrop
    } else {
        0
    };
    let (oe, e) = (p.gap_open + p.gap_extend, p.gap_extend);
    let mut h = vec![vec![NEG; n + 1]; m + 1];
    let mut ee = vec![vec![NEG; n + 1]; m + 1];
    let mut ff = vec![vec![NEG; n + 1]; m + 1];
    for i in 0..=m {
        for j in 0..=n {
            if !inband(i, j) || (i > 0 && j > 0) {
                continue;
            }
            h[i][j] = if local {
                if i == 0 { p.end_bonus } else { 0 }
            } else if i + j == 0 {
                0
            } else {
                (-(p.gap_open + (i + j) as i32 * p.gap_extend)).max(NEG)
            };
        }
    }
    let mut best = (0, 0, 0);
    let mut dropped = false;
    for i in 1..=m {
        for j in 1..=n {
            if !inband(i, j) {
                continue;
            }
            ee[i][j] = (h[i][j - 1] - oe).max(ee[i][j - 1] - e).max(NEG);
            ff[i][j] = (h[i - 1][j] - oe).max(ff[i - 1][j] - e).max(NEG);
            let mut v = (h[i - 1][j - 1] + substitution(p, q[i - 1], t[j - 1])).max(NEG);
            v = v.max(ee[i][j]).max(ff[i][j]);
            if local {
                v = v.max(0);
            }
            h[i][j] = v;
            if scan {
                let c = v + if i == m { p.end_bonus } else { 0 };
                if c > best.0 {
                    best = (c, i, j);
                }
            }
        }
        // Z-drop, written from the contract's text: the row's first maximum against the best.
        let row: Vec<(usize, i32)> = (1..=n)
            .filter(|&j| inband(i, j))
            .map(|j| (j, h[i][j]))
            .collect();
        if zdrop > 0 && i < m && !row.is_empty() {
            let top = row.iter().map(|x| x.1).max().unwrap();
            let r = row.iter().find(|x| x.1 == top).unwrap().0;
            let drift = ((r as i64 - i as i64) - (best.2 as i64 - best.1 as i64)).abs();
            if i64::from(best.0 - top) > i64::from(zdrop) + i64::from(e) * drift {
                dropped = true;
                break;
            }
        }
    }
    let (score, bi, bj) = if scan { best } else { (h[m][n], m, n) };
    // Traceback with the contract's preferences, recomputing each choice from the matrices.
    let (mut i, mut j) = (bi, bj);
    let mut ops = Vec::new();
    let mut state = 0; // 0 H, 1 E, 2 F
    loop {
        if i == 0 || j == 0 {
            if !local {
                ops.extend(std::iter::repeat_n(CigarOp::Del, j));
                ops.extend(std::iter::repeat_n(CigarOp::Ins, i));
                i = 0;
                j = 0;
            }
            break;
        }
        match state {
            1 => {
                ops.push(CigarOp::Del);
                let ext = (ee[i][j - 1] - e).max(NEG) > (h[i][j - 1] - oe).max(NEG);
                j -= 1;
                if !ext {
                    state = 0;
                }
            }
            2 => {
                ops.push(CigarOp::Ins);
                let ext = (ff[i - 1][j] - e).max(NEG) > (h[i - 1][j] - oe).max(NEG);
                i -= 1;
                if !ext {
                    state = 0;
                }
            }
            _ => {
                let d = (h[i - 1][j - 1] + substitution(p, q[i - 1], t[j - 1])).max(NEG);
                if h[i][j] == d {
                    ops.push(CigarOp::Match);
                    i -= 1;
                    j -= 1;
                } else if h[i][j] == ee[i][j] {
                    state = 1;
                } else if h[i][j] == ff[i][j] {
                    state = 2;
                } else {
                    break;
                }
            }
        }
    }
    let mut cigar: Vec<(CigarOp, u32)> = Vec::new();
    for op in ops.into_iter().rev() {
        match cigar.last_mut() {
            Some((o, n)) if *o == op => *n += 1,
            _ => cigar.push((op, 1)),
        }
    }
    (
        score, i as u32, bi as u32, j as u32, bj as u32, dropped, cigar,
    )
}

/// Score of an alignment recomputed from its CIGAR.
fn rescore(
    q: &[u8],
    t: &[u8],
    qs: usize,
    ts: usize,
    cigar: &[(CigarOp, u32)],
    p: &AlignParams,
) -> i32 {
    let (mut i, mut j, mut s) = (qs, ts, 0);
    for &(op, n) in cigar {
        let n = n as usize;
        match op {
            CigarOp::Match => {
                for k in 0..n {
                    s += substitution(p, q[i + k], t[j + k]);
                }
                i += n;
                j += n;
            }
            CigarOp::Ins => {
                s -= p.gap_open + n as i32 * p.gap_extend;
                i += n;
            }
            CigarOp::Del => {
                s -= p.gap_open + n as i32 * p.gap_extend;
                j += n;
            }
            CigarOp::SoftClip => unreachable!("kernel CIGARs have no clips"),
        }
    }
    s
}

fn params(mode: Mode, band: u32) -> AlignParams {
    AlignParams {
        mode,
        band,
        ..AlignParams::short_read(band)
    }
}

/// A mutated copy of `src`: substitutions, insertions and deletions at the given rates (per mille).
fn mutate(rng: &mut Rng, src: &[u8], sub: u64, indel: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + 8);
    for &b in src {
        let r = rng.u64(..1000);
        if r < indel / 2 {
            continue; // deletion
        } else if r < indel {
            out.push(b);
            out.push(rng.u64(..5) as u8); // insertion (N included)
        } else if r < indel + sub {
            out.push((b + 1 + rng.u64(..3) as u8) % 4);
        } else {
            out.push(b);
        }
    }
    out
}

/// Edge cases: empty, lengths around vector widths, all-N, band edges, large penalties.
fn edge_cases() -> Vec<(AlignParams, AlignBatch)> {
    let mut rng = Rng::with_seed(7);
    let mut cases = Vec::new();
    for mode in [Mode::Local, Mode::Global, Mode::Extension] {
        for band in [0u32, 1, 5, 16, 33] {
            let mut b = AlignBatch::default();
            for len in [0usize, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 150] {
                let q = genoa::genome::random_bases(&mut rng, len);
                let t = mutate(&mut rng, &q, 20, 10);
                let d = if mode == Mode::Global {
                    ((t.len() as i32 - q.len() as i32) / 2).clamp(-(band as i32), band as i32)
                } else {
                    0
                };
                if mode == Mode::Global
                    && (t.len() as i64 - q.len() as i64 - i64::from(d)).unsigned_abs()
                        > u64::from(band)
                {
                    continue;
                }
                b.push(&q, &t, d);
                if mode == Mode::Extension {
                    // Z-drop triggers: the second half unrelated, or a long insertion.
                    let half = len / 2;
                    let mut junk = t[..half.min(t.len())].to_vec();
                    junk.extend(genoa::genome::random_bases(
                        &mut rng,
                        len - half + band as usize,
                    ));
                    b.push(&q, &junk, 0);
                    let mut ins = q[..half].to_vec();
                    ins.extend(genoa::genome::random_bases(&mut rng, 12));
                    ins.extend_from_slice(&q[half..]);
                    b.push(&ins, &q, 0);
                    b.push(&q, &t, band as i32 + 3); // diagonal past the band edge
                }
                if mode == Mode::Local {
                    let window: Vec<u8> = genoa::genome::random_bases(&mut rng, band as usize)
                        .into_iter()
                        .chain(t.iter().copied())
                        .chain(genoa::genome::random_bases(&mut rng, band as usize))
                        .collect();
                    b.push(&q, &window, band as i32);
                    b.push(&vec![4u8; len], &window, band as i32); // all N query
                    b.push(&q, &vec![4u8; len + 2 * band as usize], band as i32); // all N target
                    b.push(&q, &genoa::genome::random_bases(&mut rng, len), 0); // unrelated
                    b.push(&q, &t, band as i32 + 3); // diagonal past the band edge
                    b.push(&q, &t, -(band as i32) - 2);
                }
            }
            if mode == Mode::Extension {
                for zdrop in [0, 1, 8, 30, 100] {
                    cases.push((
                        AlignParams {
                            zdrop,
                            ..params(mode, band)
                        },
                        b.clone(),
                    ));
                }
            } else {
                cases.push((params(mode, band), b));
            }
        }
    }
    // Saturation-prone scoring: the largest penalties the contract allows, long sequences (the
    // 2,000-base one exceeds lavapipe's per-invocation loop cap and takes the host path there).
    let mut b = AlignBatch::default();
    for len in [600, 2000] {
        let q = genoa::genome::random_bases(&mut rng, len);
        let t = mutate(&mut rng, &q, 200, 20);
        b.push(&q, &t, 0);
    }
    let big = AlignParams {
        mode: Mode::Local,
        match_score: 1000,
        mismatch: 1000,
        n_penalty: 1000,
        gap_open: 1000,
        gap_extend: 1000,
        band: 40,
        end_bonus: 1000,
        zdrop: 0,
    };
    cases.push((big, b.clone()));
    cases.push((
        AlignParams {
            mode: Mode::Extension,
            zdrop: 1_000_000,
            ..big
        },
        b,
    ));
    cases.extend(lane_width_cases(&mut rng));
    cases
}

/// Scoring under which the SIMD backend's 16-bit lanes are just allowed, and just not.
fn wide_scoring(mode: Mode) -> AlignParams {
    AlignParams {
        mode,
        match_score: 3,
        mismatch: 20,
        n_penalty: 20,
        gap_open: 10,
        gap_extend: 5,
        band: 12,
        end_bonus: 7,
        zdrop: 0,
    }
}

/// Groups on both sides of the SIMD backend's 16-bit limit (`fits_i16`): all-mismatch and
/// strongly diverged pairs that drive scores far negative, and mixed groups in which one long
/// pair moves a whole group of short ones to 32-bit lanes.
fn lane_width_cases(rng: &mut Rng) -> Vec<(AlignParams, AlignBatch)> {
    let mut out = Vec::new();
    for mode in [Mode::Global, Mode::Extension, Mode::Local] {
        let p = wide_scoring(mode);
        for len in [780usize, 795, 800, 820] {
            let mut b = AlignBatch::default();
            let q = genoa::genome::random_bases(rng, len);
            let mismatched: Vec<u8> = q.iter().map(|&x| (x + 1) % 4).collect();
            b.push(&q, &mismatched, 0);
            b.push(&q, &mutate(rng, &q, 8, 4), 0);
            for short in 0..40 {
                let q = genoa::genome::random_bases(rng, 20 + short);
                b.push(&q, &mutate(rng, &q, 10, 5), 0);
            }
            b.push(&q, &q, 0);
            if mode == Mode::Global {
                b.pairs.retain(|pair| {
                    (i64::from(pair.target_len) - i64::from(pair.query_len)).unsigned_abs()
                        <= u64::from(p.band)
                });
            }
            out.push((p, b));
        }
    }
    out
}

#[test]
fn lane_width_cases_straddle_the_16_bit_limit() {
    use genoa::backend::simd::banded_align::fits_i16;
    let (mut narrow, mut wide) = (0, 0);
    for (p, b) in lane_width_cases(&mut Rng::with_seed(7)) {
        for pair in &b.pairs {
            if fits_i16(std::slice::from_ref(pair), &p) {
                narrow += 1;
            } else {
                wide += 1;
            }
        }
    }
    assert!(narrow > 0 && wide > 0, "narrow {narrow} wide {wide}");
}

/// Seeded random read-like cases.
fn random_cases(seed: u64, count: usize) -> Vec<(AlignParams, AlignBatch)> {
    let mut rng = Rng::with_seed(seed);
    let mut out = Vec::new();
    for mode in [Mode::Local, Mode::Global, Mode::Extension] {
        let band = 1 + rng.u64(..24) as u32;
        let mut b = AlignBatch::default();
        for _ in 0..count / 2 {
            let len = 1 + rng.u64(..250) as usize;
            let q = genoa::genome::random_bases(&mut rng, len);
            let (sub, indel) = (1 + rng.u64(..60), rng.u64(..30));
            let t = mutate(&mut rng, &q, sub, indel);
            match mode {
                Mode::Local => {
                    let lead = rng.u64(..u64::from(band) + 1) as usize;
                    let tail = rng.u64(..20) as usize;
                    let window: Vec<u8> = genoa::genome::random_bases(&mut rng, lead)
                        .into_iter()
                        .chain(t)
                        .chain(genoa::genome::random_bases(&mut rng, tail))
                        .collect();
                    b.push(&q, &window, lead as i32);
                }
                Mode::Extension => {
                    // Read-like extension: sometimes the tail diverges entirely.
                    let mut t = t;
                    if rng.u64(..4) == 0 {
                        let cut = rng.u64(..t.len() as u64 + 1) as usize;
                        t.truncate(cut);
                        t.extend(genoa::genome::random_bases(
                            &mut rng,
                            len - cut.min(len) + 10,
                        ));
                    }
                    b.push(&q, &t, 0);
                }
                Mode::Global => {
                    let d = t.len() as i64 - q.len() as i64;
                    if d.unsigned_abs() > u64::from(band) {
                        continue;
                    }
                    b.push(&q, &t, (d / 2) as i32);
                }
            }
        }
        let zdrop = if mode == Mode::Extension {
            1 + rng.u64(..60) as i32
        } else {
            0
        };
        out.push((
            AlignParams {
                zdrop,
                ..params(mode, band)
            },
            b,
        ));
    }
    out
}

fn run(backend: &dyn Backend, batch: &AlignBatch, p: &AlignParams) -> AlignResults {
    let mut out = AlignResults::default();
    backend
        .banded_align(batch, p, &mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", backend.name()));
    assert_eq!(out.results.len(), batch.pairs.len());
    out
}

#[test]
fn scalar_matches_the_naive_full_matrix_and_its_own_cigars() {
    let mut cases = edge_cases();
    cases.extend(random_cases(11, 2_000));
    let (mut checked, mut dropped) = (0, 0);
    for (p, batch) in &cases {
        let out = run(&Scalar, batch, p);
        dropped += out.results.iter().filter(|r| r.zdropped).count();
        for (pair, r) in batch.pairs.iter().zip(&out.results) {
            let (q, t) = (batch.query(pair), batch.target(pair));
            let cigar =
                &out.cigar[r.cigar_offset as usize..(r.cigar_offset + r.cigar_len) as usize];
            let want = naive(q, t, pair.diagonal, p);
            assert_eq!(
                (
                    r.score,
                    r.query_start,
                    r.query_end,
                    r.target_start,
                    r.target_end,
                    r.zdropped,
                    cigar.to_vec()
                ),
                want,
                "pair {pair:?} params {p:?}"
            );
            let bonus = match p.mode {
                Mode::Local if r.query_end > r.query_start || r.score > 0 => {
                    (if r.query_start == 0 { p.end_bonus } else { 0 })
                        + if r.query_end as usize == q.len() {
                            p.end_bonus
                        } else {
                            0
                        }
                }
                Mode::Extension if r.query_end as usize == q.len() && r.query_end > 0 => {
                    p.end_bonus
                }
                _ => 0,
            };
            assert_eq!(
                rescore(
                    q,
                    t,
                    r.query_start as usize,
                    r.target_start as usize,
                    cigar,
                    p
                ) + bonus,
                r.score,
                "CIGAR does not add up to the score: {pair:?}"
            );
            let ql: u32 = cigar
                .iter()
                .filter(|(o, _)| o.consumes_query())
                .map(|(_, n)| n)
                .sum();
            let tl: u32 = cigar
                .iter()
                .filter(|(o, _)| o.consumes_reference())
                .map(|(_, n)| n)
                .sum();
            assert_eq!(ql, r.query_end - r.query_start);
            assert_eq!(tl, r.target_end - r.target_start);
            checked += 1;
        }
    }
    assert!(checked > 2_000, "{checked}");
    assert!(
        dropped > 50,
        "z-drop fired only {dropped} times: the cases do not exercise it"
    );
}

/// Asserts that `backend` gives scalar's results on every case; the pairs compared.
fn assert_equals_scalar(backend: &dyn Backend, cases: &[(AlignParams, AlignBatch)]) -> usize {
    let mut compared = 0;
    for (p, batch) in cases {
        let want = run(&Scalar, batch, p);
        let got = run(backend, batch, p);
        for k in 0..batch.pairs.len() {
            let (a, b) = (&want.results[k], &got.results[k]);
            let ca = &want.cigar[a.cigar_offset as usize..(a.cigar_offset + a.cigar_len) as usize];
            let cb = &got.cigar[b.cigar_offset as usize..(b.cigar_offset + b.cigar_len) as usize];
            assert_eq!(
                (
                    a.score,
                    a.query_start,
                    a.query_end,
                    a.target_start,
                    a.target_end,
                    a.zdropped,
                    ca
                ),
                (
                    b.score,
                    b.query_start,
                    b.query_end,
                    b.target_start,
                    b.target_end,
                    b.zdropped,
                    cb
                ),
                "{} differs from scalar on pair {k}: {:?} params {p:?}",
                backend.name(),
                batch.pairs[k]
            );
        }
        compared += batch.pairs.len();
    }
    compared
}

fn equals_scalar_on_edge_cases(backend: &dyn Backend) {
    assert_equals_scalar(backend, &edge_cases());
}

fn equals_scalar_on_random_cases(backend: &dyn Backend) {
    let compared = assert_equals_scalar(backend, &random_cases(2026, 10_000));
    assert!(compared >= 9_000, "only {compared} cases compared");
}

fn empty_batches_and_invalid_parameters(backend: &dyn Backend) {
    let mut out = AlignResults::default();
    backend
        .banded_align(&AlignBatch::default(), &params(Mode::Local, 8), &mut out)
        .unwrap();
    assert!(out.results.is_empty());
    let mut b = AlignBatch::default();
    b.push(&[0, 1, 2], &[0, 1, 2, 3, 3, 3, 3, 3, 3], 0);
    // Global with the end cell outside the band is refused identically everywhere.
    let err = backend
        .banded_align(&b, &params(Mode::Global, 2), &mut out)
        .unwrap_err();
    assert!(err.to_string().contains("outside the band"), "{err}");
    let bad = AlignParams {
        gap_open: -1,
        ..params(Mode::Local, 2)
    };
    assert!(backend.banded_align(&b, &bad, &mut out).is_err());
}

backend_tests!(
    equals_scalar_on_edge_cases,
    equals_scalar_on_random_cases,
    empty_batches_and_invalid_parameters,
);

#[test]
fn gpu_splits_batches_larger_than_one_binding() {
    let Ok(mut gpu) = genoa::backend::gpu::Gpu::new(true) else {
        assert!(gpu().is_none());
        return;
    };
    // A 16 KiB binding cap forces hundreds of dispatches for this batch.
    gpu.limit_binding(16 << 10);
    let mut rng = Rng::with_seed(99);
    let mut b = AlignBatch::default();
    for _ in 0..3_000 {
        let len = 1 + rng.u64(..120) as usize;
        let q = genoa::genome::random_bases(&mut rng, len);
        let t = mutate(&mut rng, &q, 30, 10);
        b.push(&q, &t, 0);
    }
    let p = params(Mode::Local, 12);
    assert_eq!(run(&Scalar, &b, &p), run(&gpu, &b, &p));
}
