#!/usr/bin/env python3
"""A sample sequenced as 2 libraries x 2 lanes, with planted duplicates, for testing lanes,
read groups and library-aware duplicate marking (issue 22).

    make_lanes.py REF.fa OUTDIR [--pairs N] [--seed S]

Writes OUTDIR/{libA,libB}_L00{1,2}_R{1,2}.fastq.gz, OUTDIR/fastq_list.csv (DRAGEN columns) and
OUTDIR/planted.tsv (name, library, lane, kind: unique / pcr / optical / cross-library copy).

- Library A: inserts ~ N(300, 30); library B: ~ N(550, 55). Both are multiplexed on lanes 1
  and 2 of one flow cell, so reads of both libraries share tiles.
- Each read group holds N pairs (default 40,000). Of the molecules, 6 % are read again as a
  PCR duplicate (same library, any lane, any tile), 3 % as an optical duplicate (same library
  and lane, same tile, within 20-2,000 pixels), and 4 % of library B's molecules have exactly
  the coordinates of a library A molecule (not duplicates: another library).
- Illumina names `GENOA01:7:HFLOWCELL:LANE:TILE:X:Y`, 2x150, substitutions at 0.2 %,
  qualities drawn per base so duplicate sets have one best pair.
"""
import argparse
import gzip
import os
import random

COMP = str.maketrans("ACGTN", "TGCAN")


def read_fasta(path):
    seqs, name, buf = {}, None, []
    with open(path) as f:
        for line in f:
            if line.startswith(">"):
                if name:
                    seqs[name] = "".join(buf).upper()
                name, buf = line[1:].split()[0], []
            else:
                buf.append(line.strip())
    if name:
        seqs[name] = "".join(buf).upper()
    return seqs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("outdir")
    ap.add_argument("--pairs", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--read-len", type=int, default=150)
    ap.add_argument(
        "--max-coord",
        type=int,
        default=35000,
        help="largest x and y (Picard 2.27 keeps them as 16-bit values: 32767 at most)",
    )
    a = ap.parse_args()
    rng = random.Random(a.seed)
    seqs = read_fasta(a.ref)
    names = sorted(seqs)
    weights = [len(seqs[n]) for n in names]
    os.makedirs(a.outdir, exist_ok=True)
    L = a.read_len
    libs = {"libA": (300, 30), "libB": (550, 55)}

    def molecule(lib):
        mean, sd = libs[lib]
        while True:
            c = rng.choices(names, weights)[0]
            size = max(L + 20, int(rng.gauss(mean, sd)))
            if len(seqs[c]) <= size:
                continue
            start = rng.randrange(0, len(seqs[c]) - size)
            frag = seqs[c][start:start + size]
            if "N" in frag:
                continue
            return (c, start, size, rng.random() < 0.5)

    def reads_of(mol):
        c, start, size, flip = mol
        frag = seqs[c][start:start + size]
        if flip:
            frag = frag.translate(COMP)[::-1]
        r1 = frag[:L]
        r2 = frag[-L:].translate(COMP)[::-1]
        out = []
        for r in (r1, r2):
            s = list(r)
            for i in range(len(s)):
                if rng.random() < 0.002:
                    s[i] = rng.choice([b for b in "ACGT" if b != s[i]])
            q = "".join(chr(33 + rng.choice((25, 30, 34, 37, 37, 37, 40))) for _ in s)
            out.append(("".join(s), q))
        return out

    groups = [(lib, lane) for lib in libs for lane in (1, 2)]
    planted = []
    a_molecules = []
    files = {}
    records = {g: [] for g in groups}
    # Unique molecules first, per read group.
    per_group = {}
    for g in groups:
        lib, lane = g
        n_unique = int(a.pairs * 0.91)
        mols = []
        for _ in range(n_unique):
            if lib == "libB" and a_molecules and rng.random() < 0.04:
                m = rng.choice(a_molecules)
                kind = "cross-library"
            else:
                m = molecule(lib)
                kind = "unique"
                if lib == "libA":
                    a_molecules.append(m)
            tile = rng.choice([1101 + t for t in range(12)] + [2101 + t for t in range(12)])
            x, y = rng.randrange(1000, a.max_coord - 3000), rng.randrange(1000, a.max_coord - 3000)
            mols.append((m, tile, x, y, kind))
        per_group[g] = mols
    for g in groups:
        lib, lane = g
        mols = per_group[g]
        out = list(mols)
        for _ in range(a.pairs - len(mols)):
            m, tile, x, y, _k = rng.choice(mols)
            if rng.random() < 1 / 3:
                # optical: same lane, same tile, close by
                dx, dy = rng.randrange(20, 2000), rng.randrange(20, 2000)
                out.append((m, tile, min(x + dx, a.max_coord), min(y + dy, a.max_coord), "optical"))
            else:
                # PCR: same library, either lane, anywhere
                g2 = (lib, rng.choice((1, 2)))
                tile2 = rng.choice([1101 + t for t in range(12)])
                entry = (m, tile2, rng.randrange(1000, a.max_coord), rng.randrange(1000, a.max_coord), "pcr")
                if g2 == g:
                    out.append(entry)
                else:
                    records[g2].append(entry)
        records[g].extend(out)
    seen = set()
    for g in groups:
        lib, lane = g
        rng.shuffle(records[g])
        base = os.path.join(a.outdir, f"{lib}_L00{lane}")
        files[g] = (base + "_R1.fastq.gz", base + "_R2.fastq.gz")
        with gzip.open(files[g][0], "wt", compresslevel=1) as f1, gzip.open(
            files[g][1], "wt", compresslevel=1
        ) as f2:
            for m, tile, x, y, kind in records[g]:
                name = f"GENOA01:7:HFLOWCELL:{lane}:{tile}:{x}:{y}"
                while name in seen:
                    y += 1
                    name = f"GENOA01:7:HFLOWCELL:{lane}:{tile}:{x}:{y}"
                seen.add(name)
                (s1, q1), (s2, q2) = reads_of(m)
                f1.write(f"@{name} 1:N:0:ACGT\n{s1}\n+\n{q1}\n")
                f2.write(f"@{name} 2:N:0:ACGT\n{s2}\n+\n{q2}\n")
                planted.append((name, lib, lane, kind))
    with open(os.path.join(a.outdir, "fastq_list.csv"), "w") as f:
        f.write("RGID,RGSM,RGLB,Lane,Read1File,Read2File\n")
        for lib, lane in groups:
            r1, r2 = files[(lib, lane)]
            f.write(f"HFLOWCELL.{lane}.{lib},LANES,{lib},{lane},{os.path.basename(r1)},{os.path.basename(r2)}\n")
    with open(os.path.join(a.outdir, "planted.tsv"), "w") as f:
        f.write("name\tlibrary\tlane\tkind\n")
        for p in planted:
            f.write("\t".join(map(str, p)) + "\n")


if __name__ == "__main__":
    main()
