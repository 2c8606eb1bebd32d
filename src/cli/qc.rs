//! `genoa qc SAMPLE.qc.json [--policy FILE]`: the QC gate. Prints one line per rule (PASS,
//! WARN, FAIL or SKIP, value, threshold, reason) or, with `--json`, the report as JSON on
//! stdout; exits 0 when no rule fails (warnings allowed) and 1 with a one-line summary
//! otherwise. Without `--policy` the shipped default policy is used.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::gate::{self, Policy};

#[derive(Args, Debug)]
pub struct QcArgs {
    /// QC JSON written by `genoa run` (OUTDIR/SAMPLE.qc.json).
    #[arg(required_unless_present = "print_default_policy")]
    pub qc_json: Option<PathBuf>,
    /// Policy (TOML); default: the shipped policy for human 30x germline WGS.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Print the shipped default policy (TOML) and exit, to copy and edit.
    #[arg(long, conflicts_with_all = ["policy", "json"])]
    pub print_default_policy: bool,
    /// Print the result as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: QcArgs) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    if a.print_default_policy {
        return stdout
            .write_all(gate::DEFAULT_POLICY.as_bytes())
            .map_err(|e| Error::io("stdout", e));
    }
    let Some(path) = a.qc_json else {
        return Err(Error::Config("genoa qc: no QC JSON given".into()));
    };
    let policy = match &a.policy {
        Some(p) => Policy::load(p)?,
        None => Policy::default_policy(),
    };
    let qc = gate::load_qc(&path)?;
    let report = policy.evaluate(&qc);
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&report).expect("the report serializes");
        s.push('\n');
        s
    } else {
        report.text()
    };
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("stdout", e))?;
    if report.passed() {
        return Ok(());
    }
    Err(Error::input(
        &path,
        format!(
            "QC gate FAIL: {} of {} rules failed ({})",
            report.failures,
            report.results.len(),
            report.failed_metrics().join(", ")
        ),
    ))
}
