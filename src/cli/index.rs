//! `genoa index ref.fa`: builds the reference's minimizer index and saves it beside the FASTA.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::error::Result;
use crate::index::{Index, index_path};
use crate::io::reference::Reference;

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Reference FASTA (plain, gzip or bgzip); the index is written beside it as
    /// FASTA.genoa.idx unless -o says otherwise.
    pub reference: PathBuf,
    /// Where to write the index (e.g. when the reference's directory is read-only); give it to
    /// `run` and `align` with --index.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub threads: crate::cli::ThreadsArg,
}

pub fn run(a: IndexArgs) -> Result<()> {
    let t = Instant::now();
    let pool = crate::pipeline::thread_pool(a.threads.threads)?;
    let reference = Reference::load(&a.reference)?;
    let path = a.output.clone().unwrap_or_else(|| index_path(&a.reference));
    crate::io::atomic::refuse_inputs(&[&path], &[a.reference.as_path()])?;
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
