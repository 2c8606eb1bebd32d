//! Read alignment: minimizer seeds from the reference index, chaining, extension through the
//! `banded_align` kernel (batched, so any backend can run it), mate rescue, pairing with an
//! estimated insert-size model, MAPQ, and every record of a pair (primary, secondary,
//! supplementary) with its SAM fields.
//!
//! A batch goes through four steps, each over all its reads at once:
//! 1. seeds and chains of every read, in parallel ([`map`]);
//! 2. one extension problem per chain, in read order, in a narrow-band and a wide-band batch;
//!    the kernel runs on the selected backend;
//! 3. mate rescue: a mate without a hit that pairs properly with its mate's best hits is
//!    aligned (local mode, wide band) against the window where the insert-size model puts it;
//! 4. pairing and records, in parallel ([`pair`]).
//!
//! ALT contigs (the index's [`Index::is_alt`], from the `.alt` file beside the reference) are
//! handled as bwa-mem handles them: a read is placed, paired, rescued and given its MAPQ by its
//! hits on the primary assembly, its ALT hits go to `XA` ([`pair`]); seeding and chaining keep
//! the two apart ([`map`]).
//!
//! Results depend only on the input: every step is a pure function of the pair and the
//! insert-size model, which is estimated once from the first [`pair::CALIBRATION_PAIRS`]
//! pairs — never from a batch — so thread count, batch size and backend change nothing.

pub mod bamrun;
pub mod map;
pub mod markdup;
pub mod pair;
pub mod record;
pub mod sort;

use std::sync::Arc;

use rayon::prelude::*;

use crate::backend::Backend;
use crate::error::Result;
use crate::genome::reverse_complement_into;
use crate::index::Index;
use crate::io::fastq::ReadBatch;
use crate::io::reference::Reference;
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults, MAX_BAND};
use crate::model::alignment::AlignedRead;
use crate::profile::{self, Stage};
use map::{Chain, Hit, MapParams, SeedScratch};
use pair::{InsertModel, Mate, PairParams};

/// The aligner: reference, index, backend and settings.
pub struct Aligner<'r> {
    pub reference: &'r Reference,
    pub index: Index,
    pub backend: Arc<dyn Backend>,
    pub map: MapParams,
    pub pair: PairParams,
    /// The insert-size model of each library (a batch's `library`); the fallback model for a
    /// library without one.
    pub inserts: Vec<InsertModel>,
}

/// Reusable buffers of [`Aligner::align_pairs`].
#[derive(Default)]
pub struct AlignScratch {
    chains: Vec<Vec<Chain>>,
    narrow: AlignBatch,
    wide: AlignBatch,
    narrow_out: AlignResults,
    wide_out: AlignResults,
    rescue: AlignBatch,
    rescue_out: AlignResults,
    oriented: Vec<u8>,
    /// Where each chain's extension problem went (what `prepare` leaves for `extend`).
    problems: Vec<Problem>,
}

/// Where a chain's extension problem went.
#[derive(Clone, Copy)]
struct Problem {
    wide: bool,
    index: u32,
    window: u64,
}

/// One mate-rescue problem: read `read` (2·pair + mate) on `contig`, window start, strand.
#[derive(Clone, Copy)]
struct Rescue {
    read: usize,
    contig: u32,
    window: u64,
    reverse: bool,
}

impl<'r> Aligner<'r> {
    /// An aligner with the fallback insert-size model; call [`Aligner::calibrate`] first.
    pub fn new(reference: &'r Reference, index: Index, backend: Arc<dyn Backend>) -> Self {
        Aligner {
            reference,
            index,
            backend,
            map: MapParams::default(),
            pair: PairParams::default(),
            inserts: Vec::new(),
        }
    }

    /// The insert-size model of library `library`.
    pub fn insert(&self, library: u16) -> InsertModel {
        self.inserts
            .get(usize::from(library))
            .copied()
            .unwrap_or_else(InsertModel::fallback)
    }

    fn read(reads: &ReadBatch, k: usize) -> &crate::io::fastq::ReadRecord {
        if k.is_multiple_of(2) {
            &reads.r1[k / 2]
        } else {
            &reads.r2[k / 2]
        }
    }

