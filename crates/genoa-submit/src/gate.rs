//! The QC gate: checks a `SAMPLE.qc.json` (`genoa_engine::report::qc` writes it) against a policy of
//! threshold rules and says PASS or FAIL, with a reason for every rule.
//!
//! # Policy format (TOML)
//!
//! ```toml
//! name = "my lab, 30x WGS"            # optional
//! description = "…"                    # optional
//!
//! [[rule]]
//! metric = "wgs_qc_metrics.mean_autosome_coverage"   # dotted path into the QC JSON
//! min = 30.0                  # and/or max = …, inclusive; or equals = true / "text" / 1
//! severity = "fail"           # "fail" (default) or "warn"
//! missing = "fail"            # absent or null value: "fail" (default), "warn" or "ignore"
//! description = "why this rule exists"               # optional
//! ```
//!
//! A path segment that is a number indexes a JSON array. A rule whose metric is absent, or
//! `null` (genoa writes `null` where a denominator is zero), fails unless `missing` says
//! otherwise; with `missing = "ignore"` the rule is reported as `SKIP`. Unknown keys, a rule
//! without `min`, `max` or `equals`, and `min > max` are errors naming the policy's line.
//!
//! The overall result is PASS when no rule FAILs; warnings do not fail the gate. The shipped
//! default ([`DEFAULT_POLICY`]) targets human 30x germline WGS submissions.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The shipped default policy (`genoa qc --print-default-policy` prints it).
pub const DEFAULT_POLICY: &str = include_str!("default_policy.toml");

/// A parsed, checked policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub name: Option<String>,
    pub description: Option<String>,
    pub rules: Vec<Rule>,
}

/// One threshold on one metric.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Dotted path into the QC JSON, e.g. `wgs_qc_metrics.pct_reads_mapped`.
    pub metric: String,
    /// Inclusive lower bound (numeric metrics).
    pub min: Option<f64>,
    /// Inclusive upper bound (numeric metrics).
    pub max: Option<f64>,
    /// Exact expected value (a boolean, number or string).
    pub equals: Option<Expected>,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub missing: Missing,
    pub description: Option<String>,
}

/// The value an `equals` rule expects.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Expected {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// What breaking a rule does to the gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Fail,
    Warn,
}

/// What an absent or `null` metric does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    #[default]
    Fail,
    Warn,
    Ignore,
}

/// The outcome of one rule (or of the whole gate: `Pass` or `Fail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// One rule's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub metric: String,
    pub status: Status,
    /// The metric's value in the QC JSON (`null` where absent or null).
    pub value: Value,
    /// The threshold in words, e.g. `>= 30`, `in [1.9, 2.2]`, `== true`.
    pub threshold: String,
    pub severity: Severity,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The gate's verdict: overall status and one outcome per rule, in policy order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub failures: usize,
    pub warnings: usize,
    pub results: Vec<Outcome>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    rule: Vec<toml::Spanned<Rule>>,
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

impl Policy {
    /// Parses and checks a policy; `path` names it in errors (`path: line N: problem`).
    pub fn parse(text: &str, path: &Path) -> Result<Policy> {
        let at = |span: Option<Range<usize>>, message: String| {
            let line = span.map(|s| format!("line {}: ", line_of(text, s.start)));
            Error::input(path, format!("{}{message}", line.unwrap_or_default()))
        };
        let raw: RawPolicy = toml::from_str(text)
            .map_err(|e| at(e.span(), e.message().trim().replace('\n', " ")))?;
        if raw.rule.is_empty() {
            return Err(at(None, "policy has no [[rule]] entries".into()));
        }
        let mut rules = Vec::with_capacity(raw.rule.len());
        for spanned in raw.rule {
            let span = Some(spanned.span());
            let r = spanned.into_inner();
            let problem = if r.metric.is_empty() || r.metric.split('.').any(str::is_empty) {
                Some(format!("invalid metric path {:?}", r.metric))
            } else if r.min.is_none() && r.max.is_none() && r.equals.is_none() {
                Some(format!("rule for {} has no min, max or equals", r.metric))
            } else if r.equals.is_some() && (r.min.is_some() || r.max.is_some()) {
                Some(format!(
                    "rule for {} combines equals with min/max; use two rules",
                    r.metric
                ))
            } else if r.min.is_some_and(|v| !v.is_finite()) || r.max.is_some_and(|v| !v.is_finite())
            {
                Some(format!("rule for {}: min/max must be finite", r.metric))
            } else if let (Some(lo), Some(hi)) = (r.min, r.max)
                && lo > hi
            {
                Some(format!("rule for {}: min {lo} > max {hi}", r.metric))
            } else {
                None
            };
            if let Some(p) = problem {
                return Err(at(span, p));
            }
            rules.push(r);
        }
        Ok(Policy {
            name: raw.name,
            description: raw.description,
            rules,
        })
    }

