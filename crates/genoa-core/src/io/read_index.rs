//! Read indexes: where every [`STEP`]-th record of a FASTQ file starts, so a shard (or a
//! resumed run) enters the file at the pairs it aligns instead of inflating and parsing every
//! pair before them.
//!
//! An index is made by one pass over the file (`genoa reads-index`) and saved as
//! `FILE.genoa.ridx` beside it, or as `DIR/NAME.genoa.ridx` in a directory of its own. It holds
//! the file's size and content digest ([`content_digest`]): an index found for a file of
//! other contents is stale and not used.
//!
//! - **BGZF** (bgzip's `.gz`, with its end-of-file block): the offsets are virtual positions
//!   (compressed offset of the block << 16 | offset in the block), as in BAM indexes.
//! - **Uncompressed** FASTQ: byte offsets.
//! - **Unaligned BAM**: virtual positions of every `step`-th read pair (the records are pairs
//!   here), with the number of BAM records before each (secondary and supplementary ones
//!   included), so messages after a seek still name the record.
//! - **CRAM** is not indexed: shards read it whole.
//! - **Plain gzip** (one deflate stream, or several concatenated) cannot be entered anywhere
//!   but at its start: it is refused, with the advice to recompress it with `bgzip` (which
//!   every FASTQ reader takes under the same `.gz` name). Shards then read such files whole.
//!
//! Layout (little-endian): `GENOARI1`, file size, records, step, flags (1: BGZF, 2: BAM pairs),
//! number of offsets `n` (u64 each), the content digest (32 hex digits), `n` offsets (u64),
//! for BAM `n` record counts (u64), `GENOARI1`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use noodles::fastq;

use crate::error::{Error, Result};

/// Records between two offsets of an index: seeking parses at most this many records more.
pub const STEP: u64 = 4096;

/// Suffix of an index's file name.
pub const SUFFIX: &str = ".genoa.ridx";

const MAGIC: &[u8; 8] = b"GENOARI1";

/// Bytes read from each end of a read file for its content digest.
const DIGEST_SPAN: u64 = 1 << 20;

