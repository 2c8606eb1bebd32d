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
//! - **Libraries**: every entry carries its read group's library (`LB`); reads of different
//!   libraries are never duplicates of each other.
//! - **Optical duplicates** (`DT:Z:SQ`; other duplicates `DT:Z:LB`, Picard's
//!   `TAGGING_POLICY=All`): Picard's rule over each pair set (see [`optical`]), "near" meaning
//!   the same tile and x and y within [`OPTICAL_DISTANCE`] pixels, read from Illumina read
//!   names (`instrument:run:flowcell:lane:tile:x:y`, or the 5-field `instrument:lane:tile:x:y`;
//!   the tile is everything before x, so lanes and flow cells never mix). The kept pair is
//!   never optical. Fragments are not judged optical (as Picard).
//! - Flag 0x400 and `DT` go on every record of a duplicate read: primary, secondary and
//!   supplementary (as `samtools markdup -S` does, and Picard on query-grouped input). Unmapped
//!   mates are not marked.
//!
//! One entry per mapped read and one per mapped pair is sorted externally (bounded memory, as
//! the records are); walking the sorted entries sets two bits per pair in a [`DupSet`].

use crate::align::sort::Merge;
use crate::error::Result;
use crate::genome::CigarOp;
use crate::model::alignment::{AlignedRead, Flags};

/// `[kind << 63 | library, end 1, end 2, orientation, rank, pair << 1 | mate, tile, x << 32 |
/// y]`; see [`entries`].
pub type DupKey = [u64; 8];

/// Pixels in x and y within which two duplicate pairs on one tile are optical duplicates (the
/// setting suggested for patterned flow cells by Picard and samtools, `-d 2500`).
pub const OPTICAL_DISTANCE: u32 = 2_500;

/// A read's place on the flow cell from its Illumina name: (tile key, x, y), the tile key a
/// hash of every field before x. `None` for names of another form.
pub fn location(name: &str) -> Option<(u64, u32, u32)> {
    let fields: Vec<&str> = name.split(':').collect();
    if fields.len() != 5 && fields.len() != 7 {
        return None;
    }
    let n = fields.len();
    let num = |f: &str| -> Option<u32> {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        f[..digits].parse().ok()
    };
    num(fields[n - 3])?;
    let (x, y) = (num(fields[n - 2])?, num(fields[n - 1])?);
    let prefix = &name[..name.len() - fields[n - 2].len() - fields[n - 1].len() - 2];
    // 0 stays free for "no location".
    Some((crate::genome::fnv1a(prefix.bytes()).max(1), x, y))
}

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
            0,
            0,
        ]);
    }
    if both {
        let (a, b) = if (ends[0].0, ends[0].1) <= (ends[1].0, ends[1].1) {
            (ends[0], ends[1])
        } else {
            (ends[1], ends[0])
        };
        let s = (a.2 + b.2).min(u64::from(u32::MAX));
        let (tile, x, y) = location(&r1.name).unwrap_or((0, 0, 0));
        out.push([
            library,
            a.0,
            b.0,
            (u64::from(a.1) << 1) | u64::from(b.1),
            u64::from(u32::MAX) - s,
            pair << 1,
            tile,
            (u64::from(x) << 32) | u64::from(y),
        ]);
    }
}

