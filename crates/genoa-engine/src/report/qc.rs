//! QC metrics of one sample: integer counters gathered while the pipeline runs
//! ([`QcCounts`], merged commutatively, so the result is the same for any thread count or batch
//! order), finished into [`Qc`], which is written as `SAMPLE.qc.json` and drawn by
//! [`crate::report::html`].
//!
//! # Metric names
//!
//! `wgs_qc_metrics` uses the metric IDs of the GA4GH "WGS Quality Control Standards"
//! (github.com/ga4gh/quality-control-wgs, `metrics_definitions/metrics_definitions.md` and the
//! per-metric pages under `docs/metrics_definitions/`), with the decimal precision each page
//! gives, and wraps the sample name as their example files do (`"biosample": {"id": …}`):
//!
//! | ID | genoa's computation (GA4GH definition in brackets where genoa differs) |
//! |----|------|
//! | `yield_bp_q30` | bases with quality ≥ 30 in primary records, mapped or not, duplicates included |
//! | `mean_autosome_coverage` | mean of the depths handed to [`QcCounts::add_depth`] on chr1–22 (2 decimals) |
//! | `pct_autosomes_15x` | % of those bases with depth ≥ 15 (2 decimals) |
//! | `pct_autosomes_n_fold_coverage` | `{pct_5x, pct_10x, pct_15x}` (the v2.0 draft's structured form) |
//! | `mad_autosome_coverage` | median absolute deviation of those depths (integer) |
//! | `pct_reads_mapped` | mapped primary reads / primary reads, duplicates included (2 decimals) |
//! | `pct_reads_properly_paired` | properly paired mapped primary reads / primary reads (1 decimal) |
//! | `mean_insert_size`, `insert_size_std_deviation` | over properly paired pairs, once per pair from the first mate's \|TLEN\| (1 decimal) [samtools stats: all pairs mapped on one contig] |
//! | `count_snvs`, `count_insertions`, `count_deletions` | passing (`QUAL` ≥ the PASS threshold), called non-reference variants on autosomes; insertions and deletions counted per called ALT allele |
//! | `ratio_insertion_deletion` | `count_insertions / count_deletions` (2 decimals) |
//! | `ratio_heterozygous_homzygous_snv`, `ratio_heterozygous_homzygous_indel` | het (`GT a != b`) / hom-alt (`a == b != 0`) records (2 decimals; the ID's spelling is GA4GH's) |
//! | `ratio_transitions_transversions_snv` | transitions / transversions over the called ALT alleles of SNV records (2 decimals) |
//!
//! The depths this module averages are the GA4GH coverage metrics' (Picard
//! `CollectWgsMetrics`): non-duplicate primary alignments with MAPQ ≥ 20 (the caller's read
//! filter), bases with base quality ≥ 20 (not capped by MAPQ) that are not `N`, overlapping mates
//! counted once, reference gaps (`N`) left out — counted by the pileup
//! (`call::pileup::Site::qc_depth`). On a reference without chr1–22
//! (bacteria, phages) the coverage and variant metrics keep their IDs but cover every contig;
//! `scope.autosomes_present` is then `false` and `scope.contigs` says `"all_contigs"`.
//!
//! Metrics with no GA4GH ID (`insert_size_median`, `pct_reads_duplicated`, read counts, …) sit
//! in `other_metrics` under plain snake_case names.
//!
//! # Determinism
//!
//! Every counter is an integer; floats are derived once, in [`QcCounts::finish`], and rounded to
//! a fixed number of decimals, so the JSON is byte-identical for the same input whatever the
//! merge order. A ratio or percentage whose denominator is zero is `null` (GA4GH reports N/A),
//! never NaN or 0. Only `run.wall_seconds`, `run.profile` (and `run.backends`, where the
//! hardware differs) change between runs of the same input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::alignment::AlignedRead;
use crate::model::alignment::Flags;
use crate::model::gvcf::{Record, Variant};

/// Depths at or above this share the histogram's last bucket (means use exact sums).
pub const DEPTH_CAP: u32 = 500;
/// Insert sizes at or above this share the histogram's last bucket.
pub const INSERT_SIZE_CAP: u64 = 10_000;
/// Indel lengths beyond ±this share the histogram's end buckets.
pub const INDEL_LENGTH_CAP: i64 = 50;
/// GQ histogram buckets: 0..=99 (GQ is capped at 99).
pub const GQ_MAX: u32 = 99;
/// Sequencing cycles beyond this are not tracked in quality-by-cycle.
pub const MAX_CYCLES: usize = 10_000;
/// The depth thresholds of `pct_autosomes_n_fold_coverage`.
const N_FOLD: [u32; 3] = [5, 10, 15];

/// Whether a contig name is an autosome: 1..22 with or without a `chr` prefix (`chr`, `Chr`
/// or `CHR`).
pub fn is_autosome(name: &str) -> bool {
    crate::model::contigs::ContigRole::of(name, false)
        == crate::model::contigs::ContigRole::Autosome
}

/// Depths of reference bases: a histogram capped at [`DEPTH_CAP`] plus exact sums.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct DepthHistogram {
    bases: u64,
    sum: u64,
    /// `counts[d]`: bases of depth `d`; the last possible bucket holds depths ≥ `DEPTH_CAP`.
    counts: Vec<u64>,
}

impl DepthHistogram {
    #[inline]
    fn add(&mut self, depth: u32, bases: u64) {
        self.bases += bases;
        self.sum += u64::from(depth) * bases;
        let i = depth.min(DEPTH_CAP) as usize;
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += bases;
    }

    fn merge(&mut self, other: &DepthHistogram) {
        self.bases += other.bases;
        self.sum += other.sum;
        add_vec(&mut self.counts, &other.counts);
    }

    /// Bases of depth ≥ `d`.
    fn at_least(&self, d: u32) -> u64 {
        self.counts.iter().skip(d as usize).sum()
    }
}

/// Element-wise `a += b`, growing `a` as needed.
fn add_vec(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Base quality sums by sequencing cycle of one mate.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Cycles {
    /// Sum of qualities at each cycle.
    sum: Vec<u64>,
    /// Reads long enough to have each cycle.
    reads: Vec<u64>,
}

impl Cycles {
    fn add(&mut self, qual: &[u8], reverse: bool) {
        let n = qual.len().min(MAX_CYCLES);
        if self.sum.len() < n {
            self.sum.resize(n, 0);
            self.reads.resize(n, 0);
        }
        if reverse {
            for (c, &q) in qual.iter().rev().take(n).enumerate() {
                self.sum[c] += u64::from(q);
            }
        } else {
            for (c, &q) in qual.iter().take(n).enumerate() {
                self.sum[c] += u64::from(q);
            }
        }
        for r in &mut self.reads[..n] {
            *r += 1;
        }
    }

    fn merge(&mut self, other: &Cycles) {
        add_vec(&mut self.sum, &other.sum);
        add_vec(&mut self.reads, &other.reads);
    }

    /// Mean quality per cycle, 2 decimals.
    fn means(&self) -> Vec<f64> {
        self.sum
            .iter()
            .zip(&self.reads)
            .map(|(&s, &r)| {
                if r == 0 {
                    0.0
                } else {
                    round(s as f64 / r as f64, 2)
                }
            })
            .collect()
    }
}

/// Counts of passing, called variants of one class of contigs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct VariantCounts {
    snvs: u64,
    snv_het: u64,
    snv_hom: u64,
    transitions: u64,
    transversions: u64,
    /// Records with at least one called insertion or deletion allele.
    indels: u64,
    indel_het: u64,
    indel_hom: u64,
    /// Called insertion / deletion ALT alleles.
    insertions: u64,
    deletions: u64,
    /// Records that are neither: MNPs and complex same-length substitutions.
    other: u64,
}

