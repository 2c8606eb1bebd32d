//! `genoa aggregate`: many single-sample gVCFs → joint genotypes at every variant site (a cohort
//! VCF) and an allele-frequency VCF (AC/AN/AF overall and per sample group) with a minimum-count
//! privacy floor — what a node publishes for discovery instead of the gVCFs.
//!
//! Semantics (the README and the brute-force checks use exactly these):
//! - A gVCF record is a *reference block* when its only ALT is `<NON_REF>` (or `<*>`), covering
//!   POS..END; otherwise a *variant record*, covering POS..POS+len(REF)-1.
//! - A *site* is a position where some sample has a variant record starting there whose GT
//!   calls a real ALT allele. The site's REF is the longest REF among the variant records
//!   starting there; shorter ones are extended with its remaining bases (REF and ALTs alike).
//!   The site's ALTs are the called real alleles, sorted as strings, then `*` if any sample
//!   needs it.
//! - A sample's genotype at a site, haplotype by haplotype: (a) from its variant record starting
//!   there (`<NON_REF>` or `.` → missing; its own `*` allele — a gVCF of HaplotypeCaller or of
//!   `genoa call --star-alleles` — is the site's `*`, as Hail counts it); else (b) from a variant record that starts earlier and
//!   covers the site: missing, as Hail's `to_dense_mt` leaves it (the default), or with
//!   `--spanning-deletions star` as GATK GenotypeGVCFs: REF stays REF, any other allele becomes
//!   `*` (a spanning deletion);
//!   else (c) from the reference block covering it: REF when the block's GT is all 0 — a block
//!   of no coverage (MIN_DP 0) included, as Hail's `to_dense_mt` and `bcftools merge` count
//!   it — missing otherwise; else (d) missing.
//! - Genotype filter (gnomAD's "adj"; `--min-gq`, `--min-dp`, default 20 and 10): a sample's
//!   genotype at a site counts in AC and AN only when its GQ ≥ min-gq and its DP ≥ min-dp —
//!   the GQ and DP of the record it comes from, a reference block's MIN_DP (DP without
//!   MIN_DP) as its DP; a missing GQ or DP is 0. The cohort VCF's genotypes are written as
//!   called, the filter applies to the counts only.
//! - Ploidy: a sample's genotype has as many haplotypes as the GT it comes from has alleles —
//!   one for a haploid call (a male's chrX outside the PARs, chrY, chrM: GT `1`, a block `0`),
//!   two for a diploid one; a GT of `.` (or none) has the ploidy its PL's length gives (one
//!   value per allele: haploid), else two; (d) is two missing haplotypes. A GT of more than two
//!   alleles is an error (unsupported, as `genoa validate` says).
//! - AN counts non-missing haplotypes of the genotypes that pass the filter, so a haploid sample adds 1 and a diploid one 2 (chrX
//!   outside the PARs: AN = males + 2 × females, when all are called); AC counts each ALT
//!   (`*` included); AF = AC/AN.
//! - Privacy floor K: a site is published in the AF VCF only when some real ALT has AC ≥ K;
//!   an AC with 0 < AC < K is written `.` (its AF too); a group with fewer than K samples gets
//!   no fields at all.
//!
//! The cohort VCF carries GT:DP:GQ:PL per sample, GT at the sample's ploidy there (`1`, `0`,
//! `.` haploid; `0/1`, `./.` diploid); PLs are remapped to the site's alleles at that ploidy
//! (n values for n alleles haploid, n(n+1)/2 diploid; an allele the sample did not consider
//! takes its `<NON_REF>` likelihoods, as GATK's GenotypeGVCFs does; hom-ref samples' block PLs
//! likewise), and are `.` where a spanning deletion or a missing call leaves none.
//!
//! Scale: inputs must be BGZF with a tabix (or CSI) index. Each contig is cut into windows
//! (`--window`, 200 kb); a window is read from every input by index query, joined and written,
//! windows in parallel and in order, so memory is about samples × window records (≈ 32 bytes
//! per block), not genome-wide, and `--region` shards a cohort across machines: shards'
//! outputs concatenated are the records of one run (a site belongs to the shard holding its
//! POS). Output is the same bytes for any thread count and window size.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use noodles::bgzf::VirtualPosition;
use noodles::csi::BinningIndex;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::model::Interval;

/// Default window length.
pub const WINDOW: u64 = 200_000;

/// Aggregation settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// The privacy floor K.
    pub min_count: u32,
    /// Genotype filter: a genotype counts in AC/AN only with GQ ≥ `min_gq` and DP ≥ `min_dp`.
    pub min_gq: u32,
    pub min_dp: u32,
    /// A sample's genotype at a site inside its own earlier record (a deletion).
    pub spanning: Spanning,
    /// Sites are reported only when their POS lies in one of these (all contigs when empty).
    pub regions: Vec<Interval>,
    pub window: u64,
    /// The command line for the output headers.
    pub command_line: String,
}

/// What a sample's record that starts before a site and covers it (a deletion, a longer REF)
/// makes of the sample's genotype there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Spanning {
    /// Missing (not counted in AN), as Hail's `to_dense_mt` leaves it: the default, so that
    /// AC/AN equal Hail's on the same gVCFs.
    #[default]
    Missing,
    /// REF haplotypes stay REF and the others become the `*` allele, as GATK GenotypeGVCFs
    /// writes spanning deletions.
    Star,
}

/// Samples' groups from a TSV sample sheet: a `sample` column, then one column per grouping
/// variable (country, sex, …).
#[derive(Clone, Debug, Default)]
pub struct SampleSheet {
    pub columns: Vec<String>,
    /// Per column, its distinct values, sorted.
    pub values: Vec<Vec<String>>,
    /// Per sample, the index of its value in each column.
    pub groups: HashMap<String, Vec<usize>>,
}

