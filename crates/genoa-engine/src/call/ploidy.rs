//! The ploidy of every base the caller calls, for human references: the sample's karyotype
//! (declared with `--sex`, or estimated from X and Y depth against the autosomes), the
//! pseudo-autosomal regions (built in for GRCh38, GRCh37 and T2T-CHM13, recognised by contig
//! names and lengths; `--par-bed` for other references), and the role of each contig
//! ([`ContigRole`]).
//!
//! - Autosomes and other primary sequence: diploid.
//! - chrX: as many copies as the karyotype has X (capped at 2: genotypes beyond diploid are
//!   not supported), its PARs as many as X and Y together (capped at 2) — an analysis set
//!   hard-masks chrY's PARs, so every PAR read maps to chrX.
//! - chrY: as many copies as the karyotype has Y (capped at 2); none (not called) without a
//!   Y; its PARs are not called (`N` in an analysis set; with unmasked PARs their reads split
//!   between X and Y at MAPQ 0, which the log warns about).
//! - chrM: haploid, called by the mitochondrial model ([`crate::call::mito`]).
//! - ALT haplotypes and decoys: not called unless a target (`--region`, `--regions`) names
//!   them; then diploid.
//! - A reference without X (a bacterium, a phage): every contig diploid, as before.
//!
//! The karyotype estimate ([`estimate`]) is the median depth over callable bins (≥ half
//! non-`N` bases, outside the PARs) of X and of Y, each over the autosomes'; the depth of a
//! bin is counted from the read starts of primary, mapped reads with MAPQ ≥ 20
//! ([`CoverageBins`]), during alignment in `genoa run` (kept with each checkpointed segment)
//! or by a pass over the indexed BAM/CRAM in `genoa call`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::model::Interval;
use crate::model::alignment::{AlignedRead, Flags};
use crate::model::contigs::ContigRole;

/// Copies of X and Y.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Karyotype {
    pub x: u8,
    pub y: u8,
}

impl Karyotype {
    pub const XX: Karyotype = Karyotype { x: 2, y: 0 };
    pub const XY: Karyotype = Karyotype { x: 1, y: 1 };

    /// `XX`, `XY`, `X0`, `XXY`, `XYY`, …
    pub fn name(self) -> String {
        let mut s = "X".repeat(usize::from(self.x));
        s.push_str(&"Y".repeat(usize::from(self.y)));
        if self.y == 0 && self.x < 2 {
            s.push('0');
        }
        s
    }

    /// `XX` or `XY` (the values of `--sex`).
    pub fn parse_sex(s: &str) -> Option<Karyotype> {
        match s {
            "XX" => Some(Karyotype::XX),
            "XY" => Some(Karyotype::XY),
            _ => None,
        }
    }

    /// Whether the karyotype is one `--sex` can declare (XX or XY).
    pub fn is_typical(self) -> bool {
        self == Karyotype::XX || self == Karyotype::XY
    }
}

/// The sex a run is told (`--sex`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SexArg {
    #[default]
    Auto,
    Declared(Karyotype),
}

/// The pseudo-autosomal regions of a reference: half-open intervals on its X and Y.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParTable {
    /// `GRCh38`, `GRCh37`, `T2T-CHM13` or the BED file's path.
    pub source: String,
    pub intervals: Vec<Interval>,
}

/// PAR1 and PAR2 of a build on X and on Y (1-based inclusive, as the GRC publishes them),
/// with the X and Y lengths that identify it.
struct BuiltinPar {
    build: &'static str,
    x_len: u64,
    y_len: u64,
    x: [(u64, u64); 2],
    y: [(u64, u64); 2],
}

const BUILTIN_PARS: [BuiltinPar; 3] = [
    BuiltinPar {
        build: "GRCh38",
        x_len: 156_040_895,
        y_len: 57_227_415,
        x: [(10_001, 2_781_479), (155_701_383, 156_030_895)],
        y: [(10_001, 2_781_479), (56_887_903, 57_217_415)],
    },
    BuiltinPar {
        build: "GRCh37",
        x_len: 155_270_560,
        y_len: 59_373_566,
        x: [(60_001, 2_699_520), (154_931_044, 155_260_560)],
        y: [(10_001, 2_649_520), (59_034_050, 59_363_566)],
    },
    BuiltinPar {
        build: "T2T-CHM13",
        x_len: 154_259_566,
        y_len: 62_460_029,
        x: [(1, 2_394_410), (153_925_835, 154_259_566)],
        y: [(1, 2_458_320), (62_122_810, 62_460_029)],
    },
];

