#!/usr/bin/env python3
"""Brute-force checker for `genoa aggregate`.

usage: bruteforce.py --samples samples.tsv --min-count K [--min-gq G] [--min-dp D]
                     [--af AF.vcf.gz] [--cohort COHORT.vcf.gz]
                     [--region CHR[:START-END]] [--cohort-sites all|filtered]
                     [--an0-af any|dot|zero] [--max-diffs 20] GVCF...

Loads every record of every gVCF into memory (pure Python, gzip), recomputes per site the
allele counts of the semantics below by per-position lookups, and compares them with genoa's
allele-frequency VCF (--af) and/or the GTs of its cohort VCF (--cohort; each GT at the
sample's ploidy there, each PL `.` or of that ploidy's length: n values for n alleles when
haploid, n(n+1)/2 when diploid).
Prints `MATCH n_sites` (one line per compared file) or the first differences and exits 1.

Semantics:
  * reference block: ALT only <NON_REF> (or <*>), covers POS..END (INFO END, else POS);
    variant record: ALT has a real allele besides <NON_REF>; covers POS..POS+len(REF)-1.
  * site: (CHROM, POS) where some sample has a variant record starting at POS whose GT holds
    an index of a real ALT. Site REF = longest REF of all samples' variant records at POS; a
    sample allele with REF r is normalised by appending site_REF[len(r):] to REF and ALT.
    Site ALTs = normalised real alleles present in some GT at POS, sorted as strings, then `*`
    last if some sample needs it.
  * ploidy: a GT's haplotypes are its alleles split on / or | (`1` is one haplotype, `0/1`
    two); a GT of `.` (or no GT) is one missing haplotype when the record's PL has one value
    per allele (REF, ALTs, <NON_REF>), else two.
  * sample genotype at a site, per haplotype:
     (a) variant record starting at POS: 0 -> REF, real allele -> normalised ALT,
         <NON_REF> index or '.' -> missing;
     (b) else a variant record starting before POS and covering POS: with --spanning missing
         (the default, Hail's to_dense_mt) every haplotype missing; with --spanning star
         0 -> REF, any other index -> '*', '.' -> missing;
     (c) else a reference block covering POS: GT all 0 (whatever its MIN_DP, 0 included)
         -> all haplotypes (ploidy of the block's GT) REF, else all missing;
     (d) else two missing haplotypes.
  * genotype filter (--min-gq G, --min-dp D; default 0): a sample counts in AC/AN at a site
    only when the record its genotype comes from ((a), (b) or (c)) has GQ >= G and DP >= D
    (a block's MIN_DP, else its DP; missing = 0); the cohort GTs are compared unfiltered.
  * AN = non-missing haplotypes; AC per site ALT (including *); AF = AC/AN; the same for
    every group (each column of samples.tsv but `sample`, each value): AC_<col>_<v> ...,
    key characters outside [A-Za-z0-9_] replaced by `_`.
  * privacy floor K: site listed only if a real ALT (not *) has overall AC >= K; AC values with
    0 < AC < K are `.`, and so is their AF; groups with fewer than K samples get no keys;
    AN as is; AF compared numerically (tolerance 1e-6).
  * AF=AC/AN is undefined when AN == 0: --an0-af says what to accept there
    (any: `.` or 0 [default], dot: only `.`, zero: only a number equal to 0).
"""
import argparse
import bisect
import gzip
import re
import sys
from array import array
from collections import OrderedDict, defaultdict

NONREF = {"<NON_REF>", "<*>"}
TOL = 1e-6
TABSEP = "\t"
MIN_GQ = 0
MIN_DP = 0
SPANNING = "missing"