impl VariantCounts {
    fn merge(&mut self, o: &VariantCounts) {
        self.snvs += o.snvs;
        self.snv_het += o.snv_het;
        self.snv_hom += o.snv_hom;
        self.transitions += o.transitions;
        self.transversions += o.transversions;
        self.indels += o.indels;
        self.indel_het += o.indel_het;
        self.indel_hom += o.indel_hom;
        self.insertions += o.insertions;
        self.deletions += o.deletions;
        self.other += o.other;
    }
}

/// Accumulates QC counts; all integer counters so the result is the same for any thread count
/// or batch order (merge is commutative). Floats are derived only when finishing.
/// Serializable (serde) so a checkpointed segment can carry its counts to a resumed run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QcCounts {
    /// Primary records (not secondary, not supplementary), mapped or not.
    reads: u64,
    mapped: u64,
    properly_paired: u64,
    /// Primary reads marked duplicate (given by [`QcCounts::add_duplicates`]).
    duplicates: u64,
    /// Bases of primary records, and those with quality ≥ 30.
    bases: u64,
    bases_q30: u64,
    /// Insert sizes of properly paired pairs: count, exact sums, capped histogram.
    pairs: u64,
    insert_sum: u64,
    insert_sum_sq: u128,
    insert_counts: BTreeMap<u64, u64>,
    /// Quality by cycle of first mates (and unpaired reads) and of second mates.
    r1: Cycles,
    r2: Cycles,
    depth_autosomal: DepthHistogram,
    depth_other: DepthHistogram,
    /// Variant records seen, and those failing the PASS threshold.
    variant_records: u64,
    variant_records_filtered: u64,
    variants_autosomal: VariantCounts,
    variants_other: VariantCounts,
    /// Called indel ALT allele lengths (ALT − REF), clamped to ±[`INDEL_LENGTH_CAP`].
    indel_lengths: BTreeMap<i64, u64>,
    /// GQ of passing variant records, indexed 0..=[`GQ_MAX`].
    gq: Vec<u64>,
    /// Per contig (reference order): summed depth and non-`N` bases called.
    #[serde(default)]
    contig_depth: Vec<(u64, u64)>,
    /// The karyotype section, set once the ploidy is decided (not part of a segment's counts).
    #[serde(skip)]
    karyotype: Option<KaryotypeReport>,
}

impl QcCounts {
    /// One read pair's (or fragment's) records as the aligner produced them. Read counts,
    /// mapping, Q30 yield and quality by cycle count primary records only (secondary and
    /// supplementary ones are skipped); the insert size is the properly paired first mate's
    /// |TLEN|; qualities are taken in sequencing order (reversed back for reverse-strand
    /// records). The `DUPLICATE` flag is not looked at: duplicates come through
    /// [`QcCounts::add_duplicates`].
    pub fn add_pair(&mut self, records: &[AlignedRead]) {
        for r in records {
            if r.flags.intersects(Flags::SECONDARY | Flags::SUPPLEMENTARY) {
                continue;
            }
            self.reads += 1;
            let mapped = r.is_mapped();
            if mapped {
                self.mapped += 1;
                if r.flags
                    .contains(Flags::SEGMENTED | Flags::PROPERLY_SEGMENTED)
                {
                    self.properly_paired += 1;
                    if r.flags.intersects(Flags::FIRST_SEGMENT) && r.tlen != 0 {
                        self.add_insert(r.tlen.unsigned_abs());
                    }
                }
            }
            self.bases += r.qual.len() as u64;
            self.bases_q30 += r.qual.iter().filter(|&&q| q >= 30).count() as u64;
            let cycles = if r.flags.contains(Flags::SEGMENTED | Flags::LAST_SEGMENT) {
                &mut self.r2
            } else {
                &mut self.r1
            };
            cycles.add(&r.qual, r.flags.intersects(Flags::REVERSE_COMPLEMENTED));
        }
    }

    fn add_insert(&mut self, size: u64) {
        self.pairs += 1;
        self.insert_sum += size;
        self.insert_sum_sq += u128::from(size) * u128::from(size);
        *self
            .insert_counts
            .entry(size.min(INSERT_SIZE_CAP))
            .or_default() += 1;
    }

    /// Duplicate reads found by marking (primary reads), given after the fact.
    pub fn add_duplicates(&mut self, duplicate_reads: u64) {
        self.duplicates += duplicate_reads;
    }

    /// Depth of one reference base (after the caller's filters: duplicates and MAPQ < 20
    /// removed; for the GA4GH definition also bases with quality < 20, mate overlaps counted
    /// once, and reference `N`s not handed in at all). `autosomal` says whether the contig is
    /// an autosome (see [`is_autosome`]).
    #[inline]
    pub fn add_depth(&mut self, depth: u32, autosomal: bool) {
        self.depth_run(depth, 1, autosomal);
    }

    /// One called base of contig `contig` (reference order) with filtered depth `depth`: the
    /// per-contig mean depth of the report.
    pub fn add_contig_depth(&mut self, contig: usize, depth: u32) {
        if self.contig_depth.len() <= contig {
            self.contig_depth.resize(contig + 1, (0, 0));
        }
        let c = &mut self.contig_depth[contig];
        c.0 += u64::from(depth);
        c.1 += 1;
    }

    /// The karyotype section of the report.
    pub fn set_karyotype(&mut self, k: Option<KaryotypeReport>) {
        self.karyotype = k;
    }

    /// `bases` consecutive reference bases of the same depth (a reference block, a run of 0).
    #[inline]
    pub fn add_depth_run(&mut self, depth: u32, bases: u64, autosomal: bool) {
        self.depth_run(depth, bases, autosomal);
    }

    #[inline]
    fn depth_run(&mut self, depth: u32, bases: u64, autosomal: bool) {
        if autosomal {
            self.depth_autosomal.add(depth, bases);
        } else {
            self.depth_other.add(depth, bases);
        }
    }

