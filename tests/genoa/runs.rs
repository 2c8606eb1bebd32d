//! Whole runs of the binary: accuracy against the planted truth, identical output across
//! thread counts, batch sizes and backends, `demo` from any directory, `backends`.

use std::io::Read;
use std::path::Path;

use super::common::{demo_dir, demo_run, genoa, gpu};

/// gVCF body (every line but `##` meta lines, which name paths and the command line).
pub fn gvcf_records(dir: &Path) -> String {
    let f = std::fs::File::open(dir.join("SAMPLE.g.vcf.gz")).unwrap();
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .filter(|l| !l.starts_with("##"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// BAM records as htslib sees them (no header, which holds the command line).
pub fn bam_records(dir: &Path) -> Vec<Vec<u8>> {
    use rust_htslib::bam::Read as _;
    let mut reader = rust_htslib::bam::Reader::from_path(dir.join("SAMPLE.bam")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            // Every field of the record: the raw BAM bytes of name, CIGAR, sequence, qualities
            // and tags, plus the fixed fields.
            let mut v = format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
                r.tid(),
                r.pos(),
                r.flags(),
                r.mapq(),
                r.mtid(),
                r.mpos(),
                r.insert_size(),
                r.cigar()
            )
            .into_bytes();
            v.extend_from_slice(r.qname());
            v.extend_from_slice(&r.seq().as_bytes());
            v.extend_from_slice(r.qual());
            for aux in r.aux_iter() {
                let (tag, value) = aux.unwrap();
                v.extend_from_slice(tag);
                v.extend_from_slice(format!("{value:?}").as_bytes());
            }
            v
        })
        .collect()
}

#[test]
fn demo_run_finds_the_planted_variants() {
    let out = demo_run("accuracy", &["--backend", "scalar"]);
    let truth = genoa::report::read_vcf_variants(&demo_dir().join("truth.vcf.gz")).unwrap();
    let calls = genoa::report::read_vcf_variants(&out.join("SAMPLE.g.vcf.gz")).unwrap();
    let (snp, indel) = genoa::report::concordance(&truth, &calls);
    assert!(snp.true_positives >= 45, "{snp:?}");
    assert!(
        snp.recall() >= 0.98 && snp.precision() >= 0.98,
        "SNP {snp:?}"
    );
    assert!(
        indel.recall() >= 0.8 && indel.precision() >= 0.8,
        "indel {indel:?}"
    );
    let records = bam_records(&out);
    assert_eq!(records.len(), 2 * 3_230);
    let mapped = records
        .iter()
        .filter(|r| {
            r.split(|&b| b == b'\t')
                .nth(2)
                .is_some_and(|f| std::str::from_utf8(f).unwrap().parse::<u16>().unwrap() & 4 == 0)
        })
        .count();
    assert!(mapped as f64 >= 0.98 * records.len() as f64, "{mapped}");
}

#[test]
fn output_is_identical_across_threads_and_batch_sizes() {
    let a = demo_run("t1", &["--backend", "scalar", "--threads", "1"]);
    let b = demo_run(
        "t2",
        &[
            "--backend",
            "scalar",
            "--threads",
            "2",
            "--batch-pairs",
            "777",
            "-m",
            "64K",
        ],
    );
    assert_eq!(gvcf_records(&a), gvcf_records(&b));
    assert_eq!(bam_records(&a), bam_records(&b));
}

/// `genoa run` on the demo data into `out`, with `extra` arguments.
fn run_demo_into(out: &Path, extra: &[&str]) -> std::process::Output {
    let d = demo_dir();
    let (r, r1, r2) = (
        d.join("ref.fa"),
        d.join("R1.fastq.gz"),
        d.join("R2.fastq.gz"),
    );
    let mut args = vec![
        "run",
        "-r",
        r.to_str().unwrap(),
        "-1",
        r1.to_str().unwrap(),
        "-2",
        r2.to_str().unwrap(),
        "-s",
        "SAMPLE",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    genoa(&args)
}

/// More threads than the CPUs are capped there, with a warning, not started (`-@ 100000` once
/// started 100,000 threads); the output is the same.
#[test]
fn a_huge_thread_count_is_capped_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run_demo_into(&out, &["--backend", "scalar", "-@", "100000"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("100000 worker threads requested: capped at"),
        "{stderr}"
    );
    let a = demo_run("t1", &["--backend", "scalar", "--threads", "1"]);
    assert_eq!(gvcf_records(&a), gvcf_records(&out));
    assert_eq!(bam_records(&a), bam_records(&out));
}

/// Settings out of range are refused, not clamped.
#[test]
fn out_of_range_settings_are_errors() {
    let d = demo_dir();
    let reference = d.join("ref.fa");
    let r1 = d.join("R1.fastq.gz");
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "run",
        "-r",
        reference.to_str().unwrap(),
        "-1",
        r1.to_str().unwrap(),
        "--interleaved",
        "-s",
        "S",
        "-o",
        dir.path().to_str().unwrap(),
    ];
    for (flag, value) in [
        ("--segment-pairs", "100"),
        ("--batch-pairs", "0"),
        ("-m", "0"),
    ] {
        let mut args = base.to_vec();
        args.extend([flag, value]);
        let o = genoa(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(flag.trim_start_matches('-')) || stderr.contains("memory"),
            "{flag}: {stderr}"
        );
    }
}

#[test]
fn output_is_identical_across_backends() {
    let a = demo_run("t1", &["--backend", "scalar", "--threads", "1"]);
    let s = demo_run("simd", &["--backend", "simd", "--threads", "2"]);
    assert_eq!(gvcf_records(&a), gvcf_records(&s));
    assert_eq!(bam_records(&a), bam_records(&s));
    if gpu().is_some() {
        // Small batches: several go through the double-buffered (lookahead) path.
        let g = demo_run(
            "gpu",
            &["--backend", "gpu", "--threads", "2", "--batch-pairs", "400"],
        );
        assert_eq!(gvcf_records(&a), gvcf_records(&g));
        assert_eq!(bam_records(&a), bam_records(&g));
    }
}

#[test]
fn demo_runs_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args(["demo", "--backend", "scalar"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "reads            6460",
        "mapped",
        "variants called",
        "SNP    recall 1.0000 precision 1.0000",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    for f in [
        "SAMPLE.bam",
        "SAMPLE.bam.bai",
        "SAMPLE.g.vcf.gz",
        "SAMPLE.g.vcf.gz.tbi",
    ] {
        assert!(dir.path().join("genoa-demo").join(f).exists(), "{f}");
    }
}

#[test]
fn backends_reports_cpu_adapters_and_auto() {
    let o = genoa(&["backends"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("cpu: "), "{text}");
    assert!(text.contains("\nauto: "), "{text}");
    if gpu().is_some() {
        assert!(text.contains("gpu 0: "), "{text}");
        assert!(text.contains("max storage binding"), "{text}");
    }
}

/// `genoa run` on the demo sample (sample `S`, output in `out`) with `extra` flags and no
/// Vulkan driver to be found.
fn run_demo_without_vulkan(extra: &[&str], out: &Path) -> std::process::Output {
    let d = demo_dir();
    std::process::Command::new(env!("CARGO_BIN_EXE_genoa"))
        .arg("run")
        .args(extra)
        .arg("-r")
        .arg(d.join("ref.fa"))
        .arg("-1")
        .arg(d.join("R1.fastq.gz"))
        .arg("-2")
        .arg(d.join("R2.fastq.gz"))
        .args(["-s", "S", "-o"])
        .arg(out)
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent.json")
        .env("VK_DRIVER_FILES", "/nonexistent.json")
        .output()
        .unwrap()
}

#[test]
fn gpu_backend_without_an_adapter_fails_clearly() {
    let out = tempfile::tempdir().unwrap();
    let o = run_demo_without_vulkan(&["--backend", "gpu"], out.path());
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let want = if cfg!(feature = "gpu") {
        "backend gpu: no GPU adapter"
    } else {
        "backend gpu: genoa was built without the `gpu` feature"
    };
    assert!(err.contains(want), "{err}");
    assert!(!out.path().join("S.bam").exists());
}

/// FASTQ records of a gzip file as (name, sequence, quality) lines.
fn fastq_records(path: &Path) -> Vec<[String; 3]> {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    let lines: Vec<&str> = s.lines().collect();
    lines
        .chunks(4)
        .map(|c| [c[0][1..].to_string(), c[1].to_string(), c[3].to_string()])
        .collect()
}

#[test]
fn every_fastq_form_gives_the_same_output() {
    use std::io::Write;
    let d = demo_dir();
    let (r1, r2) = (
        fastq_records(&d.join("R1.fastq.gz")),
        fastq_records(&d.join("R2.fastq.gz")),
    );
    let work = tempfile::tempdir().unwrap();
    // One plain interleaved file with /1 /2 suffixes.
    let interleaved = work.path().join("reads.fq");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&interleaved).unwrap());
    for (a, b) in r1.iter().zip(&r2) {
        writeln!(
            f,
            "@{}/1\n{}\n+\n{}\n@{}/2\n{}\n+\n{}",
            a[0], a[1], a[2], b[0], b[1], b[2]
        )
        .unwrap();
    }
    drop(f);
    // BGZF-compressed R1/R2 with Casava comments.
    let bgzf = |name: &str, recs: &[[String; 3]], mate: u8| {
        let p = work.path().join(name);
        let mut w = noodles::bgzf::io::Writer::new(std::fs::File::create(&p).unwrap());
        for r in recs {
            writeln!(w, "@{} {mate}:N:0:ACGTACGT\n{}\n+\n{}", r[0], r[1], r[2]).unwrap();
        }
        w.finish().unwrap();
        p
    };
    let (b1, b2) = (bgzf("R1.fq.bgz", &r1, 1), bgzf("R2.fq.bgz", &r2, 2));
    let reference = d.join("ref.fa");
    let want = demo_run("t1", &["--backend", "scalar", "--threads", "1"]);
    for (tag, args) in [
        (
            "interleaved",
            vec!["-1", interleaved.to_str().unwrap(), "--interleaved"],
        ),
        (
            "bgzf",
            vec!["-1", b1.to_str().unwrap(), "-2", b2.to_str().unwrap()],
        ),
    ] {
        let out = work.path().join(tag);
        let mut all = vec![
            "run",
            "-r",
            reference.to_str().unwrap(),
            "-s",
            "SAMPLE",
            "-o",
            out.to_str().unwrap(),
            "--backend",
            "scalar",
        ];
        all.extend(args);
        let o = genoa(&all);
        assert!(
            o.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(gvcf_records(&out), gvcf_records(&want), "{tag}");
        assert_eq!(bam_records(&out), bam_records(&want), "{tag}");
    }
}

#[test]
fn auto_falls_back_to_the_cpu_and_says_why() {
    let out = tempfile::tempdir().unwrap();
    let o = run_demo_without_vulkan(&["-v"], out.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // One decision logged per kernel, each with its reason.
    for kernel in ["banded_align", "pair_hmm"] {
        assert!(
            err.contains(&format!("backend auto: {kernel} on simd-"))
                || err.contains(&format!("backend auto: {kernel} on scalar")),
            "{err}"
        );
    }
    assert!(
        err.contains("(no GPU: backend gpu: no GPU adapter") || !cfg!(feature = "gpu"),
        "{err}"
    );
    assert!(out.path().join("S.bam").exists() && out.path().join("S.g.vcf.gz").exists());
}

#[test]
fn a_read_group_with_escaped_tabs_and_quotes_gives_valid_headers() {
    // The command line (with the -R value) goes into the gVCF and BAM headers.
    let out = demo_run("rg", &["-R", "@RG\\tID:lane1\\tSM:SAMPLE\\tDS:a \"b\" c"]);
    let header = super::common::tool_lines(
        "bcftools",
        &["view", "-h", out.join("SAMPLE.g.vcf.gz").to_str().unwrap()],
    );
    assert!(
        header.iter().any(|l| l.starts_with("##genoaCommandLine=")),
        "{header:?}"
    );
    let sam =
        super::common::samtools_lines(&["view", "-H", out.join("SAMPLE.bam").to_str().unwrap()]);
    assert!(
        sam.iter()
            .any(|l| l == "@RG\tID:lane1\tSM:SAMPLE\tDS:a \"b\" c"),
        "{sam:?}"
    );
    assert_eq!(
        gvcf_records(&out),
        gvcf_records(&demo_run("t1", &["--backend", "scalar", "--threads", "1"]))
    );
}

/// The stage profile (issue 23): `-v` prints it, and the QC JSON's run section holds it, every
/// alignment and calling stage with its CPU seconds, within the process's CPU time.
#[test]
fn the_stage_profile_is_logged_and_in_the_qc_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run_demo_into(&out, &["--threads", "2", "-v"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("stage profile, CPU seconds (process "))
        .unwrap_or_else(|| panic!("no profile line in {err}"));
    let qc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("SAMPLE.qc.json")).unwrap()).unwrap();
    let p = &qc["run"]["profile"];
    let cpu = p["cpu_seconds"].as_f64().unwrap();
    let stages: Vec<(&str, f64)> = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap(),
                s["cpu_seconds"].as_f64().unwrap(),
            )
        })
        .collect();
    for want in [
        "read_input",
        "seeding",
        "chaining",
        "banded_align_kernel",
        "pairing_mapq",
        "record_encoding",
        "merge_markdup",
        "bgzf_compression",
        "pileup",
        "gvcf_writing",
    ] {
        assert!(stages.iter().any(|s| s.0 == want), "{want} missing: {p}");
        assert!(
            line.contains(&format!(" {want} ")),
            "{want} not logged: {line}"
        );
    }
    // Stages never count a second twice: their sum stays within the process's CPU time
    // (ticks of 10 ms, and sorts counted as wall time × threads, give a little slack).
    let sum: f64 = stages.iter().map(|s| s.1).sum();
    assert!(cpu > 0.0 && sum <= cpu * 1.1 + 0.1, "{sum} of {cpu}: {p}");
    let other = p["unattributed_seconds"].as_f64().unwrap();
    assert!((other - (cpu - sum).max(0.0)).abs() < 0.15, "{p}");
}
