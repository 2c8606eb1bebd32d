//! The submission package: a sample's gVCF (and optionally its CRAM/BAM) encrypted with
//! Crypt4GH for one or more recipients (the node's inbox keys), the checksums inboxes ask for
//! (MD5 and SHA-256 of plaintext and ciphertext, in `manifest.json` and as EGA-style sidecar
//! files holding one hex digest), and a manifest with the minimal sequencing metadata.
//!
//! Nothing is packaged that would be refused downstream: the gVCF must pass `genoa validate`
//! against the reference, the QC JSON must describe the same reference (seqcol digest) and
//! sample, and the QC gate must pass (unless the caller skips it, which the manifest records).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::crypt4gh::{self, Digests, Recipient, SecretKey};
use crate::error::{Error, Result};
use crate::gate::{self, Policy};
use crate::io::reference::Reference;

/// The manifest's format name and version.
pub const MANIFEST_FORMAT: &str = "genoa-submission-manifest/1";

/// What to package.
pub struct Request<'a> {
    pub reference_path: &'a Path,
    pub reference: &'a Reference,
    pub gvcf: &'a Path,
    pub alignments: Option<&'a Path>,
    pub qc_json: &'a Path,
    /// `None`: the gate is skipped (recorded in the manifest).
    pub policy: Option<(&'a Policy, String)>,
    pub recipients: &'a [Recipient],
    pub sender: Option<&'a SecretKey>,
    /// Overrides the read group's `PL`.
    pub platform: Option<&'a str>,
    pub out_dir: &'a Path,
}

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub format: String,
    pub sample: String,
    pub files: Vec<FileEntry>,
    pub encryption: Encryption,
    pub sequencing: Sequencing,
    pub reference: ReferenceEntry,
    pub checks: Checks,
    pub pipeline: Pipeline,
}

#[derive(Debug, Serialize)]
pub struct FileEntry {
    /// Name of the encrypted file in the package.
    pub name: String,
    /// `gvcf`, `cram` or `bam`.
    pub content: String,
    pub file_format: String,
    pub plaintext: Digests,
    pub ciphertext: Digests,
}

#[derive(Debug, Serialize)]
pub struct Encryption {
    pub standard: String,
    pub segment_size: usize,
    /// Recipients' public keys (base64, as in their key files).
    pub recipients: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Sequencing {
    pub platform: String,
    pub mean_depth: f64,
    pub mean_depth_metric: String,
    /// The QC JSON's `scope.contigs`: `autosomes`, or `all_contigs` on a genome without
    /// chr1–22 (where the autosome metrics cover every contig).
    pub mean_depth_scope: Option<String>,
    pub read_group: Value,
}

#[derive(Debug, Serialize)]
pub struct ReferenceEntry {
    pub file: String,
    pub seqcol_level0: String,
    pub contigs: Vec<ContigEntry>,
}

#[derive(Debug, Serialize)]
pub struct ContigEntry {
    pub name: String,
    pub length: u64,
    pub md5: String,
    pub refget: String,
}

#[derive(Debug, Serialize)]
pub struct Checks {
    /// `PASS` (a failing gVCF is never packaged).
    pub validate: String,
    pub gvcf_records: u64,
    /// `PASS`, or `SKIPPED` when the caller turned the gate off.
    pub qc_gate: String,
    pub qc_policy: Option<String>,
    pub qc_warnings: usize,
}

#[derive(Debug, Serialize)]
pub struct Pipeline {
    pub genoa_version: String,
    pub command_line: Value,
    pub backends: Value,
    pub packaged_by: String,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn str_at<'a>(qc: &'a Value, path: &str) -> Option<&'a str> {
    gate::lookup(qc, path).and_then(Value::as_str)
}

/// Checks, encrypts and writes the package; returns the manifest written to
/// `OUT/manifest.json`. Nothing is encrypted unless every check passes; files written before
/// a failure are removed.
pub fn package(req: &Request) -> Result<Manifest> {
    refuse_inputs(req)?;
    let gvcf_records = check_gvcf(req)?;
    let qc = gate::load_qc(req.qc_json)?;
    let sample = check_identity(req, &qc)?;
    let (qc_gate, qc_policy, qc_warnings) = gate_qc(req, &qc)?;
    let checks = Checks {
        validate: "PASS".into(),
        gvcf_records,
        qc_gate,
        qc_policy,
        qc_warnings,
    };
    let sequencing = sequencing(req, &qc)?;
    let mut written: Vec<PathBuf> = Vec::new();
    let result = encrypt_inputs(req, &mut written).and_then(|files| {
        let manifest = Manifest {
            format: MANIFEST_FORMAT.into(),
            sample,
            files,
            encryption: Encryption {
                standard: "Crypt4GH v1 (X25519, ChaCha20-Poly1305 IETF)".into(),
                segment_size: crypt4gh::SEGMENT_SIZE,
                recipients: req.recipients.iter().map(|r| r.to_base64()).collect(),
            },
            sequencing,
            reference: reference_entry(req),
            checks,
            pipeline: pipeline_entry(&qc),
        };
        let mut json = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
        json.push('\n');
        crate::io::atomic::write(&req.out_dir.join("manifest.json"), json.as_bytes())?;
        Ok(manifest)
    });
    if result.is_err() {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
    }
    result
}

