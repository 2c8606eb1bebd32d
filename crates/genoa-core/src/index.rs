//! Reference index: the minimizers of every contig, saved beside the FASTA (`REF.genoa.idx`)
//! and memory-mapped on load.
//!
//! Why minimizers rather than an FM-index: `docs/decisions/0001-minimizer-index.md`.
//!
//! # What a minimizer is here
//! Every k-mer without `N` is hashed in its canonical orientation (the smaller of its 2-bit
//! encoding and that of its reverse complement; k is odd so the two never tie) with minimap2's
//! invertible 64-bit hash, masked to 2k bits, so distinct k-mers never collide. In each window
//! of `w` consecutive k-mers the one with the smallest hash is the window's minimizer (on
//! equal hashes the rightmost); a k-mer is kept once however many windows choose it. An `N`
//! ends all windows. Each minimizer records its hash, the position of its first base and
//! whether the canonical k-mer is the reverse complement of the sequence there.
//!
//! # File layout (little endian, every section 8-byte aligned)
//! ```text
//! header   16 × u64: magic "GENOAIX1", version, k, w, bucket_bits, max_occ, contigs,
//!          keys, positions, meta_bytes, total_len, 5 × 0
//! meta     per contig: u32 name length, name, u64 length, 32 bytes MD5 (hex); padded to 8
//! dir      2^bucket_bits + 1 × u32: first key whose top bucket_bits bits are ≥ the bucket
//! keys     keys × u64: distinct minimizer hashes, ascending
//! starts   keys + 1 × u32: positions of key i are positions[starts[i]..starts[i+1]]
//! pos      positions × u64: global position << 1 | reverse, ascending within a key
//! trailer  u64 magic "GENOAEND"
//! ```
//! Global positions count from the first base of the first contig, contigs concatenated in
//! FASTA order. The file's exact length follows from the header, so a truncated file is
//! refused; the contig table (names, lengths, MD5s) is compared with the FASTA's on load, so an
//! index of another reference is refused.
//!
//! Memory: 8 bytes per minimizer occurrence (~2/(w+1) per base) + 12 per distinct minimizer +
//! 4 per bucket (the README's scale section has the measured figures).
//!
//! # ALT contigs
//! Which contigs are ALT haplotypes is not in the file: as bwa reads `REF.alt` when it loads its
//! index, every index built or loaded here reads the `.alt` file beside the FASTA
//! ([`crate::io::alt::flags_beside`]) and adds the contigs named like ALT haplotypes
//! ([`ContigRole::of`]); [`Index::is_alt`] answers the aligner. Editing the `.alt` file needs
//! no new index.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::model::contigs::ContigRole;

/// K-mer length of the minimizers (odd, ≤ 31).
pub const K: usize = 21;
/// Window length: consecutive k-mers per window.
pub const W: usize = 11;

const MAGIC: u64 = u64::from_le_bytes(*b"GENOAIX1");
const END_MAGIC: u64 = u64::from_le_bytes(*b"GENOAEND");
const VERSION: u64 = 1;
const HEADER_WORDS: usize = 16;

/// Path of the index of `fasta`: `FASTA.genoa.idx`.
pub fn index_path(fasta: &Path) -> PathBuf {
    crate::io::with_suffix(fasta, ".genoa.idx")
}

/// minimap2's invertible integer hash (Thomas Wang's), restricted to `mask`.
#[inline]
pub fn hash64(key: u64, mask: u64) -> u64 {
    let mut key = (!key).wrapping_add(key << 21) & mask;
    key ^= key >> 24;
    key = (key.wrapping_add(key << 3)).wrapping_add(key << 8) & mask;
    key ^= key >> 14;
    key = (key.wrapping_add(key << 2)).wrapping_add(key << 4) & mask;
    key ^= key >> 28;
    key = key.wrapping_add(key << 31) & mask;
    key
}

/// One minimizer of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minimizer {
    pub hash: u64,
    /// 0-based position of the k-mer's first base.
    pub pos: u32,
    /// The canonical k-mer is the reverse complement of the sequence at `pos`.
    pub reverse: bool,
}

/// Reusable state of [`sketch`].
#[derive(Default)]
pub struct SketchScratch {
    /// Every k-mer's hash, position and strand, runs between `N`s one after another.
    hashes: Vec<u64>,
    starts: Vec<u32>,
    reverse: Vec<bool>,
    /// Where each run of k-mers between `N`s ends in them.
    runs: Vec<usize>,
}

