//! `genoa index` and `genoa align`: the saved index gives the same alignments as one built in
//! memory, sorting that spills to disk gives the same bytes as an in-memory sort, and duplicate
//! marking agrees with `samtools markdup` (Picard's rules).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::common::{demo_dir, genoa, samtools_lines, tool};

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
    let o = genoa(&args);
    assert!(
        o.status.success(),
        "genoa {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
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
    // Nothing but the outputs (and the reference files) is left: sort runs are removed.
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
            "indexed.fa",
            "indexed.fa.fai",
            "indexed.fa.genoa.idx",
            "plain.fa",
            "plain.fa.fai"
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
