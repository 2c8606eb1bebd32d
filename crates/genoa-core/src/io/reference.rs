//! Reference FASTA: every contig in memory (base codes), its length and the MD5 of its
//! upper-cased sequence as the SAM specification defines `M5`.
//!
//! - Plain, gzip or bgzip (`.fa.gz`, as GRCh38 is often shipped) FASTA is read; the digests
//!   (MD5 and refget's SHA-512) of a batch of contigs are computed in parallel.
//! - The digests are kept in `FASTA.genoa.digests` beside it ([`digests_path`]) and taken from
//!   there while the FASTA keeps its size and modification time.
//! - The `.fai` beside a plain FASTA is built if missing, and rebuilt when it is stale (other
//!   contig names or lengths than the FASTA's, or older than the FASTA): samtools, bcftools
//!   and GATK read it, and a stale one makes them read the wrong bases. A stale `.fai` that
//!   cannot be rewritten, or one beside a compressed FASTA (`samtools faidx` writes it with the
//!   `.gzi`), is refused.

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

    /// Reads `path` (plain, gzip or bgzip FASTA) and checks the `.fai` beside it (see the
    /// module header).
    pub fn load(path: &Path) -> Result<Reference> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut raw = BufReader::with_capacity(1 << 20, file);
        let compressed = {
            use std::io::BufRead;
            let head = raw.fill_buf().map_err(|e| Error::io(path, e))?;
            head.starts_with(&[0x1f, 0x8b])
        };
        let mut buffered: Box<dyn std::io::BufRead> = if compressed {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(raw),
            ))
        } else {
            Box::new(raw)
        };
        {
            let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
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
        // Digests of an earlier load of this very file (same size and modification time),
        // used for the contigs whose names and lengths match.
        let cache = DigestCache::read(path);
        let cached = |i: usize, name: &str, len: usize| {
            let c = cache.as_ref()?.contigs.get(i)?;
            (c.0 == name && c.1 == len as u64).then(|| (c.2.clone(), c.3.clone()))
        };
        // Contigs are read one by one and digested in batches of about BATCH_BYTES, in
        // parallel: a batch's raw sequences are all that is held beside the base codes.
        const BATCH_BYTES: usize = 512 << 20;
        let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
        let mut batch_bytes = 0usize;
        let digest_batch = |batch: &mut Vec<(String, Vec<u8>)>, contigs: &mut Vec<Contig>| {
            use rayon::prelude::*;
            let first = contigs.len();
            let done: Vec<Contig> = std::mem::take(batch)
                .into_par_iter()
                .enumerate()
                .map(|(k, (name, seq))| {
                    let (md5, refget) = cached(first + k, &name, seq.len()).unwrap_or_else(|| {
                        let d = crate::io::refget::contig_digest(&name, &seq);
                        (d.md5, d.refget)
                    });
                    Contig {
                        codes: seq.iter().map(|&b| base_code(b)).collect(),
                        name,
                        md5,
                        refget,
                    }
                })
                .collect();
            contigs.extend(done);
        };
        for (n, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| {
                let damaged = compressed
                    && (e.kind() == std::io::ErrorKind::UnexpectedEof
                        || e.to_string().contains("deflate"));
                let what = if damaged {
                    format!(
                        "the compressed data ends early or is damaged ({e}): an interrupted copy or download?"
                    )
                } else {
                    e.to_string()
                };
                Error::input(path, format!("sequence {}: {what}", n + 1))
            })?;
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
            if contigs.iter().any(|c| c.name == name) || batch.iter().any(|c| c.0 == name) {
                return Err(Error::input(
                    path,
                    format!("contig {name}: name appears twice"),
                ));
            }
            batch_bytes += seq.len();
            batch.push((name, seq.to_vec()));
            if batch_bytes >= BATCH_BYTES {
                digest_batch(&mut batch, &mut contigs);
                batch_bytes = 0;
            }
        }
        digest_batch(&mut batch, &mut contigs);
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
        reference.check_fai(compressed)?;
        let fresh = DigestCache::of(&reference);
        if let Some(c) = fresh
            && cache.as_ref().map(|c| &c.contigs) != Some(&c.contigs)
        {
            c.write(path);
        }
        Ok(reference)
    }

    /// Checks the `.fai` beside the FASTA: writes it if missing (a warning, not an error, when
    /// it cannot), rewrites it when stale; refuses a stale one it cannot rewrite.
    fn check_fai(&self, compressed: bool) -> Result<()> {
        let fai_path = fai_path(&self.path);
        let stale = match std::fs::read_to_string(&fai_path) {
            Ok(text) => {
                let listed: Vec<(&str, u64)> = text
                    .lines()
                    .filter_map(|l| {
                        let mut f = l.split('\t');
                        Some((f.next()?, f.next()?.parse().ok()?))
                    })
                    .collect();
                let same = listed.len() == self.contigs.len()
                    && listed
                        .iter()
                        .zip(&self.contigs)
                        .all(|(l, c)| l.0 == c.name && l.1 == c.len());
                let older = std::fs::metadata(&fai_path)
                    .and_then(|m| m.modified())
                    .ok()
                    .zip(
                        std::fs::metadata(&self.path)
                            .and_then(|m| m.modified())
                            .ok(),
                    )
                    .is_some_and(|(fai, fasta)| fai < fasta);
                if !same {
                    Some("lists other contigs or lengths than the FASTA")
                } else if older && !compressed {
                    Some("is older than the FASTA")
                } else {
                    None
                }
            }
            Err(_) if compressed => {
                tracing::warn!(
                    "{}: missing; tools reading the compressed FASTA need it and the .gzi (samtools faidx {})",
                    fai_path.display(),
                    self.path.display()
                );
                return Ok(());
            }
            Err(_) => None,
        };
        if fai_path.exists() && stale.is_none() {
            return Ok(());
        }
        if let Some(why) = stale {
            if compressed {
                return Err(Error::input(
                    &fai_path,
                    format!(
                        "stale FASTA index: {why}; rebuild it with samtools faidx {}",
                        self.path.display()
                    ),
                ));
            }
            tracing::warn!("{}: {why}: rewriting it", fai_path.display());
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
        match (result, stale) {
            (Ok(()), _) => Ok(()),
            (Err(e), None) => {
                tracing::warn!(
                    "{}: could not write the FASTA index: {e}",
                    fai_path.display()
                );
                Ok(())
            }
            (Err(e), Some(why)) => Err(Error::input(
                &fai_path,
                format!(
                    "stale FASTA index ({why}) that cannot be rewritten ({e}): remove it or run samtools faidx {}",
                    self.path.display()
                ),
            )),
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

/// `ref.fa` → `ref.fa.genoa.digests`.
pub fn digests_path(fasta: &Path) -> PathBuf {
    crate::io::with_suffix(fasta, ".genoa.digests")
}

/// `FASTA.genoa.digests`: every contig's name, length, MD5 and refget digest, from the FASTA of
/// the size and modification time (ns) it records. MD5 and SHA-512 are about half the CPU of
/// loading a FASTA; with this file beside it, later loads of the unchanged file skip them for
/// every contig whose name and length still match. Written (through a temporary name) when a
/// load computed digests; a FASTA directory that cannot be written only loses the saving.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct DigestCache {
    size: u64,
    mtime_ns: u128,
    contigs: Vec<(String, u64, String, String)>,
}

impl DigestCache {
    /// Size and modification time (ns since the epoch) of `path`.
    fn stamp(path: &Path) -> Option<(u64, u128)> {
        let m = std::fs::metadata(path).ok()?;
        let t = m.modified().ok()?;
        let ns = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
        Some((m.len(), ns))
    }

    /// The cache beside `fasta`, if it was made from the file as it is now.
    fn read(fasta: &Path) -> Option<DigestCache> {
        let text = std::fs::read(digests_path(fasta)).ok()?;
        let cache: DigestCache = serde_json::from_slice(&text).ok()?;
        (Self::stamp(fasta)? == (cache.size, cache.mtime_ns)).then_some(cache)
    }

    fn of(reference: &Reference) -> Option<DigestCache> {
        let (size, mtime_ns) = Self::stamp(&reference.path)?;
        Some(DigestCache {
            size,
            mtime_ns,
            contigs: reference
                .contigs
                .iter()
                .map(|c| (c.name.clone(), c.len(), c.md5.clone(), c.refget.clone()))
                .collect(),
        })
    }

    fn write(&self, fasta: &Path) {
        let path = digests_path(fasta);
        let result = serde_json::to_vec(self)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                use std::io::Write;
                let pending =
                    crate::io::atomic::Pending::new(&path).map_err(std::io::Error::other)?;
                pending
                    .create()
                    .map_err(std::io::Error::other)?
                    .write_all(&text)?;
                pending.commit().map_err(std::io::Error::other)
            });
        if let Err(e) = result {
            tracing::debug!("{}: not written: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_kept_beside_the_fasta_while_it_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, ">c1\nACGTACGTNNAC\n>c2\nGATTACA\n").unwrap();
        let want: Vec<(String, String)> = Reference::load(&fa)
            .unwrap()
            .contigs
            .iter()
            .map(|c| (c.md5.clone(), c.refget.clone()))
            .collect();
        let cache_path = digests_path(&fa);
        let cache: DigestCache =
            serde_json::from_slice(&std::fs::read(&cache_path).unwrap()).unwrap();
        assert_eq!(cache.contigs.len(), 2);
        assert_eq!(
            (cache.contigs[1].2.clone(), cache.contigs[1].3.clone()),
            want[1]
        );
        // A load of the unchanged FASTA takes the digests from the cache (planted here).
        let mut planted = cache;
        planted.contigs[1].2 = "0".repeat(32);
        std::fs::write(&cache_path, serde_json::to_vec(&planted).unwrap()).unwrap();
        let r = Reference::load(&fa).unwrap();
        assert_eq!(r.contigs[1].md5, "0".repeat(32));
        assert_eq!(r.contigs[0].md5, want[0].0);
        // The FASTA rewritten (another time; here the same size): digests computed again,
        // and the cache rewritten.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&fa, ">c1\nACGTACGTNNAC\n>c2\nGATTACC\n").unwrap();
        let r = Reference::load(&fa).unwrap();
        assert_ne!(r.contigs[1].md5, "0".repeat(32));
        assert_ne!(r.contigs[1].md5, want[1].0);
        let again: DigestCache =
            serde_json::from_slice(&std::fs::read(&cache_path).unwrap()).unwrap();
        assert_eq!(again.contigs[1].2, r.contigs[1].md5);
        // A contig renamed under a planted stamp: its digest is not taken.
        let mut renamed = again;
        renamed.contigs[1].0 = "other".into();
        renamed.contigs[1].2 = "0".repeat(32);
        std::fs::write(&cache_path, serde_json::to_vec(&renamed).unwrap()).unwrap();
        assert_eq!(
            Reference::load(&fa).unwrap().contigs[1].md5,
            r.contigs[1].md5
        );
    }

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

    #[test]
    fn gzip_and_bgzip_fasta_give_the_plain_contigs() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let text = ">c1 desc\nACGTacgtNN\nAC\n>c2\nRYA\n";
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, text).unwrap();
        let plain = Reference::load(&fa).unwrap();
        let gz = dir.path().join("r.fa.gz");
        let mut w = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        w.write_all(text.as_bytes()).unwrap();
        w.finish().unwrap();
        let bgz = dir.path().join("b.fa.gz");
        let mut w = noodles::bgzf::io::Writer::new(std::fs::File::create(&bgz).unwrap());
        w.write_all(text.as_bytes()).unwrap();
        w.finish().unwrap();
        for p in [&gz, &bgz] {
            let r = Reference::load(p).unwrap();
            assert_eq!(r.contigs.len(), 2);
            for (a, b) in r.contigs.iter().zip(&plain.contigs) {
                assert_eq!(
                    (&a.name, &a.codes, &a.md5, &a.refget),
                    (&b.name, &b.codes, &b.md5, &b.refget)
                );
            }
            // No .fai is written beside a compressed FASTA (samtools writes it with the .gzi).
            assert!(!fai_path(p).exists());
        }
        // A stale .fai beside a compressed FASTA is refused.
        std::fs::write(fai_path(&bgz), "c1\t99\t6\t10\t11\n").unwrap();
        let e = Reference::load(&bgz).unwrap_err().to_string();
        assert!(e.contains("stale FASTA index"), "{e}");
    }

    #[test]
    fn a_stale_fai_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, ">c1\nACGTACGTAC\n>c2\nACGT\n").unwrap();
        Reference::load(&fa).unwrap();
        let good = std::fs::read_to_string(fai_path(&fa)).unwrap();
        // The FASTA changed under its .fai: another contig length.
        std::fs::write(fai_path(&fa), "c1\t10\t4\t10\t11\nc2\t9\t19\t4\t5\n").unwrap();
        Reference::load(&fa).unwrap();
        assert_eq!(std::fs::read_to_string(fai_path(&fa)).unwrap(), good);
    }
}
