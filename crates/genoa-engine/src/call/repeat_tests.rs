//! Regression tests of indels in tandem repeats and homopolymers (issue 18), end to end through
//! the aligner and the caller: a random contig with one repeat, a diploid sample with an indel
//! in it, error-free 2×150 pairs from both haplotypes every few bases (≈ 40×), aligned by
//! `Aligner` on the scalar backend and called by `call_contig`. Each case is one cause found on
//! repeat-rich samples.

use std::sync::Arc;

use crate::align::{AlignScratch, Aligner};
use crate::backend::scalar::Scalar;
use crate::call::{CallParams, call_contig};
use crate::genome::{base_codes, random_bases, reverse_complement_into};
use crate::index::Index;
use crate::io::fastq::{ReadBatch, ReadRecord};
use crate::io::reference::{Contig, Reference};
use crate::model::alignment::AlignedRead;
use crate::model::gvcf::Record;

/// Where the repeat starts in the test contig.
const AT: usize = 2_000;

/// A 4-kb random contig with `repeat` at [`AT`].
fn contig_with(repeat: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut c = random_bases(&mut rng, AT);
    c.extend(base_codes(repeat));
    c.extend(random_bases(&mut rng, 4_000 - c.len()));
    c
}

/// `contig` with `del` bases deleted after `anchor` and `ins` inserted there.
fn edit(contig: &[u8], anchor: usize, del: usize, ins: &[u8]) -> Vec<u8> {
    let mut h = contig[..=anchor].to_vec();
    h.extend(base_codes(ins));
    h.extend(&contig[anchor + 1 + del..]);
    h
}

/// Pairs (fragment 320, reads 150) every 7 bases from each haplotype, the second mate
/// reverse-complemented, aligned to `contig`; the records sorted by position.
fn aligned(contig: &[u8], haplotypes: &[&[u8]]) -> Vec<AlignedRead> {
    let reference = Reference {
        path: "t.fa".into(),
        contigs: vec![Contig {
            name: "chrT".into(),
            codes: contig.to_vec(),
            md5: "0".repeat(32),
            refget: String::new(),
        }],
    };
    let aligner = Aligner::new(
        &reference,
        Index::build(&reference).unwrap(),
        Arc::new(Scalar),
    );
    let read = |name: String, codes: Vec<u8>| ReadRecord {
        name,
        qual: vec![30; codes.len()],
        codes,
    };
    let mut batch = ReadBatch {
        r1: Vec::new(),
        r2: Vec::new(),
        first_pair: 0,
        ..Default::default()
    };
    for (h, hap) in haplotypes.iter().enumerate() {
        for s in (AT - 600..AT + 400).step_by(7) {
            let mut r2 = Vec::new();
            reverse_complement_into(&hap[s + 170..s + 320], &mut r2);
            batch
                .r1
                .push(read(format!("h{h}s{s}"), hap[s..s + 150].to_vec()));
            batch.r2.push(read(format!("h{h}s{s}"), r2));
        }
    }
    let mut out: Vec<AlignedRead> = aligner
        .align_pairs(&batch, &mut AlignScratch::default())
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    out.sort_by_key(|r| r.pos);
    out
}

/// A called variant: position, REF, ALTs, genotype.
type Call = (usize, Vec<u8>, Vec<Vec<u8>>, [u8; 2]);

/// The variant records called from `reads`.
fn called(contig: &[u8], reads: &[AlignedRead]) -> Vec<Call> {
    called_with(contig, reads, &CallParams::default())
}

/// Asserts that exactly one variant is called and that it turns `contig` into `expected`.
fn assert_one_call_gives(contig: &[u8], reads: &[AlignedRead], expected: &[u8], gt: [u8; 2]) {
    let calls = called(contig, reads);
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (pos, reference, alts, got) = &calls[0];
    let mut h = contig[..*pos].to_vec();
    h.extend(&alts[0]);
    h.extend(&contig[pos + reference.len()..]);
    assert!(
        h == expected,
        "the call does not give the haplotype: {calls:?}"
    );
    assert_eq!(*got, gt, "{calls:?}");
}

#[test]
fn a_deletion_in_a_long_homopolymer_is_called_from_the_reads_that_cross_it() {
    // Two T of 25 deleted, on both haplotypes. The haplotypes scored against the reads used to
    // end 20 bases after the deletion, inside the run, where reads with and without it fit
    // alike: the call was lost.
    let contig = contig_with(&[b'T'; 25], 1);
    let alt = edit(&contig, AT - 1, 2, b"");
    assert_one_call_gives(&contig, &aligned(&contig, &[&alt, &alt]), &alt, [1, 1]);
}

#[test]
fn a_heterozygous_insertion_in_a_microsatellite_stays_heterozygous() {
    // One CAG more in (CAG)15: reads without it that end inside the tract used to fit the
    // longer allele as well as their own, so the call came out homozygous.
    let contig = contig_with(&b"CAG".repeat(15), 2);
    let alt = edit(&contig, AT - 1, 0, b"CAG");
    assert_one_call_gives(&contig, &aligned(&contig, &[&contig, &alt]), &alt, [0, 1]);
}

