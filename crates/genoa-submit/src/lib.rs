//! genoa's submission side: what a lab does with a sample's outputs before they leave it.
//!
//! - [`validate`]: a gVCF checked against the rules joint callers apply.
//! - [`gate`]: the QC gate — a QC JSON against a policy.
//! - [`crypt4gh`]: Crypt4GH encryption and keys (the GA4GH standard).
//! - [`package`]: validate + gate + encrypt, with checksums and a manifest.
//! - [`aggregate`]: many gVCFs → a cohort VCF and an allele-frequency VCF.
//!
//! Sits beside the engine and shares only the bottom layer (`genoa-core`): it reads files,
//! never aligns or calls. See `README.md` beside this crate.

pub mod aggregate;
pub mod crypt4gh;
pub mod gate;
pub mod package;
pub mod validate;

// The lower layer's modules under their usual paths inside this crate.
pub(crate) use genoa_core::{error, genome, io, model};
