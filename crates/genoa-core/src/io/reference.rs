//! Reference FASTA: every contig in memory (base codes), its length and the MD5 of its
//! upper-cased sequence as the SAM specification defines `M5`; the `.fai` is built beside the
//! FASTA if missing (and the directory is writable).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use noodles::fasta;

use crate::error::{Error, Result};
use crate::genome::base_code;

/// One contig.
#[derive(Clone, Debug)]
pub struct Contig {
    pub name: String,
    /// Base codes (IUPAC ambiguity letters become `N`).
    pub codes: Vec<u8>,
    /// Lower-case hexadecimal MD5 of the upper-cased sequence.
    pub md5: String,
    /// refget digest (`SQ.` + sha512t24u of the upper-cased sequence).
    pub refget: String,
}

impl Contig {
    pub fn len(&self) -> u64 {
        self.codes.len() as u64
    }
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

/// A whole reference genome.
#[derive(Clone, Debug)]
pub struct Reference {
    pub path: PathBuf,
    pub contigs: Vec<Contig>,
}

impl Reference {
    /// The GA4GH Sequence Collections level-0 digest of the contigs (names and refget
    /// digests; see [`crate::io::refget::seqcol_level0`]).
    pub fn seqcol_level0(&self) -> String {
        let digests: Vec<crate::io::refget::ContigDigest> = self
            .contigs
            .iter()
            .map(|c| crate::io::refget::ContigDigest {
                name: c.name.clone(),
                length: c.len(),
                md5: c.md5.clone(),
                refget: c.refget.clone(),
            })
            .collect();
        crate::io::refget::seqcol_level0(&digests)
    }

    /// Reads `path` (plain FASTA) and makes sure a `.fai` exists beside it.
    pub fn load(path: &Path) -> Result<Reference> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut buffered = BufReader::new(file);
        {
            use std::io::BufRead;
            let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
            if head.starts_with(&[0x1f, 0x8b]) {
                return Err(Error::input(
                    path,
                    "gzip- or bgzip-compressed FASTA, which genoa does not read yet: decompress it (gunzip -c ref.fa.gz > ref.fa) and give the plain FASTA",
                ));
            }
            if head.is_empty() {
                return Err(Error::input(path, "empty file: no FASTA sequences"));
            }
            if head[0] != b'>' {
                return Err(Error::input(
                    path,
                    "not a FASTA file: the first line does not start with '>'",
                ));
            }
        }
        let mut reader = fasta::io::Reader::new(buffered);
        let mut contigs: Vec<Contig> = Vec::new();
        for (n, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| Error::input(path, format!("sequence {}: {e}", n + 1)))?;
            let name = String::from_utf8_lossy(rec.name()).into_owned();
            let seq: &[u8] = rec.sequence().as_ref();
            if let Some(bad) = seq
                .iter()
                .find(|b| !(b.is_ascii_alphabetic() || **b == b'*' || **b == b'-'))
            {
                return Err(Error::input(
                    path,
                    format!(
                        "contig {name}: invalid character {:?} in sequence",
                        char::from(*bad)
                    ),
                ));
            }
            if seq.is_empty() {
                return Err(Error::input(path, format!("contig {name}: empty sequence")));
            }
            if contigs.iter().any(|c| c.name == name) {
                return Err(Error::input(
                    path,
                    format!("contig {name}: name appears twice"),
                ));
            }
            let digest = crate::io::refget::contig_digest(&name, seq);
            contigs.push(Contig {
                name,
                codes: seq.iter().map(|&b| base_code(b)).collect(),
                md5: digest.md5,
                refget: digest.refget,
            });
        }
        if contigs.is_empty() {
            return Err(Error::input(
                path,
                "no sequences: not a FASTA file, or empty",
            ));
        }
        let reference = Reference {
            path: path.to_path_buf(),
            contigs,
        };
        reference.ensure_fai();
        Ok(reference)
    }

    /// Writes `<fasta>.fai` if it does not exist (a warning, not an error, when it cannot).
    fn ensure_fai(&self) {
        let fai_path = fai_path(&self.path);
        if fai_path.exists() {
            return;
        }
        let result = fasta::fs::index(&self.path).and_then(|index| {
            use std::io::Write;
            let pending =
                crate::io::atomic::Pending::new(&fai_path).map_err(std::io::Error::other)?;
            let file = pending.create().map_err(std::io::Error::other)?;
            let mut w = fasta::fai::io::Writer::new(std::io::BufWriter::new(file));
            w.write_index(&index)?;
            w.get_mut().flush()?;
            drop(w);
            pending.commit().map_err(std::io::Error::other)
        });
        if let Err(e) = result {
            tracing::warn!(
                "{}: could not write the FASTA index: {e}",
                fai_path.display()
            );
        }
    }

    /// Index of the contig named `name`.
    pub fn contig_index(&self, name: &str) -> Option<usize> {
        self.contigs.iter().position(|c| c.name == name)
    }

    /// Sum of contig lengths.
    pub fn total_len(&self) -> u64 {
        self.contigs.iter().map(Contig::len).sum()
    }

    /// Longest contig.
    pub fn max_len(&self) -> u64 {
        self.contigs.iter().map(Contig::len).max().unwrap_or(0)
    }
}

/// `ref.fa` → `ref.fa.fai`.
pub fn fai_path(fasta: &Path) -> PathBuf {
    crate::io::with_suffix(fasta, ".fai")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_samtools_dict() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, ">c1 desc\nACGTacgtNN\nAC\n>c2\nRYA\n").unwrap();
        let r = Reference::load(&fa).unwrap();
        assert_eq!(r.contigs.len(), 2);
        assert_eq!(r.contigs[0].codes.len(), 12);
        // md5 of "ACGTACGTNNAC"
        use md5::{Digest, Md5};
        let want: String = Md5::digest(b"ACGTACGTNNAC")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(r.contigs[0].md5, want);
        assert_eq!(r.contigs[1].codes, vec![4, 4, 0]);
        assert!(fai_path(&fa).exists());
    }
}
