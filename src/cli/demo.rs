//! `genoa demo`: the whole pipeline on the built-in lambda sample, scored against its truth.

use std::path::PathBuf;

use clap::Args;

use crate::backend::BackendChoice;
use crate::call::CallParams;
use crate::error::Result;
use crate::io::sam_header::ReadGroupLine;
use crate::pipeline::{self, AlignConfig, ReadsInput, RunConfig};
use crate::report;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(short = 'o', long, default_value = "genoa-demo")]
    pub outdir: PathBuf,
    /// Worker threads (0 = one per core).
    #[arg(short = '@', long, default_value_t = 0)]
    pub threads: usize,
    /// Kernel backend: auto, scalar, simd or gpu.
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<BackendChoice>())]
    pub backend: BackendChoice,
}

pub fn run(a: DemoArgs) -> Result<()> {
    let input = a.outdir.join("input");
    crate::demo::write_inputs(&input)?;
    let sample = "SAMPLE".to_string();
    let cfg = RunConfig {
        align: AlignConfig {
            reference: input.join("ref.fa"),
            reads: ReadsInput::Paired(input.join("R1.fastq.gz"), input.join("R2.fastq.gz")),
            read_group: ReadGroupLine::for_sample(&sample),
            backend: a.backend,
            threads: a.threads,
            batch_pairs: 16_384,
            memory: 512 << 20,
            segment_pairs: crate::pipeline::segments::SEGMENT_PAIRS,
            command_line: std::env::args().collect::<Vec<_>>().join(" "),
        },
        sample,
        outdir: a.outdir.clone(),
        call: CallParams::default(),
        cram: false,
        shard: crate::pipeline::segments::Shard::ALL,
        tmp_dir: None,
    };
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
