//! `genoa qc`, the QC gate: the demo run's QC JSON through the binary against a permissive
//! policy (PASS), the shipped default (FAIL, for the right reasons: the demo is ~20x phage
//! lambda, no autosomes), `--json`, null values, warn against fail, policy and JSON errors with
//! their lines, and `--print-default-policy`.

use std::path::{Path, PathBuf};

use genoa::gate::{self, DEFAULT_POLICY, Policy, Status};
use serde_json::Value;

use super::common::{demo_run, genoa};

fn demo_qc() -> PathBuf {
    demo_run("gate", &[]).join("SAMPLE.qc.json")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

const PERMISSIVE: &str = r#"
name = "permissive"
[[rule]]
metric = "wgs_qc_metrics.mean_autosome_coverage"
min = 10
[[rule]]
metric = "wgs_qc_metrics.pct_reads_mapped"
min = 90
[[rule]]
metric = "wgs_qc_metrics.ratio_transitions_transversions_snv"
min = 1.9
max = 2.2
severity = "warn"
[[rule]]
metric = "wgs_qc_metrics.no_such_metric"
min = 1
missing = "ignore"
"#;

#[test]
fn gate_demo_passes_a_permissive_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "p.toml", PERMISSIVE);
    let qc = demo_qc();
    let o = genoa(&[
        "qc",
        qc.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    // The demo's Ti/Tv (~2.8 over 49 phage SNVs) only warns; the absent metric is skipped.
    assert!(
        out.contains("PASS: 4 rules, 0 failed, 1 warnings (policy: permissive)"),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("WARN")
        && l.contains("ratio_transitions_transversions_snv")
        && l.contains("above the maximum 2.2")));
    assert!(
        out.lines()
            .any(|l| l.starts_with("SKIP") && l.contains("no_such_metric"))
    );

    // --json: the same verdict, machine-readable.
    let o = genoa(&[
        "qc",
        qc.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "PASS");
    assert_eq!(v["warnings"], 1);
    assert_eq!(v["results"].as_array().unwrap().len(), 4);
    assert_eq!(v["results"][1]["value"], 100.0);
    assert_eq!(v["results"][2]["status"], "WARN");
    assert_eq!(v["results"][3]["status"], "SKIP");
}

#[test]
fn gate_demo_fails_the_default_policy_on_coverage() {
    let qc = demo_qc();
    let o = genoa(&["qc", qc.to_str().unwrap()]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    // One-line summary on stderr naming the file and the failed rules.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("SAMPLE.qc.json: QC gate FAIL: "), "{err}");
    // Phage lambda: no autosomes, ~20x, 0.9 Mb of Q30 bases.
    for metric in [
        "scope.autosomes_present",
        "wgs_qc_metrics.pct_autosomes_15x",
        "wgs_qc_metrics.yield_bp_q30",
    ] {
        assert!(err.contains(metric), "{metric} not in {err}");
    }
    let line = |status: &str, metric: &str, reason: &str| {
        assert!(
            out.lines().any(|l| l.starts_with(status)
                && l.contains(&format!(" {metric} "))
                && l.contains(reason)),
            "no {status} line for {metric} with {reason:?} in\n{out}"
        );
    };
    line("FAIL", "scope.autosomes_present", "false is not true");
    line(
        "FAIL",
        "wgs_qc_metrics.pct_autosomes_15x",
        "below the minimum 90",
    );
    line(
        "FAIL",
        "wgs_qc_metrics.yield_bp_q30",
        "below the minimum 85000000000",
    );
    // 19.86x: under the 30x target (a warning) but over the 15x floor.
    line(
        "WARN",
        "wgs_qc_metrics.mean_autosome_coverage",
        "below the minimum 30",
    );
    line(
        "PASS",
        "wgs_qc_metrics.mean_autosome_coverage",
        "within threshold",
    );
    line(
        "PASS",
        "wgs_qc_metrics.pct_reads_mapped",
        "within threshold",
    );
    assert!(out.contains("\nFAIL: "), "{out}");

    // The library agrees with the binary.
    let report = Policy::default_policy().evaluate(&gate::load_qc(&qc).unwrap());
    assert!(!report.passed());
    assert_eq!(
        report.failed_metrics(),
        [
            "scope.autosomes_present",
            "wgs_qc_metrics.pct_autosomes_15x",
            "wgs_qc_metrics.yield_bp_q30"
        ]
    );
}

#[test]
fn gate_null_values_and_severities() {
    let dir = tempfile::tempdir().unwrap();
    // The demo's JSON with one metric nulled, as genoa writes it for a zero denominator.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(demo_qc()).unwrap()).unwrap();
    v["wgs_qc_metrics"]["ratio_insertion_deletion"] = Value::Null;
    let qc = write(dir.path(), "n.qc.json", &v.to_string());
    let rule = |extra: &str| {
        format!(
            "[[rule]]\nmetric = \"wgs_qc_metrics.ratio_insertion_deletion\"\nmin = 0.1\n{extra}"
        )
    };
    let check = |body: String| {
        let p = write(dir.path(), "p.toml", &body);
        genoa(&["qc", qc.to_str().unwrap(), "--policy", p.to_str().unwrap()])
    };
    let o = check(rule(""));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("value is null (denominator is zero (no data))"));
    assert!(text(&o.stderr).contains("ratio_insertion_deletion"));
    let o = check(rule("missing = \"warn\"\n"));
    assert!(o.status.success(), "{}", text(&o.stdout));
    assert!(text(&o.stdout).starts_with("STATUS") && text(&o.stdout).contains("\nWARN "));
    let o = check(rule("missing = \"ignore\"\n"));
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("\nSKIP "));

    // A broken rule fails with severity "fail" and only warns with "warn".
    let cov = |sev: &str| {
        format!(
            "[[rule]]\nmetric = \"wgs_qc_metrics.mean_autosome_coverage\"\nmin = 30\nseverity = \"{sev}\"\n"
        )
    };
    assert_eq!(check(cov("fail")).status.code(), Some(1));
    let o = check(cov("warn"));
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("PASS: 1 rules, 0 failed, 1 warnings"));
    let r = Policy::parse(&cov("warn"), Path::new("p.toml"))
        .unwrap()
        .evaluate(&v);
    assert_eq!(r.results[0].status, Status::Warn);
}

