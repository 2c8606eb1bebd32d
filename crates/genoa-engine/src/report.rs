//! Run reporting: progress and summaries (`progress`), QC metrics (`qc`) and their HTML
//! report (`html`), and concordance of calls with a truth VCF (used by
//! `genoa demo`; the shared bench's `eval.py` is the full evaluator).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::error::{Error, Result};
use crate::genome::base_ascii;
use crate::io::reference::Reference;
use crate::model::gvcf::Record;

pub mod html;
pub mod progress;
pub mod qc;

pub use progress::Progress;

/// A biallelic variant key: (contig, 1-based position, REF, ALT).
pub type VariantKey = (String, u64, String, String);

/// Passing variants of a VCF (plain or gzip): multi-allelic records split, symbolic alleles
/// and records with a FILTER other than `PASS`/`.` dropped.
pub fn read_vcf_variants(path: &Path) -> Result<BTreeSet<VariantKey>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut out = BTreeSet::new();
    let mut record = 0u64;
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        record += 1;
        let bad = |message: String| Error::Record {
            path: path.to_path_buf(),
            record,
            line: Some(n as u64 + 1),
            message,
        };
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            return Err(bad("fewer than 5 columns".into()));
        }
        let pos: u64 = f[1]
            .parse()
            .map_err(|_| bad(format!("invalid POS {:?}", f[1])))?;
        if f.len() > 6 && f[6] != "." && f[6] != "PASS" {
            continue;
        }
        for alt in f[4]
            .split(',')
            .filter(|a| !a.starts_with('<') && *a != "*" && *a != ".")
        {
            out.insert((
                f[0].to_string(),
                pos,
                f[3].to_ascii_uppercase(),
                alt.to_ascii_uppercase(),
            ));
        }
    }
    Ok(out)
}

/// Variants genoa called (passing records only).
pub fn called_variants(reference: &Reference, calls: &[Vec<Record>]) -> BTreeSet<VariantKey> {
    let text = |codes: &[u8]| {
        codes
            .iter()
            .map(|&b| base_ascii(b) as char)
            .collect::<String>()
    };
    let mut out = BTreeSet::new();
    for (contig, recs) in reference.contigs.iter().zip(calls) {
        for r in recs {
            if let Record::Variant(v) = r
                && v.filter_pass
            {
                for alt in v
                    .alts
                    .iter()
                    .filter(|a| **a != [crate::genome::SPANNING_DELETION])
                {
                    out.insert((
                        contig.name.clone(),
                        v.pos + 1,
                        text(&v.reference),
                        text(alt),
                    ));
                }
            }
        }
    }
    out
}

/// Recall and precision of one variant class.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Concordance {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl Concordance {
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Exact-match concordance, SNPs and indels separately.
pub fn concordance(
    truth: &BTreeSet<VariantKey>,
    calls: &BTreeSet<VariantKey>,
) -> (Concordance, Concordance) {
    let is_snp = |k: &VariantKey| k.2.len() == 1 && k.3.len() == 1;
    let mut snp = Concordance::default();
    let mut indel = Concordance::default();
    for k in truth {
        let c = if is_snp(k) { &mut snp } else { &mut indel };
        if calls.contains(k) {
            c.true_positives += 1;
        } else {
            c.false_negatives += 1;
        }
    }
    for k in calls.difference(truth) {
        if is_snp(k) {
            snp.false_positives += 1;
        } else {
            indel.false_positives += 1;
        }
    }
    (snp, indel)
}
