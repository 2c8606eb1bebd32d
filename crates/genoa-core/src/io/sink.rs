//! Where coordinate-sorted alignment records go: one trait, a BAM and a CRAM implementation.
//!
//! Records arrive as encoded BAM records (`block_size` first, the SAM specification's §4.2
//! layout — what [`crate::io::bam::writer::encode_record`] makes and the sort runs hold), in
//! coordinate order, one at a time. Each sink writes its file and builds its index as the records
//! pass: nothing is held but the block or container being compressed, and nothing is read back.
//! Both files appear under their final names only when [`AlignmentSink::finish`] succeeds; a sink
//! dropped before that leaves nothing behind.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// A maker of parts: pieces of the file (genome ranges) written on other threads, in any
    /// order, and appended in order with [`AlignmentSink::append_part`].
    fn parts(&self) -> Arc<dyn PartMaker>;
    /// Appends a part (its records follow those written so far), handing its records to `tap`
    /// in order, a batch at a time.
    fn append_part(
        &mut self,
        part: &Part,
        tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>,
    ) -> Result<()>;
}

/// Writes parts of a sink's file ([`AlignmentSink::parts`]); shared by the threads that write
/// them.
pub trait PartMaker: Send + Sync {
    /// A part at `base` (and names made from it) whose first record is the file's record
    /// `first_record` (0-based; CRAM numbers its records).
    fn create(&self, base: &Path, first_record: u64) -> Result<Box<dyn PartSink>>;
}

/// One part being written: records in order.
pub trait PartSink: Send {
    fn push(&mut self, record: &[u8]) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<Part>;
}

/// A written part: its records BGZF-compressed as a BAM's (see
/// [`crate::io::bam::writer::PartWriter`]), and for a CRAM its containers and their `.crai`
/// entries (offsets from the part's start). [`Part::remove`] deletes its files.
pub struct Part {
    pub bgzf: PathBuf,
    pub cram: Option<(PathBuf, cram::crai::Index)>,
    /// Reference id of the part's first record.
    pub first_contig: Option<usize>,
}

impl Part {
    /// Deletes the part's files.
    pub fn remove(&self) -> Result<()> {
        let mut files = vec![&self.bgzf];
        files.extend(self.cram.as_ref().map(|c| &c.0));
        for f in files {
            std::fs::remove_file(f).map_err(|e| Error::io(f, e))?;
        }
        Ok(())
    }
}

/// The reference id of an encoded BAM record (`block_size` first).
fn record_contig(record: &[u8]) -> Option<usize> {
    let id = i32::from_le_bytes(record.get(4..8)?.try_into().ok()?);
    usize::try_from(id).ok()
}

/// BAM parts: a [`crate::io::bam::writer::PartWriter`] each, compressed at `level` (the BAM's,
/// or 1 for the copy a CRAM part keeps for the caller).
struct BamParts {
    level: i32,
}

struct BamPart {
    path: PathBuf,
    writer: crate::io::bam::writer::PartWriter,
    first_contig: Option<Option<usize>>,
}

impl PartMaker for BamParts {
    fn create(&self, base: &Path, _first_record: u64) -> Result<Box<dyn PartSink>> {
        let path = crate::io::with_suffix(base, ".bgzf");
        Ok(Box::new(BamPart {
            writer: crate::io::bam::writer::PartWriter::with_level(&path, self.level)?,
            path,
            first_contig: None,
        }))
    }
}

impl PartSink for BamPart {
    fn push(&mut self, record: &[u8]) -> Result<()> {
        self.first_contig
            .get_or_insert_with(|| record_contig(record));
        self.writer.push(record)
    }

    fn finish(self: Box<Self>) -> Result<Part> {
        self.writer.finish()?;
        Ok(Part {
            bgzf: self.path,
            cram: None,
            first_contig: self.first_contig.flatten(),
        })
    }
}