/// The contig of `reference` with role `role`, if exactly one.
fn contig_of(reference: &Reference, roles: &[ContigRole], role: ContigRole) -> Option<usize> {
    let mut found = roles.iter().enumerate().filter(|(_, r)| **r == role);
    let first = found.next().map(|(i, _)| i);
    if found.next().is_some() {
        return None;
    }
    first.filter(|&i| i < reference.contigs.len())
}

/// The built-in PARs of `reference` when its X (and Y, if present) have the names and lengths
/// of GRCh38, GRCh37 or T2T-CHM13.
pub fn builtin_pars(reference: &Reference, roles: &[ContigRole]) -> Option<ParTable> {
    let x = contig_of(reference, roles, ContigRole::X)?;
    let y = contig_of(reference, roles, ContigRole::Y);
    let b = BUILTIN_PARS.iter().find(|b| {
        reference.contigs[x].len() == b.x_len
            && y.is_none_or(|y| reference.contigs[y].len() == b.y_len)
    })?;
    let mut intervals: Vec<Interval> =
        b.x.iter()
            .map(|&(s, e)| Interval {
                contig: x,
                start: s - 1,
                end: e,
            })
            .collect();
    if let Some(y) = y {
        intervals.extend(b.y.iter().map(|&(s, e)| Interval {
            contig: y,
            start: s - 1,
            end: e,
        }));
    }
    Some(ParTable {
        source: b.build.to_string(),
        intervals,
    })
}

/// PARs from a BED file (contig, 0-based start, end; more columns ignored); its intervals
/// must lie on the reference's X or Y.
pub fn read_par_bed(path: &Path, reference: &Reference, roles: &[ContigRole]) -> Result<ParTable> {
    let intervals = crate::call::regions::read_bed(path, reference)?;
    if let Some(bad) = intervals
        .iter()
        .find(|i| !matches!(roles[i.contig], ContigRole::X | ContigRole::Y))
    {
        return Err(Error::input(
            path,
            format!(
                "PAR interval on {}, which is neither X nor Y",
                reference.contigs[bad.contig].name
            ),
        ));
    }
    Ok(ParTable {
        source: path.display().to_string(),
        intervals,
    })
}

/// How a contig is called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Model {
    /// Germline small variants at the ploidy of each base.
    #[default]
    Germline,
    /// The mitochondrial model: haploid, allele fractions reported ([`crate::call::mito`]).
    Mito,
}

/// Ploidy along one contig: spans `[start, end)` with their ploidy (0: not called), in order,
/// covering the contig; bases past the last span are diploid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContigPloidy {
    pub model: Model,
    pub spans: Vec<(u64, u64, u8)>,
}

impl ContigPloidy {
    /// Ploidy at `pos` (2 where no span says otherwise).
    pub fn at(&self, pos: u64) -> u8 {
        let i = self.spans.partition_point(|s| s.1 <= pos);
        match self.spans.get(i) {
            Some(&(s, _, p)) if s <= pos => p,
            _ => 2,
        }
    }

    fn uniform(len: u64, ploidy: u8, model: Model) -> ContigPloidy {
        ContigPloidy {
            model,
            spans: vec![(0, len, ploidy)],
        }
    }
}

/// Ploidy of every contig of a reference, and which are called by default.
#[derive(Clone, Debug, Default)]
pub struct GenomePloidy {
    /// Per contig in reference order (empty: everything diploid and called, the behaviour for
    /// references that are not human-like).
    pub contigs: Vec<ContigPloidy>,
    /// Per contig: called when no target names it (ALT and decoy contigs are not).
    pub called: Vec<bool>,
    /// The karyotype the ploidy follows, when the reference has an X.
    pub karyotype: Option<Karyotype>,
    /// Where the PARs came from (`GRCh38`, a BED path), if known.
    pub par_source: Option<String>,
}

