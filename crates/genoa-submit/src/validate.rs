//! `genoa validate`: checks a gVCF (plain text or BGZF/gzip) against the rules that joint
//! callers (GATK GenomicsDBImport/CombineGVCFs, GLnexus) rely on, over the reference it was
//! called on. Streams the file once; keeps the count and the first examples of every
//! violation class, so a broken multi-gigabyte gVCF gives a short report.
//!
//! Rules: header lines (`##fileformat` first, `INFO END`, `FORMAT GT/AD/DP/GQ/PL`), one sample
//! column, `##contig` lines equal to the reference (names, lengths, MD5s when given), every
//! record's `<NON_REF>` (or, with `allow_star`, DeepVariant's `<*>`) as its last ALT, REF equal
//! to the reference, records sorted in reference order with every base of every called contig
//! covered by exactly one record, blocks shorter
//! than 100 kb, INFO/FORMAT keys declared, `PL` and `AD` of the right arity and `GT` the
//! genotype whose `PL` is 0.
//!
//! Ploidy: a `GT` of one allele is haploid (male chrX outside the PARs, chrY, chrM; GATK
//! HaplotypeCaller `-ploidy 1`), of two diploid; `PL` then holds one value per genotype of the
//! record's n alleles (`<NON_REF>` included): n haploid, n(n+1)/2 diploid, for variant records
//! and reference blocks alike (a haploid block is `GT 0`, `PL 0,q`). A missing `GT` (`.`, or
//! none) leaves the ploidy open: either arity passes. Genotypes of more than two alleles
//! (`0/1/1`) are refused as unsupported: genoa calls haploid and diploid genomes only, and its
//! aggregate refuses them too. (GATK's GenomicsDB and GenotypeGVCFs take haploid records;
//! GLnexus has refused them — "PL vector length 2, expected 3", dnanexus-rnd/GLnexus#259 — so a
//! cohort mixing XY samples' haploid calls goes through GATK or `genoa aggregate`.)
//!
//! `FORMAT AF` declared `Number=A` (genoa's chrM allele fractions) holds one value per ALT,
//! the non-reference allele included (the fraction of reads with none of the alleles), as the
//! VCF spec's `A` counts every ALT (`bcftools norm -m-any` splits it so).
//!
//! Contigs not called: a contig with no record at all is a gap, except chrY (an XX sample's is
//! not called) and ALT and decoy contigs (not called by default; the reference's `.alt` file,
//! when there is one, names ALT contigs too) — see `genoa_core::model::contigs::ContigRole`.
//! A contig with records must be covered whole, except intervals a `##genoaPloidy` header
//! lists as `NotCalled` (chrY's PARs, contigs left out).
//!
//! Coverage: a record covers POS..END, or POS alone without END; the other bases of a
//! deletion's REF may be covered by the records that follow (GATK's reference blocks over
//! deleted bases) or left to the deletion (genoa's) — a record starting inside a REF span is no
//! overlap, and the bases a REF spans are no gap.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::genome::base_code;
use crate::io::reference::Reference;
use crate::model::contigs::ContigRole;

/// Blocks this long or longer are refused (GenomicsDB and GATK reblocking stay below 100 kb).
pub const MAX_BLOCK_LEN: u64 = 100_000;

/// Examples kept per class.
pub const EXAMPLES: usize = 3;

/// A kind of violation; [`Class::name`] is its stable snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// `##fileformat` not first, or a required INFO/FORMAT header line absent.
    HeaderMissing,
    /// No `#CHROM` line, or no sample column.
    SampleMissing,
    /// A reference contig without a `##contig` line.
    ContigHeaderMissing,
    /// A `##contig` line or a record naming a contig the reference lacks.
    ContigNotInReference,
    /// A `##contig` length different from the reference's.
    ContigLengthMismatch,
    /// A `##contig` md5 (`md5`, `MD5` or `M5`) different from the reference's.
    ContigMd5Mismatch,
    /// A line that cannot be parsed (too few columns, bad POS or END, bad GT, …).
    BadRecord,
    /// `END` before `POS`.
    EndBeforePos,
    /// POS or END past the end of the contig.
    BeyondContigEnd,
    /// REF bases different from the reference.
    RefMismatch,
    /// No `<NON_REF>` ALT (`<*>` with `--allow-star`).
    MissingNonRef,
    /// `<NON_REF>` present but not the last ALT.
    NonRefNotLast,
    /// A record before the previous one (position or contig order).
    Unsorted,
    /// A record starting inside the span of an earlier one.
    Overlap,
    /// Bases covered by no record.
    Gap,
    /// A record spanning 100 kb or more.
    BlockTooLong,
    /// An INFO key without a `##INFO` line.
    InfoFieldUndeclared,
    /// A FORMAT key without a `##FORMAT` line.
    FormatFieldUndeclared,
    /// A `GT` of more than two alleles (`0/1/1`): only haploid and diploid calls are supported.
    UnsupportedPloidy,
    /// `PL` count different from the number of genotypes of the alleles at the `GT`'s ploidy
    /// (haploid: one per allele; diploid: n(n+1)/2).
    PlArity,
    /// `AD` count different from the number of alleles.
    AdArity,
    /// `AF` (`Number=A`) count different from the number of ALTs (`<NON_REF>` included).
    AfArity,
    /// The called `GT` is not a genotype with the lowest (0) `PL`.
    GtPlInconsistent,
    /// An empty line (tabix stops indexing at one, so records after it vanish from queries).
    BlankLine,
    /// More than one sample column (a single-sample gVCF holds one; a tab in a sample name
    /// makes two).
    MultipleSamples,
    /// A field the `--profile`'s consumer computes with is absent from a record (e.g. no
    /// `RAW_MQandDP` or `SB` for GATK: GenotypeGVCFs would write no MQ, FS or SOR).
    AnnotationMissing,
    /// An allele-specific INFO field (`AS_*`) with another number of `|`-separated entries
    /// than the record has alleles (`<NON_REF>` included).
    AnnotationArity,
}

/// Whose needs `genoa validate --profile` checks, besides the format rules every gVCF meets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// Only the format rules.
    #[default]
    Format,
    /// GATK GenotypeGVCFs (and AS-VQSR/VETS when `AS_*` fields are present): variant records
    /// need `RAW_MQandDP` (or the older `RAW_MQ` with `MQ_DP`) for MQ and FORMAT `SB` for FS and
    /// SOR, and `AD`, `GQ`, `PL`; reference blocks `GQ`, `MIN_DP` and `PL`.
    Gatk,
    /// Hail's VDS combiner and gnomAD-style QC: the VDS drops the QUAL column, so variant
    /// records need `QUALapprox` and `VarDP`; `GT`, `AD`, `DP`, `GQ`, `PL`; reference blocks
    /// `GQ` and `MIN_DP` (or `DP`).
    Hail,
    /// GLnexus (its `gatk` configuration): variant records need `GT`, `AD`, `DP`, `GQ`, `PL`;
    /// reference blocks `GQ` and `MIN_DP` (or `DP`).
    Glnexus,
}

/// A profile's needs: FORMAT keys of a variant record, of a reference block (`A|B`: either),
/// and INFO keys of a variant record (any one of each entry's) with why.
type Needs = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [(&'static [&'static str], &'static str)],
);

