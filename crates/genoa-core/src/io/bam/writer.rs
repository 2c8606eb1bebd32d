//! BAM records encoded by hand (the SAM specification's §4.2 layout) and a BGZF writer that
//! compresses blocks on every worker thread and indexes records as they pass.
//!
//! Records arrive as encoded bytes (`block_size` first), already in coordinate order. They are
//! cut into 65,280-byte blocks regardless of record boundaries (as htslib does), a group of
//! blocks is compressed in parallel (libdeflate), and each record's virtual positions follow
//! from its uncompressed offset: blocks have a fixed size, so a record's block and offset in it
//! are arithmetic. The index (BAI, or CSI for contigs longer than 2^29) is built from those
//! positions, so nothing is read back.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use noodles::bam;
use noodles::bgzf::VirtualPosition;
use noodles::core::Position;
use noodles::csi::binning_index::index::reference_sequence::bin::Chunk;
use noodles::sam;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::genome::CigarOp;
use crate::model::alignment::{AlignedRead, Flags};

/// Uncompressed bytes per BGZF block (htslib's choice, leaves room for incompressible data).
pub const BLOCK: usize = 0xff00;
/// libdeflate compression level of BAM blocks (`docs/decisions/0005-bam-compression-level-5.md`).
pub const LEVEL: i32 = 5;
/// Blocks compressed together (in parallel).
const GROUP: usize = 64;
/// The 28-byte empty block that ends every BGZF file.
const EOF_BLOCK: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00,
    0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// BAM's `reg2bin` for the 0-based half-open interval `[beg, end)`.
pub fn reg2bin(beg: i64, end: i64) -> u16 {
    let end = end - 1;
    for (shift, offset) in [(14, 4681), (17, 585), (20, 73), (23, 9), (26, 1)] {
        if beg >> shift == end >> shift {
            return (offset + (beg >> shift)) as u16;
        }
    }
    0
}

fn seq_code(b: u8) -> u8 {
    match b {
        b'=' => 0,
        b'A' => 1,
        b'C' => 2,
        b'M' => 3,
        b'G' => 4,
        b'R' => 5,
        b'S' => 6,
        b'V' => 7,
        b'T' => 8,
        b'W' => 9,
        b'Y' => 10,
        b'H' => 11,
        b'K' => 12,
        b'D' => 13,
        b'B' => 14,
        _ => 15,
    }
}

/// Offset of the flag field in an encoded record (after `block_size`).
pub const FLAG_OFFSET: usize = 18;

/// Appends the BAM encoding of `r` (read group `rg`) to `out`.
pub fn encode_record(r: &AlignedRead, rg: &str, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]); // block_size, patched below
    let (ref_id, pos) = match r.contig {
        Some(c) => (c as i32, r.pos as i32),
        None => (-1, -1),
    };
    let mapped = r.is_mapped();
    let end = if mapped && r.contig.is_some() {
        r.pos as i64 + i64::from(r.cigar.reference_len()).max(1)
    } else {
        i64::from(pos) + 1
    };
    let bin = reg2bin(i64::from(pos).max(0), end.max(1));
    let bin = if pos < 0 { 4680 } else { bin };
    let n_cigar = if mapped { r.cigar.0.len() } else { 0 };
    let name = r.name.as_bytes();
    let (mate_ref, mate_pos) = match r.mate_contig {
        Some(c) => (c as i32, r.mate_pos as i32),
        None => (-1, -1),
    };
    out.extend_from_slice(&ref_id.to_le_bytes());
    out.extend_from_slice(&pos.to_le_bytes());
    out.push((name.len() + 1).min(255) as u8);
    out.push(if mapped { r.mapq } else { 0 });
    out.extend_from_slice(&bin.to_le_bytes());
    out.extend_from_slice(&(n_cigar as u16).to_le_bytes());
    out.extend_from_slice(&u16::from(r.flags).to_le_bytes());
    out.extend_from_slice(&(r.seq.len() as u32).to_le_bytes());
    out.extend_from_slice(&mate_ref.to_le_bytes());
    out.extend_from_slice(&mate_pos.to_le_bytes());
    out.extend_from_slice(&(if mapped { r.tlen as i32 } else { 0 }).to_le_bytes());
    out.extend_from_slice(&name[..name.len().min(254)]);
    out.push(0);
    if mapped {
        for &(op, n) in &r.cigar.0 {
            let code = match op {
                CigarOp::Match => 0,
                CigarOp::Ins => 1,
                CigarOp::Del => 2,
                CigarOp::SoftClip => 4,
            };
            out.extend_from_slice(&((n << 4) | code).to_le_bytes());
        }
    }
    for pair in r.seq.chunks(2) {
        let hi = seq_code(pair[0]) << 4;
        let lo = pair.get(1).map_or(0, |&b| seq_code(b));
        out.push(hi | lo);
    }
    if r.qual.len() == r.seq.len() {
        out.extend_from_slice(&r.qual);
    } else {
        out.extend(std::iter::repeat_n(0xff, r.seq.len()));
    }
    if mapped {
        out.extend_from_slice(b"NMi");
        out.extend_from_slice(&(r.nm as i32).to_le_bytes());
    }
    let mut tag_z = |tag: &[u8; 2], value: &str| {
        out.extend_from_slice(tag);
        out.push(b'Z');
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    };
    if mapped {
        tag_z(b"MD", &r.md);
    }
    if let Some(mc) = &r.mate_cigar {
        tag_z(b"MC", mc);
    }
    if let Some(sa) = &r.sa {
        tag_z(b"SA", sa);
    }
    if let Some(xa) = &r.xa {
        tag_z(b"XA", xa);
    }
    tag_z(b"RG", rg);
    let size = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&size.to_le_bytes());
}

