//! criterion bench of the aligner's seeding and chaining, ids `align/seed/150` (minimizers of
//! a read and their index look-ups), `align/chain/150` (chaining the anchors of a read) and
//! `align/seed+chain/150`, throughput in reads per second, one thread (seeding and chaining are per-read and
//! single-threaded; the aligner runs reads in parallel around them).
//!
//! Workload (seeded): a 4 Mb random reference with 1 % of it in repeats (eight copies of a
//! 5 kb unit, 2 % diverged each), 4,096 reads of 150 bases from random places on both strands
//! with 1 % substitutions and indels — E. coli-sized, with the repeats that give reads more
//! than one chain.

#[path = "common/rng.rs"]
mod rng;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genoa::align::map::{self, Chain, MapParams, SeedScratch};
use genoa::genome::reverse_complement_into;
use genoa::index::Index;
use genoa::io::reference::{Contig, Reference};
use rng::{Rng, mutate};

fn reference(rng: &mut Rng) -> Reference {
    let mut seq: Vec<u8> = (0..4_000_000).map(|_| rng.u64(..4) as u8).collect();
    let unit: Vec<u8> = (0..5_000).map(|_| rng.u64(..4) as u8).collect();
    for copy in 0..8 {
        let mut u = mutate(rng, &unit, 20);
        u.truncate(5_000);
        let at = 100_000 + copy * 450_000;
        seq[at..at + u.len()].copy_from_slice(&u);
    }
    Reference {
        path: "bench.fa".into(),
        contigs: vec![Contig {
            name: "bench".into(),
            codes: seq,
            md5: "0".repeat(32),
            refget: String::new(),
        }],
    }
}

fn reads(rng: &mut Rng, genome: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut rc = Vec::new();
    (0..n)
        .map(|_| {
            let start = rng.u64(..(genome.len() - 200) as u64) as usize;
            let mut r = mutate(rng, &genome[start..start + 160], 10);
            r.truncate(150);
            if rng.u64(..2) == 1 {
                reverse_complement_into(&r, &mut rc);
                std::mem::swap(&mut r, &mut rc);
            }
            r
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng::with_seed(0x5eed_a11e);
    let reference = reference(&mut rng);
    let index = Index::build(&reference).expect("index");
    let reads = reads(&mut rng, &reference.contigs[0].codes, 4096);
    let params = MapParams::default();
    let mut g = c.benchmark_group("align");
    g.throughput(Throughput::Elements(reads.len() as u64));
    g.sample_size(20);
    let mut scratch = SeedScratch::default();
    let mut chains: Vec<Chain> = Vec::new();
    {
        g.bench_function("seed/150", |b| {
            b.iter(|| {
                let mut anchors = 0;
                for r in &reads {
                    map::seed(&index, r, &mut scratch);
                    anchors += scratch.anchors.len();
                }
                anchors
            })
        });
        // Chaining alone: the anchors of every read, seeded once outside the timing.
        let seeded: Vec<Vec<map::Anchor>> = reads
            .iter()
            .map(|r| {
                map::seed(&index, r, &mut scratch);
                scratch.anchors.clone()
            })
            .collect();
        g.bench_function("chain/150", |b| {
            b.iter(|| {
                let mut n = 0;
                for a in &seeded {
                    scratch.anchors.clear();
                    scratch.anchors.extend_from_slice(a);
                    map::chain(&index, &params, &mut scratch, &mut chains);
                    n += chains.len();
                }
                n
            })
        });
        g.bench_function("seed+chain/150", |b| {
            b.iter(|| {
                let mut n = 0;
                for r in &reads {
                    map::seed(&index, r, &mut scratch);
                    map::chain(&index, &params, &mut scratch, &mut chains);
                    n += chains.len();
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