    /// Steps 1 and 2: ranked hits of every read (R1 of pair p at 2p, R2 at 2p + 1).
    fn hits(&self, reads: &ReadBatch, s: &mut AlignScratch) -> Result<Vec<Vec<Hit>>> {
        self.prepare(reads, s);
        self.extend(reads, s)
    }

    /// Step 1 and the CPU half of step 2: seeds and chains of every read, in parallel, and one
    /// extension problem per chain packed into `s`'s narrow- and wide-band batches.
    fn prepare(&self, reads: &ReadBatch, s: &mut AlignScratch) {
        let n = 2 * reads.len();
        let index = &self.index;
        let params = &self.map;
        (0..n)
            .into_par_iter()
            .map_init(
                || (SeedScratch::default(), profile::Local::default()),
                |(sc, local), k| {
                    let mut chains = Vec::new();
                    local.mark();
                    map::seed(index, &Self::read(reads, k).codes, sc);
                    local.lap(Stage::Seed);
                    map::chain(index, params, sc, &mut chains);
                    local.lap(Stage::Chain);
                    chains
                },
            )
            .collect_into_vec(&mut s.chains);
        let _span = profile::span(Stage::ExtendSetup);
        s.narrow.clear();
        s.wide.clear();
        s.problems.clear();
        for (k, chains) in s.chains.iter().enumerate() {
            let codes = &Self::read(reads, k).codes;
            if chains.iter().any(|c| c.reverse) {
                reverse_complement_into(codes, &mut s.oriented);
            }
            for c in chains {
                let seq: &[u8] = if c.reverse { &s.oriented } else { codes };
                let contig = &self.reference.contigs[c.contig as usize].codes;
                let wide = map::needs_wide_band(c, params);
                let (batch, band) = if wide {
                    (&mut s.wide, params.wide_band)
                } else {
                    (&mut s.narrow, params.band)
                };
                let window = map::push_problem(contig, c, seq, band, batch);
                s.problems.push(Problem {
                    wide,
                    index: (batch.pairs.len() - 1) as u32,
                    window,
                });
            }
        }
    }

    /// The rest of step 2 on what [`Aligner::prepare`] left in `s`: the extension kernel on
    /// the backend, then every read's hits, ranked.
    fn extend(&self, reads: &ReadBatch, s: &mut AlignScratch) -> Result<Vec<Vec<Hit>>> {
        let n = 2 * reads.len();
        let params = &self.map;
        self.backend.banded_align(
            &s.narrow,
            &AlignParams::short_read(params.band),
            &mut s.narrow_out,
        )?;
        self.backend.banded_align(
            &s.wide,
            &AlignParams::short_read(params.wide_band),
            &mut s.wide_out,
        )?;
        let mut first = Vec::with_capacity(n + 1);
        let mut acc = 0usize;
        for c in &s.chains {
            first.push(acc);
            acc += c.len();
        }
        let s = &*s;
        Ok((0..n)
            .into_par_iter()
            .map_init(profile::Local::default, |local, k| {
                local.time(Stage::Hits, || self.ranked_hits(reads, s, &first, k))
            })
            .collect())
    }

    /// Read `k`'s hits from the kernel's results, ranked.
    fn ranked_hits(
        &self,
        reads: &ReadBatch,
        s: &AlignScratch,
        first: &[usize],
        k: usize,
    ) -> Vec<Hit> {
        let len = Self::read(reads, k).codes.len() as u32;
        let mut hits: Vec<Hit> = s.chains[k]
            .iter()
            .enumerate()
            .map(|(c, chain)| {
                let p = s.problems[first[k] + c];
                let out = if p.wide { &s.wide_out } else { &s.narrow_out };
                Hit::from_result(
                    chain.reverse,
                    chain.contig,
                    p.window,
                    &out.results[p.index as usize],
                    out,
                    len,
                    &self.index,
                )
            })
            .collect();
        Self::tandem(&mut hits, &Self::read(reads, k).codes, self.reference);
        map::rank_hits(&mut hits);
        hits
    }

