//! Where the caller works: a fixed grid of chunks over every contig, and the target regions
//! (`--region`, `--regions BED`) that select which records are written.
//!
//! The grid is what makes output independent of threads and shards. Every contig is cut at
//! multiples of [`CHUNK_LEN`]; each chunk is called on its own (in parallel) from the reads
//! that overlap it, starting [`LEAD`] bases before it so that a variant record begun there
//! (a deletion reaching into the chunk) is seen and its bases are not covered twice. A
//! record belongs to the chunk, and to the target region, that holds its first base. So:
//!
//! - reference blocks also end at grid points (besides GQ bands and the length cap), and
//! - calling regions that tile a genome (any boundaries, not only grid points) and
//!   concatenating their files gives exactly the records of one whole-genome run. A region's
//!   file begins at the first record that starts inside it; bases before that are covered by
//!   the previous region's last record.
//!
//! The lead settles the state that crosses positions: which bases an earlier variant record
//! already covers, and where active regions begin (`region`). Sites are also computed 1,000
//! bases past a chunk's end (`SITES_PAST_END`), so an active region across the boundary — up
//! to 300 bases of chained anchors plus a repeat's span on either side — is seen whole by both
//! chunks. Two chunks can disagree about a position only through a chain longer than
//! [`LEAD`]: overlapping deletion calls end to end, or active positions each within 25 bases
//! of the next (regions are cut every 300 bases from the chain's start) — neither occurs in
//! mappable sequence, and where it would, the output still depends only on the grid, never
//! on threads or shards.

use std::path::Path;

use crate::model::Interval;

use crate::error::{Error, Result};
use crate::io::reference::Reference;

/// Length of a grid chunk (a multiple of every reference-block cap we use, so blocks capped at
/// 99,999 bases fall inside it as they would without the grid).
pub const CHUNK_LEN: u64 = 200_000;
/// Bases called before a chunk's first base (their records are not written).
pub const LEAD: u64 = 1_000;
/// Bases past a chunk's end whose reads are fetched too (an indel or a haplotype window near
/// the end looks that far).
pub const TAIL: u64 = 1_500;

/// One grid chunk and the parts of it whose records are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub contig: usize,
    pub start: u64,
    pub end: u64,
    /// Sorted, disjoint `[start, end)` ranges inside `start..end`: a record is written when its
    /// first base lies in one of them.
    pub emit: Vec<(u64, u64)>,
}

impl Chunk {
    /// Whether a record starting at `pos` is written.
    pub fn emits(&self, pos: u64) -> bool {
        let k = self.emit.partition_point(|&(_, e)| e <= pos);
        self.emit.get(k).is_some_and(|&(s, _)| s <= pos)
    }
    /// First base called (the lead included).
    pub fn lead_start(&self) -> u64 {
        self.start.saturating_sub(LEAD)
    }
}

/// Parses `chr`, `chr:beg` or `chr:beg-end` (1-based, inclusive; commas allowed in numbers)
/// against the reference's contigs.
pub fn parse_region(text: &str, reference: &Reference) -> Result<Interval> {
    let bad = |why: &str| Error::Config(format!("--region {text}: {why}"));
    // A contig name may itself contain ':' (HLA contigs): try the whole text first.
    if let Some(c) = reference.contig_index(text) {
        return Ok(Interval {
            contig: c,
            start: 0,
            end: reference.contigs[c].len(),
        });
    }
    let (name, range) = text
        .rsplit_once(':')
        .ok_or_else(|| bad("no such contig in the reference"))?;
    let contig = reference
        .contig_index(name)
        .ok_or_else(|| bad(&format!("contig {name} is not in the reference")))?;
    let len = reference.contigs[contig].len();
    let num = |s: &str| -> Result<u64> {
        s.replace(',', "")
            .parse::<u64>()
            .ok()
            .filter(|&v| v >= 1)
            .ok_or_else(|| bad(&format!("{s:?} is not a 1-based position")))
    };
    let (beg, end) = match range.split_once('-') {
        Some((b, e)) => (num(b)?, num(e)?),
        None => (num(range)?, len),
    };
    if beg > end {
        return Err(bad("begins after it ends"));
    }
    if beg > len {
        return Err(bad(&format!("begins past the end of {name} ({len} bp)")));
    }
    Ok(Interval {
        contig,
        start: beg - 1,
        end: end.min(len),
    })
}

