//! FASTQ input: plain, gzip or BGZF (detected from the first bytes; gzip files are
//! decompressed each on a thread of its own, BGZF files on up to 4 worker threads each, ahead
//! of the parser), paired R1/R2 files or one interleaved file. Read names may carry `/1` `/2` suffixes or Casava comments
//! (`@name 1:N:0:ACGT`); both are stripped, and mates must then have equal names.
//!
//! Every record is checked: sequence letters, quality characters (Phred+33), equal lengths.
//! Errors name the file, the record and its first line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use noodles::fastq;

use crate::error::{Error, Result};
use crate::genome::{base_code, is_read_base};
use crate::io::read_index::ReadIndex;
use crate::io::reference::Reference;
use crate::io::ubam::UnalignedReader;

/// One read: normalised name, base codes and Phred qualities.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadRecord {
    pub name: String,
    pub codes: Vec<u8>,
    pub qual: Vec<u8>,
}

/// A batch of read pairs, reused across batches.
#[derive(Clone, Debug, Default)]
pub struct ReadBatch {
    pub r1: Vec<ReadRecord>,
    pub r2: Vec<ReadRecord>,
    /// Index of the first pair of the batch in the whole input.
    pub first_pair: u64,
    /// The lane the batch's pairs come from (a batch lies within one lane), and its library.
    pub lane: u16,
    pub library: u16,
    /// Pairs after the batch's own that were passed over unread (a read index let the reader
    /// skip them: [`LaneReader::skip_to`]); they follow `first_pair + len()`.
    pub skipped: u64,
}

impl ReadBatch {
    pub fn len(&self) -> usize {
        self.r1.len()
    }
    pub fn is_empty(&self) -> bool {
        self.r1.is_empty()
    }
}

/// Turns a flate2 `UnexpectedEof` into a hard error: noodles treats an EOF at a record
/// boundary as the end of the file, which would hide a gzip stream cut between records.
struct StrictEof<R>(R);

impl<R: Read> Read for StrictEof<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("truncated gzip stream ({e})"),
                )
            } else {
                e
            }
        })
    }
}

/// A reader run on a thread of its own: it reads ahead (up to [`Threaded::AHEAD`] chunks of
/// [`Threaded::CHUNK`] bytes), so decompression overlaps parsing. Errors arrive in order, as
/// the inner reader gave them.
struct Threaded {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl Threaded {
    const CHUNK: usize = 1 << 20;
    const AHEAD: usize = 4;

    fn spawn<R: Read + Send + 'static>(mut inner: R) -> io::Result<Threaded> {
        let (tx, rx) = std::sync::mpsc::sync_channel(Self::AHEAD);
        std::thread::Builder::new()
            .name("genoa-gunzip".into())
            .spawn(move || {
                loop {
                    let mut buf = vec![0u8; Self::CHUNK];
                    let mut n = 0;
                    let result = loop {
                        match inner.read(&mut buf[n..]) {
                            Ok(0) => break Ok(()),
                            Ok(k) => {
                                n += k;
                                if n == buf.len() {
                                    break Ok(());
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => break Err(e),
                        }
                    };
                    buf.truncate(n);
                    let last = n < Self::CHUNK || result.is_err();
                    if n > 0 && tx.send(Ok(buf)).is_err() {
                        return; // the reader is gone
                    }
                    if let Err(e) = result {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    if last {
                        return; // the end: the channel closes
                    }
                }
            })?;
        Ok(Threaded {
            rx,
            chunk: Vec::new(),
            at: 0,
            done: false,
        })
    }
}

impl Read for Threaded {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Whether the file ends with BGZF's empty end-of-file block (as bgzip, htslib and noodles
/// write it): a BGZF file cut between blocks would otherwise read as a shorter whole one.
pub(crate) fn ends_with_bgzf_eof(path: &Path) -> bool {
    use std::io::{Seek, SeekFrom};
    const EOF: [u8; 28] = [
        0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02,
        0x00, 0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let mut tail = [0u8; 28];
    File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::End(-28))?;
            f.read_exact(&mut tail)
        })
        .is_ok_and(|()| tail == EOF)
}

/// Whether a file's first bytes are a BGZF block's header (gzip with the `BC` extra field).
pub(crate) fn is_bgzf(head: &[u8]) -> bool {
    head.len() >= 14 && head[..4] == [0x1f, 0x8b, 8, 4] && head[12..14] == *b"BC"
}

/// A BGZF reader over `inner` that inflates blocks on up to 4 worker threads, ahead of its
/// reader (FASTQ, unaligned BAM, read indexes).
pub(crate) fn bgzf_reader<R: Read + Send + 'static>(
    inner: R,
) -> noodles::bgzf::io::MultithreadedReader<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    noodles::bgzf::io::MultithreadedReader::with_worker_count(
        std::num::NonZero::new(workers).expect("at least one"),
        inner,
    )
}