    /// The gVCF records of one contig; `autosomal` says whether it is an autosome (the GA4GH
    /// variant metrics count autosomes only). Reference blocks are skipped. A variant record
    /// counts when it passes (`filter_pass`) and its GT holds an ALT allele: SNV = REF length 1
    /// and every ALT length 1 (Ti/Tv over its called ALTs); otherwise each called ALT whose
    /// length differs from REF is an insertion or deletion of length ALT − REF (the indel
    /// histogram), and a record with none is "other" (MNP / complex). het = GT `a != b`,
    /// hom-alt = `a == b != 0`. The GQ histogram takes every passing variant record.
    pub fn add_records(&mut self, records: &[Record], autosomal: bool) {
        for r in records {
            if let Record::Variant(v) = r {
                self.add_variant(v, autosomal);
            }
        }
    }

    fn add_variant(&mut self, v: &Variant, autosomal: bool) {
        if v.candidate {
            // Written for joint genotyping, not a call.
            return;
        }
        self.variant_records += 1;
        if !v.filter_pass {
            self.variant_records_filtered += 1;
            return;
        }
        let g = &v.genotyped;
        let gq = g.gq.min(GQ_MAX) as usize;
        if self.gq.len() <= GQ_MAX as usize {
            self.gq.resize(GQ_MAX as usize + 1, 0);
        }
        self.gq[gq] += 1;
        let [a, b] = g.gt;
        // Called ALT alleles (1-based into `alts`; `<NON_REF>` and out-of-range left out).
        let mut called: Vec<usize> = [a, b]
            .iter()
            .map(|&x| usize::from(x))
            .filter(|&x| x >= 1 && x <= v.alts.len())
            .collect();
        called.dedup();
        if called.is_empty() {
            return;
        }
        let het = a != b;
        let counts = if autosomal {
            &mut self.variants_autosomal
        } else {
            &mut self.variants_other
        };
        let snv = v.reference.len() == 1 && v.alts.iter().all(|x| x.len() == 1);
        if snv {
            counts.snvs += 1;
            if het {
                counts.snv_het += 1;
            } else {
                counts.snv_hom += 1;
            }
            let r = v.reference[0];
            for &k in &called {
                let x = v.alts[k - 1][0];
                if r < 4 && x < 4 && r != x {
                    if r ^ x == 2 {
                        counts.transitions += 1;
                    } else {
                        counts.transversions += 1;
                    }
                }
            }
            return;
        }
        let mut indel = false;
        for &k in &called {
            let d = v.alts[k - 1].len() as i64 - v.reference.len() as i64;
            if d == 0 {
                continue;
            }
            indel = true;
            if d > 0 {
                counts.insertions += 1;
            } else {
                counts.deletions += 1;
            }
            *self
                .indel_lengths
                .entry(d.clamp(-INDEL_LENGTH_CAP, INDEL_LENGTH_CAP))
                .or_default() += 1;
        }
        if indel {
            counts.indels += 1;
            if het {
                counts.indel_het += 1;
            } else {
                counts.indel_hom += 1;
            }
        } else {
            counts.other += 1;
        }
    }

    /// Adds `other`'s counts (commutative and associative).
    pub fn merge(&mut self, other: &QcCounts) {
        self.reads += other.reads;
        self.mapped += other.mapped;
        self.properly_paired += other.properly_paired;
        self.duplicates += other.duplicates;
        self.bases += other.bases;
        self.bases_q30 += other.bases_q30;
        self.pairs += other.pairs;
        self.insert_sum += other.insert_sum;
        self.insert_sum_sq += other.insert_sum_sq;
        for (&k, &n) in &other.insert_counts {
            *self.insert_counts.entry(k).or_default() += n;
        }
        self.r1.merge(&other.r1);
        self.r2.merge(&other.r2);
        self.depth_autosomal.merge(&other.depth_autosomal);
        self.depth_other.merge(&other.depth_other);
        self.variant_records += other.variant_records;
        self.variant_records_filtered += other.variant_records_filtered;
        self.variants_autosomal.merge(&other.variants_autosomal);
        self.variants_other.merge(&other.variants_other);
        for (&k, &n) in &other.indel_lengths {
            *self.indel_lengths.entry(k).or_default() += n;
        }
        add_vec(&mut self.gq, &other.gq);
        if self.contig_depth.len() < other.contig_depth.len() {
            self.contig_depth.resize(other.contig_depth.len(), (0, 0));
        }
        for (a, b) in self.contig_depth.iter_mut().zip(&other.contig_depth) {
            a.0 += b.0;
            a.1 += b.1;
        }
        if other.karyotype.is_some() {
            self.karyotype.clone_from(&other.karyotype);
        }
    }

    /// The finished metrics. Autosomes are present when `info`'s reference lists one of
    /// chr1–22 or autosomal depths were added; without them (e.g. bacteria) the coverage and
    /// variant metrics cover all contigs and `scope` says so.
    pub fn finish(&self, sample: &str, info: &RunInfo) -> Qc {
        let autosomes_present = self.depth_autosomal.bases > 0
            || info.reference.contigs.iter().any(|c| is_autosome(&c.name));
        let (depth, variants) = self.in_scope(autosomes_present);
        Qc {
            biosample: Biosample {
                id: sample.to_string(),
            },
            metrics_standard: METRICS_STANDARD.to_string(),
            scope: Scope {
                autosomes_present,
                contigs: if autosomes_present {
                    "autosomes"
                } else {
                    "all_contigs"
                }
                .to_string(),
                null_means: "denominator is zero (no data)".to_string(),
            },
            wgs_qc_metrics: self.ga4gh_metrics(&depth, &variants),
            other_metrics: self.other_metrics(&depth, &variants),
            histograms: self.histograms(&depth),
            karyotype: self.karyotype.clone(),
            contig_coverage: self
                .contig_depth
                .iter()
                .enumerate()
                .filter(|(_, d)| d.1 > 0)
                .filter_map(|(c, d)| {
                    let name = info.reference.contigs.get(c)?.name.clone();
                    Some(ContigCoverage {
                        role: crate::model::contigs::ContigRole::of(&name, false)
                            .name()
                            .to_string(),
                        contig: name,
                        bases_called: d.1,
                        mean_depth: round(d.0 as f64 / d.1 as f64, 2),
                    })
                })
                .collect(),
            run: info.clone(),
        }
    }

    /// The depths and variant counts the scoped metrics cover: the autosomes', or — without
    /// autosomes — every contig's.
    fn in_scope(&self, autosomes_present: bool) -> (DepthHistogram, VariantCounts) {
        if autosomes_present {
            (self.depth_autosomal.clone(), self.variants_autosomal)
        } else {
            let mut d = self.depth_autosomal.clone();
            d.merge(&self.depth_other);
            let mut v = self.variants_autosomal;
            v.merge(&self.variants_other);
            (d, v)
        }
    }

    /// Mean and standard deviation of the insert size, one decimal.
    fn insert_size(&self) -> (Option<f64>, Option<f64>) {
        if self.pairs == 0 {
            return (None, None);
        }
        let n = u128::from(self.pairs);
        let s = u128::from(self.insert_sum);
        // Population variance from exact integer sums: (n·Σx² − (Σx)²) / n².
        let var = (n * self.insert_sum_sq - s * s) as f64 / (n * n) as f64;
        (
            Some(round(self.insert_sum as f64 / self.pairs as f64, 1)),
            Some(round(var.sqrt(), 1)),
        )
    }

