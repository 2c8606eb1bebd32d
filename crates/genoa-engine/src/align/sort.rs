//! External sort with bounded memory: items (a fixed-size key and a byte payload) are kept in
//! one arena until it reaches the memory limit, then sorted and written to a temporary file
//! (a run); [`Sorter::finish`] merges the runs and what is left in memory, in key order.
//!
//! Keys must be unique (genoa's carry the pair's input index), so the merged order is total
//! and does not depend on where the runs were cut — the same bytes come out whatever the
//! memory limit, batch size or thread count.
//!
//! Run file: blocks of items, each block `u32` raw length, `u32` compressed length, the items
//! raw-deflated (libdeflate level 1, the blocks of a spill compressed on all threads); an item
//! is `key` (its `Pod` bytes), `u32` payload length, payload, never split between blocks. So
//! spilled and checkpointed records take about the disk of the final BAM instead of 3–4 times
//! it. Runs outlive their sorter when taken with [`Sorter::checkpoint`]
//! (the resumable pipeline keeps them as checkpoints) and merge again with [`merge_runs`];
//! more than [`fan_in`] runs are first merged in groups, so a whole genome's runs never need
//! more open files than that.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};

/// A sort key: plain data, totally ordered.
pub trait Key: bytemuck::Pod + Ord + Send + Sync {}
impl<T: bytemuck::Pod + Ord + Send + Sync> Key for T {}