/// Reads past the first `n` bytes of a BGZF block just entered at a read index's offset (the
/// offset's position in its block), to the record's first byte.
pub(crate) fn skip_into_block(reader: &mut impl Read, n: u64, path: &Path) -> Result<()> {
    let read = io::copy(&mut reader.take(n), &mut io::sink()).map_err(|e| Error::io(path, e))?;
    if read < n {
        return Err(Error::input(
            path,
            "ends before the offset its read index gives: make the index again",
        ));
    }
    Ok(())
}

/// What a read error means for a FASTQ file, in the user's words.
fn describe_read_error(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        "the file ends inside this record: it is truncated (an interrupted copy or download?)"
            .to_string()
    } else {
        e.to_string()
    }
}

/// Reader of one FASTQ file.
pub struct Reader {
    path: PathBuf,
    inner: fastq::io::Reader<Box<dyn BufRead + Send>>,
    record: fastq::Record,
    count: u64,
    /// Bytes of the file read so far (compressed bytes for gzip), and its size.
    consumed: Arc<AtomicU64>,
    size: u64,
}

/// A reader that counts the bytes it hands out (for progress and ETA).
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) consumed: Arc<AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Reader {
    /// Opens `path`, detecting gzip/BGZF compression.
    pub fn open(path: &Path) -> Result<Reader> {
        Self::open_at(path, None, Arc::new(AtomicU64::new(0)))
    }

    /// Opens `path` at the start, or at `at`: an offset of a [`ReadIndex`] (a BGZF virtual
    /// position when the flag is set, else a byte offset). `consumed` counts the bytes read.
    fn open_at(path: &Path, at: Option<(u64, bool)>, consumed: Arc<AtomicU64>) -> Result<Reader> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let size = file.metadata().map_or(0, |m| m.len());
        let (start, skip) = match at {
            Some((o, true)) => (o >> 16, o & 0xffff),
            Some((o, false)) => (o, 0),
            None => (0, 0),
        };
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .map_err(|e| Error::io(path, e))?;
        }
        consumed.store(start, Ordering::Relaxed);
        let file = Counted {
            inner: file,
            consumed: consumed.clone(),
        };
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
        if head.is_empty() {
            return Err(Error::input(
                path,
                if at.is_some() {
                    "ends before the offset its read index gives: make the index again"
                } else {
                    "empty file: no FASTQ records"
                },
            ));
        }
        let bgzf = is_bgzf(head);
        if let Some((_, indexed_bgzf)) = at
            && indexed_bgzf != bgzf
        {
            return Err(Error::input(
                path,
                "its read index does not fit its compression: make the index again",
            ));
        }
        let inner: Box<dyn BufRead + Send> = if bgzf && ends_with_bgzf_eof(path) {
            // BGZF: blocks inflated on worker threads, ahead of the parser. (Without its
            // end-of-file block a file may be cut, so it goes the strict way below.)
            Box::new(bgzf_reader(buffered))
        } else if head.starts_with(&[0x1f, 0x8b]) {
            // Decompressed on a thread of its own (R1 and R2 each), ahead of the parser.
            Box::new(BufReader::with_capacity(
                1 << 16,
                Threaded::spawn(StrictEof(flate2::read::MultiGzDecoder::new(buffered)))
                    .map_err(|e| Error::io(path, e))?,
            ))
        } else {
            Box::new(buffered)
        };
        let mut inner = fastq::io::Reader::new(inner);
        skip_into_block(inner.get_mut(), skip, path)?;
        Ok(Reader {
            path: path.to_path_buf(),
            inner,
            record: fastq::Record::default(),
            count: 0,
            consumed,
            size,
        })
    }

    /// Goes to record `r` (0-based, < `index.records`) through `index`, the file's read index:
    /// the file is entered at the nearest offset before it and at most `index.step` records
    /// are parsed (and checked) on the way.
    pub fn seek_record(&mut self, index: &ReadIndex, r: u64) -> Result<()> {
        let (offset, skip) = index.checkpoint(r);
        let mut to = Reader::open_at(
            &self.path,
            Some((offset, index.bgzf)),
            self.consumed.clone(),
        )?;
        to.count = r - skip;
        let mut scratch = ReadRecord::default();
        for _ in 0..skip {
            if !to.next_into(&mut scratch)? {
                return Err(to.error("ends before its read index says: make the index again"));
            }
        }
        *self = to;
        Ok(())
    }

    /// Bytes of the file read so far, and its size.
    pub fn progress(&self) -> (u64, u64) {
        (self.consumed.load(Ordering::Relaxed), self.size)
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// An error about the current record.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::Record {
            path: self.path.clone(),
            record: self.count,
            line: Some(4 * self.count.saturating_sub(1) + 1),
            message: message.into(),
        }
    }

    /// Reads the next record into `out`; `false` at the end of the file.
    pub fn next_into(&mut self, out: &mut ReadRecord) -> Result<bool> {
        self.count += 1;
        // One blank line at the very end of the file (editors and `echo >>` add it) ends the
        // file; a blank line anywhere else is an error.
        let blank = match self.inner.get_mut().fill_buf() {
            Ok([b'\n', ..]) => Ok(1),
            Ok([b'\r', b'\n', ..]) => Ok(2),
            Ok(_) => Ok(0),
            Err(e) => Err(describe_read_error(&e)),
        };
        let blank = blank.map_err(|m| self.error(m))?;
        if blank > 0 {
            self.inner.get_mut().consume(blank);
            let more = match self.inner.get_mut().fill_buf() {
                Ok(rest) => Ok(!rest.is_empty()),
                Err(e) => Err(describe_read_error(&e)),
            };
            if more.map_err(|m| self.error(m))? {
                return Err(self.error("blank line where a record should start"));
            }
        }
        let n = match self.inner.read_record(&mut self.record) {
            Ok(n) => n,
            Err(e) => return Err(self.error(describe_read_error(&e))),
        };
        if n == 0 {
            self.count -= 1;
            if self.count == 0 {
                return Err(Error::input(&self.path, "empty file: no FASTQ records"));
            }
            return Ok(false);
        }
        let (seq, qual) = (self.record.sequence(), self.record.quality_scores());
        if seq.len() != qual.len() {
            return Err(self.error(format!(
                "quality length {} != sequence length {}",
                qual.len(),
                seq.len()
            )));
        }
        if let Some(i) = seq.iter().position(|&b| !is_read_base(b)) {
            return Err(self.error(format!(
                "invalid base {:?} at position {}",
                char::from(seq[i]),
                i + 1
            )));
        }
        if let Some(i) = qual.iter().position(|&q| !(b'!'..=b'~').contains(&q)) {
            return Err(self.error(format!(
                "invalid quality character {:?} at position {}",
                char::from(qual[i]),
                i + 1
            )));
        }
        out.name.clear();
        out.name.push_str(&normalise_name(&String::from_utf8_lossy(
            self.record.name(),
        )));
        if out.name.is_empty() {
            return Err(self.error("empty read name"));
        }
        out.codes.clear();
        out.codes.extend(seq.iter().map(|&b| base_code(b)));
        out.qual.clear();
        out.qual.extend(qual.iter().map(|&q| q - b'!'));
        Ok(true)
    }
}

