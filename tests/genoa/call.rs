//! `genoa call` on the demo run's BAM: the chunk grid, target regions and shards, threads.

use std::path::{Path, PathBuf};

use super::common::{demo_dir, demo_run, genoa, genoa_ok, tool_lines};

/// Length of the demo's one contig (lambda phage).
const LAMBDA_LEN: u64 = 48_502;

fn bam() -> PathBuf {
    demo_run("formats", &[]).join("SAMPLE.bam")
}

/// `genoa call` on the demo BAM into `out` with `extra` arguments; the record lines.
fn call(out: &Path, extra: &[&str]) -> Vec<String> {
    let reference = demo_dir().join("ref.fa");
    let bam = bam();
    let mut args = vec![
        "call",
        "-r",
        reference.to_str().unwrap(),
        "-i",
        bam.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = genoa(&args);
    assert!(
        o.status.success(),
        "genoa {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    tool_lines("bcftools", &["view", "-H", out.to_str().unwrap()])
}

/// (start, end) of a record line, 1-based inclusive (END for blocks, REF length otherwise).
fn span(line: &str) -> (u64, u64) {
    let f: Vec<&str> = line.split('\t').collect();
    let pos: u64 = f[1].parse().unwrap();
    let end = match f[7].strip_prefix("END=") {
        Some(e) => e.split(';').next().unwrap().parse().unwrap(),
        None => pos + f[3].len() as u64 - 1,
    };
    (pos, end)
}

/// Every base of the contig covered by exactly one record, in order.
fn assert_tiles_the_contig(lines: &[String]) {
    let mut next = 1u64;
    for l in lines {
        let (s, e) = span(l);
        assert_eq!(s, next, "gap or overlap at {l}");
        next = e + 1;
    }
    assert_eq!(next, LAMBDA_LEN + 1);
}

fn variants(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.split('\t').nth(7).unwrap().starts_with("END="))
        .cloned()
        .collect()
}

#[test]
fn regions_that_tile_the_genome_concatenate_to_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    // A small grid so that region boundaries fall inside chunks and chunks have leads.
    let grid = ["--chunk-len", "8000"];
    let whole = call(&dir.path().join("whole.g.vcf.gz"), &grid);
    assert_tiles_the_contig(&whole);
    assert!(!variants(&whole).is_empty());
    // Boundaries inside chunks, one on a grid point, and one inside a deletion or block.
    let cuts = [1u64, 7_777, 16_001, 24_000, 31_313, LAMBDA_LEN + 1];
    let mut joined = Vec::new();
    for (k, w) in cuts.windows(2).enumerate() {
        let region = format!("NC_001416.1:{}-{}", w[0], w[1] - 1);
        let path = dir.path().join(format!("shard{k}.g.vcf.gz"));
        let mut args = vec!["--region", region.as_str()];
        args.extend_from_slice(&grid);
        let part = call(&path, &args);
        // A shard holds exactly the records that start inside it.
        assert!(
            part.iter().all(|l| (w[0]..w[1]).contains(&span(l).0)),
            "{region}"
        );
        joined.extend(part);
    }
    assert_eq!(joined, whole);
    // The same shards from a BED file (0-based, half-open), in one run.
    let bed = dir.path().join("targets.bed");
    std::fs::write(
        &bed,
        "track name=t\nNC_001416.1\t7776\t16000\n# comment\nNC_001416.1\t24000\t31312\n",
    )
    .unwrap();
    let mut args = vec!["--regions", bed.to_str().unwrap()];
    args.extend_from_slice(&grid);
    let from_bed = call(&dir.path().join("bed.g.vcf.gz"), &args);
    let expected: Vec<String> = whole
        .iter()
        .filter(|l| {
            let s = span(l).0;
            (7_777..16_001).contains(&s) || (24_001..31_313).contains(&s)
        })
        .cloned()
        .collect();
    assert_eq!(from_bed, expected);
}