#[test]
fn gate_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let qc = demo_qc();
    let policy = write(
        dir.path(),
        "bad.toml",
        "name = \"x\"\n\n[[rule]]\nmetric = \"wgs_qc_metrics.pct_reads_mapped\"\nminimum = 95\n",
    );
    let o = genoa(&[
        "qc",
        qc.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.toml: line 5: unknown field `minimum`"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let json = write(
        dir.path(),
        "bad.qc.json",
        "{\n  \"wgs_qc_metrics\": {\n    \"a\": 1,,\n}\n",
    );
    let o = genoa(&["qc", json.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad.qc.json: line 3 (column"), "{err}");
    assert!(err.contains("invalid JSON"), "{err}");

    let o = genoa(&["qc", dir.path().join("absent.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("absent.json"));
}

#[test]
fn gate_print_default_policy() {
    let o = genoa(&["qc", "--print-default-policy"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let printed = text(&o.stdout);
    assert_eq!(printed, DEFAULT_POLICY);
    assert!(printed.contains("NOT published"));
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "copy.toml", &printed);
    assert_eq!(Policy::load(&p).unwrap(), Policy::default_policy());
    // The printed copy works as --policy and gives the same verdict as the default.
    let qc = demo_qc();
    let a = genoa(&["qc", qc.to_str().unwrap(), "--json"]);
    let b = genoa(&[
        "qc",
        qc.to_str().unwrap(),
        "--json",
        "--policy",
        p.to_str().unwrap(),
    ]);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.status.code(), b.status.code());
}
