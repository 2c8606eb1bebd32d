//! Cloud-batch behaviour of `genoa run`: a run killed with SIGKILL at any point and started
//! again with the same command ends with the outputs of an uninterrupted run; `--shard K/N`
//! runs joined by `genoa gather` give the same records as one run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{demo_dir, files_in, genoa};
use super::runs::{bam_records, gvcf_records};

/// The demo reads three times over (9,690 pairs: five segments of 2,048 pairs), so shards and
/// checkpoints have several segments to split.
fn tripled_input(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let mut paths = Vec::new();
    for name in ["R1.fastq.gz", "R2.fastq.gz"] {
        let one = std::fs::read(demo_dir().join(name)).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, [one.as_slice(), &one, &one].concat()).unwrap();
        paths.push(path);
    }
    (paths[0].clone(), paths[1].clone())
}

fn run_args(r1: &Path, r2: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "run",
        "-r",
        demo_dir().join("ref.fa").to_str().unwrap(),
        "-1",
        r1.to_str().unwrap(),
        "-2",
        r2.to_str().unwrap(),
        "-s",
        "SAMPLE",
        "-o",
        out.to_str().unwrap(),
        "--segment-pairs",
        "2048",
        "--backend",
        "scalar",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// `genoa gather` of the shards in `out` (or those `extra` names).
fn gather(out: &Path, extra: &[&str]) -> std::process::Output {
    let reference = demo_dir().join("ref.fa");
    let mut a = vec![
        "gather",
        "-r",
        reference.to_str().unwrap(),
        "-s",
        "SAMPLE",
        "-o",
        out.to_str().unwrap(),
        "--backend",
        "scalar",
    ];
    a.extend_from_slice(extra);
    genoa(&a)
}

fn ok(args: &[String]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = genoa(&args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "genoa {args:?} failed: {err}");
    err
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("genoa-resume-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Starts the run, waits until `ready(out)` holds, kills it with SIGKILL; false if the run
/// ended first.
fn kill_when(args: &[String], out: &Path, ready: impl Fn(&Path) -> bool) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if ready(out) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the run neither ended nor reached the kill point");
}

fn same_outputs(a: &Path, b: &Path) {
    assert_eq!(gvcf_records(a), gvcf_records(b));
    assert_eq!(bam_records(a), bam_records(b));
    let qc = |d: &Path| {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("SAMPLE.qc.json")).unwrap()).unwrap();
        (v["wgs_qc_metrics"].clone(), v["histograms"].clone())
    };
    assert_eq!(qc(a), qc(b));
}

#[test]
fn a_killed_run_resumes_to_the_same_outputs() {
    let input = tmp("input");
    let (r1, r2) = tripled_input(&input);
    let plain = tmp("plain");
    ok(&run_args(&r1, &r2, &plain, &["-@", "1"]));
    let work = |out: &Path| out.join(".genoa-work.SAMPLE");
    // Killed after two segments were committed, then once more while the outputs are being
    // written (every segment done).
    let out = tmp("killed");
    let args = run_args(&r1, &r2, &out, &["-@", "1"]);
    let killed = kill_when(&args, &out, |o| work(o).join("seg-000001").is_dir());
    assert!(killed, "the run ended before the kill point");
    assert!(!out.join("SAMPLE.bam").exists() && !out.join("SAMPLE.g.vcf.gz").exists());
    // The BAM's temporary (`.SAMPLE.bam.<random>.genoa-tmp`) exists: the outputs are being
    // written. The resumed run removes what the kill left.
    let killed_late = kill_when(&args, &out, |o| {
        files_in(o)
            .iter()
            .any(|f| f.starts_with(".SAMPLE.bam.") && f.ends_with(".genoa-tmp"))
    });
    assert!(
        killed_late,
        "the run ended before the BAM was being written"
    );
    for f in ["SAMPLE.bam", "SAMPLE.g.vcf.gz", "SAMPLE.qc.json"] {
        assert!(!out.join(f).exists(), "{f} exists after a kill");
    }
    let err = ok(&args);
    assert!(err.contains("resumed: 5 aligned segments"), "{err}");
    same_outputs(&plain, &out);
    assert!(!work(&out).exists(), "checkpoints removed after success");
    assert!(
        files_in(&out).iter().all(|f| !f.contains("genoa-tmp")),
        "{:?}",
        files_in(&out)
    );
}