/// Sorts `(key, payload)` items within a memory limit, spilling sorted runs to `dir`.
pub struct Sorter<K: Key> {
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

impl<K: Key> Sorter<K> {
    /// A sorter holding at most about `limit` bytes in memory; run files go into `dir`, named
    /// after `tag`.
    pub fn new(dir: &Path, tag: &'static str, limit: usize) -> Self {
        Sorter {
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
        self.entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let path = self
            .dir
            .join(format!("{}.{:05}.run", self.tag, self.spilled));
        self.spilled += 1;
        let mut w = RunWriter::create(&path)?;
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
    pub fn finish(mut self) -> Result<Merge<K>> {
        self.entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let runs = std::mem::take(&mut self.runs);
        let runs = compact::<K>(runs, &self.dir, self.tag)?;
        open_merge(
            &runs,
            std::mem::take(&mut self.arena),
            std::mem::take(&mut self.entries),
        )
    }
}

/// Raw bytes per block of a run file.
const BLOCK: usize = 64 << 10;

/// Blocks compressed at once (in parallel) by a [`RunWriter`].
const BLOCKS_AT_ONCE: usize = 32;

/// Writes a run file: items into blocks, blocks compressed in parallel, in order.
struct RunWriter {
    path: PathBuf,
    w: BufWriter<File>,
    /// Raw blocks not written yet (the last one being filled).
    blocks: Vec<Vec<u8>>,
}

impl RunWriter {
    fn create(path: &Path) -> Result<RunWriter> {
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(RunWriter {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, f),
            blocks: vec![Vec::with_capacity(BLOCK)],
        })
    }

    fn push(&mut self, key: &[u8], payload: &[u8]) -> Result<()> {
        let need = key.len() + 4 + payload.len();
        let last = self.blocks.last_mut().expect("one block");
        if !last.is_empty() && last.len() + need > BLOCK {
            if self.blocks.len() >= BLOCKS_AT_ONCE {
                self.write_blocks()?;
            } else {
                self.blocks.push(Vec::with_capacity(BLOCK.max(need)));
            }
        }
        let last = self.blocks.last_mut().expect("one block");
        last.extend_from_slice(key);
        last.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        last.extend_from_slice(payload);
        Ok(())
    }

    /// Compresses and writes every block held (the last one included).
    fn write_blocks(&mut self) -> Result<()> {
        let compressed: Vec<Vec<u8>> = self
            .blocks
            .par_iter()
            .filter(|b| !b.is_empty())
            .map_init(
                || {
                    libdeflater::Compressor::new(
                        libdeflater::CompressionLvl::new(1).expect("libdeflate level 1"),
                    )
                },
                |c, raw| {
                    let mut out = vec![0u8; c.deflate_compress_bound(raw.len())];
                    let n = c
                        .deflate_compress(raw, &mut out)
                        .expect("the bound holds the compressed block");
                    out.truncate(n);
                    out
                },
            )
            .collect();
        let io = |e| Error::io(&self.path, e);
        for (raw, c) in self
            .blocks
            .iter()
            .filter(|b| !b.is_empty())
            .zip(&compressed)
        {
            self.w
                .write_all(&(raw.len() as u32).to_le_bytes())
                .map_err(io)?;
            self.w
                .write_all(&(c.len() as u32).to_le_bytes())
                .map_err(io)?;
            self.w.write_all(c).map_err(io)?;
        }
        self.blocks.clear();
        self.blocks.push(Vec::with_capacity(BLOCK));
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.write_blocks()?;
        self.w.flush().map_err(|e| Error::io(&self.path, e))
    }
}

/// Most run files merged at once: what this process may open (its soft `RLIMIT_NOFILE`, raised
/// to the hard limit when it can be), less 256 for everything else, and at most 4,096; at
/// least 64. A whole genome's segments (30x: about 1,500 of 262,144 pairs) merge in one pass
/// under a usual limit, without a second copy of the records.
pub fn fan_in() -> usize {
    static FAN_IN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *FAN_IN.get_or_init(|| {
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
        (soft.saturating_sub(256) as usize).clamp(64, 4_096)
    })
}

/// Merges run files (as written by [`Sorter`]; keys unique across them) in key order. Groups
/// of [`fan_in`] are first merged into runs in `scratch` (named after `tag`) when there are
/// more; the given files are left as they are.
pub fn merge_runs<K: Key>(runs: Vec<PathBuf>, scratch: &Path, tag: &str) -> Result<Merge<K>> {
    let runs = compact::<K>(runs, scratch, tag)?;
    open_merge(&runs, Vec::new(), Vec::new())
}

/// Merges groups of runs until at most [`fan_in`] are left. Intermediate runs it wrote are
/// deleted once merged again (the last level stays in `scratch`); the caller's are not
/// touched.
fn compact<K: Key>(runs: Vec<PathBuf>, scratch: &Path, tag: &str) -> Result<Vec<PathBuf>> {
    compact_with::<K>(runs, scratch, tag, fan_in())
}

fn compact_with<K: Key>(
    mut runs: Vec<PathBuf>,
    scratch: &Path,
    tag: &str,
    fan_in: usize,
) -> Result<Vec<PathBuf>> {
    let mut level = 0;
    let mut ours: Vec<PathBuf> = Vec::new();
    while runs.len() > fan_in {
        let mut next = Vec::new();
        for (g, group) in runs.chunks(fan_in).enumerate() {
            let path = scratch.join(format!("{tag}.merge{level}.{g:05}.run"));
            let mut w = RunWriter::create(&path)?;
            let mut m: Merge<K> = open_merge(group, Vec::new(), Vec::new())?;
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

fn open_merge<K: Key>(
    runs: &[PathBuf],
    arena: Vec<u8>,
    entries: Vec<(K, u64, u32)>,
) -> Result<Merge<K>> {
    let mut sources = Vec::with_capacity(runs.len());
    for p in runs {
        let f = File::open(p).map_err(|e| Error::io(p, e))?;
        sources.push(RunReader {
            path: p.clone(),
            reader: BufReader::with_capacity(BLOCK, f),
            inflate: libdeflater::Decompressor::new(),
            compressed: Vec::new(),
            block: Vec::new(),
            at: 0,
            buf: Vec::new(),
            _k: std::marker::PhantomData,
        });
    }
    let mut m = Merge {
        runs: sources,
        arena,
        entries,
        next_entry: 0,
        heap: BinaryHeap::new(),
    };
    for i in 0..m.runs.len() {
        if let Some(k) = m.runs[i].next_key()? {
            m.heap.push(std::cmp::Reverse((k, i)));
        }
    }
    Ok(m)
}

struct RunReader<K> {
    path: PathBuf,
    reader: BufReader<File>,
    inflate: libdeflater::Decompressor,
    compressed: Vec<u8>,
    /// The current block, inflated, and the offset of its next item.
    block: Vec<u8>,
    at: usize,
    buf: Vec<u8>,
    _k: std::marker::PhantomData<K>,
}

impl<K: Key> RunReader<K> {
    fn damaged(&self, what: &str) -> Error {
        Error::input(
            &self.path,
            format!("sort run is damaged ({what}); run again with --restart"),
        )
    }

    /// Reads and inflates the next block; false at the end of the run.
    fn next_block(&mut self) -> Result<bool> {
        use std::io::BufRead;
        // A clean end of the run is the only end: a cut block is an error.
        if self
            .reader
            .fill_buf()
            .map_err(|e| Error::io(&self.path, e))?
            .is_empty()
        {
            return Ok(false);
        }
        let mut head = [0u8; 8];
        self.reader
            .read_exact(&mut head)
            .map_err(|e| Error::io(&self.path, e))?;
        let raw = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(head[4..].try_into().expect("4 bytes")) as usize;
        self.compressed.resize(len, 0);
        self.reader
            .read_exact(&mut self.compressed)
            .map_err(|e| Error::io(&self.path, e))?;
        self.block.resize(raw, 0);
        let n = self
            .inflate
            .deflate_decompress(&self.compressed, &mut self.block)
            .map_err(|_| self.damaged("a block does not inflate"))?;
        if n != raw {
            return Err(self.damaged("a block inflates to another length"));
        }
        self.at = 0;
        Ok(true)
    }

    /// Reads the next item's key and payload (into `buf`); `None` at the end of the run.
    fn next_key(&mut self) -> Result<Option<K>> {
        if self.at == self.block.len() && !self.next_block()? {
            return Ok(None);
        }
        let mut key = K::zeroed();
        let k = std::mem::size_of::<K>();
        let rest = &self.block[self.at..];
        if rest.len() < k + 4 {
            return Err(self.damaged("an item is cut"));
        }
        bytemuck::bytes_of_mut(&mut key).copy_from_slice(&rest[..k]);
        let len = u32::from_le_bytes(rest[k..k + 4].try_into().expect("4 bytes")) as usize;
        if rest.len() < k + 4 + len {
            return Err(self.damaged("an item is cut"));
        }
        self.buf.clear();
        self.buf.extend_from_slice(&rest[k + 4..k + 4 + len]);
        self.at += k + 4 + len;
        Ok(Some(key))
    }
}

/// The merged stream of a [`Sorter`].
pub struct Merge<K: Key> {
    runs: Vec<RunReader<K>>,
    arena: Vec<u8>,
    entries: Vec<(K, u64, u32)>,
    next_entry: usize,
    heap: BinaryHeap<std::cmp::Reverse<(K, usize)>>,
}

impl<K: Key> Merge<K> {
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
        out.extend_from_slice(&self.runs[i].buf);
        if let Some(next) = self.runs[i].next_key()? {
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
        let grouped = compact_with::<[u64; 2]>(runs.clone(), scratch.path(), "m", 128).unwrap();
        assert_eq!(grouped.len(), 3);
        let mut m: Merge<[u64; 2]> = open_merge(&grouped, Vec::new(), Vec::new()).unwrap();
        let mut got = Vec::new();
        let mut buf = Vec::new();
        while let Some(k) = m.next_into(&mut buf).unwrap() {
            got.push((k, buf.clone()));
        }
        assert_eq!(got, want);
        assert!(runs.iter().all(|p| p.is_file()), "the given runs are kept");
    }
}
