#!/usr/bin/env python3
"""Hail's VDS combiner on genoa gVCFs, against `genoa aggregate`.

usage: hail_check.py GENOA_BIN WORKDIR [--samples 8] [--seed 7] [--min-gq 20] [--min-dp 10]
                     [--star-alleles]

With --star-alleles every other sample is run with `genoa run --star-alleles` (a SNP under the
sample's own deletion on the other haplotype as its own record with `*`, as HaplotypeCaller
writes it), so that the cohort mixes both forms.

Run with a Python that has PyPI `hail` (and a Java 11/17 runtime). Seeded and self-contained:

1. a 60-kb two-contig genome and a cohort of diploid samples drawn from a variant pool: shared
   and private SNPs, a multi-allelic SNP, insertions, deletions with other samples' SNPs inside
   them (spanning deletions), one sample at low depth (blocks and calls below the DP and GQ
   thresholds), and a stretch no read of four samples covers (zero-depth reference blocks);
2. error-free 2x100 read pairs per sample, `genoa run` per sample (gVCF), `genoa aggregate`
   over them (the cohort VCF's AC/AN at every site, with --min-gq/--min-dp);
3. Hail: `hl.init(local='local[2]')`, a reference genome from the FASTA and its .fai, the VDS
   combiner with explicit `intervals=` (one per contig: `use_genome_default_intervals` only knows
   GRCh37/38), `to_dense_mt`, GT from LGT/LA, the entries that fail GQ >= min-gq and DP >= min-dp
   (DP: the variant entry's DP, a reference block's MIN_DP) set missing, `hl.agg.call_stats`;
4. checks: every gVCF passes `genoa validate --profile gatk|hail|glnexus`; every gVCF combined; `gvcf_info` holds the allele-specific arrays and QUALapprox; at
   every site of the cohort VCF, AN and each ALT's AC equal Hail's for the same allele (Hail
   lists every allele any sample's record holds at a locus; alleles genoa lists only as `*`
   have no Hail row). Exit status 0 when everything matches.
"""
import argparse
import gzip
import os
import random
import subprocess
import sys


def rc(s):
    return s[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


def write_fasta(path, contigs):
    with open(path, "w") as fh:
        for name, seq in contigs:
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i:i + 60] + "\n")
    with open(path + ".fai", "w") as fh:
        off = 0
        for name, seq in contigs:
            off += len(name) + 2
            fh.write(f"{name}\t{len(seq)}\t{off}\t60\t61\n")
            off += len(seq) + (len(seq) + 59) // 60


def pool(rng, name, seq):
    """(pos 0-based, REF, ALT, frequency) sorted; at most one variant per 40 bases, except
    the SNPs placed inside deletions on purpose."""
    out = []
    taken = set()

    def free(p, span):
        return all(q not in taken for q in range(p - 20, p + span + 20))

    def take(p, span):
        taken.update(range(p, p + span))

    def other(b):
        return rng.choice([x for x in "ACGT" if x != b])

    def place(margin, span=1):
        """A free position at least `margin` from the ends, its `span` bases taken."""
        while True:
            p = rng.randrange(margin, len(seq) - margin)
            if free(p, span):
                take(p, span)
                return p

    for _ in range(12):
        # Deletions, each with a SNP inside it that other samples carry.
        n = rng.randint(3, 12)
        p = place(2000, n + 1)
        out.append((p, seq[p:p + n + 1], seq[p], rng.uniform(0.15, 0.5)))
        q = p + 1 + rng.randrange(n)
        out.append((q, seq[q], other(seq[q]), rng.uniform(0.2, 0.5)))
    for _ in range(8):
        p = place(2000)
        ins = "".join(rng.choice("ACGT") for _ in range(rng.randint(1, 8)))
        out.append((p, seq[p], seq[p] + ins, rng.uniform(0.1, 0.6)))
    for _ in range(60):
        p = place(1000)
        f = rng.choice([0.04, 0.1, 0.3, 0.5, 0.8])
        out.append((p, seq[p], other(seq[p]), f))
    # A multi-allelic SNP.
    p = place(1000)
    a, b = rng.sample([x for x in "ACGT" if x != seq[p]], 2)
    out.append((p, seq[p], a, 0.35))
    out.append((p, seq[p], b, 0.35))
    out.sort()
    return out


def haplotype(rng, seq, variants):
    """A haplotype carrying each variant with its frequency (never two that overlap)."""
    parts, at, carried = [], 0, []
    for p, ref, alt, f in variants:
        if p < at or rng.random() >= f:
            continue
        parts.append(seq[at:p])
        parts.append(alt)
        at = p + len(ref)
        carried.append((p, ref, alt))
    parts.append(seq[at:])
    return "".join(parts), carried