    /// Reads and parses a policy file.
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Policy::parse(&text, path)
    }

    /// The shipped default policy.
    pub fn default_policy() -> Policy {
        Policy::parse(DEFAULT_POLICY, Path::new("<default policy>"))
            .expect("the shipped default policy parses")
    }

    /// Checks a QC JSON document against every rule.
    pub fn evaluate(&self, qc: &Value) -> Report {
        let results: Vec<Outcome> = self.rules.iter().map(|r| r.evaluate(qc)).collect();
        let count = |s: Status| results.iter().filter(|o| o.status == s).count();
        let failures = count(Status::Fail);
        Report {
            status: if failures == 0 {
                Status::Pass
            } else {
                Status::Fail
            },
            policy: self.name.clone(),
            failures,
            warnings: count(Status::Warn),
            results,
        }
    }
}

/// Reads a QC JSON file; malformed JSON is an error naming the line.
pub fn load_qc(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        // serde_json appends " at line L column C"; say the line first, as elsewhere in genoa.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        Error::input(
            path,
            format!(
                "line {} (column {}): invalid JSON: {message}",
                e.line(),
                e.column()
            ),
        )
    })?;
    if !value.is_object() {
        return Err(Error::input(
            path,
            "not a QC JSON: the top level is not an object (genoa run writes SAMPLE.qc.json)",
        ));
    }
    Ok(value)
}

/// The value at a dotted path (`None` where any step is absent).
pub fn lookup<'a>(qc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(qc, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn number(x: f64) -> String {
    // Shortest form: 30 rather than 30.0, 85000000000 rather than 8.5e10.
    if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

impl Expected {
    fn text(&self) -> String {
        match self {
            Expected::Bool(b) => b.to_string(),
            Expected::Number(n) => number(*n),
            Expected::Text(s) => format!("{s:?}"),
        }
    }
    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Expected::Bool(a), Value::Bool(b)) => a == b,
            (Expected::Number(a), Value::Number(b)) => b.as_f64() == Some(*a),
            (Expected::Text(a), Value::String(b)) => a == b,
            _ => false,
        }
    }
}

impl Rule {
    /// The threshold in words.
    pub fn threshold(&self) -> String {
        match (&self.equals, self.min, self.max) {
            (Some(e), _, _) => format!("== {}", e.text()),
            (None, Some(lo), Some(hi)) => format!("in [{}, {}]", number(lo), number(hi)),
            (None, Some(lo), None) => format!(">= {}", number(lo)),
            (None, None, Some(hi)) => format!("<= {}", number(hi)),
            (None, None, None) => String::new(),
        }
    }

    fn broken(&self) -> Status {
        match self.severity {
            Severity::Fail => Status::Fail,
            Severity::Warn => Status::Warn,
        }
    }

