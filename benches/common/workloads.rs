//! Seeded kernel workloads shared by the benches and `examples/device_bench.rs`.

use genoa::kernel::pair_hmm::{HmmBatch, HmmRead};

use super::rng::{Rng, mutate};

/// `regions` regions of 32 reads of `read_len` × 4 haplotypes of `hap_len`, as a
/// HaplotypeCaller active region gives them: reads drawn from one of the haplotypes with 1 %
/// substitutions and indels, base qualities Q10–Q40, GATK's default indel qualities.
pub fn hmm_regions(read_len: usize, hap_len: usize, regions: usize, seed: u64) -> HmmBatch {
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
