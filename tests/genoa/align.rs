//! `genoa index` and `genoa align`: the saved index gives the same alignments as one built in
//! memory, sorting that spills to disk gives the same bytes as an in-memory sort, and duplicate
//! marking agrees with `samtools markdup` (Picard's rules).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::common::{demo_dir, genoa, genoa_ok, samtools_lines, tool, tool_lines};

/// `genoa align` of the demo reads (or `r1`/`r2`) against `reference` into `dir/name`.
fn align(
    reference: &Path,
    r1: &Path,
    r2: &Path,
    dir: &Path,
    name: &str,
    extra: &[&str],
) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "align",
        "-r",
        reference.to_str().unwrap(),
        "-1",
        r1.to_str().unwrap(),
        "-2",
        r2.to_str().unwrap(),
        "-R",
        "@RG\\tID:x\\tSM:S\\tLB:lib1",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    genoa_ok(&args);
    out
}

/// `samtools view` lines of a BAM (header excluded).
fn sam(bam: &Path) -> Vec<String> {
    samtools_lines(&["view", bam.to_str().unwrap()])
}

#[test]
fn saved_index_spilled_sort_threads_and_batches_give_the_same_bam() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo_dir();
    let (r1, r2) = (d.join("R1.fastq.gz"), d.join("R2.fastq.gz"));
    // Without a saved index (built in memory), one thread, in-memory sort.
    let plain = dir.path().join("plain.fa");
    std::fs::copy(d.join("ref.fa"), &plain).unwrap();
    let a = align(&plain, &r1, &r2, dir.path(), "a.bam", &["-@", "1"]);
    // With the saved index, two threads, small batches, runs spilled at 64 KiB.
    let indexed = dir.path().join("indexed.fa");
    std::fs::copy(d.join("ref.fa"), &indexed).unwrap();
    let o = genoa(&["index", indexed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.path().join("indexed.fa.genoa.idx").exists());
    let b = align(
        &indexed,
        &r1,
        &r2,
        dir.path(),
        "b.bam",
        &["-@", "2", "--batch-pairs", "333", "-m", "64K", "-v"],
    );
    let (sa, sb) = (sam(&a), sam(&b));
    assert!(sa.len() > 6000, "{}", sa.len());
    assert_eq!(sa, sb);
    // A gzipped FASTA, its index written elsewhere (`index -o`) and given with --index.
    let gz = dir.path().join("zipped.fa.gz");
    let mut w = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    w.write_all(&std::fs::read(d.join("ref.fa")).unwrap())
        .unwrap();
    w.finish().unwrap();
    let elsewhere = dir.path().join("idx");
    std::fs::create_dir(&elsewhere).unwrap();
    let idx = elsewhere.join("lambda.genoa.idx");
    let o = genoa(&["index", gz.to_str().unwrap(), "-o", idx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!dir.path().join("zipped.fa.gz.genoa.idx").exists());
    let c = align(
        &gz,
        &r1,
        &r2,
        &elsewhere,
        "c.bam",
        &["--index", idx.to_str().unwrap(), "-v"],
    );
    assert_eq!(sa, sam(&c));
    // Nothing but the outputs (and the reference files: .fai, digests, index) is left: sort
    // runs are removed.
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "a.bam",
            "a.bam.bai",
            "b.bam",
            "b.bam.bai",
            "idx",
            "indexed.fa",
            "indexed.fa.fai",
            "indexed.fa.genoa.digests",
            "indexed.fa.genoa.idx",
            "plain.fa",
            "plain.fa.fai",
            "plain.fa.genoa.digests",
            "zipped.fa.gz",
            "zipped.fa.gz.genoa.digests"
        ]
    );
    // The index answers region queries and the file passes samtools' checks.
    let q = tool("samtools", &["quickcheck", "-v", b.to_str().unwrap()]);
    assert!(q.status.success());
    let region = tool(
        "samtools",
        &["view", "-c", b.to_str().unwrap(), "NC_001416.1:20000-20300"],
    );
    let n: usize = String::from_utf8(region.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(n > 20, "{n}");
}

/// Writes the first `n` records of a gzipped FASTQ, then copies of every `every`-th one
/// (renamed `dupK`, qualities lowered to '+' (Q10) on every second copy, '5' (Q20) on the
/// others), so that every duplicate set has one best pair and no tie (tie-breaks differ
/// between tools; genoa's is covered by `align::markdup`'s unit tests).
fn with_duplicates(src: &Path, dst: &Path, n: usize, every: usize) {
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(src).unwrap(),
    ));
    let lines: Vec<String> = reader.lines().take(4 * n).map(Result::unwrap).collect();
    let mut out = std::fs::File::create(dst).unwrap();
    for l in &lines {
        writeln!(out, "{l}").unwrap();
    }
    for (k, rec) in lines.chunks(4).enumerate().filter(|(k, _)| k % every == 0) {
        let q = if k % (2 * every) == 0 { "+" } else { "5" };
        let qual = q.repeat(rec[3].len());
        writeln!(out, "@dup{k}\n{}\n+\n{qual}", rec[1]).unwrap();
    }
}

