//! Deterministic downsampling of the caller's reads — one mechanism for HaplotypeCaller's
//! per-start cap and for a depth cap in collapsed repeats, satellites, decoys and other
//! regions at thousands-fold depth.
//!
//! The reads are taken in windows of [`WINDOW`] bases of alignment start (window `k` holds
//! the reads starting in `[k·WINDOW, (k+1)·WINDOW)`). In each window the usable reads (see
//! [`crate::call::usable`]) are ranked by a hash of their name and segment flag; a usable
//! read stays when it is among the first [`MAX_READS_PER_START`] of its start (HaplotypeCaller's
//! `--max-reads-per-alignment-start 50`) and among the first [`MAX_READS_PER_WINDOW`] of its
//! window (a depth of about `MAX_READS_PER_WINDOW × read length / WINDOW`: 300x for 2×150,
//! ten times a 30x genome, where nothing is ever dropped). Reads the caller does not use
//! (duplicates, MAPQ below the minimum, secondary, …) always pass and are never counted. The
//! mitochondrion, whose model counts reads for heteroplasmy, has its own caps
//! ([`Caps::MITO`]: 75 per start as GATK's mitochondria pipeline gives Mutect2, and 2,000 per
//! window, about 3,000x: a 1 % heteroplasmy still has 30 reads).
//!
//! The decision for a read depends only on the reads of its window, so it is the same whether
//! the reads come from the aligner's stream ([`StreamDownsampler`], in `genoa run`, which also
//! bounds the memory the streaming caller holds) or from an indexed file ([`downsample`] on a
//! fetch widened to whole windows, in `genoa call`): the same gVCF, for any thread count,
//! chunking or shard.

use crate::call::usable;
use crate::model::alignment::{AlignedRead, Flags};

/// Bases of alignment start per downsampling window.
pub const WINDOW: u64 = 100;

/// Most usable reads per alignment start (HaplotypeCaller's default).
pub const MAX_READS_PER_START: usize = 50;

/// Most usable reads per window of [`WINDOW`] starts: about 300x of 2×150 reads.
pub const MAX_READS_PER_WINDOW: usize = 200;

/// The caps of one contig: usable reads per start and per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    pub per_start: usize,
    pub per_window: usize,
}

impl Caps {
    /// Nuclear contigs.
    pub const NUCLEAR: Caps = Caps {
        per_start: MAX_READS_PER_START,
        per_window: MAX_READS_PER_WINDOW,
    };
    /// The mitochondrion.
    pub const MITO: Caps = Caps {
        per_start: 75,
        per_window: 2_000,
    };

    /// The caps of a contig called with `model`.
    pub fn of(model: crate::call::ploidy::Model) -> Caps {
        if model == crate::call::ploidy::Model::Mito {
            Caps::MITO
        } else {
            Caps::NUCLEAR
        }
    }
}

/// The ranking key of a read: FNV-1a of its name and segment flag, so both mates of a pair
/// rank alike and every run, thread count and backend drops the same reads.
pub fn key(r: &AlignedRead) -> u64 {
    let segment = u8::from(r.flags.intersects(Flags::LAST_SEGMENT));
    crate::genome::fnv1a(r.name.bytes().chain([segment]))
}

/// The window of a read's start.
pub fn window(r: &AlignedRead) -> u64 {
    r.pos / WINDOW
}

/// Which of one window's reads (all of them, coordinate-sorted) stay: `keep[i]` for
/// `reads[i]`. False when nothing is dropped (and `keep` is then left empty).
pub fn decide(reads: &[AlignedRead], caps: Caps, min_mapq: u8, keep: &mut Vec<bool>) -> bool {
    keep.clear();
    let usable_n = reads.iter().filter(|r| usable(r, min_mapq)).count();
    let busiest_start = {
        let (mut best, mut n, mut at) = (0, 0, None);
        for r in reads.iter().filter(|r| usable(r, min_mapq)) {
            if at == Some(r.pos) {
                n += 1;
            } else {
                (n, at) = (1, Some(r.pos));
            }
            best = usize::max(best, n);
        }
        best
    };
    if usable_n <= caps.per_window && busiest_start <= caps.per_start {
        return false;
    }
    // Ranks by (key, index): the index only orders equal keys (a name given twice).
    let mut order: Vec<(u64, usize)> = reads
        .iter()
        .enumerate()
        .filter(|(_, r)| usable(r, min_mapq))
        .map(|(i, r)| (key(r), i))
        .collect();
    order.sort_unstable();
    keep.resize(reads.len(), true);
    let mut per_start: std::collections::HashMap<u64, usize> = Default::default();
    for (rank, &(_, i)) in order.iter().enumerate() {
        let n = per_start.entry(reads[i].pos).or_default();
        *n += 1;
        keep[i] = rank < caps.per_window && *n <= caps.per_start;
    }
    true
}

/// `reads` (coordinate-sorted, on one contig) without the reads [`decide`] drops, or `None`
/// when none is dropped. Windows are judged on the reads given: only windows given whole are
/// judged as the stream judges them.
pub fn downsample(reads: &[AlignedRead], caps: Caps, min_mapq: u8) -> Option<Vec<AlignedRead>> {
    let mut out: Option<Vec<AlignedRead>> = None;
    let mut keep = Vec::new();
    let mut i = 0;
    while i < reads.len() {
        let w = window(&reads[i]);
        let j = i + reads[i..].partition_point(|r| window(r) == w);
        if decide(&reads[i..j], caps, min_mapq, &mut keep) {
            let o = out.get_or_insert_with(|| reads[..i].to_vec());
            o.extend(
                reads[i..j]
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(r, _)| r.clone()),
            );
        } else if let Some(o) = out.as_mut() {
            o.extend_from_slice(&reads[i..j]);
        }
        i = j;
    }
    out
}

