#!/usr/bin/env python3
"""How many truth variants no short-read caller can place, and the best F1 that leaves.

    scripts/placeability.py TRUTH.vcf.gz REF.fa [--read-len 150] [--fragment 300-500]
                            [--list OUT.tsv]
    scripts/placeability.py --self-test

A read of length L is *placeable* when its reference sequence occurs once in the genome (either
strand); a fragment is placeable when one of its two reads is (the aligner places the pair
through that read, as bwa and minimap2 do). A truth variant is *unplaceable* when no fragment
over it, of any length in --fragment, is placeable: every read pair that carries it fits one
or more other copies of the repeat equally well, so whether the variant sits in this copy or
another cannot be told from the reads. Whatever a caller does there costs at least one error in
expectation (no call: one FN; a call at every copy: one FP per other copy; a call at one copy
picked blind: right with probability 1/copies). So with U unplaceable of N truth variants of a
type, the best genotype-level F1 in expectation is 2(N-U) / (2(N-U) + U).

This counts from the reference alone (exact 150-mer repeats), so it is a lower bound on what is
lost: near-exact repeats also defeat placement in practice. Standard library only.
"""

import argparse
import gzip
import sys


def read_fasta(path):
    seqs, name, parts = {}, None, []
    with open(path) as f:
        for line in f:
            if line.startswith(">"):
                if name is not None:
                    seqs[name] = "".join(parts)
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip().upper())
    if name is not None:
        seqs[name] = "".join(parts)
    return seqs


def read_truth(path):
    """(chrom, pos, ref, alt, type) of every ALT allele."""
    out = []
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            c, pos, _, ref, alts = line.split("\t")[:5]
            for alt in alts.split(","):
                if alt.startswith("<") or alt in ("*", "."):
                    continue
                t = "SNP" if len(ref) == len(alt) == 1 else ("INDEL" if len(ref) != len(alt) else "OTHER")
                out.append((c, int(pos), ref, alt, t))
    return out


def unique_starts(seqs, L):
    """Per contig, a bytearray: 1 where the L-mer starting there occurs once in the genome."""
    comp = str.maketrans("ACGT", "TGCA")
    seen, dup = set(), set()
    for s in seqs.values():
        for t in (s, s.translate(comp)[::-1]):
            for i in range(len(t) - L + 1):
                h = hash(t[i:i + L])
                if h in seen:
                    dup.add(h)
                else:
                    seen.add(h)
    del seen
    return {c: bytearray(0 if hash(s[i:i + L]) in dup else 1 for i in range(len(s) - L + 1))
            for c, s in seqs.items()}


def placeable_fraction(uniq, n, p, L, lo, hi, step=3):
    """Fraction of fragments (length lo..hi, every `step` starts) over 0-based p with a unique read."""
    total = ok = 0
    for fl in range(lo, hi + 1, 25):
        for fs in range(p - fl + 1, p + 1, step):
            a, b = fs, fs + fl - L
            if not (a <= p < a + L or b <= p < b + L) or a < 0 or b + L > n:
                continue
            total += 1
            ok += uniq[a] or uniq[b]
    return ok / total if total else 0.0


def self_test():
    """A 30-kb random genome with a 2-kb block copied exactly: a variant in the middle of a copy
    is unplaceable, one near its edge partly placeable, one in unique sequence fully."""
    import random
    rng = random.Random(7)
    g = [rng.choice("ACGT") for _ in range(30_000)]
    g[20_000:22_000] = g[5_000:7_000]
    seqs = {"t": "".join(g)}
    uniq = unique_starts(seqs, 150)
    f = lambda p: placeable_fraction(uniq["t"], 30_000, p, 150, 300, 500)
    mid, edge, alone = f(6_000), f(5_100), f(12_000)
    assert mid == 0.0, mid
    assert 0.0 < edge < 1.0, edge
    assert alone == 1.0, alone
    print("placeability.py: self-test ok (middle %.3f, edge %.3f, unique %.3f)" % (mid, edge, alone))


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("truth")
    ap.add_argument("ref")
    ap.add_argument("--read-len", type=int, default=150)
    ap.add_argument("--fragment", default="300-500", help="fragment lengths considered, LO-HI")
    ap.add_argument("--list", help="write every variant's placeable fraction here (TSV)")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.fragment.split("-"))
    seqs = read_fasta(a.ref)
    truth = read_truth(a.truth)
    uniq = unique_starts(seqs, a.read_len)
    rows = []
    for c, pos, ref, alt, t in truth:
        if c not in seqs:
            sys.exit(f"placeability.py: {a.truth}: contig {c} is not in {a.ref}")
        f = placeable_fraction(uniq[c], len(seqs[c]), pos - 1, a.read_len, lo, hi)
        rows.append((c, pos, ref, alt, t, f))
    if a.list:
        with open(a.list, "w") as out:
            out.write("chrom\tpos\tref\talt\ttype\tplaceable_fraction\n")
            for r in rows:
                out.write("%s\t%d\t%s\t%s\t%s\t%.3f\n" % r)
    print("type\ttruth\tunplaceable\tbelow_10pct\tbest_gt_f1")
    for t in ("SNP", "INDEL"):
        fr = [r[5] for r in rows if r[4] == t]
        n, u = len(fr), sum(1 for f in fr if f == 0.0)
        u10 = sum(1 for f in fr if f < 0.1)
        tp = n - u
        best = 2 * tp / (2 * tp + u) if n else float("nan")
        print("%s\t%d\t%d\t%d\t%.5f" % (t, n, u, u10, best))


if __name__ == "__main__":
    main()