/// Strips a `/1` or `/2` suffix (the Casava comment is already outside the name).
pub fn normalise_name(name: &str) -> String {
    let name = name.split([' ', '\t']).next().unwrap_or("");
    match name.strip_suffix("/1").or_else(|| name.strip_suffix("/2")) {
        Some(stripped) => stripped.to_string(),
        None => name.to_string(),
    }
}

/// Bytes read of a [`PairedReader`]'s files, and their sizes, readable from any thread.
#[derive(Clone, Debug)]
pub struct InputProgress(Vec<(Arc<AtomicU64>, u64)>);

impl InputProgress {
    /// Bytes read so far, and the total.
    pub fn get(&self) -> (u64, u64) {
        self.0.iter().fold((0, 0), |(a, b), (c, size)| {
            (a + c.load(Ordering::Relaxed), b + size)
        })
    }
}

/// Paired input: two FASTQ files, one interleaved FASTQ file, or an unaligned BAM file
/// ([`crate::io::ubam`]).
pub struct PairedReader(Source);

enum Source {
    Fastq(Box<FastqPairs>),
    Bam(Box<UnalignedReader>),
}

impl PairedReader {
    /// R1 and R2 files.
    pub fn paired(r1: &Path, r2: &Path) -> Result<Self> {
        Ok(PairedReader(Source::Fastq(Box::new(FastqPairs {
            r1: Reader::open(r1)?,
            r2: Some(Reader::open(r2)?),
            indexes: None,
        }))))
    }