/// The default: diploid everywhere.
static DIPLOID: ContigPloidy = ContigPloidy {
    model: Model::Germline,
    spans: Vec::new(),
};

impl GenomePloidy {
    /// The ploidy of contig `contig`.
    pub fn contig(&self, contig: usize) -> &ContigPloidy {
        self.contigs.get(contig).unwrap_or(&DIPLOID)
    }

    /// The intervals to call: the user's `targets` (every base of them called, ALT and decoy
    /// contigs included: naming them asks for them) or the default contigs, less the bases of
    /// ploidy 0 (chrY of a sample without Y, chrY's PARs). `None` when that is every base of
    /// every contig (no targets, nothing left out).
    pub fn targets(&self, lens: &[u64], targets: Option<&[Interval]>) -> Option<Vec<Interval>> {
        let wanted: Vec<Interval> = match targets {
            Some(t) => t.to_vec(),
            None => lens
                .iter()
                .enumerate()
                .filter(|&(c, _)| self.called.get(c).copied().unwrap_or(true))
                .map(|(c, &len)| Interval {
                    contig: c,
                    start: 0,
                    end: len,
                })
                .collect(),
        };
        let mut out = Vec::new();
        for t in &wanted {
            let p = self.contig(t.contig);
            if p.spans.is_empty() {
                out.push(*t);
                continue;
            }
            // Cut out the spans of ploidy 0.
            let mut from = t.start;
            for &(s, e, ploidy) in &p.spans {
                if ploidy == 0 && s < t.end && e > from {
                    if s > from {
                        out.push(Interval {
                            contig: t.contig,
                            start: from,
                            end: s,
                        });
                    }
                    from = e;
                }
            }
            if from < t.end {
                out.push(Interval {
                    contig: t.contig,
                    start: from,
                    end: t.end,
                });
            }
        }
        let everything = targets.is_none() && out.len() == lens.len() && {
            out.iter()
                .enumerate()
                .all(|(c, i)| i.contig == c && i.start == 0 && i.end == lens[c])
        };
        (!everything).then_some(out)
    }
}

/// The ploidy plan for `reference`: contig roles (ALT flags from the `.alt` file), the
/// karyotype (none: X and Y diploid, as for a reference without sex chromosomes) and the PARs.
pub fn plan(
    reference: &Reference,
    roles: &[ContigRole],
    karyotype: Option<Karyotype>,
    pars: Option<&ParTable>,
) -> GenomePloidy {
    let has_x = roles.contains(&ContigRole::X);
    let mut contigs = Vec::with_capacity(roles.len());
    for (c, (contig, &role)) in reference.contigs.iter().zip(roles).enumerate() {
        let len = contig.len();
        let par_spans: Vec<(u64, u64)> = pars
            .map(|p| {
                let mut v: Vec<(u64, u64)> = p
                    .intervals
                    .iter()
                    .filter(|i| i.contig == c)
                    .map(|i| (i.start.min(len), i.end.min(len)))
                    .filter(|(s, e)| s < e)
                    .collect();
                v.sort_unstable();
                v
            })
            .unwrap_or_default();
        let with_pars = |outside: u8, inside: u8| -> ContigPloidy {
            let mut spans = Vec::new();
            let mut at = 0;
            for &(s, e) in &par_spans {
                let s = s.max(at);
                if s > at {
                    spans.push((at, s, outside));
                }
                if e > s {
                    spans.push((s, e, inside));
                }
                at = at.max(e);
            }
            if at < len {
                spans.push((at, len, outside));
            }
            ContigPloidy {
                model: Model::Germline,
                spans,
            }
        };
        let p = match (role, karyotype) {
            (ContigRole::X, Some(k)) => with_pars(k.x.min(2), (k.x + k.y).min(2)),
            (ContigRole::Y, Some(k)) => with_pars(k.y.min(2), 0),
            (ContigRole::Mito, _) if has_x => ContigPloidy::uniform(len, 1, Model::Mito),
            _ => ContigPloidy::default(),
        };
        contigs.push(p);
    }
    GenomePloidy {
        contigs,
        called: roles.iter().map(|r| r.called_by_default()).collect(),
        karyotype: karyotype.filter(|_| has_x),
        par_source: pars.map(|p| p.source.clone()),
    }
}