/// Which reads are duplicates: two bits per pair (R1, R2), and one per optical duplicate pair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DupSet {
    bits: Vec<u64>,
    optical: Vec<u64>,
    /// Duplicate pairs and duplicate fragments (reads with an unmapped mate).
    pub pairs: u64,
    pub fragments: u64,
    /// Duplicate pairs that are optical duplicates.
    pub optical_pairs: u64,
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

    fn set_optical(&mut self, pair: u64) {
        let w = (pair / 64) as usize;
        if self.optical.len() <= w {
            self.optical.resize(w + 1, 0);
        }
        self.optical[w] |= 1 << (pair % 64);
        self.optical_pairs += 1;
    }

    /// Whether pair `pair` is an optical duplicate.
    pub fn is_optical(&self, pair: u64) -> bool {
        self.optical
            .get((pair / 64) as usize)
            .is_some_and(|w| w & (1 << (pair % 64)) != 0)
    }

    /// Whether read `mate` (0 = R1, 1 = R2) of pair `pair` is a duplicate.
    pub fn is_dup(&self, pair: u64, mate: u64) -> bool {
        let bit = 2 * pair + mate;
        self.bits
            .get((bit / 64) as usize)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    /// Sets the duplicate flag of an encoded BAM record (`block_size` first) whose sort key is
    /// `key` (`key[1] >> 8` is its pair's input index) when its read is a duplicate, and
    /// appends its `DT` tag (`SQ` optical, `LB` other); unmapped reads are never marked. Every
    /// record of a duplicate read is marked: primary, secondary and supplementary alike, as
    /// Picard and `samtools markdup` do.
    pub fn mark(&self, key: [u64; 2], record: &mut Vec<u8>) {
        let at = crate::io::bam::writer::FLAG_OFFSET;
        let mut flag = Flags::from(u16::from_le_bytes([record[at], record[at + 1]]));
        let mate = u64::from(flag.intersects(Flags::LAST_SEGMENT));
        let pair = key[1] >> 8;
        if !flag.intersects(Flags::UNMAPPED) && self.is_dup(pair, mate) {
            flag |= Flags::DUPLICATE;
            record[at..at + 2].copy_from_slice(&u16::from(flag).to_le_bytes());
            record.extend_from_slice(if self.is_optical(pair) {
                b"DTZSQ\0"
            } else {
                b"DTZLB\0"
            });
            let size = (record.len() - 4) as u32;
            record[..4].copy_from_slice(&size.to_le_bytes());
        }
    }
}

