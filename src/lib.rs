//! genoa: secondary analysis of short-read genomes — FASTQ to aligned, sorted BAM and a
//! GATK-shaped gVCF — with the hot kernels as WGSL compute shaders (any GPU through wgpu) and
//! CPU backends that give identical results.
//!
//! Data flow, one batch at a time:
//!
//! ```text
//! FASTA ─► index (minimizers, saved beside the FASTA, memory-mapped)
//! FASTQ ─► io::fastq ─► align (seed, chain ─► kernel banded_align on a Backend ─► rescue,
//!          pair/MAPQ) ─► sort ─► io::bam ─► call (pileup ─► genotype ─► gVCF blocks) ─► io::gvcf
//! ```
//!
//! Dependency rule: `genome ← io ← index, kernel ← backend ← align, call ← pipeline ← cli`; nothing
//! points right. `kernel` holds contracts only and knows no wgpu; `backend` knows no files.

pub mod aggregate;
pub mod align;
pub mod backend;
pub mod call;
pub mod cli;
pub mod crypt4gh;
pub mod demo;
pub mod error;
pub mod genome;
pub mod index;
pub mod io;
pub mod kernel;
pub mod model;
pub mod package;
pub mod pipeline;
pub mod report;
pub mod validate;

pub use error::{Error, Result};