    /// The GA4GH metrics over the scoped depths and variants.
    fn ga4gh_metrics(&self, depth: &DepthHistogram, variants: &VariantCounts) -> Ga4ghMetrics {
        let pct_depth = |d: u32| percent(depth.at_least(d), depth.bases, 2);
        let mad = median_depth(depth).and_then(|m| mad(&depth.counts, m));
        let (mean_insert, sd_insert) = self.insert_size();
        Ga4ghMetrics {
            yield_bp_q30: self.bases_q30,
            mean_autosome_coverage: ratio(depth.sum, depth.bases, 2),
            pct_autosomes_15x: pct_depth(15),
            pct_autosomes_n_fold_coverage: NFold {
                pct_5x: pct_depth(N_FOLD[0]),
                pct_10x: pct_depth(N_FOLD[1]),
                pct_15x: pct_depth(N_FOLD[2]),
            },
            mad_autosome_coverage: mad,
            pct_reads_mapped: percent(self.mapped, self.reads, 2),
            pct_reads_properly_paired: percent(self.properly_paired, self.reads, 1),
            mean_insert_size: mean_insert,
            insert_size_std_deviation: sd_insert,
            count_snvs: variants.snvs,
            count_insertions: variants.insertions,
            count_deletions: variants.deletions,
            ratio_insertion_deletion: ratio(variants.insertions, variants.deletions, 2),
            ratio_heterozygous_homzygous_snv: ratio(variants.snv_het, variants.snv_hom, 2),
            ratio_heterozygous_homzygous_indel: ratio(variants.indel_het, variants.indel_hom, 2),
            ratio_transitions_transversions_snv: ratio(
                variants.transitions,
                variants.transversions,
                2,
            ),
        }
    }

    /// Counts and rates the GA4GH standard does not name.
    fn other_metrics(&self, depth: &DepthHistogram, variants: &VariantCounts) -> OtherMetrics {
        let mut all_variants = self.variants_autosomal;
        all_variants.merge(&self.variants_other);
        OtherMetrics {
            total_reads: self.reads,
            mapped_reads: self.mapped,
            properly_paired_reads: self.properly_paired,
            duplicate_reads: self.duplicates,
            pct_reads_duplicated: percent(self.duplicates, self.reads, 2),
            total_bases: self.bases,
            pct_bases_q30: percent(self.bases_q30, self.bases, 2),
            insert_size_pairs: self.pairs,
            insert_size_median: median(self.insert_counts.iter().map(|(&k, &n)| (k, n))),
            coverage_bases: depth.bases,
            median_autosome_coverage: median_depth(depth),
            mean_coverage_all_contigs: ratio(
                self.depth_autosomal.sum + self.depth_other.sum,
                self.depth_autosomal.bases + self.depth_other.bases,
                2,
            ),
            variant_records: self.variant_records,
            variant_records_filtered: self.variant_records_filtered,
            count_snvs_all_contigs: all_variants.snvs,
            count_indels_all_contigs: all_variants.indels,
            count_other_variants_all_contigs: all_variants.other,
            count_snvs_het: variants.snv_het,
            count_snvs_hom_alt: variants.snv_hom,
            count_indels_het: variants.indel_het,
            count_indels_hom_alt: variants.indel_hom,
            count_transitions: variants.transitions,
            count_transversions: variants.transversions,
        }
    }

    /// The report's histograms (coverage over the scoped depths).
    fn histograms(&self, depth: &DepthHistogram) -> Histograms {
        let mut coverage = depth.counts.clone();
        while coverage.last() == Some(&0) {
            coverage.pop();
        }
        let mut gq = self.gq.clone();
        gq.resize(GQ_MAX as usize + 1, 0);
        Histograms {
            coverage_cap: DEPTH_CAP,
            coverage,
            insert_size_cap: INSERT_SIZE_CAP,
            insert_size: self.insert_counts.iter().map(|(&k, &n)| [k, n]).collect(),
            base_quality_by_cycle: QualityByCycle {
                r1: self.r1.means(),
                r2: self.r2.means(),
            },
            indel_length_cap: INDEL_LENGTH_CAP,
            indel_length: self.indel_lengths.iter().map(|(&k, &n)| (k, n)).collect(),
            gq,
        }
    }
}

/// Median depth of a depth histogram.
fn median_depth(depth: &DepthHistogram) -> Option<u64> {
    median(
        depth
            .counts
            .iter()
            .copied()
            .enumerate()
            .map(|(d, n)| (d as u64, n)),
    )
}

/// Where the IDs of `wgs_qc_metrics` are defined.
pub const METRICS_STANDARD: &str = "GA4GH WGS Quality Control Standards \
     (github.com/ga4gh/quality-control-wgs, metrics_definitions)";

/// `x` rounded to `decimals` places (a correctly rounded division: prints as the decimal).
fn round(x: f64, decimals: i32) -> f64 {
    let s = 10f64.powi(decimals);
    (x * s).round() / s
}

/// `a / b` rounded, or `None` when `b` is 0.
fn ratio(a: u64, b: u64, decimals: i32) -> Option<f64> {
    (b != 0).then(|| round(a as f64 / b as f64, decimals))
}

/// `100 · a / b` rounded, or `None` when `b` is 0.
fn percent(a: u64, b: u64, decimals: i32) -> Option<f64> {
    (b != 0).then(|| round(100.0 * a as f64 / b as f64, decimals))
}

/// Lower median of a histogram given as ascending `(value, count)`; `None` when empty.
fn median(hist: impl Iterator<Item = (u64, u64)> + Clone) -> Option<u64> {
    let total: u64 = hist.clone().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = (total - 1) / 2;
    let mut seen = 0u64;
    for (v, n) in hist {
        seen += n;
        if seen > rank {
            return Some(v);
        }
    }
    None
}

/// Median absolute deviation from `m` of a dense depth histogram (the capped bucket counts at
/// its lower bound, so the result is exact unless half the bases are beyond the cap).
fn mad(counts: &[u64], m: u64) -> Option<u64> {
    let mut dev: Vec<u64> = Vec::new();
    for (d, &n) in counts.iter().enumerate() {
        let k = (d as u64).abs_diff(m) as usize;
        if k >= dev.len() {
            dev.resize(k + 1, 0);
        }
        dev[k] += n;
    }
    median(dev.into_iter().enumerate().map(|(k, n)| (k as u64, n)))
}

/// The sample (as GA4GH's example metric files name it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Biosample {
    pub id: String,
}

/// What the coverage and variant metrics cover.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scope {
    /// Whether the reference has chr1–22 (with or without `chr`).
    pub autosomes_present: bool,
    /// `"autosomes"`, or `"all_contigs"` when there are none.
    pub contigs: String,
    /// What a `null` value means.
    pub null_means: String,
}

