//! `genoa refid ref.fa`: a reference's identity — per contig its length, MD5 and refget `SQ.`
//! digest, then the GA4GH Sequence Collections level-0 digest — as TSV or (`--json`) JSON.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::io::refget;

#[derive(Args, Debug)]
pub struct RefidArgs {
    /// Reference FASTA.
    pub fasta: PathBuf,
    /// Print JSON (`sequences`, `seqcol` with `level0` and `level1`) instead of TSV.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: RefidArgs) -> Result<()> {
    let contigs = refget::digests(&a.fasta)?;
    let level1 = refget::seqcol_level1(&contigs);
    let level0 = refget::seqcol_level0(&contigs);
    let mut text = String::new();
    if a.json {
        let value = serde_json::json!({
            "sequences": contigs,
            "seqcol": { "level0": level0, "level1": level1 },
        });
        text = serde_json::to_string_pretty(&value).expect("JSON of strings and integers");
        text.push('\n');
    } else {
        text.push_str("#name\tlength\tmd5\trefget\n");
        for c in &contigs {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                c.name, c.length, c.md5, c.refget
            ));
        }
        text.push_str(&format!("#seqcol_level0\t{level0}\n"));
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("stdout", e))
}
