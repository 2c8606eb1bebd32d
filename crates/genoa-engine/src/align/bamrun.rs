//! How sort runs and checkpoints store BAM records: [`BamRecords`], a [`PayloadCodec`] that
//! lays a block's records out field by field (the fixed fields transposed byte by byte, then
//! names, CIGARs, bases, qualities and tags, each stream on its own) and stores each base
//! aligned to the reference as its XOR with the reference base's 4-bit code, so a base equal
//! to the reference is a zero nibble.
//!
//! Why: a segment's records are sparse on the genome (a 262,144-pair segment of a 30x human
//! sample has a read every ~6 kb), so, unlike in a sorted BAM, neighbouring records share no
//! sequence and deflate finds nothing to reuse in their bases. Measured on E. coli 120x with
//! 16,384-pair segments (level-1 deflate of the same blocks): records one after the other
//! 21.8 MB, field by field 17.9 MB, field by field with bases against the reference 12.2 MB.
//!
//! The transform is exactly reversible whatever the bytes: the reference nibbles come from
//! the record's own reference ID, position, flag and CIGAR, which are stored as they are, and
//! a payload that is not a whole BAM record is stored as it is. Decoding needs the same
//! reference as encoding; the checkpoints' fingerprint holds every contig's MD5, so a work
//! directory is only ever read with the reference it was written with.

use crate::align::sort::{PayloadCodec, transpose_into, untranspose_into};
use crate::io::reference::Reference;

/// `block_size` and the 32 bytes of a BAM record's fixed fields.
const FIXED: usize = 36;

/// BAM's 4-bit code of each base code (`A C G T N`).
const NIBBLE: [u8; 5] = [1, 2, 4, 8, 15];

/// Streams after the kinds, in order: fixed fields (transposed), names, CIGARs, bases,
/// qualities, tags, payloads stored as they are.
const STREAMS: usize = 7;

/// The [`PayloadCodec`] of aligned records (see the module's doc).
pub struct BamRecords<'r> {
    reference: &'r Reference,
}

impl<'r> BamRecords<'r> {
    pub fn new(reference: &'r Reference) -> BamRecords<'r> {
        BamRecords { reference }
    }

    /// XORs into `seq` (a record's packed bases, `l_seq` of them) the 4-bit code of the
    /// reference base each aligned base lies on, as the record's fixed fields (`fixed`) and
    /// CIGAR place it; unmapped records and bases outside the contig are left as they are.
    /// Its own inverse.
    fn xor_reference(&self, fixed: &[u8], cigar: &[u8], l_seq: usize, seq: &mut [u8]) {
        let ref_id = i32::from_le_bytes(fixed[4..8].try_into().expect("4 bytes"));
        let pos = i32::from_le_bytes(fixed[8..12].try_into().expect("4 bytes"));
        let flag = u16::from_le_bytes(fixed[18..20].try_into().expect("2 bytes"));
        if flag & 0x4 != 0 || ref_id < 0 || pos < 0 {
            return;
        }
        let Some(contig) = self.reference.contigs.get(ref_id as usize) else {
            return;
        };
        let codes = &contig.codes;
        let (mut q, mut r) = (0usize, pos as usize);
        for op in cigar.chunks_exact(4) {
            let v = u32::from_le_bytes(op.try_into().expect("4 bytes"));
            let len = (v >> 4) as usize;
            match v & 0xf {
                // M, =, X: a base on a reference base.
                0 | 7 | 8 => {
                    let bases = codes.get(r..).unwrap_or(&[]);
                    let n = len.min(l_seq - q).min(bases.len());
                    let nib = |c: u8| NIBBLE[usize::from(c.min(4))];
                    let (mut i, mut b) = (q, 0);
                    if i % 2 == 1 && b < n {
                        seq[i / 2] ^= nib(bases[b]);
                        (i, b) = (i + 1, b + 1);
                    }
                    // Two bases a byte.
                    for (byte, two) in seq[i / 2..].iter_mut().zip(bases[b..n].chunks_exact(2)) {
                        *byte ^= (nib(two[0]) << 4) | nib(two[1]);
                    }
                    let pairs = (n - b) / 2;
                    (i, b) = (i + 2 * pairs, b + 2 * pairs);
                    if b < n {
                        seq[i / 2] ^= nib(bases[b]) << 4;
                    }
                    q += len;
                    r += len;
                }
                // I, S: bases without a reference base.
                1 | 4 => q += len,
                // D, N: reference without bases.
                2 | 3 => r += len,
                _ => {}
            }
            if q >= l_seq {
                return;
            }
        }
    }
}

/// A whole BAM record's field lengths: (name, CIGAR bytes, packed bases, qualities); `None`
/// when `p` is not one.
fn layout(p: &[u8]) -> Option<(usize, usize, usize, usize)> {
    if p.len() < FIXED {
        return None;
    }
    let name = usize::from(p[12]);
    let cigar = 4 * usize::from(u16::from_le_bytes([p[16], p[17]]));
    let l_seq = u32::from_le_bytes(p[20..24].try_into().expect("4 bytes")) as usize;
    let need = FIXED
        .checked_add(name)?
        .checked_add(cigar)?
        .checked_add(l_seq.div_ceil(2))?
        .checked_add(l_seq)?;
    (need <= p.len()).then_some((name, cigar, l_seq.div_ceil(2), l_seq))
}

/// The next `n` bytes of a stream.
fn take<'a>(s: &mut &'a [u8], n: usize) -> Result<&'a [u8], &'static str> {
    if s.len() < n {
        return Err("a record field runs past its stream");
    }
    let (head, rest) = s.split_at(n);
    *s = rest;
    Ok(head)
}

