//! CRAM 3 output: reference-based compression against the run's reference FASTA, and a `.crai`
//! index built by decoding each slice with that reference (noodles' own `cram::fs::index`
//! decodes multi-reference slices without one and fails on them).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use noodles::core::Position;
use noodles::cram;
use noodles::fasta::{self, repository::adapters::IndexedReader};
use noodles::sam::{self, alignment::io::Write as _};

use crate::align::AlignedRead;
use crate::error::{Error, Result};
use crate::io::atomic::Pending;
use crate::io::reference::Reference;

/// A sequence repository reading `reference.path` through its FASTA index (built in memory when
/// no `.fai` exists beside it).
fn repository(reference: &Reference) -> Result<fasta::Repository> {
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

/// Writes `records` (coordinate order) as CRAM to `path`, then its `.crai`; both appear under
/// their final names only when complete.
pub fn write(
    path: &Path,
    header: &sam::Header,
    records: &[AlignedRead],
    rg: &str,
    reference: &Reference,
) -> Result<()> {
    let io_err = |e: std::io::Error| Error::io(path, e);
    let repo = repository(reference)?;
    let data = Pending::new(path);
    let mut writer = cram::io::writer::Builder::default()
        .set_reference_sequence_repository(repo.clone())
        .build_from_writer(data.create()?);
    writer.write_header(header).map_err(io_err)?;
    for r in records {
        let rec = crate::io::bam::to_record_buf(r, rg)?;
        writer
            .write_alignment_record(header, &rec)
            .map_err(io_err)?;
    }
    writer.try_finish(header).map_err(io_err)?;
    drop(writer);
    let index = Pending::new(index_path(path));
    let crai = build_index(data.tmp_path(), &repo).map_err(|e| Error::io(index.path(), e))?;
    cram::crai::fs::write(index.tmp_path(), &crai).map_err(|e| Error::io(index.path(), e))?;
    crate::io::atomic::commit_all(vec![data, index])
}

/// Builds the `.crai` of a CRAM file: one entry per slice and reference it covers.
fn build_index(path: &Path, repo: &fasta::Repository) -> std::io::Result<cram::crai::Index> {
    use noodles::sam::alignment::Record as _;
    let mut reader = File::open(path).map(cram::io::Reader::new)?;
    let header = reader.read_header()?;
    let mut index = Vec::new();
    let mut container = cram::io::reader::Container::default();
    let mut container_position = reader.position()?;
    loop {
        let container_len = match reader.read_container(&mut container)? {
            0 => break,
            n => n,
        };
        let compression_header = container.compression_header()?;
        let landmarks = container.header().landmarks().to_vec();
        for (i, slice) in container.slices().enumerate() {
            let slice = slice?;
            let landmark = landmarks[i];
            let slice_len = landmarks.get(i + 1).copied().unwrap_or(container_len) - landmark;
            let (core, external) = slice.decode_blocks()?;
            let records =
                slice.records(repo.clone(), &header, &compression_header, &core, &external)?;
            let mut spans: BTreeMap<(bool, usize), (usize, usize)> = BTreeMap::new();
            for rec in &records {
                let id = rec.reference_sequence_id(&header).transpose()?;
                let span = spans
                    .entry((id.is_none(), id.unwrap_or(0)))
                    .or_insert((usize::MAX, 0));
                if let (Some(Ok(s)), Some(Ok(e))) = (rec.alignment_start(), rec.alignment_end()) {
                    span.0 = span.0.min(usize::from(s));
                    span.1 = span.1.max(usize::from(e));
                }
            }
            for ((unplaced, id), (start, end)) in spans {
                let (id, start, span) = if unplaced || start == usize::MAX {
                    (if unplaced { None } else { Some(id) }, None, 0)
                } else {
                    (Some(id), Position::new(start), end - start + 1)
                };
                index.push(cram::crai::Record::new(
                    id,
                    start,
                    span,
                    container_position,
                    landmark as u64,
                    slice_len as u64,
                ));
            }
        }
        container_position = reader.position()?;
    }
    Ok(index)
}
