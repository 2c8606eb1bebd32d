//! The files genoa writes, read by their real consumers: htslib (through rust-htslib),
//! samtools, bcftools, tabix and the shared bench's gVCF checker.

use std::path::Path;

use rust_htslib::bam::{self, Read as _};
use rust_htslib::bcf::{self, Read as _};

use super::common::{demo_dir, demo_run, genoa, samtools_lines, tool, tool_lines};

#[test]
fn htslib_reads_the_bam_and_its_index() {
    let out = demo_run("formats", &[]);
    let path = out.join("SAMPLE.bam");
    assert!(out.join("SAMPLE.bam.bai").exists());
    let mut reader = bam::IndexedReader::from_path(&path).unwrap();
    let header = reader.header().clone();
    let text = String::from_utf8(header.as_bytes().to_vec()).unwrap();
    assert!(text.contains("@HD\tVN:1.6\tSO:coordinate"), "{text}");
    assert!(
        text.contains("\tM5:509bdb356475a21077713babc47a4a35"),
        "{text}"
    );
    assert!(text.contains("@RG\tID:SAMPLE\tSM:SAMPLE"), "{text}");
    assert!(text.contains("@PG\tID:genoa\tPN:genoa"), "{text}");
    // The reference's seqcol digest (as in the gVCF's ##seqcol line).
    assert!(
        text.contains("@CO\tseqcol:4GqchDNRflp1vCQJLJWjNGIMJnr0Eb7Z "),
        "{text}"
    );
    reader.fetch(("NC_001416.1", 10_000, 10_300)).unwrap();
    let mut n = 0;
    let mut last = 0;
    for r in reader.records() {
        let r = r.unwrap();
        assert!(r.pos() >= last, "records out of order");
        last = r.pos();
        assert!(r.is_paired());
        if !r.is_unmapped() {
            assert!(r.aux(b"NM").is_ok() && r.aux(b"MD").is_ok() && r.aux(b"RG").is_ok());
            assert!(r.cigar().iter().map(|c| c.len()).sum::<u32>() as usize >= r.seq_len());
        }
        if r.is_proper_pair() {
            assert_eq!(r.mtid(), r.tid());
            assert_ne!(r.insert_size(), 0);
        }
        n += 1;
    }
    assert!(n > 50, "only {n} records in a 300 bp window at 20x");
    let quick = tool("samtools", &["quickcheck", "-v", path.to_str().unwrap()]);
    assert!(
        quick.status.success(),
        "samtools quickcheck: {}",
        String::from_utf8_lossy(&quick.stdout)
    );
    // samtools agrees on the record count and finds the NM/MD tags right.
    let calmd = tool(
        "samtools",
        &[
            "calmd",
            "-e",
            path.to_str().unwrap(),
            demo_dir().join("ref.fa").to_str().unwrap(),
        ],
    );
    assert!(calmd.status.success());
    let stderr = String::from_utf8_lossy(&calmd.stderr);
    assert!(
        !stderr.contains("different NM") && !stderr.contains("different MD"),
        "{stderr}"
    );
}

#[test]
fn htslib_reads_the_gvcf_and_its_index() {
    let out = demo_run("formats", &[]);
    let path = out.join("SAMPLE.g.vcf.gz");
    assert!(out.join("SAMPLE.g.vcf.gz.tbi").exists());
    let mut reader = bcf::IndexedReader::from_path(&path).unwrap();
    let rid = reader.header().name2rid(b"NC_001416.1").unwrap();
    reader.fetch(rid, 0, None).unwrap();
    let mut covered = 0u64;
    let mut next = 0i64;
    for r in reader.records() {
        let r = r.unwrap();
        assert_eq!(r.pos(), next, "gap or overlap before {}", r.pos() + 1);
        let alleles: Vec<Vec<u8>> = r.alleles().iter().map(|a| a.to_vec()).collect();
        assert_eq!(alleles.last().unwrap(), b"<NON_REF>");
        let end = match r.info(b"END").integer().unwrap() {
            Some(v) => i64::from(v[0]),
            None => r.pos() + alleles[0].len() as i64,
        };
        assert!(end - r.pos() < 100_000);
        covered += (end - r.pos()) as u64;
        next = end;
        assert!(r.genotypes().is_ok());
        assert!(r.format(b"PL").integer().is_ok());
        assert!(r.format(b"GQ").integer().is_ok());
    }
    assert_eq!(covered, 48_502);
    let view = tool("bcftools", &["view", "-H", path.to_str().unwrap()]);
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    let tabix = tool("tabix", &["-l", path.to_str().unwrap()]);
    assert_eq!(String::from_utf8_lossy(&tabix.stdout).trim(), "NC_001416.1");
}

