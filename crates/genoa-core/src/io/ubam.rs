//! Unaligned BAM and CRAM input (as Picard `FastqToSam`, `samtools import` or a sequencer's
//! BAM output write them, and as GATK's workflows keep reads between runs): read pairs as
//! neighbouring records, R1 (flag 0x40) and R2 (0x80) in either order, one read group per file.
//!
//! An aligned BAM or CRAM grouped by read name (`samtools collate` or `sort -n`) is read the
//! same way, so a sample can be aligned again from its old file: secondary and supplementary
//! records are skipped, reverse-strand records are turned back into the reads as sequenced,
//! and a primary record with hard clips is refused (its clipped bases are not in the file).
//! BAM's BGZF blocks are inflated on worker threads ahead of the parser; CRAM containers are
//! decoded on a thread of their own (against the run's reference when their records are
//! aligned).
//!
//! Every record is checked: paired, mates next to each other with equal names, bases and
//! qualities present; errors name the file and the record (1-based, in file order).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use noodles::bam;
use noodles::bgzf;
use noodles::cram;
use noodles::sam;
use noodles::sam::alignment::record::Flags;
use noodles::sam::alignment::record::cigar::op::Kind;

use crate::error::{Error, Result};
use crate::genome::{base_code, complement};
use crate::io::fastq::{
    Counted, ReadBatch, ReadRecord, bgzf_reader, normalise_name, skip_into_block,
};
use crate::io::read_index::ReadIndex;
use crate::io::reference::Reference;

/// A file of unaligned (or name-grouped) records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Bam,
    Cram,
}

/// The format of `path` from its first bytes: BAM (BGZF whose data starts `BAM\1`; BGZF FASTQ
/// exists too) or CRAM; `None` for anything else (FASTQ). How `-1` tells them apart.
pub fn sniff(path: &Path) -> Option<Format> {
    let mut head = [0u8; 16];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .ok()?;
    if head.starts_with(b"CRAM") {
        return Some(Format::Cram);
    }
    if !crate::io::fastq::is_bgzf(&head) {
        return None;
    }
    let mut r = bgzf::io::Reader::new(File::open(path).ok()?);
    let mut magic = [0u8; 4];
    (r.read_exact(&mut magic).is_ok() && magic == *b"BAM\x01").then_some(Format::Bam)
}

/// One record as read, before it is checked.
#[derive(Default)]
struct Raw {
    flags: Flags,
    name: Vec<u8>,
    /// Bases as ASCII letters, and raw Phred qualities.
    seq: Vec<u8>,
    qual: Vec<u8>,
    hard_clipped: bool,
}

impl Raw {
    fn of_cram(r: &sam::alignment::RecordBuf) -> Raw {
        Raw {
            flags: r.flags(),
            name: r.name().map(|n| n.to_vec()).unwrap_or_default(),
            seq: r.sequence().as_ref().to_vec(),
            qual: r.quality_scores().as_ref().to_vec(),
            hard_clipped: r
                .cigar()
                .as_ref()
                .iter()
                .any(|op| op.kind() == Kind::HardClip),
        }
    }
}

/// Records from a BAM (parsed here) or a CRAM (decoded on a thread, in chunks).
enum Records {
    Bam {
        inner: Box<bam::io::Reader<bgzf::io::MultithreadedReader<Counted<File>>>>,
        record: bam::Record,
    },
    Cram {
        rx: std::sync::mpsc::Receiver<io::Result<Vec<Raw>>>,
        chunk: std::vec::IntoIter<Raw>,
    },
}

/// Records a CRAM thread sends at once, and chunks it decodes ahead.
const CRAM_CHUNK: usize = 4096;
const CRAM_AHEAD: usize = 4;

impl Records {
    /// The next record into `out` (bad CIGARs are errors); `false` at the end.
    fn next(&mut self, out: &mut Raw) -> io::Result<bool> {
        match self {
            Records::Bam { inner, record } => {
                if inner.read_record(record)? == 0 {
                    return Ok(false);
                }
                out.flags = record.flags();
                out.name.clear();
                out.name
                    .extend_from_slice(record.name().map_or(&b""[..], |n| n));
                out.seq.clear();
                out.seq.extend(record.sequence().iter());
                out.qual.clear();
                out.qual.extend_from_slice(record.quality_scores().as_ref());
                out.hard_clipped = false;
                for op in record.cigar().iter() {
                    out.hard_clipped |= op?.kind() == Kind::HardClip;
                }
                Ok(true)
            }
            Records::Cram { rx, chunk } => loop {
                if let Some(r) = chunk.next() {
                    *out = r;
                    return Ok(true);
                }
                match rx.recv() {
                    Ok(Ok(next)) => *chunk = next.into_iter(),
                    Ok(Err(e)) => return Err(e),
                    Err(_) => return Ok(false),
                }
            },
        }
    }
}