/// Appends the (k, w) minimizers of `codes` (base codes, `N` = 4) to `out`, by position.
///
/// Two passes: every k-mer's canonical hash (a tight loop, no window logic), then each window
/// of `w` k-mers (within a run between `N`s) chooses its minimum, the rightmost on ties: a
/// new k-mer at most equal to the minimum becomes it; when the minimum leaves the window the
/// window is scanned for the new one. A window choosing the k-mer the last one chose adds
/// nothing.
pub fn sketch(
    codes: &[u8],
    k: usize,
    w: usize,
    scratch: &mut SketchScratch,
    out: &mut Vec<Minimizer>,
) {
    debug_assert!(k % 2 == 1 && k <= 31 && w >= 1);
    let mask = (1u64 << (2 * k)) - 1;
    let shift = 2 * (k - 1) as u64;
    let SketchScratch {
        hashes,
        starts,
        reverse,
        runs,
    } = scratch;
    hashes.clear();
    starts.clear();
    reverse.clear();
    runs.clear();
    let (mut fwd, mut rev) = (0u64, 0u64);
    let mut valid = 0usize; // consecutive bases without N
    for (i, &b) in codes.iter().enumerate() {
        if b > 3 {
            if valid >= k {
                runs.push(hashes.len());
            }
            valid = 0;
            continue;
        }
        fwd = ((fwd << 2) | u64::from(b)) & mask;
        rev = (rev >> 2) | (u64::from(3 - b) << shift);
        valid += 1;
        if valid >= k {
            let r = rev < fwd;
            hashes.push(hash64(if r { rev } else { fwd }, mask));
            starts.push((i + 1 - k) as u32);
            reverse.push(r);
        }
    }
    if valid >= k {
        runs.push(hashes.len());
    }
    let mut last: Option<u32> = None;
    let mut from = 0;
    for &to in runs.iter() {
        let h = &hashes[from..to];
        let base = from;
        from = to;
        if h.len() < w {
            continue;
        }
        let mut emit = |m: usize| {
            let pos = starts[base + m];
            if last != Some(pos) {
                out.push(Minimizer {
                    hash: h[m],
                    pos,
                    reverse: reverse[base + m],
                });
                last = Some(pos);
            }
        };
        let rightmost_min = |lo: usize, hi: usize| {
            let mut m = lo;
            for t in lo + 1..hi {
                if h[t] <= h[m] {
                    m = t;
                }
            }
            m
        };
        let mut m = rightmost_min(0, w);
        emit(m);
        for j in w..h.len() {
            if m + w <= j {
                m = rightmost_min(j + 1 - w, j + 1);
            } else if h[j] <= h[m] {
                m = j;
            }
            emit(m);
        }
    }
}

/// Name, length and MD5 of one indexed contig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContigMeta {
    pub name: String,
    pub len: u64,
    pub md5: String,
}

enum Storage {
    Owned(Vec<u64>),
    Mapped(memmap2::Mmap),
}

/// A loaded (or freshly built) index. Look-ups borrow the mapped file directly.
pub struct Index {
    storage: Storage,
    path: Option<PathBuf>,
    k: usize,
    w: usize,
    bucket_bits: u32,
    max_occ: u32,
    contigs: Vec<ContigMeta>,
    /// Per contig, whether it is an ALT haplotype (see the module header).
    alt: Vec<bool>,
    /// Global `[start, end)` of each run of consecutive ALT contigs.
    alt_spans: Vec<(u64, u64)>,
    /// Global start of each contig, and the total length last.
    offsets: Vec<u64>,
    dir: (usize, usize),
    keys: (usize, usize),
    starts: (usize, usize),
    positions: (usize, usize),
}

fn pad8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// Section byte ranges of a file with this header, and its exact length.
#[allow(clippy::type_complexity)]
fn layout(
    bucket_bits: u32,
    meta_bytes: usize,
    keys: usize,
    positions: usize,
) -> ([(usize, usize); 4], usize) {
    let mut at = HEADER_WORDS * 8 + pad8(meta_bytes);
    let mut section = |bytes: usize| {
        let r = (at, at + bytes);
        at += pad8(bytes);
        r
    };
    let dir = section(((1usize << bucket_bits) + 1) * 4);
    let k = section(keys * 8);
    let s = section((keys + 1) * 4);
    let p = section(positions * 8);
    ([dir, k, s, p], at + 8)
}

/// Where an index image goes: memory (8-byte words) or a file.
enum Sink {
    Memory {
        words: Vec<u64>,
        partial: Vec<u8>,
    },
    File {
        file: std::io::BufWriter<File>,
        path: PathBuf,
    },
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Memory { words, partial } => {
                partial.extend_from_slice(bytes);
                let whole = partial.len() / 8 * 8;
                words.extend(
                    partial[..whole]
                        .chunks_exact(8)
                        .map(|c| u64::from_le_bytes(c.try_into().unwrap())),
                );
                partial.drain(..whole);
                Ok(())
            }
            Sink::File { file, path } => file.write_all(bytes).map_err(|e| Error::io(&*path, e)),
        }
    }

    /// Writes `n` values as little-endian bytes, in pieces, then pads the section to 8 bytes.
    fn section<T: bytemuck::Pod>(
        &mut self,
        n: usize,
        values: impl Iterator<Item = T>,
    ) -> Result<()> {
        let mut buf: Vec<T> = Vec::with_capacity(1 << 16);
        for v in values {
            buf.push(v);
            if buf.len() == buf.capacity() {
                self.write(bytemuck::cast_slice(&buf))?;
                buf.clear();
            }
        }
        self.write(bytemuck::cast_slice(&buf))?;
        let bytes = n * std::mem::size_of::<T>();
        self.write(&vec![0u8; pad8(bytes) - bytes])
    }
}