/// Reference id, 0-based start, exclusive end and whether mapped.
pub type IndexContext = (usize, u64, u64, bool);

/// What the index needs of an encoded record: (reference id, 0-based start, exclusive end,
/// mapped), or `None` for an unplaced record.
pub fn index_context(rec: &[u8]) -> Option<IndexContext> {
    let i32_at = |o: usize| i32::from_le_bytes(rec[o..o + 4].try_into().unwrap());
    let u16_at = |o: usize| u16::from_le_bytes(rec[o..o + 2].try_into().unwrap());
    let (ref_id, pos) = (i32_at(4), i32_at(8));
    if ref_id < 0 || pos < 0 {
        return None;
    }
    let name_len = rec[12] as usize;
    let n_cigar = u16_at(16) as usize;
    let flag = Flags::from(u16_at(FLAG_OFFSET));
    let cigar_at = 36 + name_len;
    let mut ref_len = 0u64;
    for k in 0..n_cigar {
        let v = u32::from_le_bytes(
            rec[cigar_at + 4 * k..cigar_at + 4 * k + 4]
                .try_into()
                .unwrap(),
        );
        if matches!(v & 0xf, 0 | 2 | 3 | 7 | 8) {
            ref_len += u64::from(v >> 4);
        }
    }
    let mapped = !flag.intersects(Flags::UNMAPPED);
    Some((
        ref_id as usize,
        pos as u64,
        pos as u64 + ref_len.max(1),
        mapped,
    ))
}