/// Whether `reference` is human-like enough for sex-aware calling: it has an X.
pub fn has_sex_chromosomes(roles: &[ContigRole]) -> bool {
    roles.contains(&ContigRole::X)
}

/// Warns when chrY's PARs are not hard-masked: reads of the PARs then split between X and Y
/// and get MAPQ 0 on both.
pub fn warn_unmasked_y_pars(reference: &Reference, pars: &ParTable, roles: &[ContigRole]) {
    for i in &pars.intervals {
        if roles[i.contig] != ContigRole::Y {
            continue;
        }
        let codes = &reference.contigs[i.contig].codes;
        let (s, e) = (i.start as usize, (i.end as usize).min(codes.len()));
        if s >= e {
            continue;
        }
        let n = codes[s..e]
            .iter()
            .filter(|&&b| b == crate::genome::N)
            .count();
        if n * 10 < (e - s) * 9 {
            tracing::warn!(
                "{}:{}-{} (a PAR) is not hard-masked with N: reads of the PARs split between X and Y and get MAPQ 0 on both; use an analysis-set reference (chrY PARs masked)",
                reference.contigs[i.contig].name,
                s + 1,
                e
            );
        }
    }
}

/// Read starts per bin of every contig: the depth profile the karyotype is estimated from.
/// Counts primary, mapped reads with MAPQ ≥ [`BIN_MIN_MAPQ`] (duplicates included: their rate
/// does not differ between chromosomes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageBins {
    /// Bin length (0: not counting).
    pub bin_len: u64,
    /// Per contig, per bin.
    pub counts: Vec<Vec<u32>>,
}

/// MAPQ a read needs to count in [`CoverageBins`].
pub const BIN_MIN_MAPQ: u8 = 20;

impl CoverageBins {
    /// Empty bins for contigs of lengths `lens`: about 3,000 bins over the genome, 1 kb to 1 Mb
    /// each (GRCh38: 1 Mb; a 6-Mb test genome: 3 kb).
    pub fn new(lens: &[u64]) -> CoverageBins {
        let total: u64 = lens.iter().sum();
        let bin_len = total.div_ceil(3_000).div_ceil(1_000).clamp(1, 1_000) * 1_000;
        CoverageBins {
            bin_len,
            counts: lens
                .iter()
                .map(|&l| vec![0; l.div_ceil(bin_len) as usize])
                .collect(),
        }
    }

    /// Whether `read` is counted: primary, mapped, not failing QC, MAPQ ≥ [`BIN_MIN_MAPQ`].
    pub fn counts(read: &AlignedRead) -> bool {
        !read
            .flags
            .intersects(Flags::UNMAPPED | Flags::SECONDARY | Flags::SUPPLEMENTARY | Flags::QC_FAIL)
            && read.mapq >= BIN_MIN_MAPQ
    }

    /// Counts `read` if it qualifies.
    pub fn add(&mut self, read: &AlignedRead) {
        if self.bin_len == 0 || !Self::counts(read) {
            return;
        }
        let Some(c) = read.contig else { return };
        if let Some(bins) = self.counts.get_mut(c as usize) {
            let b = (read.pos / self.bin_len) as usize;
            if let Some(n) = bins.get_mut(b) {
                *n = n.saturating_add(1);
            }
        }
    }

    /// Counts a record placed on `contig` at `pos`, whatever its flags.
    pub fn add_placed(&mut self, contig: u32, pos: u64) {
        if self.bin_len == 0 {
            return;
        }
        if let Some(bins) = self.counts.get_mut(contig as usize)
            && let Some(n) = bins.get_mut((pos / self.bin_len) as usize)
        {
            *n = n.saturating_add(1);
        }
    }