#[test]
fn duplicates_are_the_ones_samtools_markdup_finds() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo_dir();
    let (r1, r2) = (dir.path().join("R1.fq"), dir.path().join("R2.fq"));
    with_duplicates(&d.join("R1.fastq.gz"), &r1, 1500, 7);
    with_duplicates(&d.join("R2.fastq.gz"), &r2, 1500, 7);
    let bam = align(&d.join("ref.fa"), &r1, &r2, dir.path(), "x.bam", &[]);
    let dups = |bam: &Path| -> Vec<String> {
        let o = tool(
            "samtools",
            &["view", "-F", "0x900", "-f", "0x400", bam.to_str().unwrap()],
        );
        let mut v: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        v.sort();
        v
    };
    let ours = dups(&bam);
    // The copies and their originals: one of each pair of reads is marked.
    assert!(ours.len() >= 2 * (1500 / 7), "{}", ours.len());
    // samtools: clear our flags, then collate | fixmate -m | sort | markdup.
    let script = format!(
        "samtools view -u --remove-flags 0x400 {bam} | samtools collate -O -u - {tmp}/c \
         | samtools fixmate -m -u - - | samtools sort -u - | samtools markdup - {tmp}/st.bam",
        bam = bam.display(),
        tmp = dir.path().display()
    );
    let o = tool("bash", &["-c", &script]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ours, dups(&dir.path().join("st.bam")));
    // The copies have the lower qualities: they are the ones marked.
    assert!(ours.iter().all(|l| l.starts_with("dup")), "{ours:?}");
}

