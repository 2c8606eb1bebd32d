#!/usr/bin/env python3
"""Recomputes a gVCF's raw annotations from its BAM, independently of genoa, and reports how
many variant records carry them and agree.

usage: annotation_check.py GVCF BAM REF.fa [--min-mapq 20] [--min-bq 10] [--show N]

For every variant record (a record with an ALT other than <NON_REF>) the reads are read with
`samtools view` (primary, mapped, not duplicate or QC-failed, MAPQ >= --min-mapq) and each read
over the record's first base is classified here:

- SNP records (REF and every ALT one base): the read's base at POS with base quality (capped at
  MAPQ) >= --min-bq: REF, an ALT, or another base (<NON_REF>); otherwise uninformative.
- Other records: the tandem repeat the ALT's inserted or deleted bases sit in is found in the
  reference (--ref); a read carrying an indel of the ALT's net length inside the repeat (5
  bases of slack) supports that ALT; a read aligned without an indel over the whole repeat
  and 3 bases either side supports REF; a read soft-clipped (2+ bases) at the repeat supports
  the record's insertion when it is its only ALT; others are uninformative.

From the classification: RAW_MQandDP (every read whose alignment covers POS; for other records every read over the
whole REF span and one base past it, soft clips counted as aligned), SB and
AS_SB_TABLE, AS_RAW_MQ, and GATK's Mann-Whitney z (normal approximation with tie and
continuity corrections when a side has >= 10 reads, otherwise the exact mid-p over all rank
assignments, turned into z with Python's NormalDist) of MAPQ, base quality and read position.

A record is *plausible* when: every annotation is present; its own sums agree (SB = AS_SB_TABLE
summed, AS_RAW_MQ summed <= RAW_MQandDP's, SB total <= RAW_MQandDP's depth); RAW_MQandDP's depth
is within max(2, 10%) of the recomputed one and its RMS MAPQ within 1; each SB count within
max(2, 20%) of the recomputed one; each rank sum present in both within 0.5 of the recomputed
one (SNP records with no other record within 30 bases) or 1.5 (others: genoa assigns the
reads of active regions by their haplotype likelihoods, which also weigh nearby variants). GT is checked
against PL: the called genotype must have the lowest PL among the genotypes of REF and the
called ALTs.
"""
import argparse
import collections
import gzip
import itertools
import re
import subprocess
import sys
from statistics import NormalDist

CIGAR = re.compile(r"(\d+)([MIDNSHP=X])")


def mwu_z(alt, ref):
    n1, n2 = len(alt), len(ref)
    if n1 == 0 or n2 == 0:
        return None
    pooled = sorted([(v, 1) for v in alt] + [(v, 2) for v in ref])
    n = len(pooled)
    ranks = [0.0] * n
    ties = 0.0
    i = 0
    while i < n:
        j = i
        while j < n and pooled[j][0] == pooled[i][0]:
            j += 1
        for k in range(i, j):
            ranks[k] = (i + 1 + j) / 2.0
        c = j - i
        if c > 1 and c != n:
            ties += c ** 3 - c
        i = j
    r1 = sum(r for r, (_, s) in zip(ranks, pooled) if s == 1)
    u = r1 - n1 * (n1 + 1) / 2.0
    if n1 >= 10 or n2 >= 10:
        m = n1 * n2 / 2.0
        corr = 0.0 if ties == 0 else -0.5
        sigma = ((n1 * n2 / 12.0) * ((n + 1) - ties / (n * (n - 1)))) ** 0.5
        return (u - m - corr) / sigma
    counts = collections.Counter()
    for combo in itertools.combinations(range(n), n1):
        uu = sum(ranks[k] for k in combo) - n1 * (n1 + 1) / 2.0
        counts[round(2 * uu)] += 1
    total = sum(counts.values())
    below = sum(c for k, c in counts.items() if k < round(2 * u)) + counts[round(2 * u)] / 2.0
    return NormalDist().inv_cdf(below / total)


def parse_cigar(c):
    return [(int(n), op) for n, op in CIGAR.findall(c)]


