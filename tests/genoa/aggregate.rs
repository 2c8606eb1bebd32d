//! `genoa aggregate` on a simulated cohort of 20 gVCFs (shared and private variants, a
//! multi-allelic site, deletions spanning other samples' SNPs, uncovered and no-call blocks):
//! AC/AN/AF and every GT equal a brute-force recomputation (scripts/aggregate_bruteforce.py,
//! written separately from the semantics alone); the same bytes for any thread count and
//! window; region shards concatenate to the whole; bad inputs are one-line errors.

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
    while pos < LEN - 60 {
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

fn header(sample: &str) -> String {
    format!(
        "##fileformat=VCFv4.2\n\
         ##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele\">\n\
         ##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n\
         ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n\
         ##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths\">\n\
         ##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n\
         ##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype quality\">\n\
         ##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Minimum depth\">\n\
         ##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Likelihoods\">\n\
         ##contig=<ID=chrT,length={LEN}>\n\
         #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}\n"
    )
}

/// Reference blocks over `[from, to)` (0-based), cut at random lengths.
fn blocks(rng: &mut Rng, seq: &[u8], from: usize, to: usize, out: &mut String) {
    let mut p = from;
    while p < to {
        let e = (p + 1 + rng.u64(..400) as usize).min(to);
        let (gt, dp, gq) = match rng.u64(..40) {
            0 => ("0/0", 0, 0), // uncovered
            1 => ("./.", 3, 0), // no call
            _ => {
                let d = 5 + rng.u64(..30) as u32;
                ("0/0", d, (3 * d).min(99))
            }
        };
        let _ = writeln!(
            out,
            "chrT\t{}\t.\t{}\t<NON_REF>\t.\t.\tEND={}\tGT:DP:GQ:MIN_DP:PL\t{gt}:{dp}:{gq}:{dp}:0,{gq},{}",
            p + 1,
            seq[p] as char,
            e,
            gq * 10
        );
        p = e;
    }
}

/// One sample's gVCF text.
fn sample_gvcf(rng: &mut Rng, seq: &[u8], pool: &[PoolVariant], name: &str) -> String {
    let mut out = header(name);
    let mut covered = 0usize; // first base not yet written
    let mut i = 0;
    while i < pool.len() {
        // The pool variants at one position; a sample carries at most two of them.
        let pos = pool[i].pos;
        let j = pool[i..].iter().take_while(|v| v.pos == pos).count() + i;
        let mut carried: Vec<&PoolVariant> = Vec::new();
        for v in &pool[i..j] {
            for _ in 0..2 {
                if (rng.u64(..10_000) as f64) < v.freq * 10_000.0 && carried.len() < 2 {
                    carried.push(v);
                }
            }
        }
        i = j;
        // A variant record with a ref call now and then (the sample's alleles considered).
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
        let gt = if ref_call {
            "0/0".to_string()
        } else if carried.len() == 2 && alts.len() == 2 {
            "1/2".to_string()
        } else if carried.len() == 2 {
            "1/1".to_string()
        } else {
            "0/1".to_string()
        };
        blocks(rng, seq, covered, pos, &mut out);
        let n = alts.len() + 2; // REF, ALTs, <NON_REF>
        let pl: Vec<String> = (0..n * (n + 1) / 2)
            .map(|k| if k == 0 { 0 } else { 10 + 7 * k }.to_string())
            .collect();
        let ad: Vec<String> = (0..n).map(|k| (3 * k).to_string()).collect();
        let _ = writeln!(
            out,
            "chrT\t{}\t.\t{reference}\t{},<NON_REF>\t50\t.\t.\tGT:AD:DP:GQ:PL\t{gt}:{}:20:40:{}",
            pos + 1,
            alts.join(","),
            ad.join(","),
            pl.join(",")
        );
        covered = pos + reference.len();
    }
    blocks(rng, seq, covered, LEN, &mut out);
    out
}

struct Cohort {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    reference: PathBuf,
    sheet: PathBuf,
    gvcfs: Vec<PathBuf>,
}

fn cohort() -> Cohort {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let mut rng = Rng::with_seed(2026);
    let seq: Vec<u8> = genoa::genome::random_bases(&mut rng, LEN)
        .iter()
        .map(|&b| b"ACGT"[b as usize])
        .collect();
    let mut fa = String::from(">chrT\n");
    for c in seq.chunks(60) {
        fa.push_str(std::str::from_utf8(c).unwrap());
        fa.push('\n');
    }
    let reference = d.join("ref.fa");
    std::fs::write(&reference, fa).unwrap();
    let pool = pool(&mut rng, &seq);
    let mut gvcfs = Vec::new();
    let mut sheet = String::from("sample\tcountry\tsex\n");
    for s in 0..SAMPLES {
        let name = format!("S{s:02}");
        let plain = d.join(format!("{name}.g.vcf"));
        std::fs::write(&plain, sample_gvcf(&mut rng, &seq, &pool, &name)).unwrap();
        let o = tool("bgzip", &["-f", plain.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let gz = d.join(format!("{name}.g.vcf.gz"));
        let o = tool("tabix", &["-p", "vcf", gz.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        gvcfs.push(gz);
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

fn records(path: &Path) -> Vec<String> {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn aggregate_equals_brute_force_and_is_deterministic_and_shardable() {
    let c = cohort();
    let out = aggregate(&c, "cohort", &[]);
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
    args.extend(c.gvcfs.iter().map(|g| g.to_str().unwrap().to_string()));
    let o = Command::new("python3").args(&args).output().unwrap();
    let report = text(&o.stdout);
    eprintln!("{report}");
    assert!(o.status.success(), "{report}{}", text(&o.stderr));
    assert!(
        report.contains(&format!("MATCH {}", af_records.len())),
        "{report}"
    );
    assert!(
        report.contains(&format!("MATCH {} (cohort", cohort_records.len())),
        "{report}"
    );
    // The small group is reported only as suppressed; the sanitised key is there.
    let af_text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&af).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    assert!(af_text.contains("##genoaSuppressedGroup=<ID=country_EE,Samples=2>"));
    assert!(!af_text.contains("AC_country_EE"));
    assert!(af_text.contains("AC_country_C_te_d_Ivoire="));
    // bcftools reads both.
    for f in [&vcf, &af] {
        let o = tool("bcftools", &["view", "-H", f.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    // One thread and tiny windows: the same records.
    let small = aggregate(&c, "small", &["-@", "1", "--window", "1000"]);
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
        let s = aggregate(&c, &format!("shard{k}"), &["--region", r]);
        vs.extend(records(Path::new(&format!("{}.vcf.gz", s.display()))));
        afs.extend(records(Path::new(&format!("{}.af.vcf.gz", s.display()))));
    }
    assert_eq!(vs, cohort_records);
    assert_eq!(afs, af_records);
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
    // Nothing was written under a final name.
    assert!(
        files_in(&c.dir.join("bad"))
            .iter()
            .all(|f| !f.ends_with(".vcf.gz"))
    );
}