    /// One interleaved file (R1, R2, R1, R2, …).
    pub fn interleaved(path: &Path) -> Result<Self> {
        Ok(PairedReader(Source::Fastq(Box::new(FastqPairs {
            r1: Reader::open(path)?,
            r2: None,
            indexes: None,
        }))))
    }

    /// An unaligned (or name-grouped) BAM or CRAM file; `reference` decodes an aligned
    /// CRAM.
    pub fn unaligned(path: &Path, reference: Option<&Reference>) -> Result<Self> {
        Ok(PairedReader(Source::Bam(Box::new(UnalignedReader::open(
            path, reference,
        )?))))
    }

    /// Bytes of the input files read so far, and their total size.
    pub fn progress(&self) -> (u64, u64) {
        self.progress_handle().get()
    }

    /// A handle that reads [`PairedReader::progress`] from another thread.
    pub fn progress_handle(&self) -> InputProgress {
        match &self.0 {
            Source::Fastq(f) => {
                let mut files = vec![(f.r1.consumed.clone(), f.r1.size)];
                if let Some(r2) = &f.r2 {
                    files.push((r2.consumed.clone(), r2.size));
                }
                InputProgress(files)
            }
            Source::Bam(b) => InputProgress(vec![b.progress()]),
        }
    }

    /// Fills `batch` with up to `max_pairs` pairs; returns the number read (0 at the end).
    pub fn next_batch(&mut self, batch: &mut ReadBatch, max_pairs: usize) -> Result<usize> {
        match &mut self.0 {
            Source::Fastq(f) => f.next_batch(batch, max_pairs),
            Source::Bam(b) => b.next_batch(batch, max_pairs),
        }
    }