impl PayloadCodec for BamRecords<'_> {
    fn encode(&self, payloads: &[&[u8]], out: &mut Vec<u8>) {
        // kinds: 0 a BAM record split into fields, 1 stored as it is.
        let mut kinds = Vec::with_capacity(payloads.len());
        let mut s: [Vec<u8>; STREAMS] = Default::default();
        for p in payloads {
            let Some((name, cigar, packed, l_seq)) = layout(p) else {
                kinds.push(1);
                s[6].extend_from_slice(p);
                continue;
            };
            kinds.push(0);
            let mut at = 0;
            let mut field = |n: usize| {
                let f = &p[at..at + n];
                at += n;
                f
            };
            let fixed = field(FIXED);
            s[0].extend_from_slice(fixed);
            s[1].extend_from_slice(field(name));
            let cig = field(cigar);
            s[2].extend_from_slice(cig);
            let start = s[3].len();
            s[3].extend_from_slice(field(packed));
            self.xor_reference(fixed, cig, l_seq, &mut s[3][start..]);
            s[4].extend_from_slice(field(l_seq));
            s[5].extend_from_slice(&p[at..]);
        }
        out.extend_from_slice(&kinds);
        for stream in &s {
            out.extend_from_slice(&(stream.len() as u32).to_le_bytes());
        }
        transpose_into(&s[0], FIXED, out);
        for stream in &s[1..] {
            out.extend_from_slice(stream);
        }
    }

    fn decode(&self, enc: &[u8], lens: &[u32], out: &mut Vec<u8>) -> Result<(), &'static str> {
        let mut rest = enc;
        let kinds = take(&mut rest, lens.len())?;
        let mut streams: [&[u8]; STREAMS] = Default::default();
        let mut sizes = [0usize; STREAMS];
        for size in &mut sizes {
            let b = take(&mut rest, 4)?;
            *size = u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize;
        }
        for (stream, &size) in streams.iter_mut().zip(&sizes) {
            *stream = take(&mut rest, size)?;
        }
        if !rest.is_empty() {
            return Err("bytes after the record streams");
        }
        let records = kinds.iter().filter(|&&k| k == 0).count();
        if sizes[0] != records * FIXED {
            return Err("fixed fields of another length");
        }
        let mut fixed = Vec::with_capacity(sizes[0]);
        untranspose_into(streams[0], FIXED, &mut fixed);
        let mut fixed = fixed.chunks_exact(FIXED);
        let [
            _,
            mut names,
            mut cigars,
            mut seqs,
            mut quals,
            mut tags,
            mut other,
        ] = streams;
        for (&kind, &len) in kinds.iter().zip(lens) {
            let len = len as usize;
            match kind {
                0 => {
                    let f = fixed.next().ok_or("fewer fixed fields than records")?;
                    let start = out.len();
                    out.extend_from_slice(f);
                    let name = usize::from(f[12]);
                    let cigar = 4 * usize::from(u16::from_le_bytes([f[16], f[17]]));
                    let l_seq = u32::from_le_bytes(f[20..24].try_into().expect("4 bytes")) as usize;
                    let packed = l_seq.div_ceil(2);
                    let tail = len
                        .checked_sub(FIXED + name + cigar + packed + l_seq)
                        .ok_or("a record longer than its length")?;
                    out.extend_from_slice(take(&mut names, name)?);
                    let cig = take(&mut cigars, cigar)?;
                    out.extend_from_slice(cig);
                    let at = out.len();
                    out.extend_from_slice(take(&mut seqs, packed)?);
                    self.xor_reference(f, cig, l_seq, &mut out[at..]);
                    out.extend_from_slice(take(&mut quals, l_seq)?);
                    out.extend_from_slice(take(&mut tags, tail)?);
                    debug_assert_eq!(out.len() - start, len);
                }
                1 => out.extend_from_slice(take(&mut other, len)?),
                _ => return Err("an unknown record kind"),
            }
        }
        if [names, cigars, seqs, quals, tags, other]
            .iter()
            .any(|s| !s.is_empty())
        {
            return Err("record streams longer than their records");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::haplotype::tests::read;
    use crate::genome::CigarOp;
    use crate::io::bam::writer::encode_record;
    use crate::io::reference::Contig;
    use crate::model::alignment::Flags;

    /// A record encoded as BAM: `haplotype::tests::read`'s, named `r{i}`.
    fn rec(i: usize, pos: u64, cigar: Vec<(CigarOp, u32)>, seq: &[u8], unmapped: bool) -> Vec<u8> {
        let mut r = read(pos, &cigar, seq);
        r.name = format!("r{i}");
        if unmapped {
            r.flags = Flags::UNMAPPED;
        }
        let mut p = Vec::new();
        encode_record(&r, "rg", &mut p);
        p
    }

    fn reference(seq: &[u8]) -> Reference {
        Reference {
            path: "t.fa".into(),
            contigs: vec![Contig {
                name: "c".into(),
                codes: crate::genome::base_codes(seq),
                md5: String::new(),
                refget: String::new(),
            }],
        }
    }

    fn roundtrip(codec: &BamRecords, payloads: &[Vec<u8>]) -> usize {
        let refs: Vec<&[u8]> = payloads.iter().map(|p| p.as_slice()).collect();
        let mut enc = Vec::new();
        codec.encode(&refs, &mut enc);
        let lens: Vec<u32> = payloads.iter().map(|p| p.len() as u32).collect();
        let mut out = Vec::new();
        codec.decode(&enc, &lens, &mut out).unwrap();
        assert_eq!(out, payloads.concat());
        enc.len()
    }

    #[test]
    fn records_and_other_bytes_come_back_as_they_were() {
        let mut rng = fastrand::Rng::with_seed(5);
        let genome: Vec<u8> = (0..5_000).map(|_| b"ACGTN"[rng.usize(..5)]).collect();
        let r = reference(&genome);
        let codec = BamRecords::new(&r);
        let mut payloads = Vec::new();
        for i in 0..300 {
            let pos = rng.usize(..4_900);
            let len = rng.usize(1..160);
            let mut seq: Vec<u8> = genome[pos..(pos + len).min(genome.len())].to_vec();
            // Some mismatches, bases past the contig's end, soft clips and indels.
            for b in seq.iter_mut() {
                if rng.u8(..20) == 0 {
                    *b = b"ACGTN"[rng.usize(..5)];
                }
            }
            let n = seq.len() as u32;
            use CigarOp::*;
            let cigar = match i % 4 {
                1 if n > 4 => vec![
                    (SoftClip, 2),
                    (Match, n - 4),
                    (Ins, 1),
                    (Del, 1),
                    (Match, 1),
                ],
                2 => vec![(Match, n + 7)], // more bases in the CIGAR than the read has
                3 => vec![(Match, n / 2), (Del, 3), (Match, n - n / 2)],
                _ => vec![(Match, n)],
            };
            // Unmapped records keep their bases as they are.
            payloads.push(rec(i, pos as u64, cigar, &seq, i % 9 == 0));
        }
        // Payloads that are not records: short, and lengths past the end.
        payloads.push(vec![1, 2, 3]);
        let mut bad = payloads[0].clone();
        bad[20] = 0xff;
        payloads.push(bad);
        let mut other_contig = payloads[1].clone();
        other_contig[4] = 9; // a reference ID past the contigs
        payloads.push(other_contig);
        roundtrip(&codec, &payloads);
        roundtrip(&codec, &[]);
    }

    /// The bases stream of one encoded block.
    fn bases_stream(enc: &[u8], records: usize) -> &[u8] {
        let size = |i: usize| {
            let at = records + 4 * i;
            u32::from_le_bytes(enc[at..at + 4].try_into().unwrap()) as usize
        };
        let start = records + 4 * STREAMS + size(0) + size(1) + size(2);
        &enc[start..start + size(3)]
    }

    #[test]
    fn bases_equal_to_the_reference_become_zero_nibbles() {
        let genome = b"ACGTTGCANNACGGTCAAGT";
        let r = reference(genome);
        let codec = BamRecords::new(&r);
        use CigarOp::*;
        // Odd and even starts in the read, a deletion, an insertion, a base past the end.
        let read: Vec<u8> = [b"T".as_slice(), &genome[3..9], b"G", &genome[11..20], b"C"].concat();
        let cigar = vec![(SoftClip, 1), (Match, 6), (Ins, 1), (Del, 2), (Match, 10)];
        let p = rec(0, 3, cigar, &read, false);
        let mut enc = Vec::new();
        codec.encode(&[&p], &mut enc);
        // Nibbles: T (clip, 8), six zeros, G (insertion, 4), nine zeros, C past the end (2).
        assert_eq!(
            bases_stream(&enc, 1),
            &[0x80, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02]
        );
        let mut out = Vec::new();
        codec.decode(&enc, &[p.len() as u32], &mut out).unwrap();
        assert_eq!(out, p);
    }

    #[test]
    fn bases_equal_to_the_reference_cost_little() {
        let mut rng = fastrand::Rng::with_seed(6);
        let genome: Vec<u8> = (0..100_000).map(|_| b"ACGT"[rng.usize(..4)]).collect();
        let r = reference(&genome);
        let codec = BamRecords::new(&r);
        let payloads: Vec<Vec<u8>> = (0..200)
            .map(|i| {
                let pos = rng.usize(..99_800);
                let seq = &genome[pos..pos + 150];
                rec(i, pos as u64, vec![(CigarOp::Match, 150)], seq, false)
            })
            .collect();
        let enc = roundtrip(&codec, &payloads);
        let deflate = |b: &[u8]| {
            let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).unwrap());
            let mut out = vec![0; c.deflate_compress_bound(b.len())];
            c.deflate_compress(b, &mut out).unwrap()
        };
        let refs: Vec<&[u8]> = payloads.iter().map(|p| p.as_slice()).collect();
        let mut e = Vec::with_capacity(enc);
        codec.encode(&refs, &mut e);
        let plain = deflate(&payloads.concat());
        let ours = deflate(&e);
        // 150 random bases are ~38 bytes of entropy a record; against the reference, ~none.
        assert!(ours * 10 < plain * 8, "{ours} vs {plain}");
    }
}
