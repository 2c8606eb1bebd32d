//! `pair_hmm` on every backend: bit-identical likelihoods (scalar spec vs SIMD of each ISA vs
//! GPU) on edge cases and seeded random cases, and the binary32 spec's accuracy against the
//! f64 oracle on a realistic read corpus.

use genoa::backend::Backend;
use genoa::backend::scalar::Scalar;
use genoa::backend::scalar::pair_hmm::oracle;
use genoa::kernel::pair_hmm::{HmmBatch, HmmRead, HmmResults};

use super::common::{Rng, backend_tests, gpu};

/// An owned read: bases and the four quality arrays.
struct Read {
    bases: Vec<u8>,
    quals: Vec<u8>,
    ins: Vec<u8>,
    del: Vec<u8>,
    gcp: Vec<u8>,
}

impl Read {
    /// GATK's defaults: indel gap-open Q45, gap continuation Q10.
    fn new(bases: Vec<u8>, quals: Vec<u8>) -> Read {
        let n = bases.len();
        Read {
            bases,
            quals,
            ins: vec![45; n],
            del: vec![45; n],
            gcp: vec![10; n],
        }
    }
    fn view(&self) -> HmmRead<'_> {
        HmmRead {
            bases: &self.bases,
            quals: &self.quals,
            ins_quals: &self.ins,
            del_quals: &self.del,
            gcp_quals: &self.gcp,
        }
    }
}

fn push(batch: &mut HmmBatch, reads: &[Read], haps: &[Vec<u8>]) {
    let views: Vec<HmmRead> = reads.iter().map(Read::view).collect();
    let haps: Vec<&[u8]> = haps.iter().map(|h| h.as_slice()).collect();
    batch.push_region(&views, &haps);
}

/// `src` with `per_mille` substitutions, insertions and deletions (a tenth each of indels).
fn mutate(rng: &mut Rng, src: &[u8], per_mille: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + 8);
    for &b in src {
        match rng.u64(..1000) {
            r if r < per_mille / 10 => {}
            r if r < per_mille / 5 => out.extend([b, rng.u64(..4) as u8]),
            r if r < per_mille => out.push((b + 1 + rng.u64(..3) as u8) % 4),
            _ => out.push(b),
        }
    }
    out
}

fn quals(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| 2 + rng.u64(..40) as u8).collect()
}

/// Hand-picked cases: lengths around vector widths, read longer than the haplotype, all-N,
/// Q0/Q2/Q60/Q93 bases, empty reads and haplotypes, extreme indel qualities.
fn edge_cases() -> HmmBatch {
    let mut rng = Rng::with_seed(11);
    let mut b = HmmBatch::default();
    for len in [1usize, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65] {
        let hap = genoa::genome::random_bases(&mut rng, len + 10);
        let mut reads = Vec::new();
        for k in 0..20usize {
            let start = rng.u64(..11) as usize;
            let bases = mutate(&mut rng, &hap[start..start + len], 50);
            let q = match k % 5 {
                0 => vec![2; bases.len()],
                1 => vec![60; bases.len()],
                2 => vec![93; bases.len()], // above the model's cap
                3 => vec![0; bases.len()],
                _ => quals(&mut rng, bases.len()),
            };
            reads.push(Read::new(bases, q));
        }
        // Read longer than the haplotype.
        let long = genoa::genome::random_bases(&mut rng, len + 20);
        let q = quals(&mut rng, long.len());
        reads.push(Read::new(long, q));
        push(
            &mut b,
            &reads,
            &[
                hap.clone(),
                hap[..len].to_vec(),
                genoa::genome::random_bases(&mut rng, 3),
            ],
        );
    }
    // All-N read, all-N haplotype, N in both.
    let hap = genoa::genome::random_bases(&mut rng, 40);
    let mut with_n = hap[5..30].to_vec();
    with_n[3] = 4;
    with_n[17] = 4;
    push(
        &mut b,
        &[
            Read::new(vec![4; 25], vec![30; 25]),
            Read::new(with_n, vec![30; 25]),
            Read::new(hap[..25].to_vec(), vec![30; 25]),
        ],
        &[hap.clone(), vec![4; 40], {
            let mut h = hap.clone();
            h[10] = 4;
            h
        }],
    );
    // Empty read and empty haplotype; a region with no reads; one with no haplotypes.
    push(
        &mut b,
        &[
            Read::new(Vec::new(), Vec::new()),
            Read::new(vec![1, 2], vec![30, 30]),
        ],
        &[Vec::new(), vec![1, 2, 3]],
    );
    push(&mut b, &[], &[vec![0, 1]]);
    push(&mut b, &[Read::new(vec![0], vec![20])], &[]);
    // Extreme indel qualities: gap open Q0 and Q93, gap continuation Q0 (clamped) and Q60.
    let hap = genoa::genome::random_bases(&mut rng, 120);
    let mut reads = Vec::new();
    for (gi, gd, gc) in [
        (0u8, 0u8, 0u8),
        (93, 93, 93),
        (0, 60, 4),
        (60, 0, 60),
        (10, 10, 3),
    ] {
        let bases = mutate(&mut rng, &hap[10..100], 80);
        let n = bases.len();
        reads.push(Read {
            quals: quals(&mut rng, n),
            bases,
            ins: vec![gi; n],
            del: vec![gd; n],
            gcp: vec![gc; n],
        });
    }
    push(&mut b, &reads, &[hap]);
    b
}