    /// Finds the read indexes of the lane's files ([`ReadIndex::find`]: in `dir`, or beside
    /// each file) and keeps them when every file has one, so [`PairedReader::seek_pair`] can
    /// enter the lane anywhere. Returns the files without a usable index (CRAM is never
    /// indexed). The indexes' record counts are checked as reading would check
    /// them: R1 and R2 equal, an interleaved file even.
    pub fn use_read_indexes(&mut self, dir: Option<&Path>) -> Result<Vec<PathBuf>> {
        let f = match &mut self.0 {
            Source::Fastq(f) => f,
            Source::Bam(b) => {
                return match ReadIndex::find(b.path(), dir)? {
                    Some((_, index)) => b.use_index(index).map(|()| Vec::new()),
                    None => Ok(vec![b.path().to_path_buf()]),
                };
            }
        };
        let i1 = ReadIndex::find(f.r1.path(), dir)?;
        let i2 = match &f.r2 {
            Some(r2) => Some(ReadIndex::find(r2.path(), dir)?),
            None => None,
        };
        let mut missing = Vec::new();
        if i1.is_none() {
            missing.push(f.r1.path().to_path_buf());
        }
        if let (Some(None), Some(r2)) = (&i2, &f.r2) {
            missing.push(r2.path().to_path_buf());
        }
        if !missing.is_empty() {
            return Ok(missing);
        }
        let (_, i1) = i1.expect("checked above");
        let i2 = i2.map(|i| i.expect("checked above").1);
        match (&i2, &f.r2) {
            (Some(i2), Some(r2)) if i2.records != i1.records => {
                return Err(Error::input(
                    r2.path(),
                    format!(
                        "has {} records but {} has {} (their read indexes say): R1 and R2 must have the same number of reads",
                        i2.records,
                        f.r1.path().display(),
                        i1.records
                    ),
                ));
            }
            (None, _) if i1.records % 2 == 1 => {
                return Err(Error::input(
                    f.r1.path(),
                    format!(
                        "interleaved file ends with an unpaired read (record {}, its read index says)",
                        i1.records
                    ),
                ));
            }
            _ => {}
        }
        f.indexes = Some((i1, i2));
        Ok(Vec::new())
    }

    /// Pairs in the lane, when its read indexes are in use.
    pub fn indexed_pairs(&self) -> Option<u64> {
        match &self.0 {
            Source::Fastq(f) => f.indexes.as_ref().map(|(i1, i2)| match i2 {
                Some(_) => i1.records,
                None => i1.records / 2,
            }),
            Source::Bam(b) => b.indexed_pairs(),
        }
    }

    /// Goes to pair `q` of the lane (< [`PairedReader::indexed_pairs`]) through its read
    /// indexes.
    pub fn seek_pair(&mut self, q: u64) -> Result<()> {
        let f = match &mut self.0 {
            Source::Fastq(f) => f,
            Source::Bam(b) => return b.seek_pair(q),
        };
        let Some((i1, i2)) = &f.indexes else {
            return Err(Error::Internal("seek in an unindexed lane".into()));
        };
        match (i2, &mut f.r2) {
            (Some(i2), Some(r2)) => {
                f.r1.seek_record(i1, q)?;
                r2.seek_record(i2, q)
            }
            _ => f.r1.seek_record(i1, 2 * q),
        }
    }
}

/// Two FASTQ files, or one interleaved, and their read indexes when in use.
struct FastqPairs {
    r1: Reader,
    r2: Option<Reader>,
    indexes: Option<(ReadIndex, Option<ReadIndex>)>,
}

impl FastqPairs {
    /// Fills `batch` with up to `max_pairs` pairs; returns the number read (0 at the end).
    pub fn next_batch(&mut self, batch: &mut ReadBatch, max_pairs: usize) -> Result<usize> {
        batch.first_pair += batch.r1.len() as u64;
        let mut n = 0;
        while n < max_pairs {
            if batch.r1.len() <= n {
                batch.r1.push(ReadRecord::default());
                batch.r2.push(ReadRecord::default());
            }
            let got1 = self.r1.next_into(&mut batch.r1[n])?;
            let reader2 = self.r2.as_mut().unwrap_or(&mut self.r1);
            let got2 = if got1 || reader2.count() > 0 {
                reader2.next_into(&mut batch.r2[n])?
            } else {
                false
            };
            match (got1, got2, self.r2.is_some()) {
                (false, false, _) => break,
                (true, true, _) => {}
                (true, false, true) => {
                    let r2 = self.r2.as_ref().expect("paired");
                    return Err(Error::input(
                        r2.path(),
                        format!(
                            "ends after {} records but {} has more: R1 and R2 must have the same number of reads",
                            r2.count(),
                            self.r1.path().display()
                        ),
                    ));
                }
                (true, false, false) => {
                    return Err(Error::input(
                        self.r1.path(),
                        format!(
                            "interleaved file ends with an unpaired read (record {})",
                            self.r1.count()
                        ),
                    ));
                }
                (false, true, _) => {
                    return Err(Error::input(
                        self.r1.path(),
                        format!(
                            "ends after {} records but {} has more: R1 and R2 must have the same number of reads",
                            self.r1.count(),
                            self.r2
                                .as_ref()
                                .map_or(self.r1.path(), |r| r.path())
                                .display()
                        ),
                    ));
                }
            }
            if batch.r1[n].name != batch.r2[n].name {
                // Which file is wrong cannot be told from one pair: name both records.
                return Err(match &self.r2 {
                    Some(r2) => self.r1.error(format!(
                        "read {:?} is paired with {:?}, record {} (line {}) of {}: the mates' names differ (one file lacks reads, has extra ones or is in another order)",
                        batch.r1[n].name,
                        batch.r2[n].name,
                        r2.count(),
                        4 * r2.count().saturating_sub(1) + 1,
                        r2.path().display()
                    )),
                    None => self.r1.error(format!(
                        "mate name {:?} does not match {:?} of the first mate (interleaved mates must alternate)",
                        batch.r2[n].name, batch.r1[n].name
                    )),
                });
            }
            n += 1;
        }
        batch.r1.truncate(n);
        batch.r2.truncate(n);
        Ok(n)
    }
}