impl SampleSheet {
    /// Reads a sheet; errors name the line.
    pub fn load(path: &Path) -> Result<SampleSheet> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with("##"));
        let (_, header) = lines
            .next()
            .ok_or_else(|| Error::input(path, "empty sample sheet"))?;
        let header: Vec<&str> = header.trim_start_matches('#').split('\t').collect();
        if header[0] != "sample" {
            return Err(Error::input(
                path,
                "line 1: the first column must be named `sample`",
            ));
        }
        let columns: Vec<String> = header[1..].iter().map(|s| s.to_string()).collect();
        let mut raw: Vec<(String, Vec<String>)> = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, line) in lines {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != header.len() {
                return Err(Error::input(
                    path,
                    format!(
                        "line {}: {} fields, the header has {}",
                        i + 1,
                        f.len(),
                        header.len()
                    ),
                ));
            }
            if !seen.insert(f[0].to_string()) {
                return Err(Error::input(
                    path,
                    format!("line {}: sample {} listed twice", i + 1, f[0]),
                ));
            }
            if let Some(c) = f[1..].iter().position(|v| v.is_empty()) {
                return Err(Error::input(
                    path,
                    format!("line {}: empty {} for {}", i + 1, columns[c], f[0]),
                ));
            }
            raw.push((f[0].into(), f[1..].iter().map(|s| s.to_string()).collect()));
        }
        let values: Vec<Vec<String>> = (0..columns.len())
            .map(|c| {
                raw.iter()
                    .map(|(_, v)| v[c].clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .collect();
        let groups = raw
            .into_iter()
            .map(|(s, v)| {
                let idx = v
                    .iter()
                    .enumerate()
                    .map(|(c, x)| values[c].binary_search(x).expect("value listed"))
                    .collect();
                (s, idx)
            })
            .collect();
        Ok(SampleSheet {
            columns,
            values,
            groups,
        })
    }
}

/// An INFO key part: characters other than `[A-Za-z0-9_]` become `_`.
fn key_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One input gVCF.
struct Input {
    path: PathBuf,
    sample: String,
    index: Box<dyn BinningIndex + Send + Sync>,
    /// Per reference contig, the index's reference sequence id.
    ids: Vec<Option<usize>>,
}

fn open_input(path: &Path, reference: &Reference) -> Result<Input> {
    let bad = |m: String| Error::input(path, m);
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = noodles::bgzf::io::Reader::new(std::io::BufReader::new(f));
    let mut line = String::new();
    let mut n = 0u64;
    let sample = loop {
        line.clear();
        n += 1;
        let k = r.read_line(&mut line).map_err(|e| {
            bad(format!(
                "line {n}: {e} (inputs must be BGZF-compressed, as bgzip writes)"
            ))
        })?;
        if k == 0 {
            return Err(bad("no #CHROM header line".into()));
        }
        let l = line.trim_end();
        if let Some(rest) = l.strip_prefix("##contig=<") {
            let (mut id, mut len) = (None, None);
            for kv in rest.trim_end_matches('>').split(',') {
                match kv.split_once('=') {
                    Some(("ID", v)) => id = Some(v.to_string()),
                    Some(("length", v)) => len = v.parse::<u64>().ok(),
                    _ => {}
                }
            }
            if let Some(id) = id {
                match reference.contig_index(&id) {
                    None => {
                        return Err(bad(format!(
                            "line {n}: contig {id} is not in the reference"
                        )));
                    }
                    Some(c) if len.is_some_and(|l| l != reference.contigs[c].len()) => {
                        return Err(bad(format!(
                            "line {n}: contig {id} has length {}, the reference {}",
                            len.unwrap_or(0),
                            reference.contigs[c].len()
                        )));
                    }
                    Some(_) => {}
                }
            }
        } else if l.starts_with("#CHROM") {
            let cols: Vec<&str> = l.split('\t').collect();
            if cols.len() != 10 {
                return Err(bad(format!(
                    "line {n}: {} sample columns; aggregate takes single-sample gVCFs",
                    cols.len().saturating_sub(9)
                )));
            }
            break cols[9].to_string();
        } else if !l.starts_with("##") {
            return Err(bad(format!("line {n}: data before the #CHROM line")));
        }
    };
    let header_end = r.virtual_position();
    let tbi = crate::io::with_suffix(path, ".tbi");
    let csi = crate::io::with_suffix(path, ".csi");
    type Span = Option<(VirtualPosition, VirtualPosition)>;
    let (index, index_path, span): (Box<dyn BinningIndex + Send + Sync>, PathBuf, Span) =
        if tbi.exists() {
            crate::io::binning_index::check(&tbi, "tabix index")?;
            let i = noodles::tabix::fs::read(&tbi).map_err(|e| Error::io(&tbi, e))?;
            let span = chunk_span(&i);
            (Box::new(i), tbi, span)
        } else if csi.exists() {
            crate::io::binning_index::check(&csi, "CSI index")?;
            let i = noodles::csi::fs::read(&csi).map_err(|e| Error::io(&csi, e))?;
            let span = chunk_span(&i);
            (Box::new(i), csi, span)
        } else {
            return Err(bad(
                "no .tbi or .csi index beside it (tabix -p vcf FILE makes one)".into(),
            ));
        };
    check_index(path, &index_path, span, header_end)?;
    let names = index
        .header()
        .map(|h| h.reference_sequence_names().clone())
        .unwrap_or_default();
    let ids = reference
        .contigs
        .iter()
        .map(|c| names.get_index_of(c.name.as_bytes()))
        .collect();
    Ok(Input {
        path: path.to_path_buf(),
        sample,
        index,
        ids,
    })
}

/// The first chunk start and the last chunk end over every bin of an index: where its first
/// record starts and its last one ends.
fn chunk_span<I: noodles::csi::binning_index::index::reference_sequence::Index>(
    index: &noodles::csi::binning_index::Index<I>,
) -> Option<(VirtualPosition, VirtualPosition)> {
    index
        .reference_sequences()
        .iter()
        .flat_map(|r| r.bins().values())
        .flat_map(|b| b.chunks())
        .fold(None, |acc, c| match acc {
            None => Some((c.start(), c.end())),
            Some((s, e)) => Some((s.min(c.start()), e.max(c.end()))),
        })
}

/// Checks that an index (its chunks' `span`) is the index of `path` as the file is now: its
/// records start where the file's header ends and end where the file's records end (only
/// blank lines may follow), so an index of another file, or one that stops early (`tabix`
/// stops at a blank line), is refused instead of silently dropping a sample's records. An
/// index older than its file gets a warning, as htslib gives.
fn check_index(
    path: &Path,
    index_path: &Path,
    span: Option<(VirtualPosition, VirtualPosition)>,
    header_end: VirtualPosition,
) -> Result<()> {
    let bad = |m: String| {
        Error::input(
            index_path,
            format!(
                "{m}: this index does not match {} (an index of another file, of an older version of it, or one that stopped early); rebuild it with tabix -f -p vcf",
                path.display()
            ),
        )
    };
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(data), Some(idx)) = (modified(path), modified(index_path))
        && idx < data
    {
        tracing::warn!(
            "{}: the index is older than its data file {}",
            index_path.display(),
            path.display()
        );
    }
    if let Some((first, _)) = span
        && first != header_end
    {
        return Err(bad(format!(
            "its first record is at BGZF offset {}/{}, the file's first record at {}/{}",
            first.compressed(),
            first.uncompressed(),
            header_end.compressed(),
            header_end.uncompressed()
        )));
    }
    let last = span.map_or(header_end, |(_, end)| end);
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = noodles::bgzf::io::Reader::new(std::io::BufReader::new(f));
    r.seek(last).map_err(|e| {
        bad(format!(
            "its records end at BGZF offset {}/{}, which the file does not have ({e})",
            last.compressed(),
            last.uncompressed()
        ))
    })?;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| bad(format!("reading the file after its indexed records: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            let text = String::from_utf8_lossy(&line);
            let shown: String = text.trim_end().chars().take(40).collect();
            return Err(bad(format!(
                "records follow the last one it indexes (\"{shown}\")"
            )));
        }
    }
}