    /// Sets [`Hit::tandem_alt`] on the hits of a read that is a tandem repeat.
    fn tandem(hits: &mut [Hit], codes: &[u8], reference: &Reference) {
        let Some(p) = map::period(codes) else { return };
        let mut rc = Vec::new();
        reverse_complement_into(codes, &mut rc);
        for h in hits.iter_mut() {
            let seq: &[u8] = if h.reverse { &rc } else { codes };
            let contig = &reference.contigs[h.contig as usize].codes;
            h.tandem_alt = map::tandem_alternative(h, seq, contig, p);
        }
    }

    /// Estimates the insert-size model of `reads`' library from them (the library's first
    /// pairs, [`pair::CALIBRATION_PAIRS`] of them: the first of its first lane).
    pub fn calibrate(&mut self, reads: &ReadBatch, s: &mut AlignScratch) -> Result<()> {
        // A mate's best placement when it is clear, well ahead of the next (ALT hits do not
        // compete with primary-assembly ones, see [`pair::placements`]).
        fn clear(h: &[Hit], min: i32) -> Option<&Hit> {
            let mut p = pair::placements(h);
            match (p.next(), p.next()) {
                (Some(a), None) => (a.score >= min).then_some(a),
                (Some(a), Some(b)) => (a.score >= min && b.score + 20 < a.score).then_some(a),
                (None, _) => None,
            }
        }
        let hits = self.hits(reads, s)?;
        let min = self.pair.min_score;
        let mut inserts: Vec<u64> = (0..reads.len())
            .filter_map(|p| Some((clear(&hits[2 * p], min)?, clear(&hits[2 * p + 1], min)?)))
            .filter_map(|(a, b)| pair::insert_size(a, b))
            .filter(|&d| d <= 10_000)
            .collect();
        let model = InsertModel::estimate(&mut inserts);
        let library = usize::from(reads.library);
        if self.inserts.len() <= library {
            self.inserts.resize(library + 1, InsertModel::fallback());
        }
        self.inserts[library] = model;
        tracing::info!(
            "insert size of library {library}: mean {:.1}, sd {:.1}, proper {}..={} (from {} pairs{})",
            model.mean,
            model.sd,
            model.low,
            model.high,
            model.pairs,
            if model.pairs == 0 {
                ": too few, default model"
            } else {
                ""
            }
        );
        Ok(())
    }

    /// Step 3: adds rescued hits to mates that have none pairing with their mate's best
    /// placements (its best hits; those on the primary assembly when it has some there).
    fn rescue(&self, reads: &ReadBatch, hits: &mut [Vec<Hit>], s: &mut AlignScratch) -> Result<()> {
        let model = &self.insert(reads.library);
        let min = self.pair.min_score;
        let contigs = &self.reference.contigs;
        let needs: Vec<Rescue> = (0..2 * reads.len())
            .into_par_iter()
            .map_init(profile::Local::default, |local, k| {
                local.time(Stage::Rescue, || {
                    Self::rescue_needs(hits, k, model, min, contigs)
                })
            })
            .flatten_iter()
            .collect();
        if needs.is_empty() {
            return Ok(());
        }
        // The kernel call below is timed as the kernel, not as rescue.
        let _span = profile::span(Stage::Rescue);
        let band = (model.high / 2 + 16).min(u64::from(MAX_BAND)) as u32;
        s.rescue.clear();
        for r in &needs {
            let codes = &Self::read(reads, r.read).codes;
            let seq: &[u8] = if r.reverse {
                reverse_complement_into(codes, &mut s.oriented);
                &s.oriented
            } else {
                codes
            };
            let contig = &contigs[r.contig as usize].codes;
            let end = (r.window + 2 * u64::from(band) + seq.len() as u64).min(contig.len() as u64);
            let target = &contig[r.window as usize..end as usize];
            let diag = (target.len() as i64 - seq.len() as i64).max(0) / 2;
            s.rescue.push(seq, target, diag as i32);
        }
        self.backend
            .banded_align(&s.rescue, &AlignParams::short_read(band), &mut s.rescue_out)?;
        for (i, r) in needs.iter().enumerate() {
            let res = &s.rescue_out.results[i];
            if res.score < min {
                continue;
            }
            let codes = &Self::read(reads, r.read).codes;
            let mut h = Hit::from_result(
                r.reverse,
                r.contig,
                r.window,
                res,
                &s.rescue_out,
                codes.len() as u32,
                &self.index,
            );
            Self::tandem(std::slice::from_mut(&mut h), codes, self.reference);
            hits[r.read].push(h);
        }
        for r in needs
            .iter()
            .map(|r| r.read)
            .collect::<std::collections::BTreeSet<_>>()
        {
            map::rank_hits(&mut hits[r]);
        }
        Ok(())
    }

