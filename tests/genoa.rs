//! genoa's one integration-test binary: backend equivalence, shader validation, formats read by
//! htslib, command-line runs (golden, deterministic, bad input).

mod genoa {
    pub mod aggregate;
    pub mod align;
    pub mod backends;
    pub mod bad_input;
    pub mod call;
    pub mod common;
    pub mod formats;
    pub mod gate;
    pub mod hail;
    pub mod hostile;
    pub mod malformed;
    pub mod package;
    pub mod pair_hmm;
    pub mod ploidy;
    pub mod report;
    pub mod resume;
    pub mod runs;
    pub mod shaders;
    pub mod validate;
}