/// A sample's lanes read one after the other: every batch lies within one lane and carries
/// its lane and library index.
pub struct LaneReader {
    lanes: Vec<(PairedReader, u16)>,
    current: usize,
    /// The next pair's index in the whole input, and the current lane's first pair's.
    next_pair: u64,
    lane_start: u64,
}

impl LaneReader {
    /// Lanes in the order they are to be read, each with its library's index.
    pub fn new(lanes: Vec<(PairedReader, u16)>) -> LaneReader {
        LaneReader {
            lanes,
            current: 0,
            next_pair: 0,
            lane_start: 0,
        }
    }

    /// Moves on to pair `target` of the whole input without reading the pairs before it, as
    /// far as read indexes allow ([`PairedReader::use_read_indexes`]): whole indexed lanes are
    /// passed, and an indexed lane is entered at the pair. Stops at the start of the first
    /// unindexed lane on the way (or where the reader is, inside one). Returns the index of
    /// the pair the reader is now at (the input's pair count when every lane was passed).
    pub fn skip_to(&mut self, target: u64) -> Result<u64> {
        while target > self.next_pair {
            let Some((reader, _)) = self.lanes.get_mut(self.current) else {
                break;
            };
            let Some(pairs) = reader.indexed_pairs() else {
                break;
            };
            let end = self.lane_start + pairs;
            if target >= end {
                self.current += 1;
                self.lane_start = end;
                self.next_pair = end;
            } else {
                reader.seek_pair(target - self.lane_start)?;
                self.next_pair = target;
            }
        }
        Ok(self.next_pair)
    }

    /// A handle that reads the bytes read of every lane's files, and their total size.
    pub fn progress_handle(&self) -> InputProgress {
        InputProgress(
            self.lanes
                .iter()
                .flat_map(|(r, _)| r.progress_handle().0)
                .collect(),
        )
    }

