//! `genoa aggregate` on a simulated cohort of 20 gVCFs (shared and private variants, a
//! multi-allelic site, deletions spanning other samples' SNPs, uncovered and no-call blocks):
//! AC/AN/AF and every GT equal a brute-force recomputation (scripts/aggregate_bruteforce.py,
//! written separately from the semantics alone); the same bytes for any thread count and
//! window; region shards concatenate to the whole; bad inputs are one-line errors. A second
//! cohort of XY and XX samples (haploid chrX outside the PAR, chrY and chrM) checks the
//! haploid rules: AN = males + 2 × females on chrX outside the PAR, haploid GTs and PLs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{Rng, files_in, genoa, tool};

const LEN: usize = 30_000;
const SAMPLES: usize = 20;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A pool variant: 0-based position, REF, ALT, population frequency.
struct PoolVariant {
    pos: usize,
    reference: String,
    alt: String,
    freq: f64,
}

fn base(rng: &mut Rng) -> u8 {
    b"ACGT"[rng.u64(..4) as usize]
}

fn pool(rng: &mut Rng, seq: &[u8]) -> Vec<PoolVariant> {
    let mut v = Vec::new();
    let mut pos = 60;
    while pos < seq.len() - 60 {
        let r = |p: usize, n: usize| String::from_utf8(seq[p..p + n].to_vec()).unwrap();
        let freq = match rng.u64(..10) {
            0..=5 => 0.02 + rng.u64(..100) as f64 / 2000.0, // rare
            6..=8 => 0.1 + rng.u64(..40) as f64 / 100.0,    // common
            _ => 0.9,                                       // near-fixed
        };
        match rng.u64(..20) {
            0..=13 => {
                let mut alt = base(rng);
                while alt == seq[pos] {
                    alt = base(rng);
                }
                v.push(PoolVariant {
                    pos,
                    reference: r(pos, 1),
                    alt: (alt as char).to_string(),
                    freq,
                });
            }
            14..=16 => {
                let n = 1 + rng.u64(..8) as usize;
                v.push(PoolVariant {
                    pos,
                    reference: r(pos, n + 1),
                    alt: r(pos, 1),
                    freq,
                });
                // A SNP inside the deletion: spanned in the deletion's carriers.
                if rng.u64(..2) == 0 {
                    let p = pos + 1 + rng.u64(..n as u64) as usize;
                    let mut alt = base(rng);
                    while alt == seq[p] {
                        alt = base(rng);
                    }
                    v.push(PoolVariant {
                        pos: p,
                        reference: r(p, 1),
                        alt: (alt as char).to_string(),
                        freq: 0.3,
                    });
                }
            }
            17 => {
                let ins: String = (0..1 + rng.u64(..5)).map(|_| base(rng) as char).collect();
                v.push(PoolVariant {
                    pos,
                    reference: r(pos, 1),
                    alt: format!("{}{ins}", r(pos, 1)),
                    freq,
                });
            }
            _ => {
                // Multi-allelic: two SNPs and a deletion at one position.
                let mut alts = b"ACGT".to_vec();
                alts.retain(|b| *b != seq[pos]);
                for a in &alts[..2] {
                    v.push(PoolVariant {
                        pos,
                        reference: r(pos, 1),
                        alt: (*a as char).to_string(),
                        freq: 0.3,
                    });
                }
                v.push(PoolVariant {
                    pos,
                    reference: r(pos, 3),
                    alt: r(pos, 1),
                    freq: 0.2,
                });
            }
        }
        pos += 20 + rng.u64(..180) as usize;
    }
    v
}

fn header(sample: &str, contigs: &[(&str, usize)]) -> String {
    let mut h = String::from(
        "##fileformat=VCFv4.2\n\
         ##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele\">\n\
         ##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n\
         ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n\
         ##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths\">\n\
         ##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"Allele fraction of each ALT\">\n\
         ##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n\
         ##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype quality\">\n\
         ##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Minimum depth\">\n\
         ##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Likelihoods\">\n",
    );
    for (name, len) in contigs {
        let _ = writeln!(h, "##contig=<ID={name},length={len}>");
    }
    let _ = writeln!(
        h,
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}"
    );
    h
}

/// How a sample's contig is called: haploid from 0-based `haploid_from` on (a male's chrX
/// past its PAR, chrY, chrM), diploid before it or without it; `gaps`: some blocks uncovered
/// or no-calls; `af`: variant records carry FORMAT AF (chrM).
struct Calling<'a> {
    chrom: &'a str,
    haploid_from: Option<usize>,
    gaps: bool,
    af: bool,
}

