//! CRAM 3 input: a coordinate-sorted CRAM with its `.crai`, read region by region against the
//! reference FASTA. (Output is [`crate::io::sink::CramSink`].)

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use noodles::core::Position;
use noodles::cram;
use noodles::fasta::{self, repository::adapters::IndexedReader};
use noodles::sam;

use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::model::alignment::{AlignedRead, Flags};

/// A sequence repository reading `reference.path` through its FASTA index (built in memory when
/// no readable `.fai` exists beside it). A `.fai` whose contig names or lengths differ from the
/// FASTA's is refused, and every contig read through it must have the MD5 of the sequence genoa
/// loaded: a stale index (of an older or edited FASTA) would otherwise make the CRAM writer encode
/// reads against the wrong bases, a file samtools refuses.
pub fn repository(reference: &Reference) -> Result<fasta::Repository> {
    let path = &reference.path;
    let fai = crate::io::reference::fai_path(path);
    let index = match fasta::fai::fs::read(&fai) {
        Ok(index) => {
            check_fai(&fai, &index, reference)?;
            index
        }
        Err(_) => fasta::fs::index(path).map_err(|e| Error::io(path, e))?,
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = fasta::io::IndexedReader::new(BufReader::new(file), index);
    Ok(fasta::Repository::new(Checked {
        inner: IndexedReader::new(reader),
        fai,
        md5: reference
            .contigs
            .iter()
            .map(|c| (c.name.clone(), c.md5.clone()))
            .collect(),
    }))
}

/// The advice on a `.fai` that does not describe the FASTA beside it.
const STALE_FAI: &str = "the index of an older or other FASTA? Delete it (genoa writes a new one) or rebuild it with `samtools faidx`";

/// A `.fai` must list the FASTA's contigs, in order, with their lengths.
fn check_fai(fai: &Path, index: &fasta::fai::Index, reference: &Reference) -> Result<()> {
    let records = index.as_ref();
    if records.len() != reference.contigs.len() {
        return Err(Error::input(
            fai,
            format!(
                "does not match the FASTA: it lists {} contigs, the FASTA has {}: {STALE_FAI}",
                records.len(),
                reference.contigs.len()
            ),
        ));
    }
    for (k, (r, c)) in records.iter().zip(&reference.contigs).enumerate() {
        if r.name() != c.name.as_bytes() || r.length() != c.len() {
            return Err(Error::input(
                fai,
                format!(
                    "does not match the FASTA: line {}: contig {} of length {}, the FASTA's contig {} is {} of length {}: {STALE_FAI}",
                    k + 1,
                    r.name(),
                    r.length(),
                    k + 1,
                    c.name,
                    c.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The repository's adapter: each contig read through the index must be the sequence genoa
/// loaded (same MD5 as its `@SQ M5`).
struct Checked<R> {
    inner: IndexedReader<R>,
    fai: PathBuf,
    md5: Vec<(String, String)>,
}

impl<R> fasta::repository::Adapter for Checked<R>
where
    R: std::io::BufRead + std::io::Seek + Send + Sync,
{
    fn get(&mut self, name: &[u8]) -> Option<std::io::Result<fasta::Record>> {
        let record = match self.inner.get(name)? {
            Ok(record) => record,
            Err(e) => return Some(Err(e)),
        };
        let want = self
            .md5
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, m)| m);
        let seq: &[u8] = record.sequence().as_ref();
        let got = md5_upper(seq);
        if want.is_some_and(|m| *m != got) {
            return Some(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: contig {} read through this FASTA index is not the sequence in the FASTA (MD5 {got}): {STALE_FAI}",
                    self.fai.display(),
                    String::from_utf8_lossy(name)
                ),
            )));
        }
        Some(Ok(record))
    }
}

/// MD5 (hex) of `seq` in upper case, as `@SQ M5` and CRAM slices have it.
fn md5_upper(seq: &[u8]) -> String {
    use md5::{Digest, Md5};
    let mut md5 = Md5::new();
    let mut upper = [0u8; 8192];
    for chunk in seq.chunks(upper.len()) {
        let up = &mut upper[..chunk.len()];
        up.copy_from_slice(chunk);
        up.make_ascii_uppercase();
        md5.update(&*up);
    }
    md5.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Path of the index beside `cram`.
pub fn index_path(cram: &Path) -> PathBuf {
    crate::io::with_suffix(cram, ".crai")
}

/// A coordinate-sorted CRAM with its `.crai`, read region by region against the reference
/// (the caller's input), as `bam::IndexedBam` reads a BAM.
pub struct IndexedCram {
    path: PathBuf,
    header: sam::Header,
    index: cram::crai::Index,
    repo: fasta::Repository,
    /// Reference contig index → the CRAM's reference id.
    cram_id: Vec<Option<usize>>,
    lens: Vec<u64>,
}

impl IndexedCram {
    /// Opens `path` and its index (`path.crai`); the header's contigs must match `reference`.
    pub fn open(path: &Path, reference: &Reference) -> Result<IndexedCram> {
        let repo = repository(reference)?;
        let mut reader = cram::io::reader::Builder::default()
            .set_reference_sequence_repository(repo.clone())
            .build_from_path(path)
            .map_err(|e| Error::io(path, e))?;
        let header = reader.read_header().map_err(|e| {
            Error::input(
                path,
                format!(
                    "not a readable CRAM header: {}",
                    crate::error::describe_io(&e)
                ),
            )
        })?;
        let id_map = crate::io::bam::contig_map(path, &header, reference)?;
        let mut cram_id = vec![None; reference.contigs.len()];
        for (id, &c) in id_map.iter().enumerate() {
            cram_id[c as usize] = Some(id);
        }
        let crai = index_path(path);
        if !crai.is_file() {
            return Err(Error::input(
                path,
                "no index (.crai) beside it; make one with `samtools index`",
            ));
        }
        let index = cram::crai::fs::read(&crai).map_err(|e| {
            Error::input(
                &crai,
                format!(
                    "not a readable CRAM index: {}",
                    crate::error::describe_io(&e)
                ),
            )
        })?;
        Ok(IndexedCram {
            path: path.to_path_buf(),
            header,
            index,
            repo,
            cram_id,
            lens: reference.contigs.iter().map(|c| c.len()).collect(),
        })
    }

    /// The CRAM's header.
    pub fn header(&self) -> &sam::Header {
        &self.header
    }

    /// Appends to `out` every mapped record on reference contig `contig` that overlaps
    /// `[start, end)` (0-based), in file (coordinate) order.
    pub fn fetch(
        &self,
        contig: usize,
        start: u64,
        end: u64,
        out: &mut Vec<AlignedRead>,
    ) -> Result<()> {
        let Some(id) = self.cram_id.get(contig).copied().flatten() else {
            return Ok(());
        };
        let Some((name, _)) = self.header.reference_sequences().get_index(id) else {
            return Ok(());
        };
        let (Some(beg), Some(last)) = (
            Position::new(start as usize + 1),
            Position::new(end.max(start + 1) as usize),
        ) else {
            return Ok(());
        };
        let region = noodles::core::Region::new(name.clone(), beg..=last);
        let io_err = |e: std::io::Error| {
            Error::input(
                &self.path,
                format!(
                    "reading {name}:{}-{}: {}",
                    start + 1,
                    end,
                    crate::error::describe_io(&e)
                ),
            )
        };
        let mut reader = cram::io::reader::Builder::default()
            .set_reference_sequence_repository(self.repo.clone())
            .build_from_path(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        reader.read_header().map_err(io_err)?;
        let query = reader
            .query(&self.header, &self.index, &region)
            .map_err(io_err)?;
        for rec in query.records() {
            let rec = rec.map_err(io_err)?;
            let flags = rec.flags();
            let Some(pos) = rec.alignment_start() else {
                continue;
            };
            // Unplaced reads, and secondary records (which the caller never uses, and which
            // aligners write without SEQ), are skipped; so is any record without SEQ.
            if flags.intersects(Flags::UNMAPPED | Flags::SECONDARY) || rec.sequence().is_empty() {
                continue;
            }
            let pos = usize::from(pos) as u64 - 1;
            let rec_err = |message: String| {
                Error::input(
                    &self.path,
                    format!(
                        "record {} at {name}:{}: {message}",
                        rec.name().map(|n| n.to_string()).unwrap_or_default(),
                        pos + 1
                    ),
                )
            };
            let mut cigar = crate::genome::Cigar::default();
            for &op in rec.cigar().as_ref() {
                crate::io::bam::push_op(&mut cigar, op);
            }
            let mut read = crate::io::bam::placed_read(
                (contig, self.lens[contig]),
                flags,
                pos,
                rec.mapping_quality().map_or(255, u8::from),
                cigar,
                rec.sequence().as_ref().to_vec(),
                rec.quality_scores().as_ref().to_vec(),
            )
            .map_err(rec_err)?;
            let same_contig = rec.reference_sequence_id().is_some()
                && rec.reference_sequence_id() == rec.mate_reference_sequence_id();
            let mate_pos = rec
                .mate_alignment_start()
                .map(|p| usize::from(p) as u64 - 1);
            crate::io::bam::set_overlapping_mate(&mut read, same_contig, mate_pos, || {
                use noodles::sam::alignment::record_buf::data::field::Value;
                match rec
                    .data()
                    .get(&sam::alignment::record::data::field::Tag::MATE_CIGAR)
                {
                    Some(Value::String(s)) => Some(String::from_utf8_lossy(s).into_owned()),
                    _ => None,
                }
            });
            out.push(read);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-contig FASTA (60 bases a line) loaded, its `.fai` then replaced by `fai`.
    fn with_fai(dir: &Path, fai: &str) -> Reference {
        let fa = dir.join("r.fa");
        let seq = |seed: usize| -> String {
            (0..150)
                .map(|i| b"ACGT"[(i * 7 + seed) % 4] as char)
                .collect()
        };
        let (a, b) = (seq(1), seq(2));
        let lines = |s: &str| -> String {
            s.as_bytes()
                .chunks(60)
                .map(|l| format!("{}\n", std::str::from_utf8(l).unwrap()))
                .collect()
        };
        std::fs::write(&fa, format!(">a\n{}>b x\n{}", lines(&a), lines(&b))).unwrap();
        let reference = Reference::load(&fa).unwrap();
        std::fs::write(dir.join("r.fa.fai"), fai).unwrap();
        reference
    }

    #[test]
    fn a_stale_fasta_index_is_refused_not_used() {
        let dir = tempfile::tempdir().unwrap();
        // The index genoa writes: both contigs read back as loaded.
        let right = "a\t150\t3\t60\t61\nb\t150\t161\t60\t61\n";
        let repo = repository(&with_fai(dir.path(), right)).unwrap();
        assert!(repo.get(b"a").unwrap().is_ok());
        assert!(repo.get(b"b").unwrap().is_ok());
        // Another FASTA's contigs or lengths: refused before anything is read.
        for fai in [
            "a\t150\t3\t60\t61\n",
            "a\t150\t3\t60\t61\nc\t150\t161\t60\t61\n",
            "a\t150\t3\t60\t61\nb\t151\t161\t60\t61\n",
        ] {
            let e = repository(&with_fai(dir.path(), fai)).err().unwrap();
            assert!(e.to_string().contains("does not match the FASTA"), "{e}");
        }
        // Names and lengths right, offsets of an older file (b's header was `>b`): contig b
        // would be read from the wrong bytes, so it is refused when read (found by fuzzing:
        // `genoa run --cram` wrote a CRAM that samtools refuses).
        let repo = repository(&with_fai(
            dir.path(),
            "a\t150\t3\t60\t61\nb\t150\t159\t60\t61\n",
        ))
        .unwrap();
        assert!(repo.get(b"a").unwrap().is_ok());
        let e = repo.get(b"b").unwrap().err().unwrap();
        assert!(
            e.to_string().contains("is not the sequence in the FASTA"),
            "{e}"
        );
    }
}