/// Seeded random regions: reads drawn from one of the haplotypes, with errors and indels.
fn random_cases(seed: u64, pairs: usize) -> HmmBatch {
    let mut rng = Rng::with_seed(seed);
    let mut b = HmmBatch::default();
    while b.pairs() < pairs {
        let hap_len = 1 + rng.u64(..160) as usize;
        let base = genoa::genome::random_bases(&mut rng, hap_len);
        let haps: Vec<Vec<u8>> = (0..1 + rng.u64(..4))
            .map(|_| mutate(&mut rng, &base, 30))
            .collect();
        let reads: Vec<Read> = (0..1 + rng.u64(..40))
            .map(|_| {
                let h = &haps[rng.u64(..haps.len() as u64) as usize];
                let start = rng.u64(..h.len() as u64 / 2 + 1) as usize;
                let len = 1 + rng.u64(..(h.len() - start) as u64 + 20) as usize;
                let end = (start + len).min(h.len());
                let err = 1 + rng.u64(..80);
                let mut bases = mutate(&mut rng, &h[start..end], err);
                if bases.is_empty() {
                    bases.push(rng.u64(..5) as u8);
                }
                let n = bases.len();
                Read {
                    quals: quals(&mut rng, n),
                    ins: (0..n).map(|_| 20 + rng.u64(..40) as u8).collect(),
                    del: (0..n).map(|_| 20 + rng.u64(..40) as u8).collect(),
                    gcp: (0..n).map(|_| 5 + rng.u64(..20) as u8).collect(),
                    bases,
                }
            })
            .collect();
        push(&mut b, &reads, &haps);
    }
    b
}

fn run(backend: &dyn Backend, batch: &HmmBatch) -> HmmResults {
    let mut out = HmmResults::default();
    backend
        .pair_hmm(batch, &mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", backend.name()));
    out
}

/// Asserts that `backend` gives scalar's likelihoods bit for bit; the likelihoods compared.
fn assert_equals_scalar(backend: &dyn Backend, batch: &HmmBatch) -> usize {
    let want = run(&Scalar, batch);
    assert_eq!(want.log10.len(), batch.pairs());
    let got = run(backend, batch);
    for (k, (a, b)) in want.log10.iter().zip(&got.log10).enumerate() {
        assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "{} differs from scalar on likelihood {k}: {a} vs {b}",
            backend.name()
        );
    }
    assert_eq!(want.log10.len(), got.log10.len());
    got.log10.len()
}

fn equals_scalar_on_edge_cases(backend: &dyn Backend) {
    let b = edge_cases();
    assert_equals_scalar(backend, &b);
    // The degenerate cases mean what the contract says.
    let out = run(&Scalar, &b);
    let g = b.regions.len() - 4; // the empty read / empty haplotype region
    assert_eq!(out.get(&b, g, 0, 0), f64::NEG_INFINITY); // empty haplotype
    assert!(out.get(&b, g, 0, 1).abs() < 1e-12); // empty read: probability 1
    assert!(out.log10.iter().all(|v| !v.is_nan() && *v <= 1e-9));
}

fn equals_scalar_on_random_cases(backend: &dyn Backend) {
    let b = random_cases(2026, 10_000);
    let compared = assert_equals_scalar(backend, &b);
    assert!(compared >= 10_000, "only {compared} likelihoods compared");
}

fn batches_are_independent_of_their_grouping(backend: &dyn Backend) {
    // The same pairs, one region per read, give the same likelihoods as one big region.
    let whole = random_cases(7, 600);
    let want = run(&Scalar, &whole);
    let mut split = HmmBatch::default();
    let mut expected = Vec::new();
    for (gi, g) in whole.regions.iter().enumerate() {
        let haps: Vec<Vec<u8>> = (0..g.haps as usize)
            .map(|h| whole.hap(g.first_hap as usize + h).to_vec())
            .collect();
        for r in 0..g.reads as usize {
            let idx = g.first_read as usize + r;
            let s = whole.reads[idx];
            let range = s.offset as usize..(s.offset + s.len) as usize;
            let read = Read {
                bases: whole.read_bases[range.clone()].to_vec(),
                quals: whole.base_quals[range.clone()].to_vec(),
                ins: whole.ins_quals[range.clone()].to_vec(),
                del: whole.del_quals[range.clone()].to_vec(),
                gcp: whole.gcp_quals[range].to_vec(),
            };
            push(&mut split, &[read], &haps);
            for h in 0..g.haps as usize {
                expected.push(want.get(&whole, gi, r, h));
            }
        }
    }
    let got = run(backend, &split);
    assert_eq!(got.log10.len(), expected.len());
    for (a, b) in expected.iter().zip(&got.log10) {
        assert_eq!(a.to_bits(), b.to_bits(), "{}", backend.name());
    }
}

