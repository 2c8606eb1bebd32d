//! Sex chromosomes end to end on a tiny human-like genome (chr1, chrX with a PAR, chrY with
//! its PAR masked, chrM at high copy number, an ALT contig): the karyotype is estimated, chrX
//! outside the PAR and chrY are called haploid for a male, chrY not at all for a female, chrM
//! by the allele-fraction model, the ALT contig is not called, and the default QC policy fails
//! a declared sex the depth contradicts. Reads are simulated here (seeded, error-free).

use std::io::Write;
use std::path::Path;

use super::common::genoa;

const PAR_LEN: usize = 8_000;

struct Genome {
    chr1: Vec<u8>,
    x: Vec<u8>,
    y: Vec<u8>,
    m: Vec<u8>,
}

fn bases(rng: &mut fastrand::Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| b"ACGT"[rng.usize(..4)]).collect()
}

fn genome() -> Genome {
    let mut rng = fastrand::Rng::with_seed(19);
    let mut y = bases(&mut rng, 30_000);
    y[..PAR_LEN].fill(b'N');
    Genome {
        chr1: bases(&mut rng, 120_000),
        x: bases(&mut rng, 60_000),
        y,
        m: bases(&mut rng, 3_000),
    }
}

/// `seq` with a SNP every `every` bases from `from` (the next base of ACGT).
fn with_snps(seq: &[u8], from: usize, every: usize) -> Vec<u8> {
    let mut s = seq.to_vec();
    let mut i = from;
    while i < s.len() - 200 {
        let k = b"ACGT".iter().position(|&b| b == s[i]).unwrap();
        s[i] = b"ACGT"[(k + 1) % 4];
        i += every;
    }
    s
}

/// Error-free 2x100 pairs (fragments of 250-400) from `copy` at `depth`x, appended to the
/// FASTQs.
fn reads(
    copy: &[u8],
    depth: usize,
    rng: &mut fastrand::Rng,
    r1: &mut impl Write,
    r2: &mut impl Write,
    n: &mut usize,
) {
    let pairs = copy.len() * depth / 200;
    let rc = |s: &[u8]| -> Vec<u8> {
        s.iter()
            .rev()
            .map(|&b| match b {
                b'A' => b'T',
                b'C' => b'G',
                b'G' => b'C',
                b'T' => b'A',
                _ => b'N',
            })
            .collect()
    };
    for _ in 0..pairs {
        let len = rng.usize(250..=400);
        let s = rng.usize(..copy.len() - len);
        let frag = &copy[s..s + len];
        if frag.contains(&b'N') {
            continue;
        }
        let (a, b) = (frag[..100].to_vec(), rc(&frag[len - 100..]));
        let (a, b) = if rng.bool() { (a, b) } else { (b, a) };
        *n += 1;
        let q = "I".repeat(100);
        writeln!(r1, "@p{n}\n{}\n+\n{q}", String::from_utf8_lossy(&a)).unwrap();
        writeln!(r2, "@p{n}\n{}\n+\n{q}", String::from_utf8_lossy(&b)).unwrap();
    }
}

