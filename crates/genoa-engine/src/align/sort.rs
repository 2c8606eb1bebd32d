//! External sort with bounded memory: items (a fixed-size key and a byte payload) are kept in
//! one arena until it reaches the memory limit, then sorted and written to a temporary file
//! (a run); [`Sorter::finish`] merges the runs and what is left in memory, in key order.
//!
//! Keys must be unique (genoa's carry the pair's input index), so the merged order is total
//! and does not depend on where the runs were cut — the same bytes come out whatever the
//! memory limit, batch size or thread count.
//!
//! Run file: blocks, each `u32` encoded length, `u32` compressed length, then the encoded
//! block raw-deflated (libdeflate level 1, the blocks of a spill compressed on all threads).
//! A block holds whole items, laid out column by column, which deflate compresses far better
//! than items one after the other: `u32` item count, the keys' bytes transposed (every key's
//! first byte, then every key's second byte, …), the payload lengths (`u32`) transposed the
//! same way, then the payloads as the sorter's [`PayloadCodec`] encodes them ([`Opaque`]: one
//! after the other; [`crate::align::bamrun::BamRecords`] splits BAM records into fields and
//! stores bases as their difference to the reference). So spilled and checkpointed records
//! take about the disk of the final BAM instead of 3–4 times it. After the blocks comes the
//! run's block index: per block its first key's bytes and its `u64` file offset, then the
//! index's own offset (`u64`) and the magic `GENOARX3`. With it a merge can start at any key
//! ([`merge_range`]): the final merge runs genome ranges side by side. Runs outlive their sorter when taken with [`Sorter::checkpoint`]
//! (the resumable pipeline keeps them as checkpoints) and merge again with [`merge_runs`];
//! more than [`fan_in`] runs are first merged in groups, so a whole genome's runs never need
//! more open files than that.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};

/// The layout of run files, recorded with checkpoints: 2 is the column-wise blocks described
/// above (1 was items one after the other);
/// 3 added the block index at the end.
pub const RUN_FORMAT: u32 = 3;

/// The last 8 bytes of a run file.
const MAGIC: &[u8; 8] = b"GENOARX3";

/// A sort key: plain data, totally ordered.
pub trait Key: bytemuck::Pod + Ord + Send + Sync {}
impl<T: bytemuck::Pod + Ord + Send + Sync> Key for T {}

/// How a run lays out the payloads of one block before deflate: any bytes in, the same bytes
/// back. Encoding must be deterministic; decoding must reject (not panic on) bytes that are
/// not an encoding.
pub trait PayloadCodec: Sync {
    /// Appends the encoding of `payloads` (in order) to `out`.
    fn encode(&self, payloads: &[&[u8]], out: &mut Vec<u8>);
    /// Appends the payloads encoded in `enc`, whose lengths are `lens`, one after the other
    /// to `out`; `Err` names what is wrong when `enc` is not such an encoding.
    fn decode(
        &self,
        enc: &[u8],
        lens: &[u32],
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), &'static str>;
}

/// Payloads stored as they are, one after the other.
pub struct Opaque;

impl PayloadCodec for Opaque {
    fn encode(&self, payloads: &[&[u8]], out: &mut Vec<u8>) {
        for p in payloads {
            out.extend_from_slice(p);
        }
    }

    fn decode(
        &self,
        enc: &[u8],
        lens: &[u32],
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), &'static str> {
        let total: u64 = lens.iter().map(|&l| u64::from(l)).sum();
        if total != enc.len() as u64 {
            return Err("payload lengths do not add up");
        }
        out.extend_from_slice(enc);
        Ok(())
    }
}

/// Appends `n` items of `width` bytes, `items` laid end to end, transposed: byte 0 of every
/// item, then byte 1 of every item, …
pub fn transpose_into(items: &[u8], width: usize, out: &mut Vec<u8>) {
    let n = items.len().checked_div(width).unwrap_or(0);
    let start = out.len();
    out.resize(start + n * width, 0);
    let dst = &mut out[start..];
    for (i, item) in items.chunks_exact(width).enumerate() {
        for (j, &b) in item.iter().enumerate() {
            dst[j * n + i] = b;
        }
    }
}