impl Calling<'_> {
    fn ploidy(&self, pos: usize) -> usize {
        match self.haploid_from {
            Some(h) if pos >= h => 1,
            _ => 2,
        }
    }
}

/// Reference blocks over `[from, to)` (0-based), cut at random lengths and where the ploidy
/// changes; PL `0,GQ,10·GQ` diploid, `0,GQ` haploid.
fn blocks(rng: &mut Rng, c: &Calling, seq: &[u8], from: usize, to: usize, out: &mut String) {
    let mut p = from;
    while p < to {
        let mut e = (p + 1 + rng.u64(..400) as usize).min(to);
        if let Some(h) = c.haploid_from.filter(|h| p < *h) {
            e = e.min(h);
        }
        let kind = rng.u64(..40);
        let (called, dp, gq) = match if c.gaps { kind } else { kind.max(2) } {
            0 => (true, 0, 0),  // uncovered
            1 => (false, 3, 0), // no call
            _ => {
                let d = 5 + rng.u64(..30) as u32;
                (true, d, (3 * d).min(99))
            }
        };
        let (gt, pl) = match (c.ploidy(p), called) {
            (1, true) => ("0", format!("0,{gq}")),
            (1, false) => (".", format!("0,{gq}")),
            (_, true) => ("0/0", format!("0,{gq},{}", gq * 10)),
            (_, false) => ("./.", format!("0,{gq},{}", gq * 10)),
        };
        let _ = writeln!(
            out,
            "{}\t{}\t.\t{}\t<NON_REF>\t.\t.\tEND={}\tGT:DP:GQ:MIN_DP:PL\t{gt}:{dp}:{gq}:{dp}:{pl}",
            c.chrom,
            p + 1,
            seq[p] as char,
            e,
        );
        p = e;
    }
}

/// One sample's records on one contig: it carries each pool variant on each of its
/// haplotypes with the variant's frequency (at most as many as its ploidy at that position).
fn contig_records(rng: &mut Rng, c: &Calling, seq: &[u8], pool: &[PoolVariant], out: &mut String) {
    let mut covered = 0usize; // first base not yet written
    let mut i = 0;
    while i < pool.len() {
        // The pool variants at one position; a sample carries at most `ploidy` of them.
        let pos = pool[i].pos;
        let ploidy = c.ploidy(pos);
        let j = pool[i..].iter().take_while(|v| v.pos == pos).count() + i;
        let mut carried: Vec<&PoolVariant> = Vec::new();
        for v in &pool[i..j] {
            for _ in 0..ploidy {
                if (rng.u64(..10_000) as f64) < v.freq * 10_000.0 && carried.len() < ploidy {
                    carried.push(v);
                }
            }
        }
        i = j;
        // A variant record with a ref call now and then (the sample's alleles considered; on
        // chrM, a minor allele below the call: GT 0 with an ALT and its AF).
        let ref_call = carried.is_empty() && rng.u64(..60) == 0;
        if (carried.is_empty() && !ref_call) || pos < covered {
            continue;
        }
        let chosen: Vec<&PoolVariant> = if ref_call {
            vec![&pool[j - 1]]
        } else {
            carried.clone()
        };
        let reference = chosen
            .iter()
            .map(|v| v.reference.clone())
            .max_by_key(|r| r.len())
            .unwrap();
        let mut alts: Vec<String> = Vec::new();
        for v in &chosen {
            let a = format!("{}{}", v.alt, &reference[v.reference.len()..]);
            if !alts.contains(&a) {
                alts.push(a);
            }
        }
        // GT: the carried alleles, REF on the other haplotypes, in ascending order.
        let mut gt: Vec<usize> = if ref_call {
            Vec::new()
        } else {
            carried
                .iter()
                .map(|v| {
                    let a = format!("{}{}", v.alt, &reference[v.reference.len()..]);
                    1 + alts.iter().position(|x| *x == a).unwrap()
                })
                .collect()
        };
        gt.resize(ploidy, 0);
        gt.sort_unstable();
        blocks(rng, c, seq, covered, pos, out);
        let n = alts.len() + 2; // REF, ALTs, <NON_REF>
        let genotypes = if ploidy == 1 { n } else { n * (n + 1) / 2 };
        let best = genoa::model::genotype::index(&gt).unwrap();
        let pl: Vec<String> = (0..genotypes)
            .map(|k| if k == best { 0 } else { 10 + 7 * k }.to_string())
            .collect();
        let ad: Vec<String> = (0..n).map(|k| (3 * k).to_string()).collect();
        let gt_text = gt
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("/");
        let (af_key, af) = if c.af {
            // One per ALT, <NON_REF> (the last) included.
            let fractions: Vec<&str> = (1..=alts.len())
                .map(|a| if gt.contains(&a) { "0.9700" } else { "0.0500" })
                .chain(std::iter::once("0.0000"))
                .collect();
            (":AF", format!(":{}", fractions.join(",")))
        } else {
            ("", String::new())
        };
        let _ = writeln!(
            out,
            "{}\t{}\t.\t{reference}\t{},<NON_REF>\t50\t.\t.\tGT:AD:DP:GQ:PL{af_key}\t{gt_text}:{}:20:40:{}{af}",
            c.chrom,
            pos + 1,
            alts.join(","),
            ad.join(","),
            pl.join(",")
        );
        covered = pos + reference.len();
    }
    blocks(rng, c, seq, covered, seq.len(), out);
}

