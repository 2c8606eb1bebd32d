//! Issue 20's defects, each as a regression test: planted symlinks at temporary names,
//! outputs that name inputs, an index that does not match its gVCF, two runs in one work
//! directory, decrypted plaintext left readable, and the same file as R1 and R2.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::common::{demo_dir, demo_run, files_in, genoa, tool};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 1, one `genoa: error:` line, no panic; returns the line.
fn fails(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "expected exit 1: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("genoa: error: "), "{err}");
    err
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

fn digest(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn keypair(dir: &Path) -> (PathBuf, PathBuf) {
    let (sk, pk) = (dir.join("k.sec"), dir.join("k.pub"));
    ok(&genoa(&[
        "keygen",
        "--sk",
        s(&sk),
        "--pk",
        s(&pk),
        "--nocrypt",
    ]));
    (sk, pk)
}

/// `genoa encrypt PLAIN --recipient-pk PK -o ENC`, which must succeed.
fn encrypt(plain: &Path, pk: &Path, enc: &Path) {
    ok(&genoa(&[
        "encrypt",
        s(plain),
        "--recipient-pk",
        s(pk),
        "-o",
        s(enc),
    ]));
}

/// `genoa run` of `r1`/`r2` against `reference` as sample `S` into `out`, with `extra`.
fn run(reference: &Path, r1: &Path, r2: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "-r",
        s(reference),
        "-1",
        s(r1),
        "-2",
        s(r2),
        "-s",
        "S",
        "-o",
        s(out),
    ];
    args.extend_from_slice(extra);
    genoa(&args)
}

fn demo_reads() -> (PathBuf, PathBuf, PathBuf) {
    let d = demo_dir();
    (
        d.join("ref.fa"),
        d.join("R1.fastq.gz"),
        d.join("R2.fastq.gz"),
    )
}

#[cfg(unix)]
#[test]
fn planted_symlinks_at_temporary_names_are_not_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    // keygen: the secret key would have gone into the victim (the old, fixed names).
    let (sk, pk) = (dir.path().join("id.sec"), dir.path().join("id.pub"));
    for name in [".id.sec.genoa-tmp", ".id.pub.genoa-tmp"] {
        symlink(&victim, dir.path().join(name)).unwrap();
    }
    ok(&genoa(&[
        "keygen",
        "--sk",
        s(&sk),
        "--pk",
        s(&pk),
        "--nocrypt",
    ]));
    assert_eq!(digest(&victim), b"precious");
    assert_eq!(mode(&sk), 0o600);
    // decrypt: the plaintext would have gone into the victim.
    let plain = dir.path().join("data.txt");
    std::fs::write(&plain, vec![b'x'; 100_000]).unwrap();
    let enc = dir.path().join("data.txt.c4gh");
    encrypt(&plain, &pk, &enc);
    let out = dir.path().join("out.txt");
    symlink(&victim, dir.path().join(".out.txt.genoa-tmp")).unwrap();
    ok(&genoa(&["decrypt", s(&enc), "--sk", s(&sk), "-o", s(&out)]));
    assert_eq!(digest(&victim), b"precious");
    assert_eq!(digest(&out), digest(&plain));
    assert_eq!(mode(&out), 0o600, "decrypted plaintext is the owner's only");
    // run: every output's old temporary name, and the work directory.
    let (reference, r1, r2) = demo_reads();
    let outdir = dir.path().join("run");
    std::fs::create_dir(&outdir).unwrap();
    let names = [
        "SAMPLE.bam",
        "SAMPLE.bam.bai",
        "SAMPLE.g.vcf.gz",
        "SAMPLE.g.vcf.gz.tbi",
        "SAMPLE.qc.json",
        "SAMPLE.report.html",
    ];
    for name in names {
        symlink(&victim, outdir.join(format!(".{name}.genoa-tmp"))).unwrap();
    }
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, outdir.join(".genoa-work.SAMPLE")).unwrap();
    let args = [
        "run",
        "-r",
        s(&reference),
        "-1",
        s(&r1),
        "-2",
        s(&r2),
        "-s",
        "SAMPLE",
        "-o",
        s(&outdir),
        "--backend",
        "scalar",
    ];
    let err = fails(&genoa(&args));
    assert!(
        err.contains(".genoa-work.SAMPLE") && err.contains("symlink"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    std::fs::remove_file(outdir.join(".genoa-work.SAMPLE")).unwrap();
    ok(&genoa(&args));
    assert_eq!(digest(&victim), b"precious");
    for name in names {
        assert!(outdir.join(name).is_file(), "{name}");
    }
}

/// The demo run's BAM and gVCF, copied (with their indexes) into `dir`.
fn demo_outputs(dir: &Path) -> (PathBuf, PathBuf) {
    let run = demo_run("formats", &[]);
    for name in [
        "SAMPLE.bam",
        "SAMPLE.bam.bai",
        "SAMPLE.g.vcf.gz",
        "SAMPLE.g.vcf.gz.tbi",
    ] {
        std::fs::copy(run.join(name), dir.join(name)).unwrap();
    }
    (dir.join("SAMPLE.bam"), dir.join("SAMPLE.g.vcf.gz"))
}

#[test]
fn an_output_naming_an_input_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (bam, gvcf) = demo_outputs(d);
    let (reference, r1, r2) = demo_reads();
    let r1_copy = d.join("R1.fq.gz");
    std::fs::copy(&r1, &r1_copy).unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = [&bam, &gvcf, &r1_copy]
        .iter()
        .map(|p| (p.to_path_buf(), digest(p)))
        .collect();
    let check = |args: &[&str], what: &str| {
        let err = fails(&genoa(args));
        assert!(
            err.contains("never writes over an input") || err.contains("exists already"),
            "{what}: {err}"
        );
        for (p, bytes) in &before {
            assert!(digest(p) == *bytes, "{what}: {} changed", p.display());
        }
    };
    let fa = s(&reference);
    check(
        &["call", "-r", fa, "-i", s(&bam), "-o", s(&bam)],
        "call -o the input",
    );
    // Through a hard link and a symlink.
    let hard = d.join("hard.bam");
    std::fs::hard_link(&bam, &hard).unwrap();
    check(
        &["call", "-r", fa, "-i", s(&bam), "-o", s(&hard)],
        "call -o a hard link",
    );
    #[cfg(unix)]
    {
        let soft = d.join("soft.g.vcf.gz");
        std::os::unix::fs::symlink(&bam, &soft).unwrap();
        check(
            &["call", "-r", fa, "-i", s(&bam), "-o", s(&soft)],
            "call -o a symlink",
        );
    }
    check(
        &[
            "align",
            "-r",
            fa,
            "-1",
            s(&r1_copy),
            "-2",
            s(&r2),
            "-R",
            "@RG\\tID:a\\tSM:a",
            "-o",
            s(&r1_copy),
        ],
        "align -o R1",
    );
    let prefix = d.join("SAMPLE.g");
    check(
        &["aggregate", "-r", fa, "-o", s(&prefix), s(&gvcf)],
        "aggregate -o the input's prefix",
    );
    // run: R1 is where the gVCF would go.
    let outdir = d.join("run");
    std::fs::create_dir(&outdir).unwrap();
    let planted = outdir.join("S.g.vcf.gz");
    std::fs::hard_link(&r1_copy, &planted).unwrap();
    check(
        &[
            "run",
            "-r",
            fa,
            "-1",
            s(&planted),
            "-2",
            s(&r2),
            "-s",
            "S",
            "-o",
            s(&outdir),
        ],
        "run writing its gVCF over R1",
    );
    // package: the QC JSON would be replaced by the manifest.
    let (sk, pk) = keypair(d);
    let pkg = d.join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let qc = pkg.join("manifest.json");
    std::fs::copy(demo_run("formats", &[]).join("SAMPLE.qc.json"), &qc).unwrap();
    let qc_before = digest(&qc);
    let err = fails(&genoa(&[
        "package",
        "-r",
        fa,
        "--gvcf",
        s(&gvcf),
        "--qc",
        s(&qc),
        "--recipient-pk",
        s(&pk),
        "-o",
        s(&pkg),
    ]));
    assert!(err.contains("never writes over an input"), "{err}");
    assert_eq!(digest(&qc), qc_before);
    check(
        &[
            "encrypt",
            s(&gvcf),
            "--recipient-pk",
            s(&pk),
            "-o",
            s(&gvcf),
        ],
        "encrypt -o the input",
    );
    let enc = d.join("g.c4gh");
    encrypt(&gvcf, &pk, &enc);
    let enc_before = digest(&enc);
    let err = fails(&genoa(&["decrypt", s(&enc), "--sk", s(&sk), "-o", s(&enc)]));
    assert!(err.contains("exists already"), "{err}");
    assert!(digest(&enc) == enc_before);
    // gather: a BED of regions where the QC JSON would go.
    let gdir = d.join("gather");
    std::fs::create_dir(&gdir).unwrap();
    let bed = gdir.join("S.qc.json");
    std::fs::write(&bed, "NC_001416.1\t0\t100\n").unwrap();
    let err = fails(&genoa(&[
        "gather",
        "-r",
        fa,
        "-s",
        "S",
        "-o",
        s(&gdir),
        "--regions",
        s(&bed),
    ]));
    assert!(err.contains("never writes over an input"), "{err}");
    assert_eq!(std::fs::read(&bed).unwrap(), b"NC_001416.1\t0\t100\n");
}