/// The inverse of [`transpose_into`]: `n * width` transposed bytes back into `n` items laid
/// end to end.
pub fn untranspose_into(cols: &[u8], width: usize, out: &mut Vec<u8>) {
    let n = cols.len().checked_div(width).unwrap_or(0);
    let start = out.len();
    out.resize(start + n * width, 0);
    let dst = &mut out[start..];
    for (j, col) in cols.chunks_exact(n.max(1)).enumerate().take(width) {
        for (i, &b) in col.iter().enumerate() {
            dst[i * width + j] = b;
        }
    }
}

/// Sorts `(key, payload)` items within a memory limit, spilling sorted runs to `dir`.
pub struct Sorter<'c, K: Key> {
    codec: &'c dyn PayloadCodec,
    dir: PathBuf,
    tag: &'static str,
    limit: usize,
    arena: Vec<u8>,
    entries: Vec<(K, u64, u32)>,
    runs: Vec<PathBuf>,
    /// Runs written, including those handed over by `checkpoint`.
    spilled: usize,
    items: u64,
}

impl<K: Key> Sorter<'static, K> {
    /// A sorter holding at most about `limit` bytes in memory; run files go into `dir`, named
    /// after `tag`; payloads stored as they are ([`Opaque`]).
    pub fn new(dir: &Path, tag: &'static str, limit: usize) -> Self {
        Sorter::with_codec(dir, tag, limit, &Opaque)
    }
}

impl<'c, K: Key> Sorter<'c, K> {
    /// [`Sorter::new`] with the payloads of its runs encoded by `codec`.
    pub fn with_codec(
        dir: &Path,
        tag: &'static str,
        limit: usize,
        codec: &'c dyn PayloadCodec,
    ) -> Self {
        Sorter {
            codec,
            dir: dir.to_path_buf(),
            tag,
            limit: limit.max(1 << 16),
            arena: Vec::new(),
            entries: Vec::new(),
            runs: Vec::new(),
            spilled: 0,
            items: 0,
        }
    }

    fn used(&self) -> usize {
        self.arena.len() + self.entries.len() * std::mem::size_of::<(K, u64, u32)>()
    }

    /// Adds one item.
    pub fn push(&mut self, key: K, payload: &[u8]) -> Result<()> {
        self.entries
            .push((key, self.arena.len() as u64, payload.len() as u32));
        self.arena.extend_from_slice(payload);
        self.items += 1;
        if self.used() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Items pushed so far.
    pub fn len(&self) -> u64 {
        self.items
    }

    /// Whether no item was pushed.
    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// Runs written so far.
    pub fn runs(&self) -> usize {
        self.spilled
    }

    /// Writes what is in memory as a run and hands over every run written so far: the caller
    /// owns those files from now on (the sorter starts empty, its run numbering goes on).
    pub fn checkpoint(&mut self) -> Result<Vec<PathBuf>> {
        self.spill()?;
        Ok(std::mem::take(&mut self.runs))
    }

    fn spill(&mut self) -> Result<()> {
        if self.entries.is_empty() {
            return Ok(());
        }
        crate::profile::time_parallel(crate::profile::Stage::Sort, || {
            self.entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0))
        });
        let _span = crate::profile::span(crate::profile::Stage::Spill);
        let path = self
            .dir
            .join(format!("{}.{:05}.run", self.tag, self.spilled));
        self.spilled += 1;
        let mut w = RunWriter::create(&path, std::mem::size_of::<K>(), self.codec)?;
        for &(key, off, len) in &self.entries {
            w.push(
                bytemuck::bytes_of(&key),
                &self.arena[off as usize..off as usize + len as usize],
            )?;
        }
        w.finish()?;
        tracing::debug!(
            "sort: run {} of {} items ({} MB) to {}",
            self.runs.len(),
            self.entries.len(),
            self.arena.len() >> 20,
            path.display()
        );
        self.runs.push(path);
        self.entries.clear();
        self.arena.clear();
        Ok(())
    }

    /// Merges everything pushed, in key order.
    pub fn finish(mut self) -> Result<Merge<'c, K>> {
        crate::profile::time_parallel(crate::profile::Stage::Sort, || {
            self.entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0))
        });
        let runs = std::mem::take(&mut self.runs);
        let runs = compact::<K>(runs, &self.dir, self.tag, self.codec)?;
        open_merge(
            &runs,
            self.codec,
            std::mem::take(&mut self.arena),
            std::mem::take(&mut self.entries),
        )
    }
}