impl Profile {
    /// The FORMAT keys a variant record and a reference block need; INFO keys a variant record
    /// needs (each entry: alternatives, any one will do), and why.
    fn needs(self) -> Needs {
        match self {
            Profile::Format => (&[], &[], &[]),
            Profile::Gatk => (
                &["GT", "AD", "GQ", "PL", "SB"],
                &["GT", "GQ", "MIN_DP", "PL"],
                &[(
                    &["RAW_MQandDP", "RAW_MQ"],
                    "GenotypeGVCFs computes MQ from it",
                )],
            ),
            Profile::Hail => (
                &["GT", "AD", "DP", "GQ", "PL"],
                &["GT", "GQ", "MIN_DP|DP"],
                &[
                    (&["QUALapprox"], "Hail's VDS keeps no QUAL column"),
                    (&["VarDP"], "QD from QUALapprox needs it"),
                ],
            ),
            Profile::Glnexus => (
                &["GT", "AD", "DP", "GQ", "PL"],
                &["GT", "GQ", "MIN_DP|DP"],
                &[],
            ),
        }
    }
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 27] = [
        Class::HeaderMissing,
        Class::SampleMissing,
        Class::ContigHeaderMissing,
        Class::ContigNotInReference,
        Class::ContigLengthMismatch,
        Class::ContigMd5Mismatch,
        Class::BadRecord,
        Class::EndBeforePos,
        Class::BeyondContigEnd,
        Class::RefMismatch,
        Class::MissingNonRef,
        Class::NonRefNotLast,
        Class::Unsorted,
        Class::Overlap,
        Class::Gap,
        Class::BlockTooLong,
        Class::InfoFieldUndeclared,
        Class::FormatFieldUndeclared,
        Class::UnsupportedPloidy,
        Class::PlArity,
        Class::AdArity,
        Class::AfArity,
        Class::GtPlInconsistent,
        Class::BlankLine,
        Class::MultipleSamples,
        Class::AnnotationMissing,
        Class::AnnotationArity,
    ];

    /// The stable snake_case name printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Class::HeaderMissing => "header_missing",
            Class::SampleMissing => "sample_missing",
            Class::ContigHeaderMissing => "contig_header_missing",
            Class::ContigNotInReference => "contig_not_in_reference",
            Class::ContigLengthMismatch => "contig_length_mismatch",
            Class::ContigMd5Mismatch => "contig_md5_mismatch",
            Class::BadRecord => "bad_record",
            Class::EndBeforePos => "end_before_pos",
            Class::BeyondContigEnd => "beyond_contig_end",
            Class::RefMismatch => "ref_mismatch",
            Class::MissingNonRef => "missing_non_ref",
            Class::NonRefNotLast => "non_ref_not_last",
            Class::Unsorted => "unsorted",
            Class::Overlap => "overlap",
            Class::Gap => "gap",
            Class::BlockTooLong => "block_too_long",
            Class::InfoFieldUndeclared => "info_field_undeclared",
            Class::FormatFieldUndeclared => "format_field_undeclared",
            Class::UnsupportedPloidy => "unsupported_ploidy",
            Class::PlArity => "pl_arity",
            Class::AdArity => "ad_arity",
            Class::AfArity => "af_arity",
            Class::GtPlInconsistent => "gt_pl_inconsistent",
            Class::BlankLine => "blank_line",
            Class::MultipleSamples => "multiple_samples",
            Class::AnnotationMissing => "annotation_missing",
            Class::AnnotationArity => "annotation_arity",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Validation settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Accept DeepVariant's `<*>` as the non-reference allele (as well as `<NON_REF>`).
    pub allow_star: bool,
    /// The consumer whose needs are checked too.
    pub profile: Profile,
}

/// One example of a violation: the 1-based line (0 for the end of the file) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub line: u64,
    pub message: String,
}

/// How often one class occurred, with its first examples.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub examples: Vec<Example>,
}

/// The outcome of validating one file.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Data lines read.
    pub records: u64,
    pub violations: BTreeMap<Class, Tally>,
}

impl Report {
    /// No violation of any class.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// Violations of `class`.
    pub fn count(&self, class: Class) -> u64 {
        self.violations.get(&class).map_or(0, |t| t.count)
    }

    /// The classes that occurred, in report order.
    pub fn classes(&self) -> Vec<Class> {
        self.violations.keys().copied().collect()
    }

    /// Total violations.
    pub fn total(&self) -> u64 {
        self.violations.values().map(|t| t.count).sum()
    }

    fn add(&mut self, class: Class, line: u64, message: impl FnOnce() -> String) {
        let t = self.violations.entry(class).or_default();
        t.count += 1;
        if t.examples.len() < EXAMPLES {
            t.examples.push(Example {
                line,
                message: message(),
            });
        }
    }

    /// The human-readable report: `PASS`, or one block per class with its count and examples.
    pub fn write(&self, name: &str, out: &mut impl Write) -> std::io::Result<()> {
        if self.is_clean() {
            return writeln!(out, "PASS\t{name}\t{} records", self.records);
        }
        writeln!(
            out,
            "FAIL\t{name}\t{} records\t{} violations in {} classes",
            self.records,
            self.total(),
            self.violations.len()
        )?;
        for (class, t) in &self.violations {
            writeln!(out, "{class}\t{}", t.count)?;
            for e in &t.examples {
                if e.line == 0 {
                    writeln!(out, "  end of file: {}", e.message)?;
                } else {
                    writeln!(out, "  line {}: {}", e.line, e.message)?;
                }
            }
        }
        Ok(())
    }
}

/// Validates the gVCF at `path` (plain, gzip or BGZF) against `reference` (and the `.alt`
/// file beside it, when there is one).
pub fn validate(path: &Path, reference: &Reference, options: Options) -> Result<Report> {
    let absent_ok = may_be_absent(reference)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut input = BufReader::new(file);
    let gzipped = input
        .fill_buf()
        .map_err(|e| Error::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gzipped {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(input)))
    } else {
        Box::new(input)
    };
    read_all(reader, Validator::new(reference, options, absent_ok)).map_err(|e| Error::io(path, e))
}

/// Validates gVCF text from `reader`; I/O errors (a truncated gzip stream, bytes that are not
/// UTF-8, an unreadable `.alt` file beside the reference) are returned as such, everything else
/// becomes a violation in the report.
pub fn validate_reader(
    reader: impl Read,
    reference: &Reference,
    options: Options,
) -> std::io::Result<Report> {
    let absent_ok = may_be_absent(reference).map_err(std::io::Error::other)?;
    read_all(reader, Validator::new(reference, options, absent_ok))
}

/// Per contig of `reference`, whether a gVCF may hold no record on it: chrY (not called in an
/// XX sample), ALT and decoy contigs (not called by default).
fn may_be_absent(reference: &Reference) -> Result<Vec<bool>> {
    Ok(crate::io::alt::roles(reference)?
        .into_iter()
        .map(|role| role == ContigRole::Y || !role.called_by_default())
        .collect())
}

fn read_all(mut reader: impl Read, mut v: Validator) -> std::io::Result<Report> {
    let mut buf = BufReader::with_capacity(1 << 16, &mut reader);
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        if buf.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        v.line_no += 1;
        let line = match std::str::from_utf8(&bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(e) => {
                let at = e.valid_up_to();
                v.add(Class::BadRecord, || {
                    format!("not UTF-8 text (byte {} of the line)", at + 1)
                });
                String::from_utf8_lossy(&bytes)
            }
        };
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            v.add(Class::BlankLine, || "empty line".to_string());
        } else if v.in_header {
            v.header_line(text);
        } else {
            v.record(text);
        }
    }
    Ok(v.finish())
}