backend_tests!(
    equals_scalar_on_edge_cases,
    equals_scalar_on_random_cases,
    batches_are_independent_of_their_grouping,
);

/// The realistic corpus of the accuracy target: 150- and 250-base reads with 0.1–5 % errors
/// and indels, drawn from one of several 200–800-base haplotypes (which differ by SNPs and
/// indels), each scored against every haplotype of its region.
fn corpus(seed: u64, regions: usize) -> HmmBatch {
    let mut rng = Rng::with_seed(seed);
    let mut b = HmmBatch::default();
    for k in 0..regions {
        let read_len = if k % 2 == 0 { 150 } else { 250 };
        let hap_len = (200 + rng.u64(..601) as usize).max(read_len + 20);
        let base = genoa::genome::random_bases(&mut rng, hap_len);
        let haps: Vec<Vec<u8>> = (0..3).map(|_| mutate(&mut rng, &base, 8)).collect();
        let reads: Vec<Read> = (0..8)
            .map(|_| {
                let h = &haps[rng.u64(..3) as usize];
                let start = rng.u64(..(h.len() - read_len + 1) as u64) as usize;
                let err = [1u64, 10, 20, 50][rng.u64(..4) as usize];
                let bases = mutate(&mut rng, &h[start..start + read_len], err);
                let q = (0..bases.len()).map(|_| 10 + rng.u64(..31) as u8).collect();
                Read::new(bases, q)
            })
            .collect();
        push(&mut b, &reads, &haps);
    }
    b
}

#[test]
fn binary32_is_within_the_accuracy_bounds_of_the_f64_oracle() {
    let b = corpus(42, 120);
    let fixed = run(&Scalar, &b);
    let mut worst = 0f64;
    let mut over_001 = 0usize;
    let mut n = 0usize;
    for (gi, g) in b.regions.iter().enumerate() {
        for r in 0..g.reads as usize {
            for h in 0..g.haps as usize {
                let o = oracle(&b, g.first_read as usize + r, g.first_hap as usize + h);
                let f = fixed.get(&b, gi, r, h);
                assert!(o.is_finite() && f.is_finite(), "{o} {f}");
                let d = (o - f).abs();
                if d > 0.01 && std::env::var("PROBE").is_ok() {
                    println!(
                        "region {gi} read {r} hap {h}: oracle {o} fixed {f} len {} hap {}",
                        g.first_read,
                        b.haps[g.first_hap as usize + h].len
                    );
                }
                worst = worst.max(d);
                over_001 += usize::from(d > 0.01);
                n += 1;
            }
        }
    }
    // Diploid genotypes from each region's likelihood matrix (every unordered haplotype pair,
    // GL = Σ_reads log10(L(r|a)/2 + L(r|b)/2)): the same genotype from the binary32 and the
    // oracle likelihoods in every region.
    let genotype = |like: &dyn Fn(usize, usize, usize) -> f64, gi: usize| {
        let g = &b.regions[gi];
        let mut best = (f64::NEG_INFINITY, (0, 0));
        for a in 0..g.haps as usize {
            for c in a..g.haps as usize {
                let gl: f64 = (0..g.reads as usize)
                    .map(|r| {
                        let (x, y) = (like(gi, r, a), like(gi, r, c));
                        let m = x.max(y);
                        m + ((10f64.powf(x - m) + 10f64.powf(y - m)) / 2.0).log10()
                    })
                    .sum();
                if gl > best.0 {
                    best = (gl, (a, c));
                }
            }
        }
        best.1
    };
    let oracle_like = |gi: usize, r: usize, h: usize| {
        let g = &b.regions[gi];
        oracle(&b, g.first_read as usize + r, g.first_hap as usize + h)
    };
    let fixed_like = |gi: usize, r: usize, h: usize| fixed.get(&b, gi, r, h);
    let same = (0..b.regions.len())
        .filter(|&gi| genotype(&oracle_like, gi) == genotype(&fixed_like, gi))
        .count();
    println!(
        "pair_hmm accuracy: {n} pairs, worst |Δlog10| {worst:.2e}, {over_001} above 0.01; \
         genotypes identical in {same} of {} regions",
        b.regions.len()
    );
    assert_eq!(same, b.regions.len());
    assert!(n >= 2_000);
    assert!(worst <= 0.1, "worst |Δlog10| {worst}");
    assert!(
        over_001 * 1000 <= n,
        "{over_001} of {n} pairs differ by more than 0.01"
    );
}

#[test]
fn gpu_splits_batches_larger_than_one_binding() {
    let Ok(mut gpu) = genoa::backend::gpu::Gpu::new(true) else {
        assert!(gpu().is_none());
        return;
    };
    // A 16 KiB binding cap (a few hundred coefficient rows, ~300 scratch rows) forces many
    // dispatches, splitting regions between them.
    gpu.limit_binding(16 << 10);
    let b = random_cases(99, 1_500);
    let want = run(&Scalar, &b);
    let got = run(&gpu, &b);
    assert_eq!(want.log10.len(), got.log10.len());
    for (a, c) in want.log10.iter().zip(&got.log10) {
        assert_eq!(a.to_bits(), c.to_bits());
    }
}