/// The pairs of an unaligned (or name-grouped) BAM or CRAM file.
pub struct UnalignedReader {
    path: PathBuf,
    records: Records,
    raw: Raw,
    /// Records read so far (all of them, skipped ones included).
    count: u64,
    consumed: Arc<AtomicU64>,
    size: u64,
    read_groups: Vec<String>,
    /// The file's read index, when in use ([`UnalignedReader::use_index`]).
    index: Option<ReadIndex>,
}

impl UnalignedReader {
    /// Opens `path` (BAM or CRAM, from its first bytes) and reads its header. `reference`
    /// decodes an aligned CRAM's records; without it only the header is read (records of an
    /// aligned CRAM then fail to decode).
    pub fn open(path: &Path, reference: Option<&Reference>) -> Result<UnalignedReader> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let size = file.metadata().map_or(0, |m| m.len());
        let consumed = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: file,
            consumed: consumed.clone(),
        };
        let (records, header) = match sniff(path) {
            Some(Format::Cram) => {
                let mut builder = cram::io::reader::Builder::default();
                if let Some(r) = reference {
                    builder =
                        builder.set_reference_sequence_repository(crate::io::cram::repository(r)?);
                }
                let mut inner = builder.build_from_reader(io::BufReader::new(counted));
                let header = inner
                    .read_header()
                    .map_err(|e| Error::input(path, format!("not a readable CRAM file: {e}")))?;
                let (tx, rx) = std::sync::mpsc::sync_channel(CRAM_AHEAD);
                let h = header.clone();
                std::thread::Builder::new()
                    .name("genoa-cram".into())
                    .spawn(move || {
                        let mut chunk = Vec::with_capacity(CRAM_CHUNK);
                        for r in inner.records(&h) {
                            match r {
                                Ok(r) => chunk.push(Raw::of_cram(&r)),
                                Err(e) => {
                                    let _ = tx.send(Ok(chunk));
                                    let _ = tx.send(Err(e));
                                    return;
                                }
                            }
                            if chunk.len() == CRAM_CHUNK
                                && tx.send(Ok(std::mem::take(&mut chunk))).is_err()
                            {
                                return; // the reader is gone
                            }
                        }
                        let _ = tx.send(Ok(chunk));
                    })
                    .map_err(|e| Error::io(path, e))?;
                let chunk = Vec::new().into_iter();
                (Records::Cram { rx, chunk }, header)
            }
            _ => {
                let bgzf = bgzf_reader(counted);
                let mut inner = bam::io::Reader::from(bgzf);
                let header = inner
                    .read_header()
                    .map_err(|e| Error::input(path, format!("not a readable BAM file: {e}")))?;
                let record = bam::Record::default();
                (
                    Records::Bam {
                        inner: Box::new(inner),
                        record,
                    },
                    header,
                )
            }
        };
        Ok(UnalignedReader {
            path: path.to_path_buf(),
            records,
            raw: Raw::default(),
            count: 0,
            consumed,
            size,
            read_groups: rg_lines(&header),
            index: None,
        })
    }

    /// One pass over the unaligned BAM `path`, with every check reading makes: its read pairs,
    /// the virtual position before every `step`-th pair and the BAM records before each (see
    /// [`crate::io::read_index`]).
    pub fn index_pairs(path: &Path, step: u64) -> Result<(u64, Vec<u64>, Vec<u64>)> {
        let mut reader = UnalignedReader::open(path, None)?;
        let (mut pairs, mut offsets, mut before) = (0u64, Vec::new(), Vec::new());
        let mut batch = ReadBatch::default();
        loop {
            if pairs.is_multiple_of(step) {
                let Records::Bam { inner, .. } = &reader.records else {
                    return Err(Error::input(path, "not a BAM file"));
                };
                offsets.push(u64::from(inner.get_ref().virtual_position()));
                before.push(reader.count);
            }
            if reader.next_batch(&mut batch, 1)? == 0 {
                break;
            }
            pairs += 1;
        }
        if pairs.is_multiple_of(step) {
            // The offset noted at the end is no pair's.
            offsets.pop();
            before.pop();
        }
        Ok((pairs, offsets, before))
    }

    /// Uses `index` (the file's read index) for [`UnalignedReader::seek_pair`].
    pub fn use_index(&mut self, index: ReadIndex) -> Result<()> {
        if !index.bam || matches!(self.records, Records::Cram { .. }) {
            return Err(Error::input(
                &self.path,
                "its read index is not an unaligned BAM's: make the index again",
            ));
        }
        self.index = Some(index);
        Ok(())
    }

    /// Read pairs in the file, when its read index is in use.
    pub fn indexed_pairs(&self) -> Option<u64> {
        self.index.as_ref().map(|i| i.records)
    }

    /// Goes to pair `q` (0-based, < [`UnalignedReader::indexed_pairs`]) through the read
    /// index: the file is entered at the nearest offset before it and at most `step` pairs are
    /// read (and checked) on the way.
    pub fn seek_pair(&mut self, q: u64) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        let Some(index) = &self.index else {
            return Err(Error::Internal("seek in an unindexed BAM".into()));
        };
        let (offset, skip) = index.checkpoint(q);
        let before = index.bam_records_before(q);
        let (start, within) = (offset >> 16, offset & 0xffff);
        let mut file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(&self.path, e))?;
        self.consumed
            .store(start, std::sync::atomic::Ordering::Relaxed);
        let counted = Counted {
            inner: file,
            consumed: self.consumed.clone(),
        };
        let mut bgzf = bgzf_reader(counted);
        skip_into_block(&mut bgzf, within, &self.path)?;
        self.records = Records::Bam {
            inner: Box::new(bam::io::Reader::from(bgzf)),
            record: bam::Record::default(),
        };
        self.count = before;
        let mut scratch = ReadBatch::default();
        let mut left = skip;
        while left > 0 {
            let n = self.next_batch(&mut scratch, left.min(4096) as usize)?;
            if n == 0 {
                return Err(self.error("ends before its read index says: make the index again"));
            }
            left -= n as u64;
        }
        Ok(())
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header's `@RG` lines, as they are written in SAM.
    pub fn read_groups(&self) -> &[String] {
        &self.read_groups
    }

    /// Bytes of the file read so far (compressed), and its size.
    pub fn progress(&self) -> (Arc<AtomicU64>, u64) {
        (self.consumed.clone(), self.size)
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Record {
            path: self.path.clone(),
            record: self.count,
            line: None,
            message: message.into(),
        }
    }

    /// The next primary record into `out`: its mate (1 for 0x40, 2 for 0x80); `None` at the
    /// end of the file.
    fn next_read(&mut self, out: &mut ReadRecord) -> Result<Option<u8>> {
        loop {
            self.count += 1;
            let more = self.records.next(&mut self.raw).map_err(|e| {
                let m = if e.kind() == io::ErrorKind::UnexpectedEof {
                    "the file ends inside this record: it is truncated".to_string()
                } else {
                    e.to_string()
                };
                self.error(m)
            })?;
            if !more {
                self.count -= 1;
                return Ok(None);
            }
            let raw = &self.raw;
            let flags = raw.flags;
            if flags.intersects(Flags::SECONDARY | Flags::SUPPLEMENTARY) {
                continue;
            }
            if !flags.is_segmented() {
                return Err(self
                    .error("an unpaired read (flag 0x1 not set): genoa aligns paired-end reads"));
            }
            let mate = match (flags.is_first_segment(), flags.is_last_segment()) {
                (true, false) => 1,
                (false, true) => 2,
                _ => {
                    return Err(self
                        .error("neither or both of R1 (0x40) and R2 (0x80) are set in its flag"));
                }
            };
            if raw.hard_clipped {
                return Err(self.error(
                    "a primary record with hard clips: its clipped bases are not in the file",
                ));
            }
            if raw.seq.is_empty() {
                return Err(self.error("no bases (SEQ is *)"));
            }
            if raw.qual.len() != raw.seq.len() || raw.qual.first() == Some(&0xff) {
                return Err(self.error("no base qualities (QUAL is *)"));
            }
            if let Some(i) = raw.seq.iter().position(|&b| b == b'=') {
                return Err(self.error(format!(
                    "base '=' at position {}: bases must be spelled out",
                    i + 1
                )));
            }
            out.name.clear();
            out.name
                .push_str(&normalise_name(&String::from_utf8_lossy(&raw.name)));
            if out.name.is_empty() || out.name == "*" {
                return Err(self.error("no read name"));
            }
            out.codes.clear();
            out.codes.extend(raw.seq.iter().map(|&b| base_code(b)));
            out.qual.clear();
            out.qual.extend_from_slice(&raw.qual);
            if flags.is_reverse_complemented() {
                out.codes.reverse();
                for c in &mut out.codes {
                    *c = complement(*c);
                }
                out.qual.reverse();
            }
            return Ok(Some(mate));
        }
    }

    /// Fills `batch` with up to `max_pairs` pairs; returns the number read (0 at the end).
    pub fn next_batch(&mut self, batch: &mut ReadBatch, max_pairs: usize) -> Result<usize> {
        batch.first_pair += batch.r1.len() as u64;
        let mut n = 0;
        let mut second = ReadRecord::default();
        while n < max_pairs {
            if batch.r1.len() <= n {
                batch.r1.push(ReadRecord::default());
                batch.r2.push(ReadRecord::default());
            }
            let Some(a) = self.next_read(&mut batch.r1[n])? else {
                break;
            };
            let Some(b) = self.next_read(&mut second)? else {
                return Err(self.error(format!(
                    "the file ends with read {:?} without its mate",
                    batch.r1[n].name
                )));
            };
            if second.name != batch.r1[n].name || a == b {
                return Err(self.error(format!(
                    "read {:?} follows {:?}: mates must be next to each other, R1 and R2 (group the file by read name: samtools collate, or sort -n)",
                    second.name, batch.r1[n].name
                )));
            }
            if a == 1 {
                std::mem::swap(&mut batch.r2[n], &mut second);
            } else {
                std::mem::swap(&mut batch.r2[n], &mut batch.r1[n]);
                std::mem::swap(&mut batch.r1[n], &mut second);
            }
            n += 1;
        }
        if n == 0 && self.count == 0 {
            return Err(Error::input(&self.path, "no reads in this BAM file"));
        }
        batch.r1.truncate(n);
        batch.r2.truncate(n);
        Ok(n)
    }
}