/// Step 1: the gVCF passes every rule joint callers apply; its record count.
fn check_gvcf(req: &Request) -> Result<u64> {
    let report =
        crate::validate::validate(req.gvcf, req.reference, crate::validate::Options::default())?;
    if !report.is_clean() {
        let classes: Vec<&str> = report.classes().iter().map(|c| c.name()).collect();
        return Err(Error::input(
            req.gvcf,
            format!(
                "not packaged: genoa validate finds {} violations ({}); run `genoa validate` for the report",
                report.total(),
                classes.join(", ")
            ),
        ));
    }
    Ok(report.records)
}

/// Step 2: the QC JSON is this sample's, on this reference, and so is the gVCF; the sample.
fn check_identity(req: &Request, qc: &Value) -> Result<String> {
    let sample = str_at(qc, "biosample.id")
        .ok_or_else(|| Error::input(req.qc_json, "no biosample.id (not a genoa QC JSON?)"))?
        .to_string();
    let seqcol = req.reference.seqcol_level0();
    match str_at(qc, "run.reference.seqcol_level0") {
        Some(s) if s == seqcol => {}
        Some(s) => {
            return Err(Error::input(
                req.qc_json,
                format!(
                    "reference seqcol digest {s} differs from {}'s {seqcol}: QC of another reference",
                    req.reference_path.display()
                ),
            ));
        }
        None => {
            return Err(Error::input(
                req.qc_json,
                "no run.reference.seqcol_level0 (written by genoa 0.1 or later)",
            ));
        }
    }
    let gvcf_sample = gvcf_sample(req.gvcf)?;
    if gvcf_sample != sample {
        return Err(Error::input(
            req.gvcf,
            format!("sample {gvcf_sample:?} differs from the QC JSON's {sample:?}"),
        ));
    }
    Ok(sample)
}

/// Step 3: the QC gate: `PASS` or `SKIPPED` (no policy), the policy's name and the warnings.
fn gate_qc(req: &Request, qc: &Value) -> Result<(String, Option<String>, usize)> {
    Ok(match &req.policy {
        Some((policy, name)) => {
            let r = policy.evaluate(qc);
            if !r.passed() {
                return Err(Error::input(
                    req.qc_json,
                    format!(
                        "not packaged: QC gate FAIL under {name}: {} ({} rules failed; `genoa qc` prints the reasons)",
                        r.failed_metrics().join(", "),
                        r.failures
                    ),
                ));
            }
            ("PASS".to_string(), Some(name.clone()), r.warnings)
        }
        None => ("SKIPPED".to_string(), None, 0),
    })
}

/// The manifest's sequencing section: platform (the read group's PL, or `--platform`), mean
/// depth and its metric, the read group.
fn sequencing(req: &Request, qc: &Value) -> Result<Sequencing> {
    let platform = match req.platform {
        Some(p) => p.to_string(),
        None => str_at(qc, "run.read_group.PL")
            .ok_or_else(|| {
                Error::input(
                    req.qc_json,
                    "the read group has no PL (platform): give --platform",
                )
            })?
            .to_string(),
    };
    let (mean_depth, metric) = [
        "wgs_qc_metrics.mean_autosome_coverage",
        "other_metrics.mean_coverage_all_contigs",
    ]
    .iter()
    .find_map(|m| {
        gate::lookup(qc, m)
            .and_then(Value::as_f64)
            .map(|v| (v, m.to_string()))
    })
    .ok_or_else(|| Error::input(req.qc_json, "no mean coverage metric"))?;
    Ok(Sequencing {
        platform,
        mean_depth,
        mean_depth_metric: metric,
        mean_depth_scope: str_at(qc, "scope.contigs").map(str::to_string),
        read_group: gate::lookup(qc, "run.read_group")
            .cloned()
            .unwrap_or(Value::Null),
    })
}

/// Every file `package` writes, none of which may be an input.
fn refuse_inputs(req: &Request) -> Result<()> {
    let mut inputs = vec![req.gvcf, req.qc_json, req.reference_path];
    inputs.extend(req.alignments);
    let mut outputs = vec![req.out_dir.join("manifest.json")];
    for path in std::iter::once(req.gvcf).chain(req.alignments) {
        for suffix in [".c4gh", ".c4gh.md5", ".c4gh.sha256", ".md5", ".sha256"] {
            outputs.push(req.out_dir.join(format!("{}{suffix}", file_name(path))));
        }
    }
    let outputs: Vec<&Path> = outputs.iter().map(PathBuf::as_path).collect();
    crate::io::atomic::refuse_inputs(&outputs, &inputs)
}

