//! File formats, as thin layers over noodles: reference FASTA (+ `.fai`, MD5), FASTQ, BAM and
//! CRAM (+ index), gVCF (BGZF + tabix), and the temporary-name-then-rename rule for outputs.

pub mod atomic;
pub mod bam;
pub mod cram;
pub mod fastq;
pub mod gvcf;
pub mod reference;
pub mod sam_header;
