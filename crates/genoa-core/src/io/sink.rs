//! Where coordinate-sorted alignment records go: one trait, a BAM and a CRAM implementation.
//!
//! Records arrive as encoded BAM records (`block_size` first, the SAM specification's §4.2
//! layout — what [`crate::io::bam::writer::encode_record`] makes and the sort runs hold), in
//! coordinate order, one at a time. Each sink writes its file and builds its index as the records
//! pass: nothing is held but the block or container being compressed, and nothing is read back.
//! Both files appear under their final names only when [`AlignmentSink::finish`] succeeds; a sink
//! dropped before that leaves nothing behind.

use std::io::BufWriter;
use std::path::Path;

use noodles::cram;
use noodles::sam::{self, alignment::io::Write as _};

use crate::error::{Error, Result};
use crate::io::atomic::Pending;
use crate::io::bam::writer::SortedWriter;
use crate::io::reference::Reference;

/// A coordinate-sorted alignment file being written record by record.
pub trait AlignmentSink: Send {
    /// Appends one encoded BAM record (`block_size` first).
    fn push(&mut self, record: &[u8]) -> Result<()>;
    /// Ends the file, writes its index, and gives both their final names.
    fn finish(self: Box<Self>) -> Result<()>;
    /// Whether the sink takes BGZF parts ([`AlignmentSink::append_part`]) in place of records.
    fn takes_parts(&self) -> bool {
        false
    }
    /// Appends a part written by a [`crate::io::bam::writer::PartWriter`], handing its
    /// records to `tap` in order; only where [`AlignmentSink::takes_parts`].
    fn append_part(
        &mut self,
        part: &Path,
        _tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>,
    ) -> Result<()> {
        Err(crate::error::Error::Internal(format!(
            "{}: this output takes records, not parts",
            part.display()
        )))
    }
}

/// Whether `path` names a CRAM file (by its extension).
pub fn is_cram(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("cram"))
}

/// A sink for `path`: CRAM (+ `.crai`) when it ends in `.cram`, else BAM (+ `.bai`, or `.csi`
/// for contigs over 2^29).
pub fn create(
    path: &Path,
    header: &sam::Header,
    reference: &Reference,
) -> Result<Box<dyn AlignmentSink>> {
    Ok(if is_cram(path) {
        Box::new(CramSink::create(path, header, reference)?)
    } else {
        Box::new(BamSink::create(path, header, reference.max_len())?)
    })
}

/// BAM: BGZF blocks compressed on the worker threads, the index built from their offsets.
pub struct BamSink {
    data: Pending,
    index: Pending,
    writer: SortedWriter,
    n_refs: usize,
}

impl BamSink {
    /// A BAM at `path` whose longest contig has `max_contig_len` bases (which picks BAI or CSI).
    pub fn create(path: &Path, header: &sam::Header, max_contig_len: u64) -> Result<BamSink> {
        let data = Pending::new(path)?;
        let index = Pending::new(crate::io::bam::index_path(path, max_contig_len))?;
        let writer = SortedWriter::new(data.create()?, path, header, max_contig_len)?;
        Ok(BamSink {
            data,
            index,
            writer,
            n_refs: header.reference_sequences().len(),
        })
    }
}

impl AlignmentSink for BamSink {
    fn push(&mut self, record: &[u8]) -> Result<()> {
        self.writer.push(record)
    }

    fn takes_parts(&self) -> bool {
        true
    }

    fn append_part(
        &mut self,
        part: &Path,
        tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>,
    ) -> Result<()> {
        self.writer.append_part(part, tap)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let BamSink {
            data,
            index,
            writer,
            n_refs,
        } = *self;
        let built = writer.finish(n_refs)?;
        crate::io::bam::write_index(&index, built)?;
        crate::io::atomic::commit_all(vec![data, index])
    }
}

/// CRAM 3: reference-based against the run's FASTA, one container of 10,240 records at a time
/// (noodles' writer), its `.crai` collected as each container is written (genoa's patch of the
/// vendored noodles-cram).
pub struct CramSink {
    data: Pending,
    index: Pending,
    header: sam::Header,
    writer: cram::io::Writer<BufWriter<std::fs::File>>,
    repository: noodles::fasta::Repository,
    /// Reference id of the last record: the repository's cached contig is dropped when it
    /// changes, so at most one or two contigs are held, not the genome.
    contig: Option<usize>,
    /// Records written, for messages.
    records: u64,
}

impl CramSink {
    pub fn create(path: &Path, header: &sam::Header, reference: &Reference) -> Result<CramSink> {
        let repository = crate::io::cram::repository(reference)?;
        let data = Pending::new(path)?;
        let index = Pending::new(crate::io::cram::index_path(path))?;
        let mut writer = cram::io::writer::Builder::default()
            .set_reference_sequence_repository(repository.clone())
            .build_from_writer(BufWriter::with_capacity(1 << 20, data.create()?));
        writer.enable_index();
        writer
            .write_header(header)
            .map_err(|e| Error::io(path, e))?;
        Ok(CramSink {
            data,
            index,
            header: header.clone(),
            writer,
            repository,
            contig: None,
            records: 0,
        })
    }
}

impl AlignmentSink for CramSink {
    fn push(&mut self, record: &[u8]) -> Result<()> {
        self.records += 1;
        let path = self.data.path();
        let bad = |m: String| {
            Error::Internal(format!("{}: record {}: {m}", path.display(), self.records))
        };
        let view = record
            .get(4..)
            .and_then(noodles::bam::RecordRef::new)
            .ok_or_else(|| bad("shorter than a BAM record".into()))?;
        let contig = noodles::sam::alignment::Record::reference_sequence_id(&view, &self.header)
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        if contig != self.contig {
            if self.contig.is_some() {
                self.repository.clear();
            }
            self.contig = contig;
        }
        self.writer
            .write_alignment_record(&self.header, &view)
            .map_err(|e| Error::io(path, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let CramSink {
            data,
            index,
            header,
            mut writer,
            ..
        } = *self;
        let path = data.path().to_path_buf();
        writer
            .try_finish(&header)
            .map_err(|e| Error::io(&path, e))?;
        let crai = writer
            .take_index()
            .ok_or_else(|| Error::Internal("CRAM writer: no index collected".into()))?;
        let mut file = writer.into_inner();
        std::io::Write::flush(&mut file).map_err(|e| Error::io(&path, e))?;
        drop(file);
        cram::crai::fs::write(index.tmp_path(), &crai).map_err(|e| Error::io(index.path(), e))?;
        crate::io::atomic::commit_all(vec![data, index])
    }
}