    /// Adds `other`'s counts (same reference).
    pub fn merge(&mut self, other: &CoverageBins) {
        if other.bin_len == 0 {
            return;
        }
        if self.bin_len == 0 {
            *self = other.clone();
            return;
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = x.saturating_add(*y);
            }
        }
    }
}

/// The karyotype estimate of a sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KaryotypeEstimate {
    /// Median depth of X's callable bins over the autosomes' (about 0.5 for one X, 1 for two);
    /// `None` without callable bins.
    pub x_ratio: Option<f64>,
    /// The same for Y (about 0.5 for one Y, near 0 without).
    pub y_ratio: Option<f64>,
    /// Callable bins counted.
    pub bins_autosomal: usize,
    pub bins_x: usize,
    pub bins_y: usize,
    /// The karyotype the ratios give (`None` when they cannot be computed).
    pub karyotype: Option<Karyotype>,
    /// Set when the ratios are far from whole copy numbers (mosaicism, contamination, a
    /// low-coverage sample) or the karyotype is neither XX nor XY.
    pub flag: Option<String>,
}

/// Y at or above this ratio means a Y is present.
const Y_PRESENT: f64 = 0.2;

/// Estimates the karyotype from `bins` (see the module documentation).
pub fn estimate(
    reference: &Reference,
    roles: &[ContigRole],
    pars: Option<&ParTable>,
    bins: &CoverageBins,
) -> KaryotypeEstimate {
    let mut auto = Vec::new();
    let mut x = Vec::new();
    let mut y = Vec::new();
    if bins.bin_len > 0 {
        for (c, contig) in reference.contigs.iter().enumerate() {
            let dest = match roles.get(c) {
                Some(ContigRole::Autosome) => &mut auto,
                Some(ContigRole::X) => &mut x,
                Some(ContigRole::Y) => &mut y,
                _ => continue,
            };
            let Some(counts) = bins.counts.get(c) else {
                continue;
            };
            for (b, &n) in counts.iter().enumerate() {
                if n == UNSAMPLED {
                    continue;
                }
                let s = b as u64 * bins.bin_len;
                let e = (s + bins.bin_len).min(contig.len());
                if pars.is_some_and(|p| p.intervals.iter().any(|i| i.overlaps(c, s, e))) {
                    continue;
                }
                let callable = contig.codes[s as usize..e as usize]
                    .iter()
                    .filter(|&&b| b != crate::genome::N)
                    .count() as u64;
                if callable * 2 < bins.bin_len {
                    continue;
                }
                dest.push(f64::from(n) / callable as f64);
            }
        }
    }
    fn median(v: &mut [f64]) -> Option<f64> {
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        Some(if v.len() % 2 == 1 {
            v[m]
        } else {
            (v[m - 1] + v[m]) / 2.0
        })
    }
    let (bins_autosomal, bins_x, bins_y) = (auto.len(), x.len(), y.len());
    let a = median(&mut auto).filter(|&a| a > 0.0);
    let round4 = |v: f64| (v * 1e4).round() / 1e4;
    let x_ratio = a.and_then(|a| median(&mut x).map(|m| round4(m / a)));
    let y_ratio = a.and_then(|a| median(&mut y).map(|m| round4(m / a)));
    let mut flag = None;
    let karyotype = x_ratio.map(|xr| {
        let xc = (2.0 * xr).round().clamp(1.0, 4.0);
        if (2.0 * xr - xc).abs() > 0.3 {
            flag = Some(format!(
                "X depth ratio {xr:.3} is between copy numbers (mosaicism, contamination or low coverage?)"
            ));
        }
        let yr = y_ratio.unwrap_or(0.0);
        let yc = if yr >= Y_PRESENT {
            (2.0 * yr).round().clamp(1.0, 4.0)
        } else {
            0.0
        };
        if y_ratio.is_some() && yr >= Y_PRESENT / 2.0 && (2.0 * yr - yc).abs() > 0.3 {
            flag.get_or_insert(format!(
                "Y depth ratio {yr:.3} is between copy numbers (mosaicism, contamination or low coverage?)"
            ));
        }
        Karyotype {
            x: xc as u8,
            y: yc as u8,
        }
    });
    if let Some(k) = karyotype.filter(|k| !k.is_typical()) {
        flag.get_or_insert(format!("{}-like sex chromosome depth", k.name()));
    }
    KaryotypeEstimate {
        x_ratio,
        y_ratio,
        bins_autosomal,
        bins_x,
        bins_y,
        karyotype,
        flag,
    }
}