/// One sample's gVCF text on chrT (diploid, with uncovered and no-call blocks).
fn sample_gvcf(rng: &mut Rng, seq: &[u8], pool: &[PoolVariant], name: &str) -> String {
    let mut out = header(name, &[("chrT", LEN)]);
    let c = Calling {
        chrom: "chrT",
        haploid_from: None,
        gaps: true,
        af: false,
    };
    contig_records(rng, &c, seq, pool, &mut out);
    out
}

struct Cohort {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    reference: PathBuf,
    sheet: PathBuf,
    gvcfs: Vec<PathBuf>,
}

impl Cohort {
    /// The cohort in `dir` (removed when dropped), its sample sheet written from `sheet`.
    fn new(dir: tempfile::TempDir, reference: PathBuf, sheet: &str, gvcfs: Vec<PathBuf>) -> Self {
        let d = dir.path().to_path_buf();
        let sheet_path = d.join("samples.tsv");
        std::fs::write(&sheet_path, sheet).unwrap();
        Cohort {
            _dir: dir,
            dir: d,
            reference,
            sheet: sheet_path,
            gvcfs,
        }
    }
}

fn cohort() -> Cohort {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let mut rng = Rng::with_seed(2026);
    let seq = random_seq(&mut rng, LEN);
    let reference = write_fasta(&d, &[("chrT", &seq)]);
    let pool = pool(&mut rng, &seq);
    let mut gvcfs = Vec::new();
    let mut sheet = String::from("sample\tcountry\tsex\n");
    for s in 0..SAMPLES {
        let name = format!("S{s:02}");
        let gvcf = sample_gvcf(&mut rng, &seq, &pool, &name);
        gvcfs.push(bgzip_and_index(&d, &name, &gvcf));
        // Four countries, one with only two samples (under the floor of 3).
        let country = match s {
            0 | 1 => "EE",
            s if s % 3 == 0 => "FI",
            s if s % 3 == 1 => "NL",
            _ => "Côte d'Ivoire",
        };
        let _ = writeln!(
            sheet,
            "{name}\t{country}\t{}",
            if s % 2 == 0 { "F" } else { "M" }
        );
    }
    Cohort::new(dir, reference, &sheet, gvcfs)
}

/// Random bases (ASCII) from `rng`.
fn random_seq(rng: &mut Rng, len: usize) -> Vec<u8> {
    genoa::genome::random_bases(rng, len)
        .iter()
        .map(|&b| b"ACGT"[b as usize])
        .collect()
}

/// `dir/ref.fa` with `contigs`, 60 bases a line.
fn write_fasta(dir: &Path, contigs: &[(&str, &[u8])]) -> PathBuf {
    let mut fa = String::new();
    for (name, seq) in contigs {
        let _ = writeln!(fa, ">{name}");
        for c in seq.chunks(60) {
            fa.push_str(std::str::from_utf8(c).unwrap());
            fa.push('\n');
        }
    }
    let path = dir.join("ref.fa");
    std::fs::write(&path, fa).unwrap();
    path
}

/// `dir/NAME.g.vcf.gz` (bgzip) with its tabix index, from gVCF `text`.
fn bgzip_and_index(dir: &Path, name: &str, text: &str) -> PathBuf {
    let plain = dir.join(format!("{name}.g.vcf"));
    std::fs::write(&plain, text).unwrap();
    let o = tool("bgzip", &["-f", plain.to_str().unwrap()]);
    assert!(o.status.success(), "{}", self::text(&o.stderr));
    let gz = dir.join(format!("{name}.g.vcf.gz"));
    let o = tool("tabix", &["-p", "vcf", gz.to_str().unwrap()]);
    assert!(o.status.success(), "{}", self::text(&o.stderr));
    gz
}