/// `pct_autosomes_n_fold_coverage` (GA4GH v2.0 draft): % of bases at ≥5×, ≥10×, ≥15×.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NFold {
    pub pct_5x: Option<f64>,
    pub pct_10x: Option<f64>,
    pub pct_15x: Option<f64>,
}

/// The metrics with a GA4GH WGS QC ID (see the module docs for each one's computation).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ga4ghMetrics {
    pub yield_bp_q30: u64,
    pub mean_autosome_coverage: Option<f64>,
    pub pct_autosomes_15x: Option<f64>,
    pub pct_autosomes_n_fold_coverage: NFold,
    pub mad_autosome_coverage: Option<u64>,
    pub pct_reads_mapped: Option<f64>,
    pub pct_reads_properly_paired: Option<f64>,
    pub mean_insert_size: Option<f64>,
    pub insert_size_std_deviation: Option<f64>,
    pub count_snvs: u64,
    pub count_insertions: u64,
    pub count_deletions: u64,
    pub ratio_insertion_deletion: Option<f64>,
    pub ratio_heterozygous_homzygous_snv: Option<f64>,
    pub ratio_heterozygous_homzygous_indel: Option<f64>,
    pub ratio_transitions_transversions_snv: Option<f64>,
}

/// Metrics without a GA4GH ID. Percentages have 2 decimals; coverage and variant counts share
/// `scope` with the GA4GH ones unless named `_all_contigs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OtherMetrics {
    /// Primary records (pairs count twice), mapped or not.
    pub total_reads: u64,
    pub mapped_reads: u64,
    pub properly_paired_reads: u64,
    /// Primary reads marked duplicate.
    pub duplicate_reads: u64,
    /// `duplicate_reads / total_reads` (as samtools stats' `reads duplicated`).
    pub pct_reads_duplicated: Option<f64>,
    pub total_bases: u64,
    pub pct_bases_q30: Option<f64>,
    /// Properly paired pairs with a TLEN (the insert-size sample).
    pub insert_size_pairs: u64,
    /// Lower median insert size (exact below [`INSERT_SIZE_CAP`]).
    pub insert_size_median: Option<u64>,
    /// Reference bases in the coverage metrics' denominator.
    pub coverage_bases: u64,
    /// Lower median depth (exact below [`DEPTH_CAP`]).
    pub median_autosome_coverage: Option<u64>,
    pub mean_coverage_all_contigs: Option<f64>,
    /// Variant records of every contig, and those below the PASS threshold (not counted
    /// elsewhere).
    pub variant_records: u64,
    pub variant_records_filtered: u64,
    pub count_snvs_all_contigs: u64,
    /// Records with a called insertion or deletion allele.
    pub count_indels_all_contigs: u64,
    /// MNP and complex records.
    pub count_other_variants_all_contigs: u64,
    pub count_snvs_het: u64,
    pub count_snvs_hom_alt: u64,
    pub count_indels_het: u64,
    pub count_indels_hom_alt: u64,
    pub count_transitions: u64,
    pub count_transversions: u64,
}

/// Mean base quality per sequencing cycle (index 0 = cycle 1), 2 decimals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualityByCycle {
    /// First mates and unpaired reads.
    pub r1: Vec<f64>,
    pub r2: Vec<f64>,
}

/// The distributions the HTML report draws.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histograms {
    /// The last bucket holds depths ≥ this.
    pub coverage_cap: u32,
    /// Bases per depth (index = depth) in `scope`, trailing zeros dropped.
    pub coverage: Vec<u64>,
    pub insert_size_cap: u64,
    /// `[insert size, pairs]`, ascending, non-zero only.
    pub insert_size: Vec<[u64; 2]>,
    pub base_quality_by_cycle: QualityByCycle,
    pub indel_length_cap: i64,
    /// `(ALT − REF length, alleles)`, ascending, non-zero only; every contig.
    pub indel_length: Vec<(i64, u64)>,
    /// Passing variant records per GQ, index 0..=99; every contig.
    pub gq: Vec<u64>,
}

/// One contig of the reference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContigInfo {
    pub name: String,
    pub length: u64,
    /// MD5 of the sequence as in `@SQ M5` (lower-case hex).
    pub md5: String,
    /// refget digest, `SQ.` + sha512t24u.
    pub refget: String,
}

/// The reference a run used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReferenceInfo {
    pub path: String,
    /// GA4GH Sequence Collections level-0 digest.
    pub seqcol_level0: String,
    pub contigs: Vec<ContigInfo>,
}

/// The backend that ran one stage (`"align"`, `"call"`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageBackend {
    pub stage: String,
    /// `Backend::name()`: `"scalar"`, `"simd-avx2"`, `"gpu-vulkan (NVIDIA H100)"`.
    pub backend: String,
}

/// Run facts recorded in the JSON. `Default` fills `genoa_version` with this build's version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunInfo {
    pub genoa_version: String,
    /// The command line, one argument per element.
    pub command_line: Vec<String>,
    pub reference: ReferenceInfo,
    /// Wall-clock seconds of the whole run (the one value that differs between identical
    /// runs); rounded to 2 decimals when written.
    #[serde(serialize_with = "serialize_seconds")]
    pub wall_seconds: f64,
    pub backends: Vec<StageBackend>,
    /// The first read group's tags (`ID`, `SM`, `PL`, …), for the submission manifest's
    /// platform.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub read_group: std::collections::BTreeMap<String, String>,
    /// Every lane's read group tags, in lane order (read group ID order), when there are
    /// several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub read_groups: Vec<std::collections::BTreeMap<String, String>>,
    /// CPU seconds per stage ([`RunProfile`]); timings, so they differ between runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<RunProfile>,
}

/// Where a run's CPU time went: seconds per pipeline stage (`genoa_core::profile`), summed
/// over threads, beside the process's CPU time. Stages never count a second twice; what no
/// stage claims is `unattributed_seconds`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunProfile {
    /// User + system CPU seconds of the process over the run (`null` where unknown).
    #[serde(serialize_with = "serialize_seconds")]
    pub cpu_seconds: f64,
    /// Stages with any time, in pipeline order.
    pub stages: Vec<StageSeconds>,
    /// `cpu_seconds` less the stages' sum (not below 0).
    #[serde(serialize_with = "serialize_seconds")]
    pub unattributed_seconds: f64,
}

/// One stage's CPU seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageSeconds {
    pub stage: String,
    #[serde(serialize_with = "serialize_seconds")]
    pub cpu_seconds: f64,
}

/// The counters at the start of a run, for its [`RunProfile`].
#[derive(Clone, Copy, Debug)]
pub struct ProfileStart {
    stages: crate::profile::Snapshot,
    cpu: Option<f64>,
}

impl ProfileStart {
    pub fn now() -> Self {
        ProfileStart {
            stages: crate::profile::snapshot(),
            cpu: crate::profile::process_cpu_seconds(),
        }
    }
}