/// A reference block (compact: a window holds thousands per sample).
#[derive(Clone, Copy, Debug)]
struct Block {
    start: u64,
    end: u64,
    /// 1 or 2.
    ploidy: u8,
    /// GT all 0 and coverage above 0.
    called: bool,
    dp: Option<u32>,
    gq: Option<u32>,
    /// REF and `<NON_REF>` genotypes' PLs: the first `ploidy + 1` entries.
    pl: Option<[u32; 3]>,
}

#[derive(Clone, Debug)]
struct Var {
    start: u64,
    end: u64,
    reference: String,
    /// ALT alleles as written (`<NON_REF>` included).
    alts: Vec<String>,
    gt: Vec<Option<usize>>,
    dp: Option<u32>,
    gq: Option<u32>,
    pl: Option<Vec<u32>>,
}

impl Var {
    fn is_real(&self, allele: usize) -> bool {
        allele >= 1 && self.alts.get(allele - 1).is_some_and(|a| is_real_allele(a))
    }
    /// Whether allele `allele` is `*` (the sample's own spanning deletion).
    fn is_star(&self, allele: usize) -> bool {
        allele >= 1 && self.alts.get(allele - 1).is_some_and(|a| a == "*")
    }
    fn non_ref(&self) -> Option<usize> {
        self.alts
            .iter()
            .position(|a| a == "<NON_REF>" || a == "<*>")
            .map(|i| i + 1)
    }
}

fn is_real_allele(a: &str) -> bool {
    !a.starts_with('<') && a != "*" && !a.contains('[') && !a.contains(']')
}

#[derive(Default)]
struct SampleWindow {
    vars: Vec<Var>,
    blocks: Vec<Block>,
}

/// Reads the records of `input` overlapping `[start, end]` (1-based) on `contig`.
fn read_window(
    input: &Input,
    reference: &Reference,
    contig: usize,
    start: u64,
    end: u64,
) -> Result<SampleWindow> {
    let mut w = SampleWindow::default();
    let path = &input.path;
    let Some(mut r) = seek_window(input, contig, start, end)? else {
        return Ok(w);
    };
    let name = reference.contigs[contig].name.as_bytes();
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let mut last_pos = 0u64;
    let mut seen = false;
    let mut first_line = true;
    // Field positions of the last FORMAT string (gVCFs repeat a handful of them).
    let mut format_cache: (Vec<u8>, FormatLayout) = (Vec::new(), FormatLayout::default());
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?
            == 0
        {
            break;
        }
        while line.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            // A blank line (validate flags it; tabix's own reader stops at one): not a record,
            // and not the end of this contig's records either.
            continue;
        }
        let mut cols: [&[u8]; 10] = [&[]; 10];
        let mut n = 0;
        for c in line.splitn(10, |b| *b == b'\t') {
            cols[n] = c;
            n += 1;
        }
        if first_line {
            first_line = false;
            // The index points at record starts; anything else means it is not this file's.
            let known = std::str::from_utf8(cols[0])
                .ok()
                .and_then(|c| reference.contig_index(c))
                .is_some();
            if !known || n < 8 {
                return Err(Error::input(
                    path,
                    format!(
                        "the index sends a query for {}:{start}-{end} to the middle of a record (\"{}\"): the index is not this file's; rebuild it with tabix -f -p vcf",
                        reference.contigs[contig].name,
                        String::from_utf8_lossy(&line[..line.len().min(40)])
                    ),
                ));
            }
        }
        if cols[0] != name {
            if seen {
                break;
            }
            continue;
        }
        seen = true;
        let bad = |m: &str| {
            Error::input(
                path,
                format!(
                    "record at {}:{}: {m}",
                    reference.contigs[contig].name,
                    String::from_utf8_lossy(cols[1])
                ),
            )
        };
        let pos = parse_num(cols[1]).ok_or_else(|| bad("POS is not a number"))?;
        if pos > end {
            break;
        }
        if n < 10 {
            return Err(bad("fewer than 10 columns"));
        }
        if pos < last_pos {
            return Err(bad("out of order (the input is not sorted)"));
        }
        last_pos = pos;
        if pos == 0 || cols[3].is_empty() {
            return Err(bad("POS 0 or an empty REF"));
        }
        if format_cache.0 != cols[8] {
            format_cache = (cols[8].to_vec(), FormatLayout::of(cols[8]));
        }
        let fields = Fields::new(cols[9], &format_cache.1);
        let alt = cols[4];
        if alt == b"<NON_REF>" || alt == b"<*>" {
            if let Some(block) = parse_block(pos, cols[7], &fields, start, &bad)? {
                w.blocks.push(block);
            }
        } else if let Some(var) = parse_var(pos, cols[3], alt, &fields, start, &bad)? {
            w.vars.push(var);
        }
    }
    Ok(w)
}

