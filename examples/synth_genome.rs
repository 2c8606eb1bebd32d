//! Seeded synthetic genome with human-like repeats, and paired reads from it, for the
//! aligner's scale test (the issue asks for a ~500 Mb reference; nothing here is
//! downloaded).
//!
//! ```text
//! cargo run --release --example synth_genome -- OUTDIR [SIZE_MB=500] [PAIRS=200000] [SEED=1]
//! ```
//! Writes `OUTDIR/ref.fa` (contigs of ~25 Mb), `R1.fastq.gz`, `R2.fastq.gz` and
//! `reads.truth.tsv.gz` (the shared bench's truth format, so `mapeval.py` scores it).
//!
//! The genome: random sequence (41 % GC), then
//! * interspersed repeats: 300 families (300 bp–6 kb, Alu- to L1-like), copies inserted until
//!   they cover 40 % of the genome, each copy 2–20 % diverged from its family;
//! * segmental duplications: 10–100 kb segments copied elsewhere, 0.5–3 % diverged, 2 % of the
//!   genome;
//! * microsatellites (unit 1–6 bp, 20–200 bp long), 1 %;
//! * `N` gaps of 10 kb, two per contig.
//!
//! Reads: 2×150, fragment 400 ± 50 bp, forward–reverse, 0.5 % substitutions and 0.05 % indels
//! per base, qualities Q30–Q40; fragments overlapping an `N` are skipped.

use std::io::Write;

use fastrand::Rng;

/// A base at the human genome's 41 % GC: A/T 29.5 % each, C/G 20.5 % each.
fn base(rng: &mut Rng) -> u8 {
    match rng.u64(..1000) {
        0..295 => 0,
        295..500 => 1,
        500..705 => 2,
        _ => 3,
    }
}

/// A draw from the normal distribution (Box-Muller).
fn normal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    let u1 = 1.0 - rng.f64(); // (0, 1]
    let u2 = rng.f64();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn diverge(rng: &mut Rng, src: &[u8], per_mille: u64, out: &mut Vec<u8>) {
    for &b in src {
        match rng.u64(..1000) {
            r if r < per_mille / 10 => {}
            r if r < per_mille / 5 => out.extend([b, base(rng)]),
            r if r < per_mille => out.push((b + 1 + rng.u64(..3) as u8) % 4),
            _ => out.push(b),
        }
    }
}