/// Downsampling of a coordinate-sorted read stream: a window's reads are held until the
/// stream leaves the window, then the ones that stay are handed on.
#[derive(Default)]
pub struct StreamDownsampler {
    /// Contig and window of the reads held, and the contig's caps.
    at: Option<(u32, u64)>,
    caps: Option<Caps>,
    held: Vec<AlignedRead>,
    keep: Vec<bool>,
}

impl StreamDownsampler {
    /// Takes the next read; hands on (to `emit`) the reads of the window it ends. `caps`
    /// gives a contig's caps.
    pub fn push(
        &mut self,
        read: AlignedRead,
        min_mapq: u8,
        caps: impl Fn(u32) -> Caps,
        mut emit: impl FnMut(AlignedRead) -> crate::error::Result<()>,
    ) -> crate::error::Result<()> {
        let Some(c) = read.contig else {
            return emit(read);
        };
        let at = (c, window(&read));
        if self.at != Some(at) {
            self.flush(min_mapq, &mut emit)?;
            if self.at.is_none_or(|(held, _)| held != c) || self.caps.is_none() {
                self.caps = Some(caps(c));
            }
            self.at = Some(at);
        }
        self.held.push(read);
        Ok(())
    }

    /// Hands on the reads held.
    pub fn flush(
        &mut self,
        min_mapq: u8,
        mut emit: impl FnMut(AlignedRead) -> crate::error::Result<()>,
    ) -> crate::error::Result<()> {
        // The buffers are kept for the next window (no allocation per window).
        let caps = self.caps.unwrap_or(Caps::NUCLEAR);
        let dropping = decide(&self.held, caps, min_mapq, &mut self.keep);
        for (i, r) in self.held.drain(..).enumerate() {
            if !dropping || self.keep[i] {
                emit(r)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{Cigar, CigarOp};

    fn mk(pos: u64, k: usize) -> AlignedRead {
        AlignedRead {
            name: format!("r{k}"),
            flags: Flags::SEGMENTED | Flags::FIRST_SEGMENT,
            contig: Some(0),
            pos,
            mapq: 60,
            cigar: Cigar(vec![(CigarOp::Match, 10)]),
            mate_contig: None,
            mate_pos: 0,
            tlen: 0,
            seq: vec![b'A'; 10],
            qual: vec![30; 10],
            nm: 0,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    }

    fn names(v: &[AlignedRead]) -> Vec<String> {
        let mut n: Vec<String> = v.iter().map(|r| r.name.clone()).collect();
        n.sort();
        n
    }

    #[test]
    fn reads_beyond_fifty_per_start_are_left_out_the_same_way_every_time() {
        let few: Vec<AlignedRead> = (0..40).map(|k| mk(5, k)).collect();
        assert!(downsample(&few, Caps::NUCLEAR, 20).is_none());
        let mut many: Vec<AlignedRead> = (0..70).map(|k| mk(5, k)).collect();
        many.extend((0..3).map(|k| mk(6, 100 + k)));
        let kept = downsample(&many, Caps::NUCLEAR, 20).unwrap();
        assert_eq!(
            kept.iter().filter(|r| r.pos == 5).count(),
            MAX_READS_PER_START
        );
        assert_eq!(kept.iter().filter(|r| r.pos == 6).count(), 3);
        // The same reads whatever the order they came in at one start.
        let mut shuffled = many.clone();
        shuffled[..70].reverse();
        assert_eq!(
            names(&downsample(&shuffled, Caps::NUCLEAR, 20).unwrap()),
            names(&kept)
        );
    }

    #[test]
    fn deep_windows_keep_two_hundred_usable_reads_and_every_unusable_one() {
        // 1,000 reads over 100 starts of one window (10 per start), 30 of them duplicates;
        // the next window at normal depth.
        let mut reads: Vec<AlignedRead> = (0..1000).map(|k| mk(200 + k as u64 / 10, k)).collect();
        for r in reads.iter_mut().step_by(33) {
            r.flags |= Flags::DUPLICATE;
        }
        let dups = reads.iter().filter(|r| !usable(r, 20)).count();
        reads.extend((0..20).map(|k| mk(300 + 5 * k as u64, 5000 + k)));
        let kept = downsample(&reads, Caps::NUCLEAR, 20).unwrap();
        let in_window = |w: u64| kept.iter().filter(|r| window(r) == w).count();
        assert_eq!(in_window(2), MAX_READS_PER_WINDOW + dups);
        assert_eq!(in_window(3), 20);
        assert!(kept.windows(2).all(|w| w[0].pos <= w[1].pos));
        // The stream keeps the same reads, and so does a read set given window by window.
        let mut s = StreamDownsampler::default();
        let mut streamed = Vec::new();
        for r in reads.iter().cloned() {
            s.push(
                r,
                20,
                |_| Caps::NUCLEAR,
                |r| {
                    streamed.push(r);
                    Ok(())
                },
            )
            .unwrap();
        }
        s.flush(20, |r| {
            streamed.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(streamed, kept);
        // The mitochondrion's caps are higher: nothing dropped here.
        assert!(downsample(&reads, Caps::MITO, 20).is_none());
    }
}