/// A reader of `input` placed at the first index chunk over `[start, end]` on `contig`, or
/// `None` when the index has no record there.
fn seek_window(
    input: &Input,
    contig: usize,
    start: u64,
    end: u64,
) -> Result<Option<noodles::bgzf::io::Reader<std::fs::File>>> {
    let Some(id) = input.ids[contig] else {
        return Ok(None); // no record on this contig
    };
    let path = &input.path;
    let interval = noodles::core::region::Interval::from(
        noodles::core::Position::try_from(start as usize).expect("1-based")
            ..=noodles::core::Position::try_from(end as usize).expect("1-based"),
    );
    let chunks = input
        .index
        .query(id, interval)
        .map_err(|e| Error::io(path, e))?;
    let Some(first) = chunks.iter().map(|c| c.start()).min() else {
        return Ok(None);
    };
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = noodles::bgzf::io::Reader::new(f);
    r.seek(first).map_err(|e| Error::io(path, e))?;
    Ok(Some(r))
}

/// A sample column's values, split on `:`, with the FORMAT layout that names them.
struct Fields<'a> {
    values: [&'a [u8]; 16],
    layout: &'a FormatLayout,
}

impl<'a> Fields<'a> {
    fn new(column: &'a [u8], layout: &'a FormatLayout) -> Self {
        let mut values: [&[u8]; 16] = [&[]; 16];
        for (k, v) in column.split(|b| *b == b':').take(16).enumerate() {
            values[k] = v;
        }
        Fields { values, layout }
    }

    /// The value at FORMAT position `k`, unless absent, empty or `.`.
    fn get(&self, k: Option<usize>) -> Option<&'a [u8]> {
        k.map(|k| self.values[k])
            .filter(|v| !v.is_empty() && *v != b".")
    }

    fn num(&self, k: Option<usize>) -> Option<u32> {
        self.get(k).and_then(parse_num).map(|v| v as u32)
    }

    /// The GT's alleles, split on `/` or `|`.
    fn gt_alleles(&self) -> Option<impl Iterator<Item = &'a [u8]>> {
        self.get(self.layout.gt)
            .map(|g| g.split(|b| *b == b'/' || *b == b'|'))
    }
}

/// A reference block starting at `pos` (INFO `info`), or `None` when it ends before `start`.
fn parse_block(
    pos: u64,
    info: &[u8],
    f: &Fields,
    start: u64,
    bad: &dyn Fn(&str) -> Error,
) -> Result<Option<Block>> {
    let end_pos = match info
        .split(|b| *b == b';')
        .find_map(|kv| kv.strip_prefix(b"END="))
    {
        Some(v) => parse_num(v).ok_or_else(|| bad("END is not a number"))?,
        None => pos,
    };
    if end_pos < start {
        return Ok(None);
    }
    let layout = f.layout;
    let min_dp = f.num(layout.min_dp).or(f.num(layout.dp));
    // Up to three PLs (a diploid block's); more, or a non-number, is no PL.
    let pl = f.get(layout.pl).and_then(|p| {
        let mut out = [0u32; 3];
        let mut k = 0;
        for x in p.split(|b| *b == b',') {
            if k == 3 {
                return None;
            }
            out[k] = parse_num(x)? as u32;
            k += 1;
        }
        Some((out, k))
    });
    // A block's GT is read without collecting it: blocks are most records.
    let ploidy = ploidy(f, pl.map(|(_, k)| k), 2, bad)?;
    Ok(Some(Block {
        start: pos,
        end: end_pos,
        ploidy: ploidy as u8,
        called: f
            .gt_alleles()
            .is_some_and(|mut g| g.all(|a| parse_num(a) == Some(0))),
        dp: min_dp,
        gq: f.num(layout.gq),
        pl: pl.and_then(|(pl, k)| (k == ploidy + 1).then_some(pl)),
    }))
}

/// The ploidy of a record's genotype: its GT's allele count, or with GT `.` (or none) 1 when
/// its PL has one value per allele (`pl_len` of `alleles`), else 2; more than 2 is an error.
fn ploidy(
    f: &Fields,
    pl_len: Option<usize>,
    alleles: usize,
    bad: &dyn Fn(&str) -> Error,
) -> Result<usize> {
    let Some(n) = f.gt_alleles().map(Iterator::count) else {
        let haploid = alleles > 1 && pl_len == Some(alleles);
        return Ok(if haploid { 1 } else { 2 });
    };
    if n > 2 {
        let gt = String::from_utf8_lossy(f.get(f.layout.gt).unwrap_or_default());
        return Err(bad(&format!(
            "GT {gt} has ploidy {n}; only haploid and diploid genotypes are supported"
        )));
    }
    Ok(n)
}

/// A variant record at `pos`, or `None` when it ends before `start`.
fn parse_var(
    pos: u64,
    refa: &[u8],
    alt: &[u8],
    f: &Fields,
    start: u64,
    bad: &dyn Fn(&str) -> Error,
) -> Result<Option<Var>> {
    let end_pos = pos + refa.len() as u64 - 1;
    if end_pos < start {
        return Ok(None);
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let layout = f.layout;
    let alts: Vec<String> = alt.split(|b| *b == b',').map(text).collect();
    let pl: Option<Vec<u32>> = f.get(layout.pl).map(|p| {
        p.split(|b| *b == b',')
            .filter_map(|x| parse_num(x).map(|v| v as u32))
            .collect()
    });
    let ploidy = ploidy(f, pl.as_ref().map(Vec::len), alts.len() + 1, bad)?;
    Ok(Some(Var {
        start: pos,
        end: end_pos,
        reference: text(refa),
        alts,
        gt: f.gt_alleles().map_or_else(
            || vec![None; ploidy],
            |g| g.map(|a| parse_num(a).map(|a| a as usize)).collect(),
        ),
        dp: f.num(layout.dp),
        gq: f.num(layout.gq),
        pl,
    }))
}

/// Where the FORMAT keys genoa reads sit in a FORMAT string.
#[derive(Clone, Copy, Debug, Default)]
struct FormatLayout {
    gt: Option<usize>,
    dp: Option<usize>,
    gq: Option<usize>,
    min_dp: Option<usize>,
    pl: Option<usize>,
}

impl FormatLayout {
    fn of(format: &[u8]) -> Self {
        let mut l = FormatLayout::default();
        for (k, key) in format.split(|b| *b == b':').enumerate().take(16) {
            match key {
                b"GT" => l.gt = Some(k),
                b"DP" => l.dp = Some(k),
                b"GQ" => l.gq = Some(k),
                b"MIN_DP" => l.min_dp = Some(k),
                b"PL" => l.pl = Some(k),
                _ => {}
            }
        }
        l
    }
}

/// A decimal without sign (`None` for anything else, or on overflow).
fn parse_num(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u64)
    })
}