/// The declared type of an INFO or FORMAT key, where values can be checked: Integer or Float,
/// and the count when `Number` is a fixed one.
#[derive(Clone, Copy, Debug)]
struct ValueType {
    integer: bool,
    number: Option<usize>,
}

impl ValueType {
    fn of(fields: &BTreeMap<String, String>) -> Option<ValueType> {
        let integer = match fields.get("Type").map(String::as_str) {
            Some("Integer") => true,
            Some("Float") => false,
            _ => return None,
        };
        let number = fields.get("Number").and_then(|n| n.parse().ok());
        Some(ValueType { integer, number })
    }

    /// `.` or a comma-separated list of values of this type, as many as a fixed `Number`
    /// says (Integer: 32-bit, above the eight values BCF reserves, as htslib and noodles
    /// read them).
    fn accepts(self, value: &str) -> bool {
        if value == "." {
            return true;
        }
        let n = value.split(',').count();
        self.number.is_none_or(|want| want == n)
            && value.split(',').all(|v| {
                v == "."
                    || if self.integer {
                        v.parse::<i32>().is_ok_and(|i| i > i32::MIN + 7)
                    } else {
                        v.parse::<f32>().is_ok()
                    }
            })
    }

    fn what(self) -> String {
        let kind = if self.integer {
            "32-bit integer"
        } else {
            "number"
        };
        match self.number {
            Some(1) => format!("one {kind}"),
            Some(n) => format!("{n} values, each a {kind}"),
            None => format!("a list of {kind}s"),
        }
    }
}

/// A `##contig` line.
struct ContigLine {
    line: u64,
    id: String,
    length: Option<u64>,
    md5: Option<String>,
}

struct Validator<'a> {
    reference: &'a Reference,
    options: Options,
    report: Report,
    line_no: u64,
    in_header: bool,
    info: HashSet<String>,
    format: HashSet<String>,
    /// Declared Integer and Float INFO and FORMAT keys: their values must parse as such.
    types: HashMap<(&'static str, String), ValueType>,
    /// `##FORMAT=<ID=AF,Number=A,…>`: AF holds one value per ALT (`<NON_REF>` included).
    af_per_alt: bool,
    /// Intervals the caller left out on purpose (`##genoaPloidy=<…,NotCalled="chrY:1-2781479,chrEBV">`:
    /// chrY's PARs, chrY of a sample without Y, ALT and decoy contigs), 1-based inclusive:
    /// no gap there.
    not_called: Vec<(String, u64, u64)>,
    contig_lines: Vec<ContigLine>,
    /// Has a sample column (and so genotype checks).
    has_sample: bool,
    /// Columns of the `#CHROM` line: every record has as many.
    columns: usize,
    /// Index of the contig being read, the last covered position on it (1-based) and the
    /// previous record's POS and line.
    current: Option<usize>,
    covered: u64,
    covered_line: u64,
    /// The last base a REF spanned (≥ `covered` once a deletion is read).
    spanned: u64,
    prev_pos: u64,
    /// Contigs records were seen on.
    seen: Vec<bool>,
    /// Contigs that may have no record at all ([`may_be_absent`]).
    absent_ok: Vec<bool>,
    /// Contigs not in the reference already reported (once per name).
    unknown: HashSet<String>,
}

impl<'a> Validator<'a> {
    fn new(reference: &'a Reference, options: Options, absent_ok: Vec<bool>) -> Self {
        Validator {
            reference,
            options,
            report: Report::default(),
            line_no: 0,
            in_header: true,
            info: HashSet::new(),
            format: HashSet::new(),
            types: HashMap::new(),
            af_per_alt: false,
            not_called: Vec::new(),
            contig_lines: Vec::new(),
            has_sample: false,
            columns: 0,
            current: None,
            covered: 0,
            covered_line: 0,
            spanned: 0,
            prev_pos: 0,
            seen: vec![false; reference.contigs.len()],
            absent_ok,
            unknown: HashSet::new(),
        }
    }

    fn add(&mut self, class: Class, message: impl FnOnce() -> String) {
        self.report.add(class, self.line_no, message);
    }

    fn header_line(&mut self, text: &str) {
        if self.line_no == 1 && !text.starts_with("##fileformat=VCF") {
            self.add(Class::HeaderMissing, || {
                "the first line is not ##fileformat=VCFv4.x".to_string()
            });
        }
        if let Some((kind, rest)) = text
            .strip_prefix("##INFO=<")
            .map(|r| ("INFO", r))
            .or_else(|| text.strip_prefix("##FORMAT=<").map(|r| ("FORMAT", r)))
        {
            let fields = structured(rest);
            let number_ok = fields.get("Number").is_some_and(|n| {
                matches!(n.as_str(), "A" | "R" | "G" | ".") || n.parse::<u32>().is_ok()
            });
            let type_ok = fields.get("Type").is_some_and(|t| {
                matches!(t.as_str(), "Integer" | "Float" | "Character" | "String")
                    || (kind == "INFO" && t == "Flag")
            });
            if !(number_ok && type_ok) {
                let id = fields.get("ID").cloned().unwrap_or_default();
                self.add(Class::BadRecord, || {
                    format!(
                        "##{kind} {id}: Number {:?} and Type {:?} are not a VCF Number and Type",
                        fields.get("Number").map(String::as_str).unwrap_or(""),
                        fields.get("Type").map(String::as_str).unwrap_or("")
                    )
                });
            }
        }
        if let Some(rest) = text.strip_prefix("##INFO=<") {
            let fields = structured(rest);
            if let Some(id) = fields.get("ID") {
                self.info.insert(id.clone());
                if let Some(t) = ValueType::of(&fields) {
                    self.types.insert(("INFO", id.clone()), t);
                }
            }
        } else if let Some(rest) = text.strip_prefix("##genoaPloidy=<") {
            if let Some(list) = structured(rest).get("NotCalled") {
                for item in list.split(',').filter(|x| !x.is_empty()) {
                    let parsed = match item.rsplit_once(':') {
                        Some((c, range)) => range.split_once('-').and_then(|(a, b)| {
                            Some((c.to_string(), a.parse().ok()?, b.parse().ok()?))
                        }),
                        None => None,
                    };
                    self.not_called
                        .push(parsed.unwrap_or((item.to_string(), 1, u64::MAX)));
                }
            }
        } else if let Some(rest) = text.strip_prefix("##FORMAT=<") {
            let fields = structured(rest);
            if let Some(id) = fields.get("ID") {
                if id == "AF" {
                    self.af_per_alt = fields.get("Number").is_some_and(|n| n == "A");
                }
                self.format.insert(id.clone());
                if let Some(t) = ValueType::of(&fields) {
                    self.types.insert(("FORMAT", id.clone()), t);
                }
            }
        } else if let Some(rest) = text.strip_prefix("##contig=<") {
            let fields = structured(rest);
            let Some(id) = fields.get("ID").cloned() else {
                self.add(Class::BadRecord, || "##contig line without ID".to_string());
                return;
            };
            let length = match fields.get("length") {
                None => None,
                Some(l) => match l.parse::<u64>() {
                    Ok(l) => Some(l),
                    Err(_) => {
                        self.add(Class::BadRecord, || {
                            format!("##contig {id}: length {l:?} is not a number")
                        });
                        None
                    }
                },
            };
            let md5 = ["md5", "MD5", "M5"]
                .iter()
                .find_map(|k| fields.get(*k))
                .map(|m| m.to_ascii_lowercase());
            self.contig_lines.push(ContigLine {
                line: self.line_no,
                id,
                length,
                md5,
            });
        } else if text.starts_with("#CHROM") {
            self.end_header(text);
        } else if !text.starts_with("##") {
            // A data line before any #CHROM line: check the header, then read it as a record.
            self.add(Class::SampleMissing, || {
                "no #CHROM line before the first record".to_string()
            });
            self.end_header_checks();
            self.in_header = false;
            if !text.is_empty() {
                self.record(text);
            }
        }
    }