/// The read a record encoded by [`encode_record`] gives the caller (the same read
/// [`crate::io::bam::IndexedBam::fetch`] gives from the written file), or `None` for a record
/// the caller never uses: unplaced, unmapped, secondary, or without SEQ. `lens` are the
/// reference's contig lengths.
pub fn decode_for_caller(rec: &[u8], lens: &[u64]) -> Result<Option<AlignedRead>> {
    // Records come from genoa's own sort runs; a damaged run file must still end in an
    // error, not a panic, so every read of the bytes is bounds-checked.
    let short = || Error::Internal("a sorted record is cut short (damaged sort run file?)".into());
    let bytes = |at: usize, n: usize| rec.get(at..at + n).ok_or_else(short);
    let u32_at = |at: usize| -> Result<u32> {
        Ok(u32::from_le_bytes(
            bytes(at, 4)?.try_into().expect("4 bytes"),
        ))
    };
    let (ref_id, pos) = (u32_at(4)? as i32, u32_at(8)? as i32);
    let flags = Flags::from(u16::from_le_bytes(
        bytes(FLAG_OFFSET, 2)?.try_into().expect("2 bytes"),
    ));
    let l_seq = u32_at(20)? as usize;
    if ref_id < 0 || pos < 0 || flags.intersects(Flags::UNMAPPED | Flags::SECONDARY) || l_seq == 0 {
        return Ok(None);
    }
    let name_len = usize::from(bytes(12, 1)?[0]);
    let mapq = bytes(13, 1)?[0];
    let n_cigar = usize::from(u16::from_le_bytes(
        bytes(16, 2)?.try_into().expect("2 bytes"),
    ));
    let cigar_at = 36 + name_len;
    let mut cigar = crate::genome::Cigar::default();
    for k in 0..n_cigar {
        let v = u32_at(cigar_at + 4 * k)?;
        let op = match v & 0xf {
            0 | 7 | 8 => CigarOp::Match,
            1 => CigarOp::Ins,
            2 | 3 => CigarOp::Del,
            4 => CigarOp::SoftClip,
            _ => continue,
        };
        cigar.push(op, v >> 4);
    }
    const BASES: &[u8; 16] = b"=ACMGRSVTWYHKDBN";
    let seq_at = cigar_at + 4 * n_cigar;
    let packed = bytes(seq_at, l_seq.div_ceil(2))?;
    let seq: Vec<u8> = (0..l_seq)
        .map(|i| {
            let b = packed[i / 2];
            BASES[usize::from(if i % 2 == 0 { b >> 4 } else { b & 0xf })]
        })
        .collect();
    let qual_at = seq_at + l_seq.div_ceil(2);
    let qual = bytes(qual_at, l_seq)?.to_vec();
    let contig = ref_id as usize;
    let len = lens.get(contig).copied().unwrap_or(0);
    let mut read =
        crate::io::bam::placed_read((contig, len), flags, pos as u64, mapq, cigar, seq, qual)
            .map_err(|m| Error::Internal(format!("an aligned record does not decode: {m}")))?;
    let (mate_ref, mate_pos) = (u32_at(24)? as i32, u32_at(28)? as i32);
    crate::io::bam::set_overlapping_mate(
        &mut read,
        mate_ref == ref_id,
        (mate_pos >= 0).then_some(mate_pos as u64),
        || aux_string(rec.get(qual_at + l_seq..)?, *b"MC"),
    );
    Ok(Some(read))
}

/// The value of the `Z` field `tag` in a record's auxiliary data, if present and well formed.
fn aux_string(mut aux: &[u8], tag: [u8; 2]) -> Option<String> {
    while aux.len() >= 3 {
        let (t, ty) = ([aux[0], aux[1]], aux[2]);
        aux = &aux[3..];
        let size = match ty {
            b'A' | b'c' | b'C' => 1,
            b's' | b'S' => 2,
            b'i' | b'I' | b'f' => 4,
            b'Z' | b'H' => {
                let end = aux.iter().position(|&b| b == 0)?;
                if t == tag && ty == b'Z' {
                    return Some(String::from_utf8_lossy(&aux[..end]).into_owned());
                }
                end + 1
            }
            b'B' => {
                let (&sub, rest) = aux.split_first()?;
                let n = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
                let each = match sub {
                    b'c' | b'C' => 1,
                    b's' | b'S' => 2,
                    b'i' | b'I' | b'f' => 4,
                    _ => return None,
                };
                5 + n.checked_mul(each)?
            }
            _ => return None,
        };
        aux = aux.get(size..)?;
    }
    None
}

/// A BGZF BAM writer fed encoded records in order; writes the index beside it at the end.
pub struct SortedWriter {
    file: BufWriter<File>,
    path: std::path::PathBuf,
    level: libdeflater::CompressionLvl,
    pending: Vec<u8>,
    /// Uncompressed offset of `pending[0]`, and compressed bytes written so far.
    pending_start: u64,
    written: u64,
    /// (uncompressed start, compressed offset) of blocks whose records are not yet indexed.
    blocks: std::collections::VecDeque<(u64, u64)>,
    /// Records waiting for their blocks: context, uncompressed start and end.
    unresolved: std::collections::VecDeque<(Option<IndexContext>, u64, u64)>,
    indexer: bam::index::Indexer,
}

impl SortedWriter {
    /// Creates `file` (its final name is `path`, used in messages) and writes `header`.
    pub fn new(file: File, path: &Path, header: &sam::Header, max_contig_len: u64) -> Result<Self> {
        let format = if max_contig_len > super::BAI_MAX_LEN {
            bam::index::Format::Csi
        } else {
            bam::index::Format::Bai
        };
        let indexer = bam::index::Indexer::builder()
            .set_format(format)
            .set_max_position_hint(
                Position::try_from(max_contig_len.max(1) as usize)
                    .map_err(|e| Error::index(path, e))?,
            )
            .build()
            .map_err(|e| Error::index(path, e))?;
        let mut raw = bam::io::Writer::from(Vec::new());
        raw.write_header(header).map_err(|e| Error::io(path, e))?;
        let mut w = SortedWriter {
            file: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            level: libdeflater::CompressionLvl::new(LEVEL).expect("a libdeflate level"),
            pending: raw.into_inner(),
            pending_start: 0,
            written: 0,
            blocks: Default::default(),
            unresolved: Default::default(),
            indexer,
        };
        // The header in blocks of its own, as htslib writes it.
        w.flush(true)?;
        Ok(w)
    }

