//! The malformed-input corpus: well over 100 broken inputs, built from the demo data by seeded,
//! deterministic edits (truncations, flipped bytes, broken lines, wrong companions, hostile
//! names) across every file a user hands genoa: FASTQ, FASTA, BAM and its index, gVCF and its
//! index (validate and aggregate), Crypt4GH files and keys, the QC JSON and policy, BED files,
//! sample sheets and read groups. Each case must fail with exit code 1, one `genoa: error:`
//! line whose text names its error class, no panic, and nothing — no output under its final
//! name, no temporary — in its output directory.
//!
//! `GENOA_CORPUS_PRINT=1 cargo test --test genoa malformed -- --nocapture` prints every case's
//! message.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::common::{demo_dir, demo_run, files_in, genoa, tool};

struct Case {
    name: String,
    args: Vec<String>,
    /// The error line must contain one of these (its class).
    expect: Vec<&'static str>,
    out: PathBuf,
}

struct Corpus {
    dir: tempfile::TempDir,
    cases: Vec<Case>,
}

impl Corpus {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    /// A fresh output directory for the next case.
    fn out(&self) -> PathBuf {
        let p = self.path(&format!("out-{:03}", self.cases.len()));
        std::fs::create_dir(&p).unwrap();
        p
    }
    fn add(
        &mut self,
        name: impl Into<String>,
        out: PathBuf,
        args: &[&str],
        expect: &[&'static str],
    ) {
        self.cases.push(Case {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            expect: expect.to_vec(),
            out,
        });
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(p).unwrap()),
        &mut v,
    )
    .unwrap();
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The first `n` records (4 lines each) of a FASTQ text.
fn head_records(text: &[u8], n: usize) -> Vec<u8> {
    let mut lines = 0;
    for (i, b) in text.iter().enumerate() {
        if *b == b'\n' {
            lines += 1;
            if lines == 4 * n {
                return text[..=i].to_vec();
            }
        }
    }
    text.to_vec()
}

/// Replaces line `k` (0-based) of `text`.
fn with_line(text: &[u8], k: usize, f: impl Fn(&str) -> String) -> Vec<u8> {
    let t = String::from_utf8_lossy(text);
    let mut out = String::new();
    for (i, l) in t.split_inclusive('\n').enumerate() {
        if i == k {
            let body = l.trim_end_matches('\n');
            out.push_str(&f(body));
            out.push('\n');
        } else {
            out.push_str(l);
        }
    }
    out.into_bytes()
}

/// The classes of a damaged BGZF file (cut short, or bytes flipped).
const DAMAGED: &[&str] = &[
    "ends early",
    "does not decompress",
    "not a BGZF block",
    "damaged",
    "does not match",
];

/// `cuts` copies of `data` cut short and `flips` with 16 bytes flipped, each with `index`
/// beside it (`NAME.EXT` + `index_ext`): (description, path).
#[allow(clippy::too_many_arguments)]
fn damaged(
    c: &Corpus,
    rng: &mut fastrand::Rng,
    data: &[u8],
    index: &[u8],
    ext: &str,
    index_ext: &str,
    cuts: usize,
    flips: usize,
) -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    for k in 0..cuts + flips {
        let (name, bytes) = if k < cuts {
            let at = rng.usize(data.len() / 10..data.len() - 30);
            (
                format!("cut at byte {at} of {}", data.len()),
                data[..at].to_vec(),
            )
        } else {
            let at = rng.usize(data.len() / 5..data.len() - 100);
            let mut b = data.to_vec();
            for x in &mut b[at..at + 16] {
                *x ^= 0x5a;
            }
            (format!("with 16 bytes flipped at {at}"), b)
        };
        let p = c.write(&format!("damaged{k}.{ext}"), bytes);
        c.write(&format!("damaged{k}.{ext}{index_ext}"), index);
        v.push((name, p));
    }
    v
}

