//! CRAM writer.

pub(crate) mod builder;
mod collections;
pub(crate) mod container;
mod context;
pub(crate) mod header;
pub(crate) mod num;
pub(crate) mod record;

use std::io::{self, Write};

use noodles_sam::{self as sam, alignment::io::Write as _};

pub use self::builder::Builder;
use self::{
    container::write_container,
    header::{write_file_definition, write_file_header, write_header},
};
pub(crate) use self::{context::Context, record::Record};
use crate::FileDefinition;

pub(crate) const DEFAULT_SLICES_PER_CONTAINER: usize = 1;

/// A CRAM writer.
///
/// A call to [`Self::try_finish`] must be made before the writer is dropped.
///
/// # Examples
///
/// ```
/// # use std::io;
/// use noodles_cram as cram;
/// use noodles_sam::{self as sam, alignment::io::Write};
///
/// let mut writer = cram::io::Writer::new(io::sink());
///
/// let header = sam::Header::default();
/// writer.write_header(&header)?;
///
/// let record = sam::Record::default();
/// writer.write_alignment_record(&header, &record)?;
///
/// writer.try_finish(&header)?;
/// # Ok::<(), io::Error>(())
/// ```
#[derive(Debug)]
pub struct Writer<W> {
    inner: W,
    context: Context,
    records: Vec<Record>,
    record_counter: u64,
    // genoa patch: bytes written so far, and the `.crai` entries of the containers written
    // (when asked for with `Writer::enable_index`).
    pub(crate) position: u64,
    pub(crate) index: Option<crate::crai::Index>,
}

