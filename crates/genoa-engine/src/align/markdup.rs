//! Duplicate marking with Picard MarkDuplicates' semantics, decided before the sorted records
//! are written (the same pass: nothing is read back).
//!
//! - Each read's **5' end** is its unclipped 5' position (forward: POS minus leading soft
//!   clips; reverse: end plus trailing soft clips) with contig and strand.
//! - **Pairs** with both mates mapped are duplicates of each other when their two ends (lower
//!   end first, with the pair's orientation) and library match. In each set the pair with the
//!   highest score (sum of base qualities ≥ 15 over both mates, Picard's default
//!   `SUM_OF_BASE_QUALITIES`) is kept; ties go to the pair read first (Picard keeps the first
//!   it meets, which depends on its sort; genoa's rule makes the choice independent of
//!   threads and batches).
//! - **Fragments** (a mapped read whose mate is unmapped) are duplicates when a pair has an end
//!   at the same 5' end and strand; otherwise the best-scoring fragment of the set is kept.
//! - Flag 0x400 goes on every record of a duplicate read: primary, secondary and supplementary
//!   (as `samtools markdup -S` does, and Picard on query-grouped input). Unmapped mates are not
//!   marked. Optical duplicates are not told apart (no `DT` tag).
//!
//! One entry per mapped read and one per mapped pair is sorted externally (bounded memory, as
//! the records are); walking the sorted entries sets two bits per pair in a [`DupSet`].

use crate::align::sort::Merge;
use crate::error::Result;
use crate::genome::CigarOp;
use crate::model::alignment::{AlignedRead, Flags};

/// `[kind << 63 | library, end 1, end 2, orientation, rank, pair << 1 | mate]`; see [`entries`].
pub type DupKey = [u64; 6];

const FRAGMENT: u64 = 1 << 63;

/// Unclipped 5' end of a mapped read: `contig << 32 | (coordinate + 2^31)` and strand.
pub fn five_prime(r: &AlignedRead) -> (u64, bool) {
    let reverse = r.flags.intersects(Flags::REVERSE_COMPLEMENTED);
    let lead = match r.cigar.0.first() {
        Some(&(CigarOp::SoftClip, n)) => i64::from(n),
        _ => 0,
    };
    let trail = match r.cigar.0.last() {
        Some(&(CigarOp::SoftClip, n)) if r.cigar.0.len() > 1 => i64::from(n),
        _ => 0,
    };
    let coord = if reverse {
        r.end() as i64 - 1 + trail
    } else {
        r.pos as i64 - lead
    };
    let c = u64::from(r.contig.unwrap_or(u32::MAX));
    (
        (c << 32) | ((coord + (1 << 31)).clamp(0, u32::MAX as i64) as u64),
        reverse,
    )
}

/// Picard's score of a read: the sum of its base qualities that are at least 15.
pub fn score(r: &AlignedRead) -> u64 {
    r.qual
        .iter()
        .filter(|&&q| q >= 15)
        .map(|&q| u64::from(q))
        .sum()
}

/// Appends the entries of pair `pair` (its records as [`crate::align::pair::pair`] writes
/// them: R1 and R2 primaries first) to `out`.
pub fn entries(pair: u64, library: u64, records: &[AlignedRead], out: &mut Vec<DupKey>) {
    let (r1, r2) = (&records[0], &records[1]);
    let both = r1.is_mapped() && r2.is_mapped();
    let mut ends = Vec::with_capacity(2);
    for (mate, r) in [(0u64, r1), (1, r2)] {
        if !r.is_mapped() {
            continue;
        }
        let (end, reverse) = five_prime(r);
        let s = score(r);
        ends.push((end, reverse, s));
        // Reads of mapped pairs sort first in their fragment set (rank 0).
        let rank = (u64::from(!both) << 40) | (u64::from(u32::MAX) - s.min(u64::from(u32::MAX)));
        out.push([
            FRAGMENT | library,
            end,
            0,
            u64::from(reverse),
            rank,
            (pair << 1) | mate,
        ]);
    }
    if both {
        let (a, b) = if (ends[0].0, ends[0].1) <= (ends[1].0, ends[1].1) {
            (ends[0], ends[1])
        } else {
            (ends[1], ends[0])
        };
        let s = (a.2 + b.2).min(u64::from(u32::MAX));
        out.push([
            library,
            a.0,
            b.0,
            (u64::from(a.1) << 1) | u64::from(b.1),
            u64::from(u32::MAX) - s,
            pair << 1,
        ]);
    }
}

/// Which reads are duplicates: two bits per pair (R1, R2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DupSet {
    bits: Vec<u64>,
    /// Duplicate pairs and duplicate fragments (reads with an unmapped mate).
    pub pairs: u64,
    pub fragments: u64,
}

impl DupSet {
    fn set(&mut self, pair: u64, mate: u64) {
        let bit = 2 * pair + mate;
        let w = (bit / 64) as usize;
        if self.bits.len() <= w {
            self.bits.resize(w + 1, 0);
        }
        self.bits[w] |= 1 << (bit % 64);
    }