/// A read file's content digest: MD5 (hex) of its size, its first and its last MiB. A plain
/// gzip file ends with the CRC-32 and length of all its data, so two such files with equal
/// digests hold the same reads; for BGZF (each block has its own CRC) and uncompressed FASTQ it
/// tells apart any two files that differ in size or at either end.
pub fn content_digest(path: &Path) -> Result<String> {
    use md5::Digest;
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let size = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut h = md5::Md5::new();
    h.update(size.to_le_bytes());
    let mut buf = Vec::with_capacity(DIGEST_SPAN as usize);
    (&mut f)
        .take(DIGEST_SPAN)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    h.update(&buf);
    if size > DIGEST_SPAN {
        buf.clear();
        f.seek(SeekFrom::Start(
            size.saturating_sub(DIGEST_SPAN).max(DIGEST_SPAN),
        ))
        .map_err(|e| Error::io(path, e))?;
        f.take(DIGEST_SPAN)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(path, e))?;
        h.update(&buf);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Where the records of one FASTQ file start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadIndex {
    /// The indexed file's size and content digest.
    pub size: u64,
    pub digest: String,
    /// Records in the file: FASTQ records, or read pairs of an unaligned BAM.
    pub records: u64,
    /// Records between two offsets.
    pub step: u64,
    /// Offsets are BGZF virtual positions (else byte offsets).
    pub bgzf: bool,
    /// An unaligned BAM's index: its records are pairs, and each offset comes with the number
    /// of BAM records before it (secondary and supplementary ones included), for messages.
    pub bam: bool,
    /// Where records 0, step, 2·step, … start.
    offsets: Vec<u64>,
    /// BAM records before each offset (BAM indexes only).
    bam_records: Vec<u64>,
}

/// The index of `file`: `DIR/NAME.genoa.ridx` with a directory, else `FILE.genoa.ridx`.
pub fn index_path(file: &Path, dir: Option<&Path>) -> PathBuf {
    match (dir, file.file_name()) {
        (Some(d), Some(name)) => {
            let mut n = name.to_owned();
            n.push(SUFFIX);
            d.join(n)
        }
        _ => crate::io::with_suffix(file, SUFFIX),
    }
}

impl ReadIndex {
    /// Indexes the FASTQ file `path` (BGZF or uncompressed), or the unaligned BAM file, with
    /// an offset every [`STEP`] records (pairs of a BAM).
    pub fn build(path: &Path) -> Result<ReadIndex> {
        Self::build_with_step(path, STEP)
    }

    /// [`ReadIndex::build`] with an offset every `step` records.
    pub fn build_with_step(path: &Path, step: u64) -> Result<ReadIndex> {
        let step = step.max(1);
        let digest = content_digest(path)?;
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let format = crate::io::ubam::sniff(path);
        if format == Some(crate::io::ubam::Format::Cram) {
            return Err(Error::input(
                path,
                "CRAM input cannot be indexed (its containers would need an index of their own): shards read it whole",
            ));
        }
        let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
        if head.is_empty() {
            return Err(Error::input(path, "empty file: no FASTQ records"));
        }
        let bgzf = crate::io::fastq::is_bgzf(head);
        if bgzf && !crate::io::fastq::ends_with_bgzf_eof(path) {
            return Err(Error::input(
                path,
                "BGZF without its end-of-file block: the file may be cut short (an interrupted copy?); not indexed",
            ));
        }
        if format == Some(crate::io::ubam::Format::Bam) {
            let (records, offsets, bam_records) =
                crate::io::ubam::UnalignedReader::index_pairs(path, step)?;
            return Ok(ReadIndex {
                size,
                digest,
                records,
                step,
                bgzf: true,
                bam: true,
                offsets,
                bam_records,
            });
        }
        let (records, offsets) = if bgzf {
            let reader = crate::io::fastq::bgzf_reader(buffered);
            scan(path, reader, step, |r, _| u64::from(r.virtual_position()))?
        } else if head.starts_with(&[0x1f, 0x8b]) {
            return Err(Error::input(
                path,
                "plain gzip cannot be entered in the middle, so it cannot be indexed: recompress it with `bgzip` (the same .gz name; every FASTQ reader takes it) to let shards skip the reads they do not align",
            ));
        } else {
            scan(path, buffered, step, |_, at| at)?
        };
        Ok(ReadIndex {
            size,
            digest,
            records,
            step,
            bgzf,
            bam: false,
            offsets,
            bam_records: Vec::new(),
        })
    }

    /// Where to enter the file for record `r` (< `records`): an offset, and the records to
    /// read past from there.
    pub fn checkpoint(&self, r: u64) -> (u64, u64) {
        let i = self.checkpoint_at(r);
        (
            self.offsets.get(i).copied().unwrap_or(0),
            r - i as u64 * self.step,
        )
    }

    /// BAM records before the offset [`ReadIndex::checkpoint`] gives for pair `r`.
    pub fn bam_records_before(&self, r: u64) -> u64 {
        self.bam_records
            .get(self.checkpoint_at(r))
            .copied()
            .unwrap_or(0)
    }

    fn checkpoint_at(&self, r: u64) -> usize {
        ((r / self.step) as usize).min(self.offsets.len().saturating_sub(1))
    }

    /// Saves the index at `path` (through a temporary name).
    pub fn write(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let mut bytes = Vec::with_capacity(96 + 8 * self.offsets.len());
        bytes.extend_from_slice(MAGIC);
        for v in [
            self.size,
            self.records,
            self.step,
            u64::from(self.bgzf) | u64::from(self.bam) << 1,
            self.offsets.len() as u64,
        ] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let mut digest = [b'0'; 32];
        let d = self.digest.as_bytes();
        digest[..d.len().min(32)].copy_from_slice(&d[..d.len().min(32)]);
        bytes.extend_from_slice(&digest);
        for o in self.offsets.iter().chain(&self.bam_records) {
            bytes.extend_from_slice(&o.to_le_bytes());
        }
        bytes.extend_from_slice(MAGIC);
        let pending = crate::io::atomic::Pending::new(path)?;
        {
            let mut f = pending.create()?;
            f.write_all(&bytes).map_err(|e| Error::io(path, e))?;
            f.sync_all().map_err(|e| Error::io(path, e))?;
        }
        pending.commit()
    }

    /// Loads the index saved at `path`.
    pub fn load(path: &Path) -> Result<ReadIndex> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = || {
            Error::input(
                path,
                "not a genoa read index, or cut short: make it again with `genoa reads-index`",
            )
        };
        let head = 8 + 5 * 8 + 32;
        if bytes.len() < head + 8 || &bytes[..8] != MAGIC || &bytes[bytes.len() - 8..] != MAGIC {
            return Err(bad());
        }
        let u = |i: usize| u64::from_le_bytes(bytes[8 + 8 * i..16 + 8 * i].try_into().unwrap());
        let (size, records, step, flags, n) = (u(0), u(1), u(2), u(3), u(4));
        let digest = std::str::from_utf8(&bytes[48..80])
            .map_err(|_| bad())?
            .to_string();
        let bam = flags & 2 != 0;
        let arrays = if bam { 2 } else { 1 };
        if step == 0
            || flags > 3
            || (bam && flags & 1 == 0)
            || n != records.div_ceil(step)
            || bytes.len() as u64 != head as u64 + 8 * arrays * n + 8
        {
            return Err(bad());
        }
        let mut values: Vec<u64> = bytes[head..bytes.len() - 8]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let bam_records = values.split_off(n as usize);
        Ok(ReadIndex {
            size,
            digest,
            records,
            step,
            bgzf: flags & 1 != 0,
            bam,
            offsets: values,
            bam_records,
        })
    }

    /// The index of `file` saved in `dir` (or beside the file), if there is one for the file
    /// as it is now. A stale index (made from other contents) is reported and not used; an
    /// unreadable one is an error.
    pub fn find(file: &Path, dir: Option<&Path>) -> Result<Option<(PathBuf, ReadIndex)>> {
        let path = index_path(file, dir);
        if !path.is_file() {
            return Ok(None);
        }
        let index = ReadIndex::load(&path)?;
        let size = std::fs::metadata(file)
            .map_err(|e| Error::io(file, e))?
            .len();
        if index.size != size || index.digest != content_digest(file)? {
            tracing::warn!(
                "{}: a read index of other contents than {} (stale): not used; make it again with `genoa reads-index`",
                path.display(),
                file.display()
            );
            return Ok(None);
        }
        Ok(Some((path, index)))
    }
}