    /// Appends one encoded record.
    pub fn push(&mut self, rec: &[u8]) -> Result<()> {
        let start = self.pending_start + self.pending.len() as u64;
        self.unresolved
            .push_back((index_context(rec), start, start + rec.len() as u64));
        self.pending.extend_from_slice(rec);
        if self.pending.len() >= GROUP * BLOCK {
            self.flush(false)?;
        }
        Ok(())
    }

    /// Compresses and writes the pending full blocks (all of them when `all`), then indexes
    /// the records whose bytes are now written.
    fn flush(&mut self, all: bool) -> Result<()> {
        let full = flushable(self.pending.len(), all);
        if full == 0 {
            return Ok(());
        }
        let level = self.level;
        let compressed: Vec<Result<Vec<u8>>> = self.pending[..full]
            .par_chunks(BLOCK)
            .map_init(|| libdeflater::Compressor::new(level), compress_block)
            .collect();
        let mut ustart = self.pending_start;
        for block in compressed {
            let block =
                block.map_err(|e| Error::Internal(format!("{}: {e}", self.path.display())))?;
            self.blocks.push_back((ustart, self.written));
            self.file
                .write_all(&block)
                .map_err(|e| Error::io(&self.path, e))?;
            self.written += block.len() as u64;
            ustart += BLOCK as u64;
        }
        let flushed_to = self.pending_start + full as u64;
        self.pending.drain(..full);
        self.pending_start = flushed_to;
        self.resolve(flushed_to)
    }

    /// Virtual position of uncompressed offset `u` (written data only).
    fn virtual_position(&self, u: u64, flushed_to: u64) -> VirtualPosition {
        if u == flushed_to {
            return VirtualPosition::from(self.written << 16);
        }
        let i = self.blocks.partition_point(|&(s, _)| s <= u) - 1;
        let (s, c) = self.blocks[i];
        VirtualPosition::from((c << 16) | (u - s))
    }

    fn resolve(&mut self, flushed_to: u64) -> Result<()> {
        while let Some(&(ctx, s, e)) = self.unresolved.front() {
            if e > flushed_to {
                break;
            }
            let chunk = Chunk::new(
                self.virtual_position(s, flushed_to),
                self.virtual_position(e, flushed_to),
            );
            let ctx = ctx
                .map(|(id, start, end, mapped)| -> Result<_> {
                    let p = |x: u64| {
                        Position::try_from(x as usize + 1)
                            .map_err(|e| Error::Internal(format!("position {x}: {e}")))
                    };
                    Ok((id, p(start)?, p(end - 1)?, mapped))
                })
                .transpose()?;
            self.indexer
                .add_record(ctx, chunk)
                .map_err(|e| Error::index(&self.path, e))?;
            self.unresolved.pop_front();
        }
        // Blocks before the first unresolved record are no longer needed.
        let keep_from = self.unresolved.front().map_or(flushed_to, |&(_, s, _)| s);
        while self.blocks.len() > 1 && self.blocks[1].0 <= keep_from {
            self.blocks.pop_front();
        }
        Ok(())
    }

    /// Writes the remaining blocks and the EOF block; returns the index.
    pub fn finish(mut self, n_refs: usize) -> Result<bam::Index> {
        self.flush(true)?;
        self.file
            .write_all(&EOF_BLOCK)
            .and_then(|_| self.file.flush())
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(self.indexer.build(n_refs))
    }
}

impl SortedWriter {
    /// Appends a part written by a [`PartWriter`] (records in order, after those written so
    /// far): its blocks are copied as they are, and inflated again, on the pool, to index
    /// its records and to hand them to `tap` in order, a batch at a time.
    pub fn append_part(
        &mut self,
        part: &Path,
        tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>,
    ) -> Result<()> {
        self.flush(true)?;
        let records_start = self.pending_start;
        walk_part(part, &mut |event| match event {
            PartEvent::Block(raw, inflated) => {
                self.blocks.push_back((self.pending_start, self.written));
                self.file
                    .write_all(raw)
                    .map_err(|e| Error::io(&self.path, e))?;
                self.written += raw.len() as u64;
                self.pending_start += inflated as u64;
                Ok(())
            }
            PartEvent::Records(recs, offset) => {
                let mut s = records_start + offset;
                for rec in recs {
                    self.unresolved
                        .push_back((index_context(rec), s, s + rec.len() as u64));
                    s += rec.len() as u64;
                }
                for batch in recs.chunks(4096) {
                    tap(batch)?;
                }
                let flushed_to = self.pending_start;
                self.resolve(flushed_to)
            }
        })
    }
}