/// Writes the index image of `reference` (see the module header) to `sink`. Memory at its peak:
/// the sorted minimizers (16 bytes each) and the bucket directory; keys, starts and positions
/// are streamed from the sorted minimizers.
fn write_image(reference: &Reference, sink: &mut Sink) -> Result<()> {
    let (k, w) = (K, W);
    let mut offsets = Vec::with_capacity(reference.contigs.len() + 1);
    let mut total = 0u64;
    for c in &reference.contigs {
        offsets.push(total);
        total += c.len();
    }
    offsets.push(total);
    if total >= 1 << 62 {
        return Err(Error::input(&reference.path, "reference too long to index"));
    }
    // (hash, global position << 1 | reverse) of every minimizer: each contig's in parallel,
    // then moved into one vector of the exact size, each contig's freed as it is moved (a
    // parallel collect of unknown length held two copies: 19.1 GB at 3 Gb).
    let per_contig: Vec<Vec<(u64, u64)>> = reference
        .contigs
        .par_iter()
        .zip(offsets.par_iter())
        .map(|(c, &off)| {
            let mut mins = Vec::new();
            sketch(&c.codes, k, w, &mut SketchScratch::default(), &mut mins);
            mins.into_iter()
                .map(|m| {
                    (
                        m.hash,
                        ((off + u64::from(m.pos)) << 1) | u64::from(m.reverse),
                    )
                })
                .collect()
        })
        .collect();
    let mut entries: Vec<(u64, u64)> = Vec::with_capacity(per_contig.iter().map(Vec::len).sum());
    for v in per_contig {
        entries.extend(v);
    }
    entries.par_sort_unstable();
    if entries.len() >= u32::MAX as usize {
        return Err(Error::input(
            &reference.path,
            format!(
                "{} minimizers: more than an index can hold (2^32)",
                entries.len()
            ),
        ));
    }
    // Distinct minimizers: (hash, first entry), in order.
    let distinct = || {
        entries
            .iter()
            .enumerate()
            .filter(|&(i, e)| i == 0 || entries[i - 1].0 != e.0)
            .map(|(i, e)| (e.0, i as u32))
    };
    // Occurrence cut-off: minimizers more frequent than 99.98 % of distinct ones are repeats
    // (minimap2's -f 0.0002), but never below 100. Counts from a histogram (capped).
    const CAP: usize = 1 << 16;
    let mut histogram = vec![0u64; CAP + 1];
    let mut n_keys = 0usize;
    let mut prev: Option<u32> = None;
    for (_, start) in distinct() {
        if let Some(p) = prev {
            histogram[((start - p) as usize).min(CAP)] += 1;
        }
        prev = Some(start);
        n_keys += 1;
    }
    if let Some(p) = prev {
        histogram[(entries.len() - p as usize).min(CAP)] += 1;
    }
    let nth = (n_keys as f64 * 0.9998) as u64;
    let mut seen = 0u64;
    let mut max_occ = CAP as u32;
    for (count, &n) in histogram.iter().enumerate() {
        seen += n;
        if seen > nth {
            max_occ = count as u32;
            break;
        }
    }
    let max_occ = max_occ.max(100);
    let hash_bits = 2 * k as u32;
    let bucket_bits = (usize::BITS - n_keys.max(1).leading_zeros())
        .saturating_sub(2)
        .clamp(1, hash_bits);
    let mut dir = vec![0u32; (1 << bucket_bits) + 1];
    for (h, _) in distinct() {
        dir[(h >> (hash_bits - bucket_bits)) as usize + 1] += 1;
    }
    for b in 1..dir.len() {
        dir[b] += dir[b - 1];
    }
    let mut meta = Vec::new();
    for c in &reference.contigs {
        meta.extend_from_slice(&(c.name.len() as u32).to_le_bytes());
        meta.extend_from_slice(c.name.as_bytes());
        meta.extend_from_slice(&c.len().to_le_bytes());
        let mut md5 = [b'0'; 32];
        md5[..c.md5.len().min(32)].copy_from_slice(&c.md5.as_bytes()[..c.md5.len().min(32)]);
        meta.extend_from_slice(&md5);
    }
    let header: [u64; HEADER_WORDS] = [
        MAGIC,
        VERSION,
        k as u64,
        w as u64,
        u64::from(bucket_bits),
        u64::from(max_occ),
        reference.contigs.len() as u64,
        n_keys as u64,
        entries.len() as u64,
        meta.len() as u64,
        total,
        0,
        0,
        0,
        0,
        0,
    ];
    sink.write(bytemuck::cast_slice(&header))?;
    sink.section(meta.len(), meta.iter().copied())?;
    sink.section(dir.len(), dir.iter().copied())?;
    drop(dir);
    sink.section(n_keys, distinct().map(|(h, _)| h))?;
    sink.section(
        n_keys + 1,
        distinct()
            .map(|(_, s)| s)
            .chain(std::iter::once(entries.len() as u32)),
    )?;
    sink.section(entries.len(), entries.iter().map(|&(_, p)| p))?;
    sink.write(&END_MAGIC.to_le_bytes())
}

