//! criterion bench of the caller's pileup, ids `pileup/genoa/30x` (genoa's [`Pileup`]: every
//! read's bases added to their sites, the sites handed out in order) and `pileup/htslib/30x`
//! (the peer: htslib's pileup engine, `bam_plp`, through rust-htslib, over a BAM of the same
//! reads, each column's alignments visited for their base and quality), throughput in read
//! bases per second, one thread.
//!
//! The two do different amounts of work, so the ratio is context, not a race: htslib decodes
//! the BAM (genoa's reads come decoded) but keeps no statistics; genoa keeps per site the base
//! counts, the genotype likelihood sums, the indel-informative and indel-adjacent reads of
//! GATK's reference model and the QC depth, and computes per site the tandem-repeat reach of
//! an indel there.
//!
//! Workload (seeded): a 200 kb human-like contig (random bases with homopolymers and STRs of
//! periods 1–6 every ~300 bases), single reads of 150 bases at 30x on both strands, sorted,
//! with 1 % substitutions and one in twenty with a 1–3 base deletion, qualities 2–40, MAPQ 60.

#[path = "common/rng.rs"]
#[allow(dead_code)] // `mutate` is for reads aligned with indels; these reads carry their CIGAR
mod rng;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genoa::call::CallParams;
use genoa::call::pileup::Pileup;
use genoa::genome::{Cigar, CigarOp, base_ascii};
use genoa::model::alignment::{AlignedRead, Flags};
use rng::Rng;
use rust_htslib::bam::{self, Read as _};

const LEN: usize = 200_000;
const READ: usize = 150;

fn contig(rng: &mut Rng) -> Vec<u8> {
    let mut s = Vec::with_capacity(LEN + 64);
    while s.len() < LEN {
        s.extend((0..rng.usize(200..400)).map(|_| rng.u8(0..4)));
        let unit: Vec<u8> = (0..rng.usize(1..=6)).map(|_| rng.u8(0..4)).collect();
        s.extend(unit.iter().cycle().take(rng.usize(8..40)));
    }
    s.truncate(LEN);
    s
}

fn reads(rng: &mut Rng, contig: &[u8]) -> Vec<AlignedRead> {
    let n = 30 * LEN / READ;
    let mut starts: Vec<u64> = (0..n).map(|_| rng.u64(..(LEN - READ - 4) as u64)).collect();
    starts.sort_unstable();
    starts
        .into_iter()
        .map(|pos| {
            let p = pos as usize;
            let (cigar, seq) = if rng.u8(0..20) == 0 {
                // A deletion of 1-3 bases after base 40..110.
                let (at, del) = (rng.usize(40..110), rng.usize(1..=3));
                let mut seq = contig[p..p + at].to_vec();
                seq.extend_from_slice(&contig[p + at + del..p + READ + del]);
                let ops = vec![
                    (CigarOp::Match, at as u32),
                    (CigarOp::Del, del as u32),
                    (CigarOp::Match, (READ - at) as u32),
                ];
                (Cigar(ops), seq)
            } else {
                (
                    Cigar(vec![(CigarOp::Match, READ as u32)]),
                    contig[p..p + READ].to_vec(),
                )
            };
            let seq = seq
                .iter()
                .map(|&b| {
                    let b = if rng.u8(0..100) == 0 {
                        (b + 1 + rng.u8(0..3)) % 4
                    } else {
                        b
                    };
                    base_ascii(b)
                })
                .collect();
            AlignedRead {
                name: format!("r{pos}"),
                flags: if rng.bool() {
                    Flags::REVERSE_COMPLEMENTED
                } else {
                    Flags::empty()
                },
                contig: Some(0),
                pos,
                mapq: 60,
                cigar,
                mate_contig: None,
                mate_pos: 0,
                tlen: 0,
                seq,
                qual: (0..READ).map(|_| rng.u8(2..=40)).collect(),
                nm: 0,
                md: String::new(),
                mate_cigar: None,
                sa: None,
                xa: None,
            }
        })
        .collect()
}

/// The reads as a BAM (htslib's writer) at `path`.
fn write_bam(path: &std::path::Path, reads: &[AlignedRead]) {
    let mut header = bam::Header::new();
    let mut sq = bam::header::HeaderRecord::new(b"SQ");
    sq.push_tag(b"SN", "bench");
    sq.push_tag(b"LN", LEN);
    header.push_record(&sq);
    let mut w = bam::Writer::from_path(path, &header, bam::Format::Bam).expect("BAM writer");
    for r in reads {
        let ops: Vec<bam::record::Cigar> = r
            .cigar
            .0
            .iter()
            .map(|&(op, n)| match op {
                CigarOp::Del => bam::record::Cigar::Del(n),
                _ => bam::record::Cigar::Match(n),
            })
            .collect();
        let mut rec = bam::Record::new();
        rec.set(
            r.name.as_bytes(),
            Some(&bam::record::CigarString(ops)),
            &r.seq,
            &r.qual,
        );
        rec.set_tid(0);
        rec.set_pos(r.pos as i64);
        rec.set_mapq(r.mapq);
        rec.set_flags(r.flags.bits());
        rec.set_mtid(-1);
        rec.set_mpos(-1);
        w.write(&rec).expect("BAM record");
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng::with_seed(0x911e_0023);
    let contig = contig(&mut rng);
    let reads = reads(&mut rng, &contig);
    let dir = tempfile::tempdir().expect("temp dir");
    let bam = dir.path().join("pileup.bam");
    write_bam(&bam, &reads);
    let params = CallParams::default();
    let mut g = c.benchmark_group("pileup");
    g.throughput(Throughput::Elements((reads.len() * READ) as u64));
    g.sample_size(10);
    g.bench_function("genoa/30x", |b| {
        b.iter(|| {
            let mut pileup = Pileup::new(&params, 0);
            let mut depth = 0u64;
            for r in &reads {
                pileup.flush_before(r.pos, |_, s| depth += u64::from(s.reads));
                pileup.add(r, &contig);
            }
            pileup.flush_before(LEN as u64, |_, s| depth += u64::from(s.reads));
            depth
        })
    });
    g.bench_function("htslib/30x", |b| {
        b.iter(|| {
            let mut reader = bam::Reader::from_path(&bam).expect("BAM");
            let mut depth = 0u64;
            let mut quals = 0u64;
            for column in reader.pileup() {
                let column = column.expect("pileup column");
                for a in column.alignments() {
                    if let Some(q) = a.qpos() {
                        let rec = a.record();
                        depth += 1;
                        quals += u64::from(rec.qual()[q]) + u64::from(rec.seq()[q]);
                    }
                }
            }
            (depth, quals)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
