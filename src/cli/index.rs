//! `genoa index ref.fa`: builds the reference's minimizer index and saves it beside the FASTA.
//! `genoa reads-index R1.fq.gz R2.fq.gz …`: the read indexes of FASTQ or unaligned BAM files
//! ([`crate::io::read_index`]).

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

#[derive(Args, Debug)]
pub struct ReadsIndexArgs {
    /// FASTQ files, BGZF (`bgzip`) or uncompressed, or unaligned BAM files; each index is
    /// written beside its file as FILE.genoa.ridx unless -o says otherwise. Plain gzip cannot
    /// be indexed (recompress it with bgzip), nor CRAM.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Directory to write the indexes in (as NAME.genoa.ridx; e.g. when the reads' directory is
    /// read-only); give it to `run` and `align` with --read-index.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub threads: crate::cli::ThreadsArg,
}

/// Indexes every file (several at once on the pool), each index written once whole.
pub fn reads_index(a: ReadsIndexArgs) -> Result<()> {
    use crate::io::read_index::{ReadIndex, index_path};
    let t = Instant::now();
    let dir = a.output.as_deref();
    let outputs: Vec<PathBuf> = a.files.iter().map(|f| index_path(f, dir)).collect();
    // Two inputs of one name would overwrite each other's index in -o DIR.
    for (i, o) in outputs.iter().enumerate() {
        if let Some(j) = outputs[..i].iter().position(|p| p == o) {
            return Err(crate::error::Error::Config(format!(
                "{} and {} would both have their read index at {}: give them separately, with other -o directories",
                a.files[j].display(),
                a.files[i].display(),
                o.display()
            )));
        }
    }
    {
        let outs: Vec<&std::path::Path> = outputs.iter().map(PathBuf::as_path).collect();
        let ins: Vec<&std::path::Path> = a.files.iter().map(PathBuf::as_path).collect();
        crate::io::atomic::refuse_inputs(&outs, &ins)?;
    }
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(|e| crate::error::Error::io(d, e))?;
    }
    let pool = crate::pipeline::thread_pool(a.threads.threads)?;
    /// A file's outcome: its records and seconds.
    type Outcome = std::sync::Mutex<Option<Result<(u64, f64)>>>;
    let done: Vec<Outcome> = a.files.iter().map(|_| Default::default()).collect();
    pool.scope(|s| {
        for ((f, o), slot) in a.files.iter().zip(&outputs).zip(&done) {
            s.spawn(move |_| {
                let t = Instant::now();
                let r = ReadIndex::build(f).and_then(|index| {
                    index.write(o)?;
                    Ok((index.records, t.elapsed().as_secs_f64()))
                });
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    for ((f, o), slot) in a.files.iter().zip(&outputs).zip(done) {
        let r = slot.into_inner().unwrap_or_else(|e| e.into_inner());
        let (records, secs) =
            r.unwrap_or_else(|| Err(crate::error::Error::Internal("indexing stopped".into())))?;
        eprintln!(
            "genoa reads-index: {} ({records} records) -> {}, {secs:.1} s",
            f.display(),
            o.display()
        );
    }
    eprintln!(
        "genoa reads-index: {} files in {:.1} s",
        a.files.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