impl Index {
    /// Builds the index of `reference` in memory (minimizers of every contig, in parallel).
    pub fn build(reference: &Reference) -> Result<Index> {
        let mut sink = Sink::Memory {
            words: Vec::new(),
            partial: Vec::new(),
        };
        write_image(reference, &mut sink)?;
        let Sink::Memory { words, partial } = sink else {
            unreachable!("memory sink")
        };
        debug_assert!(partial.is_empty());
        Index::parse(Storage::Owned(words), None)?.with_alt_of(reference)
    }

    /// Builds the index of `reference` straight into the file `path` (under a temporary name,
    /// renamed when complete) without holding its image in memory, then maps it.
    pub fn build_to_file(reference: &Reference, path: &Path) -> Result<Index> {
        let pending = crate::io::atomic::Pending::new(path)?;
        let mut sink = Sink::File {
            file: std::io::BufWriter::with_capacity(1 << 22, pending.create()?),
            path: path.to_path_buf(),
        };
        write_image(reference, &mut sink)?;
        if let Sink::File { mut file, .. } = sink {
            file.flush().map_err(|e| Error::io(path, e))?;
        }
        pending.commit()?;
        Index::load(path, reference)
    }

    /// Memory-maps the index at `path` and checks it against `reference` (contig names,
    /// lengths and MD5s, in order).
    pub fn load(path: &Path, reference: &Reference) -> Result<Index> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the map is read-only; genoa never writes an index in place (it writes a
        // temporary file and renames it), so the mapped file does not change under us unless
        // another program truncates it, which the header/length checks cannot rule out but
        // which no genoa command does.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let index = Index::parse(Storage::Mapped(map), Some(path.to_path_buf()))?;
        index.check_reference(reference)?;
        index.with_alt_of(reference)
    }

    /// Sets which contigs are ALT haplotypes: those the `.alt` file beside `reference` lists
    /// and those named like one (see the module header).
    fn with_alt_of(mut self, reference: &Reference) -> Result<Index> {
        self.alt = crate::io::alt::roles(reference)?
            .into_iter()
            .map(|r| r == ContigRole::Alt)
            .collect();
        self.alt_spans.clear();
        for (c, _) in self.alt.iter().enumerate().filter(|(_, a)| **a) {
            let (start, end) = (self.offsets[c], self.offsets[c + 1]);
            match self.alt_spans.last_mut() {
                Some(last) if last.1 == start => last.1 = end,
                _ => self.alt_spans.push((start, end)),
            }
        }
        let n = self.alt.iter().filter(|&&a| a).count();
        if n > 0 {
            let file = crate::io::alt::beside(&reference.path);
            let from = if file.exists() {
                format!("listed in {} or named as such", file.display())
            } else {
                format!("by name; no {}", file.display())
            };
            tracing::info!(
                "{n} ALT contigs ({from}): MAPQ counts primary-assembly hits only, ALT hits go to XA"
            );
        }
        Ok(self)
    }

    /// The index beside `reference` if there is one, else one built in memory (logged).
    pub fn for_reference(reference: &Reference) -> Result<Index> {
        let path = index_path(&reference.path);
        if path.exists() {
            Index::load(&path, reference)
        } else {
            tracing::info!(
                "{} not found: building the index in memory (run `genoa index {}` once to save it)",
                path.display(),
                reference.path.display()
            );
            Index::build(reference)
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Owned(v) => bytemuck::cast_slice(v),
            Storage::Mapped(m) => m,
        }
    }

