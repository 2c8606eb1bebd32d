//! genoa's kernels: the executable contracts of the hot loops and the backends that run them.
//!
//! - [`kernel`]: contracts only — batch types, parameters, exact semantics, tie-breaks. The
//!   scalar backend is the spec; every other backend is tested against it.
//! - [`backend`]: `trait Backend` and its implementations — scalar, SIMD (written once over a
//!   lane trait), and the GPU (WGSL shaders in `shaders/`, run through wgpu; swapped for a
//!   typed error when built without the `gpu` feature) — with `auto` routing by batch size.
//!
//! Depends on `genoa-core` only (genome primitives and the error type); knows no files, no
//! alignment and no calling. See `README.md` beside this crate.

pub mod backend;
pub mod kernel;

// The lower layer's modules under their usual paths inside this crate.
pub(crate) use genoa_core::{error, genome};
