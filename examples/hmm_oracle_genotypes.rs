//! Issue-4 measurement: calls a BAM twice with the same caller, indel likelihoods once from a
//! production `pair_hmm` backend and once from the f64 oracle
//! (`backend::scalar::pair_hmm::oracle`), and compares every variant record's genotype and PL.
//!
//! `cargo run --release --example hmm_oracle_genotypes -- REF.fa IN.bam [scalar|simd]`

use std::path::Path;

use genoa::backend::Backend;
use genoa::backend::scalar::Scalar;
use genoa::backend::scalar::pair_hmm::oracle;
use genoa::call::CallParams;
use genoa::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};
use genoa::kernel::pair_hmm::{HmmBatch, HmmResults, validate};
use genoa::model::gvcf::Record;

/// `pair_hmm` from the f64 oracle (everything else as scalar).
struct Oracle;

impl Backend for Oracle {
    fn name(&self) -> String {
        "oracle-f64".into()
    }
    fn banded_align(
        &self,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> genoa::error::Result<()> {
        Scalar.banded_align(batch, params, out)
    }
    fn pair_hmm(&self, batch: &HmmBatch, out: &mut HmmResults) -> genoa::error::Result<()> {
        validate(batch)?;
        out.log10.clear();
        for g in &batch.regions {
            for r in 0..g.reads as usize {
                for h in 0..g.haps as usize {
                    out.log10.push(oracle(
                        batch,
                        g.first_read as usize + r,
                        g.first_hap as usize + h,
                    ));
                }
            }
        }
        Ok(())
    }
}

fn main() -> genoa::error::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (reference, bam) = (Path::new(&args[1]), Path::new(&args[2]));
    let production: std::sync::Arc<dyn Backend> = match args.get(3).map(String::as_str) {
        Some("scalar") => std::sync::Arc::new(Scalar),
        _ => genoa::backend::select(genoa::backend::BackendChoice::Simd)?,
    };
    let reference = genoa::io::reference::Reference::load(reference)?;
    let records = genoa::io::bam::read(bam, &reference)?;
    let params = CallParams::default();
    let per_contig: Vec<Vec<_>> = (0..reference.contigs.len() as u32)
        .map(|c| {
            records
                .iter()
                .filter(|r| r.contig == Some(c))
                .cloned()
                .collect()
        })
        .collect();
    let call = |backend: &dyn Backend| -> genoa::error::Result<Vec<Vec<Record>>> {
        reference
            .contigs
            .iter()
            .zip(&per_contig)
            .map(|(c, reads)| genoa::call::call_contig(&c.codes, reads, &params, backend))
            .collect()
    };
    let t = std::time::Instant::now();
    let a = call(production.as_ref())?;
    let ta = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let b = call(&Oracle)?;
    let tb = t.elapsed().as_secs_f64();
    let variants = |calls: &[Vec<Record>]| -> Vec<_> {
        calls
            .iter()
            .enumerate()
            .flat_map(|(c, recs)| {
                recs.iter().filter_map(move |r| match r {
                    Record::Variant(v) => Some((c, v.clone())),
                    _ => None,
                })
            })
            .collect()
    };
    let (va, vb) = (variants(&a), variants(&b));
    let indel =
        |v: &genoa::model::gvcf::Variant| v.alts.iter().any(|a| a.len() != v.reference.len());
    let (mut same_gt, mut same_pl, mut indels) = (0, 0, 0);
    let mut qual_diff = 0f64;
    let mut differ = Vec::new();
    for (x, y) in va.iter().zip(&vb) {
        let same_site = x.0 == y.0 && x.1.pos == y.1.pos && x.1.alts == y.1.alts;
        indels += usize::from(indel(&x.1));
        if same_site && x.1.genotyped.gt == y.1.genotyped.gt {
            same_gt += 1;
        } else {
            differ.push((x.1.pos, x.1.genotyped.gt, y.1.pos, y.1.genotyped.gt));
        }
        same_pl += usize::from(same_site && x.1.genotyped.pl == y.1.genotyped.pl);
        qual_diff = qual_diff.max((x.1.genotyped.qual - y.1.genotyped.qual).abs());
    }
    println!(
        "{}: {} variant records ({indels} indels) in {ta:.1} s; oracle: {} records in {tb:.1} s",
        production.name(),
        va.len(),
        vb.len()
    );
    println!(
        "same site and genotype: {same_gt} of {}; same PL: {same_pl}; first differences: {:?}",
        va.len().max(vb.len()),
        &differ[..differ.len().min(10)]
    );
    println!("largest |ΔQUAL|: {qual_diff:.2e}");
    Ok(())
}
