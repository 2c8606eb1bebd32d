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
/// no `.fai` exists beside it).
pub fn repository(reference: &Reference) -> Result<fasta::Repository> {
    let path = &reference.path;
    let index = match fasta::fai::fs::read(crate::io::reference::fai_path(path)) {
        Ok(index) => index,
        Err(_) => fasta::fs::index(path).map_err(|e| Error::io(path, e))?,
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = fasta::io::IndexedReader::new(BufReader::new(file), index);
    Ok(fasta::Repository::new(IndexedReader::new(reader)))
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