/// The `@RG` lines of a header, as SAM text.
fn rg_lines(header: &sam::Header) -> Vec<String> {
    let mut text = Vec::new();
    let mut w = sam::io::Writer::new(&mut text);
    if w.write_header(header).is_err() {
        return Vec::new();
    }
    String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.starts_with("@RG\t"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use noodles::sam::alignment::io::Write as _;
    use noodles::sam::alignment::record_buf::{QualityScores, RecordBuf, Sequence};

    fn write(path: &Path, header_text: &str, records: &[(&str, u16, &[u8])]) {
        let header: sam::Header = header_text.parse().unwrap();
        let mut w = bam::io::Writer::new(File::create(path).unwrap());
        w.write_header(&header).unwrap();
        for &(name, flags, seq) in records {
            let r = RecordBuf::builder()
                .set_name(name)
                .set_flags(Flags::from(flags))
                .set_sequence(Sequence::from(seq.to_vec()))
                .set_quality_scores(QualityScores::from(vec![30u8; seq.len()]))
                .build();
            w.write_alignment_record(&header, &r).unwrap();
        }
        w.try_finish().unwrap();
    }

    const HEADER: &str = "@HD\tVN:1.6\tSO:queryname\n@RG\tID:L1\tSM:s\tLB:lib\n";

    fn read_all(path: &Path) -> Result<ReadBatch> {
        let mut r = UnalignedReader::open(path, None)?;
        let mut batch = ReadBatch::default();
        let mut all = ReadBatch::default();
        while r.next_batch(&mut batch, 2)? > 0 {
            all.r1.extend(batch.r1.iter().cloned());
            all.r2.extend(batch.r2.iter().cloned());
        }
        Ok(all)
    }

    #[test]
    fn pairs_come_in_either_order_and_reverse_reads_are_restored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.bam");
        write(
            &p,
            HEADER,
            &[
                ("a", 0x1 | 0x40, b"ACGT"),
                ("a", 0x1 | 0x80, b"GGCA"),
                ("b", 0x1 | 0x80, b"TTTT"),
                ("b", 0x1 | 0x40 | 0x100, b"CCCC"), // secondary: skipped
                ("b", 0x1 | 0x40 | 0x10, b"AACG"),  // reverse strand: CGTT as sequenced
                ("c", 0x1 | 0x40, b"NNRA"),
                ("c", 0x1 | 0x80, b"ACGT"),
            ],
        );
        assert_eq!(sniff(&p), Some(Format::Bam));
        let r = UnalignedReader::open(&p, None).unwrap();
        assert_eq!(r.read_groups(), ["@RG\tID:L1\tSM:s\tLB:lib"]);
        let all = read_all(&p).unwrap();
        let names: Vec<&str> = all.r1.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(all.r1[0].codes, [0, 1, 2, 3]);
        assert_eq!(all.r2[0].codes, [2, 2, 1, 0]);
        assert_eq!(all.r1[1].codes, [1, 2, 3, 3]);
        assert_eq!(all.r2[1].codes, [3, 3, 3, 3]);
        assert_eq!(all.r1[2].codes, [4, 4, 4, 0]);
        assert_eq!(all.r1[0].qual, [30; 4]);
    }

    #[test]
    fn read_indexes_enter_an_unaligned_bam_at_any_pair() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.bam");
        let names: Vec<String> = (0..3000).map(|i| format!("p{i}")).collect();
        let seqs: Vec<Vec<u8>> = (0..3000)
            .map(|i| b"ACGT".repeat(20 + i % 30).to_vec())
            .collect();
        let mut records: Vec<(&str, u16, &[u8])> = Vec::new();
        for (i, (n, seq)) in names.iter().zip(&seqs).enumerate() {
            if i % 7 == 3 {
                records.push((n, 0x1 | 0x40 | 0x100, b"AC")); // secondary: skipped
            }
            records.push((n, 0x1 | 0x40, seq));
            records.push((n, 0x1 | 0x80, seq));
        }
        write(&p, HEADER, &records);
        // BAM records read after each pair, reading from the start.
        let mut r = UnalignedReader::open(&p, None).unwrap();
        let mut batch = ReadBatch::default();
        let mut counts = Vec::new();
        while r.next_batch(&mut batch, 1).unwrap() > 0 {
            counts.push(r.count);
        }
        assert_eq!(counts.len(), 3000);
        let index = ReadIndex::build_with_step(&p, 16).unwrap();
        assert!(index.bam && index.bgzf);
        assert_eq!(index.records, 3000);
        let mut r = UnalignedReader::open(&p, None).unwrap();
        r.use_index(index).unwrap();
        assert_eq!(r.indexed_pairs(), Some(3000));
        for q in [2999, 0, 15, 16, 17, 1001, 2900, 3] {
            r.seek_pair(q).unwrap();
            let n = r.next_batch(&mut batch, 3).unwrap();
            assert_eq!(n, 3.min(3000 - q as usize));
            for k in 0..n {
                assert_eq!(
                    batch.r1[k].name,
                    names[q as usize + k],
                    "after a seek to {q}"
                );
                assert_eq!(batch.r1[k].codes.len(), seqs[q as usize + k].len());
            }
            // Record numbers (for messages) as reading from the start gives them.
            assert_eq!(r.count, counts[q as usize + n - 1], "after a seek to {q}");
        }
        // CRAM is not indexed.
        let c = dir.path().join("u.cram");
        std::fs::write(&c, [&b"CRAM\x03\x00"[..], &[0u8; 26]].concat()).unwrap();
        let e = ReadIndex::build(&c).unwrap_err().to_string();
        assert!(e.contains("u.cram") && e.contains("read it whole"), "{e}");
    }

    #[test]
    fn broken_pairs_are_errors_naming_the_record() {
        let dir = tempfile::tempdir().unwrap();
        type Records<'a> = &'a [(&'a str, u16, &'a [u8])];
        let cases: [(Records, &str); 4] = [
            (
                &[("a", 0x1 | 0x40, b"AC"), ("b", 0x1 | 0x80, b"AC")],
                "record 2: read \"b\" follows \"a\"",
            ),
            (&[("a", 0x40, b"AC")], "record 1: an unpaired read"),
            (
                &[("a", 0x1 | 0x40, b"AC")],
                "the file ends with read \"a\" without its mate",
            ),
            (
                &[("a", 0x1 | 0x40, b"AC"), ("a", 0x1 | 0x40, b"AC")],
                "record 2: read \"a\" follows \"a\"",
            ),
        ];
        for (i, (records, want)) in cases.iter().enumerate() {
            let p = dir.path().join(format!("{i}.bam"));
            write(&p, HEADER, records);
            let e = read_all(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
            assert!(e.contains(&format!("{i}.bam")), "{e}");
        }
        let p = dir.path().join("fq.gz");
        std::fs::write(&p, b"@r\nACGT\n+\nIIII\n").unwrap();
        assert_eq!(sniff(&p), None);
        let e = UnalignedReader::open(&p, None).err().unwrap().to_string();
        assert!(e.contains("not a readable BAM file"), "{e}");
    }
}
