//! Kernel contracts: batch types, parameters and the exact semantics (including tie-breaks and
//! saturation) that every backend implements identically. No backend code lives here.

pub mod banded_align;
pub mod pair_hmm;