/// Writes `ref.fa`, `par.bed` and a male (`xy`) or female sample's FASTQs into `dir`.
fn write_sample(dir: &Path, g: &Genome, male: bool) {
    let mut fa = String::new();
    let alt = with_snps(&g.chr1[40_000..60_000], 7, 150);
    for (name, s) in [
        ("chr1", &g.chr1),
        ("chrX", &g.x),
        ("chrY", &g.y),
        ("chrM", &g.m),
        ("chr1_alt", &alt),
    ] {
        fa.push_str(&format!(">{name}\n"));
        for line in s.chunks(60) {
            fa.push_str(std::str::from_utf8(line).unwrap());
            fa.push('\n');
        }
    }
    std::fs::write(dir.join("ref.fa"), fa).unwrap();
    std::fs::write(dir.join("par.bed"), format!("chrX\t0\t{PAR_LEN}\n")).unwrap();
    let gz = |name: &str| {
        flate2::write::GzEncoder::new(
            std::fs::File::create(dir.join(name)).unwrap(),
            flate2::Compression::fast(),
        )
    };
    let (mut r1, mut r2) = (gz("R1.fastq.gz"), gz("R2.fastq.gz"));
    let mut rng = fastrand::Rng::with_seed(if male { 1 } else { 2 });
    let mut n = 0;
    // chr1: one copy with SNPs every 997 bases (hets), one plain.
    let chr1_var = with_snps(&g.chr1, 500, 997);
    reads(&chr1_var, 15, &mut rng, &mut r1, &mut r2, &mut n);
    reads(&g.chr1, 15, &mut rng, &mut r1, &mut r2, &mut n);
    // chrX: SNPs every 1,003 bases on the first X; the PAR's second copy is the Y's (its
    // reads map to chrX, whose PAR they share).
    let x_var = with_snps(&g.x, 300, 1_003);
    reads(&x_var, 15, &mut rng, &mut r1, &mut r2, &mut n);
    if male {
        reads(
            &g.x[..PAR_LEN + 400],
            15,
            &mut rng,
            &mut r1,
            &mut r2,
            &mut n,
        );
        reads(
            &with_snps(&g.y, PAR_LEN + 400, 1_009),
            15,
            &mut rng,
            &mut r1,
            &mut r2,
            &mut n,
        );
    } else {
        reads(&g.x, 15, &mut rng, &mut r1, &mut r2, &mut n);
    }
    // chrM at 40 copies: one homoplasmic SNP set, and a 20 % minor copy with one more SNP.
    let m_major = with_snps(&g.m, 1_000, 2_000_000);
    let mut m_minor = m_major.clone();
    m_minor[2_000] = if m_minor[2_000] == b'A' { b'C' } else { b'A' };
    reads(&m_major, 15 * 32, &mut rng, &mut r1, &mut r2, &mut n);
    reads(&m_minor, 15 * 8, &mut rng, &mut r1, &mut r2, &mut n);
    r1.finish().unwrap();
    r2.finish().unwrap();
}

fn run(dir: &Path, out: &str, extra: &[&str]) -> serde_json::Value {
    let p = |s: &str| dir.join(s).to_string_lossy().into_owned();
    let (r, r1, r2, o, bed) = (
        p("ref.fa"),
        p("R1.fastq.gz"),
        p("R2.fastq.gz"),
        p(out),
        p("par.bed"),
    );
    let mut args = vec![
        "run",
        "-r",
        &r,
        "-1",
        &r1,
        "-2",
        &r2,
        "-s",
        "S",
        "-o",
        &o,
        "--par-bed",
        &bed,
    ];
    if !extra.contains(&"-@") {
        args.extend(["-@", "2"]);
    }
    args.extend_from_slice(extra);
    let res = genoa(&args);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    serde_json::from_slice(&std::fs::read(dir.join(out).join("S.qc.json")).unwrap()).unwrap()
}

/// (contig, POS, GT, FORMAT keys, sample values) of the gVCF's variant records.
fn variants(gvcf: &Path) -> Vec<(String, u64, String, String, String)> {
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(gvcf).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[4] != "<NON_REF>")
        .map(|f| {
            let gt = f[9].split(':').next().unwrap().to_string();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                gt,
                f[8].to_string(),
                f[9].to_string(),
            )
        })
        .collect()
}

fn records_on(gvcf: &Path, contig: &str) -> Vec<String> {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(gvcf).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .filter(|l| l.split('\t').next() == Some(contig))
        .map(str::to_string)
        .collect()
}

