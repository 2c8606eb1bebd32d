//! `genoa keygen`, `genoa package`, `genoa encrypt` and `genoa decrypt`: the package's
//! checks, manifest and checksums, and interoperability both ways with the reference Python
//! implementation (`pip install crypt4gh`), found as $CRYPT4GH or `crypt4gh` on PATH;
//! GENOA_REQUIRE_CRYPT4GH=1 (CI) makes its absence a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::common::{demo_dir, demo_run, files_in, genoa};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A genoa key pair locked with `pass` in `dir`.
fn genoa_keys(dir: &Path, name: &str, pass: &str) -> (PathBuf, PathBuf) {
    let (sk, pk) = (
        dir.join(format!("{name}.sec")),
        dir.join(format!("{name}.pub")),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args(["keygen", "--sk", p(&sk), "--pk", p(&pk), "-C", name])
        .env("C4GH_PASSPHRASE", pass)
        .output()
        .unwrap();
    ok(&o);
    (sk, pk)
}

fn genoa_env(args: &[&str], pass: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args(args)
        .env("C4GH_PASSPHRASE", pass)
        .output()
        .unwrap()
}

fn package_args<'a>(out: &'a Path, run: &'a Path, r: &'a Path) -> Vec<String> {
    vec![
        "package".into(),
        "-r".into(),
        p(r).into(),
        "--gvcf".into(),
        p(&run.join("SAMPLE.g.vcf.gz")).into(),
        "--qc".into(),
        p(&run.join("SAMPLE.qc.json")).into(),
        "-o".into(),
        p(out).into(),
    ]
}

fn run_genoa(args: &[String]) -> Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    genoa(&a)
}