fn fastq_cases(c: &mut Corpus, rng: &mut fastrand::Rng) {
    let d = demo_dir();
    let reference = d.join("ref.fa");
    let r1 = head_records(&gunzip(&d.join("R1.fastq.gz")), 300);
    let r2 = head_records(&gunzip(&d.join("R2.fastq.gz")), 300);
    let good2 = c.write("good_R2.fq", &r2);
    let good1 = c.write("good_R1.fq", &r1);
    let align = |c: &mut Corpus, name: String, a: &Path, b: &Path, expect: &[&'static str]| {
        let out = c.out();
        let bam = out.join("x.bam");
        c.add(
            name,
            out.clone(),
            &[
                "align",
                "-r",
                s(&reference),
                "-1",
                s(a),
                "-2",
                s(b),
                "-R",
                "@RG\\tID:a\\tSM:a",
                "-o",
                s(&bam),
            ],
            expect,
        );
    };
    // Truncations inside a record (never at a record boundary).
    for k in 0..12 {
        let mut at = rng.usize(r1.len() / 4..r1.len() - 2);
        while at > 0 && r1[at - 1] == b'\n' && r1.get(at) == Some(&b'@') {
            at += 1;
        }
        let p = c.write(&format!("trunc{k}_R1.fq"), &r1[..at]);
        align(
            c,
            format!("FASTQ cut at byte {at}"),
            &p,
            &good2,
            &["truncated", "quality length", "same number of reads"],
        );
    }
    // gzip streams cut short.
    let gz = gzip(&r1);
    for k in 0..6 {
        let at = rng.usize(20..gz.len() - 8);
        let p = c.write(&format!("trunc{k}_R1.fq.gz"), &gz[..at]);
        align(
            c,
            format!("gzip FASTQ cut at byte {at} of {}", gz.len()),
            &p,
            &good2,
            &["truncated"],
        );
    }
    // Line-level damage.
    let n_lines = r1.iter().filter(|b| **b == b'\n').count();
    for k in 0..6 {
        let rec = rng.usize(1..n_lines / 4 - 1);
        let ch = [b'Z', b'J', b'1', b'-', b'#', b'x'][k] as char;
        let p = c.write(
            &format!("base{k}_R1.fq"),
            with_line(&r1, 4 * rec + 1, |l| format!("{ch}{}", &l[1..])),
        );
        align(
            c,
            format!("invalid base {ch:?}"),
            &p,
            &good2,
            &["invalid base"],
        );
    }
    for (k, q) in [' ', '\u{7f}', '\u{1}'].iter().enumerate() {
        let rec = rng.usize(1..n_lines / 4 - 1);
        let p = c.write(
            &format!("qual{k}_R1.fq"),
            with_line(&r1, 4 * rec + 3, |l| format!("{q}{}", &l[1..])),
        );
        align(
            c,
            format!("invalid quality {q:?}"),
            &p,
            &good2,
            &["invalid quality"],
        );
    }
    for k in 0..4 {
        let rec = rng.usize(1..n_lines / 4 - 1);
        let p = c.write(
            &format!("qlen{k}_R1.fq"),
            with_line(&r1, 4 * rec + 3, |l| l[..l.len() - 1 - k].to_string()),
        );
        align(
            c,
            "quality shorter than sequence".to_string(),
            &p,
            &good2,
            &["quality length"],
        );
    }
    let rec = rng.usize(1..n_lines / 4 - 1);
    let p = c.write(
        "noat_R1.fq",
        with_line(&r1, 4 * rec, |l| l[1..].to_string()),
    );
    align(
        c,
        "a name line without '@'".into(),
        &p,
        &good2,
        &["record", "invalid"],
    );
    let p = c.write(
        "noplus_R1.fq",
        with_line(&r1, 4 * rec + 2, |_| "-".to_string()),
    );
    align(
        c,
        "a '+' line replaced".into(),
        &p,
        &good2,
        &["record", "invalid"],
    );
    let p = c.write(
        "blank_R1.fq",
        with_line(&r1, 4 * rec + 3, |l| format!("{l}\n")),
    );
    align(
        c,
        "a blank line between records".into(),
        &p,
        &good2,
        &["blank line"],
    );
    let p = c.write(
        "name_R1.fq",
        with_line(&r1, 4 * rec, |_| "@someone_else".to_string()),
    );
    align(c, "mate names differ".into(), &p, &good2, &["names differ"]);
    let p = c.write("short_R2.fq", head_records(&r2, 299));
    align(
        c,
        "R2 one read short".into(),
        &good1,
        &p,
        &["same number of reads"],
    );
    let p = c.write("empty_R1.fq", b"");
    align(c, "empty R1".into(), &p, &good2, &["empty file"]);
    let p = c.write(
        "garbage_R1.fq",
        (0..4000).map(|_| rng.u8(..)).collect::<Vec<_>>(),
    );
    align(
        c,
        "binary garbage as R1".into(),
        &p,
        &good2,
        &["record", "invalid", "truncated"],
    );
    align(
        c,
        "R1 given as -1 and -2".into(),
        &good1,
        &good1,
        &["same file as -1"],
    );
    let missing = c.path("missing.fq");
    align(c, "R1 missing".into(), &missing, &good2, &["No such file"]);
    let dir = c.path("a_directory");
    std::fs::create_dir(&dir).unwrap();
    align(c, "R1 is a directory".into(), &dir, &good2, &["directory"]);
}