    /// Checks this rule against a QC JSON document.
    pub fn evaluate(&self, qc: &Value) -> Outcome {
        let found = lookup(qc, &self.metric);
        let value = found.cloned().unwrap_or(Value::Null);
        let (status, reason) = match found {
            None | Some(Value::Null) => {
                let what = if found.is_none() {
                    "metric not in the QC JSON".to_string()
                } else {
                    let why = lookup(qc, "scope.null_means")
                        .and_then(Value::as_str)
                        .unwrap_or("no value");
                    format!("value is null ({why})")
                };
                match self.missing {
                    Missing::Fail => (Status::Fail, what),
                    Missing::Warn => (Status::Warn, format!("{what}; missing = \"warn\"")),
                    Missing::Ignore => (Status::Skip, format!("{what}; missing = \"ignore\"")),
                }
            }
            Some(v) => self.check(v),
        };
        Outcome {
            metric: self.metric.clone(),
            status,
            value,
            threshold: self.threshold(),
            severity: self.severity,
            reason,
            description: self.description.clone(),
        }
    }

    fn check(&self, v: &Value) -> (Status, String) {
        if let Some(e) = &self.equals {
            return if e.matches(v) {
                (Status::Pass, "as expected".into())
            } else {
                (self.broken(), format!("{v} is not {}", e.text()))
            };
        }
        let Some(x) = v.as_f64() else {
            return (self.broken(), format!("{v} is not a number"));
        };
        let shown = v.to_string();
        if let Some(lo) = self.min
            && x < lo
        {
            return (
                self.broken(),
                format!("{shown} is below the minimum {}", number(lo)),
            );
        }
        if let Some(hi) = self.max
            && x > hi
        {
            return (
                self.broken(),
                format!("{shown} is above the maximum {}", number(hi)),
            );
        }
        (Status::Pass, "within threshold".into())
    }
}