    /// Fills `batch` with up to `max_pairs` pairs of the current lane (moving to the next lane
    /// when it ends); returns the number read (0 when every lane has ended).
    pub fn next_batch(&mut self, batch: &mut ReadBatch, max_pairs: usize) -> Result<usize> {
        while let Some((reader, library)) = self.lanes.get_mut(self.current) {
            let n = reader.next_batch(batch, max_pairs)?;
            if n > 0 {
                batch.lane = self.current as u16;
                batch.library = *library;
                self.next_pair += n as u64;
                return Ok(n);
            }
            self.current += 1;
            self.lane_start = self.next_pair;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgzf_reads_as_the_plain_file_with_or_without_its_end_block() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..5000)
            .map(|i| {
                format!(
                    "@r{i}/1\nACGT{}\n+\nIIII{}\n",
                    "A".repeat(i % 90),
                    "I".repeat(i % 90)
                )
            })
            .collect();
        let plain = dir.path().join("r.fq");
        std::fs::write(&plain, &text).unwrap();
        let bgz = dir.path().join("r.fq.gz");
        let mut w = noodles::bgzf::io::Writer::new(File::create(&bgz).unwrap());
        w.write_all(text.as_bytes()).unwrap();
        w.finish().unwrap();
        assert!(ends_with_bgzf_eof(&bgz));
        // The same blocks without the end-of-file block: read the strict (one-thread) way.
        let bytes = std::fs::read(&bgz).unwrap();
        let cut = dir.path().join("cut.fq.gz");
        std::fs::write(&cut, &bytes[..bytes.len() - 28]).unwrap();
        assert!(!ends_with_bgzf_eof(&cut) && !ends_with_bgzf_eof(&plain));
        let all = |p: &Path| {
            let mut r = Reader::open(p).unwrap();
            let mut v = Vec::new();
            let mut rec = ReadRecord::default();
            while r.next_into(&mut rec).unwrap() {
                v.push(rec.clone());
            }
            v
        };
        let want = all(&plain);
        assert_eq!(want.len(), 5000);
        assert_eq!(all(&bgz), want);
        assert_eq!(all(&cut), want);
    }

    /// `n` pairs of records with lengths that vary (so BGZF blocks end inside records).
    fn pair_files(dir: &Path, tag: &str, n: usize, bgzf: bool) -> (PathBuf, PathBuf) {
        use std::io::Write;
        let mut paths = Vec::new();
        for mate in 1..=2 {
            let text: String = (0..n)
                .map(|i| {
                    let len = 20 + (i * 37 + mate * 11) % 180;
                    format!(
                        "@{tag}{i}/{mate}\n{}\n+\n{}\n",
                        "ACGT".repeat(len / 4),
                        "I".repeat(len / 4 * 4)
                    )
                })
                .collect();
            let path = dir.join(format!("{tag}_R{mate}.fq{}", if bgzf { ".gz" } else { "" }));
            if bgzf {
                let mut w = noodles::bgzf::io::Writer::new(File::create(&path).unwrap());
                w.write_all(text.as_bytes()).unwrap();
                w.finish().unwrap();
            } else {
                std::fs::write(&path, text).unwrap();
            }
            paths.push(path);
        }
        (paths[0].clone(), paths[1].clone())
    }

    fn names_of(reader: &mut LaneReader, max: usize) -> Vec<String> {
        let mut batch = ReadBatch::default();
        let mut v = Vec::new();
        while reader.next_batch(&mut batch, max).unwrap() > 0 {
            v.extend(batch.r1.iter().map(|r| r.name.clone()));
        }
        v
    }

    #[test]
    fn read_indexes_enter_files_at_any_record() {
        let dir = tempfile::tempdir().unwrap();
        for bgzf in [true, false] {
            let (r1, _) = pair_files(dir.path(), "s", 3000, bgzf);
            let index = ReadIndex::build_with_step(&r1, 64).unwrap();
            assert_eq!((index.records, index.bgzf), (3000, bgzf));
            let mut all = Reader::open(&r1).unwrap();
            let mut want = Vec::new();
            let mut rec = ReadRecord::default();
            while all.next_into(&mut rec).unwrap() {
                want.push(rec.clone());
            }
            let mut reader = Reader::open(&r1).unwrap();
            for r in [2999, 0, 63, 64, 65, 1000, 1727, 2944, 1] {
                reader.seek_record(&index, r).unwrap();
                assert_eq!(reader.count(), r);
                for k in r..(r + 3).min(3000) {
                    assert!(reader.next_into(&mut rec).unwrap());
                    assert_eq!(rec, want[k as usize], "record {k} after a seek to {r}");
                }
            }
        }
    }