/// Hands the records of a part written by a [`PartWriter`] to `tap` in order, a batch at a
/// time (inflated on the pool), and writes nothing.
pub fn tap_part(part: &Path, tap: &mut dyn FnMut(&[&[u8]]) -> Result<()>) -> Result<()> {
    walk_part(part, &mut |event| match event {
        PartEvent::Block(..) => Ok(()),
        PartEvent::Records(recs, _) => recs.chunks(4096).try_for_each(&mut *tap),
    })
}

/// What [`walk_part`] finds in a part, in order.
enum PartEvent<'a> {
    /// A BGZF block as it is in the part, and the length of its data.
    Block(&'a [u8], usize),
    /// The whole records inflated since the last event of this kind, and the offset of the
    /// first one in the part's data.
    Records(&'a [&'a [u8]], u64),
}

/// Reads a part's BGZF blocks a window at a time, inflates each window's blocks on the pool,
/// and hands `each` the blocks and then the whole records they complete.
fn walk_part(part: &Path, each: &mut dyn FnMut(PartEvent<'_>) -> Result<()>) -> Result<()> {
    use std::io::Read;
    let bad = |what: &str| Error::Internal(format!("{}: {what}", part.display()));
    let mut f = File::open(part).map_err(|e| Error::io(part, e))?;
    // Whole blocks, a window of them at a time.
    let mut window: Vec<u8> = Vec::with_capacity(PART_WINDOW + 65_536);
    let mut records: Vec<u8> = Vec::new();
    let mut records_start = 0u64;
    let mut eof = false;
    while !eof || !window.is_empty() {
        while !eof && window.len() < PART_WINDOW {
            let at = window.len();
            window.resize(at + (1 << 20), 0);
            let n = f.read(&mut window[at..]).map_err(|e| Error::io(part, e))?;
            window.truncate(at + n);
            eof = n == 0;
        }
        let mut blocks = Vec::new();
        let mut at = 0;
        while window.len() - at >= 18 {
            let h = &window[at..at + 18];
            if !crate::io::fastq::is_bgzf(h) {
                return Err(bad("not a BGZF block"));
            }
            let size = usize::from(u16::from_le_bytes([h[16], h[17]])) + 1;
            if size < 26 {
                return Err(bad("a BGZF block is too short"));
            }
            if window.len() - at < size {
                break;
            }
            blocks.push(at..at + size);
            at += size;
        }
        if blocks.is_empty() {
            if eof && !window.is_empty() {
                return Err(bad("ends inside a BGZF block"));
            }
            continue;
        }
        let inflated: Vec<Result<Vec<u8>>> = blocks
            .par_iter()
            .map_init(libdeflater::Decompressor::new, |d, r| {
                let b = &window[r.clone()];
                let n = b.len();
                let isize = u32::from_le_bytes(b[n - 4..].try_into().expect("4 bytes"));
                let mut out = vec![0u8; isize as usize];
                match d.deflate_decompress(&b[18..n - 8], &mut out) {
                    Ok(m) if m == out.len() => Ok(out),
                    _ => Err(bad("a BGZF block does not inflate")),
                }
            })
            .collect();
        for (r, data) in blocks.iter().zip(inflated) {
            let data = data?;
            each(PartEvent::Block(&window[r.clone()], data.len()))?;
            records.extend_from_slice(&data);
        }
        window.drain(..at);
        // The whole records inflated so far.
        let mut slices = Vec::new();
        let mut i = 0;
        while records.len() - i >= 4 {
            let len = u32::from_le_bytes(records[i..i + 4].try_into().expect("4 bytes"));
            let end = i + 4 + len as usize;
            if end > records.len() {
                break;
            }
            slices.push(&records[i..end]);
            i = end;
        }
        each(PartEvent::Records(&slices, records_start))?;
        drop(slices);
        records.drain(..i);
        records_start += i as u64;
    }
    if !records.is_empty() {
        return Err(bad("ends inside a record"));
    }
    Ok(())
}

/// Compressed bytes of a part read at a time by [`SortedWriter::append_part`] (small in
/// tests, so that records and blocks span windows).
const PART_WINDOW: usize = if cfg!(test) { 48 << 10 } else { 2 << 20 };

/// A part of a BAM's records (a genome range), BGZF-compressed on the calling thread into a
/// file of its own, to be appended with [`SortedWriter::append_part`]: blocks of [`BLOCK`]
/// bytes from the part's first record, the last one shorter, no header and no EOF block.
pub struct PartWriter {
    file: BufWriter<File>,
    path: std::path::PathBuf,
    compressor: libdeflater::Compressor,
    pending: Vec<u8>,
}

impl PartWriter {
    /// A part of a BAM, compressed as the BAM is ([`LEVEL`]).
    pub fn create(path: &Path) -> Result<PartWriter> {
        Self::with_level(path, LEVEL)
    }

    /// A part compressed at libdeflate `level` (1 for a part that is only read back).
    pub fn with_level(path: &Path, level: i32) -> Result<PartWriter> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(PartWriter {
            file: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            compressor: libdeflater::Compressor::new(
                libdeflater::CompressionLvl::new(level).expect("a libdeflate level"),
            ),
            pending: Vec::with_capacity(GROUP * BLOCK),
        })
    }

    /// Appends one encoded record.
    pub fn push(&mut self, rec: &[u8]) -> Result<()> {
        self.pending.extend_from_slice(rec);
        if self.pending.len() >= GROUP * BLOCK {
            self.flush(false)?;
        }
        Ok(())
    }

    fn flush(&mut self, all: bool) -> Result<()> {
        let full = flushable(self.pending.len(), all);
        for chunk in self.pending[..full].chunks(BLOCK) {
            let block = compress_block(&mut self.compressor, chunk)?;
            self.file
                .write_all(&block)
                .map_err(|e| Error::io(&self.path, e))?;
        }
        self.pending.drain(..full);
        Ok(())
    }

    /// Writes the last block.
    pub fn finish(mut self) -> Result<()> {
        self.flush(true)?;
        self.file.flush().map_err(|e| Error::io(&self.path, e))
    }
}