/// Raw bytes (keys, lengths and payloads) per block of a run file.
const BLOCK: usize = 64 << 10;

/// Blocks compressed at once (in parallel) by a [`RunWriter`].
const BLOCKS_AT_ONCE: usize = 32;

/// One block being filled: its items' keys, payload lengths and payloads.
#[derive(Default)]
struct RawBlock {
    keys: Vec<u8>,
    lens: Vec<u32>,
    payloads: Vec<u8>,
}

impl RawBlock {
    fn bytes(&self) -> usize {
        self.keys.len() + 4 * self.lens.len() + self.payloads.len()
    }

    /// The block encoded as the module's doc says, into `out` (cleared first).
    fn encode(&self, key_len: usize, codec: &dyn PayloadCodec, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&(self.lens.len() as u32).to_le_bytes());
        transpose_into(&self.keys, key_len, out);
        let lens: Vec<u8> = self.lens.iter().flat_map(|l| l.to_le_bytes()).collect();
        transpose_into(&lens, 4, out);
        let mut payloads = Vec::with_capacity(self.lens.len());
        let mut at = 0;
        for &l in &self.lens {
            payloads.push(&self.payloads[at..at + l as usize]);
            at += l as usize;
        }
        codec.encode(&payloads, out);
    }
}

/// Writes a run file: items into blocks, blocks encoded and compressed in parallel, written
/// in order.
struct RunWriter<'c> {
    path: PathBuf,
    w: BufWriter<File>,
    key_len: usize,
    codec: &'c dyn PayloadCodec,
    /// Blocks not written yet (the last one being filled).
    blocks: Vec<RawBlock>,
    /// Bytes written so far, and the block index: per block its first key and offset.
    written: u64,
    index: Vec<u8>,
}

impl<'c> RunWriter<'c> {
    fn create(path: &Path, key_len: usize, codec: &'c dyn PayloadCodec) -> Result<RunWriter<'c>> {
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(RunWriter {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, f),
            key_len,
            codec,
            blocks: vec![RawBlock::default()],
            written: 0,
            index: Vec::new(),
        })
    }

    fn push(&mut self, key: &[u8], payload: &[u8]) -> Result<()> {
        debug_assert_eq!(key.len(), self.key_len);
        let need = key.len() + 4 + payload.len();
        let last = self.blocks.last_mut().expect("one block");
        if !last.lens.is_empty() && last.bytes() + need > BLOCK {
            if self.blocks.len() >= BLOCKS_AT_ONCE {
                self.write_blocks()?;
            } else {
                self.blocks.push(RawBlock::default());
            }
        }
        let last = self.blocks.last_mut().expect("one block");
        last.keys.extend_from_slice(key);
        last.lens.push(payload.len() as u32);
        last.payloads.extend_from_slice(payload);
        Ok(())
    }

    /// Encodes, compresses and writes every block held (the last one included).
    fn write_blocks(&mut self) -> Result<()> {
        let (key_len, codec) = (self.key_len, self.codec);
        let compressed: Vec<(usize, Vec<u8>, &[u8])> = self
            .blocks
            .par_iter()
            .filter(|b| !b.lens.is_empty())
            .map_init(
                || {
                    let level = libdeflater::CompressionLvl::new(1).expect("libdeflate level 1");
                    (libdeflater::Compressor::new(level), Vec::new())
                },
                |(c, enc), block| {
                    let _span = crate::profile::span(crate::profile::Stage::Spill);
                    block.encode(key_len, codec, enc);
                    let mut out = vec![0u8; c.deflate_compress_bound(enc.len())];
                    let n = c
                        .deflate_compress(enc, &mut out)
                        .expect("the bound holds the compressed block");
                    out.truncate(n);
                    (enc.len(), out, &block.keys[..key_len])
                },
            )
            .collect();
        let io = |e| Error::io(&self.path, e);
        for (enc_len, c, first) in &compressed {
            self.index.extend_from_slice(first);
            self.index.extend_from_slice(&self.written.to_le_bytes());
            self.written += 8 + c.len() as u64;
            self.w
                .write_all(&(*enc_len as u32).to_le_bytes())
                .map_err(io)?;
            self.w
                .write_all(&(c.len() as u32).to_le_bytes())
                .map_err(io)?;
            self.w.write_all(c).map_err(io)?;
        }
        drop(compressed);
        self.blocks.clear();
        self.blocks.push(RawBlock::default());
        Ok(())
    }