#[test]
fn package_writes_encrypted_files_checksums_and_manifest() {
    let run = demo_run("package", &[]);
    let dir = tempfile::tempdir().unwrap();
    let (sk1, pk1) = genoa_keys(dir.path(), "node1", "pass one");
    let (sk2, pk2) = genoa_keys(dir.path(), "node2", "pass two");
    let out = dir.path().join("pkg");
    let r = demo_dir().join("ref.fa");
    let mut args = package_args(&out, &run, &r);
    let bam = run.join("SAMPLE.bam");
    args.extend(
        [
            "--alignments",
            p(&bam),
            "--no-qc-gate",
            "--recipient-pk",
            p(&pk1),
            "--recipient-pk",
            p(&pk2),
        ]
        .map(String::from),
    );
    ok(&run_genoa(&args));
    assert_eq!(
        files_in(&out),
        [
            "SAMPLE.bam.c4gh",
            "SAMPLE.bam.c4gh.md5",
            "SAMPLE.bam.c4gh.sha256",
            "SAMPLE.bam.md5",
            "SAMPLE.bam.sha256",
            "SAMPLE.g.vcf.gz.c4gh",
            "SAMPLE.g.vcf.gz.c4gh.md5",
            "SAMPLE.g.vcf.gz.c4gh.sha256",
            "SAMPLE.g.vcf.gz.md5",
            "SAMPLE.g.vcf.gz.sha256",
            "manifest.json",
        ]
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "genoa-submission-manifest/1");
    assert_eq!(m["sample"], "SAMPLE");
    assert_eq!(m["sequencing"]["platform"], "ILLUMINA");
    assert_eq!(m["sequencing"]["read_group"]["SM"], "SAMPLE");
    assert!(m["sequencing"]["mean_depth"].as_f64().unwrap() > 5.0);
    assert_eq!(m["sequencing"]["mean_depth_scope"], "all_contigs");
    assert_eq!(m["checks"]["validate"], "PASS");
    assert_eq!(m["checks"]["qc_gate"], "SKIPPED");
    assert_eq!(m["encryption"]["recipients"].as_array().unwrap().len(), 2);
    let qc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("SAMPLE.qc.json")).unwrap())
            .unwrap();
    assert_eq!(
        m["reference"]["seqcol_level0"],
        qc["run"]["reference"]["seqcol_level0"]
    );
    assert_eq!(
        m["reference"]["contigs"][0]["refget"],
        qc["run"]["reference"]["contigs"][0]["refget"]
    );
    // Sidecars hold the manifest's digests, and coreutils agree with them.
    for f in m["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let plain = name.strip_suffix(".c4gh").unwrap();
        for (file, kind, want) in [
            (name.to_string(), "md5", &f["ciphertext"]["md5"]),
            (name.to_string(), "sha256", &f["ciphertext"]["sha256"]),
            (plain.to_string(), "md5", &f["plaintext"]["md5"]),
            (plain.to_string(), "sha256", &f["plaintext"]["sha256"]),
        ] {
            let side = std::fs::read_to_string(out.join(format!("{file}.{kind}"))).unwrap();
            assert_eq!(side.trim(), want.as_str().unwrap(), "{file}.{kind}");
        }
        let tool = |t: &str, path: &Path| {
            let o = Command::new(t).arg(path).output().unwrap();
            ok(&o).split_whitespace().next().unwrap().to_string()
        };
        assert_eq!(
            tool("sha256sum", &run.join(plain)),
            f["plaintext"]["sha256"].as_str().unwrap()
        );
        assert_eq!(
            tool("md5sum", &out.join(name)),
            f["ciphertext"]["md5"].as_str().unwrap()
        );
        assert_eq!(
            f["ciphertext"]["bytes"].as_u64().unwrap(),
            std::fs::metadata(out.join(name)).unwrap().len()
        );
    }
    // Each recipient decrypts; the manifest check passes; the bytes are the originals.
    for (sk, pass) in [(&sk1, "pass one"), (&sk2, "pass two")] {
        let dec = dir.path().join(format!("{}.g.vcf.gz", sk.display()));
        let enc = out.join("SAMPLE.g.vcf.gz.c4gh");
        let o = genoa_env(
            &[
                "decrypt",
                p(&enc),
                "--sk",
                p(sk),
                "-o",
                p(&dec),
                "--manifest",
                p(&out.join("manifest.json")),
            ],
            pass,
        );
        assert!(ok(&o).contains("matches manifest"));
        assert!(
            std::fs::read(&dec).unwrap() == std::fs::read(run.join("SAMPLE.g.vcf.gz")).unwrap()
        );
    }
    // A wrong passphrase and a non-recipient are one-line errors, with no output left.
    let dec = dir.path().join("x.g.vcf.gz");
    let enc = out.join("SAMPLE.g.vcf.gz.c4gh");
    let o = genoa_env(
        &["decrypt", p(&enc), "--sk", p(&sk1), "-o", p(&dec)],
        "nope",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("wrong passphrase"),
        "{}",
        text(&o.stderr)
    );
    let (sk3, _) = genoa_keys(dir.path(), "other", "p3");
    let o = genoa_env(&["decrypt", p(&enc), "--sk", p(&sk3), "-o", p(&dec)], "p3");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no header packet opens"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dec.exists());
    // A manifest that disagrees (another file's entry renamed) leaves nothing behind.
    let mut bad = m.clone();
    bad["files"][0]["plaintext"]["md5"] = serde_json::Value::from("0".repeat(32));
    let bad_path = dir.path().join("bad-manifest.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let o = genoa_env(
        &[
            "decrypt",
            p(&enc),
            "--sk",
            p(&sk1),
            "-o",
            p(&dec),
            "--manifest",
            p(&bad_path),
        ],
        "pass one",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("differs from the manifest"));
    assert!(!dec.exists());
    assert!(
        files_in(dir.path())
            .iter()
            .all(|f| !f.contains("genoa-tmp"))
    );
}

#[test]
fn package_refuses_invalid_gvcf_failed_gate_and_foreign_reference() {
    let run = demo_run("package", &[]);
    let dir = tempfile::tempdir().unwrap();
    let (_, pk) = genoa_keys(dir.path(), "node", "pw");
    let r = demo_dir().join("ref.fa");
    let out = dir.path().join("pkg");
    // The default policy (human 30x WGS) fails the phage demo: nothing is written.
    let mut args = package_args(&out, &run, &r);
    args.extend(["--recipient-pk", p(&pk)].map(String::from));
    let o = run_genoa(&args);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("not packaged: QC gate FAIL"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));
    // A gVCF with a violation (a record dropped: a coverage gap).
    let gz = std::fs::read(run.join("SAMPLE.g.vcf.gz")).unwrap();
    let mut plain = String::new();
    use std::io::Read;
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_string(&mut plain)
        .unwrap();
    let lines: Vec<&str> = plain.lines().collect();
    let first = lines.iter().position(|l| !l.starts_with('#')).unwrap();
    let broken: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != first + 3)
        .map(|(_, l)| *l)
        .collect();
    let bad_run = dir.path().join("bad");
    std::fs::create_dir_all(&bad_run).unwrap();
    std::fs::write(bad_run.join("SAMPLE.g.vcf.gz"), broken.join("\n") + "\n").unwrap();
    std::fs::copy(run.join("SAMPLE.qc.json"), bad_run.join("SAMPLE.qc.json")).unwrap();
    let mut args = package_args(&out, &bad_run, &r);
    args.extend(["--recipient-pk", p(&pk), "--no-qc-gate"].map(String::from));
    let o = run_genoa(&args);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("not packaged: genoa validate finds"), "{err}");
    assert!(files_in(&out).is_empty());
    // Another reference: the QC JSON's seqcol digest does not match.
    let other = dir.path().join("other.fa");
    let fa = std::fs::read_to_string(&r).unwrap();
    std::fs::write(&other, fa.replacen("ACGT", "ACGA", 1)).unwrap();
    let mut args = package_args(&out, &run, &other);
    args.extend(["--recipient-pk", p(&pk), "--no-qc-gate"].map(String::from));
    let o = run_genoa(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(files_in(&out).is_empty());
    // A public key file that is not one.
    let mut args = package_args(&out, &run, &r);
    args.extend(["--recipient-pk", p(&r), "--no-qc-gate"].map(String::from));
    let o = run_genoa(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("not a Crypt4GH public key"));
}

