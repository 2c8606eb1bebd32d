//! The shader registry: every WGSL kernel, by stem, compiled into the binary.

/// `(stem, WGSL source)` of every kernel; the stem names the shader, its contract in
/// `kernel::` and its host code in each backend.
pub const ALL: &[(&str, &str)] = &[("banded_align", BANDED_ALIGN), ("pair_hmm", PAIR_HMM)];

/// `shaders/banded_align.wgsl`.
pub const BANDED_ALIGN: &str = include_str!("../../shaders/banded_align.wgsl");

/// `shaders/pair_hmm.wgsl`.
pub const PAIR_HMM: &str = include_str!("../../shaders/pair_hmm.wgsl");