/// Reads every record of `reader`, noting where every `step`-th one starts (`at(reader, byte
/// offset in the data)`); returns the number of records and the offsets. The rules are those
/// of [`crate::io::fastq::Reader`]: one blank line may end the file.
fn scan<R: BufRead>(
    path: &Path,
    reader: R,
    step: u64,
    at: impl Fn(&R, u64) -> u64,
) -> Result<(u64, Vec<u64>)> {
    let mut reader = fastq::io::Reader::new(reader);
    let mut record = fastq::Record::default();
    let (mut records, mut pos) = (0u64, 0u64);
    let mut offsets = Vec::new();
    let error = |records: u64, message: String| Error::Record {
        path: path.to_path_buf(),
        record: records + 1,
        line: Some(4 * records + 1),
        message,
    };
    loop {
        let buf = reader
            .get_mut()
            .fill_buf()
            .map_err(|e| error(records, e.to_string()))?;
        let blank = match buf {
            [] => break,
            [b'\n', ..] => 1,
            [b'\r', b'\n', ..] => 2,
            _ => 0,
        };
        if blank > 0 {
            reader.get_mut().consume(blank);
            let rest = reader
                .get_mut()
                .fill_buf()
                .map_err(|e| error(records, e.to_string()))?;
            if !rest.is_empty() {
                return Err(error(
                    records,
                    "blank line where a record should start".into(),
                ));
            }
            break;
        }
        if records.is_multiple_of(step) {
            offsets.push(at(reader.get_ref(), pos));
        }
        let n = reader
            .read_record(&mut record)
            .map_err(|e| error(records, e.to_string()))?;
        if n == 0 {
            break;
        }
        if record.sequence().len() != record.quality_scores().len() {
            return Err(error(
                records,
                format!(
                    "quality length {} != sequence length {}",
                    record.quality_scores().len(),
                    record.sequence().len()
                ),
            ));
        }
        pos += n as u64;
        records += 1;
    }
    if records == 0 {
        return Err(Error::input(path, "empty file: no FASTQ records"));
    }
    Ok((records, offsets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_indexes_load_and_cut_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fq = dir.path().join("r.fq");
        let text: String = (0..1000)
            .map(|i| {
                format!(
                    "@r{i}\n{}\n+\n{}\n",
                    "A".repeat(i % 7 + 1),
                    "I".repeat(i % 7 + 1)
                )
            })
            .collect();
        std::fs::write(&fq, &text).unwrap();
        let index = ReadIndex::build_with_step(&fq, 64).unwrap();
        assert_eq!(
            (index.records, index.offsets.len(), index.bgzf),
            (1000, 16, false)
        );
        let path = index_path(&fq, None);
        index.write(&path).unwrap();
        assert_eq!(ReadIndex::load(&path).unwrap(), index);
        assert_eq!(ReadIndex::find(&fq, None).unwrap().unwrap().1, index);
        // Another directory: named after the file.
        let other = dir.path().join("idx");
        std::fs::create_dir(&other).unwrap();
        assert_eq!(index_path(&fq, Some(&other)), other.join("r.fq.genoa.ridx"));
        assert!(ReadIndex::find(&fq, Some(&other)).unwrap().is_none());
        // Cut short: an error naming the index.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let e = ReadIndex::find(&fq, None).unwrap_err().to_string();
        assert!(
            e.contains("r.fq.genoa.ridx") && e.contains("cut short"),
            "{e}"
        );
        // Stale: the file changed since; not used.
        index.write(&path).unwrap();
        std::fs::write(&fq, text.replace("@r999\n", "@x999\n")).unwrap();
        assert!(ReadIndex::find(&fq, None).unwrap().is_none());
    }

    #[test]
    fn plain_gzip_and_bad_records_are_refused() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("r.fq.gz");
        let mut w =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        w.write_all(b"@r\nACGT\n+\nIIII\n").unwrap();
        w.finish().unwrap();
        let e = ReadIndex::build(&gz).unwrap_err().to_string();
        assert!(e.contains("bgzip") && e.contains("r.fq.gz"), "{e}");
        let fq = dir.path().join("bad.fq");
        std::fs::write(&fq, "@a\nAC\n+\nII\n@b\nACG\n+\nII\n").unwrap();
        let e = ReadIndex::build(&fq).unwrap_err().to_string();
        assert!(
            e.contains("record 2") && e.contains("quality length"),
            "{e}"
        );
        std::fs::write(&fq, "@a\nAC\n+\nII\n\n@b\nAC\n+\nII\n").unwrap();
        let e = ReadIndex::build(&fq).unwrap_err().to_string();
        assert!(e.contains("blank line"), "{e}");
        std::fs::write(&fq, "@a\nAC\n+\nII\n\n").unwrap();
        assert_eq!(ReadIndex::build(&fq).unwrap().records, 1);
    }
}