#[test]
fn a_unit_deleted_from_an_interrupted_repeat_is_not_two_snps() {
    // (GCGGCA)4 GCGGCG (GCGGCA)5: one unit before the interruption deleted on both
    // haplotypes. Moving the interruption with two SNPs explains reads that end inside the
    // repeat as well; only a window over the whole interrupted tract tells them apart.
    let mut repeat = b"GCGGCA".repeat(4);
    repeat.extend(b"GCGGCG");
    repeat.extend(b"GCGGCA".repeat(5));
    let contig = contig_with(&repeat, 3);
    let alt = edit(&contig, AT - 1, 6, b"");
    assert_one_call_gives(&contig, &aligned(&contig, &[&alt, &alt]), &alt, [1, 1]);
}

#[test]
fn a_deletion_that_is_not_a_whole_unit_keeps_its_length() {
    // GAG deleted from (AG)35: the aligner's cheaper edit in reads that end inside the tract is
    // one G, and only reads crossing the 70-base tract tell the lengths apart.
    let contig = contig_with(&b"AG".repeat(35), 4);
    let alt = edit(&contig, AT + 20, 3, b"");
    assert_one_call_gives(&contig, &aligned(&contig, &[&alt, &alt]), &alt, [1, 1]);
}

#[test]
fn a_junction_in_a_tract_longer_than_the_reads_is_one_allele() {
    // AAAA deleted from one copy of (GAAAA)40 (200 bases, longer than a read): no read crosses
    // the tract; reads anchored on the left see a GG junction one distance in, reads anchored
    // on the right another, and the aligner writes both as one inserted G. Two heterozygous
    // insertions used to be called; the one haplotype that fits both is the deletion.
    let contig = contig_with(&b"GAAAA".repeat(40), 5);
    let alt = edit(&contig, AT + 60, 4, b"");
    assert_one_call_gives(&contig, &aligned(&contig, &[&alt, &alt]), &alt, [1, 1]);
}

#[test]
fn an_indel_is_not_split_among_haplotypes_the_reads_cannot_tell_apart() {
    // One G deleted from the first copy of (GGGGGA)40 (240 bases). The same deletion with
    // the tract a unit shorter or longer at its far end fits every read as well (none reaches
    // the far end with the junction in it); scored event by event, each of these look-alikes
    // took the reads' support from the others and nothing was called. The likeliest pair of
    // haplotypes, the simplest first, decides.
    let contig = contig_with(&b"GGGGGA".repeat(40), 6);
    let alt = edit(&contig, AT - 1, 1, b"");
    assert_one_call_gives(&contig, &aligned(&contig, &[&alt, &alt]), &alt, [1, 1]);
}

