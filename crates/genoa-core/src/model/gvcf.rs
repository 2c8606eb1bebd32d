//! The records of a gVCF as GATK `-ERC GVCF` writes them: variant records (with `<NON_REF>`
//! as the last ALT when written as a gVCF) and reference blocks over `start..=end`; every base
//! of a contig is covered by exactly one record. Also the output mode and the GQ-band presets
//! that shape the blocks.

/// What `genoa call` writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputMode {
    /// A gVCF: variant records with `<NON_REF>`, and reference blocks over every other base.
    #[default]
    Gvcf,
    /// A plain VCF: the variant records only, without `<NON_REF>` (its AD and PL entries
    /// dropped).
    Variants,
}

/// GATK's default GQ band boundaries: 1..=60, 70, 80, 90, 99.
pub const GATK_GQ_BANDS: [u32; 64] = {
    let mut b = [0u32; 64];
    let mut i = 0;
    while i < 60 {
        b[i] = i as u32 + 1;
        i += 1;
    }
    b[60] = 70;
    b[61] = 80;
    b[62] = 90;
    b[63] = 99;
    b
};

/// The GQ band boundaries of a named preset: `gatk` ([`GATK_GQ_BANDS`], HaplotypeCaller's
/// default), `warp` (10, 20, …, 90: the Broad WARP pipelines' bands) or `reblock` (20, 30, 40:
/// GATK ReblockGVCF's; the caller then also floors each block's GQ to its band and folds
/// hom-ref candidates into blocks, as ReblockGVCF does).
pub fn gq_band_preset(name: &str) -> Option<Vec<u32>> {
    match name {
        "gatk" => Some(GATK_GQ_BANDS.to_vec()),
        "warp" => Some((1..=9).map(|i| 10 * i).collect()),
        "reblock" => Some(vec![20, 30, 40]),
        _ => None,
    }
}

/// A called variant (0-based position; alleles as base codes).
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub pos: u64,
    pub reference: Vec<u8>,
    /// Alternate alleles (`<NON_REF>` not included).
    pub alts: Vec<Vec<u8>>,
    pub filter_pass: bool,
    /// A candidate written so that joint genotyping can weigh it, not a call: genotyped `0/0`
    /// (FILTER `RefCall` in a gVCF) or with QUAL below the caller's emit threshold (`LowQual`),
    /// as DeepVariant marks them. Only a gVCF holds such records.
    pub candidate: bool,
    /// RMS mapping quality of the reads over the first base (`MQ`).
    pub mq: f64,
    pub genotyped: Genotyped,
    /// Allele fraction of each ALT (FORMAT `AF`), written when not empty: the mitochondrial
    /// model's heteroplasmy levels.
    pub af: Vec<f64>,
    /// GATK's raw annotations (written when present).
    pub annotations: Option<Box<Annotations>>,
    /// Physical phasing with nearby calls (FORMAT `PGT`, `PID`, `PS`), when known.
    pub phase: Option<Box<Phase>>,
}

/// Physical phasing of a heterozygous call with others of its active region, from the
/// assembled haplotype pair they were genotyped against (HaplotypeCaller's PGT/PID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    /// The alleles in haplotype order (`PGT` `a|b`).
    pub gt: [u8; 2],
    /// The phase group: `POS_REF_ALT` of its first call (`PID`), and that POS (`PS`).
    pub id: String,
    pub set: u64,
}

/// A variant record's raw annotations, as HaplotypeCaller writes them for joint genotyping
/// (its standard and allele-specific sets), from the reads the record was genotyped from.
/// Per-allele entries are in VCF order: REF, the ALTs, `<NON_REF>`. A read counts for an
/// allele when it is informative for it (as AD counts it); every read counts in `raw_mq`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotations {
    /// Σ MAPQ² of the reads and their number (`RAW_MQandDP`).
    pub raw_mq: u64,
    pub raw_dp: u32,
    /// Forward and reverse reads per allele (`AS_SB_TABLE`; FORMAT `SB` sums the ALTs').
    pub strand: Vec<[u32; 2]>,
    /// Σ MAPQ² of each allele's reads (`AS_RAW_MQ`).
    pub allele_mq: Vec<u64>,
    /// Mann-Whitney rank-sum z of the ALT reads against the REF reads: mapping quality
    /// (`MQRankSum`), read position (`ReadPosRankSum`), base quality (`BaseQRankSum`).
    pub mq_rank: RankSum,
    pub read_pos_rank: RankSum,
    pub base_q_rank: RankSum,
}

/// One rank-sum test of a record: over all ALT reads (`site`, `None` when either side has no
/// reads), and per ALT, `<NON_REF>` included (`per_alt`: `None` when no read supports REF;
/// an entry `None` when the ALT has no reads), as the `AS_RAW_` forms carry it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RankSum {
    pub site: Option<f64>,
    pub per_alt: Option<Vec<Option<f64>>>,
}

impl Annotations {
    /// FORMAT `SB`: REF forward, REF reverse, ALTs (`<NON_REF>` included) forward, reverse.
    pub fn sb(&self) -> [u32; 4] {
        let mut sb = [0; 4];
        if let Some((r, alts)) = self.strand.split_first() {
            sb[0] = r[0];
            sb[1] = r[1];
            for a in alts {
                sb[2] += a[0];
                sb[3] += a[1];
            }
        }
        sb
    }
}

/// A reference block over `start..=end` (0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub start: u64,
    pub end: u64,
    pub gq: u32,
    pub min_dp: u32,
    pub median_dp: u32,
    /// Genotype ploidy: 2 (GT `0/0`, PL of `0/0 0/1 1/1`) or 1 (GT `0`, PL of `0 1`: the
    /// first `ploidy + 1` entries of `pl` are used).
    pub ploidy: u8,
    pub pl: [u32; 3],
}

impl Block {
    /// The PL entries written: `ploidy + 1` of them.
    pub fn pl(&self) -> &[u32] {
        &self.pl[..usize::from(self.ploidy) + 1]
    }
}

/// One gVCF record of a contig.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Variant(Variant),
    Block(Block),
}

impl Record {
    /// First base (0-based).
    pub fn start(&self) -> u64 {
        match self {
            Record::Variant(v) => v.pos,
            Record::Block(b) => b.start,
        }
    }
}

/// Genotype of a site: the call, its confidence and its likelihoods.
#[derive(Clone, Debug, PartialEq)]
pub struct Genotyped {
    /// The called alleles; a haploid call (`ploidy` 1) holds its allele twice, so that
    /// `gt == [0, 0]` means "no ALT called" at either ploidy.
    pub gt: [u8; 2],
    /// 2 (diploid) or 1 (haploid: GT of one allele, one PL per allele).
    pub ploidy: u8,
    pub qual: f64,
    pub gq: u32,
    /// Phred-scaled, normalised likelihoods (3 for reference sites, 6 for variant sites).
    pub pl: Vec<u32>,
    /// Allele depths (REF, the ALTs, then `<NON_REF>`) and total depth.
    pub ad: Vec<u32>,
    pub dp: u32,
}

impl Genotyped {
    /// The alleles of the genotype as written: one when haploid, two when diploid.
    pub fn alleles(&self) -> &[u8] {
        &self.gt[..usize::from(self.ploidy.clamp(1, 2))]
    }

    /// PL entries of the genotypes of the first `n` alleles (VCF order): `n` haploid, `n(n+1)/2`
    /// diploid.
    pub fn pl_len(&self, n: usize) -> usize {
        if self.ploidy == 1 { n } else { n * (n + 1) / 2 }
    }
}