def num(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def passes(gq, dp):
    return gq >= MIN_GQ and dp >= MIN_DP


def opener(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path)


def parse_gt(s):
    """Haplotypes of a GT as written: `.` is one missing haplotype, `./.` two."""
    if s == "":
        return [None]
    return [None if a == "." else int(a) for a in re.split(r"[/|]", s)]


def gvcf_gt(fv, n_alleles):
    """A gVCF record's haplotypes: its GT's, or for `.` or no GT the ploidy its PL implies."""
    s = fv.get("GT", ".")
    if s not in (".", ""):
        return parse_gt(s)
    pl = fv.get("PL", ".")
    haploid = n_alleles > 1 and pl != "." and len(pl.split(",")) == n_alleles
    return [None] if haploid else [None, None]


def parse_region(s):
    if s is None:
        return None
    if ":" not in s:
        return (s, 1, 1 << 62)
    c, r = s.rsplit(":", 1)
    a, b = r.replace(",", "").split("-")
    return (c, int(a), int(b))


def sanitize(s):
    return re.sub(r"[^A-Za-z0-9_]", "_", s)


class Sample:
    def __init__(self, name):
        self.name = name
        self.var_at = {}                     # (chrom, pos) -> (ref, alts, gt)
        self.var_cover = {}                  # (chrom, base) -> (chrom, start) of a variant covering base
        self.blk_start = defaultdict(lambda: array("q"))
        self.blk_end = defaultdict(lambda: array("q"))
        self.blk_ok = defaultdict(bytearray)      # 1 = GT all 0 and MIN_DP (or DP) > 0
        self.blk_ploidy = defaultdict(bytearray)  # number of alleles in the block's GT
        self.blk_pass = defaultdict(bytearray)    # 1 = passes the genotype filter
        self.warnings = []


def load_gvcf(path, region):
    smp = None
    with opener(path) as f:
        for line in f:
            if line.startswith("##"):
                continue
            if line.startswith("#CHROM"):
                cols = line.rstrip("\n").split("\t")
                if len(cols) != 10:
                    sys.exit(f"{path}: expected exactly one sample column")
                smp = Sample(cols[9])
                continue
            c = line.rstrip("\n").split("\t")
            chrom, pos, ref, alts = c[0], int(c[1]), c[3], c[4].split(",")
            end = None
            for kv in c[7].split(";"):
                if kv.startswith("END="):
                    end = int(kv[4:])
            fmt = c[8].split(":")
            vals = c[9].split(":")
            fv = dict(zip(fmt, vals))
            gt = gvcf_gt(fv, len(alts) + 1)
            is_block = all(a in NONREF or a == "." for a in alts)
            if is_block:
                stop = end if end is not None else pos
            else:
                stop = pos + len(ref) - 1
            if region and (chrom != region[0] or stop < region[1] or pos > region[2]):
                continue
            if is_block:
                md = fv.get("MIN_DP", fv.get("DP", "."))
                try:
                    mdv = int(md)
                except ValueError:
                    mdv = 0
                ok = all(a == 0 for a in gt)
                smp.blk_pass[chrom].append(1 if passes(num(fv.get("GQ")), mdv) else 0)
                smp.blk_start[chrom].append(pos)
                smp.blk_end[chrom].append(stop)
                smp.blk_ok[chrom].append(1 if ok else 0)
                smp.blk_ploidy[chrom].append(len(gt))
            else:
                key = (chrom, pos)
                if key in smp.var_at:
                    smp.warnings.append(f"{path}: second variant record at {chrom}:{pos} ignored")
                    continue
                smp.var_at[key] = (ref, alts, gt,
                                   passes(num(fv.get("GQ")), num(fv.get("DP"))))
                for b in range(pos + 1, stop + 1):
                    if (chrom, b) in smp.var_cover:
                        smp.warnings.append(f"{path}: overlapping variant records at {chrom}:{b}")
                    smp.var_cover[(chrom, b)] = (chrom, pos)
    if smp is None:
        sys.exit(f"{path}: no #CHROM line")
    for chrom in smp.blk_start:
        s = smp.blk_start[chrom]
        if any(s[i] < s[i - 1] for i in range(1, len(s))):
            sys.exit(f"{path}: reference blocks unsorted on {chrom}")
    return smp


def block_at(smp, chrom, pos):
    """(callable, ploidy) of the reference block covering pos, None if no block covers it."""
    if chrom not in smp.blk_start:
        return None
    i = bisect.bisect_right(smp.blk_start[chrom], pos) - 1
    if i >= 0 and smp.blk_end[chrom][i] >= pos:
        return smp.blk_ok[chrom][i], smp.blk_ploidy[chrom][i], smp.blk_pass[chrom][i]
    return None


def compute_sites(samples, region):
    # site discovery
    site_keys = set()
    for smp in samples:
        for key, (ref, alts, gt, _) in smp.var_at.items():
            if region and not (key[0] == region[0] and region[1] <= key[1] <= region[2]):
                continue
            if any(a is not None and a >= 1 and alts[a - 1] not in NONREF for a in gt):
                site_keys.add(key)
    contig_order = {}
    for smp in samples:
        for chrom in list(smp.blk_start) + [k[0] for k in smp.var_at]:
            contig_order.setdefault(chrom, len(contig_order))
    sites = OrderedDict()
    for key in sorted(site_keys, key=lambda k: (contig_order[k[0]], k[1])):
        chrom, pos = key
        site_ref = ""
        for smp in samples:
            v = smp.var_at.get(key)
            if v and len(v[0]) > len(site_ref):
                site_ref = v[0]
        haps = {}
        ok = {}
        alts = set()
        star = False
        problems = []
        for smp in samples:
            v = smp.var_at.get(key)
            if v:                                        # (a)
                ref, ralts, gt, ok[smp.name] = v
                if not site_ref.startswith(ref):
                    problems.append(f"{smp.name}: REF {ref} not a prefix of site REF {site_ref}")
                ext = site_ref[len(ref):]
                h = []
                for a in gt:
                    if a is None:
                        h.append(None)
                    elif a == 0:
                        h.append("REF")
                    elif a - 1 < len(ralts) and ralts[a - 1] not in NONREF:
                        al = ralts[a - 1] + ext
                        h.append(al)
                        alts.add(al)
                    else:
                        h.append(None)
                haps[smp.name] = h
                continue
            cov = smp.var_cover.get(key)
            if cov:                                      # (b)
                gt = smp.var_at[cov][2]
                ok[smp.name] = smp.var_at[cov][3]
                if SPANNING == "missing":
                    haps[smp.name] = [None] * len(gt)
                    ok[smp.name] = False
                    continue
                h = []
                for a in gt:
                    if a is None:
                        h.append(None)
                    elif a == 0:
                        h.append("REF")
                    else:
                        h.append("*")
                        star = True
                haps[smp.name] = h
                continue
            b = block_at(smp, chrom, pos)                # (c)
            if b is not None:
                haps[smp.name] = (["REF"] if b[0] else [None]) * b[1]
                ok[smp.name] = bool(b[2])
                continue
            haps[smp.name] = [None, None]                # (d)
            ok[smp.name] = False
        site_alts = sorted(alts) + (["*"] if star else [])
        sites[key] = dict(ref=site_ref, alts=site_alts, haps=haps, ok=ok, problems=problems)
    return sites


def counts(haps, names, site_alts, ok):
    an = 0
    ac = [0] * len(site_alts)
    idx = {a: i for i, a in enumerate(site_alts)}
    for n in names:
        if not ok[n]:
            continue
        for h in haps[n]:
            if h is None:
                continue
            an += 1
            if h != "REF":
                ac[idx[h]] += 1
    return ac, an


def fmt_ac(ac, k):
    return ["." if 0 < x < k else str(x) for x in ac]


def expected_info(site, groups, all_names, k):
    """dict key -> list of expected strings (AF as float or '.'), for a site passing the floor."""
    out = {}
    for suffix, names in [("", all_names)] + groups:
        ac, an = counts(site["haps"], names, site["alts"], site["ok"])
        acs = fmt_ac(ac, k)
        afs = []
        for x, s in zip(ac, acs):
            if s == ".":
                afs.append(".")
            elif an == 0:
                afs.append("AN0")
            else:
                afs.append(x / an)
        out["AC" + suffix] = acs
        out["AN" + suffix] = [str(an)]
        out["AF" + suffix] = afs
    return out


def read_vcf(path):
    header, samples, recs = [], [], OrderedDict()
    with opener(path) as f:
        for line in f:
            if line.startswith("##"):
                header.append(line.rstrip("\n"))
                continue
            if line.startswith("#CHROM"):
                samples = line.rstrip("\n").split("\t")[9:]
                continue
            c = line.rstrip("\n").split("\t")
            key = (c[0], int(c[1]))
            if key in recs:
                recs[key + (len(recs),)] = c       # keep duplicates visible
            else:
                recs[key] = c
    return header, samples, recs


def in_region(key, region):
    return not region or (key[0] == region[0] and region[1] <= key[1] <= region[2])


def check_af(path, sites, groups, all_groups, all_names, k, region, an0, diffs):
    header, _, recs = read_vcf(path)
    info_hdr = {}
    for h in header:
        m = re.match(r"##INFO=<ID=([^,]+),Number=([^,]+),Type=([^,]+)", h)
        if m:
            info_hdr[m.group(1)] = (m.group(2), m.group(3))
    exp_sites = OrderedDict()
    for key, s in sites.items():
        ac, _ = counts(s["haps"], all_names, s["alts"], s["ok"])
        if any(x >= k for x, a in zip(ac, s["alts"]) if a != "*"):
            exp_sites[key] = s
    group_keys = {p + sfx for sfx, _ in all_groups for p in ("AC", "AN", "AF")}
    got_keys = [key for key in recs if in_region(key[:2], region)]
    for key in got_keys:
        if len(key) > 2:
            diffs.append(f"AF {key[0]}:{key[1]}: duplicate record")
    got = {key: recs[key] for key in got_keys if len(key) == 2}
    for key in exp_sites:
        if key not in got:
            s = exp_sites[key]
            ac, an = counts(s["haps"], all_names, s["alts"], s["ok"])
            diffs.append(f"AF {key[0]}:{key[1]}: site missing (REF {s['ref']} ALT "
                         f"{','.join(s['alts'])} AC {ac} AN {an})")
    for key, c in got.items():
        if key not in exp_sites:
            why = "not a site" if key not in sites else "below the privacy floor"
            diffs.append(f"AF {key[0]}:{key[1]}: unexpected record ({why}): {TABSEP.join(c[:8])[:200]}")
            continue
        s = exp_sites[key]
        where = f"AF {key[0]}:{key[1]}"
        if len(c) != 8:
            diffs.append(f"{where}: {len(c)} columns, expected 8")
        if c[3] != s["ref"]:
            diffs.append(f"{where}: REF {c[3]} expected {s['ref']}")
        alts = c[4].split(",")
        if alts != s["alts"]:
            diffs.append(f"{where}: ALT {c[4]} expected {','.join(s['alts'])}")
            continue
        info = {}
        for kv in c[7].split(";"):
            if "=" in kv:
                a, b = kv.split("=", 1)
                info[a] = b.split(",")
            elif kv not in ("", "."):
                info[kv] = []
        exp = expected_info(s, groups, all_names, k)
        for key2 in info:
            if re.match(r"^(AC|AN|AF)(_|$)", key2) and key2 not in exp:
                reason = "group with fewer than K samples" if key2 in group_keys else "unknown group"
                diffs.append(f"{where}: unexpected INFO {key2}={','.join(info[key2])} ({reason})")
        for key2, ev in exp.items():
            if key2 not in info:
                diffs.append(f"{where}: INFO {key2} missing (expected {_show(ev)})")
                continue
            gv = info[key2]
            if len(gv) != len(ev):
                diffs.append(f"{where}: {key2}={','.join(gv)} expected {_show(ev)}")
                continue
            bad = False
            for g, e in zip(gv, ev):
                if e == "AN0":
                    if g == "." and an0 in ("any", "dot"):
                        continue
                    if g != "." and an0 in ("any", "zero") and _num(g) == 0:
                        continue
                    bad = True
                elif isinstance(e, float):
                    x = _num(g)
                    if x is None or abs(x - e) > TOL:
                        bad = True
                elif g != e:
                    bad = True
            if bad:
                diffs.append(f"{where}: {key2}={','.join(gv)} expected {_show(ev)}")
        for key2 in info:
            if key2 not in info_hdr:
                diffs.append(f"{where}: INFO {key2} has no ##INFO header line")
    for key2, want in [("AC", "A"), ("AF", "A"), ("AN", "1")]:
        if key2 in info_hdr and info_hdr[key2][0] != want:
            diffs.append(f"AF header: INFO {key2} Number={info_hdr[key2][0]}, expected {want}")
    return len(exp_sites), len(got)


def _num(s):
    try:
        return float(s)
    except ValueError:
        return None


def _show(ev):
    return ",".join(("%.6g" % e) if isinstance(e, float) else ("0|." if e == "AN0" else e)
                    for e in ev)


def check_cohort(path, sites, all_names, k, region, which, diffs):
    _, cnames, recs = read_vcf(path)
    missing_names = [n for n in all_names if n not in cnames]
    if missing_names:
        diffs.append(f"cohort: samples missing from the header: {missing_names[:10]}")
    extra = [n for n in cnames if n not in all_names]
    if extra:
        diffs.append(f"cohort: unexpected samples: {extra[:10]}")
    col = {n: i for i, n in enumerate(cnames)}
    exp_sites = OrderedDict()
    for key, s in sites.items():
        if which == "filtered":
            ac, _ = counts(s["haps"], all_names, s["alts"], s["ok"])
            if not any(x >= k for x, a in zip(ac, s["alts"]) if a != "*"):
                continue
        exp_sites[key] = s
    got = {key: c for key, c in recs.items() if in_region(key[:2], region)}
    for key in got:
        if len(key) > 2:
            diffs.append(f"cohort {key[0]}:{key[1]}: duplicate record")
    got = {key: c for key, c in got.items() if len(key) == 2}
    for key in exp_sites:
        if key not in got:
            diffs.append(f"cohort {key[0]}:{key[1]}: site missing")
    n_gt = 0
    for key, c in got.items():
        where = f"cohort {key[0]}:{key[1]}"
        if key not in exp_sites:
            diffs.append(f"{where}: unexpected record")
            continue
        s = exp_sites[key]
        if c[3] != s["ref"]:
            diffs.append(f"{where}: REF {c[3]} expected {s['ref']}")
        alleles = ["REF"] + c[4].split(",")
        if c[4].split(",") != s["alts"]:
            diffs.append(f"{where}: ALT {c[4]} expected {','.join(s['alts'])}")
        fmt = c[8].split(":") if len(c) > 8 else []
        if "GT" not in fmt:
            diffs.append(f"{where}: no GT in FORMAT")
            continue
        gi = fmt.index("GT")
        pi = fmt.index("PL") if "PL" in fmt else None
        n_al = len(alleles)
        for n in all_names:
            if n not in col:
                continue
            vals = c[9 + col[n]].split(":")
            gts = vals[gi]
            try:
                got_h = [None if a is None else alleles[a] for a in parse_gt(gts)]
            except IndexError:
                diffs.append(f"{where} {n}: GT {gts} indexes past the alleles")
                continue
            exp_h = s["haps"][n]
            n_gt += 1
            if sorted(got_h, key=str) != sorted(exp_h, key=str):
                diffs.append(f"{where} {n}: GT {gts} ({_hs(got_h)}) expected {_hs(exp_h)}")
            pl = vals[pi] if pi is not None and pi < len(vals) else "."
            want = n_al if len(exp_h) == 1 else n_al * (n_al + 1) // 2
            if pl != "." and len(pl.split(",")) != want:
                diffs.append(f"{where} {n}: PL {pl} has {len(pl.split(','))} values, "
                             f"expected {want} (ploidy {len(exp_h)}, {n_al} alleles)")
    return len(exp_sites), n_gt


def _hs(h):
    return "/".join("." if a is None else a for a in h)


def read_samples(path, names):
    with open(path) as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    hdr = rows[0]
    if "sample" not in hdr:
        sys.exit(f"{path}: no `sample` column")
    si = hdr.index("sample")
    present = set(names)
    groups = OrderedDict()
    listed = set()
    for r in rows[1:]:
        listed.add(r[si])
        if r[si] not in present:
            print(f"warning: {path}: sample {r[si]} not among the gVCFs (ignored)", file=sys.stderr)
            continue
        for j, col in enumerate(hdr):
            if j == si or j >= len(r) or r[j] == "":
                continue
            groups.setdefault((col, r[j]), []).append(r[si])
    for n in names:
        if n not in listed:
            print(f"warning: gVCF sample {n} not in {path} (counted overall only)", file=sys.stderr)
    return [("_" + sanitize(col) + "_" + sanitize(v), m) for (col, v), m in groups.items()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", required=True)
    ap.add_argument("--min-count", type=int, required=True)
    ap.add_argument("--af")
    ap.add_argument("--cohort")
    ap.add_argument("--region")
    ap.add_argument("--cohort-sites", choices=["all", "filtered"], default="all")
    ap.add_argument("--an0-af", choices=["any", "dot", "zero"], default="any")
    ap.add_argument("--max-diffs", type=int, default=20)
    ap.add_argument("--dump", help="write the recomputed (unfiltered) sites to this TSV")
    ap.add_argument("--min-gq", type=int, default=0)
    ap.add_argument("--min-dp", type=int, default=0)
    ap.add_argument("--spanning", choices=["missing", "star"], default="missing")
    ap.add_argument("gvcfs", nargs="+")
    a = ap.parse_args()
    global MIN_GQ, MIN_DP, SPANNING
    MIN_GQ, MIN_DP, SPANNING = a.min_gq, a.min_dp, a.spanning
    if not a.af and not a.cohort and not a.dump:
        ap.error("nothing to do: give --af, --cohort or --dump")
    region = parse_region(a.region)
    samples = []
    for i, p in enumerate(a.gvcfs):
        samples.append(load_gvcf(p, region))
    names = [s.name for s in samples]
    if len(set(names)) != len(names):
        sys.exit("duplicate sample names among the gVCFs")
    for s in samples:
        for w in s.warnings[:5]:
            print("warning:", w, file=sys.stderr)
    groups = read_samples(a.samples, names)
    k = a.min_count
    big = [(sfx, m) for sfx, m in groups if len(m) >= k]
    sites = compute_sites(samples, region)
    for key, s in sites.items():
        for p in s["problems"]:
            print(f"warning: {key[0]}:{key[1]}: {p}", file=sys.stderr)
    n_star = sum(1 for s in sites.values() if s["alts"] and s["alts"][-1] == "*")
    n_multi = sum(1 for s in sites.values() if len([x for x in s["alts"] if x != "*"]) > 1)
    print(f"# {len(samples)} samples, {len(sites)} sites ({n_multi} multi-allelic, {n_star} with *), "
          f"groups {[(sfx[1:], len(m)) for sfx, m in groups]}, K={k}", file=sys.stderr)
    if a.dump:
        with open(a.dump, "w") as f:
            f.write("chrom\tpos\tref\talts\tAC\tAN\n")
            for key, s in sites.items():
                ac, an = counts(s["haps"], names, s["alts"], s["ok"])
                f.write(f"{key[0]}\t{key[1]}\t{s['ref']}\t{','.join(s['alts'])}\t"
                        f"{','.join(map(str, ac))}\t{an}\n")
    rc = 0
    if a.af:
        diffs = []
        n_exp, n_got = check_af(a.af, sites, big, groups, names, k, region, a.an0_af, diffs)
        if diffs:
            rc = 1
            print(f"MISMATCH {a.af}: {len(diffs)} differences ({n_exp} sites expected, {n_got} found)")
            for d in diffs[:a.max_diffs]:
                print("  " + d)
        else:
            print(f"MATCH {n_exp}")
    if a.cohort:
        diffs = []
        n_exp, n_gt = check_cohort(a.cohort, sites, names, k, region, a.cohort_sites, diffs)
        if diffs:
            rc = 1
            print(f"MISMATCH {a.cohort}: {len(diffs)} differences ({n_exp} sites expected)")
            for d in diffs[:a.max_diffs]:
                print("  " + d)
        else:
            print(f"MATCH {n_exp} (cohort, {n_gt} GTs)")
    sys.exit(rc)


if __name__ == "__main__":
    main()