impl RunProfile {
    /// The profile of what ran since `start`.
    pub fn since(start: &ProfileStart) -> Self {
        let d = crate::profile::snapshot().since(&start.stages);
        let stages: Vec<StageSeconds> = d
            .stages()
            .filter(|&(_, s)| s > 0.0)
            .map(|(stage, s)| StageSeconds {
                stage: stage.name().to_string(),
                cpu_seconds: s,
            })
            .collect();
        let timed: f64 = stages.iter().map(|s| s.cpu_seconds).sum();
        let cpu = match (crate::profile::process_cpu_seconds(), start.cpu) {
            (Some(now), Some(then)) => now - then,
            _ => f64::NAN,
        };
        RunProfile {
            cpu_seconds: cpu,
            unattributed_seconds: (cpu - timed).max(0.0),
            stages,
        }
    }
}

impl std::fmt::Display for RunProfile {
    /// One line: each stage's seconds and share of the process's CPU time.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stage profile, CPU seconds")?;
        if self.cpu_seconds.is_finite() {
            write!(f, " (process {:.2} s)", self.cpu_seconds)?;
        }
        write!(f, ":")?;
        let share = |s: f64| {
            if self.cpu_seconds > 0.0 {
                format!(" ({:.1}%)", 100.0 * s / self.cpu_seconds)
            } else {
                String::new()
            }
        };
        for (i, s) in self.stages.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(
                f,
                "{sep}{} {:.2}{}",
                s.stage,
                s.cpu_seconds,
                share(s.cpu_seconds)
            )?;
        }
        if self.cpu_seconds.is_finite() {
            write!(
                f,
                "; unattributed {:.2}{}",
                self.unattributed_seconds,
                share(self.unattributed_seconds)
            )?;
        }
        Ok(())
    }
}

impl Default for RunInfo {
    fn default() -> Self {
        RunInfo {
            genoa_version: env!("CARGO_PKG_VERSION").to_string(),
            command_line: Vec::new(),
            reference: ReferenceInfo::default(),
            wall_seconds: 0.0,
            backends: Vec::new(),
            read_group: Default::default(),
            read_groups: Vec::new(),
            profile: None,
        }
    }
}

fn serialize_seconds<S: serde::Serializer>(s: &f64, ser: S) -> Result<S::Ok, S::Error> {
    if s.is_finite() {
        ser.serialize_f64(round(*s, 2))
    } else {
        ser.serialize_none()
    }
}

/// The finished metrics of one sample, with the histograms the HTML report draws. Serialized
/// in field order: `biosample`, `metrics_standard`, `scope`, `wgs_qc_metrics`,
/// `other_metrics`, `histograms`, `run`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Qc {
    pub biosample: Biosample,
    /// Where the IDs of `wgs_qc_metrics` are defined.
    pub metrics_standard: String,
    pub scope: Scope,
    pub wgs_qc_metrics: Ga4ghMetrics,
    pub other_metrics: OtherMetrics,
    pub histograms: Histograms,
    /// Sex-chromosome depth against the autosomes, the estimated and declared karyotype
    /// (`null` for a reference without X).
    pub karyotype: Option<KaryotypeReport>,
    /// Mean filtered depth of the called bases of each contig called.
    pub contig_coverage: Vec<ContigCoverage>,
    pub run: RunInfo,
}

/// The `karyotype` section of the QC JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KaryotypeReport {
    /// The estimate from X and Y depth against the autosomes.
    #[serde(flatten)]
    pub estimate: crate::call::ploidy::KaryotypeEstimate,
    /// `XX`, `XY`, … estimated (`null` when it cannot be).
    pub estimated: Option<String>,
    /// `--sex` as given (`null` for `auto`).
    pub declared: Option<String>,
    /// Whether the declared sex is the estimate (`null` when either is missing): the default
    /// QC policy fails a sample where it is `false`.
    pub sex_agrees: Option<bool>,
    /// The karyotype the calls' ploidy follows.
    pub used_for_calling: Option<String>,
    /// Where the PARs came from: `GRCh38`, `GRCh37`, `T2T-CHM13` or a BED path.
    pub par_source: Option<String>,
}

/// One contig's coverage in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContigCoverage {
    pub contig: String,
    /// `autosome`, `X`, `Y`, `mitochondrion`, `ALT`, `decoy` or `other` (by name).
    pub role: String,
    pub bases_called: u64,
    pub mean_depth: f64,
}

impl Qc {
    /// Pretty JSON in field order with a trailing newline; floats are already rounded, `null`
    /// where a denominator is zero.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of numbers, strings and vectors cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{Cigar, CigarOp};
    use crate::model::alignment::Flags;
    use crate::model::gvcf::Block;
    use crate::model::gvcf::Genotyped;

