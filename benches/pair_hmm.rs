//! criterion bench of the `pair_hmm` kernel, ids `pair_hmm/<backend>/<read>x<hap>`, throughput
//! in DP cells (read length × haplotype length, summed over pairs) per second, one thread.
//!
//! Workloads (seeded): regions of 32 reads × 4 haplotypes, as a HaplotypeCaller active region
//! gives them; reads drawn from one of the haplotypes with 1 % substitutions and indels, base
//! qualities Q10–Q40, GATK's default indel qualities (Q45 open, Q10 continuation):
//! * `150x300`: 150-base reads against 300-base haplotypes (the target size);
//! * `250x500`: 250-base reads against 500-base haplotypes.
//!
//! Baseline in the same run: the f64 oracle (`backend::scalar::pair_hmm::oracle`, probability
//! space with GATK's full matrices), id `pair_hmm/oracle-f64/<size>`.

mod common;

use common::{Rng, mutate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genoa::kernel::pair_hmm::{HmmBatch, HmmRead, HmmResults};

fn workload(read_len: usize, hap_len: usize, regions: usize, seed: u64) -> HmmBatch {
    let mut rng = Rng::with_seed(seed);
    let mut b = HmmBatch::default();
    for _ in 0..regions {
        let base: Vec<u8> = (0..hap_len).map(|_| rng.u64(..4) as u8).collect();
        let haps: Vec<Vec<u8>> = (0..4)
            .map(|_| {
                let mut h = mutate(&mut rng, &base, 5);
                h.resize(hap_len, 0);
                h
            })
            .collect();
        let reads: Vec<(Vec<u8>, Vec<u8>)> = (0..32)
            .map(|_| {
                let h = &haps[rng.u64(..4) as usize];
                let start = rng.u64(..(hap_len - read_len) as u64 + 1) as usize;
                let mut r = mutate(&mut rng, &h[start..start + read_len], 10);
                r.resize(read_len, 0);
                let q = (0..read_len).map(|_| 10 + rng.u64(..31) as u8).collect();
                (r, q)
            })
            .collect();
        let (gi, gc) = (vec![45u8; read_len], vec![10u8; read_len]);
        let views: Vec<HmmRead> = reads
            .iter()
            .map(|(r, q)| HmmRead {
                bases: r,
                quals: q,
                ins_quals: &gi,
                del_quals: &gi,
                gcp_quals: &gc,
            })
            .collect();
        let hap_refs: Vec<&[u8]> = haps.iter().map(|h| h.as_slice()).collect();
        b.push_region(&views, &hap_refs);
    }
    b
}

fn bench(c: &mut Criterion) {
    let one_thread = common::one_thread();
    let backends = common::backends("pair_hmm");
    let workloads = [
        ("150x300", workload(150, 300, 4, 1)),
        ("250x500", workload(250, 500, 2, 2)),
    ];
    let mut group = c.benchmark_group("pair_hmm");
    group.sample_size(10);
    for (name, batch) in &workloads {
        group.throughput(Throughput::Elements(batch.cells()));
        for backend in &backends {
            let id = format!("{}/{name}", backend.name().split(' ').next().unwrap_or("?"));
            let mut out = HmmResults::default();
            group.bench_function(id, |bench| {
                bench.iter(|| {
                    one_thread.install(|| backend.pair_hmm(batch, &mut out).expect("kernel runs"))
                })
            });
        }
        group.bench_function(format!("oracle-f64/{name}"), |bench| {
            bench.iter(|| {
                let mut total = 0.0;
                for g in &batch.regions {
                    for r in g.first_read..g.first_read + g.reads {
                        for h in g.first_hap..g.first_hap + g.haps {
                            total += genoa::backend::scalar::pair_hmm::oracle(
                                batch, r as usize, h as usize,
                            );
                        }
                    }
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