    fn end_header(&mut self, text: &str) {
        let columns: Vec<&str> = text.split('\t').collect();
        if columns.len() < 10 || columns[9].trim().is_empty() {
            self.add(Class::SampleMissing, || {
                format!(
                    "#CHROM line has {} columns: no FORMAT and sample column",
                    columns.len()
                )
            });
        } else {
            if columns.len() > 10 {
                self.add(Class::MultipleSamples, || {
                    format!(
                        "#CHROM line has {} sample columns ({}); a gVCF holds one sample (a tab in a sample name makes two)",
                        columns.len() - 9,
                        columns[9..].join(", ")
                    )
                });
            }
            self.has_sample = columns[8] == "FORMAT";
            self.columns = columns.len();
            if !self.has_sample {
                self.add(Class::BadRecord, || {
                    format!("#CHROM line: column 9 is {:?}, not FORMAT", columns[8])
                });
            }
        }
        self.end_header_checks();
        self.in_header = false;
    }

    fn end_header_checks(&mut self) {
        if self.line_no == 0 {
            return;
        }
        if !self.info.contains("END") {
            self.add(Class::HeaderMissing, || {
                "no ##INFO=<ID=END,...> line".to_string()
            });
        }
        for key in ["GT", "AD", "DP", "GQ", "PL"] {
            if !self.format.contains(key) {
                self.add(Class::HeaderMissing, || {
                    format!("no ##FORMAT=<ID={key},...> line")
                });
            }
        }
        let lines = std::mem::take(&mut self.contig_lines);
        for c in &lines {
            let line = c.line;
            match self.reference.contig_index(&c.id) {
                None => self.report.add(Class::ContigNotInReference, line, || {
                    format!("##contig {} is not in the reference", c.id)
                }),
                Some(i) => {
                    let r = &self.reference.contigs[i];
                    if let Some(l) = c.length
                        && l != r.len()
                    {
                        self.report.add(Class::ContigLengthMismatch, line, || {
                            format!("##contig {}: length {l}, reference {}", c.id, r.len())
                        });
                    }
                    if let Some(m) = &c.md5
                        && *m != r.md5
                    {
                        self.report.add(Class::ContigMd5Mismatch, line, || {
                            format!("##contig {}: md5 {m}, reference {}", c.id, r.md5)
                        });
                    }
                }
            }
        }
        for r in &self.reference.contigs {
            if !lines.iter().any(|c| c.id == r.name) {
                self.report
                    .add(Class::ContigHeaderMissing, self.line_no, || {
                        format!("reference contig {} has no ##contig line", r.name)
                    });
            }
        }
    }

    fn record(&mut self, text: &str) {
        self.report.records += 1;
        let cols: Vec<&str> = text.split('\t').collect();
        let want = if self.has_sample {
            self.columns.max(10)
        } else {
            8
        };
        if cols.len() < 8 || (self.has_sample && cols.len() != want) {
            self.add(Class::BadRecord, || {
                format!("{} columns, expected {want}", cols.len())
            });
            return;
        }
        let (chrom, pos_text, ref_text, alt_text, info_text) =
            (cols[0], cols[1], cols[3], cols[4], cols[7]);
        let Ok(pos) = pos_text.parse::<u64>() else {
            self.add(Class::BadRecord, || {
                format!("{chrom}: POS {pos_text:?} is not a number")
            });
            return;
        };
        if pos == 0 {
            self.add(Class::BadRecord, || format!("{chrom}: POS 0"));
            return;
        }
        if ref_text.is_empty() || !ref_text.bytes().all(|b| b.is_ascii_alphabetic()) {
            self.add(Class::BadRecord, || {
                format!("{chrom}:{pos}: REF {ref_text:?} is not bases")
            });
            return;
        }
        let qual = cols[5];
        if qual != "." && qual.parse::<f32>().is_err() {
            self.add(Class::BadRecord, || {
                format!("{chrom}:{pos}: QUAL {qual:?} is not a number")
            });
        }
        // ID and FILTER: `.` or identifiers separated by `;`, none empty, none twice (as VCF
        // readers require; an empty column too).
        for (column, text) in [("ID", cols[2]), ("FILTER", cols[6])] {
            if text == "." {
                continue;
            }
            let ids: Vec<&str> = text.split(';').collect();
            let twice = (1..ids.len()).find(|&i| ids[..i].contains(&ids[i]));
            if ids.contains(&"") || twice.is_some() {
                self.add(Class::BadRecord, || {
                    let why = match twice {
                        Some(i) => format!("{:?} twice", ids[i]),
                        None => "an empty identifier".into(),
                    };
                    format!("{chrom}:{pos}: {column} {text:?} has {why}")
                });
            }
        }

        // INFO: declared keys and END.
        let mut end = None;
        if info_text != "." {
            for item in info_text.split(';') {
                let (key, value) = item.split_once('=').unwrap_or((item, ""));
                if !self.info.contains(key) {
                    self.add(Class::InfoFieldUndeclared, || {
                        format!("{chrom}:{pos}: INFO {key} has no ##INFO line")
                    });
                } else if let Some(t) = self.types.get(&("INFO", key.to_string()))
                    && !t.accepts(value)
                {
                    let t = *t;
                    self.add(Class::BadRecord, || {
                        format!("{chrom}:{pos}: INFO {key}={value} is not {}", t.what())
                    });
                }
                if key == "END" {
                    match value.parse::<u64>() {
                        Ok(e) => end = Some(e),
                        Err(_) => {
                            self.add(Class::BadRecord, || {
                                format!("{chrom}:{pos}: END {value:?} is not a number")
                            });
                            return;
                        }
                    }
                }
            }
        }
        let mut last = end.unwrap_or(pos);
        if last < pos {
            self.add(Class::EndBeforePos, || {
                format!("{chrom}:{pos}: END {last} < POS {pos}")
            });
            // Checked on as a record of POS alone.
            last = pos;
        }
        if last - pos + 1 >= MAX_BLOCK_LEN {
            self.add(Class::BlockTooLong, || {
                format!(
                    "{chrom}:{pos}-{last}: {} bp, limit {} bp",
                    last - pos + 1,
                    MAX_BLOCK_LEN - 1
                )
            });
        }

        // ALT: the non-reference allele, last.
        let alts: Vec<&str> = alt_text.split(',').collect();
        let allow_star = self.options.allow_star;
        let is_non_ref = |a: &str| a == "<NON_REF>" || (allow_star && a == "<*>");
        match alts.iter().position(|a| is_non_ref(a)) {
            None => {
                let star = alts.contains(&"<*>");
                self.add(Class::MissingNonRef, || {
                    format!(
                        "{chrom}:{pos}: ALT {alt_text} has no <NON_REF>{}",
                        if star {
                            " (<*> needs --allow-star)"
                        } else {
                            ""
                        }
                    )
                });
            }
            Some(i) if i + 1 != alts.len() => self.add(Class::NonRefNotLast, || {
                format!("{chrom}:{pos}: ALT {alt_text}: the non-reference allele is not last")
            }),
            Some(_) => {}
        }

        self.placement(chrom, pos, last, ref_text);
        let variant = alts.iter().any(|a| !is_non_ref(a) && *a != ".");
        self.annotations(chrom, pos, alts.len() + 1, variant, info_text);
        if self.has_sample {
            self.genotype(chrom, pos, alts.len() + 1, cols[8], cols[9]);
            self.profile_format(chrom, pos, variant, cols[8], cols[9]);
        }
    }