fn fasta_cases(c: &mut Corpus) {
    let d = demo_dir();
    let reads = (d.join("R1.fastq.gz"), d.join("R2.fastq.gz"));
    let text = std::fs::read(d.join("ref.fa")).unwrap();
    let add = |c: &mut Corpus, name: &str, bytes: Vec<u8>, expect: &[&'static str]| {
        let fa = c.write(&format!("{}.fa", name.replace(' ', "_")), bytes);
        let out = c.out();
        let bam = out.join("x.bam");
        c.add(
            format!("FASTA: {name}"),
            out.clone(),
            &[
                "align",
                "-r",
                s(&fa),
                "-1",
                s(&reads.0),
                "-2",
                s(&reads.1),
                "-R",
                "@RG\\tID:a\\tSM:a",
                "-o",
                s(&bam),
            ],
            expect,
        );
    };
    // A gzipped FASTA is read (tests/genoa/align.rs); one cut short is not.
    let zipped = gzip(&text);
    add(
        c,
        "gzipped, cut short",
        zipped[..zipped.len() / 2].to_vec(),
        &["compressed data ends early"],
    );
    add(c, "empty", Vec::new(), &["empty file"]);
    add(
        c,
        "no header line",
        text[text.iter().position(|b| *b == b'\n').unwrap() + 1..].to_vec(),
        &["not a FASTA"],
    );
    let mut dup = text.clone();
    dup.extend_from_slice(&text);
    add(c, "a contig twice", dup, &["appears twice"]);
    let mut bad = text.clone();
    let at = bad.iter().position(|b| *b == b'\n').unwrap() + 10;
    bad[at] = b'7';
    add(c, "a digit in the sequence", bad, &["invalid character"]);
    let mut empty_seq = b">empty\n".to_vec();
    empty_seq.extend_from_slice(&text);
    add(c, "an empty sequence", empty_seq, &["empty sequence"]);
    add(c, "binary", vec![0u8, 1, 2, 3, 255, 254], &["not a FASTA"]);
}