/// Bytes of `pending` pending bytes that go into blocks now: the whole blocks, or all.
fn flushable(pending: usize, all: bool) -> usize {
    if all {
        pending
    } else {
        pending / BLOCK * BLOCK
    }
}

fn compress_block(c: &mut libdeflater::Compressor, data: &[u8]) -> Result<Vec<u8>> {
    let _span = crate::profile::span(crate::profile::Stage::Bgzf);
    let mut out = vec![0u8; 18 + c.deflate_compress_bound(data.len()) + 8];
    let n = c
        .deflate_compress(data, &mut out[18..])
        .map_err(|e| Error::Internal(format!("BGZF compression: {e:?}")))?;
    let total = 18 + n + 8;
    if total > 65_536 {
        return Err(Error::Internal(format!(
            "BGZF block of {total} bytes exceeds 64 KiB"
        )));
    }
    out.truncate(total);
    out[..18].copy_from_slice(&[
        0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0x00, b'B', b'C', 0x02, 0x00, 0, 0,
    ]);
    out[16..18].copy_from_slice(&((total - 1) as u16).to_le_bytes());
    let mut crc = libdeflater::Crc::new();
    crc.update(data);
    out[18 + n..22 + n].copy_from_slice(&crc.sum().to_le_bytes());
    out[22 + n..26 + n].copy_from_slice(&(data.len() as u32).to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod aux_tests {
    use super::aux_string;

    #[test]
    fn z_fields_are_found_past_others() {
        let mut aux = Vec::new();
        aux.extend_from_slice(b"NMC\x01");
        aux.extend_from_slice(b"XBBc\x02\x00\x00\x00\x01\x02");
        aux.extend_from_slice(b"MDZ150\x00");
        aux.extend_from_slice(b"MCZ75M1D75M\x00");
        assert_eq!(aux_string(&aux, *b"MC").as_deref(), Some("75M1D75M"));
        assert_eq!(aux_string(&aux, *b"MD").as_deref(), Some("150"));
        assert_eq!(aux_string(&aux, *b"RG"), None);
        assert_eq!(aux_string(&aux[..aux.len() - 3], *b"MC"), None, "cut short");
    }
}