#[test]
fn threads_and_the_chunk_grid_do_not_change_the_calls() {
    let dir = tempfile::tempdir().unwrap();
    let one = call(
        &dir.path().join("t1.g.vcf.gz"),
        &["-@", "1", "--chunk-len", "5000"],
    );
    let four = call(
        &dir.path().join("t4.g.vcf.gz"),
        &["-@", "4", "--chunk-len", "5000"],
    );
    assert_eq!(one, four);
    // Another grid only moves where reference blocks are cut: the variant records are the
    // same and every base is still covered once.
    let default_grid = call(&dir.path().join("d.g.vcf.gz"), &["-@", "3"]);
    assert_tiles_the_contig(&one);
    assert_tiles_the_contig(&default_grid);
    assert_eq!(variants(&one), variants(&default_grid));
    // `genoa run` calls through the same code path: its gVCF equals `genoa call` on its BAM.
    let run = tool_lines(
        "bcftools",
        &[
            "view",
            "-H",
            demo_run("formats", &[])
                .join("SAMPLE.g.vcf.gz")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(run, default_grid);
}

#[test]
fn variant_records_carry_mq_and_qd() {
    let dir = tempfile::tempdir().unwrap();
    let lines = call(&dir.path().join("x.g.vcf.gz"), &[]);
    for l in variants(&lines) {
        let f: Vec<&str> = l.split('\t').collect();
        let info: Vec<(&str, &str)> = f[7]
            .split(';')
            .map(|kv| kv.split_once('=').unwrap())
            .collect();
        let get = |k: &str| -> f64 {
            info.iter()
                .find(|(key, _)| *key == k)
                .unwrap_or_else(|| panic!("{k} missing: {l}"))
                .1
                .parse()
                .unwrap()
        };
        let (qual, dp, mq, qd) = (
            f[5].parse::<f64>().unwrap(),
            get("DP"),
            get("MQ"),
            get("QD"),
        );
        assert!((20.0..=60.0).contains(&mq), "{l}");
        assert!((qd - qual / dp).abs() < 0.01, "{l}");
    }
}

#[test]
fn a_cram_input_gives_the_records_of_its_bam() {
    let dir = tempfile::tempdir().unwrap();
    let cram = demo_run("cram", &["--cram"]).join("SAMPLE.cram");
    let reference = demo_dir().join("ref.fa");
    let out = dir.path().join("c.g.vcf.gz");
    let o = genoa(&[
        "call",
        "-r",
        reference.to_str().unwrap(),
        "-i",
        cram.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--chunk-len",
        "9000",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_cram = tool_lines("bcftools", &["view", "-H", out.to_str().unwrap()]);
    let from_bam = call(&dir.path().join("b.g.vcf.gz"), &["--chunk-len", "9000"]);
    assert_eq!(from_cram, from_bam);
    // The sample name comes from the CRAM's read group.
    let header = tool_lines("bcftools", &["view", "-h", out.to_str().unwrap()]);
    assert!(header.last().unwrap().ends_with("\tSAMPLE"), "{header:?}");
}

#[test]
fn secondary_records_without_seq_are_skipped() {
    // genoa's own aligner writes secondary alignments without SEQ, as bwa does; the caller
    // must read past them (and never use them).
    let dir = tempfile::tempdir().unwrap();
    let bam = bam();
    let sam = tool_lines("samtools", &["view", "-h", bam.to_str().unwrap()]);
    let mut text = String::new();
    let mut added = 0;
    for l in &sam {
        text.push_str(l);
        text.push('\n');
        if !l.starts_with('@') && added < 50 {
            let mut f: Vec<String> = l.split('\t').map(str::to_string).collect();
            let flag: u16 = f[1].parse().unwrap();
            if flag & 0x904 == 0 {
                f[1] = (flag | 0x100).to_string();
                f[9] = "*".into();
                f[10] = "*".into();
                text.push_str(&f[..11].join("\t"));
                text.push('\n');
                added += 1;
            }
        }
    }
    let sam_path = dir.path().join("with2nd.sam");
    std::fs::write(&sam_path, text).unwrap();
    let with2nd = dir.path().join("with2nd.bam");
    let o = super::common::tool(
        "samtools",
        &[
            "sort",
            "-o",
            with2nd.to_str().unwrap(),
            sam_path.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = super::common::tool("samtools", &["index", with2nd.to_str().unwrap()]);
    assert!(o.status.success());
    let reference = demo_dir().join("ref.fa");
    let out = dir.path().join("x.g.vcf.gz");
    let o = genoa(&[
        "call",
        "-r",
        reference.to_str().unwrap(),
        "-i",
        with2nd.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = tool_lines("bcftools", &["view", "-H", out.to_str().unwrap()]);
    assert_eq!(got, call(&dir.path().join("plain.g.vcf.gz"), &[]));
}

#[test]
fn min_mapq_filters_the_reads() {
    let dir = tempfile::tempdir().unwrap();
    // No read reaches MAPQ 61: nothing is called and every block has depth 0.
    let none = call(&dir.path().join("x.g.vcf.gz"), &["--min-mapq", "61"]);
    assert_tiles_the_contig(&none);
    assert!(variants(&none).is_empty());
    assert!(
        none.iter().all(|l| l.ends_with(":0:0:0:0,0,0")),
        "{:?}",
        &none[..3]
    );
    // A low threshold still calls (the demo's reads are MAPQ 60).
    let low = call(&dir.path().join("y.g.vcf.gz"), &["--min-mapq", "1"]);
    assert_tiles_the_contig(&low);
    assert!(!variants(&low).is_empty());
}

/// The script behind the closing notes' accuracy ceiling (variants in exact repeats no read
/// pair can place) passes its own check: a variant mid-repeat is unplaceable, one near the
/// repeat's edge partly placeable, one in unique sequence fully.
#[test]
fn placeability_script_self_test() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/placeability.py");
    let o = std::process::Command::new("python3")
        .arg(&script)
        .arg("--self-test")
        .output()
        .expect("python3 is needed by this test (scripts/test.sh installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("self-test ok"));
}

/// `genoa run` on a genome of many small contigs, some not called (decoys) between called
/// ones: its gVCF equals `genoa call` on its BAM. (A chunk of a later contig once counted as
/// ready when a read of an uncalled contig lay past that chunk's end, and was called without
/// its reads: 424 of 1,000 small contigs lost every read in a run of 3,001 contigs.)
#[test]
fn run_calls_many_small_contigs_as_call_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo_dir();
    let text = std::fs::read_to_string(d.join("ref.fa")).unwrap();
    let seq: String = text.lines().skip(1).collect();
    // Lambda cut into decoys of 7 kb and called contigs of 2-3 kb, alternating.
    let reference = dir.path().join("pieces.fa");
    let mut fa = String::new();
    let (mut at, mut i) = (0, 0);
    while at < seq.len() {
        let (name, len) = if i % 2 == 0 {
            (format!("chrUn_p{i}_decoy"), 7_000)
        } else {
            (format!("chrUn_p{i}_random"), 2_000 + 100 * i)
        };
        let end = (at + len).min(seq.len());
        fa.push_str(&format!(">{name}\n{}\n", &seq[at..end]));
        (at, i) = (end, i + 1);
    }
    std::fs::write(&reference, fa).unwrap();
    let out = dir.path().join("run");
    let r = reference.to_str().unwrap();
    let (r1, r2) = (d.join("R1.fastq.gz"), d.join("R2.fastq.gz"));
    genoa_ok(&[
        "run",
        "-r",
        r,
        "-1",
        r1.to_str().unwrap(),
        "-2",
        r2.to_str().unwrap(),
        "-s",
        "S",
        "-o",
        out.to_str().unwrap(),
        "-@",
        "2",
    ]);
    let called = dir.path().join("call.g.vcf.gz");
    let bam = out.join("S.bam");
    genoa_ok(&[
        "call",
        "-r",
        r,
        "-i",
        bam.to_str().unwrap(),
        "-o",
        called.to_str().unwrap(),
        "-@",
        "2",
    ]);
    let lines = |p: &Path| tool_lines("bcftools", &["view", "-H", p.to_str().unwrap()]);
    let from_run = lines(&out.join("S.g.vcf.gz"));
    assert_eq!(from_run, lines(&called));
    // Every called contig has covered bases.
    for i in (1..10).step_by(2) {
        let name = format!("chrUn_p{i}_random\t");
        assert!(
            from_run
                .iter()
                .any(|l| l.starts_with(&name) && !l.contains(":0:0:0:0,0,0")),
            "{name}"
        );
    }
}
