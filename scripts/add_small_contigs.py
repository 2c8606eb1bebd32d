#!/usr/bin/env python3
"""Appends small contigs to a FASTA, as GRCh38's ~3,000 unplaced, ALT and decoy contigs do.

    add_small_contigs.py REF.fa [--n 600] [--seed 22] [--min-len 2000] [--max-len 200000]

Lengths are log-uniform in 2-200 kb (or --min-len to --max-len), bases at 41 % GC; one in three is named like an ALT
haplotype (`chrN_KI000000v1_alt`), the others `chrUn_smallNNN_decoy` / `_random`. The issue-22
3 Gb measurement: `cargo run --release --example synth_genome -- DIR 3000 2000000 7` then this
script on DIR/ref.fa with the defaults (600 contigs, 24.9 Mb).
"""
import argparse
import math
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fasta")
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--min-len", type=int, default=2000)
    ap.add_argument("--max-len", type=int, default=200000)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    total = 0
    with open(a.fasta, "a") as f:
        for i in range(a.n):
            n = int(math.exp(rng.uniform(math.log(a.min_len), math.log(a.max_len))))
            total += n
            seq = "".join(rng.choices("ACGT", weights=[29.5, 20.5, 20.5, 29.5], k=n))
            kind = "decoy" if i % 3 == 0 else ("random" if i % 3 == 1 else "alt")
            if kind == "alt":
                name = f"chr{1 + i % 22}_KI{i:06d}v1_alt"
            else:
                name = f"chrUn_small{i:03d}_{kind}"
            f.write(f">{name}\n")
            for j in range(0, n, 60):
                f.write(seq[j : j + 60] + "\n")
    print(f"{a.n} contigs, {total} bp appended to {a.fasta}")


if __name__ == "__main__":
    main()
