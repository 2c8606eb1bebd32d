//! genoa: secondary analysis of short-read genomes — FASTQ to aligned, sorted BAM/CRAM and a
//! GATK-shaped gVCF — with the hot kernels as WGSL compute shaders (any GPU through wgpu) and
//! CPU backends that give identical results.
//!
//! The library is a workspace of crates whose dependency graph is the layering rule:
//!
//! ```text
//! genoa-core (genome, model, io, index, error)
//!   ▲           ▲                     ▲
//! genoa-kernels (kernel, backend)     │
//!   ▲                                 │
//! genoa-engine (align, call,     genoa-submit (validate, gate,
//!   pipeline, report)              crypt4gh, package, aggregate)
//!   ▲                                 ▲
//! genoa (this crate: cli, demo, the binary) ─┘
//! ```
//!
//! A crate names only the crates below it; a wrong-way import does not compile. This crate
//! holds the command line (clap stays here: nothing below knows it) and the demo, and re-exports
//! the layers under one name for the binary, the tests, the benches and the examples.

pub mod cli;
pub mod demo;

pub use genoa_core::{Error, Result, error, genome, index, io, model};
pub use genoa_engine::{align, call, pipeline, report};
pub use genoa_kernels::{backend, kernel};
pub use genoa_submit::{aggregate, crypt4gh, gate, package, validate};