/// Autosomal bins `genoa call` reads for the karyotype: 150 (150 Mb of a GRCh38 WGS BAM,
/// about 5 % of it, beside X and Y whole).
pub const AUTOSOMAL_SAMPLE_BINS: usize = 150;

/// Appends the reads of contig `c` overlapping `[start, end)` to the vector.
pub type FetchReads<'a> = dyn Fn(usize, u64, u64, &mut Vec<AlignedRead>) -> Result<()> + Sync + 'a;

/// Counts the bins of the reads `fetch` gives for each window of `reference`'s autosomes, X
/// and Y (for `genoa call`, which has no alignment-time counts): X and Y whole, the autosomes
/// in at most [`AUTOSOMAL_SAMPLE_BINS`] bins spread evenly over them (enough for their median; the others are
/// marked [`UNSAMPLED`]).
pub fn count_bins(
    reference: &Reference,
    roles: &[ContigRole],
    fetch: &FetchReads<'_>,
) -> Result<CoverageBins> {
    use rayon::prelude::*;
    let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
    let mut bins = CoverageBins::new(&lens);
    let bl = bins.bin_len;
    let autosomal: Vec<(usize, u64)> = roles
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == ContigRole::Autosome)
        .flat_map(|(c, _)| (0..lens[c].div_ceil(bl)).map(move |b| (c, b)))
        .collect();
    for &(c, b) in &autosomal {
        bins.counts[c][b as usize] = UNSAMPLED;
    }
    let step = autosomal.len().div_ceil(AUTOSOMAL_SAMPLE_BINS).max(1);
    let mut windows: Vec<(usize, u64)> = autosomal.iter().step_by(step).copied().collect();
    for (c, r) in roles.iter().enumerate() {
        if matches!(r, ContigRole::X | ContigRole::Y) {
            windows.extend((0..lens[c].div_ceil(bl)).map(|b| (c, b)));
        }
    }
    let counted: Vec<Result<u32>> = windows
        .par_iter()
        .map(|&(c, b)| {
            let (s, e) = (b * bl, ((b + 1) * bl).min(lens[c]));
            let mut reads = Vec::new();
            fetch(c, s, e, &mut reads)?;
            let n = reads
                .iter()
                .filter(|r| r.pos >= s && r.pos < e && CoverageBins::counts(r))
                .count();
            Ok((n as u32).min(UNSAMPLED - 1))
        })
        .collect();
    for (&(c, b), n) in windows.iter().zip(counted) {
        bins.counts[c][b as usize] = n?;
    }
    Ok(bins)
}