    /// The rescue problems of read `k` (2·pair + mate): one per placement of its mate among
    /// the mate's two best that none of its own hits pairs properly with.
    fn rescue_needs(
        hits: &[Vec<Hit>],
        k: usize,
        model: &InsertModel,
        min: i32,
        contigs: &[crate::io::reference::Contig],
    ) -> Vec<Rescue> {
        let mine = &hits[k];
        let mut theirs = pair::placements(&hits[k ^ 1]).peekable();
        let mut v = Vec::new();
        let Some(&best) = theirs.peek() else { return v };
        for t in theirs.take(2) {
            if t.score < min || t.score + 20 < best.score {
                continue;
            }
            if mine
                .iter()
                .any(|m| m.score >= min && pair::proper(m, t, model))
            {
                continue;
            }
            let len = contigs[t.contig as usize].len();
            let (start, _, reverse) = pair::rescue_window(t, model, len);
            v.push(Rescue {
                read: k,
                contig: t.contig,
                window: start,
                reverse,
            });
        }
        v
    }

    /// Aligns a batch of pairs; returns each pair's records (R1 and R2 primaries first).
    pub fn align_pairs(
        &self,
        reads: &ReadBatch,
        scratch: &mut AlignScratch,
    ) -> Result<Vec<Vec<AlignedRead>>> {
        let hits = self.hits(reads, scratch)?;
        self.finish_pairs(reads, hits, scratch)
    }

    /// Steps 3 and 4 on the hits of steps 1 and 2.
    fn finish_pairs(
        &self,
        reads: &ReadBatch,
        mut hits: Vec<Vec<Hit>>,
        scratch: &mut AlignScratch,
    ) -> Result<Vec<Vec<AlignedRead>>> {
        self.rescue(reads, &mut hits, scratch)?;
        let insert = self.insert(reads.library);
        let per_pair: Vec<Vec<AlignedRead>> = (0..reads.len())
            .into_par_iter()
            .map_init(profile::Local::default, |local, p| {
                local.time(Stage::Pair, || self.pair_records(reads, &hits, &insert, p))
            })
            .collect();
        Ok(per_pair)
    }

    /// Pair `p`'s records from its mates' hits.
    fn pair_records(
        &self,
        reads: &ReadBatch,
        hits: &[Vec<Hit>],
        insert: &InsertModel,
        p: usize,
    ) -> Vec<AlignedRead> {
        let (r1, r2) = (&reads.r1[p], &reads.r2[p]);
        let m1 = Mate {
            codes: &r1.codes,
            qual: &r1.qual,
            hits: &hits[2 * p],
        };
        let m2 = Mate {
            codes: &r2.codes,
            qual: &r2.qual,
            hits: &hits[2 * p + 1],
        };
        let mut v = Vec::with_capacity(2);
        pair::pair(
            &r1.name,
            &m1,
            &m2,
            self.reference,
            insert,
            &self.pair,
            &mut v,
        );
        v
    }
}

/// Aligns a stream of batches with one batch of lookahead (double buffering): while batch i's
/// extension kernel runs on the backend and its pairs are finished, the CPU seeds and chains
/// batch i+1 into the other of two scratches; the thread that waits for the device is the only
/// one idle. Only for backends that are [`Backend::device_bound`]; on the CPU backends each
/// batch is aligned as it comes (`docs/decisions/0004-double-buffering-on-device-backends-only.md`).
/// Either way each batch comes back, in order, with exactly what [`Aligner::align_pairs`] gives
/// for it.
pub struct Lookahead<'a, 'r> {
    aligner: &'a Aligner<'r>,
    scratch: [AlignScratch; 2],
    /// The batch whose seeds and chains are in `scratch[slot]`.
    pending: Option<ReadBatch>,
    slot: usize,
    overlap: bool,
}

/// A batch and its pairs' records, from [`Lookahead`].
pub type Aligned = (ReadBatch, Vec<Vec<AlignedRead>>);