/// `genoa aggregate` of one gVCF; its output.
fn aggregate(gvcf: &Path, out: &Path) -> Output {
    let (reference, _, _) = demo_reads();
    genoa(&["aggregate", "-r", s(&reference), "-o", s(out), s(gvcf)])
}

fn tbi(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}.tbi", p.display()))
}

fn bgzip_and_index(text: &str, path: &Path) {
    std::fs::write(path.with_extension(""), text).unwrap();
    let plain = path.with_extension("");
    let o = tool("bgzip", &["-f", s(&plain)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(path.exists());
    let o = tool("tabix", &["-f", "-p", "vcf", s(path)]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn an_index_that_does_not_match_its_gvcf_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, gvcf) = demo_outputs(d);
    ok(&aggregate(&gvcf, &d.join("good")));
    let text = {
        let o = tool("bgzip", &["-dc", s(&gvcf)]);
        String::from_utf8(o.stdout).unwrap()
    };
    // One blank line in the middle: tabix builds an index that stops there.
    let lines: Vec<&str> = text.lines().collect();
    let mid = lines.len() * 2 / 3;
    let blank = format!(
        "{}\n\n{}\n",
        lines[..mid].join("\n"),
        lines[mid..].join("\n")
    );
    let b = d.join("blank.g.vcf.gz");
    bgzip_and_index(&blank, &b);
    // htslib's tabix reader stops at the blank line; aggregate reads past it: the same sites.
    ok(&aggregate(&b, &d.join("blank-out")));
    let records = |p: &Path| -> Vec<String> {
        let o = tool("bgzip", &["-dc", s(p)]);
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let want = records(&d.join("good.vcf.gz"));
    assert!(want.len() > 5, "{}", want.len());
    assert!(records(&d.join("blank-out.vcf.gz")) == want);
    assert!(records(&d.join("blank-out.af.vcf.gz")) == records(&d.join("good.af.vcf.gz")));
    // `genoa validate` flags the blank line too.
    let (reference, _, _) = demo_reads();
    let o = genoa(&["validate", s(&b), "-r", s(&reference)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("blank_line"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The index of another file: an extra header line moves every record.
    let other = d.join("other.g.vcf.gz");
    let moved = text.replacen("##source", "##comment=moved\n##source", 1);
    bgzip_and_index(&moved, &other);
    std::fs::copy(tbi(&gvcf), tbi(&other)).unwrap();
    let err = fails(&aggregate(&other, &d.join("other-out")));
    assert!(err.contains("does not match"), "{err}");
}

#[test]
fn a_second_run_into_a_locked_work_directory_stops_and_keeps_the_first_runs_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let work = out.join(".genoa-work.S");
    std::fs::create_dir_all(&work).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let checkpoint = work.join("seg-000000.done.json");
    std::fs::write(&checkpoint, b"{}").unwrap();
    let lock = std::fs::File::create(work.join("genoa.lock")).unwrap();
    lock.lock().unwrap();
    std::fs::write(work.join("genoa.lock"), b"pid 4242 on host node7").unwrap();
    let (reference, r1, r2) = demo_reads();
    let err = fails(&run(&reference, &r1, &r2, &out, &[]));
    assert!(
        err.contains("in use by another genoa run") && err.contains("pid 4242 on host node7"),
        "{err}"
    );
    assert!(checkpoint.exists(), "the first run's checkpoints are kept");
    drop(lock);
}

#[cfg(unix)]
#[test]
fn r1_and_r2_naming_one_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, r1, _) = demo_reads();
    let link = dir.path().join("R2.fastq.gz");
    std::fs::hard_link(&r1, &link)
        .or_else(|_| std::fs::copy(&r1, &link).map(drop))
        .unwrap();
    let same_inode = std::fs::metadata(&link).is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&r1).is_ok_and(|n| n.ino() == m.ino())
    });
    for r2 in [r1.clone(), link.clone()] {
        if r2 == link && !same_inode {
            continue; // another filesystem: no hard link to test with
        }
        let out = dir.path().join("out");
        let err = fails(&run(&reference, &r1, &r2, &out, &[]));
        assert!(err.contains("same file as -1"), "{err}");
        assert!(files_in(&out).is_empty());
    }
}