def reads(rng, hap, depth, skip, out1, out2, name, count):
    """Error-free 2x100 pairs (fragments 250-400) from `hap` at `depth`x, none over `skip`
    (a half-open interval of the haplotype's coordinates, approximately the reference's)."""
    pairs = len(hap) * depth // 200
    for _ in range(pairs):
        n = rng.randint(250, 400)
        s = rng.randrange(0, len(hap) - n)
        if skip and s < skip[1] and s + n > skip[0]:
            continue
        frag = hap[s:s + n]
        a, b = frag[:100], rc(frag[-100:])
        if rng.random() < 0.5:
            a, b = b, a
        count[0] += 1
        q = "I" * 100
        out1.write(f"@{name}.{count[0]}\n{a}\n+\n{q}\n")
        out2.write(f"@{name}.{count[0]}\n{b}\n+\n{q}\n")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r


def cohort_sites(path):
    """{(contig, pos): (REF, [ALTs], AN, [ACs])} of the cohort VCF."""
    out = {}
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.split("\t", 8)
            info = dict(kv.split("=", 1) for kv in f[7].split(";"))
            out[(f[0], int(f[1]))] = (
                f[3], f[4].split(","), int(info["AN"]), [int(x) for x in info["AC"].split(",")])
    return out


def normalise(ref, alt, site_ref):
    """`alt` (against `ref`) extended to `site_ref` (which `ref` is a prefix of)."""
    return alt + site_ref[len(ref):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("genoa")
    ap.add_argument("workdir")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--min-gq", type=int, default=20)
    ap.add_argument("--min-dp", type=int, default=10)
    ap.add_argument("--star-alleles", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    w = lambda *p: os.path.join(args.workdir, *p)
    rng = random.Random(args.seed)

    contigs = [("chr1", "".join(rng.choice("ACGT") for _ in range(40_000))),
               ("chr2", "".join(rng.choice("ACGT") for _ in range(20_000)))]
    ref = w("ref.fa")
    write_fasta(ref, contigs)
    pools = {name: pool(rng, name, seq) for name, seq in contigs}

    gvcfs = []
    deletions = []  # (contig, first deleted base, last deleted base), 1-based
    for i in range(args.samples):
        name = f"S{i}"
        depth = 8 if i == args.samples - 1 else 20
        count = [0]
        with gzip.open(w(f"{name}_R1.fastq.gz"), "wt", compresslevel=1) as r1, \
                gzip.open(w(f"{name}_R2.fastq.gz"), "wt", compresslevel=1) as r2:
            for cname, seq in contigs:
                # Samples 0-3: no read over chr1 24,800-26,700 (zero-depth blocks).
                skip = (24_800, 26_700) if cname == "chr1" and i < 4 else None
                for _ in range(2):
                    hap, carried = haplotype(rng, seq, pools[cname])
                    deletions += [(cname, p + 2, p + len(r)) for p, r, a in carried
                                  if len(r) > len(a)]
                    reads(rng, hap, depth // 2, skip, r1, r2, f"{name}.{cname}", count)
        out = w(f"{name}.out")
        if not os.path.exists(os.path.join(out, f"{name}.g.vcf.gz")):
            run([args.genoa, "run", "-r", ref, "-1", w(f"{name}_R1.fastq.gz"),
                 "-2", w(f"{name}_R2.fastq.gz"), "-s", name, "-o", out, "-@", "2",
                 *(["--star-alleles"] if args.star_alleles and i % 2 == 1 else [])])
        gvcfs.append(os.path.join(out, f"{name}.g.vcf.gz"))
        for profile in ("gatk", "hail", "glnexus"):
            run([args.genoa, "validate", "-r", ref, "--profile", profile, gvcfs[-1]])

    # With --star-alleles the cohort must hold `*` records (a sample's SNP under its own
    # deletion on the other haplotype), or the mix is not tested.
    stars = 0
    for g in gvcfs:
        with gzip.open(g, "rt") as fh:
            stars += sum(1 for l in fh if not l.startswith("#") and "*" in l.split("\t")[4].split(","))
    print(f"records with a * allele: {stars}")
    if args.star_alleles and stars == 0:
        sys.exit("hail_check: --star-alleles but no gVCF has a * record")

    # genoa aggregate with the genotype filter (gnomAD's adj) and without.
    modes = {"adj": (args.min_gq, args.min_dp), "all": (0, 0)}
    genoa_sites = {}
    for mode, (gq, dp) in modes.items():
        prefix = w(f"cohort-{mode}")
        for suffix in (".vcf.gz", ".vcf.gz.tbi", ".af.vcf.gz", ".af.vcf.gz.tbi"):
            if os.path.exists(prefix + suffix):
                os.remove(prefix + suffix)
        run([args.genoa, "aggregate", "-r", ref, "-o", prefix, "--min-count", "1",
             "--min-gq", str(gq), "--min-dp", str(dp), *gvcfs])
        genoa_sites[mode] = cohort_sites(prefix + ".vcf.gz")

    import hail as hl
    import shutil
    for old in (w("hail-tmp"), w("cohort.vds")):
        if os.path.exists(old):
            # A combiner plan left from an earlier run would be taken as done.
            shutil.rmtree(old)
    hl.init(local="local[2]", quiet=True, tmp_dir=w("hail-tmp"), log=w("hail.log"),
            spark_conf={"spark.driver.memory": "2g", "spark.ui.enabled": "false"})
    rg = hl.ReferenceGenome.from_fasta_file("genoa_test", ref, ref + ".fai")
    intervals = [hl.Interval(hl.Locus(c, 1, rg), hl.Locus(c, len(s), rg), includes_end=True)
                 for c, s in contigs]
    vds_path = w("cohort.vds")
    combiner = hl.vds.new_combiner(
        output_path=vds_path, temp_path=w("hail-tmp"), gvcf_paths=gvcfs,
        reference_genome=rg, intervals=intervals)
    combiner.run()
    vds = hl.vds.read_vds(vds_path)
    failures = []
    n_cols = vds.variant_data.count_cols()
    if n_cols != len(gvcfs):
        failures.append(f"the VDS has {n_cols} samples, not {len(gvcfs)}")
    info = vds.variant_data.gvcf_info.dtype
    print("gvcf_info:", info)
    for k in ("QUALapprox", "AS_QUALapprox", "AS_RAW_MQ", "AS_RAW_MQRankSum",
              "AS_RAW_ReadPosRankSum", "AS_SB_TABLE", "AS_VarDP", "RAW_MQandDP"):
        if k not in info:
            failures.append(f"gvcf_info has no {k}")
    n_qa = vds.variant_data.aggregate_entries(
        hl.agg.count_where(hl.is_defined(vds.variant_data.gvcf_info.QUALapprox)))
    n_var = vds.variant_data.aggregate_entries(hl.agg.count_where(hl.is_defined(vds.variant_data.LGT)))
    print(f"variant entries {n_var}, with QUALapprox {n_qa}")
    if n_qa != n_var:
        failures.append(f"{n_var - n_qa} variant entries without QUALapprox")
    print("reference entries:", vds.reference_data.entry.dtype)

    mt = hl.vds.to_dense_mt(vds)
    # A reference block's depth is its MIN_DP (genoa aggregate's rule).
    dp = hl.if_else(hl.is_defined(mt.LA), mt.DP, mt.MIN_DP)
    gt = hl.if_else(hl.is_defined(mt.LA), hl.vds.lgt_to_gt(mt.LGT, mt.LA), mt.LGT)
    stats = {}
    for mode, (gq, mdp) in modes.items():
        keep = (hl.coalesce(mt.GQ, 0) >= gq) & (hl.coalesce(dp, 0) >= mdp)
        stats[mode] = hl.agg.call_stats(hl.or_missing(keep, gt), mt.alleles)
    rows = mt.annotate_rows(**stats).rows().collect()
    print(f"{len(rows)} Hail rows")

    for mode in modes:
        sites = genoa_sites[mode]
        hail = {(r.locus.contig, r.locus.position): (r.alleles, r[mode].AN, r[mode].AC)
                for r in rows}
        compared = 0
        for (c, pos), (sref, alts, an, acs) in sorted(sites.items()):
            h = hail.get((c, pos))
            if h is None:
                failures.append(f"{mode} {c}:{pos}: genoa site {sref}>{','.join(alts)} has no Hail row")
                continue
            halleles, han, hac = h
            if han != an:
                failures.append(f"{mode} {c}:{pos}: AN genoa {an} Hail {han}")
            for alt, ac in zip(alts, acs):
                # Both REFs are the longest REF at the locus; compare at the longer one.
                long_ref = sref if len(sref) >= len(halleles[0]) else halleles[0]
                ga = normalise(sref, alt, long_ref)
                k = next((j for j, a in enumerate(halleles[1:], 1)
                          if normalise(halleles[0], a, long_ref) == ga), None)
                if k is None:
                    failures.append(f"{mode} {c}:{pos}: ALT {alt} not among Hail's {halleles}")
                elif hac[k] != ac:
                    failures.append(f"{mode} {c}:{pos} {alt}: AC genoa {ac} Hail {hac[k]}")
                compared += 1
        zero = [k for k in sites if k[0] == "chr1" and 25_000 <= k[1] < 26_500]
        inside = [k for k in sites
                  if any(c == k[0] and a <= k[1] <= b for c, a, b in deletions)]
        not_all = sum(1 for s in sites.values() if s[2] < 2 * len(gvcfs))
        print(f"{mode}: compared {len(sites)} sites, {compared} ALT alleles; sites in the "
              f"zero-depth stretch: {len(zero)}; inside a sample's deletion: {len(inside)}; "
              f"where some sample is not counted: {not_all}")
        if not zero or not inside:
            failures.append(f"{mode}: the cohort lacks a zero-depth or spanning-deletion site")
        if mode == "all":
            # No filter: samples 0-3's zero-depth blocks count as hom-ref there.
            for k in zero:
                if hail[k][1] < 8:
                    failures.append(f"{k}: AN {hail[k][1]}: zero-depth blocks not counted")
    for f in failures[:30]:
        print("MISMATCH", f)
    if failures:
        print(f"{len(failures)} mismatches")
        sys.exit(1)
    print("hail_check: OK")


if __name__ == "__main__":
    main()