    /// Whether read `mate` (0 = R1, 1 = R2) of pair `pair` is a duplicate.
    pub fn is_dup(&self, pair: u64, mate: u64) -> bool {
        let bit = 2 * pair + mate;
        self.bits
            .get((bit / 64) as usize)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    /// Sets the duplicate flag of an encoded BAM record (`block_size` first) whose sort key is
    /// `key` (`key[1] >> 8` is its pair's input index) when its read is a duplicate; unmapped
    /// reads are never marked. Every record of a duplicate read is marked: primary, secondary
    /// and supplementary alike, as Picard and `samtools markdup` do.
    pub fn mark(&self, key: [u64; 2], record: &mut [u8]) {
        let at = crate::io::bam::writer::FLAG_OFFSET;
        let mut flag = Flags::from(u16::from_le_bytes([record[at], record[at + 1]]));
        let mate = u64::from(flag.intersects(Flags::LAST_SEGMENT));
        if !flag.intersects(Flags::UNMAPPED) && self.is_dup(key[1] >> 8, mate) {
            flag |= Flags::DUPLICATE;
            record[at..at + 2].copy_from_slice(&u16::from(flag).to_le_bytes());
        }
    }
}

/// Decides duplicates from every entry, merged in key order (see the module header).
pub fn resolve(mut merge: Merge<DupKey>) -> Result<DupSet> {
    let mut set = DupSet::default();
    let mut buf = Vec::new();
    let mut group: Option<DupKey> = None; // first entry of the current set
    while let Some(k) = merge.next_into(&mut buf)? {
        let same = group.is_some_and(|g| g[..4] == k[..4]);
        if !same {
            group = Some(k);
            continue;
        }
        let (pair, mate) = (k[5] >> 1, k[5] & 1);
        if k[0] & FRAGMENT == 0 {
            set.set(pair, 0);
            set.set(pair, 1);
            set.pairs += 1;
        } else {
            // Not the set's first: a duplicate, unless it is a read of a mapped pair (judged
            // with its pair, never as a fragment). A set led by a pair's read thus marks every
            // plain fragment in it.
            let in_pair = k[4] >> 40 == 0;
            if !in_pair {
                set.set(pair, mate);
                set.fragments += 1;
            }
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::Cigar;

    fn read(flags: Flags, pos: u64, cigar: &[(CigarOp, u32)], q: u8) -> AlignedRead {
        AlignedRead {
            name: "r".into(),
            flags: Flags::SEGMENTED | flags,
            contig: Some(0),
            pos,
            mapq: 60,
            cigar: Cigar(cigar.to_vec()),
            mate_contig: Some(0),
            mate_pos: 0,
            tlen: 0,
            seq: vec![b'A'; 10],
            qual: vec![q; 10],
            nm: 0,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    }

    fn decide(pairs: &[Vec<AlignedRead>]) -> DupSet {
        let dir = tempfile::tempdir().unwrap();
        let mut s = crate::align::sort::Sorter::new(dir.path(), "d", 1 << 16);
        let mut v = Vec::new();
        for (i, p) in pairs.iter().enumerate() {
            v.clear();
            entries(i as u64, 0, p, &mut v);
            for k in &v {
                s.push(*k, &[]).unwrap();
            }
        }
        resolve(s.finish().unwrap()).unwrap()
    }

    #[test]
    fn five_prime_ends_are_unclipped() {
        let m = (CigarOp::Match, 8);
        let s2 = (CigarOp::SoftClip, 2);
        let f = read(Flags::FIRST_SEGMENT, 100, &[s2, m], 30);
        assert_eq!(five_prime(&f), (98 + (1 << 31), false));
        let r = read(
            Flags::LAST_SEGMENT | Flags::REVERSE_COMPLEMENTED,
            100,
            &[m, s2],
            30,
        );
        assert_eq!(five_prime(&r), (100 + 8 - 1 + 2 + (1 << 31), true));
    }

    #[test]
    fn picard_rules() {
        let m = (CigarOp::Match, 10);
        let pair = |p1: u64, p2: u64, q: u8| {
            vec![
                read(Flags::FIRST_SEGMENT, p1, &[m], q),
                read(
                    Flags::LAST_SEGMENT | Flags::REVERSE_COMPLEMENTED,
                    p2,
                    &[m],
                    q,
                ),
            ]
        };
        // Pairs 0 and 2 share both ends (2 clipped differently but the same unclipped ends);
        // 2 scores higher, so 0 is the duplicate. Pair 1 differs in one end.
        let mut clipped = pair(100, 300, 40);
        clipped[0].pos = 103;
        clipped[0].cigar = Cigar(vec![(CigarOp::SoftClip, 3), (CigarOp::Match, 7)]);
        // Pair 3: equal to pair 4 in ends and score; the first read (3) is kept.
        // Pair 5: a fragment at pair 1's R1 end; pair 6: a fragment alone; 7: its duplicate.
        let mut frag = pair(100, 0, 30);
        frag[1].flags |= Flags::UNMAPPED;
        frag[1].flags &= !Flags::REVERSE_COMPLEMENTED;
        let mut lone = pair(5000, 0, 30);
        lone[1].flags |= Flags::UNMAPPED;
        let mut lone_dup = pair(5000, 0, 20);
        lone_dup[1].flags |= Flags::UNMAPPED;
        let set = decide(&[
            pair(100, 300, 30),
            pair(100, 310, 30),
            clipped,
            pair(700, 900, 30),
            pair(700, 900, 30),
            frag,
            lone,
            lone_dup,
        ]);
        let dups: Vec<(u64, u64)> = (0..8)
            .flat_map(|p| [(p, 0), (p, 1)])
            .filter(|&(p, m)| set.is_dup(p, m))
            .collect();
        assert_eq!(dups, vec![(0, 0), (0, 1), (4, 0), (4, 1), (5, 0), (7, 0)]);
        assert_eq!((set.pairs, set.fragments), (2, 2));
    }
}