    /// INFO: the allele-specific fields' arity, and what the profile needs of a variant record.
    fn annotations(&mut self, chrom: &str, pos: u64, alleles: usize, variant: bool, info: &str) {
        let items: Vec<(&str, &str)> = if info == "." {
            Vec::new()
        } else {
            info.split(';')
                .map(|i| i.split_once('=').unwrap_or((i, "")))
                .collect()
        };
        for (key, value) in &items {
            if key.starts_with("AS_") && !value.is_empty() {
                let n = value.split('|').count();
                if n != alleles {
                    self.add(Class::AnnotationArity, || {
                        format!(
                            "{chrom}:{pos}: {key}={value} has {n} entries for {alleles} alleles"
                        )
                    });
                }
            }
        }
        if !variant {
            return;
        }
        let (_, _, info_needs) = self.options.profile.needs();
        for (any_of, why) in info_needs {
            if !items.iter().any(|(k, _)| any_of.contains(k)) {
                let profile = self.options.profile;
                self.add(Class::AnnotationMissing, || {
                    format!(
                        "{chrom}:{pos}: no INFO {} ({profile:?} profile: {why})",
                        any_of[0]
                    )
                });
            }
        }
    }

    /// FORMAT: what the profile needs of a variant record or a reference block.
    fn profile_format(&mut self, chrom: &str, pos: u64, variant: bool, format: &str, sample: &str) {
        let (for_variant, for_block, _) = self.options.profile.needs();
        let keys: Vec<&str> = format.split(':').collect();
        let values: Vec<&str> = sample.split(':').collect();
        let has = |key: &str| {
            keys.iter()
                .position(|k| *k == key)
                .and_then(|i| values.get(i))
                .is_some_and(|v| !v.is_empty())
        };
        let needs = if variant { for_variant } else { for_block };
        for need in needs {
            if !need.split('|').any(has) {
                let profile = self.options.profile;
                let what = if variant {
                    "variant record"
                } else {
                    "reference block"
                };
                self.add(Class::AnnotationMissing, || {
                    format!("{chrom}:{pos}: no FORMAT {need} ({profile:?} profile, {what})")
                });
            }
        }
    }

    /// Contig, order, coverage and REF checks.
    fn placement(&mut self, chrom: &str, pos: u64, last: u64, ref_text: &str) {
        let Some(c) = self.reference.contig_index(chrom) else {
            if self.unknown.insert(chrom.to_string()) {
                self.add(Class::ContigNotInReference, || {
                    format!("records on {chrom}, which the reference lacks")
                });
            }
            return;
        };
        if self.current != Some(c) {
            if self.seen[c] || self.current.is_some_and(|cur| cur > c) {
                let previous = self.current.map_or("", |i| &self.reference.contigs[i].name);
                let again = self.seen[c];
                self.add(Class::Unsorted, || {
                    if again {
                        format!("{chrom}:{pos}: {chrom} again after {previous}")
                    } else {
                        format!(
                            "{chrom}:{pos}: {chrom} after {previous}, against the reference order"
                        )
                    }
                });
                if again {
                    return;
                }
            }
            self.close_contig();
            self.current = Some(c);
            self.seen[c] = true;
            self.covered = 0;
            self.covered_line = 0;
            self.spanned = 0;
            self.prev_pos = 0;
        }
        let contig = &self.reference.contigs[c];
        let len = contig.len();
        if pos < self.prev_pos {
            let prev = self.prev_pos;
            self.add(Class::Unsorted, || {
                format!("{chrom}:{pos}: after a record at {chrom}:{prev}")
            });
        } else if pos <= self.covered {
            let (covered, line) = (self.covered, self.covered_line);
            self.add(Class::Overlap, || {
                format!(
                    "{chrom}:{pos}-{}: already covered by the record on line {line}",
                    last.min(covered)
                )
            });
        } else if pos > self.covered.max(self.spanned) + 1
            && !self.not_called(chrom, self.covered.max(self.spanned) + 1, pos - 1)
        {
            let from = self.covered.max(self.spanned) + 1;
            self.add(Class::Gap, || {
                format!("{chrom}:{from}-{}: no record covers these bases", pos - 1)
            });
        }
        self.prev_pos = self.prev_pos.max(pos);
        if last > self.covered {
            self.covered = last;
            self.covered_line = self.line_no;
        }
        let ref_end = pos - 1 + ref_text.len() as u64;
        self.spanned = self.spanned.max(ref_end);
        if last > len {
            self.add(Class::BeyondContigEnd, || {
                format!("{chrom}:{pos}-{last}: past the contig's end ({len})")
            });
            return;
        }
        if ref_end > len {
            self.add(Class::BeyondContigEnd, || {
                format!("{chrom}:{pos}: REF {ref_text} runs past the contig's end ({len})")
            });
            return;
        }
        let want = &contig.codes[(pos - 1) as usize..ref_end as usize];
        if ref_text.bytes().map(base_code).ne(want.iter().copied()) {
            let want: String = want
                .iter()
                .map(|&b| crate::genome::base_ascii(b) as char)
                .collect();
            self.add(Class::RefMismatch, || {
                format!("{chrom}:{pos}: REF {ref_text}, reference {want}")
            });
        }
    }

    /// End of one contig's records: the bases after the last record are a gap.
    /// Whether `from..=to` of `contig` lies in the caller's not-called intervals.
    fn not_called(&self, contig: &str, from: u64, to: u64) -> bool {
        let mut iv: Vec<(u64, u64)> = self
            .not_called
            .iter()
            .filter(|(n, _, _)| n == contig)
            .map(|&(_, s, e)| (s, e))
            .collect();
        iv.sort_unstable();
        let mut at = from;
        for (s, e) in iv {
            if s > at {
                break;
            }
            at = at.max(e.saturating_add(1));
        }
        at > to
    }

    fn close_contig(&mut self) {
        if let Some(c) = self.current {
            let contig = &self.reference.contigs[c];
            let reached = self.covered.max(self.spanned);
            if reached < contig.len() && !self.not_called(&contig.name, reached + 1, contig.len()) {
                let (from, to, name) = (reached + 1, contig.len(), &contig.name);
                self.report.add(Class::Gap, self.line_no, || {
                    format!("{name}:{from}-{to}: no record covers the contig's last bases")
                });
            }
        }
    }