/// genoa patch: counts the bytes written through it.
struct Counting<'a, W> {
    inner: &'a mut W,
    n: u64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W> Writer<W> {
    /// Returns a reference to the underlying writer.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// let writer = cram::io::Writer::new(io::sink());
    /// let _inner = writer.get_ref();
    /// ```
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Returns a mutable reference to the underlying writer.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// let mut writer = cram::io::Writer::new(io::sink());
    /// let _inner = writer.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Returns the underlying writer.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// let mut writer = cram::io::Writer::new(io::sink());
    /// let _inner = writer.into_inner();
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W> Writer<W>
where
    W: Write,
{
    /// Creates a new CRAM writer with default options.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// let writer = cram::io::Writer::new(io::sink());
    /// ```
    pub fn new(inner: W) -> Self {
        Builder::default().build_from_writer(inner)
    }

    /// Attempts to finish the output stream by writing any pending containers and a final EOF
    /// container.
    ///
    /// This is typically only manually called if the underlying stream is needed before the writer
    /// is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// use noodles_sam as sam;
    ///
    /// let header = sam::Header::default();
    /// let mut writer = cram::io::Writer::new(io::sink());
    /// writer.try_finish(&header)?;
    /// # Ok::<(), io::Error>(())
    /// ```
    pub fn try_finish(&mut self, header: &sam::Header) -> io::Result<()> {
        use self::container::write_eof_container;
        self.flush(header)?;
        let mut w = Counting { inner: &mut self.inner, n: 0 };
        write_eof_container(&mut w)?;
        self.position += w.n;
        Ok(())
    }

    /// genoa patch: collects a `.crai` entry for every slice of every container written from
    /// now on (one per reference sequence the slice holds, as samtools indexes), so the index is
    /// built as the file is written. Call it before the first record.
    pub fn enable_index(&mut self) {
        self.index = Some(Vec::new());
    }

    /// genoa patch: the `.crai` entries collected since [`Self::enable_index`] (call it after
    /// [`Self::try_finish`]).
    pub fn take_index(&mut self) -> Option<crate::crai::Index> {
        self.index.take()
    }

    /// genoa patch: numbers the next record `n` (the containers' record counter), for a part
    /// of a file whose records before it were written elsewhere.
    pub fn set_record_counter(&mut self, n: u64) {
        self.record_counter = n;
    }

    /// genoa patch: writes the pending records' container and no end-of-file container: the
    /// end of a part of a file (see [`Self::append_part`]).
    pub fn finish_part(&mut self, header: &sam::Header) -> io::Result<()> {
        self.flush(header)
    }

    /// genoa patch: appends the containers of a part written by another writer (its
    /// [`Self::finish_part`] output, `len` bytes from `src`), with that writer's `.crai`
    /// entries, whose container offsets are moved to where the part lands in this file.
    pub fn append_part<R: io::Read>(
        &mut self,
        src: &mut R,
        len: u64,
        index: crate::crai::Index,
    ) -> io::Result<()> {
        self.flush_pending_records_first()?;
        let base = self.position;
        let mut w = Counting { inner: &mut self.inner, n: 0 };
        let n = io::copy(&mut io::Read::take(src, len), &mut w)?;
        if n != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a CRAM part ends early",
            ));
        }
        self.position += w.n;
        if let Some(own) = self.index.as_mut() {
            own.extend(index.into_iter().map(|r| {
                crate::crai::Record::new(
                    r.reference_sequence_id(),
                    r.alignment_start(),
                    r.alignment_span(),
                    base + r.offset(),
                    r.landmark(),
                    r.slice_length(),
                )
            }));
        }
        Ok(())
    }

    fn flush_pending_records_first(&self) -> io::Result<()> {
        if self.records.is_empty() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a part appended after records still in a container",
            ))
        }
    }

    /// Writes a CRAM file definition.
    ///
    /// The file ID is set as a blank value (`[0x00; 20]`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// let mut writer = cram::io::Writer::new(io::sink());
    /// writer.write_file_definition()?;
    /// # Ok::<(), io::Error>(())
    /// ```
    pub fn write_file_definition(&mut self) -> io::Result<()> {
        let file_definition = FileDefinition::new(self.context.version, Default::default());
        let mut w = Counting { inner: &mut self.inner, n: 0 };
        write_file_definition(&mut w, &file_definition)?;
        self.position += w.n;
        Ok(())
    }

    /// Writes a CRAM file header container.
    ///
    /// The position of the stream is expected to be directly after the file definition.
    ///
    /// Entries in the reference sequence dictionary that are missing MD5 checksums (`M5`) will
    /// automatically be calculated and added to the written record.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// use noodles_sam as sam;
    ///
    /// let mut writer = cram::io::Writer::new(io::sink());
    /// writer.write_file_definition()?;
    ///
    /// let header = sam::Header::default();
    /// writer.write_file_header(&header)?;
    ///
    /// writer.try_finish(&header)?;
    /// # Ok::<(), io::Error>(())
    /// ```
    pub fn write_file_header(&mut self, header: &sam::Header) -> io::Result<()> {
        let mut w = Counting { inner: &mut self.inner, n: 0 };
        write_file_header(&mut w, &self.context.reference_sequence_repository, header)?;
        self.position += w.n;
        Ok(())
    }

    /// Writes a SAM header.
    ///
    /// This writes the CRAM magic number, the file definition, and file header using the given SAM
    /// header.
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// use noodles_sam as sam;
    ///
    /// let mut writer = cram::io::Writer::new(io::sink());
    ///
    /// let header = sam::Header::default();
    /// writer.write_header(&header)?;
    /// # Ok::<_, io::Error>(())
    /// ```
    pub fn write_header(&mut self, header: &sam::Header) -> io::Result<()> {
        let file_definition = FileDefinition::new(self.context.version, Default::default());

        let mut w = Counting { inner: &mut self.inner, n: 0 };
        write_header(
            &mut w,
            &self.context.reference_sequence_repository,
            &file_definition,
            header,
        )?;
        self.position += w.n;
        Ok(())
    }

    /// Writes a CRAM record.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io;
    /// use noodles_cram as cram;
    /// use noodles_sam::{self as sam, alignment::io::Write};
    ///
    /// let mut writer = cram::io::Writer::new(io::sink());
    ///
    /// let header = sam::Header::default();
    /// writer.write_header(&header)?;
    ///
    /// let record = cram::Record::default();
    /// writer.write_record(&header, &record)?;
    ///
    /// writer.try_finish(&header)?;
    /// # Ok::<(), io::Error>(())
    /// ```
    pub fn write_record(
        &mut self,
        header: &sam::Header,
        record: &crate::Record<'_>,
    ) -> io::Result<()> {
        self.write_alignment_record(header, record)
    }

    fn add_record(&mut self, header: &sam::Header, record: Record) -> io::Result<()> {
        self.records.push(record);

        if self.records.len() >= self.records.capacity() {
            self.flush(header)?;
        }

        Ok(())
    }

    fn flush(&mut self, header: &sam::Header) -> io::Result<()> {
        let mut w = Counting { inner: &mut self.inner, n: 0 };
        let written = write_container(
            &mut w,
            &self.context,
            header,
            self.record_counter,
            &mut self.records,
        )?;
        let container_position = self.position;
        self.position += w.n;

        // genoa patch: index entries of the container just written.
        if let (Some(index), Some((landmarks, container_size))) = (self.index.as_mut(), written) {
            index_container(
                index,
                &self.records,
                self.context.records_per_slice,
                container_position,
                &landmarks,
                container_size,
            );
        }

        let record_count = u64::try_from(self.records.len())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.record_counter += record_count;

        self.records.clear();

        Ok(())
    }
}