const ACGT: &[u8; 5] = b"ACGTN";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(
        args.get(1)
            .expect("usage: synth_genome OUTDIR [SIZE_MB] [PAIRS] [SEED]"),
    );
    let size: usize = args.get(2).map_or(500, |s| s.parse().unwrap()) * 1_000_000;
    let pairs: usize = args.get(3).map_or(200_000, |s| s.parse().unwrap());
    let seed: u64 = args.get(4).map_or(1, |s| s.parse().unwrap());
    std::fs::create_dir_all(&out).unwrap();
    let mut rng = Rng::with_seed(seed);
    let mut g: Vec<u8> = (0..size).map(|_| base(&mut rng)).collect();
    let mut tmp = Vec::new();
    // Interspersed repeats.
    let families: Vec<Vec<u8>> = (0..300)
        .map(|i| {
            let len = if i % 3 == 0 {
                300
            } else {
                300 + rng.u64(..5700) as usize
            };
            (0..len).map(|_| base(&mut rng)).collect()
        })
        .collect();
    let mut covered = 0;
    while covered < size * 40 / 100 {
        let f = &families[rng.u64(..families.len() as u64) as usize];
        tmp.clear();
        let d = 20 + rng.u64(..181);
        diverge(&mut rng, f, d, &mut tmp);
        let at = rng.u64(..(size - tmp.len()) as u64) as usize;
        g[at..at + tmp.len()].copy_from_slice(&tmp);
        covered += tmp.len();
    }
    // Segmental duplications.
    let mut covered = 0;
    while covered < size * 2 / 100 {
        let len = 10_000 + rng.u64(..90_000) as usize;
        let from = rng.u64(..(size - len) as u64) as usize;
        let seg = g[from..from + len].to_vec();
        tmp.clear();
        let d = 5 + rng.u64(..26);
        diverge(&mut rng, &seg, d, &mut tmp);
        let at = rng.u64(..(size - tmp.len()) as u64) as usize;
        g[at..at + tmp.len()].copy_from_slice(&tmp);
        covered += tmp.len();
    }
    // Microsatellites.
    let mut covered = 0;
    while covered < size / 100 {
        let unit: Vec<u8> = (0..1 + rng.u64(..6)).map(|_| base(&mut rng)).collect();
        let len = 20 + rng.u64(..181) as usize;
        let at = rng.u64(..(size - len) as u64) as usize;
        for k in 0..len {
            g[at + k] = unit[k % unit.len()];
        }
        covered += len;
    }
    // Contigs with two N gaps each.
    let contig_len = 25_000_000.min(size);
    let contigs: Vec<(String, usize, usize)> = (0..size.div_ceil(contig_len))
        .map(|i| {
            let s = i * contig_len;
            (format!("chr{}", i + 1), s, (s + contig_len).min(size))
        })
        .collect();
    for &(_, s, e) in &contigs {
        for _ in 0..2 {
            if e - s > 40_000 {
                let at = s + 10_000 + rng.u64(..(e - s - 30_000) as u64) as usize;
                g[at..at + 10_000].fill(4);
            }
        }
    }
    let mut fa = std::io::BufWriter::new(std::fs::File::create(out.join("ref.fa")).unwrap());
    for (name, s, e) in &contigs {
        writeln!(fa, ">{name}").unwrap();
        for line in g[*s..*e].chunks(60) {
            let l: Vec<u8> = line.iter().map(|&b| ACGT[b as usize]).collect();
            fa.write_all(&l).unwrap();
            fa.write_all(b"\n").unwrap();
        }
    }
    fa.flush().unwrap();
    // Reads.
    let gz = |name: &str| {
        flate2::write::GzEncoder::new(
            std::io::BufWriter::new(std::fs::File::create(out.join(name)).unwrap()),
            flate2::Compression::fast(),
        )
    };
    let (mut r1, mut r2, mut truth) = (
        gz("R1.fastq.gz"),
        gz("R2.fastq.gz"),
        gz("reads.truth.tsv.gz"),
    );
    writeln!(
        truth,
        "#name\thap\tcontig\tr1_pos\tr1_strand\tr2_pos\tr2_strand"
    )
    .unwrap();
    let comp = |b: u8| if b < 4 { 3 - b } else { 4 };
    let mut made = 0;
    let mut read = Vec::new();
    while made < pairs {
        let (name, s, e) = &contigs[rng.u64(..contigs.len() as u64) as usize];
        let frag = normal(&mut rng, 400.0, 50.0).clamp(200.0, 700.0) as usize;
        if e - s < frag + 10 {
            continue;
        }
        let start = s + rng.u64(..(e - s - frag) as u64) as usize;
        let f = &g[start..start + frag];
        if f.contains(&4) {
            continue;
        }
        made += 1;
        let forward_first = rng.u64(..2) == 0;
        let left: Vec<u8> = f[..150].to_vec();
        let right: Vec<u8> = f[frag - 150..].iter().rev().map(|&b| comp(b)).collect();
        let (a, b) = if forward_first {
            (&left, &right)
        } else {
            (&right, &left)
        };
        let rname = format!("s{made:08}");
        for (w, src) in [(&mut r1, a), (&mut r2, b)] {
            read.clear();
            diverge(&mut rng, src, 5, &mut read);
            read.resize(150, 0);
            let seq: Vec<u8> = read.iter().map(|&b| ACGT[b as usize]).collect();
            let qual: Vec<u8> = (0..150).map(|_| b'?' + rng.u64(..11) as u8).collect();
            writeln!(
                w,
                "@{rname}\n{}\n+\n{}",
                String::from_utf8(seq).unwrap(),
                String::from_utf8(qual).unwrap()
            )
            .unwrap();
        }
        let lpos = start - s + 1;
        let rpos = start - s + frag - 150 + 1;
        let (p1, s1, p2, s2) = if forward_first {
            (lpos, '+', rpos, '-')
        } else {
            (rpos, '-', lpos, '+')
        };
        writeln!(truth, "{rname}\t1\t{name}\t{p1}\t{s1}\t{p2}\t{s2}").unwrap();
    }
    for w in [r1, r2, truth] {
        w.finish().unwrap().flush().unwrap();
    }
    eprintln!(
        "synth_genome: {} bp in {} contigs, {pairs} pairs, into {}",
        size,
        contigs.len(),
        out.display()
    );
}