/// The reference implementation's `crypt4gh` command, and the Python beside it.
fn reference_tool() -> Option<(PathBuf, PathBuf)> {
    let exe = std::env::var_os("CRYPT4GH")
        .map(PathBuf::from)
        .or_else(|| {
            let o = Command::new("sh")
                .args(["-c", "command -v crypt4gh"])
                .output()
                .ok()?;
            o.status
                .success()
                .then(|| PathBuf::from(text(&o.stdout).trim()))
        })
        .filter(|p| p.exists());
    let Some(exe) = exe else {
        assert!(
            std::env::var("GENOA_REQUIRE_CRYPT4GH").as_deref() != Ok("1"),
            "GENOA_REQUIRE_CRYPT4GH=1 but no crypt4gh ($CRYPT4GH or PATH; pip install crypt4gh)"
        );
        eprintln!("SKIPPED: no crypt4gh (pip install crypt4gh; set CRYPT4GH)");
        return None;
    };
    let python = exe.with_file_name("python3");
    let python = if python.exists() {
        python
    } else {
        PathBuf::from("python3")
    };
    Some((exe, python))
}

fn py(python: &Path, code: &str) {
    let o = Command::new(python).args(["-c", code]).output().unwrap();
    ok(&o);
}

fn c4gh(exe: &Path, args: &[&str], pass: &str, input: &Path, output: &Path) -> Output {
    Command::new(exe)
        .args(args)
        .env("C4GH_PASSPHRASE", pass)
        .stdin(Stdio::from(std::fs::File::open(input).unwrap()))
        .stdout(Stdio::from(std::fs::File::create(output).unwrap()))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn crypt4gh_interop_with_the_python_reference_both_ways() {
    let Some((exe, python)) = reference_tool() else {
        return;
    };
    let run = demo_run("package", &[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Keys: genoa's (locked, scrypt) and Python's (locked with scrypt, and one in the clear).
    let (gsk, gpk) = genoa_keys(d, "genoa", "genoa pass");
    let (psk, ppk, pclear, pclear_pub) = (
        d.join("py.sec"),
        d.join("py.pub"),
        d.join("pyclear.sec"),
        d.join("pyclear.pub"),
    );
    py(
        &python,
        &format!(
            "from crypt4gh.keys import c4gh\n\
             c4gh.generate({:?}, {:?}, passphrase=b'py pass', comment=b'py')\n\
             c4gh.generate({:?}, {:?}, passphrase=None, comment=None)\n\
             c4gh.scrypt_supported = False  # the tool's fallback: a bcrypt-locked key\n\
             c4gh.generate({:?}, {:?}, passphrase=b'bc pass', comment=None)",
            p(&psk),
            p(&ppk),
            p(&pclear),
            p(&pclear_pub),
            p(&d.join("bc.sec")),
            p(&d.join("bc.pub"))
        ),
    );
    let blob = std::fs::read_to_string(d.join("bc.sec")).unwrap();
    assert!(
        blob.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("YzRnaC12MQAGYmNyeXB0")),
        "a bcrypt-locked key (c4gh-v1, kdf bcrypt): {blob}"
    );
    // genoa → Python: the package's gVCF, for both a Python key and genoa's own.
    let out = d.join("pkg");
    let r = demo_dir().join("ref.fa");
    let mut args = package_args(&out, &run, &r);
    args.extend(
        [
            "--no-qc-gate",
            "--recipient-pk",
            p(&ppk),
            "--recipient-pk",
            p(&gpk),
            "--recipient-pk",
            p(&pclear_pub),
            "--sk",
        ]
        .map(String::from),
    );
    args.push(p(&gsk).into());
    let o = Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args(&args)
        .env("C4GH_PASSPHRASE", "genoa pass")
        .output()
        .unwrap();
    ok(&o);
    let gvcf = run.join("SAMPLE.g.vcf.gz");
    let enc = out.join("SAMPLE.g.vcf.gz.c4gh");
    for (key, pass) in [(&psk, "py pass"), (&pclear, ""), (&gsk, "genoa pass")] {
        let dec = d.join("py-dec");
        let mut a = vec!["decrypt", "--sk", p(key)];
        if key == &gsk {
            // Python reads genoa's locked secret key too, and checks the sender.
            a.extend(["--sender_pk", p(&gpk)]);
        }
        let o = c4gh(&exe, &a, pass, &enc, &dec);
        assert!(o.status.success(), "{key:?}: {}", text(&o.stderr));
        assert!(std::fs::read(&dec).unwrap() == std::fs::read(&gvcf).unwrap());
    }
    // Python → genoa: a file encrypted by Python with its secret key for genoa's public key,
    // larger than one segment and not a multiple of it.
    let plain = d.join("plain.bin");
    let data: Vec<u8> = (0..300_001u32).map(|i| (i * 31 + i / 977) as u8).collect();
    std::fs::write(&plain, &data).unwrap();
    let from_py = d.join("from-py.c4gh");
    let o = c4gh(
        &exe,
        &["encrypt", "--sk", p(&psk), "--recipient_pk", p(&gpk)],
        "py pass",
        &plain,
        &from_py,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dec = d.join("genoa-dec.bin");
    let o = genoa_env(
        &[
            "decrypt",
            p(&from_py),
            "--sk",
            p(&gsk),
            "--sender-pk",
            p(&ppk),
            "-o",
            p(&dec),
        ],
        "genoa pass",
    );
    ok(&o);
    assert!(std::fs::read(&dec).unwrap() == data);
    // A bcrypt-locked Python key opens in genoa (scrypt was tested above).
    let for_bc = d.join("for-bc.c4gh");
    let o = c4gh(
        &exe,
        &["encrypt", "--recipient_pk", p(&d.join("bc.pub"))],
        "",
        &plain,
        &for_bc,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dec_bc = d.join("bc.bin");
    ok(&genoa_env(
        &[
            "decrypt",
            p(&for_bc),
            "--sk",
            p(&d.join("bc.sec")),
            "-o",
            p(&dec_bc),
        ],
        "bc pass",
    ));
    assert!(std::fs::read(&dec_bc).unwrap() == data);
    // The wrong sender is refused.
    let dec2 = d.join("genoa-dec2.bin");
    let o = genoa_env(
        &[
            "decrypt",
            p(&from_py),
            "--sk",
            p(&gsk),
            "--sender-pk",
            p(&gpk),
            "-o",
            p(&dec2),
        ],
        "genoa pass",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!dec2.exists());
    // Python's edit lists (a byte range): genoa's output equals Python's own decryption.
    let ranged = d.join("ranged.c4gh");
    let o = c4gh(
        &exe,
        &[
            "encrypt",
            "--recipient_pk",
            p(&gpk),
            "--range",
            "70000-140000",
        ],
        "",
        &plain,
        &ranged,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dec3 = d.join("ranged.bin");
    ok(&genoa_env(
        &["decrypt", p(&ranged), "--sk", p(&gsk), "-o", p(&dec3)],
        "genoa pass",
    ));
    let py_dec = d.join("ranged-py.bin");
    let o = c4gh(
        &exe,
        &["decrypt", "--sk", p(&gsk)],
        "genoa pass",
        &ranged,
        &py_dec,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got = std::fs::read(&dec3).unwrap();
    assert!(
        got == std::fs::read(&py_dec).unwrap(),
        "edit list applied as Python does"
    );
    assert!(
        !got.is_empty() && got.len() < data.len(),
        "{} bytes kept",
        got.len()
    );
    // genoa encrypt (any file) → Python, and a key Python wrote in the clear read by genoa.
    let from_genoa = d.join("plain.bin.c4gh");
    ok(&genoa(&[
        "encrypt",
        p(&plain),
        "--recipient-pk",
        p(&ppk),
        "--sk",
        p(&pclear),
    ]));
    let back = d.join("back.bin");
    let o = c4gh(
        &exe,
        &["decrypt", "--sk", p(&psk), "--sender_pk", p(&pclear_pub)],
        "py pass",
        &from_genoa,
        &back,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(std::fs::read(&back).unwrap() == data);
}