    /// Writes the last blocks and the block index.
    fn finish(mut self) -> Result<()> {
        self.write_blocks()?;
        let io = |e| Error::io(&self.path, e);
        self.w.write_all(&self.index).map_err(io)?;
        self.w.write_all(&self.written.to_le_bytes()).map_err(io)?;
        self.w.write_all(MAGIC).map_err(io)?;
        self.w.flush().map_err(io)
    }
}

/// Most run files merged at once: what this process may open (its soft `RLIMIT_NOFILE`, raised
/// to the hard limit when it can be), less 256 for everything else, and at most 4,096; at
/// least 64. A whole genome's segments (30x: about 1,500 of 262,144 pairs) merge in one pass
/// under a usual limit, without a second copy of the records.
pub fn fan_in() -> usize {
    open_files().clamp(64, 4_096)
}

/// Files this process may have open for merges: its soft `RLIMIT_NOFILE`, raised to the hard
/// limit when it can be, less 256 for everything else.
pub fn open_files() -> usize {
    static OPEN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *OPEN.get_or_init(|| {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut lim = getrlimit(Resource::Nofile);
        if lim.current < lim.maximum {
            let raised = rustix::process::Rlimit {
                current: lim.maximum,
                maximum: lim.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                lim = raised;
            }
        }
        let soft = lim.current.unwrap_or(1 << 20);
        soft.saturating_sub(256) as usize
    })
}

/// Merges run files (as written by a [`Sorter`] with `codec`; keys unique across them) in key
/// order. Groups of [`fan_in`] are first merged into runs in `scratch` (named after `tag`)
/// when there are more; the given files are left as they are.
pub fn merge_runs<'c, K: Key>(
    runs: Vec<PathBuf>,
    scratch: &Path,
    tag: &str,
    codec: &'c dyn PayloadCodec,
) -> Result<Merge<'c, K>> {
    let runs = compact::<K>(runs, scratch, tag, codec)?;
    open_merge(&runs, codec, Vec::new(), Vec::new())
}

/// Merges groups of runs until at most [`fan_in`] are left. Intermediate runs it wrote are
/// deleted once merged again (the last level stays in `scratch`); the caller's are not
/// touched.
fn compact<K: Key>(
    runs: Vec<PathBuf>,
    scratch: &Path,
    tag: &str,
    codec: &dyn PayloadCodec,
) -> Result<Vec<PathBuf>> {
    compact_with::<K>(runs, scratch, tag, codec, fan_in())
}

fn compact_with<K: Key>(
    mut runs: Vec<PathBuf>,
    scratch: &Path,
    tag: &str,
    codec: &dyn PayloadCodec,
    fan_in: usize,
) -> Result<Vec<PathBuf>> {
    let mut level = 0;
    let mut ours: Vec<PathBuf> = Vec::new();
    while runs.len() > fan_in {
        let mut next = Vec::new();
        for (g, group) in runs.chunks(fan_in).enumerate() {
            let path = scratch.join(format!("{tag}.merge{level}.{g:05}.run"));
            let mut w = RunWriter::create(&path, std::mem::size_of::<K>(), codec)?;
            let mut m: Merge<K> = open_merge(group, codec, Vec::new(), Vec::new())?;
            let mut buf = Vec::new();
            while let Some(k) = m.next_into(&mut buf)? {
                w.push(bytemuck::bytes_of(&k), &buf)?;
            }
            w.finish()?;
            next.push(path);
        }
        for p in ours.drain(..) {
            let _ = std::fs::remove_file(p);
        }
        ours = next.clone();
        runs = next;
        level += 1;
    }
    Ok(runs)
}