/// Decides duplicates from every entry, merged in key order (see the module header).
pub fn resolve(mut merge: Merge<DupKey>) -> Result<DupSet> {
    let mut set = DupSet::default();
    let mut buf = Vec::new();
    let mut group: Option<DupKey> = None; // first entry of the current set
    // The current pair set's members: (pair, tile, x, y), the kept one first.
    let mut members: Vec<(u64, u64, u32, u32)> = Vec::new();
    loop {
        let next = merge.next_into(&mut buf)?;
        let same = match (group, next) {
            (Some(g), Some(k)) => g[..4] == k[..4],
            _ => false,
        };
        if !same {
            optical(&members, &mut set);
            members.clear();
        }
        let Some(k) = next else { break };
        if k[0] & FRAGMENT == 0 {
            members.push((k[5] >> 1, k[6], (k[7] >> 32) as u32, k[7] as u32));
        }
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

/// Pair sets larger than this are not searched for optical duplicates (Picard's
/// `MAX_OPTICAL_DUPLICATE_SET_SIZE`).
pub const MAX_OPTICAL_SET: usize = 300_000;

/// Marks the optical duplicates of one pair set (`members[0]` is the pair kept, the others in
/// key order) as Picard's `OpticalDuplicateFinder` does: a member near the kept pair is
/// optical; of two other members near each other, the first not yet marked is (so a cluster
/// of n nearby pairs without the kept one counts n − 1). "Near": same tile, x and y within
/// [`OPTICAL_DISTANCE`].
fn optical(members: &[(u64, u64, u32, u32)], set: &mut DupSet) {
    if members.len() < 2 || members.len() > MAX_OPTICAL_SET {
        return;
    }
    let near = |a: &(u64, u64, u32, u32), b: &(u64, u64, u32, u32)| {
        a.1 != 0
            && a.1 == b.1
            && a.2.abs_diff(b.2) <= OPTICAL_DISTANCE
            && a.3.abs_diff(b.3) <= OPTICAL_DISTANCE
    };
    let keeper = &members[0];
    let mut flags: Vec<bool> = members.iter().map(|m| near(keeper, m)).collect();
    flags[0] = false;
    // Only members of one tile can be near each other: each tile's members, in set order.
    let mut by_tile: Vec<usize> = (1..members.len()).filter(|&i| members[i].1 != 0).collect();
    by_tile.sort_by_key(|&i| (members[i].1, i));
    for tile in by_tile.chunk_by(|&a, &b| members[a].1 == members[b].1) {
        for (k, &i) in tile.iter().enumerate() {
            for &j in &tile[k + 1..] {
                if flags[i] && flags[j] {
                    continue;
                }
                if near(&members[i], &members[j]) {
                    let index = if flags[i] { j } else { i };
                    flags[index] = true;
                }
            }
        }
    }
    for (m, &f) in members.iter().zip(&flags) {
        if f {
            set.set_optical(m.0);
        }
    }
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

    #[test]
    fn illumina_names_give_tile_and_coordinates() {
        let (t, x, y) = location("A01:7:HFC:2:1101:1234:5678").unwrap();
        assert_eq!((x, y), (1234, 5678));
        assert_eq!(location("A01:7:HFC:2:1101:9:9").unwrap().0, t);
        assert_ne!(location("A01:7:HFC:1:1101:1234:5678").unwrap().0, t);
        assert_ne!(location("A01:7:HFC:2:1102:1234:5678").unwrap().0, t);
        assert!(location("M:2:1101:10:20").is_some());
        assert!(location("read17").is_none());
        assert!(location("a:b:c:d:e:f").is_none());
        assert!(location("A01:7:HFC:2:1101:x:5678").is_none());
    }

    fn named(name: &str, p1: u64, p2: u64, q: u8) -> Vec<AlignedRead> {
        let m = (CigarOp::Match, 10);
        let mut v = vec![
            read(Flags::FIRST_SEGMENT, p1, &[m], q),
            read(
                Flags::LAST_SEGMENT | Flags::REVERSE_COMPLEMENTED,
                p2,
                &[m],
                q,
            ),
        ];
        v.iter_mut().for_each(|r| r.name = name.into());
        v
    }

    fn decide_libraries(pairs: &[(u64, Vec<AlignedRead>)]) -> DupSet {
        let dir = tempfile::tempdir().unwrap();
        let mut s = crate::align::sort::Sorter::new(dir.path(), "d", 1 << 16);
        let mut v = Vec::new();
        for (i, (lib, p)) in pairs.iter().enumerate() {
            v.clear();
            entries(i as u64, *lib, p, &mut v);
            for k in &v {
                s.push(*k, &[]).unwrap();
            }
        }
        resolve(s.finish().unwrap()).unwrap()
    }

    #[test]
    fn libraries_apart_and_optical_as_picard() {
        let t = |x: u32, y: u32| format!("I:1:FC:1:1101:{x}:{y}");
        let set = decide_libraries(&[
            // Set 1 (library 0): kept pair 0; pair 1 near it (optical); pair 2 far (PCR);
            // pair 3 near pair 2 only; pair 4 on another tile at pair 0's place (PCR).
            (0, named(&t(10_000, 10_000), 100, 300, 40)),
            (0, named(&t(12_000, 11_000), 100, 300, 30)),
            (0, named(&t(20_000, 20_000), 100, 300, 30)),
            (0, named(&t(21_000, 20_500), 100, 300, 30)),
            (0, named("I:1:FC:1:1102:10000:10000", 100, 300, 30)),
            // The same ends in library 1: its own set, the first of it kept.
            (1, named(&t(10_001, 10_001), 100, 300, 40)),
            (1, named(&t(30_000, 30_000), 100, 300, 20)),
        ]);
        let dup: Vec<u64> = (0..7).filter(|&p| set.is_dup(p, 0)).collect();
        assert_eq!(dup, vec![1, 2, 3, 4, 6]);
        // Pairs 2 and 3 are a cluster without the kept pair: one of them (the first) counts.
        let opt: Vec<u64> = (0..7).filter(|&p| set.is_optical(p)).collect();
        assert_eq!(opt, vec![1, 2]);
        assert_eq!((set.pairs, set.optical_pairs), (5, 2));
    }

    #[test]
    fn duplicate_records_get_dt() {
        let mut set = DupSet::default();
        set.set(3, 0);
        set.set(3, 1);
        set.set(4, 0);
        set.set(4, 1);
        set.set_optical(4);
        let r = read(Flags::FIRST_SEGMENT, 100, &[(CigarOp::Match, 10)], 30);
        let mut rec = Vec::new();
        crate::io::bam::writer::encode_record(&r, "rg", &mut rec);
        for (pair, tag) in [(2u64, None), (3, Some("LB")), (4, Some("SQ"))] {
            let mut b = rec.clone();
            set.mark([0, pair << 8], &mut b);
            let size = u32::from_le_bytes(b[..4].try_into().unwrap()) as usize;
            assert_eq!(size, b.len() - 4);
            match tag {
                None => assert_eq!(b, rec),
                Some(t) => assert!(b.ends_with(format!("DTZ{t}\0").as_bytes())),
            }
        }
    }
}