#[test]
fn four_shards_gathered_equal_one_run() {
    let input = tmp("sh-input");
    let (r1, r2) = tripled_input(&input);
    let plain = tmp("sh-plain");
    ok(&run_args(&r1, &r2, &plain, &["-@", "2"]));
    let out = tmp("sharded");
    // Shard 2 reads copies of the input made later elsewhere (as a cloud job downloads its
    // own): other paths and modification times, same contents.
    std::thread::sleep(Duration::from_millis(1100));
    let (c1, c2) = tripled_input(&tmp("sh-copy"));
    // Shards in any order, and with other thread counts.
    for (k, threads) in [(3, "1"), (1, "2"), (4, "2"), (2, "1")] {
        let shard = format!("{k}/4");
        let (a, b) = if k == 2 { (&c1, &c2) } else { (&r1, &r2) };
        ok(&run_args(a, b, &out, &["--shard", &shard, "-@", threads]));
    }
    assert!(!out.join("SAMPLE.bam").exists());
    let gather = |extra: &[&str]| gather(&out, extra);
    // A missing shard is an error naming it, and writes nothing.
    let three: Vec<String> = (1..=3)
        .map(|k| {
            out.join(format!("SAMPLE.shard-{k}-of-4"))
                .display()
                .to_string()
        })
        .collect();
    let three: Vec<&str> = three.iter().map(String::as_str).collect();
    let o = gather(&three);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shard 4/4 is missing"), "{err}");
    assert!(!out.join("SAMPLE.bam").exists());
    // Shards whose sort runs have another layout (an older genoa's) are refused, not read.
    let manifest = out.join("SAMPLE.shard-1-of-4").join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let format = format!("{}", genoa_engine::align::sort::RUN_FORMAT);
    let old = text
        .replace(&format!("\"run_format\": {format}"), "\"run_format\": 2")
        .replace(&format!("\"run_format\":{format}"), "\"run_format\":2");
    assert_ne!(old, text);
    std::fs::write(&manifest, old).unwrap();
    let o = gather(&[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("sort runs of another layout"), "{err}");
    assert!(!out.join("SAMPLE.bam").exists());
    std::fs::write(&manifest, text).unwrap();
    let o = gather(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    same_outputs(&plain, &out);
}

/// An error after the reads were aligned (here: the BAM's name is taken by a directory, so
/// the finished BAM cannot be renamed into place) keeps the checkpoints; the run started again
/// — with the reads copied elsewhere, as a rescheduled batch job stages them anew — resumes
/// from them (the content digests match, not the paths or times). `--restart` starts over.
#[test]
fn an_error_keeps_the_checkpoints_and_copied_reads_resume() {
    let input = tmp("err-input");
    let (r1, r2) = tripled_input(&input);
    let plain = tmp("err-plain");
    ok(&run_args(&r1, &r2, &plain, &["-@", "1"]));
    let out = tmp("err");
    let work = out.join(".genoa-work.SAMPLE");
    std::fs::create_dir_all(out.join("SAMPLE.bam")).unwrap();
    let fail = |extra: &[&str]| {
        let args = run_args(&r1, &r2, &out, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = genoa(&args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{err}");
        err
    };
    let err = fail(&[]);
    assert!(err.contains("are kept in"), "{err}");
    assert!(work.join("seg-000004").is_dir(), "{:?}", files_in(&work));
    // Started again with --restart: aligned anew (and failing the same way).
    std::fs::remove_file(work.join("seg-000004").join("done.json")).unwrap();
    let err = fail(&["--restart"]);
    assert!(!err.contains("resumed"), "{err}");
    assert!(work.join("seg-000004").join("done.json").is_file());
    // The reads copied to another directory (new paths and times): resumed, same outputs.
    std::fs::remove_dir(out.join("SAMPLE.bam")).unwrap();
    let moved = tmp("err-moved");
    std::fs::create_dir_all(&moved).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let (m1, m2) = (moved.join("a_R1.fq.gz"), moved.join("a_R2.fq.gz"));
    std::fs::copy(&r1, &m1).unwrap();
    std::fs::copy(&r2, &m2).unwrap();
    let err = ok(&run_args(&m1, &m2, &out, &["-@", "2"]));
    assert!(err.contains("resumed: 5 aligned segments"), "{err}");
    same_outputs(&plain, &out);
    assert!(!work.exists(), "checkpoints removed after success");
    for d in [&input, &plain, &out, &moved] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The tripled demo reads as R1 in BGZF and R2 uncompressed: the two kinds of file a read
/// index can enter in the middle.
fn indexable_input(dir: &Path) -> (PathBuf, PathBuf) {
    use std::io::{Read, Write};
    let (g1, g2) = tripled_input(dir);
    let text = |p: &Path| {
        let mut s = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(p).unwrap())
            .read_to_end(&mut s)
            .unwrap();
        s
    };
    let (r1, r2) = (dir.join("b_R1.fq.gz"), dir.join("b_R2.fq"));
    let mut w = noodles::bgzf::io::Writer::new(std::fs::File::create(&r1).unwrap());
    w.write_all(&text(&g1)).unwrap();
    w.finish().unwrap();
    std::fs::write(&r2, text(&g2)).unwrap();
    (r1, r2)
}

/// With read indexes (`genoa reads-index`), shards and resumed runs pass over the pairs they do
/// not align without reading them, and end with the same outputs.
#[test]
fn read_indexes_let_shards_and_resumed_runs_skip_pairs() {
    let input = tmp("ri-input");
    let (r1, r2) = indexable_input(&input);
    let plain = tmp("ri-plain");
    ok(&run_args(&r1, &r2, &plain, &["-@", "2"]));
    // Plain gzip cannot be indexed: an error naming the file, no index written.
    let gz = input.join("plain_R1.fq.gz");
    {
        use std::io::Write;
        let mut w = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        w.write_all(&std::fs::read(&r2).unwrap()).unwrap();
        w.finish().unwrap();
    }
    let idx = tmp("ri-idx");
    let o = genoa(&[
        "reads-index",
        "-o",
        idx.to_str().unwrap(),
        gz.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("plain_R1.fq.gz") && err.contains("bgzip"),
        "{err}"
    );
    assert!(files_in(&idx).iter().all(|f| !f.ends_with(".genoa.ridx")));
    let o = genoa(&[
        "reads-index",
        "-o",
        idx.to_str().unwrap(),
        r1.to_str().unwrap(),
        r2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let with_index = ["--read-index", idx.to_str().unwrap()];
    // Five segments of 2,048 pairs (the last 1,498): shard 1/4 aligns segments 0 and 4 and
    // skips the 6,144 pairs of the others; shard 3/4 aligns segment 2 only.
    let out = tmp("ri-sharded");
    for (k, skipped) in [(1, 6144), (2, 7642), (3, 7642), (4, 7642)] {
        let shard = format!("{k}/4");
        let mut extra = vec!["--shard", shard.as_str(), "-@", "2"];
        extra.extend(with_index);
        let err = ok(&run_args(&r1, &r2, &out, &extra));
        assert!(
            err.contains(&format!(
                "of 9690 pairs in the input, {skipped} of them skipped"
            )),
            "{err}"
        );
    }
    let o = gather(&out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    same_outputs(&plain, &out);
    // A run ended by an error after alignment keeps its checkpoints; with two of them gone,
    // the run started again aligns those two and skips the pairs of the three it keeps.
    let again = tmp("ri-resumed");
    std::fs::create_dir_all(again.join("SAMPLE.bam")).unwrap();
    let args = run_args(&r1, &r2, &again, &with_index);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(genoa(&argv).status.code(), Some(1));
    std::fs::remove_dir(again.join("SAMPLE.bam")).unwrap();
    let work = again.join(".genoa-work.SAMPLE");
    for s in ["seg-000001", "seg-000003"] {
        std::fs::remove_dir_all(work.join(s)).unwrap();
    }
    let err = ok(&args);
    assert!(
        err.contains(
            "resumed: 3 aligned segments of an earlier run were kept (5594 of their pairs skipped"
        ),
        "{err}"
    );
    same_outputs(&plain, &again);
    for d in [&input, &plain, &idx, &out, &again] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Two lanes, FASTQ and an unaligned BAM (`samtools import`), both indexed: segments that
/// straddle the lanes, shards that pass a whole lane by its count and enter the BAM by virtual
/// offset, the same outputs as one run without indexes.
#[test]
fn read_indexes_of_an_unaligned_bam_lane() {
    let input = tmp("rb-input");
    let (r1, r2) = indexable_input(&input);
    let ubam = input.join("u.unaligned.bam");
    let o = Command::new("samtools")
        .args(["import", "-O", "bam", "-1"])
        .arg(&r1)
        .arg("-2")
        .arg(&r2)
        .arg("-o")
        .arg(&ubam)
        .output()
        .expect("samtools (the CI installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lanes = |out: &Path, extra: &[&str]| {
        let mut a = run_args(&r1, &r2, out, &["-1", ubam.to_str().unwrap(), "-@", "2"]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let plain = tmp("rb-plain");
    ok(&lanes(&plain, &[]));
    let o = genoa(&[
        "reads-index",
        r1.to_str().unwrap(),
        r2.to_str().unwrap(),
        ubam.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(input.join("u.unaligned.bam.genoa.ridx").is_file());
    // 19,380 pairs in ten segments of 2,048 (the fifth straddles the lanes, the last holds
    // 1,948): shard 1/4 aligns segments 0, 4 and 8 and skips the 13,236 pairs of the others.
    let out = tmp("rb-sharded");
    for k in 1..=4 {
        let shard = format!("{k}/4");
        let err = ok(&lanes(&out, &["--shard", &shard]));
        if k == 1 {
            assert!(
                err.contains("of 19380 pairs in the input, 13236 of them skipped"),
                "{err}"
            );
        }
    }
    let o = gather(&out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    same_outputs(&plain, &out);
    for d in [&input, &plain, &out] {
        let _ = std::fs::remove_dir_all(d);
    }
}