#[test]
fn sample_names_with_tabs_or_line_breaks_are_refused() {
    let (reference, _, _) = demo_reads();
    let dir = tempfile::tempdir().unwrap();
    let (bam, _) = demo_outputs(dir.path());
    for name in ["A\tB", "A\nB", " A", "A\r"] {
        let out = dir.path().join("x.g.vcf.gz");
        let err = fails(&genoa(&[
            "call",
            "-r",
            s(&reference),
            "-i",
            s(&bam),
            "-o",
            s(&out),
            "-s",
            name,
        ]));
        assert!(err.contains("sample name"), "{err}");
        assert!(!out.exists());
    }
}

#[test]
fn a_tmp_dir_that_does_not_exist_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, r1, r2) = demo_reads();
    let tmp = dir.path().join("no/such/dir");
    let out = dir.path().join("out");
    let err = fails(&run(&reference, &r1, &r2, &out, &["--tmp-dir", s(&tmp)]));
    assert!(err.contains("--tmp-dir"), "{err}");
    assert!(!dir.path().join("no").exists());
    assert!(!out.exists());
}

#[test]
fn decrypt_to_stdout_and_a_cut_at_a_segment_boundary_warns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (sk, pk) = keypair(d);
    let plain = d.join("p.bin");
    let data: Vec<u8> = (0..2 * 65536u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&plain, &data).unwrap();
    let enc = d.join("p.bin.c4gh");
    encrypt(&plain, &pk, &enc);
    // `-o -`: standard output, no file named "-".
    let o = genoa(&["decrypt", s(&enc), "--sk", s(&sk), "-o", "-"]);
    ok(&o);
    assert!(o.stdout == data);
    assert!(!Path::new("-").exists());
    // Cut after the first segment (12-byte nonce + 65536 + 16-byte MAC).
    let bytes = std::fs::read(&enc).unwrap();
    let cut = d.join("cut.bin.c4gh");
    std::fs::write(&cut, &bytes[..bytes.len() - (12 + 65536 + 16)]).unwrap();
    let out = d.join("cut.bin");
    let o = genoa(&["decrypt", s(&cut), "--sk", s(&sk), "-o", s(&out)]);
    ok(&o);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 65536);
    assert!(stderr(&o).contains("segment boundary"), "{}", stderr(&o));
}