fn open_merge<'c, K: Key>(
    runs: &[PathBuf],
    codec: &'c dyn PayloadCodec,
    arena: Vec<u8>,
    entries: Vec<(K, u64, u32)>,
) -> Result<Merge<'c, K>> {
    let mut sources = Vec::with_capacity(runs.len());
    for p in runs {
        sources.push(RunReader::open(p, codec, None, None, BLOCK)?);
    }
    start_merge(sources, arena, entries)
}

/// Merges the items of `runs` (files written by a [`Sorter`] with `codec`, at most
/// [`fan_in`] of them: see [`compact_runs`]) whose keys are in `from..until` (`None`: no bound)
/// in key order. Each run is entered at the block its index says holds `from`, so a genome
/// range reads about its own share of every run.
pub fn merge_range<'c, K: Key>(
    runs: &[PathBuf],
    codec: &'c dyn PayloadCodec,
    from: Option<K>,
    until: Option<K>,
) -> Result<Merge<'c, K>> {
    let mut sources = Vec::with_capacity(runs.len());
    for p in runs {
        // A smaller read buffer: many ranges are merged at once, each over every run.
        sources.push(RunReader::open(p, codec, from, until, 16 << 10)?);
    }
    start_merge(sources, Vec::new(), Vec::new())
}

/// [`merge_runs`]'s first step alone: merges groups of runs into `scratch` until at most
/// [`fan_in`] are left, for [`merge_range`].
pub fn compact_runs<K: Key>(
    runs: Vec<PathBuf>,
    scratch: &Path,
    tag: &str,
    codec: &dyn PayloadCodec,
) -> Result<Vec<PathBuf>> {
    compact::<K>(runs, scratch, tag, codec)
}

fn start_merge<'c, K: Key>(
    sources: Vec<RunReader<'c, K>>,
    arena: Vec<u8>,
    entries: Vec<(K, u64, u32)>,
) -> Result<Merge<'c, K>> {
    let mut m = Merge {
        runs: sources,
        scratch: Scratch {
            inflate: libdeflater::Decompressor::new(),
            compressed: Vec::new(),
            enc: Vec::new(),
            bytes: Vec::new(),
        },
        arena,
        entries,
        next_entry: 0,
        heap: BinaryHeap::new(),
    };
    for i in 0..m.runs.len() {
        if let Some(k) = m.runs[i].next_key(&mut m.scratch)? {
            m.heap.push(std::cmp::Reverse((k, i)));
        }
    }
    Ok(m)
}

/// Buffers a merge's readers share (they decode one block at a time), so that thousands of
/// open runs hold only their decoded block each.
struct Scratch {
    inflate: libdeflater::Decompressor,
    compressed: Vec<u8>,
    enc: Vec<u8>,
    bytes: Vec<u8>,
}

struct RunReader<'c, K> {
    path: PathBuf,
    reader: BufReader<File>,
    /// Block bytes left before the index.
    remaining: u64,
    /// Items before `from` are skipped; the run ends at the first item at or past `until`.
    from: Option<K>,
    until: Option<K>,
    codec: &'c dyn PayloadCodec,
    /// The current block, decoded: keys, payload lengths, payloads end to end.
    keys: Vec<K>,
    lens: Vec<u32>,
    payloads: Vec<u8>,
    /// The next item of the block and its payload's offset.
    item: usize,
    at: usize,
    /// The payload of the item last returned by `next_key`.
    current: std::ops::Range<usize>,
}

fn damaged(path: &Path, what: &str) -> Error {
    Error::input(
        path,
        format!("sort run is damaged ({what}); run again with --restart"),
    )
}

impl<'c, K: Key> RunReader<'c, K> {
    fn damaged(&self, what: &str) -> Error {
        damaged(&self.path, what)
    }

