//! File formats, as thin layers over noodles: reference FASTA (+ `.fai`, MD5), FASTQ, BAM and
//! CRAM (+ index), gVCF (BGZF + tabix), and the temporary-name-then-rename rule for outputs.

pub mod alt;
pub mod atomic;
pub mod bam;
pub mod binning_index;
pub mod cram;
pub mod fastq;
pub mod gvcf;
pub mod read_index;
pub mod reference;
pub mod refget;
pub mod sam_header;
pub mod sink;
pub mod ubam;

use std::path::{Path, PathBuf};

/// `file` with `suffix` appended to its whole name (`x.bam` → `x.bam.bai`): how indexes are named.
pub fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