#[test]
fn temporaries_of_a_killed_process_are_removed_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (sk, pk) = keypair(d);
    let plain = d.join("p.txt");
    std::fs::write(&plain, b"hello").unwrap();
    let enc = d.join("p.txt.c4gh");
    encrypt(&plain, &pk, &enc);
    // What a SIGKILLed decrypt leaves: an unlocked temporary.
    let stale = d.join(".q.txt.Ab3dEf6hIj9kLm2n.genoa-tmp");
    std::fs::write(&stale, b"plaintext of a killed run").unwrap();
    ok(&genoa(&[
        "decrypt",
        s(&enc),
        "--sk",
        s(&sk),
        "-o",
        s(&d.join("q.txt")),
    ]));
    assert!(!stale.exists(), "{:?}", files_in(d));
    assert!(files_in(d).iter().all(|f| !f.ends_with(".genoa-tmp")));
}

#[test]
fn a_single_trailing_blank_line_ends_a_fastq() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (reference, r1, r2) = demo_reads();
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&r1).unwrap()),
        &mut text,
    )
    .unwrap();
    text.push(b'\n');
    let blank = d.join("R1.fq");
    std::fs::write(&blank, &text).unwrap();
    let align = |r1: &Path, bam: &Path| {
        ok(&genoa(&[
            "align",
            "-r",
            s(&reference),
            "-1",
            s(r1),
            "-2",
            s(&r2),
            "-R",
            "@RG\\tID:a\\tSM:a",
            "-o",
            s(bam),
        ]));
        let o = tool("samtools", &["view", s(bam)]);
        assert!(o.status.success());
        o.stdout
    };
    let (a, b) = (d.join("a.bam"), d.join("b.bam"));
    assert!(align(&blank, &a) == align(&r1, &b), "same records");
}