/// Step 4: the gVCF (and the alignments, when given) encrypted into `OUT`, with checksums of
/// plaintext and ciphertext beside them; every file written is added to `written`.
fn encrypt_inputs(req: &Request, written: &mut Vec<PathBuf>) -> Result<Vec<FileEntry>> {
    std::fs::create_dir_all(req.out_dir).map_err(|e| Error::io(req.out_dir, e))?;
    let mut inputs: Vec<(&Path, &str, String)> =
        vec![(req.gvcf, "gvcf", "VCF 4.2 gVCF, BGZF-compressed".into())];
    if let Some(a) = req.alignments {
        let (content, format) = match a.extension().and_then(|e| e.to_str()) {
            Some("cram") => ("cram", "CRAM 3.0".to_string()),
            Some("bam") => ("bam", "BAM".to_string()),
            _ => {
                return Err(Error::input(a, "alignments must be .cram or .bam"));
            }
        };
        inputs.push((a, content, format));
    }
    let mut files = Vec::new();
    for (path, content, format) in &inputs {
        let name = format!("{}.c4gh", file_name(path));
        let dest = req.out_dir.join(&name);
        let t = crypt4gh::encrypt_file(path, &dest, req.sender, req.recipients)?;
        written.push(dest.clone());
        for (suffix, digest) in [
            (".c4gh.md5", &t.ciphertext.md5),
            (".c4gh.sha256", &t.ciphertext.sha256),
            (".md5", &t.plaintext.md5),
            (".sha256", &t.plaintext.sha256),
        ] {
            let p = req.out_dir.join(format!("{}{suffix}", file_name(path)));
            crate::io::atomic::write(&p, format!("{digest}\n").as_bytes())?;
            written.push(p);
        }
        files.push(FileEntry {
            name,
            content: content.to_string(),
            file_format: format.clone(),
            plaintext: t.plaintext,
            ciphertext: t.ciphertext,
        });
    }
    Ok(files)
}

/// The manifest's reference section.
fn reference_entry(req: &Request) -> ReferenceEntry {
    ReferenceEntry {
        file: file_name(req.reference_path),
        seqcol_level0: req.reference.seqcol_level0(),
        contigs: req
            .reference
            .contigs
            .iter()
            .map(|c| ContigEntry {
                name: c.name.clone(),
                length: c.len(),
                md5: c.md5.clone(),
                refget: c.refget.clone(),
            })
            .collect(),
    }
}

/// The manifest's pipeline section, from the QC JSON's run section.
fn pipeline_entry(qc: &Value) -> Pipeline {
    Pipeline {
        genoa_version: str_at(qc, "run.genoa_version")
            .unwrap_or("unknown")
            .to_string(),
        command_line: gate::lookup(qc, "run.command_line")
            .cloned()
            .unwrap_or(Value::Null),
        backends: gate::lookup(qc, "run.backends")
            .cloned()
            .unwrap_or(Value::Null),
        packaged_by: format!("genoa {}", env!("CARGO_PKG_VERSION")),
    }
}

/// The sample column of a (gzip/BGZF) gVCF's `#CHROM` line.
fn gvcf_sample(path: &Path) -> Result<String> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let r = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f));
    for (i, line) in r.lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if let Some(rest) = line.strip_prefix("#CHROM") {
            return rest.split('\t').nth(9).map(str::to_string).ok_or_else(|| {
                Error::input(
                    path,
                    format!("line {}: #CHROM line has no sample column", i + 1),
                )
            });
        }
        if !line.starts_with("##") {
            break;
        }
    }
    Err(Error::input(path, "no #CHROM header line"))
}

/// What `genoa decrypt` checks a file against: the manifest entry of the same name.
pub fn expected_digests(manifest: &Path, encrypted_name: &str) -> Result<Option<Digests>> {
    let v = gate::load_qc(manifest)?;
    let files = v
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::input(manifest, "no files list (not a genoa manifest?)"))?;
    for f in files {
        if f.get("name").and_then(Value::as_str) == Some(encrypted_name) {
            let p = f
                .get("plaintext")
                .ok_or_else(|| Error::input(manifest, "file entry without plaintext digests"))?;
            let d: Digests = Digests {
                bytes: p.get("bytes").and_then(Value::as_u64).unwrap_or(0),
                md5: p.get("md5").and_then(Value::as_str).unwrap_or("").into(),
                sha256: p.get("sha256").and_then(Value::as_str).unwrap_or("").into(),
            };
            return Ok(Some(d));
        }
    }
    Ok(None)
}