/// Reads a BED file (0-based, half-open; `track`/`browser`/`#` lines skipped) of target
/// regions. A line that names an unknown contig or has bad coordinates is an error naming the
/// file and line.
pub fn read_bed(path: &Path, reference: &Reference) -> Result<Vec<Interval>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let err = |message: String| Error::Record {
            path: path.to_path_buf(),
            record: out.len() as u64 + 1,
            line: Some(n as u64 + 1),
            message,
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty()
            || line.starts_with('#')
            || line.starts_with("track")
            || line.starts_with("browser")
        {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 3 {
            return Err(err(format!(
                "expected chrom<TAB>start<TAB>end, found {} field(s)",
                f.len()
            )));
        }
        let contig = reference
            .contig_index(f[0])
            .ok_or_else(|| err(format!("contig {} is not in the reference", f[0])))?;
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| err(format!("{s:?} is not a coordinate")))
        };
        let (start, end) = (num(f[1])?, num(f[2])?);
        let len = reference.contigs[contig].len();
        if start > end || end > len {
            return Err(err(format!(
                "interval {start}-{end} is not within {} (0..{len})",
                f[0]
            )));
        }
        if start < end {
            out.push(Interval { contig, start, end });
        }
    }
    if out.is_empty() {
        return Err(Error::input(path, "no intervals"));
    }
    Ok(out)
}

/// Sorts and merges overlapping or adjacent intervals.
pub fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort();
    let mut out: Vec<Interval> = Vec::with_capacity(intervals.len());
    for iv in intervals {
        match out.last_mut() {
            Some(last) if last.contig == iv.contig && iv.start <= last.end => {
                last.end = last.end.max(iv.end)
            }
            _ => out.push(iv),
        }
    }
    out
}

/// The grid chunks of `contig_lens` that hold some target (every chunk when `targets` is
/// `None`), in contig and position order, with `chunk_len` as the grid step.
pub fn chunks(contig_lens: &[u64], targets: Option<&[Interval]>, chunk_len: u64) -> Vec<Chunk> {
    let chunk_len = chunk_len.max(1);
    let whole: Vec<Interval>;
    let targets = match targets {
        Some(t) => merge(t.to_vec()),
        None => {
            whole = contig_lens
                .iter()
                .enumerate()
                .filter(|&(_, &len)| len > 0)
                .map(|(contig, &len)| Interval {
                    contig,
                    start: 0,
                    end: len,
                })
                .collect();
            whole
        }
    };
    let mut out: Vec<Chunk> = Vec::new();
    for t in targets {
        let len = contig_lens[t.contig];
        let mut s = t.start;
        while s < t.end {
            let g = s / chunk_len * chunk_len;
            let chunk_end = (g + chunk_len).min(len);
            let e = t.end.min(chunk_end);
            match out.last_mut() {
                Some(c) if c.contig == t.contig && c.start == g => c.emit.push((s, e)),
                _ => out.push(Chunk {
                    contig: t.contig,
                    start: g,
                    end: chunk_end,
                    emit: vec![(s, e)],
                }),
            }
            s = e;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_contigs_are_cut_on_the_grid() {
        let c = chunks(&[250, 0, 100], None, 100);
        let spans: Vec<_> = c.iter().map(|c| (c.contig, c.start, c.end)).collect();
        assert_eq!(
            spans,
            vec![(0, 0, 100), (0, 100, 200), (0, 200, 250), (2, 0, 100)]
        );
        assert!(c.iter().all(|c| c.emit == vec![(c.start, c.end)]));
    }

    #[test]
    fn targets_select_chunks_and_what_they_emit() {
        let t = [
            Interval {
                contig: 0,
                start: 150,
                end: 160,
            },
            Interval {
                contig: 0,
                start: 90,
                end: 120,
            },
            Interval {
                contig: 0,
                start: 170,
                end: 230,
            },
        ];
        let c = chunks(&[250], Some(&t), 100);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].emit, vec![(90, 100)]);
        assert_eq!(c[1].emit, vec![(100, 120), (150, 160), (170, 200)]);
        assert_eq!(c[2].emit, vec![(200, 230)]);
        assert!(c[1].emits(100) && c[1].emits(119) && !c[1].emits(120) && c[1].emits(199));
        assert!(!c[1].emits(165));
    }

    #[test]
    fn merge_joins_overlaps_and_neighbours() {
        let iv = |contig, start, end| Interval { contig, start, end };
        assert_eq!(
            merge(vec![iv(1, 5, 9), iv(0, 10, 20), iv(0, 0, 10), iv(1, 9, 12)]),
            vec![iv(0, 0, 20), iv(1, 5, 12)]
        );
    }
}