class Read:
    __slots__ = ("pos", "end", "rev", "mapq", "seq", "qual", "cigar")

    def __init__(self, f):
        self.pos = int(f[3]) - 1
        self.rev = bool(int(f[1]) & 16)
        self.mapq = int(f[4])
        self.seq = f[9]
        self.qual = f[10]
        self.cigar = parse_cigar(f[5])
        self.end = self.pos + sum(n for n, op in self.cigar if op in "MD=XN")

    def index_at(self, pos):
        """(query index of reference pos, soft clips counted; aligned?) or None."""
        qi, ri = 0, self.pos
        for n, op in self.cigar:
            if op in "SI":
                qi += n
            elif op in "M=X":
                if ri <= pos < ri + n:
                    return qi + pos - ri, True
                qi += n
                ri += n
            elif op in "DN":
                if ri <= pos < ri + n:
                    return (qi - 1, False) if qi > 0 else None
                ri += n
        return None

    def indels(self):
        qi, ri = 0, self.pos
        for n, op in self.cigar:
            if op == "S":
                qi += n
            elif op in "M=X":
                qi += n
                ri += n
            elif op == "I":
                yield ri, n
                qi += n
            elif op == "D":
                yield ri, -n
                ri += n

    def clean_over(self, a, b):
        """Aligned without an indel over [a, b)."""
        qi, ri = 0, self.pos
        for n, op in self.cigar:
            if op in "M=X":
                ri += n
            elif op in "DN":
                if a <= ri < b or a <= ri + n - 1 < b:
                    return False
                ri += n
            elif op == "I":
                if a <= ri < b:
                    return False
        return True


def read_position(qi, length):
    return length - (qi + 1) if qi > length // 2 else qi