    /// FORMAT keys, the GT's ploidy, PL/AD/AF arity and GT against PL; `alleles` counts REF
    /// and every ALT.
    fn genotype(&mut self, chrom: &str, pos: u64, alleles: usize, format: &str, sample: &str) {
        let keys: Vec<&str> = format.split(':').collect();
        let values: Vec<&str> = sample.split(':').collect();
        for key in &keys {
            if !self.format.contains(*key) {
                self.add(Class::FormatFieldUndeclared, || {
                    format!("{chrom}:{pos}: FORMAT {key} has no ##FORMAT line")
                });
            }
        }
        if values.len() > keys.len() {
            self.add(Class::BadRecord, || {
                format!(
                    "{chrom}:{pos}: {} sample values for FORMAT {format}",
                    values.len()
                )
            });
            return;
        }
        for (key, value) in keys.iter().zip(&values) {
            if let Some(t) = self.types.get(&("FORMAT", key.to_string()))
                && !t.accepts(value)
            {
                let t = *t;
                self.add(Class::BadRecord, || {
                    format!("{chrom}:{pos}: FORMAT {key} {value:?} is not {}", t.what())
                });
                return;
            }
        }
        let get = |key: &str| {
            keys.iter()
                .position(|k| *k == key)
                .and_then(|i| values.get(i).copied())
                .filter(|v| *v != ".")
        };
        // GT: allele indices (None for a missing allele); their number is the ploidy (none
        // when GT is `.` or absent: the ploidy is open).
        let mut gt: Vec<Option<usize>> = Vec::new();
        let g = get("GT").unwrap_or(".");
        if g != "." {
            for a in g.split(['/', '|']) {
                if a == "." {
                    gt.push(None);
                    continue;
                }
                match a.parse::<usize>() {
                    Ok(i) if i < alleles => gt.push(Some(i)),
                    _ => {
                        self.add(Class::BadRecord, || {
                            format!("{chrom}:{pos}: GT {g} names allele {a:?} of {alleles}")
                        });
                        return;
                    }
                }
            }
        }
        if let Some(ad) = get("AD") {
            let n = ad.split(',').count();
            if n != alleles {
                self.add(Class::AdArity, || {
                    format!("{chrom}:{pos}: AD {ad} has {n} values for {alleles} alleles")
                });
            }
        }
        if self.af_per_alt
            && let Some(af) = get("AF")
        {
            let n = af.split(',').count();
            let alts = alleles - 1;
            if n != alts {
                self.add(Class::AfArity, || {
                    format!(
                        "{chrom}:{pos}: AF {af} has {n} values for {alts} ALT alleles (Number=A, <NON_REF> included)"
                    )
                });
            } else if af.split(',').any(|x| x != "." && x.parse::<f64>().is_err()) {
                self.add(Class::BadRecord, || {
                    format!("{chrom}:{pos}: AF {af} is not a list of numbers")
                });
            }
        }
        if gt.len() > 2 {
            self.add(Class::UnsupportedPloidy, || {
                format!(
                    "{chrom}:{pos}: GT {g} has ploidy {}; only haploid and diploid genotypes are supported",
                    gt.len()
                )
            });
            return;
        }
        let Some(pl_text) = get("PL") else { return };
        let pl: Vec<Option<u64>> = pl_text.split(',').map(|p| p.parse().ok()).collect();
        let (haploid, diploid) = (genotype_count(alleles, 1), genotype_count(alleles, 2));
        let arity_ok = match gt.len() {
            0 => pl.len() == haploid || pl.len() == diploid,
            1 => pl.len() == haploid,
            _ => pl.len() == diploid,
        };
        if !arity_ok {
            let n = pl.len();
            self.add(Class::PlArity, || match gt.len() {
                0 => format!(
                    "{chrom}:{pos}: PL {pl_text} has {n} values; {alleles} alleles have {haploid} haploid or {diploid} diploid genotypes"
                ),
                1 => format!(
                    "{chrom}:{pos}: PL {pl_text} has {n} values; a haploid GT ({g}) over {alleles} alleles has {haploid} genotypes"
                ),
                _ => format!(
                    "{chrom}:{pos}: PL {pl_text} has {n} values; a diploid GT ({g}) over {alleles} alleles has {diploid} genotypes"
                ),
            });
            return;
        }
        if pl.iter().any(Option::is_none) {
            self.add(Class::BadRecord, || {
                format!("{chrom}:{pos}: PL {pl_text} is not a list of integers")
            });
            return;
        }
        let Some(called) = gt.iter().copied().collect::<Option<Vec<usize>>>() else {
            return;
        };
        let Some(index) = crate::model::genotype::index(&called) else {
            return;
        };
        let min = pl.iter().flatten().min().copied();
        if let (Some(Some(at)), Some(min)) = (pl.get(index), min)
            && *at != min
        {
            let block = alleles == 2 && called.iter().all(|&a| a == 0);
            self.add(Class::GtPlInconsistent, || {
                format!(
                    "{chrom}:{pos}: GT {g} has PL {at}, but the best genotype has PL {min} (PL {pl_text}){}",
                    if block {
                        "; a reference block's PLs are capped at hom-ref (as GATK's are)"
                    } else {
                        ""
                    }
                )
            });
        }
    }

    fn finish(mut self) -> Report {
        if self.in_header {
            // No #CHROM line at all (an empty file or a header alone).
            self.add(Class::SampleMissing, || "no #CHROM line".to_string());
            if self.line_no == 0 {
                self.add(Class::HeaderMissing, || "empty file".to_string());
            }
            self.end_header_checks();
        }
        self.line_no = 0;
        self.close_contig();
        for ((c, seen), absent_ok) in self
            .reference
            .contigs
            .iter()
            .zip(&self.seen)
            .zip(&self.absent_ok)
        {
            let listed = self
                .not_called
                .iter()
                .any(|(n, s, e)| n == &c.name && *s <= 1 && *e >= c.len());
            if !seen && !absent_ok && !listed {
                self.report.add(Class::Gap, 0, || {
                    format!("{}:1-{}: no records on this contig", c.name, c.len())
                });
            }
        }
        self.report
    }
}

/// Number of genotypes of `alleles` alleles at `ploidy` (VCF `Number=G`): C(alleles+ploidy-1, ploidy).
pub fn genotype_count(alleles: usize, ploidy: usize) -> usize {
    let mut n = 1usize;
    for k in 1..=ploidy {
        n = n * (alleles + k - 1) / k;
    }
    n
}