/// A CRAM writer into `file` against `repository`, collecting its `.crai` as it writes.
fn cram_writer(
    repository: &noodles::fasta::Repository,
    file: std::fs::File,
) -> cram::io::Writer<BufWriter<std::fs::File>> {
    let mut writer = cram::io::writer::Builder::default()
        .set_reference_sequence_repository(repository.clone())
        .build_from_writer(BufWriter::with_capacity(1 << 20, file));
    writer.enable_index();
    writer
}

/// CRAM parts: the records as CRAM containers, encoded against the sink's reference (its cache
/// shared by all parts), and as a BGZF part at level 1 that only the caller reads back.
struct CramParts {
    header: sam::Header,
    repository: noodles::fasta::Repository,
}

struct CramPart {
    bam: Box<dyn PartSink>,
    path: PathBuf,
    header: sam::Header,
    writer: cram::io::Writer<BufWriter<std::fs::File>>,
    records: u64,
}

impl PartMaker for CramParts {
    fn create(&self, base: &Path, first_record: u64) -> Result<Box<dyn PartSink>> {
        let path = crate::io::with_suffix(base, ".cram");
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut writer = cram_writer(&self.repository, file);
        writer.set_record_counter(first_record);
        Ok(Box::new(CramPart {
            bam: BamParts { level: 1 }.create(base, first_record)?,
            path,
            header: self.header.clone(),
            writer,
            records: 0,
        }))
    }
}

impl PartSink for CramPart {
    fn push(&mut self, record: &[u8]) -> Result<()> {
        self.records += 1;
        let view = record
            .get(4..)
            .and_then(noodles::bam::RecordRef::new)
            .ok_or_else(|| {
                Error::Internal(format!(
                    "{}: record {}: shorter than a BAM record",
                    self.path.display(),
                    self.records
                ))
            })?;
        self.writer
            .write_alignment_record(&self.header, &view)
            .map_err(|e| Error::io(&self.path, e))?;
        self.bam.push(record)
    }

    fn finish(self: Box<Self>) -> Result<Part> {
        let CramPart {
            bam,
            path,
            header,
            mut writer,
            ..
        } = *self;
        writer
            .finish_part(&header)
            .map_err(|e| Error::io(&path, e))?;
        let crai = writer.take_index().unwrap_or_default();
        std::io::Write::flush(writer.get_mut()).map_err(|e| Error::io(&path, e))?;
        let mut part = bam.finish()?;
        part.cram = Some((path, crai));
        Ok(part)
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

    fn parts(&self) -> Arc<dyn PartMaker> {
        Arc::new(BamParts {
            level: crate::io::bam::writer::LEVEL,
        })
    }

    fn append_part(
        &mut self,
        part: &Part,
        tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>,
    ) -> Result<()> {
        self.writer.append_part(&part.bgzf, tap)
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
        let mut writer = cram_writer(&repository, data.create()?);
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

    fn parts(&self) -> Arc<dyn PartMaker> {
        Arc::new(CramParts {
            header: self.header.clone(),
            repository: self.repository.clone(),
        })
    }

    /// Copies the part's containers after those written so far, with their `.crai` entries,
    /// and hands its records, from its BGZF copy, to `tap`. The shared reference cache is
    /// emptied when the parts move on to another contig.
    fn append_part(
        &mut self,
        part: &Part,
        tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>,
    ) -> Result<()> {
        let path = self.data.path().to_path_buf();
        let (containers, crai) = part.cram.as_ref().ok_or_else(|| {
            Error::Internal(format!("{}: a part without CRAM", part.bgzf.display()))
        })?;
        if part.first_contig.is_some() && part.first_contig != self.contig {
            if self.contig.is_some() {
                self.repository.clear();
            }
            self.contig = part.first_contig;
        }
        let mut f = std::fs::File::open(containers).map_err(|e| Error::io(containers, e))?;
        let len = f.metadata().map_err(|e| Error::io(containers, e))?.len();
        self.writer
            .append_part(&mut f, len, crai.clone())
            .map_err(|e| Error::io(&path, e))?;
        crate::io::bam::writer::tap_part(&part.bgzf, tap)
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
