//! The demo sample built into the binary: phage lambda (NC_001416.1, 48,502 bp), a diploid
//! sample with planted SNPs and indels, and 3,230 simulated 2x150 read pairs (20x). Where every
//! byte came from: `test-data/README.md`.

use std::path::Path;

use crate::error::{Error, Result};

pub const REFERENCE: &[u8] = include_bytes!("../test-data/demo/ref.fa");
pub const R1: &[u8] = include_bytes!("../test-data/demo/R1.fastq.gz");
pub const R2: &[u8] = include_bytes!("../test-data/demo/R2.fastq.gz");
pub const TRUTH: &[u8] = include_bytes!("../test-data/demo/truth.vcf.gz");

/// Writes the demo inputs into `dir` (`ref.fa`, `R1.fastq.gz`, `R2.fastq.gz`, `truth.vcf.gz`).
pub fn write_inputs(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, bytes) in [
        ("ref.fa", REFERENCE),
        ("R1.fastq.gz", R1),
        ("R2.fastq.gz", R2),
        ("truth.vcf.gz", TRUTH),
    ] {
        crate::io::atomic::write(&dir.join(name), bytes)?;
    }
    Ok(())
}