/// The `key=value` pairs inside a structured header line's `<…>` (`rest` starts after `<`);
/// commas inside double quotes do not split.
fn structured(rest: &str) -> BTreeMap<String, String> {
    let body = rest.strip_suffix('>').unwrap_or(rest);
    let mut out = BTreeMap::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut push = |field: &mut String| {
        if let Some((k, v)) = field.split_once('=') {
            out.insert(k.trim().to_string(), v.trim_matches('"').to_string());
        }
        field.clear();
    };
    for ch in body.chars() {
        if escaped {
            field.push(ch);
            escaped = false;
        } else if ch == '\\' && quoted {
            escaped = true;
        } else if ch == '"' {
            quoted = !quoted;
            field.push(ch);
        } else if ch == ',' && !quoted {
            push(&mut field);
        } else {
            field.push(ch);
        }
    }
    push(&mut field);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(dir: &Path) -> Reference {
        let fa = dir.join("r.fa");
        std::fs::write(&fa, ">c1\nACGTACGTAC\n>c2\nGGCCA\n").unwrap();
        Reference::load(&fa).unwrap()
    }

    fn header(r: &Reference) -> String {
        let mut h = String::from(
            "##fileformat=VCFv4.2\n##INFO=<ID=END,Number=1,Type=Integer,Description=\"End, with a comma\">\n",
        );
        for k in ["GT", "AD", "DP", "GQ", "PL"] {
            h.push_str(&format!(
                "##FORMAT=<ID={k},Number=1,Type=String,Description=\"x\">\n"
            ));
        }
        for c in &r.contigs {
            h.push_str(&format!(
                "##contig=<ID={},length={},md5={}>\n",
                c.name,
                c.len(),
                c.md5
            ));
        }
        h.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n");
        h
    }

    fn check(body: &str) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let r = reference(dir.path());
        let text = header(&r) + body;
        validate_reader(text.as_bytes(), &r, Options::default()).unwrap()
    }

    const GOOD: &str = "c1\t1\t.\tA\t<NON_REF>\t.\t.\tEND=4\tGT:DP:GQ:PL\t0/0:5:10:0,10,100\n\
        c1\t5\t.\tA\tG,<NON_REF>\t50\t.\t.\tGT:AD:DP:GQ:PL\t0/1:2,3,0:5:40:50,0,40,60,70,110\n\
        c1\t6\t.\tC\t<NON_REF>\t.\t.\tEND=10\tGT:DP:GQ:PL\t0/0:5:10:0,10,100\n\
        c2\t1\t.\tG\t<NON_REF>\t.\t.\tEND=5\tGT:DP:GQ:PL\t0/0:5:10:0,10,100\n";

    #[test]
    fn profiles_check_what_their_consumer_computes_with() {
        let dir = tempfile::tempdir().unwrap();
        let r = reference(dir.path());
        let mut h = header(&r);
        let declare = "##INFO=<ID=RAW_MQandDP,Number=2,Type=Integer,Description=\"x\">\n\
            ##INFO=<ID=MQ,Number=1,Type=Float,Description=\"x\">\n\
            ##INFO=<ID=QUALapprox,Number=1,Type=Integer,Description=\"x\">\n\
            ##INFO=<ID=VarDP,Number=1,Type=Integer,Description=\"x\">\n\
            ##INFO=<ID=AS_RAW_MQ,Number=1,Type=String,Description=\"x\">\n\
            ##FORMAT=<ID=SB,Number=4,Type=Integer,Description=\"x\">\n\
            ##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"x\">\n";
        h.insert_str(h.find("##contig").unwrap(), declare);
        let run = |body: &str, profile: Profile| {
            let options = Options {
                profile,
                ..Options::default()
            };
            validate_reader((h.clone() + body).as_bytes(), &r, options).unwrap()
        };
        let block = |from: u32, to: u32| {
            format!(
                "c1\t{from}\t.\tA\t<NON_REF>\t.\t.\tEND={to}\tGT:DP:GQ:MIN_DP:PL\t0/0:5:10:5:0,10,100\n"
            )
        };
        let tail = "c2\t1\t.\tG\t<NON_REF>\t.\t.\tEND=5\tGT:DP:GQ:MIN_DP:PL\t0/0:5:10:5:0,10,100\n";
        let variant = |info: &str, format: &str, sample: &str| {
            format!(
                "{}c1\t5\t.\tA\tG,<NON_REF>\t50\t.\t{info}\t{format}\t{sample}\n{}{tail}",
                block(1, 4),
                block(6, 10).replace("\tA\t", "\tC\t")
            )
        };
        let full = variant(
            "AS_RAW_MQ=0.00|3600.00|0.00;QUALapprox=50;RAW_MQandDP=18000,5;VarDP=5",
            "GT:AD:DP:GQ:PL:SB",
            "0/1:2,3,0:5:40:50,0,40,60,70,110:1,1,2,1",
        );
        for p in [
            Profile::Format,
            Profile::Gatk,
            Profile::Hail,
            Profile::Glnexus,
        ] {
            let rep = run(&full, p);
            assert!(rep.is_clean(), "{p:?}: {:?}", rep.violations);
        }
        // An older gVCF: MQ but no RAW_MQandDP or SB; no QUALapprox.
        let old = variant(
            "MQ=60.00",
            "GT:AD:DP:GQ:PL",
            "0/1:2,3,0:5:40:50,0,40,60,70,110",
        );
        assert!(run(&old, Profile::Format).is_clean());
        assert!(run(&old, Profile::Glnexus).is_clean());
        let gatk = run(&old, Profile::Gatk);
        assert_eq!(gatk.classes(), [Class::AnnotationMissing]);
        assert_eq!(gatk.total(), 2, "{:?}", gatk.violations);
        assert_eq!(run(&old, Profile::Hail).total(), 2);
        // An allele-specific field with one entry too few, whatever the profile.
        let short = full.replace("AS_RAW_MQ=0.00|3600.00|0.00", "AS_RAW_MQ=0.00|3600.00");
        assert_eq!(
            run(&short, Profile::Format).classes(),
            [Class::AnnotationArity]
        );
        // A block without MIN_DP (nor DP) fails the Hail and GLnexus profiles.
        let bare = full.replace("GT:DP:GQ:MIN_DP:PL\t0/0:5:10:5:", "GT:GQ:PL\t0/0:10:");
        assert!(
            run(&bare, Profile::Gatk)
                .classes()
                .contains(&Class::AnnotationMissing)
        );
        assert!(
            run(&bare, Profile::Hail)
                .classes()
                .contains(&Class::AnnotationMissing)
        );
    }

    #[test]
    fn a_good_gvcf_passes() {
        let r = check(GOOD);
        assert!(r.is_clean(), "{:?}", r.violations);
        assert_eq!(r.records, 4);
    }

    #[test]
    fn gaps_overlaps_and_order() {
        let r = check(&GOOD.replace("END=4", "END=3"));
        assert_eq!(r.classes(), [Class::Gap]);
        let r = check(&GOOD.replace("END=4", "END=5"));
        assert_eq!(r.classes(), [Class::Overlap]);
        // A record inside a deletion's REF (HaplotypeCaller's `*` record, or its block that
        // starts on the deleted base) is not an overlap: only blocks' END spans are exclusive.
        let star = "c1\t1\t.\tA\t<NON_REF>\t.\t.\tEND=4\tGT:DP:GQ:PL\t0/0:5:10:0,10,100\n\
            c1\t5\t.\tACG\tA,<NON_REF>\t50\t.\t.\tGT:AD:DP:GQ:PL\t0/1:2,3,0:5:40:50,0,40,60,70,110\n\
            c1\t6\t.\tC\tT,*,<NON_REF>\t50\t.\t.\tGT:AD:DP:GQ:PL\t1/2:0,2,3,0:5:40:90,60,80,50,0,70,99,99,99,99\n\
            c1\t8\t.\tT\t<NON_REF>\t.\t.\tEND=10\tGT:DP:GQ:PL\t0/0:5:10:0,10,100\n\
            c2\t1\t.\tG\t<NON_REF>\t.\t.\tEND=5\tGT:DP:GQ:PL\t0/0:5:10:0,10,100\n";
        let r = check(star);
        assert!(r.is_clean(), "{:?}", r.violations);
        let lines: Vec<&str> = GOOD.lines().collect();
        let swapped = [lines[0], lines[2], lines[1], lines[3]].join("\n") + "\n";
        assert!(check(&swapped).classes().contains(&Class::Unsorted));
    }

    #[test]
    fn genotype_rules() {
        assert_eq!(genotype_count(2, 2), 3);
        assert_eq!(genotype_count(3, 2), 6);
        assert_eq!(genotype_count(3, 1), 3);
        let r = check(&GOOD.replace("0/1:2,3,0", "1/1:2,3,0"));
        assert_eq!(r.classes(), [Class::GtPlInconsistent]);
        let r = check(&GOOD.replace("2,3,0:", "2,3:"));
        assert_eq!(r.classes(), [Class::AdArity]);
    }

    /// GOOD with haploid calls: blocks `0` with two PLs, the SNP `1` with one PL per allele.
    fn haploid() -> String {
        GOOD.replace("0/0:5:10:0,10,100", "0:5:10:0,10")
            .replace("0/1:2,3,0:5:40:50,0,40,60,70,110", "1:0,5,0:5:40:90,0,95")
    }

    #[test]
    fn haploid_records_pass_and_pl_arity_follows_the_ploidy() {
        let r = check(&haploid());
        assert!(r.is_clean(), "{:?}", r.violations);
        // A haploid GT with diploid PLs, and a diploid GT with haploid PLs.
        let r = check(&haploid().replace("1:0,5,0:5:40:90,0,95", "1:0,5,0:5:40:90,0,95,60,70,110"));
        assert_eq!(r.classes(), [Class::PlArity]);
        let e = &r.violations[&Class::PlArity].examples[0];
        assert_eq!(e.line, 12);
        assert_eq!(
            e.message,
            "c1:5: PL 90,0,95,60,70,110 has 6 values; a haploid GT (1) over 3 alleles has 3 genotypes"
        );
        let r = check(&haploid().replacen("0:5:10:0,10", "0:5:10:0,10,100", 1));
        assert_eq!(r.classes(), [Class::PlArity]);
        let r = check(&GOOD.replace("0/1:2,3,0:5:40:50,0,40,60,70,110", "0/1:2,3,0:5:40:90,0,95"));
        assert_eq!(r.classes(), [Class::PlArity]);
        assert!(
            r.violations[&Class::PlArity].examples[0]
                .message
                .contains("a diploid GT (0/1)")
        );
        // A missing GT leaves the ploidy open; `./.` does not.
        assert!(check(&haploid().replace("1:0,5,0", ".:0,5,0")).is_clean());
        assert!(check(&GOOD.replace("0/1:2,3,0", ".:2,3,0")).is_clean());
        let r = check(&haploid().replace("1:0,5,0", "./.:0,5,0"));
        assert_eq!(r.classes(), [Class::PlArity]);
        // GT against PL at ploidy 1: the PL of GT 2 is not the lowest.
        let r = check(&haploid().replace("1:0,5,0", "2:0,5,0"));
        assert_eq!(r.classes(), [Class::GtPlInconsistent]);
    }

    #[test]
    fn ploidy_beyond_two_is_unsupported() {
        let r = check(&GOOD.replace("0/1:2,3,0", "0/1/1:2,3,0"));
        assert_eq!(r.classes(), [Class::UnsupportedPloidy]);
        assert!(
            r.violations[&Class::UnsupportedPloidy].examples[0]
                .message
                .contains("GT 0/1/1 has ploidy 3; only haploid and diploid"),
            "{:?}",
            r.violations
        );
    }

    #[test]
    fn intervals_the_caller_did_not_call_are_no_gap() {
        // GOOD covers c1:1-10 and c2:1-5; drop c1:6-10 and say the caller left it out.
        let dir = tempfile::tempdir().unwrap();
        let r = reference(dir.path());
        let body: String = GOOD
            .lines()
            .filter(|l| !l.contains("END=10"))
            .map(|l| format!("{l}\n"))
            .collect();
        let with = |line: &str| header(&r).replacen("#CHROM", &format!("{line}#CHROM"), 1) + &body;
        let v = |t: String| validate_reader(t.as_bytes(), &r, Options::default()).unwrap();
        assert_eq!(v(with("")).classes(), [Class::Gap]);
        let listed = "##genoaPloidy=<Karyotype=XY,PAR=GRCh38,Haploid=\"\",NotCalled=\"c1:6-10\">\n";
        assert!(v(with(listed)).is_clean());
        // Listing only part of the gap does not excuse it.
        let part = listed.replace("c1:6-10", "c1:7-10");
        assert_eq!(v(with(&part)).classes(), [Class::Gap]);
    }

    #[test]
    fn af_has_one_value_per_alt_non_ref_included() {
        let dir = tempfile::tempdir().unwrap();
        let r = reference(dir.path());
        let af_line = "##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"Allele fraction\">\n";
        let text = |af: &str| {
            header(&r).replacen("#CHROM", &format!("{af_line}#CHROM"), 1)
                + &haploid().replace(
                    "GT:AD:DP:GQ:PL\t1:0,5,0:5:40:90,0,95",
                    &format!("GT:AD:DP:GQ:PL:AF\t1:0,5,0:5:40:90,0,95:{af}"),
                )
        };
        let v = |af: &str| validate_reader(text(af).as_bytes(), &r, Options::default()).unwrap();
        assert!(v("0.9600,0.0000").is_clean());
        assert_eq!(v("0.96").classes(), [Class::AfArity]);
        assert_eq!(v("x,0").classes(), [Class::BadRecord]);
    }

    #[test]
    fn chr_y_alt_and_decoy_contigs_may_have_no_records() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(
            &fa,
            ">c1\nACGTACGTAC\n>chrY\nACGT\n>chr1_KI270762v1_alt\nACGT\n>chrEBV\nACGT\n>c2\nGGCCA\n",
        )
        .unwrap();
        let r = Reference::load(&fa).unwrap();
        let text = header(&r) + GOOD;
        let report = validate_reader(text.as_bytes(), &r, Options::default()).unwrap();
        assert!(report.is_clean(), "{:?}", report.violations);
        // Any other contig without records is a gap, and so is a chrY covered in part.
        let lines: Vec<&str> = GOOD.lines().collect();
        let no_c2 = header(&r) + &lines[..3].join("\n") + "\n";
        let report = validate_reader(no_c2.as_bytes(), &r, Options::default()).unwrap();
        assert_eq!(report.classes(), [Class::Gap]);
        let part_y = header(&r)
            + &lines[..3].join("\n")
            + "\nchrY\t1\t.\tA\t<NON_REF>\t.\t.\tEND=2\tGT:DP:GQ:PL\t0:5:10:0,10\n"
            + lines[3]
            + "\n";
        let report = validate_reader(part_y.as_bytes(), &r, Options::default()).unwrap();
        assert_eq!(report.classes(), [Class::Gap]);
        // A .alt file beside the reference names ALT contigs too.
        std::fs::write(dir.path().join("r.fa.alt"), "c2\n").unwrap();
        let report = validate_reader(no_c2.as_bytes(), &r, Options::default()).unwrap();
        assert!(report.is_clean(), "{:?}", report.violations);
    }

    #[test]
    fn structured_header_values() {
        let m = structured("ID=x,Description=\"a, \\\"b\\\"\",length=3>");
        assert_eq!(m["ID"], "x");
        assert_eq!(m["length"], "3");
    }
}
