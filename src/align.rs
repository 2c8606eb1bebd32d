//! Read alignment: a k-mer index of the reference, seeding and diagonal voting, extension
//! through the `banded_align` kernel (batched, so any backend can run it), pairing, MAPQ, and
//! the SAM fields of each record (flags, mate fields, TLEN, NM, MD, MC).
//!
//! This is the walking-skeleton aligner: primary alignments only (no secondary or
//! supplementary records, no mate rescue), a fixed maximum insert size instead of an estimated
//! one, and an in-memory coordinate sort. The aligner issue replaces it.

pub mod index;
pub mod map;
pub mod pair;
pub mod record;

pub use index::Index;
pub use record::AlignedRead;

use std::sync::Arc;

use rayon::prelude::*;

use crate::backend::Backend;
use crate::error::Result;
use crate::genome::reverse_complement_into;
use crate::io::fastq::ReadBatch;
use crate::io::reference::Reference;
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};
use map::{Candidate, Hit, MapParams};
use pair::{Mate, PairParams};

/// K-mer length of the seeding index.
pub const SEED_K: usize = 15;

/// The aligner: index, backend and settings. Results depend only on the input, never on the
/// thread count, the batch size or the backend.
pub struct Aligner {
    pub index: Index,
    pub backend: Arc<dyn Backend>,
    pub map: MapParams,
    pub pair: PairParams,
}

/// Reusable buffers of [`Aligner::align_batch`].
#[derive(Default)]
pub struct AlignScratch {
    batch: AlignBatch,
    results: AlignResults,
    /// Per read (2 per pair): candidates; per candidate: its window start.
    candidates: Vec<Vec<Candidate>>,
    windows: Vec<u64>,
    oriented: Vec<u8>,
}

impl Aligner {
    pub fn new(reference: &Reference, backend: Arc<dyn Backend>) -> Self {
        Aligner {
            index: Index::build(reference, SEED_K),
            backend,
            map: MapParams::default(),
            pair: PairParams::default(),
        }
    }

    /// Aligns a batch of pairs, appending two records per pair (R1, R2) to `out`.
    pub fn align_batch(
        &self,
        reads: &ReadBatch,
        scratch: &mut AlignScratch,
        out: &mut Vec<AlignedRead>,
    ) -> Result<()> {
        let n = reads.len();
        // 1. Seeds and candidate loci, in parallel.
        let mapper = &self.map;
        let index = &self.index;
        (0..2 * n)
            .into_par_iter()
            .map_init(
                || (Vec::new(), Vec::new()),
                |(rc, diags), k| {
                    let read = if k % 2 == 0 {
                        &reads.r1[k / 2]
                    } else {
                        &reads.r2[k / 2]
                    };
                    let mut c = Vec::new();
                    map::candidates(index, &read.codes, mapper, rc, diags, &mut c);
                    c
                },
            )
            .collect_into_vec(&mut scratch.candidates);
        // 2. One extension problem per candidate, in read order.
        scratch.batch.clear();
        scratch.windows.clear();
        for (k, cands) in scratch.candidates.iter().enumerate() {
            let read = if k % 2 == 0 {
                &reads.r1[k / 2]
            } else {
                &reads.r2[k / 2]
            };
            if cands.iter().any(|c| c.reverse) {
                reverse_complement_into(&read.codes, &mut scratch.oriented);
            }
            for c in cands {
                let seq: &[u8] = if c.reverse {
                    &scratch.oriented
                } else {
                    &read.codes
                };
                let w = map::push_problem(index, c, seq, mapper.band, &mut scratch.batch);
                scratch.windows.push(w);
            }
        }
        // 3. The kernel, on whichever backend.
        let params = AlignParams::short_read(mapper.band);
        self.backend
            .banded_align(&scratch.batch, &params, &mut scratch.results)?;
        // 4. Hits, pairing and records, in parallel.
        let mut first = Vec::with_capacity(2 * n + 1);
        let mut acc = 0usize;
        for c in &scratch.candidates {
            first.push(acc);
            acc += c.len();
        }
        first.push(acc);
        let s = &*scratch;
        let records: Vec<[AlignedRead; 2]> = (0..n)
            .into_par_iter()
            .map(|p| {
                let hits = |k: usize, len: usize| -> Vec<Hit> {
                    let mut h: Vec<Hit> = s.candidates[k]
                        .iter()
                        .enumerate()
                        .map(|(c, cand)| {
                            let problem = first[k] + c;
                            Hit::from_result(
                                cand,
                                s.windows[problem],
                                &s.results.results[problem],
                                &s.results,
                                len as u32,
                            )
                        })
                        .collect();
                    map::rank_hits(&mut h, mapper.band);
                    h
                };
                let (r1, r2) = (&reads.r1[p], &reads.r2[p]);
                let h1 = hits(2 * p, r1.codes.len());
                let h2 = hits(2 * p + 1, r2.codes.len());
                let m1 = Mate {
                    codes: &r1.codes,
                    qual: &r1.qual,
                    hits: &h1,
                };
                let m2 = Mate {
                    codes: &r2.codes,
                    qual: &r2.qual,
                    hits: &h2,
                };
                pair::pair(&r1.name, &m1, &m2, index, &self.pair)
            })
            .collect();
        for [a, b] in records {
            out.push(a);
            out.push(b);
        }
        Ok(())
    }
}

/// Sorts records into coordinate order (see [`AlignedRead::sort_key`]); `records` are in input
/// order, which breaks the remaining ties, so the order is total and reproducible.
pub fn sort_records(records: &mut Vec<AlignedRead>) {
    let mut keyed: Vec<((u32, u64, u16, u64), usize)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.sort_key(i as u64), i))
        .collect();
    keyed.par_sort_unstable();
    let mut slots: Vec<Option<AlignedRead>> =
        std::mem::take(records).into_iter().map(Some).collect();
    records.extend(
        keyed
            .into_iter()
            .map(|(_, i)| slots[i].take().expect("each record once")),
    );
}