#[test]
fn the_shared_bench_finds_no_gvcf_violations() {
    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/eval.py");
    if !eval.exists() {
        eprintln!(
            "SKIPPED: {} not found (it sits beside the checkout in CI)",
            eval.display()
        );
        return;
    }
    let out = demo_run("formats", &[]);
    let o = tool(
        "python3",
        &[
            eval.to_str().unwrap(),
            "--gvcf-check",
            "--strict-non-ref",
            out.join("SAMPLE.g.vcf.gz").to_str().unwrap(),
            demo_dir().join("ref.fa").to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("PASS: no violations"),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn htslib_reads_the_cram_with_the_reference_and_finds_the_bam_records() {
    let cram_dir = demo_run("cram", &["--cram"]);
    let bam_dir = demo_run("formats", &[]);
    let cram = cram_dir.join("SAMPLE.cram");
    assert!(cram_dir.join("SAMPLE.cram.crai").exists());
    assert!(!cram_dir.join("SAMPLE.bam").exists());
    let reference = demo_dir().join("ref.fa");
    let sam = |path: &Path| {
        samtools_lines(&[
            "view",
            "-T",
            reference.to_str().unwrap(),
            path.to_str().unwrap(),
        ])
    };
    let from_cram = sam(&cram);
    assert_eq!(from_cram, sam(&bam_dir.join("SAMPLE.bam")));
    assert!(
        from_cram.iter().all(|l| l.matches("\tRG:Z:").count() == 1),
        "RG:Z must appear once per record"
    );
    let quick = tool("samtools", &["quickcheck", "-v", cram.to_str().unwrap()]);
    assert!(quick.status.success());
    // The index answers region queries (htslib through rust-htslib).
    let mut reader = bam::IndexedReader::from_path(&cram).unwrap();
    reader.set_reference(&reference).unwrap();
    reader.fetch(("NC_001416.1", 10_000, 10_300)).unwrap();
    let n = reader
        .records()
        .filter(|r| r.as_ref().is_ok_and(|r| !r.is_unmapped()))
        .count();
    assert!(n > 50, "{n}");
}

/// The demo reference plus a contig that repeats 6 kb of it: the reads from there also align to
/// the copy, as secondary records without SEQ (`*`) — the records that once made the CRAM writer
/// panic. The demo reads get 100 pairs of random bases appended, which stay unmapped and
/// unplaced (the CRAM's last, reference-less slice). Returns the reference and the outputs of
/// `genoa align` (with `--secondary` when `secondary`) to BAM and to CRAM.
fn aligned_with_secondaries(
    dir: &Path,
    secondary: bool,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let text = std::fs::read_to_string(demo_dir().join("ref.fa")).unwrap();
    let seq: String = text.lines().skip(1).collect();
    let fa = dir.join("ref.fa");
    std::fs::write(
        &fa,
        format!(">NC_001416.1\n{seq}\n>copy\n{}\n", &seq[10_000..16_000]),
    )
    .unwrap();
    let mut rng = super::common::Rng::with_seed(17);
    let mut mates = Vec::new();
    for (mate, name) in [(1, "R1.fastq.gz"), (2, "R2.fastq.gz")] {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::MultiGzDecoder::new(
                std::fs::File::open(demo_dir().join(name)).unwrap(),
            ),
            &mut text,
        )
        .unwrap();
        for k in 0..100 {
            let bases: String = genoa::genome::random_bases(&mut rng, 150)
                .iter()
                .map(|&b| genoa::genome::base_ascii(b) as char)
                .collect();
            text.push_str(&format!(
                "@junk{k}/{mate}\n{bases}\n+\n{}\n",
                "I".repeat(150)
            ));
        }
        let path = dir.join(name);
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        gz.finish().unwrap();
        mates.push(path);
    }
    let (bam, cram) = (dir.join("x.bam"), dir.join("x.cram"));
    for out in [&bam, &cram] {
        let mut args = vec![
            "align",
            "-r",
            fa.to_str().unwrap(),
            "-1",
            mates[0].to_str().unwrap(),
            "-2",
            mates[1].to_str().unwrap(),
            "-R",
            "@RG\\tID:x\\tSM:x\\tPL:ILLUMINA",
            "-o",
            out.to_str().unwrap(),
            "-@",
            "2",
        ];
        if secondary {
            args.push("--secondary");
        }
        let o = genoa(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    (fa, bam, cram)
}

/// The `.crai` genoa wrote beside `cram`, and the one `samtools index` builds from a copy of it
/// in `dir`.
fn crai_and_samtools_crai(cram: &Path, dir: &Path) -> (Vec<String>, Vec<String>) {
    let copy = dir.join("copy.cram");
    std::fs::copy(cram, &copy).unwrap();
    assert!(
        tool("samtools", &["index", copy.to_str().unwrap()])
            .status
            .success()
    );
    let crai = |p: &Path| tool_lines("gzip", &["-dc", p.to_str().unwrap()]);
    (
        crai(&genoa::io::with_suffix(cram, ".crai")),
        crai(&dir.join("copy.cram.crai")),
    )
}

#[test]
fn cram_keeps_secondary_records_without_seq_and_indexes_as_samtools_does() {
    let dir = tempfile::tempdir().unwrap();
    let (fa, bam, cram) = aligned_with_secondaries(dir.path(), true);
    let r = fa.to_str().unwrap();
    let from_bam = samtools_lines(&["view", bam.to_str().unwrap()]);
    let from_cram = samtools_lines(&["view", "-T", r, cram.to_str().unwrap()]);
    let secondary_without_seq = from_cram
        .iter()
        .filter(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f[1].parse::<u16>().unwrap() & 0x100 != 0 && f[9] == "*"
        })
        .count();
    assert!(secondary_without_seq > 100, "{secondary_without_seq}");
    assert_eq!(from_cram, from_bam);
    assert!(
        tool("samtools", &["quickcheck", "-v", cram.to_str().unwrap()])
            .status
            .success()
    );
    // The .crai written beside it is the one samtools builds from the file.
    let (ours, samtools) = crai_and_samtools_crai(&cram, dir.path());
    assert_eq!(ours, samtools);
    assert!(ours.iter().any(|l| l.starts_with("1\t")), "{ours:?}");
    assert!(ours.iter().any(|l| l.starts_with("-1\t")), "{ours:?}");
    let unplaced = samtools_lines(&["view", "-T", r, cram.to_str().unwrap(), "*"]);
    assert_eq!(unplaced.len(), 200);
    // Region queries through the index give the BAM's records.
    for region in ["NC_001416.1:10500-11000", "copy:1-800", "copy:5000-6000"] {
        assert_eq!(
            samtools_lines(&["view", "-T", r, cram.to_str().unwrap(), region]),
            samtools_lines(&["view", bam.to_str().unwrap(), region]),
            "{region}"
        );
    }
}

/// A CRAM written in parts, as the final merge writes it by genome range on several threads
/// (parts cut inside a contig, between contigs and before the unplaced records, each numbering
/// its records from where the part starts): samtools reads the BAM's records, builds the same
/// `.crai`, and answers region queries across the cuts.
#[test]
fn cram_written_in_parts_reads_and_indexes_as_one_stream() {
    use genoa::io::sink;
    let dir = tempfile::tempdir().unwrap();
    let (fa, bam, _) = aligned_with_secondaries(dir.path(), true);
    let reference = genoa::io::reference::Reference::load(&fa).unwrap();
    let header = noodles::bam::io::reader::Builder
        .build_from_path(&bam)
        .unwrap()
        .read_header()
        .unwrap();
    // The encoded records (block_size first), past the binary header.
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut noodles::bgzf::io::Reader::new(std::fs::File::open(&bam).unwrap()),
        &mut raw,
    )
    .unwrap();
    let u32_at = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().unwrap()) as usize;
    let mut at = 8 + u32_at(4);
    let n_ref = u32_at(at);
    at += 4;
    for _ in 0..n_ref {
        at += 4 + u32_at(at) + 4;
    }
    let mut records: Vec<Vec<u8>> = Vec::new();
    while at < raw.len() {
        let end = at + 4 + u32_at(at);
        records.push(raw[at..end].to_vec());
        at = end;
    }
    let contig = |r: &[u8]| i32::from_le_bytes(r[4..8].try_into().unwrap());
    let pos = |r: &[u8]| i32::from_le_bytes(r[8..12].try_into().unwrap());
    let cut = |f: &dyn Fn(&[u8]) -> bool| records.iter().position(|r| f(r)).unwrap();
    let cuts = [
        0,
        cut(&|r| contig(r) == 0 && pos(r) >= 20_000),
        cut(&|r| contig(r) == 1),
        cut(&|r| contig(r) == 1 && pos(r) >= 3_000),
        cut(&|r| contig(r) < 0),
        records.len(),
    ];
    assert!(cuts.windows(2).all(|w| w[0] < w[1]), "{cuts:?}");
    let write = |cram: &Path, reverse: bool| {
        let mut out = sink::create(cram, &header, &reference).unwrap();
        let maker = out.parts();
        // Written in either order (as threads may finish them), appended in order.
        let mut order: Vec<usize> = (0..cuts.len() - 1).collect();
        if reverse {
            order.reverse();
        }
        let mut parts: Vec<_> = order
            .iter()
            .map(|&i| {
                let base = dir.path().join(format!("part{i}"));
                let mut p = maker.create(&base, cuts[i] as u64).unwrap();
                for r in &records[cuts[i]..cuts[i + 1]] {
                    p.push(r).unwrap();
                }
                (i, p.finish().unwrap())
            })
            .collect();
        parts.sort_by_key(|p| p.0);
        let mut tapped = Vec::new();
        for (_, part) in &parts {
            out.append_part(part, &mut |batch: &[&[u8]]| {
                tapped.extend(batch.iter().map(|r| r.to_vec()));
                Ok(())
            })
            .unwrap();
            part.remove().unwrap();
        }
        out.finish().unwrap();
        assert_eq!(tapped, records);
    };
    let cram = dir.path().join("parts.cram");
    write(&cram, false);
    let first = std::fs::read(&cram).unwrap();
    // The same bytes whatever order the parts were made in (and whatever hash seeds the
    // writer's maps get).
    write(&cram, true);
    assert!(std::fs::read(&cram).unwrap() == first, "CRAM bytes differ");
    let r = fa.to_str().unwrap();
    let c = cram.to_str().unwrap();
    assert!(tool("samtools", &["quickcheck", "-v", c]).status.success());
    assert_eq!(
        samtools_lines(&["view", "-T", r, c]),
        samtools_lines(&["view", bam.to_str().unwrap()])
    );
    let (ours, samtools) = crai_and_samtools_crai(&cram, dir.path());
    assert_eq!(ours, samtools);
    for region in [
        "NC_001416.1:19500-20500",
        "NC_001416.1:40000-48502",
        "copy:2500-3500",
        "*",
    ] {
        assert_eq!(
            samtools_lines(&["view", "-T", r, c, region]),
            samtools_lines(&["view", bam.to_str().unwrap(), region]),
            "{region}"
        );
    }
}

/// Picard (htsjdk) decodes the CRAM to the BAM's records and finds nothing wrong with them.
/// ValidateSamFile is run on htsjdk's own decoding (SamFormatConverter) rather than on the
/// CRAM with `-R`: with a reference it recomputes NM from SEQ and throws on every mapped record
/// whose SEQ is `*` — BAM or CRAM, genoa's or minimap2's (broadinstitute/picard#2011).
#[test]
fn picard_decodes_the_cram_to_the_bam_records_and_validates_them() {
    let Some(picard) = super::common::picard() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (fa, bam, cram) = aligned_with_secondaries(dir.path(), true);
    let decoded = dir.path().join("htsjdk.bam");
    let o = tool(
        &picard,
        &[
            "SamFormatConverter",
            "-I",
            cram.to_str().unwrap(),
            "-R",
            fa.to_str().unwrap(),
            "-O",
            decoded.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // htsjdk writes the tags in another order: compare each record's tags as a set.
    let records = |p: &Path| -> Vec<String> {
        samtools_lines(&["view", p.to_str().unwrap()])
            .into_iter()
            .map(|l| {
                let mut f: Vec<&str> = l.split('\t').collect();
                f[11..].sort_unstable();
                f.join("\t")
            })
            .collect()
    };
    assert_eq!(records(&decoded), records(&bam));
    picard_finds_no_errors(&picard, &decoded, None);
}

/// Picard's ValidateSamFile (SUMMARY mode; with the reference when given) finds no errors.
fn picard_finds_no_errors(picard: &str, bam: &Path, reference: Option<&Path>) {
    let mut args = vec!["ValidateSamFile", "-I", bam.to_str().unwrap()];
    if let Some(r) = reference {
        args.extend(["-R", r.to_str().unwrap()]);
    }
    args.extend(["-MODE", "SUMMARY"]);
    let o = tool(picard, &args);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("No errors found"),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// By default the alternatives of a read in a repeat go to its primary's `XA` (as bwa-mem), no
/// secondary records are written, and Picard's ValidateSamFile with the reference finds
/// nothing wrong (it throws on SEQ-less secondary records, see above).
#[test]
fn default_bam_lists_alternatives_in_xa_and_passes_picard_with_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let (fa, bam, _) = aligned_with_secondaries(dir.path(), false);
    let lines = samtools_lines(&["view", bam.to_str().unwrap()]);
    let flag = |l: &String| l.split('\t').nth(1).unwrap().parse::<u16>().unwrap();
    assert!(lines.iter().all(|l| flag(l) & 0x100 == 0));
    let with_xa: Vec<&String> = lines.iter().filter(|l| l.contains("\tXA:Z:")).collect();
    assert!(with_xa.len() > 100, "{}", with_xa.len());
    // Reads of the copied 6 kb: placed on one copy, the other copy in XA; those inside it
    // (most) with MAPQ 0.
    let other = |l: &String| {
        let xa = l.split("\tXA:Z:").nth(1).unwrap();
        if l.split('\t').nth(2) == Some("copy") {
            xa.starts_with("NC_001416.1,")
        } else {
            xa.starts_with("copy,")
        }
    };
    assert!(with_xa.iter().all(|l| other(l)), "{:?}", &with_xa[..3]);
    let mapq0 = with_xa
        .iter()
        .filter(|l| l.split('\t').nth(4) == Some("0"))
        .count();
    assert!(2 * mapq0 > with_xa.len(), "{mapq0} of {}", with_xa.len());
    let Some(picard) = super::common::picard() else {
        return;
    };
    picard_finds_no_errors(&picard, &bam, Some(&fa));
}

#[test]
fn gq_band_presets_shape_the_reference_blocks() {
    let bam = demo_run("formats", &[]).join("SAMPLE.bam");
    let dir = tempfile::tempdir().unwrap();
    for (preset, bands) in [
        ("reblock", vec![20u32, 30, 40]),
        ("warp", (1..=9).map(|i| 10 * i).collect()),
    ] {
        let gvcf = dir.path().join(format!("{preset}.g.vcf.gz"));
        let o = genoa(&[
            "call",
            "-r",
            demo_dir().join("ref.fa").to_str().unwrap(),
            "-i",
            bam.to_str().unwrap(),
            "-o",
            gvcf.to_str().unwrap(),
            "--gq-bands",
            preset,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text =
            String::from_utf8(tool("bgzip", &["-dc", gvcf.to_str().unwrap()]).stdout).unwrap();
        // One header line per band, [0, first) … [last, 100).
        let mut edges = vec![0u32];
        edges.extend(&bands);
        edges.push(100);
        let want: Vec<String> = edges
            .windows(2)
            .map(|w| {
                format!(
                    "##GVCFBlock{0}-{1}=minGQ={0}(inclusive),maxGQ={1}(exclusive)",
                    w[0], w[1]
                )
            })
            .collect();
        let got: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("##GVCFBlock"))
            .collect();
        assert_eq!(got, want, "{preset}");
        // Neighbouring reference blocks never share a band: they would have been merged (the
        // demo contig is shorter than the 99,999-base block cap, so no block is cut by length).
        let band = |gq: u32| bands.partition_point(|&b| b <= gq);
        let mut last: Option<(u64, usize)> = None;
        let mut blocks = 0;
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = l.split('\t').collect();
            if !f[7].starts_with("END=") {
                last = None;
                continue;
            }
            blocks += 1;
            let keys: Vec<&str> = f[8].split(':').collect();
            let vals: Vec<&str> = f[9].split(':').collect();
            let gq: u32 = vals[keys.iter().position(|k| *k == "GQ").unwrap()]
                .parse()
                .unwrap();
            let pos: u64 = f[1].parse().unwrap();
            if let Some((end, b)) = last
                && end + 1 == pos
            {
                assert_ne!(b, band(gq), "{preset}: {l}");
            }
            let end: u64 = f[7]
                .trim_start_matches("END=")
                .split(';')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            last = Some((end, band(gq)));
        }
        assert!(blocks > 10, "{preset}: {blocks} blocks");
    }
    let bad = genoa(&[
        "call",
        "--gq-bands",
        "nine",
        "-r",
        "x",
        "-i",
        "y",
        "-o",
        "z",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected gatk, warp or reblock"));
}

#[test]
fn output_mode_variants_writes_the_gvcf_variants_without_non_ref() {
    let out = demo_run("formats", &[]);
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("x.vcf.gz");
    let o = genoa(&[
        "call",
        "-r",
        demo_dir().join("ref.fa").to_str().unwrap(),
        "-i",
        out.join("SAMPLE.bam").to_str().unwrap(),
        "-o",
        vcf.to_str().unwrap(),
        "--output-mode",
        "variants",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let body = |path: &Path| tool_lines("bcftools", &["view", "-H", path.to_str().unwrap()]);
    let plain = body(&vcf);
    // The gVCF's variant records that are calls (not the candidates it marks RefCall or
    // LowQual), with <NON_REF>, its AD and PL entries and the INFO keys that hold a <NON_REF>
    // entry or only serve joint genotyping removed.
    let gvcf_only = ["AS_", "QUALapprox=", "RAW_GT_COUNT=", "VarDP="];
    let expected: Vec<String> = body(&out.join("SAMPLE.g.vcf.gz"))
        .into_iter()
        .filter(|l| !l.split('\t').nth(7).unwrap().starts_with("END="))
        .filter(|l| l.split('\t').nth(6).unwrap() == ".")
        .map(|l| {
            let mut f: Vec<String> = l.split('\t').map(str::to_string).collect();
            f[4] = f[4].trim_end_matches(",<NON_REF>").to_string();
            f[7] = f[7]
                .split(';')
                .filter(|kv| !gvcf_only.iter().any(|p| kv.starts_with(p)))
                .collect::<Vec<_>>()
                .join(";");
            let mut s: Vec<String> = f[9].split(':').map(str::to_string).collect();
            let first = |v: &str, n: usize| v.split(',').take(n).collect::<Vec<_>>().join(",");
            s[1] = first(&s[1], 2);
            s[4] = first(&s[4], 3);
            f[9] = s.join(":");
            f.join("\t")
        })
        .collect();
    assert!(plain.len() > 20, "{}", plain.len());
    assert_eq!(plain, expected);
    let header = tool("bcftools", &["view", "-h", vcf.to_str().unwrap()]);
    let header = String::from_utf8_lossy(&header.stdout);
    assert!(
        !header.contains("NON_REF") && !header.contains("GVCFBlock"),
        "{header}"
    );
    assert!(dir.path().join("x.vcf.gz.tbi").exists());
}