/// A bin count that marks a bin as not sampled ([`count_bins`]); [`estimate`] skips it.
pub const UNSAMPLED: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn karyotype_names() {
        assert_eq!(Karyotype::XX.name(), "XX");
        assert_eq!(Karyotype::XY.name(), "XY");
        assert_eq!(Karyotype { x: 1, y: 0 }.name(), "X0");
        assert_eq!(Karyotype { x: 2, y: 1 }.name(), "XXY");
    }

    fn reference(contigs: &[(&str, usize)]) -> Reference {
        Reference {
            path: "ref.fa".into(),
            contigs: contigs
                .iter()
                .map(|&(name, len)| crate::io::reference::Contig {
                    name: name.into(),
                    codes: vec![0; len],
                    md5: String::new(),
                    refget: String::new(),
                })
                .collect(),
        }
    }

    fn roles_of(r: &Reference) -> Vec<ContigRole> {
        r.contigs
            .iter()
            .map(|c| ContigRole::of(&c.name, false))
            .collect()
    }

    #[test]
    fn plans_for_a_male_and_a_female() {
        let r = reference(&[
            ("chr1", 1000),
            ("chrX", 1000),
            ("chrY", 500),
            ("chrM", 100),
            ("chr1_alt", 100),
        ]);
        let roles = roles_of(&r);
        let pars = ParTable {
            source: "test".into(),
            intervals: vec![
                Interval {
                    contig: 1,
                    start: 0,
                    end: 100,
                },
                Interval {
                    contig: 2,
                    start: 0,
                    end: 100,
                },
            ],
        };
        let lens = [1000, 1000, 500, 100, 100];
        let xy = plan(&r, &roles, Some(Karyotype::XY), Some(&pars));
        assert_eq!(xy.contig(0).at(500), 2);
        assert_eq!(xy.contig(1).spans, vec![(0, 100, 2), (100, 1000, 1)]);
        assert_eq!(xy.contig(2).spans, vec![(0, 100, 0), (100, 500, 1)]);
        assert_eq!((xy.contig(3).model, xy.contig(3).at(5)), (Model::Mito, 1));
        // ALT left out; chrY's PAR not called.
        let t = xy.targets(&lens, None).unwrap();
        let spans: Vec<(usize, u64, u64)> = t.iter().map(|i| (i.contig, i.start, i.end)).collect();
        assert_eq!(
            spans,
            vec![(0, 0, 1000), (1, 0, 1000), (2, 100, 500), (3, 0, 100)]
        );
        // Naming the ALT contig calls it.
        let alt = [Interval {
            contig: 4,
            start: 0,
            end: 100,
        }];
        assert_eq!(xy.targets(&lens, Some(&alt)).unwrap(), alt.to_vec());
        // XX: chrX diploid, no chrY.
        let xx = plan(&r, &roles, Some(Karyotype::XX), Some(&pars));
        assert_eq!(xx.contig(1).spans, vec![(0, 100, 2), (100, 1000, 2)]);
        let t = xx.targets(&lens, None).unwrap();
        assert!(t.iter().all(|i| i.contig != 2), "{t:?}");
        // A reference without X: diploid everywhere, every base called.
        let b = reference(&[("NC_000913.3", 1000)]);
        let bp = plan(&b, &roles_of(&b), None, None);
        assert_eq!(bp.targets(&[1000], None), None);
        assert_eq!(bp.contig(0).at(10), 2);
    }

    #[test]
    fn estimates_the_karyotype_from_bin_depths() {
        let r = reference(&[("chr1", 300_000), ("chrX", 200_000), ("chrY", 100_000)]);
        let roles = roles_of(&r);
        let bins_with = |x: u32, y: u32| {
            let mut b = CoverageBins::new(&[300_000, 200_000, 100_000]);
            assert_eq!(b.bin_len, 1_000);
            b.counts[0].iter_mut().for_each(|n| *n = 200);
            b.counts[1].iter_mut().for_each(|n| *n = x);
            b.counts[2].iter_mut().for_each(|n| *n = y);
            b
        };
        let e = estimate(&r, &roles, None, &bins_with(100, 97));
        assert_eq!(e.karyotype, Some(Karyotype::XY));
        assert_eq!((e.x_ratio, e.y_ratio), (Some(0.5), Some(0.485)));
        assert_eq!(e.flag, None);
        let e = estimate(&r, &roles, None, &bins_with(199, 3));
        assert_eq!(e.karyotype, Some(Karyotype::XX));
        let e = estimate(&r, &roles, None, &bins_with(100, 0));
        assert_eq!(e.karyotype, Some(Karyotype { x: 1, y: 0 }));
        assert!(e.flag.unwrap().contains("X0"));
        let e = estimate(&r, &roles, None, &bins_with(150, 0));
        assert!(e.flag.unwrap().contains("between copy numbers"));
    }

    #[test]
    fn ploidy_lookup() {
        let p = ContigPloidy {
            model: Model::Germline,
            spans: vec![(0, 10, 2), (10, 20, 1), (20, 30, 0)],
        };
        assert_eq!(
            [0, 9, 10, 19, 20, 29, 30].map(|x| p.at(x)),
            [2, 2, 1, 1, 0, 0, 2]
        );
    }
}