    #[test]
    fn lanes_are_skipped_through_their_indexes_and_read_where_they_have_none() {
        let dir = tempfile::tempdir().unwrap();
        let lanes = [("a", 500, true), ("b", 300, false), ("c", 700, true)];
        let mut files = Vec::new();
        for (tag, n, bgzf) in lanes {
            files.push(pair_files(dir.path(), tag, n, bgzf));
        }
        // Lanes a and c indexed, b not.
        for (k, (r1, r2)) in files.iter().enumerate() {
            if k != 1 {
                for f in [r1, r2] {
                    ReadIndex::build_with_step(f, 50)
                        .unwrap()
                        .write(&crate::io::read_index::index_path(f, None))
                        .unwrap();
                }
            }
        }
        let open = || {
            let mut v = Vec::new();
            for (r1, r2) in &files {
                let mut r = PairedReader::paired(r1, r2).unwrap();
                let missing = r.use_read_indexes(None).unwrap();
                assert_eq!(missing.is_empty(), r1 != &files[1].0);
                v.push((r, 0));
            }
            LaneReader::new(v)
        };
        let everything = names_of(&mut open(), 128);
        assert_eq!(everything.len(), 1500);
        // Into lane a, then through it: passes lane a to the start of b (unindexed).
        let mut lr = open();
        assert_eq!(lr.skip_to(123).unwrap(), 123);
        let mut batch = ReadBatch::default();
        assert_eq!(lr.next_batch(&mut batch, 10).unwrap(), 10);
        assert_eq!(batch.r1[0].name, everything[123]);
        assert_eq!(lr.skip_to(1000).unwrap(), 500);
        assert_eq!(lr.next_batch(&mut batch, 10).unwrap(), 10);
        assert_eq!(batch.r1[0].name, everything[500]);
        // Inside b nothing is skipped; once b is read, c is entered anywhere.
        assert_eq!(lr.skip_to(700).unwrap(), 510);
        let mut seen = 510;
        while seen < 800 {
            seen += lr.next_batch(&mut batch, 64).unwrap() as u64;
        }
        // (An unindexed lane's end is known once a read finds it.)
        assert_eq!(lr.skip_to(1333).unwrap(), 800);
        assert_eq!(lr.next_batch(&mut batch, 10).unwrap(), 10);
        assert_eq!(batch.r1[0].name, everything[800]);
        assert_eq!(lr.skip_to(1333).unwrap(), 1333);
        assert_eq!(names_of(&mut lr, 100), everything[1333..]);
        // Past the end: stops at the unindexed lane; without it, every lane is passed.
        assert_eq!(open().skip_to(5000).unwrap(), 500);
        let mut indexed: Vec<_> = Vec::new();
        for k in [0, 2] {
            let mut r = PairedReader::paired(&files[k].0, &files[k].1).unwrap();
            assert!(r.use_read_indexes(None).unwrap().is_empty());
            indexed.push((r, 0));
        }
        let mut lr = LaneReader::new(indexed);
        assert_eq!(lr.skip_to(5000).unwrap(), 1200);
        assert_eq!(lr.next_batch(&mut batch, 10).unwrap(), 0);
        // Indexes whose counts differ (R2 of lane c with lane a's R2 index): an error naming
        // R2, as reading to the end would give.
        let (_, a2) = &files[0];
        let (c1, c2) = &files[2];
        let idx_dir = dir.path().join("mixed");
        std::fs::create_dir(&idx_dir).unwrap();
        for (f, from) in [(c1, c1), (c2, a2)] {
            let mut index = ReadIndex::build_with_step(from, 50).unwrap();
            let own = ReadIndex::build_with_step(f, 50).unwrap();
            (index.size, index.digest) = (own.size, own.digest);
            index
                .write(&crate::io::read_index::index_path(f, Some(&idx_dir)))
                .unwrap();
        }
        let e = PairedReader::paired(c1, c2)
            .unwrap()
            .use_read_indexes(Some(&idx_dir))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("c_R2.fq.gz") && e.contains("has 500 records") && e.contains("same number"),
            "{e}"
        );
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise_name("r1/1"), "r1");
        assert_eq!(normalise_name("r1/2"), "r1");
        assert_eq!(normalise_name("r1"), "r1");
        assert_eq!(normalise_name("r1/3"), "r1/3");
    }
}