    /// Opens the run at `path` at the block that holds its first item at or past `from` (its
    /// first block without `from`), reading through a buffer of `buffer` bytes.
    fn open(
        path: &Path,
        codec: &'c dyn PayloadCodec,
        from: Option<K>,
        until: Option<K>,
        buffer: usize,
    ) -> Result<RunReader<'c, K>> {
        use std::io::{Seek, SeekFrom};
        let io = |e| Error::io(path, e);
        let mut f = File::open(path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        let mut tail = [0u8; 16];
        if len < 16 {
            return Err(damaged(path, "no block index"));
        }
        f.seek(SeekFrom::Start(len - 16)).map_err(io)?;
        f.read_exact(&mut tail).map_err(io)?;
        let index_at = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        let entry = (std::mem::size_of::<K>() + 8) as u64;
        if &tail[8..] != MAGIC || index_at > len - 16 || (len - 16 - index_at) % entry != 0 {
            return Err(damaged(path, "no block index"));
        }
        let blocks = (len - 16 - index_at) / entry;
        // The last block whose first key is at or before `from`: binary search on the index.
        let mut start = 0;
        if let Some(from) = from {
            let mut buf = vec![0u8; entry as usize];
            let mut read_entry = |f: &mut File, i: u64| -> Result<(K, u64)> {
                f.seek(SeekFrom::Start(index_at + i * entry)).map_err(io)?;
                f.read_exact(&mut buf).map_err(io)?;
                let k = std::mem::size_of::<K>();
                let mut key = K::zeroed();
                bytemuck::bytes_of_mut(&mut key).copy_from_slice(&buf[..k]);
                let at = u64::from_le_bytes(buf[k..].try_into().expect("8 bytes"));
                Ok((key, at))
            };
            let (mut lo, mut hi) = (0, blocks);
            // Invariant: blocks before `lo` start at or before `from`, those from `hi` after.
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if read_entry(&mut f, mid)?.0 <= from {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if lo > 0 {
                start = read_entry(&mut f, lo - 1)?.1;
                if start > index_at {
                    return Err(damaged(path, "a block index entry points past the blocks"));
                }
            }
        }
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        Ok(RunReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(buffer, f),
            remaining: index_at - start,
            from,
            until,
            codec,
            keys: Vec::new(),
            lens: Vec::new(),
            payloads: Vec::new(),
            item: 0,
            at: 0,
            current: 0..0,
        })
    }