/// The brute-force checker's report on aggregate's `vcf` and `af` of cohort `c` (min count
/// 3), which must say MATCH for both.
/// The brute-force check of `vcf` and `af` (aggregated with the genotype filter `filter`:
/// `--min-gq`, `--min-dp` and their values).
fn brute_force(c: &Cohort, vcf: &Path, af: &Path, filter: &[&str]) -> String {
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/aggregate_bruteforce.py");
    let mut args = vec![
        checker.to_str().unwrap().to_string(),
        "--samples".into(),
        c.sheet.to_str().unwrap().into(),
        "--min-count".into(),
        "3".into(),
        "--an0-af".into(),
        "dot".into(),
        "--af".into(),
        af.to_str().unwrap().into(),
        "--cohort".into(),
        vcf.to_str().unwrap().into(),
    ];
    args.extend(filter.iter().map(|s| s.to_string()));
    args.extend(c.gvcfs.iter().map(|g| g.to_str().unwrap().to_string()));
    let o = Command::new("python3").args(&args).output().unwrap();
    let report = text(&o.stdout);
    eprintln!("{report}");
    assert!(o.status.success(), "{report}{}", text(&o.stderr));
    report
}

/// chrX of the XY/XX cohort; its PAR is bases 1..=`PAR_END` (diploid in every sample).
const X_LEN: usize = 12_000;
const PAR_END: usize = 2_000;
const Y_LEN: usize = 4_000;
const M_LEN: usize = 2_000;
const MALES: usize = 5;
const FEMALES: usize = 7;

/// `MALES` XY and `FEMALES` XX samples (`M0`…, `F0`…, alternating while both last) on chrX,
/// chrY and chrM: males haploid on chrX past the PAR and on chrY (with uncovered and no-call
/// blocks there), everyone diploid on the PAR (fully called) and haploid on chrM (FORMAT AF; GT
/// 0 with an ALT now and then: a minor allele); chrY only in the males' gVCFs, as the caller
/// leaves an XX sample's chrY uncalled.
fn sex_cohort() -> Cohort {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let mut rng = Rng::with_seed(4046);
    let x = random_seq(&mut rng, X_LEN);
    let y = random_seq(&mut rng, Y_LEN);
    let m = random_seq(&mut rng, M_LEN);
    let reference = write_fasta(&d, &[("chrX", &x), ("chrY", &y), ("chrM", &m)]);
    // No deletion crosses the PAR's end: a record has the ploidy of its POS.
    let x_pool: Vec<PoolVariant> = pool(&mut rng, &x)
        .into_iter()
        .filter(|v| v.pos >= PAR_END || v.pos + v.reference.len() <= PAR_END)
        .collect();
    let y_pool = pool(&mut rng, &y);
    let m_pool = pool(&mut rng, &m);
    let contigs = [("chrX", X_LEN), ("chrY", Y_LEN), ("chrM", M_LEN)];
    let mut gvcfs = Vec::new();
    let mut sheet = String::from("sample\tsex\n");
    let (mut males, mut females) = (0, 0);
    while males + females < MALES + FEMALES {
        let male = females == FEMALES || (males < MALES && males <= females);
        let name = if male {
            males += 1;
            format!("M{}", males - 1)
        } else {
            females += 1;
            format!("F{}", females - 1)
        };
        let mut g = header(&name, &contigs);
        let haploid = |chrom, gaps, af| Calling {
            chrom,
            haploid_from: Some(0),
            gaps,
            af,
        };
        let chr_x = Calling {
            chrom: "chrX",
            haploid_from: male.then_some(PAR_END),
            gaps: false,
            af: false,
        };
        contig_records(&mut rng, &chr_x, &x, &x_pool, &mut g);
        if male {
            contig_records(&mut rng, &haploid("chrY", true, false), &y, &y_pool, &mut g);
        }
        contig_records(&mut rng, &haploid("chrM", false, true), &m, &m_pool, &mut g);
        gvcfs.push(bgzip_and_index(&d, &name, &g));
        let _ = writeln!(sheet, "{name}\t{}", if male { "M" } else { "F" });
    }
    Cohort::new(dir, reference, &sheet, gvcfs)
}

