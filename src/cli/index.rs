//! `genoa index ref.fa`: builds the reference's minimizer index and saves it beside the FASTA.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::error::Result;
use crate::index::{Index, index_path};
use crate::io::reference::Reference;

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Reference FASTA; the index is written beside it as FASTA.genoa.idx.
    pub reference: PathBuf,
    #[command(flatten)]
    pub threads: crate::cli::ThreadsArg,
}

pub fn run(a: IndexArgs) -> Result<()> {
    let t = Instant::now();
    let pool = crate::pipeline::thread_pool(a.threads.threads)?;
    let reference = Reference::load(&a.reference)?;
    let path = index_path(&a.reference);
    let index = pool.install(|| Index::build_to_file(&reference, &path))?;
    let (keys, occurrences) = index.counts();
    eprintln!(
        "genoa index: {} ({} contigs, {} bp): {keys} minimizers, {occurrences} occurrences, {:.1} MB, in {:.1} s",
        path.display(),
        reference.contigs.len(),
        reference.total_len(),
        index.size_bytes() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