impl<W> sam::alignment::io::Write for Writer<W>
where
    W: Write,
{
    fn write_alignment_header(&mut self, header: &sam::Header) -> io::Result<()> {
        self.write_header(header)
    }

    fn write_alignment_record(
        &mut self,
        header: &sam::Header,
        record: &dyn sam::alignment::Record,
    ) -> io::Result<()> {
        let record = Record::try_from_alignment_record(
            &self.context.reference_sequence_repository,
            header,
            record,
        )?;

        self.add_record(header, record)
    }

    fn finish(&mut self, header: &sam::Header) -> io::Result<()> {
        self.try_finish(header)
    }
}

/// genoa patch: one `.crai` entry per reference sequence of each slice (records cut into slices
/// as `build_container` cuts them); records without a reference share one unplaced entry.
fn index_container(
    index: &mut crate::crai::Index,
    records: &[Record],
    records_per_slice: usize,
    container_position: u64,
    landmarks: &[usize],
    container_size: usize,
) {
    use std::collections::BTreeMap;

    use noodles_core::Position;

    for (i, slice) in records.chunks(records_per_slice).enumerate() {
        let Some(&landmark) = landmarks.get(i) else {
            break;
        };
        let slice_end = landmarks.get(i + 1).copied().unwrap_or(container_size);
        // (unplaced, reference id) → (first start, last end)
        let mut spans: BTreeMap<(bool, usize), (usize, usize)> = BTreeMap::new();
        for record in slice {
            let id = record.reference_sequence_id;
            let span = spans
                .entry((id.is_none(), id.unwrap_or(0)))
                .or_insert((usize::MAX, 0));
            if let (Some(start), Some(end)) = (record.alignment_start, record.alignment_end()) {
                span.0 = span.0.min(usize::from(start));
                span.1 = span.1.max(usize::from(end));
            }
        }
        let single = spans.len() == 1;
        for ((unplaced, id), (start, end)) in spans {
            // Unplaced records get span 1 beside other references (a multi-reference slice),
            // 0 in a slice of their own (its header's span), as samtools writes them.
            let (id, start, span) = if unplaced {
                (None, None, usize::from(!single))
            } else if start == usize::MAX {
                (Some(id), None, 0)
            } else {
                (Some(id), Position::new(start), end - start + 1)
            };
            index.push(crate::crai::Record::new(
                id,
                start,
                span,
                container_position,
                landmark as u64,
                (slice_end - landmark) as u64,
            ));
        }
    }
}
