//! genoa's engine: FASTQ → aligned, sorted, duplicate-marked records → gVCF, and the QC of a
//! run.
//!
//! ```text
//! FASTA ─► index (minimizers, saved beside the FASTA, memory-mapped)
//! FASTQ ─► io::fastq ─► align (seed, chain ─► kernel banded_align on a Backend ─► rescue,
//!          pair/MAPQ) ─► sort ─► markdup ─► io::sink (BAM/CRAM) ─► call (pileup ─►
//!          genotype ─► gVCF blocks) ─► io::gvcf ─► report (QC JSON + HTML)
//! ```
//!
//! - [`align`]: seeding, chaining, extension (through the kernels), pairing, MAPQ, sorting
//!   and duplicate marking.
//! - [`call`]: pileup, active regions, assembly, haplotypes, genotyping, gVCF blocks.
//! - [`pipeline`]: the driver — configuration, segments (resume and shards), the streaming
//!   caller, `run`, `gather`, `align_to_file`, `call_to_file`.
//! - [`report`]: progress, QC metrics, the HTML report.
//!
//! Depends on `genoa-core` and `genoa-kernels`; nothing below depends on it. See `README.md`
//! beside this crate.

pub mod align;
pub mod call;
pub mod pipeline;
pub mod report;

// The lower layers' modules under their usual paths inside this crate.
pub(crate) use genoa_core::{error, genome, index, io, model, profile};
pub(crate) use genoa_kernels::{backend, kernel};