impl<'a, 'r> Lookahead<'a, 'r> {
    pub fn new(aligner: &'a Aligner<'r>) -> Self {
        Lookahead {
            aligner,
            scratch: Default::default(),
            pending: None,
            slot: 0,
            overlap: aligner.backend.device_bound(),
        }
    }

    /// Whether batches overlap (the backend is [`Backend::device_bound`]).
    pub fn overlaps(&self) -> bool {
        self.overlap
    }

    /// Starts on `batch`; returns the batch pushed before it, aligned, if there is one (with a
    /// CPU backend: `batch` itself, aligned).
    pub fn push(&mut self, batch: ReadBatch) -> Result<Option<Aligned>> {
        if !self.overlap {
            let pairs = self.aligner.align_pairs(&batch, &mut self.scratch[0])?;
            return Ok(Some((batch, pairs)));
        }
        let aligner = self.aligner;
        let [a, b] = &mut self.scratch;
        let (current, next) = if self.slot == 0 { (a, b) } else { (b, a) };
        let previous = self.pending.take();
        let ((), done) = rayon::join(
            || aligner.prepare(&batch, next),
            || {
                previous
                    .map(|p| {
                        let hits = aligner.extend(&p, current)?;
                        let pairs = aligner.finish_pairs(&p, hits, current)?;
                        Ok((p, pairs))
                    })
                    .transpose()
            },
        );
        self.pending = Some(batch);
        self.slot ^= 1;
        done
    }