/// The text of a (gzip) file.
fn gunzip(path: &Path) -> String {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn aggregate(c: &Cohort, prefix: &str, extra: &[&str]) -> PathBuf {
    let out = c.dir.join(prefix);
    let mut args = vec![
        "aggregate",
        "-r",
        c.reference.to_str().unwrap(),
        "--samples",
        c.sheet.to_str().unwrap(),
        "--min-count",
        "3",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    for g in &c.gvcfs {
        args.push(g.to_str().unwrap());
    }
    let o = genoa(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    out
}

/// Every genotype counted (no GQ/DP filter) and spanning deletions as GATK's `*`.
const GATK_RULES: &[&str] = &[
    "--min-gq",
    "0",
    "--min-dp",
    "0",
    "--spanning-deletions",
    "star",
];

fn records(path: &Path) -> Vec<String> {
    gunzip(path)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn aggregate_equals_brute_force_and_is_deterministic_and_shardable() {
    let c = cohort();
    let out = aggregate(&c, "cohort", &["--spanning-deletions", "star"]);
    let (vcf, af) = (
        PathBuf::from(format!("{}.vcf.gz", out.display())),
        PathBuf::from(format!("{}.af.vcf.gz", out.display())),
    );
    let cohort_records = records(&vcf);
    let af_records = records(&af);
    assert!(cohort_records.len() > 100, "{}", cohort_records.len());
    assert!(af_records.len() > 30, "{}", af_records.len());
    assert!(
        cohort_records
            .iter()
            .any(|r| r.contains("\t*\t") || r.contains(",*\t"))
    );
    assert!(
        cohort_records
            .iter()
            .any(|r| r.split('\t').nth(4).unwrap().split(',').count() >= 3)
    );
    // The brute-force recomputation agrees on every count and every genotype.
    // The default genotype filter (GQ >= 20, DP >= 10) leaves some genotypes out.
    let report = brute_force(
        &c,
        &vcf,
        &af,
        &["--min-gq", "20", "--min-dp", "10", "--spanning", "star"],
    );
    assert!(
        report.contains(&format!("MATCH {}", af_records.len())),
        "{report}"
    );
    // Without the filter: other counts, the same genotypes, still the brute force's.
    let all = aggregate(&c, "unfiltered", GATK_RULES);
    let (all_vcf, all_af) = (
        PathBuf::from(format!("{}.vcf.gz", all.display())),
        PathBuf::from(format!("{}.af.vcf.gz", all.display())),
    );
    assert_ne!(records(&all_vcf), cohort_records);
    let report = brute_force(&c, &all_vcf, &all_af, &["--spanning", "star"]);
    assert!(report.contains("MATCH"), "{report}");
    // The default: a sample inside its own deletion is missing (Hail's rule), no `*`.
    let hail = aggregate(&c, "hail", &[]);
    let hail_vcf = PathBuf::from(format!("{}.vcf.gz", hail.display()));
    let hail_af = PathBuf::from(format!("{}.af.vcf.gz", hail.display()));
    assert!(
        !records(&hail_vcf)
            .iter()
            .any(|r| r.split('\t').nth(4).unwrap().contains('*'))
    );
    let report = brute_force(
        &c,
        &hail_vcf,
        &hail_af,
        &["--min-gq", "20", "--min-dp", "10"],
    );
    assert!(report.contains("MATCH"), "{report}");
    assert!(
        report.contains(&format!("MATCH {} (cohort", cohort_records.len())),
        "{report}"
    );
    // The small group is reported only as suppressed; the sanitised key is there.
    let af_text = gunzip(&af);
    assert!(af_text.contains("##genoaSuppressedGroup=<ID=country_EE,Samples=2>"));
    assert!(!af_text.contains("AC_country_EE"));
    assert!(af_text.contains("AC_country_C_te_d_Ivoire="));
    // bcftools reads both.
    for f in [&vcf, &af] {
        let o = tool("bcftools", &["view", "-H", f.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    // One thread and tiny windows: the same records.
    let small = aggregate(
        &c,
        "small",
        &[
            "-@",
            "1",
            "--window",
            "1000",
            "--spanning-deletions",
            "star",
        ],
    );
    assert_eq!(
        records(Path::new(&format!("{}.vcf.gz", small.display()))),
        cohort_records
    );
    assert_eq!(
        records(Path::new(&format!("{}.af.vcf.gz", small.display()))),
        af_records
    );
    // Three region shards (boundaries inside deletions, likely) concatenate to the whole.
    let (mut vs, mut afs) = (Vec::new(), Vec::new());
    for (k, r) in ["chrT:1-9999", "chrT:10000-20003", "chrT:20004-30000"]
        .iter()
        .enumerate()
    {
        let s = aggregate(
            &c,
            &format!("shard{k}"),
            &["--region", r, "--spanning-deletions", "star"],
        );
        vs.extend(records(Path::new(&format!("{}.vcf.gz", s.display()))));
        afs.extend(records(Path::new(&format!("{}.af.vcf.gz", s.display()))));
    }
    assert_eq!(vs, cohort_records);
    assert_eq!(afs, af_records);
}

/// `gvcf` with the PL of its first line starting with `prefix` (a haploid call) replaced by
/// as many values as a diploid call over its alleles has.
fn with_diploid_pl(gvcf: &str, prefix: &str) -> String {
    let mut done = false;
    let mut out = String::new();
    for line in gvcf.lines() {
        let mut cols: Vec<String> = line.split('\t').map(String::from).collect();
        if !done && line.starts_with(prefix) {
            let n = cols[4].split(',').count() + 1;
            let mut v: Vec<String> = cols[9].split(':').map(String::from).collect();
            assert!(!v[0].contains('/'), "{line}");
            let pl = cols[8].split(':').position(|k| k == "PL").unwrap();
            v[pl] = (0..n * (n + 1) / 2)
                .map(|k| (10 * k).to_string())
                .collect::<Vec<_>>()
                .join(",");
            cols[9] = v.join(":");
            done = true;
        }
        out.push_str(&cols.join("\t"));
        out.push('\n');
    }
    assert!(done, "no line starts with {prefix:?}");
    out
}

#[test]
fn aggregate_counts_haploid_males_once_and_validate_passes_their_gvcfs() {
    use genoa::validate::{Class, Options, validate, validate_reader};
    let c = sex_cohort();
    let reference = genoa::io::reference::Reference::load(&c.reference).unwrap();
    // validate passes every gVCF (the females' have no chrY record: the contig is not called)…
    for g in &c.gvcfs {
        let r = validate(g, &reference, Options::default()).unwrap();
        assert!(r.is_clean(), "{}: {:#?}", g.display(), r.violations);
    }
    // …and refuses a haploid variant record or block with a diploid PL's arity.
    let male = gunzip(&c.gvcfs[0]);
    let snp = male
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f[0] == "chrX" && f[1].parse::<usize>().unwrap() > PAR_END && f[4] != "<NON_REF>"
        })
        .unwrap();
    let block = male
        .lines()
        .find(|l| l.starts_with("chrX\t") && l.ends_with(":0,99"))
        .unwrap();
    for prefix in [snp, block] {
        let prefix = prefix.split('\t').take(2).collect::<Vec<_>>().join("\t") + "\t";
        let bad = with_diploid_pl(&male, &prefix);
        let r = validate_reader(bad.as_bytes(), &reference, Options::default()).unwrap();
        assert_eq!(
            r.classes(),
            [Class::PlArity],
            "{prefix}: {:#?}",
            r.violations
        );
        let e = &r.violations[&Class::PlArity].examples[0];
        let line = bad.lines().position(|l| l.starts_with(&prefix)).unwrap() as u64 + 1;
        assert_eq!(e.line, line);
        assert!(e.message.contains("a haploid GT"), "{}", e.message);
    }

    // Every genotype counted, GATK's `*` for spanning deletions: AN is exact.
    let out = aggregate(&c, "cohort", GATK_RULES);
    let (vcf, af) = (
        PathBuf::from(format!("{}.vcf.gz", out.display())),
        PathBuf::from(format!("{}.af.vcf.gz", out.display())),
    );
    let cohort_records = records(&vcf);
    // The brute-force recomputation agrees on every count, genotype and PL arity.
    let report = brute_force(&c, &vcf, &af, &["--spanning", "star"]);
    assert!(
        report.contains(&format!("MATCH {} (cohort", cohort_records.len())),
        "{report}"
    );
    assert!(
        report.contains(&format!("MATCH {}\n", records(&af).len())),
        "{report}"
    );
    // AN: 1 per male and 2 per female on chrX past the PAR, 2 each on the PAR, 1 each on chrM,
    // at most 1 per male on chrY; GTs and PLs at each sample's ploidy there.
    let samples: Vec<String> = gunzip(&vcf)
        .lines()
        .find(|l| l.starts_with("#CHROM"))
        .unwrap()
        .split('\t')
        .skip(9)
        .map(String::from)
        .collect();
    assert_eq!(samples.len(), MALES + FEMALES);
    let mut sites = std::collections::BTreeMap::<&str, usize>::new();
    let (mut y_missing, mut haploid_star, mut m_ref_call) = (0, 0, 0);
    let (mut haploid_calls, mut haploid_pls) = (0, 0);
    for r in &cohort_records {
        let f: Vec<&str> = r.split('\t').collect();
        let (chrom, pos) = (f[0], f[1].parse::<usize>().unwrap());
        let alts: Vec<&str> = f[4].split(',').collect();
        let n = alts.len() + 1;
        let an: usize = f[7]
            .split(';')
            .find_map(|kv| kv.strip_prefix("AN="))
            .unwrap()
            .parse()
            .unwrap();
        let region = match chrom {
            "chrX" if pos > PAR_END => {
                assert_eq!(an, MALES + 2 * FEMALES, "{r}");
                "chrX outside the PAR"
            }
            "chrX" => {
                assert_eq!(an, 2 * (MALES + FEMALES), "{r}");
                "PAR"
            }
            "chrY" => {
                assert!((1..=MALES).contains(&an), "{r}");
                "chrY"
            }
            _ => {
                assert_eq!(an, MALES + FEMALES, "{r}");
                "chrM"
            }
        };
        *sites.entry(region).or_default() += 1;
        for (name, value) in samples.iter().zip(&f[9..]) {
            let v: Vec<&str> = value.split(':').collect();
            let (gt, pl) = (v[0], v[3]);
            let male = name.starts_with('M');
            let haploid = chrom == "chrM" || (male && region != "PAR");
            if chrom == "chrY" && !male {
                assert_eq!(gt, "./.", "{name} {r}"); // no record: missing
                continue;
            }
            assert_eq!(!gt.contains('/'), haploid, "{name} {r}");
            let want = if haploid { n } else { n * (n + 1) / 2 };
            assert!(pl == "." || pl.split(',').count() == want, "{name} {r}");
            // Haploid calls with a PL (`.` only where missing or from a spanning record).
            haploid_calls += usize::from(haploid && gt != ".");
            haploid_pls += usize::from(haploid && pl != ".");
            y_missing += usize::from(chrom == "chrY" && gt == ".");
            haploid_star +=
                usize::from(haploid && alts.last() == Some(&"*") && gt == alts.len().to_string());
            m_ref_call += usize::from(chrom == "chrM" && gt == "0" && pl != ".");
        }
    }
    eprintln!(
        "sites {sites:?}; chrY no-calls {y_missing}, haploid * {haploid_star}, chrM GT 0 with PL {m_ref_call}, haploid calls {haploid_calls} with PL {haploid_pls}"
    );
    assert!(haploid_pls * 10 > haploid_calls * 9);
    assert!(sites["chrX outside the PAR"] >= 20, "{sites:?}");
    for region in ["PAR", "chrY", "chrM"] {
        assert!(sites.get(region).is_some_and(|&k| k >= 3), "{sites:?}");
    }
    assert!(y_missing > 0 && haploid_star > 0 && m_ref_call > 0);
    // htslib counts the same alleles: bcftools' fill-tags recomputes AN and AC from the GTs.
    let o = tool(
        "bcftools",
        &["+fill-tags", vcf.to_str().unwrap(), "--", "-t", "AN,AC"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let tags = |r: &str| -> Vec<String> {
        let info = r.split('\t').nth(7).unwrap();
        let mut t: Vec<String> = info
            .split(';')
            .filter(|kv| kv.starts_with("AN=") || kv.starts_with("AC="))
            .map(String::from)
            .collect();
        t.sort();
        t
    };
    let theirs: Vec<Vec<String>> = text(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(tags)
        .collect();
    let ours: Vec<Vec<String>> = cohort_records.iter().map(|r| tags(r)).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn aggregate_bad_inputs_are_one_line_errors() {
    let c = cohort();
    let run = |args: &[&str]| {
        let mut a = vec!["aggregate", "-r", c.reference.to_str().unwrap()];
        a.extend_from_slice(args);
        let o = genoa(&a);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let e = text(&o.stderr);
        assert_eq!(e.lines().count(), 1, "{e}");
        e
    };
    let out = c.dir.join("bad").join("x");
    let o = out.to_str().unwrap();
    let (g0, g1) = (c.gvcfs[0].to_str().unwrap(), c.gvcfs[1].to_str().unwrap());
    // The same sample twice.
    let e = run(&["-o", o, g0, g0]);
    assert!(e.contains("sample S00 is also the sample of"), "{e}");
    // A sheet without one of the samples.
    let sheet = c.dir.join("short.tsv");
    std::fs::write(&sheet, "sample\tcountry\nS00\tFI\n").unwrap();
    let e = run(&["-o", o, "--samples", sheet.to_str().unwrap(), g0, g1]);
    assert!(e.contains("sample S01 is not in the sample sheet"), "{e}");
    // A sheet line with a missing field.
    std::fs::write(&sheet, "sample\tcountry\nS00\n").unwrap();
    let e = run(&["-o", o, "--samples", sheet.to_str().unwrap(), g0]);
    assert!(
        e.contains("short.tsv: line 2: 1 fields, the header has 2"),
        "{e}"
    );
    // No index.
    let copy = c.dir.join("noindex.g.vcf.gz");
    std::fs::copy(&c.gvcfs[0], &copy).unwrap();
    let e = run(&["-o", o, copy.to_str().unwrap()]);
    assert!(e.contains("noindex.g.vcf.gz: no .tbi or .csi index"), "{e}");
    // A contig of another length.
    let other = c.dir.join("other.fa");
    std::fs::write(&other, ">chrT\nACGTACGT\n").unwrap();
    let o2 = genoa(&["aggregate", "-r", other.to_str().unwrap(), "-o", o, g0]);
    assert_eq!(o2.status.code(), Some(1));
    assert!(text(&o2.stderr).contains("contig chrT has length 30000"));
    // A genotype beyond diploid.
    let triploid = gunzip(&c.gvcfs[0]).replacen("\t0/1:", "\t0/1/1:", 1);
    let line = triploid.lines().find(|l| l.contains("\t0/1/1:")).unwrap();
    let pos = line.split('\t').nth(1).unwrap();
    let g = bgzip_and_index(&c.dir, "triploid", &triploid);
    let e = run(&["-o", o, g.to_str().unwrap()]);
    assert!(
        e.contains(&format!(
            "triploid.g.vcf.gz: record at chrT:{pos}: GT 0/1/1 has ploidy 3; only haploid and diploid genotypes are supported"
        )),
        "{e}"
    );
    // Nothing was written under a final name.
    assert!(
        files_in(&c.dir.join("bad"))
            .iter()
            .all(|f| !f.ends_with(".vcf.gz"))
    );
}

#[test]
fn a_samples_own_star_allele_counts_as_the_sites_star() {
    // S0 as HaplotypeCaller (or `genoa call --star-alleles`) writes a het deletion with a SNP
    // on the other haplotype inside it: the deletion's record and the SNP's own, with `*`.
    // S1 has the SNP alone. Hail counts S0's `*` at the SNP's site in AN (its own allele).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let seq = b"ACGTACGTACGTACGTACGT";
    let reference = write_fasta(&d, &[("c1", seq)]);
    let block = |from: usize, to: usize| {
        format!(
            "c1\t{from}\t.\t{}\t<NON_REF>\t.\t.\tEND={to}\tGT:DP:GQ:MIN_DP:PL\t0/0:30:60:30:0,60,900\n",
            seq[from - 1] as char
        )
    };
    let h = |s: &str| header(s, &[("c1", seq.len())]);
    let s0 = h("S0")
        + &block(1, 4)
        + "c1\t5\t.\tACG\tA,<NON_REF>\t500\t.\t.\tGT:AD:DP:GQ:PL\t0/1:15,15,0:30:99:500,0,500,600,600,1200\n"
        + "c1\t6\t.\tC\tT,*,<NON_REF>\t500\t.\t.\tGT:AD:DP:GQ:PL\t1/2:0,15,15,0:30:99:900,500,500,500,0,500,900,600,600,1200\n"
        + &block(8, 20);
    let s1 = h("S1")
        + &block(1, 5)
        + "c1\t6\t.\tC\tT,<NON_REF>\t500\t.\t.\tGT:AD:DP:GQ:PL\t0/1:15,15,0:30:99:500,0,500,600,600,1200\n"
        + &block(7, 20);
    let gvcfs = vec![
        bgzip_and_index(&d, "S0", &s0),
        bgzip_and_index(&d, "S1", &s1),
    ];
    let c = Cohort::new(dir, reference, "sample\tcountry\nS0\tFI\nS1\tFI\n", gvcfs);
    for rule in ["missing", "star"] {
        let out = aggregate(
            &c,
            &format!("cohort-{rule}"),
            &["--spanning-deletions", rule],
        );
        let recs = records(&out.with_extension("vcf.gz"));
        let site = recs
            .iter()
            .find(|l| l.split('\t').nth(1) == Some("6"))
            .unwrap_or_else(|| panic!("{recs:?}"));
        let f: Vec<&str> = site.split('\t').collect();
        assert_eq!((f[3], f[4]), ("C", "T,*"), "{rule}: {site}");
        assert!(
            f[7].contains("AC=2,1") && f[7].contains("AN=4"),
            "{rule}: {site}"
        );
        assert_eq!(
            (f[9].split(':').next(), f[10].split(':').next()),
            (Some("1/2"), Some("0/1"))
        );
    }
}