    /// Reads and decodes the next block; false at the end of the run.
    fn next_block(&mut self, s: &mut Scratch) -> Result<bool> {
        // The index says where the blocks end: anything short of that is a cut block.
        if self.remaining == 0 {
            return Ok(false);
        }
        let mut head = [0u8; 8];
        self.reader
            .read_exact(&mut head)
            .map_err(|e| Error::io(&self.path, e))?;
        let enc_len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(head[4..].try_into().expect("4 bytes")) as usize;
        self.remaining = self
            .remaining
            .checked_sub(8 + len as u64)
            .ok_or_else(|| self.damaged("a block runs into the index"))?;
        s.compressed.resize(len, 0);
        self.reader
            .read_exact(&mut s.compressed)
            .map_err(|e| Error::io(&self.path, e))?;
        s.enc.resize(enc_len, 0);
        let n = s
            .inflate
            .deflate_decompress(&s.compressed, &mut s.enc)
            .map_err(|_| self.damaged("a block does not inflate"))?;
        if n != enc_len {
            return Err(self.damaged("a block inflates to another length"));
        }
        let enc = &s.enc[..];
        let k = std::mem::size_of::<K>();
        let Some(items) = enc.get(..4) else {
            return Err(self.damaged("a block is cut"));
        };
        let items = u32::from_le_bytes(items.try_into().expect("4 bytes")) as usize;
        let lens_at = 4 + items * k;
        let payloads_at = lens_at + items * 4;
        if items == 0 || enc.len() < payloads_at {
            return Err(self.damaged("a block is cut"));
        }
        s.bytes.clear();
        untranspose_into(&enc[4..lens_at], k, &mut s.bytes);
        self.keys.clear();
        self.keys.extend(s.bytes.chunks_exact(k).map(|b| {
            let mut key = K::zeroed();
            bytemuck::bytes_of_mut(&mut key).copy_from_slice(b);
            key
        }));
        s.bytes.clear();
        untranspose_into(&enc[lens_at..payloads_at], 4, &mut s.bytes);
        self.lens.clear();
        self.lens.extend(
            s.bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))),
        );
        self.payloads.clear();
        if let Err(what) = self
            .codec
            .decode(&enc[payloads_at..], &self.lens, &mut self.payloads)
        {
            return Err(self.damaged(what));
        }
        let total: u64 = self.lens.iter().map(|&l| u64::from(l)).sum();
        if total != self.payloads.len() as u64 {
            return Err(self.damaged("payloads of another length"));
        }
        self.item = 0;
        self.at = 0;
        Ok(true)
    }

    /// Steps to the next item: its key (its payload is then [`RunReader::payload`]); `None` at
    /// the end of the run.
    fn next_key(&mut self, s: &mut Scratch) -> Result<Option<K>> {
        loop {
            if self.item == self.keys.len() && !self.next_block(s)? {
                return Ok(None);
            }
            let key = self.keys[self.item];
            let len = self.lens[self.item] as usize;
            self.current = self.at..self.at + len;
            self.item += 1;
            self.at += len;
            if self.until.is_some_and(|u| key >= u) {
                // Past the range: nothing more from this run.
                self.remaining = 0;
                self.item = self.keys.len();
                return Ok(None);
            }
            if self.from.is_some_and(|f| key < f) {
                continue;
            }
            return Ok(Some(key));
        }
    }

    fn payload(&self) -> &[u8] {
        &self.payloads[self.current.clone()]
    }
}

/// The merged stream of a [`Sorter`].
pub struct Merge<'c, K: Key> {
    runs: Vec<RunReader<'c, K>>,
    scratch: Scratch,
    arena: Vec<u8>,
    entries: Vec<(K, u64, u32)>,
    next_entry: usize,
    heap: BinaryHeap<std::cmp::Reverse<(K, usize)>>,
}