    fn parse(storage: Storage, path: Option<PathBuf>) -> Result<Index> {
        let shown = path
            .clone()
            .unwrap_or_else(|| PathBuf::from("(index in memory)"));
        let bad = |m: String| Error::input(&shown, m);
        let bytes: &[u8] = match &storage {
            Storage::Owned(v) => bytemuck::cast_slice(v),
            Storage::Mapped(m) => m,
        };
        if bytes.len() < HEADER_WORDS * 8 + 8 {
            return Err(bad(format!(
                "{} bytes: too short for a genoa index (truncated?)",
                bytes.len()
            )));
        }
        let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        if word(0) != MAGIC {
            return Err(bad("not a genoa index (bad magic)".into()));
        }
        if word(1) != VERSION {
            return Err(bad(format!(
                "index format version {} but this genoa reads version {VERSION}; rebuild it with `genoa index`",
                word(1)
            )));
        }
        let (k, w, bucket_bits, max_occ) = (word(2), word(3), word(4), word(5));
        let (n_contigs, n_keys, n_pos, meta_bytes, total) =
            (word(6), word(7), word(8), word(9), word(10));
        if !(k % 2 == 1 && k <= 31) || w == 0 || w > 255 || bucket_bits == 0 || bucket_bits > 2 * k
        {
            return Err(bad(format!(
                "corrupt header (k={k}, w={w}, bucket bits {bucket_bits})"
            )));
        }
        let too_big = |x: u64| x > bytes.len() as u64;
        if too_big(meta_bytes)
            || too_big(n_keys.saturating_mul(8))
            || too_big(n_pos.saturating_mul(8))
        {
            return Err(bad(format!(
                "header promises more data than the file's {} bytes (truncated?)",
                bytes.len()
            )));
        }
        let (sections, file_len) = layout(
            bucket_bits as u32,
            meta_bytes as usize,
            n_keys as usize,
            n_pos as usize,
        );
        if bytes.len() != file_len {
            return Err(bad(format!(
                "{} bytes but its header says {file_len} (truncated or damaged: rebuild it with `genoa index`)",
                bytes.len()
            )));
        }
        if word(file_len / 8 - 1) != END_MAGIC {
            return Err(bad(
                "end marker missing (damaged: rebuild it with `genoa index`)".into(),
            ));
        }
        // Contig table.
        let mut contigs = Vec::with_capacity(n_contigs as usize);
        let meta = &bytes[HEADER_WORDS * 8..HEADER_WORDS * 8 + meta_bytes as usize];
        let mut at = 0usize;
        let corrupt = || bad("corrupt contig table".to_string());
        for _ in 0..n_contigs {
            let take = |at: &mut usize, n: usize| -> Option<&[u8]> {
                let s = meta.get(*at..*at + n)?;
                *at += n;
                Some(s)
            };
            let nl = u32::from_le_bytes(take(&mut at, 4).ok_or_else(corrupt)?.try_into().unwrap());
            let name = String::from_utf8(take(&mut at, nl as usize).ok_or_else(corrupt)?.to_vec())
                .map_err(|_| corrupt())?;
            let len = u64::from_le_bytes(take(&mut at, 8).ok_or_else(corrupt)?.try_into().unwrap());
            let md5 = String::from_utf8(take(&mut at, 32).ok_or_else(corrupt)?.to_vec())
                .map_err(|_| corrupt())?;
            contigs.push(ContigMeta { name, len, md5 });
        }
        let mut offsets = Vec::with_capacity(contigs.len() + 1);
        let mut sum = 0u64;
        for c in &contigs {
            offsets.push(sum);
            sum += c.len;
        }
        offsets.push(sum);
        if sum != total {
            return Err(corrupt());
        }
        let index = Index {
            storage,
            path,
            k: k as usize,
            w: w as usize,
            bucket_bits: bucket_bits as u32,
            max_occ: max_occ as u32,
            alt: vec![false; contigs.len()],
            alt_spans: Vec::new(),
            contigs,
            offsets,
            dir: sections[0],
            keys: sections[1],
            starts: sections[2],
            positions: sections[3],
        };
        // Look-ups slice keys by the directory and positions by the starts: both must rise
        // from 0 to the table they index, or a damaged file would make a look-up panic.
        let rising = |t: &[u32], last: u64| {
            t.first() == Some(&0)
                && t.last().map(|&x| u64::from(x)) == Some(last)
                && t.windows(2).all(|w| w[0] <= w[1])
        };
        if !rising(index.dir(), n_keys) || !rising(index.starts(), n_pos) {
            return Err(bad(
                "corrupt tables (damaged: rebuild it with `genoa index`)".into(),
            ));
        }
        Ok(index)
    }

    fn section<T: bytemuck::Pod>(&self, r: (usize, usize)) -> &[T] {
        bytemuck::cast_slice(&self.bytes()[r.0..r.1])
    }
    fn dir(&self) -> &[u32] {
        self.section(self.dir)
    }
    fn keys(&self) -> &[u64] {
        self.section(self.keys)
    }
    fn starts(&self) -> &[u32] {
        self.section(self.starts)
    }
    fn positions(&self) -> &[u64] {
        self.section(self.positions)
    }

