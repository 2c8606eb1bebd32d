//! `genoa demo`: the whole pipeline on the built-in lambda sample, scored against its truth.

use std::path::PathBuf;

use clap::Args;

use crate::cli::ComputeArgs;
use crate::error::Result;
use crate::io::sam_header::ReadGroupLine;
use crate::pipeline::{
    self,
    config::{AlignConfig, ReadsInput, RunConfig},
};
use crate::report;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(short = 'o', long, default_value = "genoa-demo")]
    pub outdir: PathBuf,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn run(a: DemoArgs) -> Result<()> {
    let input = a.outdir.join("input");
    crate::demo::write_inputs(&input)?;
    let sample = "SAMPLE".to_string();
    // The library's defaults throughout, but for the threads and the backend.
    let align = AlignConfig {
        backend: a.compute.backend.into(),
        threads: a.compute.threads.threads,
        ..AlignConfig::single(
            input.join("ref.fa"),
            ReadsInput::Paired(input.join("R1.fastq.gz"), input.join("R2.fastq.gz")),
            ReadGroupLine::for_sample(&sample),
        )
    };
    let cfg = RunConfig::new(align, sample, a.outdir.clone());
    let s = pipeline::run(&cfg)?;
    let out = cfg.outputs();
    let truth = report::read_vcf_variants(&input.join("truth.vcf.gz"))?;
    let called = report::read_vcf_variants(&out.gvcf)?;
    let (snp, indel) = report::concordance(&truth, &called);
    println!("genoa demo: phage lambda, 48,502 bp, 20x 2x150 simulated reads");
    println!("  reads            {}", s.reads);
    println!("  mapped           {:.2}%", 100.0 * s.mapped_fraction());
    println!("  variants called  {} SNPs, {} indels", s.snps, s.indels);
    for (name, c) in [("SNP", snp), ("indel", indel)] {
        println!(
            "  {name:<6} recall {:.4} precision {:.4}  (TP {}, FP {}, FN {} against the planted truth)",
            c.recall(),
            c.precision(),
            c.true_positives,
            c.false_positives,
            c.false_negatives
        );
    }
    println!("  backend          {}", s.backend);
    println!("  wall             {:.2} s", s.seconds);
    println!(
        "  outputs          {} (+.bai), {} (+.tbi)",
        out.alignments.display(),
        out.gvcf.display()
    );
    Ok(())
}
