//! `genoa validate`: checks a gVCF (plain text or BGZF/gzip) against the rules that joint
//! callers (GATK GenomicsDBImport/CombineGVCFs, GLnexus) rely on, over the reference it was
//! called on. Streams the file once; keeps the count and the first examples of every
//! violation class, so a broken multi-gigabyte gVCF gives a short report.
//!
//! Rules: header lines (`##fileformat` first, `INFO END`, `FORMAT GT/AD/DP/GQ/PL`), one sample
//! column, `##contig` lines equal to the reference (names, lengths, MD5s when given), every
//! record's `<NON_REF>` (or, with `allow_star`, DeepVariant's `<*>`) as its last ALT, REF equal
//! to the reference, records sorted in reference order with every base of every contig covered
//! by exactly one record, blocks shorter
//! than 100 kb, INFO/FORMAT keys declared, `PL` and `AD` of the right arity and `GT` the
//! genotype whose `PL` is 0.
//!
//! Coverage: a record covers POS..END, or POS alone without END; the other bases of a
//! deletion's REF may be covered by the records that follow (GATK's reference blocks over
//! deleted bases) or left to the deletion (genoa's) — a record starting inside a REF span is no
//! overlap, and the bases a REF spans are no gap.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::genome::base_code;
use crate::io::reference::Reference;

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
    /// `PL` count different from the number of genotypes of the alleles and ploidy.
    PlArity,
    /// `AD` count different from the number of alleles.
    AdArity,
    /// The called `GT` is not a genotype with the lowest (0) `PL`.
    GtPlInconsistent,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 21] = [
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
        Class::PlArity,
        Class::AdArity,
        Class::GtPlInconsistent,
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
            Class::PlArity => "pl_arity",
            Class::AdArity => "ad_arity",
            Class::GtPlInconsistent => "gt_pl_inconsistent",
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

/// Validates the gVCF at `path` (plain, gzip or BGZF) against `reference`.
pub fn validate(path: &Path, reference: &Reference, options: Options) -> Result<Report> {
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
    validate_reader(reader, reference, options).map_err(|e| Error::io(path, e))
}

/// Validates gVCF text from `reader`; I/O errors (a truncated gzip stream, bytes that are not
/// UTF-8) are returned as such, everything else becomes a violation in the report.
pub fn validate_reader(
    mut reader: impl Read,
    reference: &Reference,
    options: Options,
) -> std::io::Result<Report> {
    let mut v = Validator::new(reference, options);
    let mut buf = BufReader::with_capacity(1 << 16, &mut reader);
    let mut line = String::new();
    loop {
        line.clear();
        if buf.read_line(&mut line)? == 0 {
            break;
        }
        v.line_no += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if v.in_header {
            v.header_line(text);
        } else if !text.is_empty() {
            v.record(text);
        }
    }
    Ok(v.finish())
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
    contig_lines: Vec<ContigLine>,
    /// Has a sample column (and so genotype checks).
    has_sample: bool,
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
    /// Contigs not in the reference already reported (once per name).
    unknown: HashSet<String>,
}

impl<'a> Validator<'a> {
    fn new(reference: &'a Reference, options: Options) -> Self {
        Validator {
            reference,
            options,
            report: Report::default(),
            line_no: 0,
            in_header: true,
            info: HashSet::new(),
            format: HashSet::new(),
            contig_lines: Vec::new(),
            has_sample: false,
            current: None,
            covered: 0,
            covered_line: 0,
            spanned: 0,
            prev_pos: 0,
            seen: vec![false; reference.contigs.len()],
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
        if let Some(rest) = text.strip_prefix("##INFO=<") {
            if let Some(id) = structured(rest).get("ID") {
                self.info.insert(id.clone());
            }
        } else if let Some(rest) = text.strip_prefix("##FORMAT=<") {
            if let Some(id) = structured(rest).get("ID") {
                self.format.insert(id.clone());
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
            self.has_sample = columns[8] == "FORMAT";
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
        if cols.len() < 8 || (self.has_sample && cols.len() < 10) {
            let want = if self.has_sample { 10 } else { 8 };
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

        // INFO: declared keys and END.
        let mut end = None;
        if info_text != "." {
            for item in info_text.split(';') {
                let (key, value) = item.split_once('=').unwrap_or((item, ""));
                if !self.info.contains(key) {
                    self.add(Class::InfoFieldUndeclared, || {
                        format!("{chrom}:{pos}: INFO {key} has no ##INFO line")
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
        let is_non_ref = |a: &str| a == "<NON_REF>" || (self.options.allow_star && a == "<*>");
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
        if self.has_sample {
            self.genotype(chrom, pos, alts.len() + 1, cols[8], cols[9]);
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
        } else if pos > self.covered.max(self.spanned) + 1 {
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
    fn close_contig(&mut self) {
        if let Some(c) = self.current {
            let contig = &self.reference.contigs[c];
            let reached = self.covered.max(self.spanned);
            if reached < contig.len() {
                let (from, to, name) = (reached + 1, contig.len(), &contig.name);
                self.report.add(Class::Gap, self.line_no, || {
                    format!("{name}:{from}-{to}: no record covers the contig's last bases")
                });
            }
        }
    }

    /// FORMAT keys, PL/AD arity and GT against PL.
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
        let get = |key: &str| {
            keys.iter()
                .position(|k| *k == key)
                .and_then(|i| values.get(i).copied())
                .filter(|v| *v != ".")
        };
        // GT: allele indices (None for a missing allele) and ploidy.
        let mut gt: Vec<Option<usize>> = Vec::new();
        if let Some(g) = get("GT") {
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
        let Some(pl_text) = get("PL") else { return };
        let ploidy = if gt.is_empty() { 2 } else { gt.len() };
        let genotypes = genotype_count(alleles, ploidy);
        let pl: Vec<Option<u64>> = pl_text.split(',').map(|p| p.parse().ok()).collect();
        if pl.len() != genotypes {
            self.add(Class::PlArity, || {
                format!(
                    "{chrom}:{pos}: PL {pl_text} has {} values; {alleles} alleles at ploidy {ploidy} have {genotypes} genotypes",
                    pl.len()
                )
            });
            return;
        }
        if pl.iter().any(Option::is_none) {
            self.add(Class::BadRecord, || {
                format!("{chrom}:{pos}: PL {pl_text} is not a list of integers")
            });
            return;
        }
        let called: Option<Vec<usize>> = gt.iter().copied().collect();
        let (Some(called), true) = (called, !gt.is_empty()) else {
            return;
        };
        let Some(index) = crate::model::genotype::index(&called) else {
            return;
        };
        let min = pl.iter().flatten().min().copied();
        if let (Some(Some(at)), Some(min)) = (pl.get(index), min)
            && *at != min
        {
            let g = get("GT").unwrap_or(".");
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
        for (c, seen) in self.reference.contigs.iter().zip(&self.seen) {
            if !seen {
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

    #[test]
    fn structured_header_values() {
        let m = structured("ID=x,Description=\"a, \\\"b\\\"\",length=3>");
        assert_eq!(m["ID"], "x");
        assert_eq!(m["length"], "3");
    }
}