    /// Finishes the last batch pushed, if any.
    pub fn flush(&mut self) -> Result<Option<Aligned>> {
        let Some(p) = self.pending.take() else {
            return Ok(None);
        };
        let s = &mut self.scratch[self.slot];
        let hits = self.aligner.extend(&p, s)?;
        let pairs = self.aligner.finish_pairs(&p, hits, s)?;
        Ok(Some((p, pairs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::random_bases;
    use crate::io::fastq::ReadRecord;
    use crate::io::reference::Contig;
    use crate::model::alignment::Flags;

    /// A random one-contig genome `chrT` and its reference.
    fn genome(len: usize, seed: u64) -> (Vec<u8>, Reference) {
        let codes = random_bases(&mut fastrand::Rng::with_seed(seed), len);
        let reference = Reference {
            path: "t.fa".into(),
            contigs: vec![Contig {
                name: "chrT".into(),
                codes: codes.clone(),
                md5: "0".repeat(32),
                refget: String::new(),
            }],
        };
        (codes, reference)
    }

    fn aligner(reference: &Reference) -> Aligner<'_> {
        let index = Index::build(reference).unwrap();
        Aligner::new(reference, index, Arc::new(crate::backend::scalar::Scalar))
    }

    fn read(name: &str, codes: Vec<u8>) -> ReadRecord {
        let qual = vec![30; codes.len()];
        ReadRecord {
            name: name.into(),
            codes,
            qual,
        }
    }

    fn rc(codes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        reverse_complement_into(codes, &mut out);
        out
    }

    /// The scalar backend, claiming to wait on a device: makes [`Lookahead`] overlap batches.
    struct DeviceBound(crate::backend::scalar::Scalar);

    impl Backend for DeviceBound {
        fn name(&self) -> String {
            "device-bound scalar".into()
        }
        fn banded_align(
            &self,
            batch: &AlignBatch,
            params: &AlignParams,
            out: &mut AlignResults,
        ) -> Result<()> {
            self.0.banded_align(batch, params, out)
        }
        fn pair_hmm(
            &self,
            batch: &crate::kernel::pair_hmm::HmmBatch,
            out: &mut crate::kernel::pair_hmm::HmmResults,
        ) -> Result<()> {
            self.0.pair_hmm(batch, out)
        }
        fn device_bound(&self) -> bool {
            true
        }
    }

    #[test]
    fn lookahead_gives_each_batch_what_align_pairs_gives() {
        let (genome, reference) = genome(50_000, 79);
        let overlapped = Aligner::new(
            &reference,
            Index::build(&reference).unwrap(),
            Arc::new(DeviceBound(crate::backend::scalar::Scalar)),
        );
        let plain = aligner(&reference);
        // Five batches of pairs from random places (some with errors, one unmappable).
        let mut state = 12345u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let batches: Vec<ReadBatch> = (0..5)
            .map(|b| {
                let (mut r1, mut r2) = (Vec::new(), Vec::new());
                for p in 0..40 {
                    let at = next(49_000 - 500) as usize;
                    let mut a = genome[at..at + 150].to_vec();
                    let mut m = rc(&genome[at + 250..at + 400]);
                    if p % 3 == 0 {
                        let i = next(150) as usize;
                        a[i] = (a[i] + 1) % 4;
                    }
                    if b == 2 && p == 7 {
                        m = random_bases(&mut fastrand::Rng::with_seed(5), 150);
                    }
                    r1.push(read(&format!("b{b}p{p}"), a));
                    r2.push(read(&format!("b{b}p{p}"), m));
                }
                ReadBatch {
                    r1,
                    r2,
                    first_pair: 40 * b,
                    ..Default::default()
                }
            })
            .collect();
        let want: Vec<_> = batches
            .iter()
            .map(|b| plain.align_pairs(b, &mut AlignScratch::default()).unwrap())
            .collect();
        let mut look = Lookahead::new(&overlapped);
        assert!(look.overlaps());
        let mut got = Vec::new();
        for b in batches.iter().cloned() {
            got.extend(look.push(b).unwrap());
        }
        got.extend(look.flush().unwrap());
        assert!(look.flush().unwrap().is_none());
        assert_eq!(got.len(), 5);
        for (i, (b, pairs)) in got.iter().enumerate() {
            assert_eq!(b.first_pair, 40 * i as u64);
            assert!(pairs == &want[i], "batch {i} differs");
        }
        // A CPU backend aligns each batch as it comes.
        let mut cpu = Lookahead::new(&plain);
        assert!(!cpu.overlaps());
        let (b, pairs) = cpu.push(batches[1].clone()).unwrap().unwrap();
        assert_eq!(b.first_pair, 40);
        assert!(pairs == want[1]);
    }

    #[test]
    fn a_chimeric_read_gets_a_supplementary_record_and_sa_tags() {
        let (genome, reference) = genome(60_000, 77);
        let a = aligner(&reference);
        // R1: 80 bases from 10,000 then 70 from 40,000; R2: the mate of the first part.
        let mut r1 = genome[10_000..10_080].to_vec();
        r1.extend_from_slice(&genome[40_000..40_070]);
        let r2 = rc(&genome[10_250..10_400]);
        let batch = ReadBatch {
            r1: vec![read("chimera", r1)],
            r2: vec![read("chimera", r2)],
            first_pair: 0,
            ..Default::default()
        };
        let recs = a
            .align_pairs(&batch, &mut AlignScratch::default())
            .unwrap()
            .remove(0);
        assert_eq!(recs.len(), 3, "{recs:#?}");
        let (p1, p2, sup) = (&recs[0], &recs[1], &recs[2]);
        assert_eq!(
            p1.flags & (Flags::FIRST_SEGMENT | Flags::SUPPLEMENTARY | Flags::PROPERLY_SEGMENTED),
            Flags::FIRST_SEGMENT | Flags::PROPERLY_SEGMENTED
        );
        assert_eq!((p1.pos, p1.cigar.to_string().as_str()), (10_000, "80M70S"));
        assert_eq!(p2.pos, 10_250);
        assert_eq!(
            sup.flags & (Flags::FIRST_SEGMENT | Flags::SUPPLEMENTARY),
            Flags::FIRST_SEGMENT | Flags::SUPPLEMENTARY
        );
        assert_eq!(
            (sup.pos, sup.cigar.to_string().as_str()),
            (40_000, "80S70M")
        );
        assert_eq!(sup.seq, p1.seq);
        assert_eq!(p1.sa.as_deref(), Some("chrT,40001,+,80S70M,60,0;"));
        assert_eq!(sup.sa.as_deref(), Some("chrT,10001,+,80M70S,60,0;"));
        assert_eq!(sup.mate_pos, 10_250);
        assert!(p2.sa.is_none());
    }

    /// A reference with ALT contigs (ALT by their `_alt` names) and the same reference without
    /// them. `chrT` is random; `chrT_alt` holds chrT:20,001-25,000 unchanged (offsets
    /// 0..5,000), chrT:25,001-29,000 with a substitution every 50 bases (5,000..9,000), 1,000
    /// bases found nowhere else in the primary assembly (9,000..10,000), chrT:29,001-32,000
    /// diverged likewise (10,000..13,000); `chrT2_alt` holds the first 500 of those 1,000
    /// between random flanks of 500.
    fn with_alt() -> (Reference, Reference) {
        let (chr_t, without) = genome(60_000, 80);
        let mut rng = fastrand::Rng::with_seed(81);
        let novel = random_bases(&mut rng, 1_000);
        let diverged = |from: usize, to: usize| -> Vec<u8> {
            let mut v = chr_t[from..to].to_vec();
            for i in (25..v.len()).step_by(50) {
                v[i] = (v[i] + 1) % 4;
            }
            v
        };
        let mut alt = chr_t[20_000..25_000].to_vec();
        alt.extend(diverged(25_000, 29_000));
        alt.extend_from_slice(&novel);
        alt.extend(diverged(29_000, 32_000));
        let mut alt2 = random_bases(&mut rng, 500);
        alt2.extend_from_slice(&novel[..500]);
        alt2.extend(random_bases(&mut rng, 500));
        let mut with = without.clone();
        for (name, codes) in [("chrT_alt", alt), ("chrT2_alt", alt2)] {
            with.contigs.push(Contig {
                name: name.into(),
                codes,
                md5: "0".repeat(32),
                refget: String::new(),
            });
        }
        (with, without)
    }

    /// One pair per entry: R1 forward at `a`, R2 reverse at `b` (150 bases each) of `codes`.
    fn pairs_from(codes: &[u8], at: &[(usize, usize)]) -> ReadBatch {
        let (mut r1, mut r2) = (Vec::new(), Vec::new());
        for (i, &(a, b)) in at.iter().enumerate() {
            r1.push(read(&format!("p{i}"), codes[a..a + 150].to_vec()));
            r2.push(read(&format!("p{i}"), rc(&codes[b..b + 150])));
        }
        ReadBatch {
            r1,
            r2,
            first_pair: 0,
            ..Default::default()
        }
    }

    #[test]
    fn a_pair_from_a_region_with_an_alt_copy_maps_as_if_the_alt_were_absent() {
        let (with, without) = with_alt();
        let (a, plain) = (aligner(&with), aligner(&without));
        assert!(a.index.is_alt(1) && a.index.is_alt(2) && !a.index.is_alt(0));
        let chr_t = &with.contigs[0].codes;
        let alt = &with.contigs[1].codes;
        let mut batch = pairs_from(
            chr_t,
            &[
                (21_000, 21_250), // where the ALT copy is identical: equal ALT hits
                (26_000, 26_250), // where it differs: lower ALT hits
            ],
        );
        // A pair from the ALT haplotype itself: its ALT hits score higher than the primary
        // ones (chrT:26,001 and 26,251 with 3 substitutions each), yet the primary assembly
        // places it.
        let from_alt = pairs_from(alt, &[(6_000, 6_250)]);
        batch.r1.extend(from_alt.r1);
        batch.r2.extend(from_alt.r2);
        let got = a.align_pairs(&batch, &mut AlignScratch::default()).unwrap();
        let want = plain
            .align_pairs(&batch, &mut AlignScratch::default())
            .unwrap();
        for (p, (got, want)) in got.iter().zip(&want).enumerate() {
            // The same records as without the ALT contigs (MAPQ included), none on an ALT
            // contig, and XA naming the ALT hits.
            let mut bare = got.clone();
            bare.iter_mut().for_each(|r| r.xa = None);
            assert_eq!(&bare, want, "pair {p}");
            assert!(
                got.iter().all(|r| r.contig == Some(0)),
                "pair {p}: {got:#?}"
            );
            assert_eq!(got.len(), 2, "pair {p}");
            assert_eq!((got[0].mapq, got[1].mapq), (60, 60), "pair {p}");
            assert!(got[0].flags.intersects(Flags::PROPERLY_SEGMENTED));
        }
        let xa = |p: usize, m: usize| got[p][m].xa.as_deref();
        assert_eq!(xa(0, 0), Some("chrT_alt,+1001,150M,0;"));
        assert_eq!(xa(0, 1), Some("chrT_alt,-1251,150M,0;"));
        assert_eq!(xa(1, 0), Some("chrT_alt,+6001,150M,3;"));
        assert_eq!(xa(1, 1), Some("chrT_alt,-6251,150M,3;"));
        assert_eq!(xa(2, 0), Some("chrT_alt,+6001,150M,0;"));
        assert_eq!(xa(2, 1), Some("chrT_alt,-6251,150M,0;"));
        assert_eq!((got[2][0].pos, got[2][0].nm), (26_000, 3));
    }

    #[test]
    fn a_read_only_on_alt_contigs_keeps_its_alt_placement() {
        let (with, _) = with_alt();
        let a = aligner(&with);
        let alt = &with.contigs[1].codes;
        let batch = pairs_from(
            alt,
            &[
                (9_550, 9_800), // only on chrT_alt
                (9_050, 9_300), // on chrT_alt and chrT2_alt alike
                (8_820, 9_560), // R1 also on chrT (diverged), R2 only on chrT_alt
            ],
        );
        let got = a.align_pairs(&batch, &mut AlignScratch::default()).unwrap();
        // Only on chrT_alt: a proper pair there, MAPQ 60, no XA.
        let p = &got[0];
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!((p[0].contig, p[0].pos, p[0].mapq), (Some(1), 9_550, 60));
        assert_eq!((p[1].contig, p[1].pos, p[1].mapq), (Some(1), 9_800, 60));
        assert!(p[0].flags.intersects(Flags::PROPERLY_SEGMENTED));
        assert!(p[0].xa.is_none() && p[1].xa.is_none());
        // Equally on two ALT contigs: MAPQ 0 over those hits; the other ALT hit is in XA, not a
        // secondary record.
        let p = &got[1];
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!(p[0].contig, p[1].contig);
        assert!(p[0].flags.intersects(Flags::PROPERLY_SEGMENTED));
        assert_eq!((p[0].mapq, p[1].mapq), (0, 0));
        let (on, other, r1_at) = if p[0].contig == Some(1) {
            (9_050, "chrT2_alt", 550 + 1)
        } else {
            (550, "chrT_alt", 9_050 + 1)
        };
        assert_eq!(p[0].pos, on);
        assert_eq!(
            p[0].xa.as_deref(),
            Some(format!("{other},+{r1_at},150M,0;").as_str())
        );
        // R1 maps to the primary assembly (XA: its ALT hit), R2 only to the ALT: each keeps
        // its own placement (bwa-mem pairs primary-assembly hits only), not a proper pair.
        let p = &got[2];
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!((p[0].contig, p[0].pos), (Some(0), 28_820));
        assert_eq!((p[1].contig, p[1].pos), (Some(1), 9_560));
        assert!(!p[0].flags.intersects(Flags::PROPERLY_SEGMENTED));
        assert_eq!(p[0].xa.as_deref(), Some("chrT_alt,+8821,150M,0;"));
    }

    #[test]
    fn a_mate_without_seeds_is_rescued_next_to_its_mate() {
        let (genome, reference) = genome(30_000, 78);
        let a = aligner(&reference);
        // R2 has a mismatch every 10 bases: no 21-mer survives, so no seed; it still aligns
        // (score 150 - 15·5 = 75 ≥ 30) where the insert size puts it.
        let mut r2 = genome[5_300..5_450].to_vec();
        for i in (5..150).step_by(10) {
            r2[i] = (r2[i] + 1) % 4;
        }
        let batch = ReadBatch {
            r1: vec![read("p", genome[5_000..5_150].to_vec())],
            r2: vec![read("p", rc(&r2))],
            first_pair: 0,
            ..Default::default()
        };
        let recs = a
            .align_pairs(&batch, &mut AlignScratch::default())
            .unwrap()
            .remove(0);
        assert_eq!(
            recs[1].flags
                & (Flags::UNMAPPED | Flags::PROPERLY_SEGMENTED | Flags::REVERSE_COMPLEMENTED),
            Flags::PROPERLY_SEGMENTED | Flags::REVERSE_COMPLEMENTED
        );
        assert_eq!(recs[1].pos, 5_300);
        assert_eq!(recs[1].nm, 15);
    }
}