/// One haplotype's allele at a site: an index into the site's alleles (0 = REF), or missing.
type Hap = Option<usize>;

/// A sample's call at a site for the cohort VCF.
struct Call {
    gt: Vec<Hap>,
    dp: Option<u32>,
    gq: Option<u32>,
    pl: Option<Vec<u32>>,
}

struct Site {
    pos: u64,
    reference: String,
    /// Real ALTs (sorted), then `*` when used.
    alts: Vec<String>,
    calls: Vec<Call>,
}

/// Extends `allele` (written against `own_ref`) to the site's longer REF.
fn normalise(allele: &str, own_ref: &str, site_ref: &str) -> String {
    format!("{allele}{}", &site_ref[own_ref.len()..])
}

/// PLs for every genotype at `ploidy` (1 or 2) over the site's `n` alleles (VCF order: `n`
/// haploid, n(n+1)/2 diploid), from a sample's PLs over its own alleles, with `map[j]` the
/// sample allele standing for site allele `j`; `None` when `pl` is not of that ploidy's arity.
fn remap_pl(
    pl: &[u32],
    own_alleles: usize,
    ploidy: usize,
    map: &[Option<usize>],
) -> Option<Vec<u32>> {
    use crate::model::genotype::index;
    let n = map.len();
    match ploidy {
        1 if pl.len() == own_alleles => map.iter().map(|a| pl.get((*a)?).copied()).collect(),
        2 if pl.len() == own_alleles * (own_alleles + 1) / 2 => {
            let mut out = Vec::with_capacity(n * (n + 1) / 2);
            for k in 0..n {
                for j in 0..=k {
                    out.push(pl[index(&[map[j]?, map[k]?])?]);
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// Joins one window: the sites with POS in `[start, end]` that `keep` accepts.
fn join_window(
    windows: &[SampleWindow],
    start: u64,
    end: u64,
    keep: &dyn Fn(u64) -> bool,
    describe: &dyn Fn(u64) -> String,
    spanning: Spanning,
) -> Result<Vec<Site>> {
    let refs = site_refs(windows, start, end, keep, describe)?;
    Ok(refs
        .into_iter()
        .map(|(pos, site_ref)| join_site(windows, pos, site_ref, spanning))
        .collect())
}

/// The window's sites: every POS where a sample calls a real ALT, with the longest REF any
/// sample writes there (the others must be its prefixes).
fn site_refs(
    windows: &[SampleWindow],
    start: u64,
    end: u64,
    keep: &dyn Fn(u64) -> bool,
    describe: &dyn Fn(u64) -> String,
) -> Result<BTreeMap<u64, String>> {
    let mut refs: BTreeMap<u64, String> = BTreeMap::new();
    for v in windows.iter().flat_map(|w| &w.vars) {
        if v.start >= start
            && v.start <= end
            && keep(v.start)
            && v.gt.iter().any(|a| a.is_some_and(|a| v.is_real(a)))
        {
            refs.entry(v.start).or_default();
        }
    }
    for v in windows.iter().flat_map(|w| &w.vars) {
        let Some(r) = refs.get_mut(&v.start) else {
            continue;
        };
        let agrees = if v.reference.len() > r.len() {
            v.reference.starts_with(r.as_str())
        } else {
            r.starts_with(&v.reference)
        };
        if !agrees {
            return Err(Error::Config(format!(
                "{}: REF {} and {r} disagree between samples",
                describe(v.start),
                v.reference
            )));
        }
        if v.reference.len() > r.len() {
            *r = v.reference.clone();
        }
    }
    Ok(refs)
}

/// One site of the cohort: its alleles (the samples' called real ALTs, normalised to the
/// site's REF, sorted; `*` when a called deletion spans it) and every sample's call there —
/// from its own record, from a deletion of its own spanning the site, or from its reference
/// block.
fn join_site(
    windows: &[SampleWindow],
    pos: u64,
    site_ref: String,
    spanning_rule: Spanning,
) -> Site {
    let own: Vec<Option<&Var>> = windows
        .iter()
        .map(|w| {
            let k = w.vars.partition_point(|v| v.start < pos);
            w.vars.get(k).filter(|v| v.start == pos)
        })
        .collect();
    let mut alts: BTreeSet<String> = BTreeSet::new();
    let mut own_star = false;
    for v in own.iter().flatten() {
        for a in v.gt.iter().flatten() {
            if v.is_real(*a) {
                alts.insert(normalise(&v.alts[*a - 1], &v.reference, &site_ref));
            }
            own_star |= v.is_star(*a);
        }
    }
    let mut alts: Vec<String> = alts.into_iter().collect();
    // Spanning deletions need `*`: find them first.
    let spanning: Vec<Option<&Var>> = windows
        .iter()
        .zip(&own)
        .map(|(w, o)| {
            if o.is_some() {
                return None;
            }
            // A deletion may span a later record of the same sample: look a few back.
            let k = w.vars.partition_point(|v| v.start < pos);
            w.vars[k.saturating_sub(16)..k]
                .iter()
                .rev()
                .find(|v| v.end >= pos)
        })
        .collect();
    let star = own_star
        || spanning_rule == Spanning::Star
            && spanning
                .iter()
                .flatten()
                .any(|v| v.gt.iter().any(|a| a.is_some_and(|a| a != 0)));
    if star {
        alts.push("*".into());
    }
    let star_index = alts.len();
    let calls = windows
        .iter()
        .zip(&own)
        .zip(&spanning)
        .map(|((w, o), s)| match (o, s) {
            (Some(v), _) => call_from_record(v, &site_ref, &alts),
            (None, Some(v)) if spanning_rule == Spanning::Missing => Call {
                gt: vec![None; v.gt.len()],
                dp: None,
                gq: None,
                pl: None,
            },
            (None, Some(v)) => Call {
                gt: v
                    .gt
                    .iter()
                    .map(|a| a.map(|a| if a == 0 { 0 } else { star_index }))
                    .collect(),
                dp: v.dp,
                gq: v.gq,
                pl: None,
            },
            (None, None) => call_from_block(w, pos, alts.len() + 1),
        })
        .collect();
    Site {
        pos,
        reference: site_ref,
        alts,
        calls,
    }
}

/// A sample's call from its own record at the site: its GT and PL remapped to the site's
/// alleles (its `<NON_REF>` standing for the site alleles it lacks).
fn call_from_record(v: &Var, site_ref: &str, alts: &[String]) -> Call {
    let index_of = |a: &str| alts.iter().position(|x| x == a).map(|i| i + 1);
    let to_site = |a: usize| -> Hap {
        if a == 0 {
            Some(0)
        } else if v.is_real(a) {
            index_of(&normalise(&v.alts[a - 1], &v.reference, site_ref))
        } else if v.is_star(a) {
            index_of("*")
        } else {
            None
        }
    };
    let nr = v.non_ref();
    let map: Vec<Option<usize>> = (0..=alts.len())
        .map(|j| {
            if j == 0 {
                return Some(0);
            }
            (1..=v.alts.len())
                .find(|&a| (v.is_real(a) || v.is_star(a)) && to_site(a) == Some(j))
                .or(nr)
        })
        .collect();
    Call {
        gt: v.gt.iter().map(|a| a.and_then(to_site)).collect(),
        dp: v.dp,
        gq: v.gq,
        pl: v
            .pl
            .as_deref()
            .and_then(|pl| remap_pl(pl, v.alts.len() + 1, v.gt.len(), &map)),
    }
}

/// A sample's call from the reference block over `pos`, at a site of `n` alleles: hom-ref at
/// the block's ploidy when the block was called (its PL over REF and `<NON_REF>` spread to
/// every ALT), missing otherwise, or diploid missing with no block.
fn call_from_block(w: &SampleWindow, pos: u64, n: usize) -> Call {
    let k = w.blocks.partition_point(|b| b.start <= pos);
    match k
        .checked_sub(1)
        .map(|i| &w.blocks[i])
        .filter(|b| b.end >= pos)
    {
        Some(b) if b.called => {
            let map: Vec<Option<usize>> = (0..n).map(|j| Some(usize::from(j > 0))).collect();
            let ploidy = usize::from(b.ploidy);
            Call {
                gt: vec![Some(0); ploidy],
                dp: b.dp,
                gq: b.gq,
                pl: b
                    .pl
                    .and_then(|pl| remap_pl(&pl[..ploidy + 1], 2, ploidy, &map)),
            }
        }
        Some(b) => Call {
            gt: vec![None; b.ploidy as usize],
            dp: b.dp,
            gq: None,
            pl: None,
        },
        None => Call {
            gt: vec![None, None],
            dp: None,
            gq: None,
            pl: None,
        },
    }
}

/// Genotype filter thresholds (see [`Options::min_gq`]).
#[derive(Clone, Copy, Debug)]
struct Filter {
    min_gq: u32,
    min_dp: u32,
}

impl Filter {
    fn passes(&self, c: &Call) -> bool {
        c.gq.unwrap_or(0) >= self.min_gq && c.dp.unwrap_or(0) >= self.min_dp
    }
}

/// Allele counts over a set of samples, of the genotypes that pass `filter`.
fn counts(site: &Site, members: impl Iterator<Item = usize>, filter: Filter) -> (u64, Vec<u64>) {
    let mut an = 0;
    let mut ac = vec![0u64; site.alts.len()];
    for s in members {
        if !filter.passes(&site.calls[s]) {
            continue;
        }
        for a in site.calls[s].gt.iter().flatten() {
            an += 1;
            if *a > 0 {
                ac[*a - 1] += 1;
            }
        }
    }
    (an, ac)
}

/// Six significant digits, trailing zeros dropped (as C's `%.6g` for 0 ≤ x ≤ 1).
fn fmt_af(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let decimals = (5 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn join<T>(v: &[T], f: impl Fn(&T) -> String) -> String {
    v.iter().map(f).collect::<Vec<_>>().join(",")
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or(".".into(), |x| x.to_string())
}

/// Group membership: (INFO key suffix, sample indices), groups under the floor left out.
struct Groups {
    reported: Vec<(String, Vec<usize>)>,
    suppressed: Vec<(String, usize)>,
}

fn groups(sheet: Option<&SampleSheet>, samples: &[String], min_count: u32) -> Result<Groups> {
    let mut g = Groups {
        reported: Vec::new(),
        suppressed: Vec::new(),
    };
    let Some(sheet) = sheet else {
        return Ok(g);
    };
    for s in samples {
        if !sheet.groups.contains_key(s) {
            return Err(Error::Config(format!(
                "sample {s} is not in the sample sheet"
            )));
        }
    }
    for (c, col) in sheet.columns.iter().enumerate() {
        for (v, value) in sheet.values[c].iter().enumerate() {
            let members: Vec<usize> = samples
                .iter()
                .enumerate()
                .filter(|(_, s)| sheet.groups[*s][c] == v)
                .map(|(i, _)| i)
                .collect();
            let name = format!("{}_{}", key_part(col), key_part(value));
            if (members.len() as u64) < min_count as u64 {
                g.suppressed.push((name, members.len()));
            } else {
                g.reported.push((name, members));
            }
        }
    }
    Ok(g)
}

fn format_site(
    chrom: &str,
    site: &Site,
    groups: &Groups,
    opts: &Options,
    cohort: &mut String,
    af: &mut String,
) {
    use std::fmt::Write as _;
    let min_count = opts.min_count;
    let filter = Filter {
        min_gq: opts.min_gq,
        min_dp: opts.min_dp,
    };
    let n = site.calls.len();
    let (an, ac) = counts(site, 0..n, filter);
    let afs = |an: u64, ac: &[u64]| {
        join(ac, |c| {
            if an == 0 {
                ".".into()
            } else {
                fmt_af(*c as f64 / an as f64)
            }
        })
    };
    let alt = site.alts.join(",");
    let _ = write!(
        cohort,
        "{chrom}\t{}\t.\t{}\t{alt}\t.\t.\tAC={};AN={an};AF={}\tGT:DP:GQ:PL",
        site.pos,
        site.reference,
        join(&ac, |c| c.to_string()),
        afs(an, &ac)
    );
    for c in &site.calls {
        let gt = c.gt.iter().map(|a| opt(*a)).collect::<Vec<_>>().join("/");
        let pl =
            c.pl.as_deref()
                .map_or(".".into(), |p| join(p, u32::to_string));
        let _ = write!(cohort, "\t{gt}:{}:{}:{pl}", opt(c.dp), opt(c.gq));
    }
    cohort.push('\n');
    // The AF VCF: only sites some real ALT reaches the floor at.
    let k = min_count as u64;
    let real = site.alts.iter().map(|a| a != "*");
    if !ac.iter().zip(real).any(|(c, r)| r && *c >= k) {
        return;
    }
    let floor = |an: u64, ac: &[u64]| -> (String, String) {
        let acs = join(ac, |c| {
            if *c > 0 && *c < k {
                ".".into()
            } else {
                c.to_string()
            }
        });
        let afs = join(ac, |c| {
            if (*c > 0 && *c < k) || an == 0 {
                ".".into()
            } else {
                fmt_af(*c as f64 / an as f64)
            }
        });
        (acs, afs)
    };
    let (acs, afs) = floor(an, &ac);
    let _ = write!(
        af,
        "{chrom}\t{}\t.\t{}\t{alt}\t.\t.\tAC={acs};AN={an};AF={afs}",
        site.pos, site.reference
    );
    for (name, members) in &groups.reported {
        let (an, ac) = counts(site, members.iter().copied(), filter);
        let (acs, afs) = floor(an, &ac);
        let _ = write!(af, ";AC_{name}={acs};AN_{name}={an};AF_{name}={afs}");
    }
    af.push('\n');
}

fn headers(
    reference: &Reference,
    samples: &[String],
    groups: &Groups,
    opts: &Options,
    sheet: Option<&SampleSheet>,
) -> (String, String) {
    let mut common = String::from("##fileformat=VCFv4.2\n");
    common.push_str(&crate::io::gvcf::provenance(reference, &opts.command_line));
    common
        .push_str("##ALT=<ID=*,Description=\"Allele missing because of an upstream deletion\">\n");
    common.push_str(&format!("##genoaGenotypeFilter=\"AC and AN count the genotypes with GQ >= {} and DP >= {} (a reference block's DP: its MIN_DP); a reference block of no coverage is hom-ref; a sample inside its own earlier record (a deletion) is {}\"\n", opts.min_gq, opts.min_dp, match opts.spanning { Spanning::Missing => "missing", Spanning::Star => "the * allele on its ALT haplotypes" }));
    common.push_str("##INFO=<ID=AC,Number=A,Type=Integer,Description=\"Allele count in called genotypes, per ALT\">\n");
    common.push_str(
        "##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Number of called alleles\">\n",
    );
    common.push_str(
        "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Allele frequency, AC/AN, per ALT\">\n",
    );
    let mut cohort = common.clone();
    cohort.push_str("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n");
    cohort.push_str("##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Read depth (MIN_DP of a reference block)\">\n");
    cohort.push_str("##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype quality\">\n");
    cohort.push_str("##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Phred-scaled genotype likelihoods, remapped to the site's alleles\">\n");
    cohort.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT");
    for s in samples {
        cohort.push('\t');
        cohort.push_str(s);
    }
    cohort.push('\n');
    let mut af = common;
    af.push_str(&format!(
        "##genoaMinCount={}\n##genoaSamples={}\n",
        opts.min_count,
        samples.len()
    ));
    af.push_str(&format!("##genoaPrivacyFloor=\"Sites are listed only where an ALT is seen at least {k} times; an allele count of 1 to {} is written '.', and its AF too; groups of fewer than {k} samples are not reported\"\n", opts.min_count.saturating_sub(1), k = opts.min_count));
    if let Some(sheet) = sheet {
        for (c, col) in sheet.columns.iter().enumerate() {
            for value in &sheet.values[c] {
                let name = format!("{}_{}", key_part(col), key_part(value));
                if groups.reported.iter().any(|(n, _)| *n == name) {
                    af.push_str(&format!("##INFO=<ID=AC_{name},Number=A,Type=Integer,Description=\"Allele count among samples with {col}={value}\">\n"));
                    af.push_str(&format!("##INFO=<ID=AN_{name},Number=1,Type=Integer,Description=\"Called alleles among samples with {col}={value}\">\n"));
                    af.push_str(&format!("##INFO=<ID=AF_{name},Number=A,Type=Float,Description=\"Allele frequency among samples with {col}={value}\">\n"));
                }
            }
        }
    }
    for (name, n) in &groups.suppressed {
        af.push_str(&format!("##genoaSuppressedGroup=<ID={name},Samples={n}>\n"));
    }
    af.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
    (cohort, af)
}

/// Opens every input with its index (in parallel); two inputs of one sample are refused.
fn open_inputs(inputs: &[PathBuf], reference: &Reference) -> Result<Vec<Input>> {
    let opened: Vec<Input> = inputs
        .par_iter()
        .map(|p| open_input(p, reference))
        .collect::<Result<_>>()?;
    let mut seen = HashMap::new();
    for (i, input) in opened.iter().enumerate() {
        if let Some(j) = seen.insert(input.sample.as_str(), i) {
            return Err(Error::input(
                &inputs[i],
                format!(
                    "sample {} is also the sample of {}",
                    input.sample,
                    inputs[j].display()
                ),
            ));
        }
    }
    Ok(opened)
}

/// The windows `(contig, first, last)` (1-based inclusive, at most `opts.window` bases, in
/// reference order) over the targets — the whole genome without `--region`s; overlapping
/// targets are merged, so no site is reported twice.
fn windows(reference: &Reference, opts: &Options) -> Vec<(usize, u64, u64)> {
    let mut targets: Vec<Interval> = if opts.regions.is_empty() {
        (0..reference.contigs.len())
            .map(|c| Interval {
                contig: c,
                start: 0,
                end: reference.contigs[c].len(),
            })
            .collect()
    } else {
        opts.regions.clone()
    };
    targets.sort();
    let mut merged: Vec<Interval> = Vec::new();
    for t in targets {
        match merged.last_mut() {
            Some(m) if m.contig == t.contig && t.start <= m.end => m.end = m.end.max(t.end),
            _ => merged.push(t),
        }
    }
    let mut windows = Vec::new();
    for t in &merged {
        let mut s = t.start + 1;
        while s <= t.end {
            let e = (s + opts.window - 1).min(t.end);
            windows.push((t.contig, s, e));
            s = e + 1;
        }
    }
    windows
}

/// One window of the cohort: every sample's records read and joined into sites, written as
/// cohort VCF text and allele-frequency VCF text; the sites and the published sites.
fn aggregate_window(
    opened: &[Input],
    reference: &Reference,
    groups: &Groups,
    opts: &Options,
    (contig, s, e): (usize, u64, u64),
) -> Result<(String, String, u64, u64)> {
    let per_sample: Vec<SampleWindow> = opened
        .par_iter()
        .map(|i| read_window(i, reference, contig, s, e))
        .collect::<Result<_>>()?;
    let name = &reference.contigs[contig].name;
    let keep = |pos: u64| {
        opts.regions.is_empty()
            || opts
                .regions
                .iter()
                .any(|r| r.overlaps(contig, pos - 1, pos))
    };
    let describe = |pos: u64| format!("{name}:{pos}");
    let sites = join_window(&per_sample, s, e, &keep, &describe, opts.spanning)?;
    let (mut c, mut a) = (String::new(), String::new());
    for site in &sites {
        format_site(name, site, groups, opts, &mut c, &mut a);
    }
    let published = a.lines().count() as u64;
    Ok((c, a, sites.len() as u64, published))
}

/// What `aggregate` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub samples: usize,
    pub sites: u64,
    pub published_sites: u64,
}

/// Aggregates `inputs` into `PREFIX.vcf.gz` and `PREFIX.af.vcf.gz` (each with its index).
pub fn aggregate(
    inputs: &[PathBuf],
    reference: &Reference,
    sheet: Option<&SampleSheet>,
    opts: &Options,
    cohort_path: &Path,
    af_path: &Path,
) -> Result<Summary> {
    if inputs.is_empty() {
        return Err(Error::Config("aggregate: no gVCFs given".into()));
    }
    if opts.window < 1000 {
        return Err(Error::Config(
            "aggregate: --window must be at least 1000".into(),
        ));
    }
    let opened = open_inputs(inputs, reference)?;
    let samples: Vec<String> = opened.iter().map(|i| i.sample.clone()).collect();
    let groups = groups(sheet, &samples, opts.min_count)?;
    let (cohort_header, af_header) = headers(reference, &samples, &groups, opts, sheet);
    let mut cohort = crate::io::gvcf::Writer::create(
        cohort_path,
        &cohort_header,
        crate::model::gvcf::OutputMode::Variants,
    )?;
    let mut af = crate::io::gvcf::Writer::create(
        af_path,
        &af_header,
        crate::model::gvcf::OutputMode::Variants,
    )?;
    let windows = windows(reference, opts);
    let mut summary = Summary {
        samples: samples.len(),
        ..Summary::default()
    };
    let in_flight = rayon::current_num_threads().max(1);
    for batch in windows.chunks(in_flight) {
        let texts: Vec<(String, String, u64, u64)> = batch
            .par_iter()
            .map(|&window| aggregate_window(&opened, reference, &groups, opts, window))
            .collect::<Result<_>>()?;
        for (c, a, n, p) in texts {
            cohort.push_text(&c)?;
            af.push_text(&a)?;
            summary.sites += n;
            summary.published_sites += p;
        }
    }
    cohort.finish(reference)?;
    af.finish(reference)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn af_has_six_significant_digits() {
        assert_eq!(fmt_af(0.0), "0");
        assert_eq!(fmt_af(1.0), "1");
        assert_eq!(fmt_af(0.5), "0.5");
        assert_eq!(fmt_af(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_af(1.0 / 48.0), "0.0208333");
        assert_eq!(fmt_af(1.0 / 200_000.0), "0.000005");
    }

    #[test]
    fn pl_remap_uses_non_ref_for_missing_alleles() {
        // Sample alleles: REF, C, <NON_REF>; site alleles: REF, A, C.
        // Sample PL order: 00 01 11 02 12 22.
        let pl = [0, 10, 20, 30, 40, 50];
        let map = [Some(0), Some(2), Some(1)];
        // Site genotypes 00 01 11 02 12 22 → sample (0,0) (0,2) (2,2) (0,1) (2,1) (1,1).
        assert_eq!(
            remap_pl(&pl, 3, 2, &map).unwrap(),
            vec![0, 30, 50, 10, 40, 20]
        );
        // Haploid: one PL per allele, the sample's C (its allele 1) for the site's second ALT
        // and its <NON_REF> (allele 2) for the site's first.
        assert_eq!(remap_pl(&[40, 0, 90], 3, 1, &map).unwrap(), vec![40, 90, 0]);
        // A haploid block's PL over REF and <NON_REF>, spread to three site alleles.
        let block = [Some(0), Some(1), Some(1)];
        assert_eq!(remap_pl(&[0, 42], 2, 1, &block).unwrap(), vec![0, 42, 42]);
        // The arity of the other ploidy is no PL.
        assert_eq!(remap_pl(&pl, 3, 1, &map), None);
        assert_eq!(remap_pl(&[40, 0, 90], 3, 2, &map), None);
        assert_eq!(remap_pl(&[40, 0, 90], 3, 3, &map), None);
    }

    #[test]
    fn key_parts_are_sanitised() {
        assert_eq!(key_part("country"), "country");
        assert_eq!(key_part("Côte d'Ivoire"), "C_te_d_Ivoire");
    }
}