    /// Refuses a reference whose contigs differ from the indexed ones.
    pub fn check_reference(&self, reference: &Reference) -> Result<()> {
        let shown = self
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from("(index in memory)"));
        let rebuild = format!(
            "the index was built from another reference; rebuild it with `genoa index {}`",
            reference.path.display()
        );
        if self.contigs.len() != reference.contigs.len() {
            return Err(Error::input(
                &shown,
                format!(
                    "{} contigs in the index but {} in {}: {rebuild}",
                    self.contigs.len(),
                    reference.contigs.len(),
                    reference.path.display()
                ),
            ));
        }
        for (i, (m, c)) in self.contigs.iter().zip(&reference.contigs).enumerate() {
            let what = if m.name != c.name {
                format!("name {} in the index but {}", m.name, c.name)
            } else if m.len != c.len() {
                format!("length {} in the index but {}", m.len, c.len())
            } else if m.md5 != c.md5 {
                format!("MD5 {} in the index but {}", m.md5, c.md5)
            } else {
                continue;
            };
            return Err(Error::input(
                &shown,
                format!(
                    "contig {} ({}): {what} in {}: {rebuild}",
                    i + 1,
                    c.name,
                    reference.path.display()
                ),
            ));
        }
        Ok(())
    }

    pub fn k(&self) -> usize {
        self.k
    }
    pub fn w(&self) -> usize {
        self.w
    }
    /// Minimizers with more occurrences are repeats, skipped when seeding.
    pub fn max_occ(&self) -> u32 {
        self.max_occ
    }
    pub fn contigs(&self) -> &[ContigMeta] {
        &self.contigs
    }
    /// Whether contig `c` is an ALT haplotype (see the module header).
    #[inline]
    pub fn is_alt(&self, c: usize) -> bool {
        self.alt[c]
    }
    /// Size of the index in bytes (what the map or the owned image holds).
    pub fn size_bytes(&self) -> usize {
        self.bytes().len()
    }
    /// Distinct minimizers and their occurrences.
    pub fn counts(&self) -> (usize, usize) {
        (self.keys().len(), self.positions().len())
    }

    /// Occurrences of many minimizers (global position << 1 | reverse, ascending), as ranges of
    /// [`Index::positions_of`], empty for a hash not in the index. The
    /// look-ups go stage by stage (directory, keys, starts) over all of them, so the memory
    /// loads of one stage are independent of each other and overlap instead of queueing
    /// (each stage is a likely cache miss on a large index).
    pub fn hit_ranges(&self, hashes: &[u64], out: &mut Vec<(u32, u32)>) {
        let (dir, keys, starts) = (self.dir(), self.keys(), self.starts());
        let shift = 2 * self.k as u32 - self.bucket_bits;
        out.clear();
        out.extend(hashes.iter().map(|&h| {
            let b = (h >> shift) as usize;
            (dir[b], dir[b + 1])
        }));
        for (r, &h) in out.iter_mut().zip(hashes) {
            let (lo, hi) = (r.0 as usize, r.1 as usize);
            *r = match keys[lo..hi].iter().position(|&x| x >= h) {
                Some(i) if keys[lo + i] == h => ((lo + i) as u32, 1),
                _ => (0, 0),
            };
        }
        for r in out.iter_mut() {
            if r.1 == 1 {
                let i = r.0 as usize;
                *r = (starts[i], starts[i + 1]);
            }
        }
    }

    /// Occurrences in a range from [`Index::hit_ranges`].
    #[inline]
    pub fn positions_of(&self, range: (u32, u32)) -> &[u64] {
        &self.positions()[range.0 as usize..range.1 as usize]
    }

    /// Occurrences in a range from [`Index::hit_ranges`] that lie on the primary assembly, not
    /// on ALT contigs: what the repeat limit [`Index::max_occ`] is held against, so that ALT
    /// copies of a region do not make its minimizers repeats.
    pub fn primary_occurrences(&self, range: (u32, u32)) -> usize {
        let hits = self.positions_of(range);
        let mut n = hits.len();
        for &(start, end) in &self.alt_spans {
            let from = hits.partition_point(|&h| h >> 1 < start);
            n -= hits[from..].partition_point(|&h| h >> 1 < end);
        }
        n
    }

    /// Contig index and contig-local position of a global position.
    #[inline]
    pub fn locate(&self, global: u64) -> (usize, u64) {
        let c = self.offsets.partition_point(|&o| o <= global) - 1;
        (c, global - self.offsets[c])
    }

    /// Global position of the first base of contig `c`.
    pub fn contig_start(&self, c: usize) -> u64 {
        self.offsets[c]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{random_bases, reverse_complement_into};
    use crate::io::reference::Contig;

    /// The windowed minimum by brute force: the definition in the module header.
    fn sketch_naive(codes: &[u8], k: usize, w: usize) -> Vec<Minimizer> {
        let mask = (1u64 << (2 * k)) - 1;
        let mut kmers: Vec<Option<(u64, bool)>> = Vec::new();
        if codes.len() < k {
            return Vec::new();
        }
        for s in 0..=codes.len() - k {
            let win = &codes[s..s + k];
            if win.iter().any(|&b| b > 3) {
                kmers.push(None);
                continue;
            }
            let f = win.iter().fold(0u64, |a, &b| (a << 2) | u64::from(b));
            let r = win
                .iter()
                .rev()
                .fold(0u64, |a, &b| (a << 2) | u64::from(3 - b));
            let (c, rev) = if r < f { (r, true) } else { (f, false) };
            kmers.push(Some((hash64(c, mask), rev)));
        }
        let mut out: Vec<Minimizer> = Vec::new();
        if kmers.len() < w {
            return out;
        }
        for s in 0..=kmers.len() - w {
            let win = &kmers[s..s + w];
            if win.iter().any(Option::is_none) {
                continue;
            }
            let mut best = 0;
            for (j, x) in win.iter().enumerate() {
                if x.unwrap().0 <= win[best].unwrap().0 {
                    best = j;
                }
            }
            let (hash, reverse) = win[best].unwrap();
            let pos = (s + best) as u32;
            if out.last().map(|m| m.pos) != Some(pos) {
                out.push(Minimizer { hash, pos, reverse });
            }
        }
        out
    }

    #[test]
    fn sketch_matches_the_definition() {
        for (n, seed) in [
            (0, 1),
            (20, 2),
            (21, 3),
            (31, 4),
            (32, 5),
            (500, 6),
            (2000, 7),
        ] {
            let mut s = random_bases(&mut fastrand::Rng::with_seed(seed), n);
            if n > 300 {
                s[100] = 4; // an N
                s[150..160].fill(2); // low complexity: equal hashes in a window
                s[200..230].fill(4); // a run of N
                s[231] = 4; // a run of one base between Ns
                s[260..300].iter_mut().step_by(2).for_each(|b| *b = 1); // CACA…-like
                s[n - 1] = 4; // ends with N
            }
            for (k, w) in [(21, 11), (15, 5), (5, 1), (21, 3)] {
                let mut got = Vec::new();
                sketch(&s, k, w, &mut SketchScratch::default(), &mut got);
                assert_eq!(got, sketch_naive(&s, k, w), "n={n} k={k} w={w}");
            }
        }
    }

    #[test]
    fn canonical_hashes_match_on_both_strands() {
        let s = random_bases(&mut fastrand::Rng::with_seed(9), 300);
        let mut rc = Vec::new();
        reverse_complement_into(&s, &mut rc);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut sc = SketchScratch::default();
        sketch(&s, K, W, &mut sc, &mut a);
        sketch(&rc, K, W, &mut sc, &mut b);
        let ha: std::collections::BTreeSet<u64> = a.iter().map(|m| m.hash).collect();
        let hb: std::collections::BTreeSet<u64> = b.iter().map(|m| m.hash).collect();
        // Random sequence: no equal hashes, so both strands choose the same k-mers.
        assert_eq!(ha, hb);
        for m in &a {
            let twin = b.iter().find(|x| x.hash == m.hash).unwrap();
            assert_eq!(twin.pos as usize, 300 - K - m.pos as usize);
            assert_ne!(twin.reverse, m.reverse);
        }
    }

    fn reference(contigs: &[(&str, Vec<u8>)]) -> Reference {
        Reference {
            path: PathBuf::from("test.fa"),
            contigs: contigs
                .iter()
                .map(|(n, c)| Contig {
                    name: n.to_string(),
                    md5: format!("{:032x}", c.len() * 7919),
                    refget: String::new(),
                    codes: c.clone(),
                })
                .collect(),
        }
    }

    /// Occurrences of one minimizer.
    fn hits(index: &Index, hash: u64) -> Vec<u64> {
        let mut r = Vec::new();
        index.hit_ranges(&[hash], &mut r);
        index.positions_of(r[0]).to_vec()
    }

    #[test]
    fn alt_contigs_come_from_the_alt_file_beside_the_reference_and_from_names() {
        let seq = |seed| random_bases(&mut fastrand::Rng::with_seed(seed), 2000);
        let dir = tempfile::tempdir().unwrap();
        let mut r = reference(&[
            ("chr1", seq(1)),
            ("chr1_KI270762v1_alt", seq(2)),
            ("chr1_alt1", seq(3)),
        ]);
        r.path = dir.path().join("ref.fa");
        // Without a .alt file only the name ending in `_alt` marks an ALT contig.
        let index = Index::build(&r).unwrap();
        assert_eq!(
            (0..3).map(|c| index.is_alt(c)).collect::<Vec<_>>(),
            [false, true, false]
        );
        // bwa-kit's SAM-like lines beside the FASTA add chr1_alt1, saved index or not.
        std::fs::write(
            dir.path().join("ref.fa.alt"),
            "@SQ\tSN:chr1\tLN:2000\nchr1_alt1\t0\tchr1\t1\t60\t2000M\t*\t0\t0\t*\t*\n",
        )
        .unwrap();
        let built = Index::build(&r).unwrap();
        let saved = Index::build_to_file(&r, &dir.path().join("ref.fa.genoa.idx")).unwrap();
        for index in [built, saved] {
            assert_eq!(
                (0..3).map(|c| index.is_alt(c)).collect::<Vec<_>>(),
                [false, true, true]
            );
        }
        // Occurrences on ALT contigs (both runs of them) are not primary-assembly ones.
        let copied = [
            ("chr1", seq(1)),
            ("chr1_alt", seq(1)),
            ("chr2", seq(2)),
            ("chr2_alt", seq(1)),
        ];
        let index = Index::build(&reference(&copied)).unwrap();
        let mut mins = Vec::new();
        sketch(&seq(1), K, W, &mut SketchScratch::default(), &mut mins);
        let mut ranges = Vec::new();
        index.hit_ranges(&[mins[0].hash], &mut ranges);
        assert_eq!(index.positions_of(ranges[0]).len(), 3);
        assert_eq!(index.primary_occurrences(ranges[0]), 1);
        // A .alt file naming a contig the reference lacks is an error, not silence.
        std::fs::write(dir.path().join("ref.fa.alt"), "chr9_alt\n").unwrap();
        assert!(Index::build(&r).is_err());
    }

    #[test]
    fn every_minimizer_is_found_where_it_is() {
        let a = random_bases(&mut fastrand::Rng::with_seed(11), 5000);
        let b = random_bases(&mut fastrand::Rng::with_seed(12), 3000);
        let r = reference(&[("a", a.clone()), ("b", b.clone())]);
        let index = Index::build(&r).unwrap();
        assert!(index.check_reference(&r).is_ok());
        for (c, seq) in [(0usize, &a), (1, &b)] {
            let mut mins = Vec::new();
            sketch(seq, K, W, &mut SketchScratch::default(), &mut mins);
            assert!(!mins.is_empty());
            // Many look-ups at once give each hash the ranges it gets alone.
            let mut all = Vec::new();
            let hashes: Vec<u64> = mins.iter().map(|m| m.hash).chain([77]).collect();
            index.hit_ranges(&hashes, &mut all);
            for (h, &range) in hashes.iter().zip(&all) {
                assert_eq!(index.positions_of(range), hits(&index, *h).as_slice());
            }
            for m in mins {
                let g = index.contig_start(c) + u64::from(m.pos);
                assert!(hits(&index, m.hash).contains(&(g << 1 | u64::from(m.reverse))));
                assert_eq!(index.locate(g), (c, u64::from(m.pos)));
            }
        }
        assert!(hits(&index, hash64(12345, (1 << 42) - 1)).len() <= 1);
    }

    #[test]
    fn saved_index_loads_and_refuses_other_references_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let r = reference(&[(
            "chr1",
            random_bases(&mut fastrand::Rng::with_seed(21), 4000),
        )]);
        let built = Index::build(&r).unwrap();
        let path = dir.path().join("x.genoa.idx");
        let streamed = Index::build_to_file(&r, &path).unwrap();
        let loaded = Index::load(&path, &r).unwrap();
        assert_eq!(loaded.bytes(), built.bytes());
        assert_eq!(streamed.bytes(), built.bytes());
        // Another reference: same name and length, different sequence.
        let mut other = reference(&[(
            "chr1",
            random_bases(&mut fastrand::Rng::with_seed(22), 4000),
        )]);
        other.contigs[0].md5 = "f".repeat(32);
        let e = Index::load(&path, &other).err().unwrap().to_string();
        assert!(e.contains("MD5") && e.contains("genoa index"), "{e}");
        let renamed = reference(&[(
            "chrX",
            random_bases(&mut fastrand::Rng::with_seed(21), 4000),
        )]);
        let e = Index::load(&path, &renamed).err().unwrap().to_string();
        assert!(e.contains("name chr1 in the index but chrX"), "{e}");
        // Truncated.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
        let e = Index::load(&path, &r).err().unwrap().to_string();
        assert!(e.contains("truncated"), "{e}");
        // Right length, damaged directory: refused, not a panic at the first look-up.
        let mut damaged = bytes.clone();
        let meta = u64::from_le_bytes(bytes[72..80].try_into().unwrap()) as usize;
        let dir = HEADER_WORDS * 8 + pad8(meta);
        damaged[dir + 4..dir + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, &damaged).unwrap();
        let e = Index::load(&path, &r).err().unwrap().to_string();
        assert!(e.contains("corrupt tables"), "{e}");
        std::fs::write(&path, &bytes[..50]).unwrap();
        assert!(Index::load(&path, &r).is_err());
        std::fs::write(&path, b"").unwrap();
        assert!(Index::load(&path, &r).is_err());
    }
}
