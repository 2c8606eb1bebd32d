//! Reference k-mer index: every k-mer (k ≤ 16) of the forward strand with its position, as
//! two arrays sorted by k-mer (keys, positions). Built in memory at the start of a run.
//!
//! Memory is 8 bytes per reference base; lookups are a binary search. K-mers containing `N`
//! are not indexed.

use crate::io::reference::Reference;

/// A forward-strand k-mer index over all contigs of a reference.
pub struct Index {
    k: usize,
    /// Concatenated contig sequences (base codes).
    seq: Vec<u8>,
    /// Start of each contig in `seq`, plus the total length at the end.
    offsets: Vec<u64>,
    keys: Vec<u32>,
    positions: Vec<u32>,
}

impl Index {
    /// Builds the index of `reference` with k-mer length `k` (`8..=16`).
    pub fn build(reference: &Reference, k: usize) -> Self {
        assert!((8..=16).contains(&k), "k-mer length {k} outside 8..=16");
        let mut seq = Vec::with_capacity(reference.total_len() as usize);
        let mut offsets = Vec::with_capacity(reference.contigs.len() + 1);
        for c in &reference.contigs {
            offsets.push(seq.len() as u64);
            seq.extend_from_slice(&c.codes);
        }
        offsets.push(seq.len() as u64);
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(seq.len());
        for w in offsets.windows(2) {
            let (start, end) = (w[0] as usize, w[1] as usize);
            for_each_kmer(&seq[start..end], k, |p, kmer| {
                pairs.push((kmer, (start + p) as u32));
            });
        }
        pairs.sort_unstable();
        let (keys, positions) = pairs.into_iter().unzip();
        Index {
            k,
            seq,
            offsets,
            keys,
            positions,
        }
    }

    /// K-mer length.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Positions (global) of `kmer`.
    pub fn hits(&self, kmer: u32) -> &[u32] {
        let lo = self.keys.partition_point(|&x| x < kmer);
        let hi = lo + self.keys[lo..].partition_point(|&x| x == kmer);
        &self.positions[lo..hi]
    }

    /// Contig index and contig-local position of a global position.
    pub fn locate(&self, global: u64) -> (usize, u64) {
        let c = self.offsets.partition_point(|&o| o <= global) - 1;
        (c, global - self.offsets[c])
    }

    /// Bases of contig `c`.
    pub fn contig(&self, c: usize) -> &[u8] {
        &self.seq[self.offsets[c] as usize..self.offsets[c + 1] as usize]
    }
}

/// Calls `f(position, kmer)` for every k-mer of `codes` without an `N`, 2 bits per base.
pub fn for_each_kmer(codes: &[u8], k: usize, mut f: impl FnMut(usize, u32)) {
    let mask: u32 = if k == 16 {
        u32::MAX
    } else {
        (1u32 << (2 * k)) - 1
    };
    let mut kmer = 0u32;
    let mut valid = 0usize;
    for (i, &b) in codes.iter().enumerate() {
        if b > 3 {
            valid = 0;
            kmer = 0;
            continue;
        }
        kmer = ((kmer << 2) | u32::from(b)) & mask;
        valid += 1;
        if valid >= k {
            f(i + 1 - k, kmer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmers_skip_n() {
        let mut seen = Vec::new();
        for_each_kmer(&[0, 1, 2, 4, 3, 3, 0, 1], 2, |p, k| seen.push((p, k)));
        assert_eq!(seen, vec![(0, 1), (1, 6), (4, 15), (5, 12), (6, 1)]);
    }
}