#[cfg(unix)]
#[test]
fn a_killed_decrypt_leaves_only_an_owner_only_temporary_which_the_next_one_removes() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (sk, pk) = keypair(d);
    let plain = d.join("big.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&plain).unwrap());
        let block: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
        for _ in 0..256 {
            f.write_all(&block).unwrap();
        }
    }
    let enc = d.join("big.bin.c4gh");
    encrypt(&plain, &pk, &enc);
    std::fs::remove_file(&plain).unwrap();
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    let temporary = |out: &Path| {
        files_in(out)
            .into_iter()
            .find(|f| f.starts_with(".big.bin.") && f.ends_with(".genoa-tmp"))
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args([
            "decrypt",
            s(&enc),
            "--sk",
            s(&sk),
            "-o",
            s(&out.join("big.bin")),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let mut seen = None;
    while t0.elapsed() < std::time::Duration::from_secs(60) {
        if let Some(t) = temporary(&out)
            && std::fs::metadata(out.join(&t)).is_ok_and(|m| m.len() > 0)
        {
            seen = Some(t);
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap();
    let _ = child.wait();
    let Some(t) = seen else {
        panic!("decrypt ended before its temporary was seen; make the file larger");
    };
    assert!(
        !out.join("big.bin").exists(),
        "nothing under the final name"
    );
    assert_eq!(
        mode(&out.join(&t)),
        0o600,
        "partial plaintext is the owner's only"
    );
    // The next command that writes into the directory removes it.
    let small = d.join("s.txt");
    std::fs::write(&small, b"x").unwrap();
    let small_enc = d.join("s.txt.c4gh");
    encrypt(&small, &pk, &small_enc);
    ok(&genoa(&[
        "decrypt",
        s(&small_enc),
        "--sk",
        s(&sk),
        "-o",
        s(&out.join("s.txt")),
    ]));
    assert_eq!(temporary(&out), None, "{:?}", files_in(&out));
}
