//! Whole runs of the binary: accuracy against the planted truth, identical output across
//! thread counts, batch sizes and backends, `demo` from any directory, `backends`.

use std::io::Read;
use std::path::Path;

use super::common::{demo_dir, demo_run, genoa, gpu};

/// gVCF body (every line but `##` meta lines, which name paths and the command line).
fn gvcf_records(dir: &Path) -> String {
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
fn bam_records(dir: &Path) -> Vec<Vec<u8>> {
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
        ],
    );
    assert_eq!(gvcf_records(&a), gvcf_records(&b));
    assert_eq!(bam_records(&a), bam_records(&b));
}

#[test]
fn output_is_identical_across_backends() {
    if gpu().is_none() {
        return;
    }
    let a = demo_run("t1", &["--backend", "scalar", "--threads", "1"]);
    let g = demo_run("gpu", &["--backend", "gpu", "--threads", "2"]);
    assert_eq!(gvcf_records(&a), gvcf_records(&g));
    assert_eq!(bam_records(&a), bam_records(&g));
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

#[test]
fn gpu_backend_without_an_adapter_fails_clearly() {
    let d = demo_dir();
    let out = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args(["run", "-r"])
        .arg(d.join("ref.fa"))
        .arg("-1")
        .arg(d.join("R1.fastq.gz"))
        .arg("-2")
        .arg(d.join("R2.fastq.gz"))
        .args(["-s", "S", "--backend", "gpu", "-o"])
        .arg(out.path())
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent.json")
        .env("VK_DRIVER_FILES", "/nonexistent.json")
        .output()
        .unwrap();
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
