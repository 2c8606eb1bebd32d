//! Genomic primitives shared by every layer: base codes, CIGAR operations, Phred scores.
//!
//! Bases are carried as one code per byte (`A=0 C=1 G=2 T=3 N=4`) everywhere inside genoa;
//! kernels pack them further for the device they run on. Anything that is not `ACGT`
//! (IUPAC ambiguity codes in a reference) becomes `N`.

/// Code of an ambiguous or unknown base.
pub const N: u8 = 4;

/// Base code of an ASCII letter (`A/C/G/T`, either case; everything else is `N`).
#[inline]
pub fn base_code(ascii: u8) -> u8 {
    // A table, not a `match`: on read bases the match's branches are taken at random and
    // mispredicted (measured: a fifth of the pileup's time, issue 23).
    BASE_CODES[usize::from(ascii)]
}

/// [`base_code`] of every byte.
static BASE_CODES: [u8; 256] = {
    let mut t = [N; 256];
    t[b'A' as usize] = 0;
    t[b'a' as usize] = 0;
    t[b'C' as usize] = 1;
    t[b'c' as usize] = 1;
    t[b'G' as usize] = 2;
    t[b'g' as usize] = 2;
    t[b'T' as usize] = 3;
    t[b't' as usize] = 3;
    t
};

/// Base codes of ASCII letters (see [`base_code`]).
pub fn base_codes(ascii: &[u8]) -> Vec<u8> {
    ascii.iter().map(|&c| base_code(c)).collect()
}

/// The code of VCF's `*` allele in a variant's ALT list (a haplotype whose deletion spans the
/// record), never a base of a read or the reference.
pub const SPANNING_DELETION: u8 = N + 1;

/// ASCII upper-case letter of a base code (`*` for [`SPANNING_DELETION`]).
#[inline]
pub fn base_ascii(code: u8) -> u8 {
    b"ACGTN*"[usize::from(code.min(SPANNING_DELETION))]
}

/// Complement of a base code (`N` stays `N`).
#[inline]
pub fn complement(code: u8) -> u8 {
    if code < N { 3 - code } else { N }
}

/// `n` base codes (`A C G T` only, uniform) drawn from `rng`: the seeded sequences of tests,
/// benches and examples (`fastrand::Rng::with_seed`), the same on every platform.
pub fn random_bases(rng: &mut fastrand::Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.u8(0..4)).collect()
}

/// Reverse complement of `codes` into `out` (cleared first).
pub fn reverse_complement_into(codes: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(codes.iter().rev().map(|&c| complement(c)));
}

/// 64-bit FNV-1a of `bytes`: the deterministic hash genoa keys read choices on (ties between
/// equal hits, downsampling ranks, flow-cell tiles), the same on every run and platform.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether an ASCII letter is accepted in a read sequence (IUPAC nucleotides and `.`).
#[inline]
pub fn is_read_base(ascii: u8) -> bool {
    matches!(
        ascii.to_ascii_uppercase(),
        b'A' | b'C'
            | b'G'
            | b'T'
            | b'N'
            | b'U'
            | b'R'
            | b'Y'
            | b'K'
            | b'M'
            | b'S'
            | b'W'
            | b'B'
            | b'D'
            | b'H'
            | b'V'
            | b'.'
    )
}

/// One CIGAR operation kind, numbered as in the SAM/BAM specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CigarOp {
    Match = 0,
    Ins = 1,
    Del = 2,
    SoftClip = 4,
}

impl CigarOp {
    /// SAM character of the operation.
    pub fn symbol(self) -> char {
        match self {
            CigarOp::Match => 'M',
            CigarOp::Ins => 'I',
            CigarOp::Del => 'D',
            CigarOp::SoftClip => 'S',
        }
    }
    /// Whether the operation consumes query (read) bases.
    pub fn consumes_query(self) -> bool {
        !matches!(self, CigarOp::Del)
    }
    /// Whether the operation consumes reference bases.
    pub fn consumes_reference(self) -> bool {
        matches!(self, CigarOp::Match | CigarOp::Del)
    }
}

/// A run-length encoded CIGAR: `(operation, length)` with no zero-length or repeated runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cigar(pub Vec<(CigarOp, u32)>);

impl Cigar {
    /// Appends `len` operations `op`, merging with the last run.
    pub fn push(&mut self, op: CigarOp, len: u32) {
        if len == 0 {
            return;
        }
        match self.0.last_mut() {
            Some((last, n)) if *last == op => *n += len,
            _ => self.0.push((op, len)),
        }
    }
    /// Number of query bases the CIGAR consumes.
    pub fn query_len(&self) -> u32 {
        self.0
            .iter()
            .filter(|(op, _)| op.consumes_query())
            .map(|(_, n)| n)
            .sum()
    }
    /// Number of reference bases the CIGAR consumes.
    pub fn reference_len(&self) -> u32 {
        self.0
            .iter()
            .filter(|(op, _)| op.consumes_reference())
            .map(|(_, n)| n)
            .sum()
    }
    /// Leading and trailing soft-clip lengths.
    pub fn clips(&self) -> (u32, u32) {
        let lead = match self.0.first() {
            Some((CigarOp::SoftClip, n)) => *n,
            _ => 0,
        };
        let trail = match self.0.last() {
            Some((CigarOp::SoftClip, n)) if self.0.len() > 1 => *n,
            _ => 0,
        };
        (lead, trail)
    }
}

impl std::fmt::Display for Cigar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("*");
        }
        for (op, n) in &self.0 {
            write!(f, "{n}{}", op.symbol())?;
        }
        Ok(())
    }
}

/// Probability of error of a Phred score.
#[inline]
pub fn phred_to_error(q: u8) -> f64 {
    10f64.powf(-f64::from(q) / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_codes_of_every_byte() {
        for b in 0..=255u8 {
            let want = match b {
                b'A' | b'a' => 0,
                b'C' | b'c' => 1,
                b'G' | b'g' => 2,
                b'T' | b't' => 3,
                _ => N,
            };
            assert_eq!(base_code(b), want, "{b}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for &b in b"ACGTN" {
            assert_eq!(base_ascii(base_code(b)), b);
        }
        assert_eq!(base_code(b'R'), N);
        assert_eq!(complement(0), 3);
        let mut rc = Vec::new();
        reverse_complement_into(&[0, 0, 1, 4], &mut rc);
        assert_eq!(rc, vec![4, 2, 3, 3]);
    }

    #[test]
    fn cigar_merges_and_measures() {
        let mut c = Cigar::default();
        c.push(CigarOp::SoftClip, 3);
        c.push(CigarOp::Match, 10);
        c.push(CigarOp::Match, 5);
        c.push(CigarOp::Del, 2);
        c.push(CigarOp::Ins, 0);
        c.push(CigarOp::Match, 4);
        assert_eq!(c.to_string(), "3S15M2D4M");
        assert_eq!(c.query_len(), 22);
        assert_eq!(c.reference_len(), 21);
        assert_eq!(c.clips(), (3, 0));
    }
}