impl<K: Key> Merge<'_, K> {
    /// The next item in key order: its key, and its payload copied into `out`.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Result<Option<K>> {
        let mem = self.entries.get(self.next_entry).map(|e| e.0);
        let run = self.heap.peek().map(|r| r.0.0);
        let take_mem = match (mem, run) {
            (None, None) => return Ok(None),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a < b,
        };
        out.clear();
        if take_mem {
            let (k, off, len) = self.entries[self.next_entry];
            self.next_entry += 1;
            out.extend_from_slice(&self.arena[off as usize..off as usize + len as usize]);
            return Ok(Some(k));
        }
        let std::cmp::Reverse((k, i)) = self.heap.pop().expect("peeked");
        out.extend_from_slice(self.runs[i].payload());
        if let Some(next) = self.runs[i].next_key(&mut self.scratch)? {
            self.heap.push(std::cmp::Reverse((next, i)));
        }
        Ok(Some(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Item = ([u64; 2], Vec<u8>);

    fn sorted(limit: usize, items: &[Item]) -> (Vec<Item>, usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut s: Sorter<[u64; 2]> = Sorter::new(dir.path(), "t", limit);
        for (k, p) in items {
            s.push(*k, p).unwrap();
        }
        let runs = s.runs();
        let mut m = s.finish().unwrap();
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(k) = m.next_into(&mut buf).unwrap() {
            out.push((k, buf.clone()));
        }
        (out, runs)
    }

    #[test]
    fn spilled_and_in_memory_sorts_agree() {
        let mut rng = fastrand::Rng::with_seed(7);
        let items: Vec<([u64; 2], Vec<u8>)> = (0..20_000u64)
            .map(|i| {
                let x = rng.u64(..);
                let len = (x % 50) as usize;
                ([x % 1000, i], vec![(i % 251) as u8; len])
            })
            .collect();
        let (a, runs_a) = sorted(1 << 30, &items);
        let (b, runs_b) = sorted(1 << 16, &items);
        assert_eq!(runs_a, 0);
        assert!(runs_b > 5, "{runs_b}");
        assert_eq!(a.len(), items.len());
        assert_eq!(a, b);
        let mut want = items.clone();
        want.sort();
        assert_eq!(a, want);
        assert_eq!(sorted(1 << 16, &[]).0, vec![]);
    }

    #[test]
    fn checkpointed_runs_merge_in_groups_to_the_same_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s: Sorter<[u64; 2]> = Sorter::new(dir.path(), "t", 1 << 30);
        let mut runs = Vec::new();
        let mut want = Vec::new();
        // 300 checkpoints of 7 items each: more runs than a fan-in of 128, so they merge in
        // groups.
        for c in 0..300u64 {
            for i in 0..7u64 {
                let key = [(c * 7919 + i * 104_729) % 1000, c * 7 + i];
                let payload = vec![(c % 251) as u8; (i % 4) as usize];
                s.push(key, &payload).unwrap();
                want.push((key, payload));
            }
            runs.extend(s.checkpoint().unwrap());
        }
        assert_eq!(runs.len(), 300);
        assert!(s.checkpoint().unwrap().is_empty());
        want.sort();
        let scratch = tempfile::tempdir().unwrap();
        let grouped =
            compact_with::<[u64; 2]>(runs.clone(), scratch.path(), "m", &Opaque, 128).unwrap();
        assert_eq!(grouped.len(), 3);
        let mut m: Merge<[u64; 2]> = open_merge(&grouped, &Opaque, Vec::new(), Vec::new()).unwrap();
        let mut got = Vec::new();
        let mut buf = Vec::new();
        while let Some(k) = m.next_into(&mut buf).unwrap() {
            got.push((k, buf.clone()));
        }
        assert_eq!(got, want);
        assert!(runs.iter().all(|p| p.is_file()), "the given runs are kept");
    }

    #[test]
    fn ranges_of_runs_cover_each_item_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s: Sorter<[u64; 2]> = Sorter::new(dir.path(), "t", 1 << 20);
        let mut rng = fastrand::Rng::with_seed(11);
        let mut want = Vec::new();
        let mut runs = Vec::new();
        for i in 0..60_000u64 {
            let key = [rng.u64(..100_000), i];
            let payload = vec![(i % 251) as u8; rng.usize(..120)];
            s.push(key, &payload).unwrap();
            want.push((key, payload));
            if i % 20_000 == 19_999 {
                runs.extend(s.checkpoint().unwrap());
            }
        }
        want.sort();
        assert!(runs.len() >= 3, "{}", runs.len());
        let read = |m: &mut Merge<[u64; 2]>| {
            let (mut got, mut buf) = (Vec::new(), Vec::new());
            while let Some(k) = m.next_into(&mut buf).unwrap() {
                got.push((k, buf.clone()));
            }
            got
        };
        // Cuts inside blocks, at keys that occur, before the first and past the last item.
        let mut cuts: Vec<[u64; 2]> = vec![[0, 0], [1, 0], want[777].0, [50_000, 0], [99_999, 5]];
        cuts.extend((1..40).map(|c| [c * 2_503, 0]));
        cuts.push([100_000, 0]);
        cuts.sort();
        cuts.dedup();
        let mut got = read(&mut merge_range(&runs, &Opaque, None, Some(cuts[0])).unwrap());
        for w in cuts.windows(2) {
            let part = read(&mut merge_range(&runs, &Opaque, Some(w[0]), Some(w[1])).unwrap());
            assert!(part.iter().all(|(k, _)| *k >= w[0] && *k < w[1]));
            got.extend(part);
        }
        got.extend(read(
            &mut merge_range(&runs, &Opaque, cuts.last().copied(), None).unwrap(),
        ));
        assert_eq!(got, want);
        // A run cut short is refused, not read as shorter.
        let bytes = std::fs::read(&runs[0]).unwrap();
        std::fs::write(&runs[0], &bytes[..bytes.len() - 5]).unwrap();
        let err = merge_range::<[u64; 2]>(&runs, &Opaque, None, None)
            .err()
            .unwrap();
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}