#[test]
fn sex_chromosomes_are_called_at_their_ploidy() {
    let g = genome();
    let tmp = tempfile::tempdir().unwrap();
    let (male, female) = (tmp.path().join("xy"), tmp.path().join("xx"));
    for (d, m) in [(&male, true), (&female, false)] {
        std::fs::create_dir_all(d).unwrap();
        write_sample(d, &g, m);
        assert!(
            genoa(&["index", &d.join("ref.fa").to_string_lossy()])
                .status
                .success()
        );
    }

    // Male, sex estimated.
    let qc = run(&male, "auto", &[]);
    let k = &qc["karyotype"];
    assert_eq!(k["estimated"], "XY", "{k}");
    assert_eq!(k["used_for_calling"], "XY");
    assert!(k["sex_agrees"].is_null());
    let x = k["x_ratio"].as_f64().unwrap();
    let y = k["y_ratio"].as_f64().unwrap();
    assert!((0.4..0.6).contains(&x) && (0.4..0.6).contains(&y), "{k}");
    let gvcf = male.join("auto/S.g.vcf.gz");
    let calls = variants(&gvcf);
    let on = |c: &str| calls.iter().filter(|v| v.0 == c).collect::<Vec<_>>();
    // chr1: hets. chrX outside the PAR and chrY: haploid "1", never a het.
    assert!(on("chr1").len() >= 100 && on("chr1").iter().all(|v| v.2 == "0/1"));
    let x_nonpar: Vec<_> = on("chrX")
        .into_iter()
        .filter(|v| v.1 as usize > PAR_LEN)
        .collect();
    assert!(x_nonpar.len() >= 40, "{}", x_nonpar.len());
    assert!(x_nonpar.iter().all(|v| v.2 == "1"), "{x_nonpar:?}");
    // The PAR is diploid: its SNPs are on one X only, so hets.
    let par: Vec<_> = on("chrX")
        .into_iter()
        .filter(|v| v.1 as usize <= PAR_LEN)
        .collect();
    assert!(
        !par.is_empty() && par.iter().all(|v| v.2 == "0/1"),
        "{par:?}"
    );
    assert!(on("chrY").len() >= 15 && on("chrY").iter().all(|v| v.2 == "1"));
    // Haploid reference blocks: GT 0 and two PLs.
    let y_block = records_on(&gvcf, "chrY")
        .into_iter()
        .find(|l| l.contains("<NON_REF>\t.\t.\tEND="))
        .unwrap();
    let sample = y_block.rsplit('\t').next().unwrap();
    assert!(sample.starts_with("0:"), "{y_block}");
    assert_eq!(sample.rsplit(':').next().unwrap().split(',').count(), 2);
    // chrM: the homoplasmic SNP is "1" with AF ~1, the 20 % one is GT 0 with AF ~0.2.
    let m = on("chrM");
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m.iter().all(|v| v.3.split(':').any(|k| k == "AF")));
    // AF: the ALT's, then <NON_REF>'s.
    let af = |v: &(String, u64, String, String, String)| -> f64 {
        let k = v.3.split(':').position(|k| k == "AF").unwrap();
        let all = v.4.split(':').nth(k).unwrap();
        assert_eq!(all.split(',').count(), 2, "{all}");
        all.split(',').next().unwrap().parse().unwrap()
    };
    assert_eq!((m[0].1, m[0].2.as_str()), (1_001, "1"));
    assert!(af(m[0]) > 0.95);
    assert_eq!((m[1].1, m[1].2.as_str()), (2_001, "0"));
    assert!((0.12..0.3).contains(&af(m[1])), "{:?}", m[1]);
    // The ALT contig is not called.
    assert!(records_on(&gvcf, "chr1_alt").is_empty());
    // genoa validate accepts the haploid records.
    let v = genoa(&[
        "validate",
        &gvcf.to_string_lossy(),
        "-r",
        &male.join("ref.fa").to_string_lossy(),
    ]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));

    // The same bytes with one thread and the scalar backend.
    run(&male, "one", &["-@", "1", "--backend", "scalar"]);
    let body = |p: &Path| -> Vec<String> {
        ["chr1", "chrX", "chrY", "chrM"]
            .iter()
            .flat_map(|c| records_on(p, c))
            .collect()
    };
    assert!(
        body(&gvcf) == body(&male.join("one/S.g.vcf.gz")),
        "gVCF records differ between 2 threads (auto) and 1 thread (scalar)"
    );

    // Female: XX, no chrY records, chrX diploid.
    let qc = run(&female, "auto", &[]);
    assert_eq!(qc["karyotype"]["estimated"], "XX");
    let fgvcf = female.join("auto/S.g.vcf.gz");
    assert!(records_on(&fgvcf, "chrY").is_empty());
    let fx = variants(&fgvcf);
    assert!(fx.iter().filter(|v| v.0 == "chrX").all(|v| v.2 == "0/1"));

    // The male declared XX: called as declared, and the default QC policy fails him.
    let qc = run(&male, "declared", &["--sex", "XX"]);
    assert_eq!(qc["karyotype"]["sex_agrees"], false);
    assert_eq!(qc["karyotype"]["used_for_calling"], "XX");
    let gate = genoa(&["qc", &male.join("declared/S.qc.json").to_string_lossy()]);
    assert_eq!(gate.status.code(), Some(1));
    let text = String::from_utf8_lossy(&gate.stdout);
    assert!(text.contains("karyotype.sex_agrees"), "{text}");
    // Declared as the depth says: the sex rule passes.
    let qc = run(&female, "declared", &["--sex", "XX"]);
    assert_eq!(qc["karyotype"]["sex_agrees"], true);
}