/// Per library: (duplicate pairs, optical duplicate pairs) from a BAM's primary R1 records
/// (flag 0x400, `DT:Z:SQ`), libraries named by the read groups' LB.
fn duplicates_by_library(bam: &Path) -> std::collections::BTreeMap<String, (u64, u64)> {
    let header = samtools_lines(&["view", "-H", bam.to_str().unwrap()]);
    let lb: std::collections::HashMap<String, String> = header
        .iter()
        .filter(|l| l.starts_with("@RG"))
        .map(|l| {
            let tag = |t: &str| {
                l.split('\t')
                    .find_map(|f| f.strip_prefix(t))
                    .unwrap_or("")
                    .to_string()
            };
            (tag("ID:"), tag("LB:"))
        })
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for l in samtools_lines(&["view", "-F", "0x980", "-f", "0x440", bam.to_str().unwrap()]) {
        let rg = l.split('\t').find_map(|f| f.strip_prefix("RG:Z:")).unwrap();
        let e: &mut (u64, u64) = out.entry(lb[rg].clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(l.contains("\tDT:Z:SQ"));
    }
    out
}

#[test]
fn lanes_and_libraries_mark_duplicates_as_picard_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo_dir();
    let lanes = dir.path().join("lanes");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make_lanes.py");
    // Coordinates within Picard 2.27's 16-bit range (see the script).
    let o = tool(
        "python3",
        &[
            script.to_str().unwrap(),
            d.join("ref.fa").to_str().unwrap(),
            lanes.to_str().unwrap(),
            "--pairs",
            "2500",
            "--max-coord",
            "32767",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reference = d.join("ref.fa");
    let run = |name: &str, reads: &[String]| -> PathBuf {
        let out = dir.path().join(name);
        let mut args: Vec<String> = ["run", "-r", reference.to_str().unwrap(), "-s", "LANES"]
            .map(String::from)
            .to_vec();
        args.extend(reads.iter().cloned());
        args.extend([
            "-o".into(),
            out.to_str().unwrap().into(),
            "-@".into(),
            "2".into(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        genoa_ok(&args);
        out
    };
    let listed = run(
        "listed",
        &[
            "--fastq-list".into(),
            lanes.join("fastq_list.csv").to_str().unwrap().into(),
        ],
    );
    // The same lanes by -1/-2/-R, in another order.
    let mut by_args = Vec::new();
    for (lib, lane) in [("libB", 2), ("libA", 1), ("libB", 1), ("libA", 2)] {
        let f = |r: u8| lanes.join(format!("{lib}_L00{lane}_R{r}.fastq.gz"));
        by_args.extend([
            "-1".to_string(),
            f(1).to_str().unwrap().into(),
            "-2".into(),
            f(2).to_str().unwrap().into(),
            "-R".into(),
            format!("@RG\\tID:HFLOWCELL.{lane}.{lib}\\tSM:LANES\\tLB:{lib}\\tPL:ILLUMINA"),
        ]);
    }
    let reordered = run("reordered", &by_args);
    let bam = |o: &Path| o.join("LANES.bam");
    assert_eq!(sam(&bam(&listed)), sam(&bam(&reordered)));
    // The same lanes as unaligned BAMs and a CRAM (`samtools import`, the read group in each
    // header), given in yet another order; and libA's as such beside libB's FASTQ with -R.
    let mut ubams = Vec::new();
    let mut mixed = Vec::new();
    for (lib, lane) in [("libA", 2), ("libB", 1), ("libB", 2), ("libA", 1)] {
        let f = |r: u8| lanes.join(format!("{lib}_L00{lane}_R{r}.fastq.gz"));
        // One of them an unaligned CRAM.
        let format = if (lib, lane) == ("libA", 1) {
            "cram"
        } else {
            "bam"
        };
        let u = dir
            .path()
            .join(format!("{lib}_L00{lane}.unaligned.{format}"));
        let o = tool(
            "samtools",
            &[
                "import",
                "-O",
                format,
                "-1",
                f(1).to_str().unwrap(),
                "-2",
                f(2).to_str().unwrap(),
                "-r",
                &format!("ID:HFLOWCELL.{lane}.{lib}"),
                "-r",
                "SM:LANES",
                "-r",
                &format!("LB:{lib}"),
                "-r",
                "PL:ILLUMINA",
                "-o",
                u.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        ubams.extend(["-1".to_string(), u.to_str().unwrap().into()]);
        mixed.extend(if lib == "libA" {
            vec!["-1".to_string(), u.to_str().unwrap().into()]
        } else {
            vec![
                "-1".to_string(),
                f(1).to_str().unwrap().into(),
                "-2".into(),
                f(2).to_str().unwrap().into(),
            ]
        });
        mixed.extend([
            "-R".into(),
            format!("@RG\\tID:HFLOWCELL.{lane}.{lib}\\tSM:LANES\\tLB:{lib}\\tPL:ILLUMINA"),
        ]);
    }
    assert_eq!(sam(&bam(&listed)), sam(&bam(&run("ubam", &ubams))));
    assert_eq!(sam(&bam(&listed)), sam(&bam(&run("mixed", &mixed))));
    let vcf = |o: &Path| {
        tool_lines(
            "bcftools",
            &["view", "-H", o.join("LANES.g.vcf.gz").to_str().unwrap()],
        )
    };
    assert_eq!(vcf(&listed), vcf(&reordered));
    let rgs: Vec<String> = samtools_lines(&["view", "-H", bam(&listed).to_str().unwrap()])
        .into_iter()
        .filter(|l| l.starts_with("@RG"))
        .collect();
    assert_eq!(rgs.len(), 4, "{rgs:?}");
    let ours = duplicates_by_library(&bam(&listed));
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(ours.values().all(|&(d, o)| d > 100 && o > 20), "{ours:?}");
    // One library for all four lanes: pairs of the two libraries at the same place now are
    // duplicates too.
    let one_library = run("one-library", &{
        let mut v = by_args.clone();
        v.iter_mut()
            .filter(|a| a.starts_with("@RG"))
            .for_each(|a| *a = a.replace("\\tLB:libA", "").replace("\\tLB:libB", ""));
        v
    });
    let all = duplicates_by_library(&bam(&one_library));
    assert!(
        all[""].0 > ours.values().map(|v| v.0).sum::<u64>(),
        "{all:?} vs {ours:?}"
    );
    // Picard MarkDuplicates (library-aware; optical distance 2,500): the same duplicate and
    // optical duplicate pairs per library.
    let Some(picard) = super::common::picard() else {
        return;
    };
    let metrics = dir.path().join("pic.txt");
    let o = tool(
        &picard,
        &[
            "MarkDuplicates",
            &format!("I={}", bam(&listed).display()),
            &format!("O={}", dir.path().join("pic.bam").display()),
            &format!("M={}", metrics.display()),
            "OPTICAL_DUPLICATE_PIXEL_DISTANCE=2500",
            "VALIDATION_STRINGENCY=LENIENT",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&metrics).unwrap();
    let mut lines = text.lines().skip_while(|l| !l.starts_with("LIBRARY"));
    let head: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let mut theirs = std::collections::BTreeMap::new();
    for l in lines.take_while(|l| !l.is_empty()) {
        let f: Vec<&str> = l.split('\t').collect();
        theirs.insert(
            f[0].to_string(),
            (
                f[col("READ_PAIR_DUPLICATES")].parse::<u64>().unwrap(),
                f[col("READ_PAIR_OPTICAL_DUPLICATES")]
                    .parse::<u64>()
                    .unwrap(),
            ),
        );
    }
    assert_eq!(ours, theirs);
}
