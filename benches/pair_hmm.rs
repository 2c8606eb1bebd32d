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

use common::workloads::hmm_regions as workload;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genoa::kernel::pair_hmm::HmmResults;

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