fn bam_cases(c: &mut Corpus, rng: &mut fastrand::Rng) {
    let run = demo_run("formats", &[]);
    let reference = demo_dir().join("ref.fa");
    let bam = std::fs::read(run.join("SAMPLE.bam")).unwrap();
    let bai = std::fs::read(run.join("SAMPLE.bam.bai")).unwrap();
    let call = |c: &mut Corpus, name: String, input: &Path, expect: &[&'static str]| {
        let out = c.out();
        let g = out.join("x.g.vcf.gz");
        c.add(
            name,
            out.clone(),
            &["call", "-r", s(&reference), "-i", s(input), "-o", s(&g)],
            expect,
        );
    };
    for (name, p) in damaged(c, rng, &bam, &bai, "bam", ".bai", 8, 6) {
        call(c, format!("BAM {name}"), &p, DAMAGED);
    }
    // A BAM rewritten (half its reads) beside its old index.
    let half = c.path("stale.bam");
    let o = tool(
        "samtools",
        &[
            "view",
            "-b",
            "-s",
            "7.5",
            "-o",
            s(&half),
            s(&run.join("SAMPLE.bam")),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    c.write("stale.bam.bai", &bai);
    call(
        c,
        "BAM rewritten beside its old index".into(),
        &half,
        &["rebuild the index", "ends early", "damaged"],
    );
    let p = c.write("noindex.bam", &bam);
    call(c, "BAM without an index".into(), &p, &["no index"]);
    let p = c.write("badindex.bam", &bam);
    c.write("badindex.bam.bai", &bai[..bai.len() / 2]);
    call(
        c,
        "BAM with a cut index".into(),
        &p,
        &["not a readable BAM index"],
    );
    let p = c.write("text.bam", b"@HD\tVN:1.6\n");
    c.write("text.bam.bai", &bai);
    call(
        c,
        "SAM text named .bam".into(),
        &p,
        &["BAM", "BGZF", "damaged"],
    );
    let p = c.write("empty.bam", b"");
    c.write("empty.bam.bai", &bai);
    call(c, "empty BAM".into(), &p, &["BAM", "ends early", "empty"]);
    let ok_bam = c.write("ok.bam", &bam);
    c.write("ok.bam.bai", &bai);
    // (A region reaching past a contig's end is clamped, as samtools and bcftools do.)
    for (name, region, expect) in [
        ("unknown contig", "chrNope:1-10", &["chrNope"][..]),
        (
            "end before start",
            "NC_001416.1:50-10",
            &["begins after it ends"][..],
        ),
        ("not a number", "NC_001416.1:a-b", &["1-based position"][..]),
    ] {
        let out = c.out();
        let g = out.join("x.g.vcf.gz");
        c.add(
            format!("call --region {name}"),
            out.clone(),
            &[
                "call",
                "-r",
                s(&reference),
                "-i",
                s(&ok_bam),
                "-o",
                s(&g),
                "--region",
                region,
            ],
            expect,
        );
    }
    for (k, (name, bed, expect)) in [
        (
            "BED with 2 columns",
            "NC_001416.1\t5\n",
            &["(line 1): expected chrom"][..],
        ),
        (
            "BED end before start",
            "NC_001416.1\t50\t10\n",
            &["(line 1): interval 50-10"][..],
        ),
        (
            "BED unknown contig",
            "chrZ\t1\t10\n",
            &["(line 1): contig chrZ"][..],
        ),
        (
            "BED not numbers",
            "NC_001416.1\tx\ty\n",
            &["(line 1): \"x\" is not"][..],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let p = c.write(&format!("r{k}.bed"), bed);
        let out = c.out();
        let g = out.join("x.g.vcf.gz");
        c.add(
            format!("call --regions {name}"),
            out.clone(),
            &[
                "call",
                "-r",
                s(&reference),
                "-i",
                s(&ok_bam),
                "-o",
                s(&g),
                "--regions",
                s(&p),
            ],
            expect,
        );
        let out = c.out();
        let g = out.join("x.g.vcf.gz");
        c.add(
            format!("call --par-bed {name}"),
            out.clone(),
            &[
                "call",
                "-r",
                s(&reference),
                "-i",
                s(&ok_bam),
                "-o",
                s(&g),
                "--par-bed",
                s(&p),
            ],
            expect,
        );
    }
    for name in ["a\tb", "a\nb", "", "x/y"] {
        let out = c.out();
        let g = out.join("x.g.vcf.gz");
        c.add(
            format!("call -s {name:?}"),
            out.clone(),
            &[
                "call",
                "-r",
                s(&reference),
                "-i",
                s(&ok_bam),
                "-o",
                s(&g),
                "-s",
                name,
            ],
            &["sample name"],
        );
    }
    let out = c.out();
    c.add(
        "call -o the input BAM",
        out.clone(),
        &[
            "call",
            "-r",
            s(&reference),
            "-i",
            s(&ok_bam),
            "-o",
            s(&ok_bam),
        ],
        &["never writes over an input"],
    );
}

fn gvcf_cases(c: &mut Corpus, rng: &mut fastrand::Rng) {
    let run = demo_run("formats", &[]);
    let reference = demo_dir().join("ref.fa");
    let gz = std::fs::read(run.join("SAMPLE.g.vcf.gz")).unwrap();
    let tbi = std::fs::read(run.join("SAMPLE.g.vcf.gz.tbi")).unwrap();
    let both = |c: &mut Corpus, name: String, g: &Path, expect: &[&'static str]| {
        let out = c.out();
        c.add(
            format!("validate: {name}"),
            out.clone(),
            &["validate", s(g), "-r", s(&reference)],
            expect,
        );
        let prefix = out.join("cohort");
        c.add(
            format!("aggregate: {name}"),
            out.clone(),
            &["aggregate", "-r", s(&reference), "-o", s(&prefix), s(g)],
            expect,
        );
    };
    for (name, p) in damaged(c, rng, &gz, &tbi, "g.vcf.gz", ".tbi", 6, 5) {
        both(c, format!("gVCF {name}"), &p, DAMAGED);
    }
    // aggregate only: index problems, text-level damage.
    let text = gunzip(&run.join("SAMPLE.g.vcf.gz"));
    let agg = |c: &mut Corpus, name: &str, g: &Path, expect: &[&'static str]| {
        let out = c.out();
        let prefix = out.join("cohort");
        c.add(
            format!("aggregate: {name}"),
            out.clone(),
            &["aggregate", "-r", s(&reference), "-o", s(&prefix), s(g)],
            expect,
        );
    };
    let p = c.write("noindex.g.vcf.gz", &gz);
    agg(c, "no index", &p, &["no .tbi or .csi index"]);
    let bgzip = |c: &Corpus, name: &str, text: &[u8]| -> PathBuf {
        let plain = c.write(name, text);
        let o = tool("bgzip", &["-f", s(&plain)]);
        assert!(o.status.success());
        let gz = PathBuf::from(format!("{}.gz", plain.display()));
        let o = tool("tabix", &["-f", "-p", "vcf", s(&gz)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        gz
    };
    let moved = String::from_utf8_lossy(&text).replacen("##source", "##x=1\n##source", 1);
    let p = bgzip(c, "moved.g.vcf", moved.as_bytes());
    std::fs::write(format!("{}.tbi", p.display()), &tbi).unwrap();
    agg(c, "the index of another file", &p, &["does not match"]);
    let lines: Vec<&str> = std::str::from_utf8(&text).unwrap().lines().collect();
    let body: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with('#'))
        .collect();
    let header: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with('#'))
        .collect();
    let mut swapped = body.clone();
    swapped.swap(10, 400);
    let unsorted = format!("{}\n{}\n", header.join("\n"), swapped.join("\n"));
    let p = c.write("unsorted.g.vcf", &unsorted);
    let o = tool("bgzip", &["-f", s(&p)]);
    assert!(o.status.success());
    let p = PathBuf::from(format!("{}.gz", p.display()));
    std::fs::write(format!("{}.tbi", p.display()), &tbi).unwrap();
    agg(
        c,
        "records out of order",
        &p,
        &["out of order", "does not match"],
    );
    let no_chrom: Vec<&str> = header
        .iter()
        .copied()
        .filter(|l| !l.starts_with("#CHROM"))
        .collect();
    let p = bgzip(
        c,
        "nochrom.g.vcf",
        format!("{}\n", no_chrom.join("\n")).as_bytes(),
    );
    agg(c, "no #CHROM line", &p, &["no #CHROM"]);
    let two = lines
        .iter()
        .map(|l| {
            if l.starts_with("#CHROM") {
                format!("{l}\tOTHER")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let p = bgzip(c, "two.g.vcf", format!("{two}\n").as_bytes());
    agg(c, "two sample columns", &p, &["sample columns"]);
    let renamed = String::from_utf8_lossy(&text).replace("NC_001416.1", "chrQ");
    let p = bgzip(c, "renamed.g.vcf", renamed.as_bytes());
    agg(
        c,
        "a contig the reference lacks",
        &p,
        &["not in the reference"],
    );
    let plain = c.write("plain.g.vcf.gz", &text);
    c.write("plain.g.vcf.gz.tbi", &tbi);
    agg(c, "plain text named .gz", &plain, &["BGZF"]);
    let good = c.write("good.g.vcf.gz", &gz);
    c.write("good.g.vcf.gz.tbi", &tbi);
    let out = c.out();
    for (k, (name, sheet)) in [
        (
            "sample sheet without a sample column",
            "name\tcountry\nSAMPLE\tFI\n",
        ),
        (
            "sample sheet with a ragged row",
            "sample\tcountry\nSAMPLE\n",
        ),
        ("empty sample sheet", ""),
    ]
    .into_iter()
    .enumerate()
    {
        let p = c.write(&format!("sheet{k}.tsv"), sheet);
        let prefix = out.join("cohort");
        c.add(
            format!("aggregate: {name}"),
            out.clone(),
            &[
                "aggregate",
                "-r",
                s(&reference),
                "-o",
                s(&prefix),
                "--samples",
                s(&p),
                s(&good),
            ],
            &["sheet", "sample", "line", "column"],
        );
    }
    let prefix = out.join("cohort");
    let list = c.write(
        "list.txt",
        format!("{}\n{}\n", s(&good), s(&c.path("nope.g.vcf.gz"))),
    );
    c.add(
        "aggregate: --gvcf-list naming a missing file",
        out.clone(),
        &[
            "aggregate",
            "-r",
            s(&reference),
            "-o",
            s(&prefix),
            "--gvcf-list",
            s(&list),
        ],
        &["No such file"],
    );
    c.add(
        "aggregate -o the input's own name",
        out.clone(),
        &[
            "aggregate",
            "-r",
            s(&reference),
            "-o",
            s(&c.path("good.g")),
            s(&good),
        ],
        &["never writes over an input"],
    );
    // validate: not gzip, not text.
    let out = c.out();
    let p = c.write("garbage.g.vcf.gz", [0x1f, 0x8b, 8, 0, 0, 0]);
    c.add(
        "validate: a gzip header and nothing else",
        out,
        &["validate", s(&p), "-r", s(&reference)],
        &["ends early", "damaged", "does not decompress"],
    );
}

fn crypt4gh_cases(c: &mut Corpus, rng: &mut fastrand::Rng) {
    let (sk, pk) = (c.path("k.sec"), c.path("k.pub"));
    let o = genoa(&["keygen", "--sk", s(&sk), "--pk", s(&pk), "--nocrypt"]);
    assert!(o.status.success());
    let plain = c.write(
        "p.bin",
        (0..150_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
    );
    let enc = c.path("p.bin.c4gh");
    let o = genoa(&[
        "encrypt",
        s(&plain),
        "--recipient-pk",
        s(&pk),
        "-o",
        s(&enc),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&enc).unwrap();
    let decrypt =
        |c: &mut Corpus, name: String, input: &Path, key: &Path, expect: &[&'static str]| {
            let out = c.out();
            let o = out.join("p.bin");
            c.add(
                format!("decrypt: {name}"),
                out.clone(),
                &["decrypt", s(input), "--sk", s(key), "-o", s(&o)],
                expect,
            );
        };
    for (k, at) in [0usize, 5, 12, 20, 60, 100].into_iter().enumerate() {
        let p = c.write(&format!("head{k}.c4gh"), &bytes[..at.min(bytes.len())]);
        decrypt(
            c,
            format!("cut in the header at byte {at}"),
            &p,
            &sk,
            &["header", "Crypt4GH", "truncated", "ends", "magic"],
        );
    }
    for k in 0..6 {
        let at = rng.usize(200..bytes.len() - 20);
        let p = c.write(&format!("mid{k}.c4gh"), &bytes[..at]);
        decrypt(
            c,
            format!("cut inside a segment at byte {at}"),
            &p,
            &sk,
            &["segment", "truncated", "authenticat"],
        );
    }
    for k in 0..6 {
        let mut b = bytes.clone();
        let at = rng.usize(200..bytes.len());
        b[at] ^= 1 << rng.u32(0..8);
        let p = c.write(&format!("flip{k}.c4gh"), &b);
        decrypt(
            c,
            format!("one bit flipped at byte {at}"),
            &p,
            &sk,
            &["segment", "authenticat"],
        );
    }
    let (sk2, pk2) = (c.path("other.sec"), c.path("other.pub"));
    let o = genoa(&["keygen", "--sk", s(&sk2), "--pk", s(&pk2), "--nocrypt"]);
    assert!(o.status.success());
    decrypt(
        c,
        "another recipient's key".into(),
        &enc,
        &sk2,
        &["key", "recipient", "header"],
    );
    let bad_key = c.write(
        "bad.sec",
        "-----BEGIN CRYPT4GH PRIVATE KEY-----\nAAAA\n-----END CRYPT4GH PRIVATE KEY-----\n",
    );
    decrypt(c, "a damaged secret key".into(), &enc, &bad_key, &["key"]);
    let not_key = c.write("notkey.sec", "hello\n");
    decrypt(
        c,
        "a secret key that is not one".into(),
        &enc,
        &not_key,
        &["key"],
    );
    let not_c4gh = c.write("text.c4gh", "just some text, not encrypted\n");
    decrypt(
        c,
        "a file that is not Crypt4GH".into(),
        &not_c4gh,
        &sk,
        &["Crypt4GH", "magic", "header"],
    );
    let out = c.out();
    let bad_pk = c.write("bad.pub", "not a key\n");
    c.add(
        "encrypt: a recipient key that is not one",
        out.clone(),
        &[
            "encrypt",
            s(&plain),
            "--recipient-pk",
            s(&bad_pk),
            "-o",
            s(&out.join("x.c4gh")),
        ],
        &["key"],
    );
    c.add(
        "encrypt -o the input",
        out.clone(),
        &[
            "encrypt",
            s(&plain),
            "--recipient-pk",
            s(&pk),
            "-o",
            s(&plain),
        ],
        &["exists already", "never writes over an input"],
    );
}

fn qc_and_run_cases(c: &mut Corpus) {
    let run = demo_run("formats", &[]);
    let qc = run.join("SAMPLE.qc.json");
    let out = c.out();
    for (k, (name, toml, expect)) in [
        (
            "policy TOML syntax error",
            "[[rule\nmetric = 1\n",
            &["line 1: unclosed"][..],
        ),
        (
            "policy rule without a metric",
            "[[rule]]\nmin = 1\n",
            &["metric"][..],
        ),
        (
            "policy rule with an unknown field",
            "[[rule]]\nmetric = \"wgs_qc_metrics.mean_autosome_coverage\"\nop = \"about\"\n",
            &["unknown field `op`"][..],
        ),
        (
            "policy with a string threshold",
            "[[rule]]\nmetric = \"wgs_qc_metrics.mean_autosome_coverage\"\nmin = \"high\"\n",
            &["line 3", "invalid type"][..],
        ),
        ("empty policy", "", &["no [[rule]] entries"][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let p = c.write(&format!("policy{k}.toml"), toml);
        c.add(
            format!("qc: {name}"),
            out.clone(),
            &["qc", s(&qc), "--policy", s(&p)],
            expect,
        );
    }
    let text = std::fs::read_to_string(&qc).unwrap();
    for (k, (name, json)) in [
        ("QC JSON cut in half", text[..text.len() / 2].to_string()),
        ("QC JSON that is an array", "[1, 2]".to_string()),
        ("QC JSON empty", String::new()),
    ]
    .into_iter()
    .enumerate()
    {
        let p = c.write(&format!("qc{k}.json"), json);
        c.add(
            format!("qc: {name}"),
            out.clone(),
            &["qc", s(&p)],
            &["invalid JSON", "not a QC JSON"],
        );
    }
    let d = demo_dir();
    let (reference, r1, r2) = (
        d.join("ref.fa"),
        d.join("R1.fastq.gz"),
        d.join("R2.fastq.gz"),
    );
    let run_out = c.path("run-out");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "run",
            "-r",
            s(&reference),
            "-1",
            s(&r1),
            "-2",
            s(&r2),
            "-o",
            s(&run_out),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    };
    for (name, extra, expect) in [
        (
            "read group without SM",
            vec!["-s", "S", "-R", "@RG\\tID:x"],
            &["SM"][..],
        ),
        (
            "read group SM differs from the sample",
            vec!["-s", "S", "-R", "@RG\\tID:x\\tSM:T"],
            &["differs"][..],
        ),
        (
            "read group not starting with @RG",
            vec!["-s", "S", "-R", "ID:x\\tSM:S"],
            &["@RG", "read group"][..],
        ),
        (
            "sample name with a tab",
            vec!["-s", "A\tB"],
            &["sample name"][..],
        ),
        (
            "sample name with a slash",
            vec!["-s", "a/b"],
            &["sample name"][..],
        ),
        (
            "--tmp-dir that does not exist",
            vec!["-s", "S", "--tmp-dir", "/nonexistent/genoa/x"],
            &["--tmp-dir"][..],
        ),
        (
            "--shard 3/2",
            vec!["-s", "S", "--shard", "3/2"],
            &["shard"][..],
        ),
        (
            "--sex XXY",
            vec!["-s", "S", "--sex", "XXY"],
            &["XX, XY or auto"][..],
        ),
        ("-m 0", vec!["-s", "S", "-m", "0"], &["positive size"][..]),
    ] {
        let out = c.out();
        let mut args = base(&extra);
        let o = args.iter().position(|a| a == "-o").unwrap();
        args[o + 1] = s(&out.join("o")).to_string();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.add(format!("run: {name}"), out.clone(), &refs, expect);
    }
    let out = c.out();
    let file = c.write("a-file", b"x");
    c.add(
        "run -o naming a file",
        out,
        &[
            "run",
            "-r",
            s(&reference),
            "-1",
            s(&r1),
            "-2",
            s(&r2),
            "-s",
            "S",
            "-o",
            s(&file),
        ],
        &["is a file, not a directory"],
    );
}

#[test]
fn every_malformed_input_fails_with_one_line_of_its_class_and_leaves_nothing() {
    let mut c = Corpus {
        dir: tempfile::tempdir().unwrap(),
        cases: Vec::new(),
    };
    let mut rng = fastrand::Rng::with_seed(20);
    fastq_cases(&mut c, &mut rng);
    fasta_cases(&mut c);
    bam_cases(&mut c, &mut rng);
    gvcf_cases(&mut c, &mut rng);
    crypt4gh_cases(&mut c, &mut rng);
    qc_and_run_cases(&mut c);
    assert!(c.cases.len() >= 100, "{} cases", c.cases.len());
    let print = std::env::var_os("GENOA_CORPUS_PRINT").is_some();
    let mut failures = Vec::new();
    let results: Vec<(usize, std::process::Output)> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<usize>> = (0..4)
            .map(|t| (t..c.cases.len()).step_by(4).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|idx| {
                let cases = &c.cases;
                scope.spawn(move || {
                    idx.into_iter()
                        .map(|i| {
                            let args: Vec<&str> =
                                cases[i].args.iter().map(String::as_str).collect();
                            (i, genoa(&args))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut results = results;
    results.sort_by_key(|(i, _)| *i);
    for (i, o) in &results {
        let case = &c.cases[*i];
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        // validate prints its report on stdout and exits 1 with no error line: that is a
        // failure of the file, not of genoa, and is allowed only where asked for.
        let line = err.trim_end().lines().last().unwrap_or("").to_string();
        if print {
            println!("{:3} {:55} | {}", i, case.name, line);
        }
        let mut problems = Vec::new();
        if o.status.code() != Some(1) {
            problems.push(format!("exit {:?}", o.status.code()));
        }
        if err.contains("panicked") {
            problems.push("panic".into());
        }
        if err.trim_end().lines().count() != 1 || !err.starts_with("genoa: error: ") {
            problems.push("not one `genoa: error:` line".into());
        }
        let lower = line.to_lowercase();
        if !case
            .expect
            .iter()
            .any(|e| lower.contains(&e.to_lowercase()))
        {
            problems.push(format!("class not one of {:?}", case.expect));
        }
        let left = files_in(&case.out);
        if !left.is_empty() {
            problems.push(format!("left {left:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({}): {} — {}",
                i,
                case.name,
                problems.join(", "),
                err.trim_end()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        c.cases.len(),
        failures.join("\n")
    );
}