impl Report {
    /// Is the gate passed (no rule failed)?
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }

    /// Metrics of the failed rules, in policy order.
    pub fn failed_metrics(&self) -> Vec<&str> {
        self.results
            .iter()
            .filter(|o| o.status == Status::Fail)
            .map(|o| o.metric.as_str())
            .collect()
    }

    /// The human-readable report: one line per rule, then the verdict.
    pub fn text(&self) -> String {
        let rows: Vec<[String; 5]> = self
            .results
            .iter()
            .map(|o| {
                [
                    o.status.as_str().to_string(),
                    o.metric.clone(),
                    o.value.to_string(),
                    o.threshold.clone(),
                    o.reason.clone(),
                ]
            })
            .collect();
        let header = ["STATUS", "METRIC", "VALUE", "THRESHOLD", "REASON"].map(String::from);
        let mut width = [0usize; 4];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in width.iter().zip(row) {
                let _ = write!(out, "{cell:<w$}  ");
            }
            let _ = writeln!(out, "{}", row[4]);
        }
        let _ = writeln!(
            out,
            "{}: {} rules, {} failed, {} warnings{}",
            self.status.as_str(),
            self.results.len(),
            self.failures,
            self.warnings,
            self.policy
                .as_ref()
                .map(|p| format!(" (policy: {p})"))
                .unwrap_or_default()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(text: &str) -> Result<Policy> {
        Policy::parse(text, Path::new("p.toml"))
    }

    fn qc() -> Value {
        json!({
            "scope": {"autosomes_present": false, "null_means": "denominator is zero (no data)"},
            "wgs_qc_metrics": {"mean_autosome_coverage": 19.86, "pct_reads_mapped": 100.0,
                               "ratio_insertion_deletion": null},
            "list": [1, 2]
        })
    }

    #[test]
    fn gate_min_max_equals_and_severity() {
        let p = policy(
            r#"
name = "t"
[[rule]]
metric = "wgs_qc_metrics.mean_autosome_coverage"
min = 15
[[rule]]
metric = "wgs_qc_metrics.mean_autosome_coverage"
min = 30
severity = "warn"
[[rule]]
metric = "wgs_qc_metrics.pct_reads_mapped"
min = 95.0
max = 100
[[rule]]
metric = "scope.autosomes_present"
equals = true
[[rule]]
metric = "list.1"
max = 1
"#,
        )
        .unwrap();
        let r = p.evaluate(&qc());
        let s: Vec<Status> = r.results.iter().map(|o| o.status).collect();
        use Status::*;
        assert_eq!(s, [Pass, Warn, Pass, Fail, Fail]);
        assert_eq!(r.status, Fail);
        assert_eq!((r.failures, r.warnings), (2, 1));
        assert_eq!(r.results[1].reason, "19.86 is below the minimum 30");
        assert_eq!(r.results[2].threshold, "in [95, 100]");
        assert_eq!(r.results[3].reason, "false is not true");
        assert_eq!(r.results[4].reason, "2 is above the maximum 1");
        assert_eq!(r.failed_metrics(), ["scope.autosomes_present", "list.1"]);
        let text = r.text();
        assert!(text.contains("FAIL: 5 rules, 2 failed, 1 warnings (policy: t)"));
        // Warnings alone pass.
        let p = policy("[[rule]]\nmetric = \"list.0\"\nmin = 5\nseverity = \"warn\"\n").unwrap();
        assert!(p.evaluate(&qc()).passed());
    }

    #[test]
    fn gate_null_and_missing() {
        let make = |missing: &str| {
            policy(&format!(
                "[[rule]]\nmetric = \"wgs_qc_metrics.ratio_insertion_deletion\"\nmin = 0.1\n{missing}\
                 [[rule]]\nmetric = \"wgs_qc_metrics.nope\"\nmin = 0.1\n{missing}"
            ))
            .unwrap()
            .evaluate(&qc())
        };
        let r = make("");
        assert_eq!(r.results[0].status, Status::Fail);
        assert_eq!(
            r.results[0].reason,
            "value is null (denominator is zero (no data))"
        );
        assert_eq!(r.results[1].reason, "metric not in the QC JSON");
        let r = make("missing = \"warn\"\n");
        assert!(r.passed());
        assert_eq!(r.warnings, 2);
        let r = make("missing = \"ignore\"\n");
        assert!(r.passed());
        assert!(r.results.iter().all(|o| o.status == Status::Skip));
    }

    #[test]
    fn gate_policy_errors_name_the_line() {
        let err = |t: &str| policy(t).unwrap_err().to_string();
        let e = err("[[rule]]\nmetric = \"a\"\nmin = 1\nmnax = 2\n");
        assert!(e.starts_with("p.toml: line 4: unknown field `mnax`"), "{e}");
        assert!(!e.contains('\n'));
        let e = err("[[rule]]\nmetric = \"a\"\nmin = 1\n\n[[rule]]\nmetric = \"b\"\n");
        assert_eq!(e, "p.toml: line 5: rule for b has no min, max or equals");
        let e = err("[[rule]]\nmetric = \"a\"\nmin = 2\nmax = 1\n");
        assert_eq!(e, "p.toml: line 1: rule for a: min 2 > max 1");
        let e = err("[[rule]]\nmetric = \"a\"\nmin = 2\nseverity = \"fatal\"\n");
        assert!(e.starts_with("p.toml: line 4: "), "{e}");
        let e = err("[[rule]]\nmetric = \"a\"\nmin = \"x\"\n");
        assert!(e.starts_with("p.toml: line 3: "), "{e}");
        assert_eq!(
            err("name = \"x\"\n"),
            "p.toml: policy has no [[rule]] entries"
        );
        let e = err("[[rule]]\nmetric = \"a..b\"\nmin = 1\n");
        assert!(e.contains("invalid metric path"), "{e}");
    }

    #[test]
    fn gate_default_policy_fails_a_declared_sex_the_depth_contradicts() {
        let p = Policy::default_policy();
        let sex_rule = |agrees: Value| {
            let qc = json!({"karyotype": {"declared": "XY", "estimated": "XX",
                                          "sex_agrees": agrees}});
            let r = p.evaluate(&qc);
            r.results
                .into_iter()
                .find(|o| o.metric == "karyotype.sex_agrees")
                .unwrap()
                .status
        };
        assert_eq!(sex_rule(json!(false)), Status::Fail);
        assert_eq!(sex_rule(json!(true)), Status::Pass);
        // --sex auto (or no X): nothing to contradict.
        assert_eq!(sex_rule(Value::Null), Status::Skip);
    }

    #[test]
    fn gate_default_policy_parses() {
        let p = Policy::default_policy();
        assert!(p.rules.len() >= 8);
        assert!(p.name.is_some());
    }
}
