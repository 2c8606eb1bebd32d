//! genoa's bottom layer: what every other crate of the workspace builds on.
//!
//! - [`genome`]: base codes, CIGAR, Phred — the primitives.
//! - [`model`]: the shared data model — alignment records, gVCF records, intervals, genotype
//!   order.
//! - [`io`]: file formats as thin layers over noodles (FASTA, FASTQ, BAM, CRAM, gVCF) and the
//!   alignment sinks; outputs appear under their final names only when whole.
//! - [`index`]: the reference's minimizer index (build, save, memory-map).
//! - [`error`]: the one error type of the library crates.
//! - [`profile`]: the stage profile, CPU seconds per pipeline stage, always collected.
//!
//! This crate depends on no other genoa crate; `genoa-kernels`, `genoa-engine` and
//! `genoa-submit` depend on it. See `README.md` beside this crate.

pub mod error;
pub mod genome;
pub mod index;
pub mod io;
pub mod model;
pub mod profile;

pub use error::{Error, Result};
