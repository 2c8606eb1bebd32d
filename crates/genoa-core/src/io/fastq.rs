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
fn ends_with_bgzf_eof(path: &Path) -> bool {
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
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let size = file.metadata().map_or(0, |m| m.len());
        let consumed = Arc::new(AtomicU64::new(0));
        let file = Counted {
            inner: file,
            consumed: consumed.clone(),
        };
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
        if head.is_empty() {
            return Err(Error::input(path, "empty file: no FASTQ records"));
        }
        let bgzf = head.len() >= 14 && head[..4] == [0x1f, 0x8b, 8, 4] && head[12..14] == *b"BC";
        let inner: Box<dyn BufRead + Send> = if bgzf && ends_with_bgzf_eof(path) {
            // BGZF: blocks inflated on worker threads, ahead of the parser. (Without its
            // end-of-file block a file may be cut, so it goes the strict way below.)
            let workers = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 4);
            Box::new(noodles::bgzf::io::MultithreadedReader::with_worker_count(
                std::num::NonZero::new(workers).expect("at least one"),
                buffered,
            ))
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
        Ok(Reader {
            path: path.to_path_buf(),
            inner: fastq::io::Reader::new(inner),
            record: fastq::Record::default(),
            count: 0,
            consumed,
            size,
        })
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
        }))))
    }

    /// One interleaved file (R1, R2, R1, R2, …).
    pub fn interleaved(path: &Path) -> Result<Self> {
        Ok(PairedReader(Source::Fastq(Box::new(FastqPairs {
            r1: Reader::open(path)?,
            r2: None,
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
}

/// Two FASTQ files, or one interleaved.
struct FastqPairs {
    r1: Reader,
    r2: Option<Reader>,
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
}

impl LaneReader {
    /// Lanes in the order they are to be read, each with its library's index.
    pub fn new(lanes: Vec<(PairedReader, u16)>) -> LaneReader {
        LaneReader { lanes, current: 0 }
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
                return Ok(n);
            }
            self.current += 1;
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

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise_name("r1/1"), "r1");
        assert_eq!(normalise_name("r1/2"), "r1");
        assert_eq!(normalise_name("r1"), "r1");
        assert_eq!(normalise_name("r1/3"), "r1/3");
    }
}