#[test]
fn the_pileup_counts_an_indel_at_its_left_aligned_anchor() {
    use crate::call::pileup::{Indel, Pileup};
    use crate::genome::{Cigar, CigarOp};
    use crate::model::alignment::Flags;
    // (GGC)8 from 10; two reads show one more GGC, placed by their aligner at different
    // copies. Both count for the one allele, at the anchor before the tract.
    let contig = contig_with(&b"GGC".repeat(8), 7);
    let read = |pos: u64, m: u32| {
        let mut seq: Vec<u8> = contig[pos as usize..pos as usize + m as usize].to_vec();
        let at = (pos + u64::from(m)) as usize;
        seq.extend(&contig[at - 3..at]);
        seq.extend(&contig[at..at + 40]);
        AlignedRead {
            name: "r".into(),
            flags: Flags::empty(),
            contig: Some(0),
            pos,
            mapq: 60,
            cigar: Cigar(vec![
                (CigarOp::Match, m),
                (CigarOp::Ins, 3),
                (CigarOp::Match, 40),
            ]),
            mate_contig: None,
            mate_pos: 0,
            tlen: 0,
            seq: seq.iter().map(|&c| b"ACGT"[c as usize]).collect(),
            qual: vec![30; seq.len()],
            nm: 3,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    };
    let first = AT as u64 - 30;
    let mut pileup = Pileup::new(&CallParams::default(), first);
    // Inserted after the 3rd and after the 6th copy.
    pileup.add(&read(first, 30 + 9), &contig);
    pileup.add(&read(first + 2, 28 + 18), &contig);
    let mut sites = Vec::new();
    pileup.flush_before(AT as u64 + 100, |pos, site| sites.push((pos, site)));
    let with: Vec<(u64, Vec<(Indel, u32)>)> = sites
        .into_iter()
        .filter(|(_, s)| !s.indels.is_empty())
        .map(|(p, s)| (p, s.indels))
        .collect();
    let ggc = base_codes(b"GGC");
    assert_eq!(with, vec![(AT as u64 - 1, vec![(Indel::Ins(ggc), 2)])]);
}

/// Reads of 150 bases every 5 from `hap` (`contig` with `ins` bases inserted after `anchor`),
/// aligned as an aligner that never opens a gap would: the longest stretch that matches the
/// reference from either end of the read is kept, the rest soft-clipped.
fn clip_aligned(contig: &[u8], hap: &[u8], anchor: usize, ins: usize) -> Vec<AlignedRead> {
    use crate::genome::{Cigar, CigarOp};
    let mut out = Vec::new();
    for s in (AT - 400..AT + 250).step_by(5) {
        let seq = &hap[s..s + 150];
        // From the left, on the reference where the read starts; from the right, where it ends.
        let left = (0..150).take_while(|&i| seq[i] == contig[s + i]).count();
        let end = if s + 150 > anchor + 1 {
            s + 150 - ins
        } else {
            s + 150
        };
        let right = (0..150)
            .take_while(|&i| seq[149 - i] == contig[end - 1 - i])
            .count();
        let (pos, cigar) = if left >= right {
            let mut c = vec![(CigarOp::Match, left as u32)];
            if left < 150 {
                c.push((CigarOp::SoftClip, 150 - left as u32));
            }
            (s, c)
        } else {
            (
                end - right,
                vec![
                    (CigarOp::SoftClip, 150 - right as u32),
                    (CigarOp::Match, right as u32),
                ],
            )
        };
        out.push(AlignedRead {
            name: format!("c{s}"),
            flags: crate::model::alignment::Flags::empty(),
            contig: Some(0),
            pos: pos as u64,
            mapq: 60,
            cigar: Cigar(cigar),
            mate_contig: None,
            mate_pos: 0,
            tlen: 0,
            seq: seq.iter().map(|&c| b"ACGT"[c as usize]).collect(),
            qual: vec![30; 150],
            nm: 0,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        });
    }
    out
}

#[test]
fn a_longer_repeat_allele_that_the_aligner_clips_is_called() {
    // Two more copies of TTTCTG in (TTTCTG)12, on one haplotype, and an aligner that clips
    // every read of the longer allele where it stops matching (each at its own base) instead
    // of opening a gap: no pileup candidate shows the insertion, so the clipped tract itself
    // proposes the tract a few copies longer and shorter; the clipped bases decide. (The
    // 84-base tract repeats every k-mer the assembly tries.)
    let contig = contig_with(&b"TTTCTG".repeat(12), 8);
    let alt = edit(&contig, AT - 1, 0, &b"TTTCTG".repeat(2));
    let mut reads = clip_aligned(&contig, &contig, AT - 1, 0);
    reads.extend(clip_aligned(&contig, &alt, AT - 1, 12));
    reads.sort_by_key(|r| r.pos);
    assert_one_call_gives(&contig, &reads, &alt, [0, 1]);
}

/// The variant records `call_contig` writes with `params`.
fn called_with(contig: &[u8], reads: &[AlignedRead], params: &CallParams) -> Vec<Call> {
    call_contig(contig, reads, params, &Scalar)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r {
            Record::Variant(v) => Some((v.pos as usize, v.reference, v.alts, v.genotyped.gt)),
            Record::Block(_) => None,
        })
        .collect()
}

#[test]
fn a_snp_under_the_other_haplotypes_deletion_gets_a_star_allele_on_request() {
    // 10 bases deleted after AT + 100 on one haplotype, a SNP at AT + 105 on the other.
    let contig = contig_with(b"", 3);
    let del = edit(&contig, AT + 100, 10, b"");
    let mut snp = contig.clone();
    snp[AT + 105] = (snp[AT + 105] + 1) % 4;
    let reads = aligned(&contig, &[&del, &snp]);
    let bases = |c: &[u8]| c.to_vec();
    // Default: one record whose REF covers both, GT 1/2.
    let merged = called_with(&contig, &reads, &CallParams::default());
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!(merged[0].0, AT + 100);
    assert_eq!(merged[0].1, bases(&contig[AT + 100..AT + 111]));
    assert_eq!(merged[0].2.len(), 2, "{merged:?}");
    assert_eq!(merged[0].3, [1, 2]);
    // --star-alleles: the deletion's record (GT 0/1: the SNP haplotype is REF there) and the
    // SNP's own, overlapping it, with `*` for the deletion's haplotype (GT 1/2).
    let params = CallParams {
        star_alleles: true,
        ..CallParams::default()
    };
    let star = called_with(&contig, &reads, &params);
    assert_eq!(star.len(), 2, "{star:?}");
    assert_eq!(
        (star[0].0, &star[0].1, &star[0].2, star[0].3),
        (
            AT + 100,
            &bases(&contig[AT + 100..AT + 111]),
            &vec![bases(&contig[AT + 100..AT + 101])],
            [0, 1]
        )
    );
    assert_eq!(
        (star[1].0, &star[1].1, &star[1].2, star[1].3),
        (
            AT + 105,
            &bases(&contig[AT + 105..AT + 106]),
            &vec![
                bases(&snp[AT + 105..AT + 106]),
                vec![crate::genome::SPANNING_DELETION]
            ],
            [1, 2]
        )
    );
}