def parse_raw_ranks(text):
    out = []
    for item in text.split("|")[1:]:
        if item in ("", "NaN"):
            out.append(None)
        else:
            out.append(float(item.split(",")[0]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gvcf")
    ap.add_argument("bam")
    ap.add_argument("ref")
    ap.add_argument("--min-mapq", type=int, default=20)
    ap.add_argument("--min-bq", type=int, default=10)
    ap.add_argument("--show", type=int, default=5)
    args = ap.parse_args()

    ref_seq = {}
    name = None
    chunks = []
    with open(args.ref) as fh:
        for line in fh:
            if line.startswith(">"):
                if name is not None:
                    ref_seq[name] = "".join(chunks).upper()
                name, chunks = line[1:].split()[0], []
            else:
                chunks.append(line.strip())
    if name is not None:
        ref_seq[name] = "".join(chunks).upper()

    variants = collections.defaultdict(list)
    order = []
    with gzip.open(args.gvcf, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            alts = [a for a in f[4].split(",") if a != "<NON_REF>"]
            if not alts:
                continue
            info = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in f[7].split(";"))
            fmt = dict(zip(f[8].split(":"), f[9].split(":")))
            v = {
                "chrom": f[0], "pos": int(f[1]) - 1, "ref": f[3], "alts": alts,
                "non_ref": "<NON_REF>" in f[4].split(","), "info": info, "fmt": fmt,
                "reads": [],
            }
            if f[0] not in variants:
                order.append(f[0])
            variants[f[0]].append(v)

    flags = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
    proc = subprocess.Popen(
        ["samtools", "view", "-F", str(flags), "-q", str(args.min_mapq), args.bam],
        stdout=subprocess.PIPE, text=True, bufsize=1 << 20,
    )
    nxt = {c: 0 for c in variants}
    for line in proc.stdout:
        f = line.split("\t", 11)
        c = f[2]
        vs = variants.get(c)
        if not vs:
            continue
        r = Read(f)
        k = nxt[c]
        # Variants before this read's start (with slack for indel classification) are done.
        while k < len(vs) and vs[k]["pos"] < r.pos - 400:
            k += 1
        nxt[c] = k
        j = k
        while j < len(vs) and vs[j]["pos"] < r.end:
            if vs[j]["pos"] + len(vs[j]["ref"]) >= r.pos - 200:
                vs[j]["reads"].append(r)
            j += 1
    proc.wait()
    if proc.returncode != 0:
        sys.exit("samtools view failed")

    tally = collections.Counter()
    shown = 0
    for c in order:
        seq = ref_seq[c]
        for i, v in enumerate(variants[c]):
            # The repeat the record's indel sits in: [lo, hi).
            lo, hi = v["pos"], v["pos"] + len(v["ref"])
            for a in v["alts"]:
                net = len(a) - len(v["ref"])
                if net == 0:
                    continue
                unit = a[1:1 + net] if net > 0 else seq[v["pos"] + 1:v["pos"] + 1 - net]
                if not unit:
                    continue
                first = v["pos"] + 1
                x = first
                while x < len(seq) and seq[x] == unit[(x - first) % len(unit)]:
                    x += 1
                y = first - 1
                while y >= 0 and seq[y] == unit[(y - first) % len(unit)]:
                    y -= 1
                lo, hi = min(lo, y + 1), max(hi, x)
            v["span"] = (lo, hi)
            near = any(abs(w["pos"] - v["pos"]) <= 30
                       for w in variants[c][max(0, i - 3):i + 4] if w is not v)
            tally["records"] += 1
            snp = len(v["ref"]) == 1 and all(len(a) == 1 for a in v["alts"])
            alleles = [v["ref"]] + v["alts"]
            n = len(alleles) + (1 if v["non_ref"] else 0)
            strand = [[0, 0] for _ in range(n)]
            amq = [0] * n
            vals = {k: [[] for _ in range(n)] for k in ("mq", "bq", "rp")}
            raw_mq, raw_dp = 0, 0
            for r in v["reads"]:
                at = r.index_at(v["pos"])
                if snp:
                    covers = at is not None
                else:
                    # Reads over the whole REF span, soft clips counted as aligned.
                    lead = r.cigar[0][0] if r.cigar[0][1] == "S" else 0
                    tail = r.cigar[-1][0] if r.cigar[-1][1] == "S" else 0
                    covers = r.pos - lead <= v["pos"] and r.end + tail > v["pos"] + len(v["ref"])
                if covers:
                    raw_mq += r.mapq * r.mapq
                    raw_dp += 1
                if at is None:
                    continue
                allele = None
                qi, aligned = at
                if snp:
                    if aligned:
                        b = r.seq[qi]
                        q = min(ord(r.qual[qi]) - 33, r.mapq)
                        if b in "ACGT" and q >= args.min_bq:
                            allele = alleles.index(b) if b in alleles else n - 1
                else:
                    lo, hi = v["span"]
                    for k, a in enumerate(v["alts"]):
                        net = len(a) - len(v["ref"])
                        if net != 0 and any(lo - 5 <= p <= hi + 5 and d == net
                                            for p, d in r.indels()):
                            allele = k + 1
                            break
                        # An insertion the aligner clipped: a soft clip of 2+ bases at the
                        # repeat (the only ALT of the record).
                        if net > 0 and len(v["alts"]) == 1 and (
                                (r.cigar[0][1] == "S" and r.cigar[0][0] >= 2
                                 and lo - 2 <= r.pos <= hi + 2)
                                or (r.cigar[-1][1] == "S" and r.cigar[-1][0] >= 2
                                    and lo - 2 <= r.end <= hi + 2)):
                            allele = k + 1
                            break
                    if allele is None and r.pos <= lo - 3 and r.end >= hi + 3 \
                            and r.clean_over(lo, hi):
                        allele = 0
                if allele is None:
                    continue
                strand[allele][1 if r.rev else 0] += 1
                amq[allele] += r.mapq * r.mapq
                vals["mq"][allele].append(r.mapq)
                vals["rp"][allele].append(read_position(qi, len(r.seq)))
                if aligned:
                    vals["bq"][allele].append(ord(r.qual[qi]) - 33)

            info, fmt = v["info"], v["fmt"]
            problems = []
            need = ["RAW_MQandDP", "AS_SB_TABLE", "AS_RAW_MQ", "AS_RAW_MQRankSum",
                    "AS_RAW_ReadPosRankSum", "AS_RAW_BaseQRankSum"]
            missing = [k for k in need if k not in info] + ([] if "SB" in fmt else ["SB"])
            if missing:
                problems.append("missing " + ",".join(missing))
            else:
                g_mq, g_dp = map(int, info["RAW_MQandDP"].split(","))
                sb = list(map(int, fmt["SB"].split(",")))
                table = [list(map(int, t.split(","))) for t in info["AS_SB_TABLE"].split("|")]
                as_mq = [float(x) for x in info["AS_RAW_MQ"].split("|")]
                summed = [table[0][0], table[0][1], sum(t[0] for t in table[1:]),
                          sum(t[1] for t in table[1:])]
                if summed != sb:
                    problems.append(f"SB {sb} != AS_SB_TABLE summed {summed}")
                if sum(as_mq) > g_mq + 0.5 or sum(sb) > g_dp:
                    problems.append("allele sums exceed RAW_MQandDP")
                if abs(g_dp - raw_dp) > max(2, 0.1 * raw_dp):
                    problems.append(f"RAW_MQandDP depth {g_dp} vs {raw_dp}")
                elif raw_dp and g_dp and abs((g_mq / g_dp) ** 0.5 - (raw_mq / raw_dp) ** 0.5) > 1:
                    problems.append("RMS MAPQ")
                mine = [strand[0][0], strand[0][1], sum(s[0] for s in strand[1:]),
                        sum(s[1] for s in strand[1:])]
                for g, m in zip(sb, mine):
                    if abs(g - m) > max(2, 0.2 * m):
                        problems.append(f"SB {sb} vs {mine}")
                        break
                tol = 0.5 if snp and not near else 1.5
                for key, site_key, raw_key in (("mq", "MQRankSum", "AS_RAW_MQRankSum"),
                                               ("rp", "ReadPosRankSum", "AS_RAW_ReadPosRankSum"),
                                               ("bq", "BaseQRankSum", "AS_RAW_BaseQRankSum")):
                    alt_vals = [x for a in vals[key][1:] for x in a]
                    z = mwu_z(alt_vals, vals[key][0])
                    g = float(info[site_key]) if site_key in info else None
                    if z is not None and g is not None and abs(z - g) > tol:
                        problems.append(f"{site_key} {g:.3f} vs {z:.3f}")
                    raw = parse_raw_ranks(info[raw_key])
                    if len(raw) != n - 1:
                        problems.append(f"{raw_key} has {len(raw)} entries, not {n - 1}")
                    tally[f"has_{site_key}"] += g is not None
                    tally[f"both_{site_key}"] += g is not None and z is not None
            # GT vs PL.
            gt = [int(x) for x in re.split(r"[/|]", fmt["GT"]) if x != "."]
            pl = list(map(int, fmt["PL"].split(",")))
            m = len(alleles)
            tally["near"] += near
            if len(gt) == 2:
                idx = lambda a, b: b * (b + 1) // 2 + a if a <= b else a * (a + 1) // 2 + b
                called = pl[idx(*gt)]
                best = min(pl[idx(a, b)] for b in range(m) for a in range(b + 1))
            else:
                called = pl[gt[0]]
                best = min(pl[:m])
            if called != best:
                tally["gt_not_min_pl"] += 1
                problems.append(f"GT {fmt['GT']} PL {fmt['PL']}")
            tally["snp" if snp else "other"] += 1
            if problems:
                tally["implausible"] += 1
                tally["implausible_snp" if snp else "implausible_other"] += 1
                if shown < args.show:
                    shown += 1
                    print(f"{v['chrom']}:{v['pos'] + 1} {v['ref']}>{','.join(v['alts'])}: "
                          + "; ".join(problems), file=sys.stderr)
    total = tally["records"]
    ok = total - tally["implausible"]
    print(f"variant records\t{total}\t(SNP {tally['snp']}, other {tally['other']})")
    print(f"plausible\t{ok}\t{100.0 * ok / max(total, 1):.2f}%")
    print(f"implausible SNP/other\t{tally['implausible_snp']}\t{tally['implausible_other']}")
    print(f"GT not the lowest PL\t{tally['gt_not_min_pl']}")
    for k in ("MQRankSum", "ReadPosRankSum", "BaseQRankSum"):
        print(f"{k} present\t{tally['has_' + k]}\t(compared {tally['both_' + k]})")


if __name__ == "__main__":
    main()
