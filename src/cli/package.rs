//! `genoa keygen`, `genoa package` and `genoa decrypt`: Crypt4GH keys, the encrypted submission
//! package, and the receiving side. Passphrases come from `C4GH_PASSPHRASE`, as with the
//! reference `crypt4gh` tool (batch jobs have no terminal to prompt on).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::crypt4gh::{self, PASSPHRASE_ENV, Recipient, SecretKey};
use crate::error::{Error, Result};
use crate::gate::Policy;
use crate::io::reference::Reference;
use crate::package::{self, Request};

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Secret key file to write (mode 0600); never overwritten.
    #[arg(long = "sk")]
    pub secret: PathBuf,
    /// Public key file to write.
    #[arg(long = "pk")]
    pub public: PathBuf,
    /// Leave the secret key unlocked (otherwise it is locked with $C4GH_PASSPHRASE, scrypt).
    #[arg(long)]
    pub nocrypt: bool,
    /// Comment stored in the secret key.
    #[arg(short = 'C', long)]
    pub comment: Option<String>,
}

#[derive(Args, Debug)]
pub struct PackageArgs {
    /// Reference FASTA the sample was processed against.
    #[arg(short = 'r', long = "reference")]
    pub reference: PathBuf,
    /// The sample's gVCF (SAMPLE.g.vcf.gz).
    #[arg(long)]
    pub gvcf: PathBuf,
    /// The sample's QC JSON (SAMPLE.qc.json): metadata for the manifest and the QC gate.
    #[arg(long)]
    pub qc: PathBuf,
    /// Also package the alignments (CRAM or BAM).
    #[arg(long, value_name = "CRAM")]
    pub alignments: Option<PathBuf>,
    /// A recipient's Crypt4GH public key (repeat for several recipients).
    #[arg(long = "recipient-pk", required = true, value_name = "FILE")]
    pub recipients: Vec<PathBuf>,
    /// Sender's Crypt4GH secret key (default: a fresh key per file, as `crypt4gh encrypt`).
    #[arg(long = "sk", value_name = "FILE")]
    pub sender: Option<PathBuf>,
    /// QC policy (TOML) the sample must pass; default: the shipped human 30x WGS policy.
    #[arg(long, value_name = "FILE", conflicts_with = "no_qc_gate")]
    pub policy: Option<PathBuf>,
    /// Package without the QC gate (recorded as SKIPPED in the manifest).
    #[arg(long)]
    pub no_qc_gate: bool,
    /// Sequencing platform for the manifest (default: the read group's PL).
    #[arg(long)]
    pub platform: Option<String>,
    /// Output directory for the .c4gh files, checksums and manifest.json.
    #[arg(short = 'o', long = "output-dir")]
    pub out_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct EncryptArgs {
    /// File to encrypt.
    pub input: PathBuf,
    /// A recipient's Crypt4GH public key (repeat for several recipients).
    #[arg(long = "recipient-pk", required = true, value_name = "FILE")]
    pub recipients: Vec<PathBuf>,
    /// Sender's Crypt4GH secret key (default: a fresh key, as `crypt4gh encrypt`).
    #[arg(long = "sk", value_name = "FILE")]
    pub sender: Option<PathBuf>,
    /// Output file (default: the input with .c4gh appended); never overwritten.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DecryptArgs {
    /// Crypt4GH file to decrypt.
    pub input: PathBuf,
    /// Recipient's secret key (locked keys read $C4GH_PASSPHRASE).
    #[arg(long = "sk", value_name = "FILE")]
    pub secret: PathBuf,
    /// Accept only files written by this public key.
    #[arg(long = "sender-pk", value_name = "FILE")]
    pub sender: Option<PathBuf>,
    /// Output file (default: the input without .c4gh; `-`: standard output); never overwritten.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// A package manifest: the plaintext's size, MD5 and SHA-256 must equal its entry.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

fn passphrase() -> Option<String> {
    std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty())
}

pub fn keygen(a: KeygenArgs) -> Result<()> {
    let pass = passphrase();
    if pass.is_none() && !a.nocrypt {
        return Err(Error::Config(format!(
            "genoa keygen: set {PASSPHRASE_ENV} to lock the secret key, or pass --nocrypt"
        )));
    }
    let p = crypt4gh::write_keypair(
        &a.secret,
        &a.public,
        if a.nocrypt { None } else { pass.as_deref() },
        a.comment.as_deref(),
    )?;
    println!("{}", p.to_base64());
    Ok(())
}

fn read_recipients(paths: &[PathBuf]) -> Result<Vec<Recipient>> {
    paths.iter().map(|p| crypt4gh::read_public_key(p)).collect()
}

fn read_sender(path: &Option<PathBuf>) -> Result<Option<SecretKey>> {
    path.as_deref()
        .map(|p| crypt4gh::read_secret_key(p, passphrase().as_deref()))
        .transpose()
}

pub fn package(a: PackageArgs) -> Result<()> {
    let recipients = read_recipients(&a.recipients)?;
    let sender = read_sender(&a.sender)?;
    let policy = if a.no_qc_gate {
        None
    } else {
        Some(match &a.policy {
            Some(p) => (Policy::load(p)?, p.display().to_string()),
            None => (Policy::default_policy(), "the default policy".to_string()),
        })
    };
    let reference = Reference::load(&a.reference)?;
    let t0 = std::time::Instant::now();
    let manifest = package::package(&Request {
        reference_path: &a.reference,
        reference: &reference,
        gvcf: &a.gvcf,
        alignments: a.alignments.as_deref(),
        qc_json: &a.qc,
        policy: policy.as_ref().map(|(p, n)| (p, n.clone())),
        recipients: &recipients,
        sender: sender.as_ref(),
        platform: a.platform.as_deref(),
        out_dir: &a.out_dir,
    })?;
    let secs = t0.elapsed().as_secs_f64();
    for f in &manifest.files {
        println!(
            "{}\t{} bytes\tmd5 {}\tsha256 {}",
            f.name, f.ciphertext.bytes, f.ciphertext.md5, f.ciphertext.sha256
        );
    }
    let bytes: u64 = manifest.files.iter().map(|f| f.plaintext.bytes).sum();
    tracing::info!(
        "packaged {} files ({:.1} MB) for {} recipients in {secs:.2} s (validation, QC gate and encryption)",
        manifest.files.len(),
        bytes as f64 / 1e6,
        recipients.len()
    );
    Ok(())
}

pub fn encrypt(a: EncryptArgs) -> Result<()> {
    let recipients = read_recipients(&a.recipients)?;
    let sender = read_sender(&a.sender)?;
    let output = a.output.clone().unwrap_or_else(|| {
        let mut s = a.input.clone().into_os_string();
        s.push(".c4gh");
        PathBuf::from(s)
    });
    if crate::io::atomic::occupied(&output) {
        return Err(Error::input(&output, "exists already (not overwritten)"));
    }
    let t0 = std::time::Instant::now();
    let t = crypt4gh::encrypt_file(&a.input, &output, sender.as_ref(), &recipients)?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{}\t{} bytes\tmd5 {}\tsha256 {}\tplaintext md5 {}\tsha256 {}",
        output.display(),
        t.ciphertext.bytes,
        t.ciphertext.md5,
        t.ciphertext.sha256,
        t.plaintext.md5,
        t.plaintext.sha256
    );
    tracing::info!(
        "encrypted {:.1} MB in {secs:.3} s ({:.0} MB/s, digests included)",
        t.plaintext.bytes as f64 / 1e6,
        t.plaintext.bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

pub fn decrypt(a: DecryptArgs) -> Result<()> {
    let key = crypt4gh::read_secret_key(&a.secret, passphrase().as_deref())?;
    let sender = a
        .sender
        .as_deref()
        .map(crypt4gh::read_public_key)
        .transpose()?;
    let output = match &a.output {
        Some(o) => o.clone(),
        None => {
            let s = a.input.to_string_lossy();
            match s.strip_suffix(".c4gh") {
                Some(stem) => PathBuf::from(stem),
                None => {
                    return Err(Error::input(
                        &a.input,
                        "name does not end in .c4gh: give --output",
                    ));
                }
            }
        }
    };
    let to_stdout = output.as_os_str() == "-";
    if !to_stdout && crate::io::atomic::occupied(&output) {
        return Err(Error::input(&output, "exists already (not overwritten)"));
    }
    let expected = match &a.manifest {
        Some(m) => {
            let name = file_name(&a.input);
            Some(
                package::expected_digests(m, &name)?
                    .ok_or_else(|| Error::input(m, format!("no entry for {name}")))?,
            )
        }
        None => None,
    };
    let t0 = std::time::Instant::now();
    let t = if to_stdout {
        // Each segment is authenticated before it is written; a manifest mismatch or a
        // truncation can only be reported after the plaintext went out.
        let mut r = std::fs::File::open(&a.input).map_err(|e| Error::io(&a.input, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
        let t = crypt4gh::decrypt(
            &mut r,
            &a.input,
            &mut w,
            Path::new("standard output"),
            &key,
            sender.as_ref(),
        )?;
        std::io::Write::flush(&mut w).map_err(|e| Error::io("standard output", e))?;
        if let Some(want) = expected.as_ref().filter(|want| **want != t.plaintext) {
            return Err(Error::input(
                &a.input,
                format!(
                    "decrypted content written to standard output differs from the manifest: {} bytes sha256 {}, manifest says {} bytes sha256 {}",
                    t.plaintext.bytes, t.plaintext.sha256, want.bytes, want.sha256
                ),
            ));
        }
        t
    } else {
        crypt4gh::decrypt_file(&a.input, &output, &key, sender.as_ref(), expected.as_ref())?
    };
    if expected.is_none() && t.plaintext.bytes % crypt4gh::SEGMENT_SIZE as u64 == 0 {
        tracing::warn!(
            "{}: the plaintext ends exactly at a Crypt4GH segment boundary ({} bytes): a file cut at a boundary decrypts without error, so check it against the package manifest (--manifest) or the sender's .md5/.sha256",
            a.input.display(),
            t.plaintext.bytes
        );
    }
    let secs = t0.elapsed().as_secs_f64();
    tracing::info!(
        "decrypted {:.1} MB in {secs:.3} s ({:.0} MB/s, digests included)",
        t.plaintext.bytes as f64 / 1e6,
        t.plaintext.bytes as f64 / 1e6 / secs.max(1e-9)
    );
    let report = format!(
        "{}\t{} bytes\tmd5 {}\tsha256 {}{}",
        if to_stdout {
            "-".into()
        } else {
            output.display().to_string()
        },
        t.plaintext.bytes,
        t.plaintext.md5,
        t.plaintext.sha256,
        if a.manifest.is_some() {
            "\tmatches manifest"
        } else {
            ""
        }
    );
    // With the plaintext on standard output, the summary goes to standard error.
    if to_stdout {
        eprintln!("{report}");
    } else {
        println!("{report}");
    }
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
