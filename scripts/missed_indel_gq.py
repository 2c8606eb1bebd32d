#!/usr/bin/env python3
"""How confidently a gVCF claims hom-ref where the truth has an indel it missed.

usage: missed_indel_gq.py TRUTH.vcf.gz GVCF.g.vcf.gz REF.fa [--min-gq 20] [--show 5]

Both files are normalised with `bcftools norm -f REF -m -any` (left-aligned, split). A truth
indel is *missed* when the gVCF has no record with the same (CHROM, POS, REF, ALT) whose GT
holds that ALT. For each missed indel the reference blocks overlapping its REF span (for an
insertion, its anchor and the next base) are looked up in the gVCF; the indel is *claimed*
when one of them has GQ >= --min-gq. Prints the missed indels, how many are claimed (and the
fraction), and the GQ distribution of the blocks over them.
"""
import argparse
import bisect
import collections
import gzip
import subprocess
import sys


def norm(path, ref):
    out = subprocess.run(["bcftools", "norm", "-f", ref, "-m", "-any", "-Ov", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    return [l for l in out.stdout.splitlines() if not l.startswith("#")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("gvcf")
    ap.add_argument("ref")
    ap.add_argument("--min-gq", type=int, default=20)
    ap.add_argument("--show", type=int, default=5)
    a = ap.parse_args()

    truth = []
    for line in norm(a.truth, a.ref):
        f = line.split("\t")
        if len(f[3]) != len(f[4]) and not f[4].startswith("<"):
            truth.append((f[0], int(f[1]), f[3], f[4]))

    called = set()
    for line in norm(a.gvcf, a.ref):
        f = line.split("\t")
        fmt = dict(zip(f[8].split(":"), f[9].split(":")))
        gt = fmt.get("GT", ".").replace("|", "/").split("/")
        if f[4] not in ("<NON_REF>", "<*>") and "1" in gt:
            called.add((f[0], int(f[1]), f[3], f[4]))
    # Reference blocks, from the file as written (splitting a variant record leaves a
    # <NON_REF>-only record that is not a block).
    blocks = collections.defaultdict(list)  # contig -> [(start, end, gq)]
    with gzip.open(a.gvcf, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if f[4] not in ("<NON_REF>", "<*>"):
                continue
            fmt = dict(zip(f[8].split(":"), f[9].split(":")))
            end = int(f[1])
            for kv in f[7].split(";"):
                if kv.startswith("END="):
                    end = int(kv[4:])
            gq = int(fmt["GQ"]) if fmt.get("GQ", ".") not in (".", "") else 0
            blocks[f[0]].append((int(f[1]), end, gq))
    starts = {c: [b[0] for b in v] for c, v in blocks.items()}

    missed = [t for t in truth if t not in called]
    claimed = 0
    hist = collections.Counter()
    shown = 0
    for c, pos, ref, alt in missed:
        lo = pos
        hi = pos + len(ref) - 1 if len(ref) > 1 else pos + 1
        v = blocks.get(c, [])
        k = max(bisect.bisect_right(starts.get(c, []), lo) - 1, 0)
        best = None
        while k < len(v) and v[k][0] <= hi:
            if v[k][1] >= lo:
                best = v[k][2] if best is None else max(best, v[k][2])
            k += 1
        hist["no block" if best is None else f"GQ {min(best // 10 * 10, 90)}+"] += 1
        if best is not None and best >= a.min_gq:
            claimed += 1
            if shown < a.show:
                shown += 1
                print(f"claimed: {c}:{pos} {ref}>{alt} block GQ {best}", file=sys.stderr)
    n = len(missed)
    print(f"truth indels\t{len(truth)}")
    print(f"missed\t{n}")
    print(f"claimed hom-ref with GQ >= {a.min_gq}\t{claimed}\t{100.0 * claimed / max(n, 1):.2f}%")
    print("blocks over missed indels\t" + ", ".join(f"{k}: {v}" for k, v in sorted(hist.items())))


if __name__ == "__main__":
    main()