    fn read(flags: Flags, tlen: i64, qual: Vec<u8>) -> AlignedRead {
        AlignedRead {
            name: "r".into(),
            flags,
            contig: Some(0),
            pos: 100,
            mapq: 60,
            cigar: Cigar(vec![(CigarOp::Match, qual.len() as u32)]),
            mate_contig: Some(0),
            mate_pos: 200,
            tlen,
            seq: vec![b'A'; qual.len()],
            qual,
            nm: 0,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    }

    /// A properly paired FR pair with insert `size`.
    fn pair(size: i64) -> Vec<AlignedRead> {
        vec![
            read(
                Flags::SEGMENTED
                    | Flags::PROPERLY_SEGMENTED
                    | Flags::FIRST_SEGMENT
                    | Flags::MATE_REVERSE_COMPLEMENTED,
                size,
                vec![30, 20, 10],
            ),
            read(
                Flags::SEGMENTED
                    | Flags::PROPERLY_SEGMENTED
                    | Flags::LAST_SEGMENT
                    | Flags::REVERSE_COMPLEMENTED,
                -size,
                vec![40, 30, 20],
            ),
        ]
    }

    fn variant(reference: &[u8], alts: &[&[u8]], gt: [u8; 2], gq: u32, pass: bool) -> Record {
        Record::Variant(Variant {
            af: Vec::new(),
            annotations: None,
            phase: None,
            pos: 10,
            reference: reference.to_vec(),
            alts: alts.iter().map(|a| a.to_vec()).collect(),
            filter_pass: pass,
            candidate: false,
            mq: 60.0,
            genotyped: Genotyped {
                ploidy: 2,
                gt,
                qual: 50.0,
                gq,
                pl: vec![0; 6],
                ad: vec![5, 5, 0],
                dp: 10,
            },
        })
    }

    // Base codes: A=0 C=1 G=2 T=3.
    fn records() -> Vec<Record> {
        vec![
            variant(&[0], &[&[2]], [0, 1], 40, true), // A>G transition, het
            variant(&[1], &[&[3]], [1, 1], 99, true), // C>T transition, hom
            variant(&[0], &[&[1]], [0, 1], 20, true), // A>C transversion, het
            variant(&[0], &[&[0, 1, 1]], [0, 1], 30, true), // +2 insertion, het
            variant(&[0, 1, 2], &[&[0]], [1, 1], 30, true), // -2 deletion, hom
            variant(&[0, 1], &[&[2, 3]], [0, 1], 30, true), // MNP
            variant(&[0], &[&[3]], [0, 1], 5, false), // filtered
            Record::Block(Block {
                ploidy: 2,
                start: 0,
                end: 9,
                gq: 30,
                min_dp: 10,
                median_dp: 10,
                pl: [0, 30, 300],
            }),
        ]
    }

    fn info() -> RunInfo {
        RunInfo {
            reference: ReferenceInfo {
                path: "ref.fa".into(),
                seqcol_level0: String::new(),
                contigs: vec![ContigInfo {
                    name: "chr1".into(),
                    length: 1000,
                    md5: "0".repeat(32),
                    refget: String::new(),
                }],
            },
            ..RunInfo::default()
        }
    }

    #[test]
    fn autosome_names() {
        for n in ["1", "22", "chr1", "chr22", "Chr7", "CHR9"] {
            assert!(is_autosome(n), "{n}");
        }
        for n in [
            "0",
            "23",
            "chrX",
            "X",
            "Y",
            "MT",
            "chrM",
            "chr1_KI270706v1_random",
            "01",
            "chr",
            "",
            "+1",
            "chr+1",
        ] {
            assert!(!is_autosome(n), "{n}");
        }
    }

    #[test]
    fn read_counts_qualities_and_inserts() {
        let mut c = QcCounts::default();
        for s in [300, 310, 320, 1000] {
            c.add_pair(&pair(s));
        }
        // An unmapped pair, a secondary and a supplementary record.
        c.add_pair(&[
            read(
                Flags::SEGMENTED | Flags::UNMAPPED | Flags::FIRST_SEGMENT | Flags::MATE_UNMAPPED,
                0,
                vec![30, 30, 30],
            ),
            read(
                Flags::SEGMENTED | Flags::UNMAPPED | Flags::LAST_SEGMENT | Flags::MATE_UNMAPPED,
                0,
                vec![30, 30, 30],
            ),
            read(
                Flags::SEGMENTED | Flags::FIRST_SEGMENT | Flags::SECONDARY,
                0,
                vec![2, 2, 2],
            ),
            read(
                Flags::SEGMENTED | Flags::FIRST_SEGMENT | Flags::SUPPLEMENTARY,
                0,
                vec![2, 2, 2],
            ),
        ]);
        c.add_duplicates(2);
        // The DUPLICATE flag alone adds nothing.
        c.add_pair(&[read(Flags::DUPLICATE, 0, vec![35])]);
        let q = c.finish("s", &info());
        let (m, o) = (&q.wgs_qc_metrics, &q.other_metrics);
        assert_eq!(o.total_reads, 11);
        assert_eq!(o.mapped_reads, 9);
        assert_eq!(o.properly_paired_reads, 8);
        assert_eq!(m.pct_reads_mapped, Some(81.82));
        assert_eq!(m.pct_reads_properly_paired, Some(72.7));
        assert_eq!(o.pct_reads_duplicated, Some(18.18));
        assert_eq!(o.insert_size_pairs, 4);
        assert_eq!(o.insert_size_median, Some(310));
        assert_eq!(m.mean_insert_size, Some(482.5));
        // Population sd of 300, 310, 320, 1000.
        assert_eq!(m.insert_size_std_deviation, Some(298.9));
        // Q30 bases: 4 pairs × (1 + 2) + unmapped 6 + the lone 35.
        assert_eq!(m.yield_bp_q30, 4 * 3 + 6 + 1);
        // R1: forward [30,20,10] ×4, unmapped [30,30,30], lone unpaired [35]; R2: the reverse
        // mate's stored [40,30,20] read back as [20,30,40], and the unmapped [30,30,30].
        let bq = &q.histograms.base_quality_by_cycle;
        assert_eq!(bq.r1, vec![round(185.0 / 6.0, 2), 22.0, 14.0]);
        assert_eq!(bq.r2, vec![22.0, 30.0, 38.0]);
    }

    #[test]
    fn variant_metrics() {
        let mut c = QcCounts::default();
        c.add_records(&records(), true);
        // The same records on chrX count only in the all-contig figures.
        c.add_records(&records(), false);
        let q = c.finish("s", &info());
        let m = &q.wgs_qc_metrics;
        assert_eq!(m.count_snvs, 3);
        assert_eq!(m.count_insertions, 1);
        assert_eq!(m.count_deletions, 1);
        assert_eq!(m.ratio_transitions_transversions_snv, Some(2.0));
        assert_eq!(m.ratio_heterozygous_homzygous_snv, Some(2.0));
        assert_eq!(m.ratio_heterozygous_homzygous_indel, Some(1.0));
        assert_eq!(m.ratio_insertion_deletion, Some(1.0));
        let o = &q.other_metrics;
        assert_eq!(o.variant_records, 14);
        assert_eq!(o.variant_records_filtered, 2);
        assert_eq!(o.count_snvs_all_contigs, 6);
        assert_eq!(o.count_other_variants_all_contigs, 2);
        assert_eq!(q.histograms.indel_length, vec![(-2, 2), (2, 2)]);
        assert_eq!(q.histograms.gq.len(), 100);
        assert_eq!(q.histograms.gq[30], 6);
        assert_eq!(q.histograms.gq[99], 2);
        assert_eq!(q.histograms.gq.iter().sum::<u64>(), 12);
    }

    #[test]
    fn multiallelic_and_capped_indels() {
        let mut c = QcCounts::default();
        let long: Vec<u8> = vec![0; 80];
        c.add_records(
            &[
                // 1/2: two called ALTs, an insertion and a deletion; het.
                variant(&[0, 1], &[&[0, 1, 1], &[0]], [1, 2], 30, true),
                // A 79-base deletion: clamped to -50 in the histogram.
                variant(&long, &[&[0]], [1, 1], 30, true),
                // A>G and A>T both called: one transition, one transversion.
                variant(&[0], &[&[2], &[3]], [1, 2], 30, true),
            ],
            true,
        );
        let q = c.finish("s", &info());
        let m = &q.wgs_qc_metrics;
        assert_eq!((m.count_insertions, m.count_deletions), (1, 2));
        assert_eq!(m.count_snvs, 1);
        assert_eq!(m.ratio_transitions_transversions_snv, Some(1.0));
        assert_eq!(m.ratio_heterozygous_homzygous_indel, Some(1.0));
        assert_eq!(m.ratio_heterozygous_homzygous_snv, None);
        assert_eq!(q.histograms.indel_length, vec![(-50, 1), (-1, 1), (1, 1)]);
    }

    #[test]
    fn coverage_metrics() {
        let mut c = QcCounts::default();
        // 10 bases at 10x, 10 at 20x, 5 at 30x on autosomes; chrX at 1000x is out of scope.
        c.add_depth_run(10, 10, true);
        for _ in 0..10 {
            c.add_depth(20, true);
        }
        c.add_depth_run(30, 5, true);
        c.add_depth_run(1000, 7, false);
        let q = c.finish("s", &info());
        let m = &q.wgs_qc_metrics;
        assert_eq!(m.mean_autosome_coverage, Some(18.0));
        assert_eq!(m.pct_autosomes_15x, Some(60.0));
        assert_eq!(m.pct_autosomes_n_fold_coverage.pct_5x, Some(100.0));
        assert_eq!(q.other_metrics.median_autosome_coverage, Some(20));
        assert_eq!(m.mad_autosome_coverage, Some(10));
        assert_eq!(q.other_metrics.coverage_bases, 25);
        assert!(q.scope.autosomes_present);
        assert_eq!(q.histograms.coverage.len(), 31);
        // Depth beyond the cap: the histogram's last bucket, the mean exact.
        assert_eq!(
            q.other_metrics.mean_coverage_all_contigs,
            Some(round(7450.0 / 32.0, 2))
        );
    }

    #[test]
    fn no_autosomes_means_all_contigs() {
        let mut c = QcCounts::default();
        c.add_depth_run(40, 3, false);
        c.add_depth_run(2_000_000, 1, false);
        c.add_records(&records(), false);
        let info = RunInfo {
            reference: ReferenceInfo {
                path: "ecoli.fa".into(),
                contigs: vec![ContigInfo {
                    name: "NC_000913.3".into(),
                    length: 4,
                    ..ContigInfo::default()
                }],
                ..ReferenceInfo::default()
            },
            ..RunInfo::default()
        };
        let q = c.finish("s", &info);
        assert!(!q.scope.autosomes_present);
        assert_eq!(q.scope.contigs, "all_contigs");
        assert_eq!(q.wgs_qc_metrics.mean_autosome_coverage, Some(500_030.0));
        assert_eq!(q.wgs_qc_metrics.count_snvs, 3);
        let cov = &q.histograms.coverage;
        assert_eq!(cov.len(), DEPTH_CAP as usize + 1);
        assert_eq!((cov[40], cov[DEPTH_CAP as usize]), (3, 1));
        assert!(q.to_json().contains("\"contigs\": \"all_contigs\""));
    }

    #[test]
    fn empty_counts_give_nulls_not_nan() {
        let q = QcCounts::default().finish("empty", &RunInfo::default());
        let json = q.to_json();
        assert!(!json.contains("NaN") && !json.contains("inf"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let m = &v["wgs_qc_metrics"];
        for k in [
            "mean_autosome_coverage",
            "pct_autosomes_15x",
            "mad_autosome_coverage",
            "pct_reads_mapped",
            "mean_insert_size",
            "ratio_transitions_transversions_snv",
            "ratio_heterozygous_homzygous_snv",
        ] {
            assert!(m[k].is_null(), "{k}: {}", m[k]);
        }
        assert_eq!(m["count_snvs"], 0);
        assert_eq!(m["yield_bp_q30"], 0);
    }

    #[test]
    fn json_has_the_ga4gh_ids_in_order() {
        let mut c = QcCounts::default();
        c.add_pair(&pair(300));
        c.add_depth(20, true);
        c.add_records(&records(), true);
        let json = c.finish("NA12878", &info()).to_json();
        assert!(json.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["biosample"]["id"], "NA12878");
        let ids = [
            "yield_bp_q30",
            "mean_autosome_coverage",
            "pct_autosomes_15x",
            "pct_autosomes_n_fold_coverage",
            "mad_autosome_coverage",
            "pct_reads_mapped",
            "pct_reads_properly_paired",
            "mean_insert_size",
            "insert_size_std_deviation",
            "count_snvs",
            "count_insertions",
            "count_deletions",
            "ratio_insertion_deletion",
            "ratio_heterozygous_homzygous_snv",
            "ratio_heterozygous_homzygous_indel",
            "ratio_transitions_transversions_snv",
        ];
        let mut last = 0;
        for id in ids {
            assert!(v["wgs_qc_metrics"].get(id).is_some(), "{id}");
            let at = json.find(&format!("\"{id}\"")).unwrap();
            assert!(at > last, "{id} out of order");
            last = at;
        }
        assert_eq!(v["other_metrics"]["insert_size_median"], 300);
        assert_eq!(v["run"]["genoa_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["run"]["reference"]["contigs"][0]["name"], "chr1");
    }

    #[test]
    fn merge_is_order_independent() {
        let mut parts = Vec::new();
        for k in 0..4u32 {
            let mut c = QcCounts::default();
            for s in 0..(k + 2) {
                c.add_pair(&pair(250 + 7 * i64::from(s * k)));
            }
            c.add_pair(&[read(Flags::empty(), 0, vec![k as u8 + 20; 5 + k as usize])]);
            c.add_duplicates(u64::from(k));
            for d in 0..(40 * k) {
                c.add_depth(d % 37 + k * 200, k % 2 == 0);
            }
            if k % 2 == 1 {
                c.add_records(&records(), k == 1);
            }
            parts.push(c);
        }
        let fold = |order: &[usize]| {
            let mut acc = QcCounts::default();
            for &i in order {
                acc.merge(&parts[i]);
            }
            acc.finish("s", &info()).to_json()
        };
        let a = fold(&[0, 1, 2, 3]);
        assert_eq!(a, fold(&[3, 2, 1, 0]));
        assert_eq!(a, fold(&[2, 0, 3, 1]));
        // merge(a, b) == merge(b, a) pairwise too, and nesting does not matter.
        let mut ab = parts[0].clone();
        ab.merge(&parts[1]);
        let mut ba = parts[1].clone();
        ba.merge(&parts[0]);
        assert_eq!(
            ab.finish("s", &info()).to_json(),
            ba.finish("s", &info()).to_json()
        );
        let mut cd = parts[3].clone();
        cd.merge(&parts[2]);
        ba.merge(&cd);
        assert_eq!(a, ba.finish("s", &info()).to_json());
    }

    #[test]
    fn counts_survive_a_serde_round_trip() {
        let mut c = QcCounts::default();
        // Σx² beyond u64 (the u128 field), huge depths and both contig classes.
        c.add_insert(u64::from(u32::MAX));
        c.add_insert(u64::from(u32::MAX));
        c.add_pair(&pair(300));
        c.add_depth_run(u32::MAX, 3, true);
        c.add_depth(7, false);
        c.add_records(&records(), true);
        c.add_records(&records(), false);
        c.add_duplicates(5);
        let text = serde_json::to_string(&c).unwrap();
        let back: QcCounts = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back.finish("s", &info()).to_json(),
            c.finish("s", &info()).to_json()
        );
    }

    #[test]
    fn wall_seconds_are_rounded() {
        let info = RunInfo {
            wall_seconds: 12.345_678,
            ..RunInfo::default()
        };
        let json = QcCounts::default().finish("s", &info).to_json();
        assert!(json.contains("\"wall_seconds\": 12.35"), "{json}");
    }
}
