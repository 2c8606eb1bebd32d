#!/usr/bin/env bash
# Runs workflow/Snakefile locally on two small samples made from test-data/demo, each sharded
# (2 and 3 shards) and gathered, then checks that every gathered gVCF (and BAM) holds the same
# records as an unsharded `genoa run` of the same sample, that a second snakemake run has
# nothing to do, and that bcftools/samtools accept the outputs (when installed).
#
#   workflow/test.sh                      # genoa = target/release/genoa
#   GENOA=target/debug/genoa workflow/test.sh
#   SNAKEMAKE=/path/to/venv/bin/snakemake KEEP=1 workflow/test.sh   # KEEP=1: keep the temp dir
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

genoa=${GENOA:-target/release/genoa}
case $genoa in /*) ;; */*) genoa=$root/$genoa ;; *) genoa=$(command -v "$genoa" || true) ;; esac
[ -n "$genoa" ] && [ -x "$genoa" ] || {
  echo "workflow/test.sh: no genoa binary at ${GENOA:-target/release/genoa}; build it (cargo build --release) or set GENOA" >&2
  exit 1
}
snakemake=${SNAKEMAKE:-snakemake}
command -v "$snakemake" >/dev/null || {
  echo "workflow/test.sh: snakemake not found; pip install 'snakemake>=8,<10' (or set SNAKEMAKE)" >&2
  exit 1
}
echo "workflow/test.sh: $("$snakemake" --version | sed 's/^/snakemake /'), $("$genoa" --version) ($genoa)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/genoa-workflow.XXXXXX")
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "workflow/test.sh: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

fail() {
  echo "workflow/test.sh: FAIL: $*" >&2
  exit 1
}

# Two samples: A is the demo (3,230 pairs, 2 shards, its own read group); B is the demo three
# times over (9,690 pairs, 3 shards from the sheet's shards column, default read group).
demo=$root/test-data/demo
mkdir -p "$tmp/data"
cp "$demo/ref.fa" "$tmp/data/ref.fa"
cp "$demo/R1.fastq.gz" "$tmp/data/A_R1.fastq.gz"
cp "$demo/R2.fastq.gz" "$tmp/data/A_R2.fastq.gz"
cat "$demo/R1.fastq.gz" "$demo/R1.fastq.gz" "$demo/R1.fastq.gz" >"$tmp/data/B_R1.fastq.gz"
cat "$demo/R2.fastq.gz" "$demo/R2.fastq.gz" "$demo/R2.fastq.gz" >"$tmp/data/B_R2.fastq.gz"

rg_a='@RG\tID:A.lane1\tSM:A\tPL:ILLUMINA\tLB:libA'
run_args="--segment-pairs 2048"
{
  printf 'sample\tr1\tr2\tread_group\tshards\n'
  printf 'A\t%s\t%s\t%s\t\n' "$tmp/data/A_R1.fastq.gz" "$tmp/data/A_R2.fastq.gz" "$rg_a"
  printf 'B\t%s\t%s\t\t3\n' "$tmp/data/B_R1.fastq.gz" "$tmp/data/B_R2.fastq.gz"
} >"$tmp/samples.tsv"
cat >"$tmp/config.yaml" <<EOF
reference: $tmp/data/ref.fa
samples: $tmp/samples.tsv
outdir: $tmp/results
shards: 2
threads: 2
genoa: $genoa
run_args: "$run_args"
resources:
  index: {mem_mb: 1000, runtime: 5}
  align: {mem_mb: 1000, runtime: 5}
  gather: {mem_mb: 1000, runtime: 5}
EOF

smk=("$snakemake" -s "$root/workflow/Snakefile" --configfile "$tmp/config.yaml" --directory "$tmp"
  --cores 2 --resources mem_mb=4000)
echo "== snakemake (2 samples, 2 + 3 shards)"
if ! "${smk[@]}" --printshellcmds >"$tmp/snakemake.log" 2>&1; then
  tail -n 60 "$tmp/snakemake.log" >&2
  for f in "$tmp"/results/logs/*/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  fail "snakemake failed"
fi
grep -E "steps \(100%\) done|Nothing to be done" "$tmp/snakemake.log" || true
for job in "index " "reads_index " "align_shard " "gather "; do
  printf '  %-12s %s jobs\n' "$job" "$(grep -c "^rule ${job% }:\|^localrule ${job% }:" "$tmp/snakemake.log" || true)"
done
[ "$(grep -c '^rule align_shard:\|^localrule align_shard:' "$tmp/snakemake.log")" = 5 ] ||
  fail "expected 5 align_shard jobs (2 + 3 shards)"
# The demo reads are BGZF: each sample's files were indexed once, and each shard skipped the
# pairs of the others unread (B: 5 segments of 2,048 pairs; shard 1/3 aligns segments 0 and 3).
[ "$(grep -c '^rule reads_index:\|^localrule reads_index:' "$tmp/snakemake.log")" = 2 ] ||
  fail "expected 2 reads_index jobs (one per sample)"
grep -q "of 9690 pairs in the input, 5594 of them skipped unread" "$tmp/results/logs/align/B.shard-1-of-3.log" ||
  { cat "$tmp/results/logs/align/B.shard-1-of-3.log" >&2; fail "shard 1/3 of B did not skip the other shards' pairs"; }

echo "== a second run has nothing to do"
"${smk[@]}" --dry-run >"$tmp/snakemake-again.log" 2>&1 || { cat "$tmp/snakemake-again.log" >&2; fail "dry run failed"; }
grep -q "Nothing to be done" "$tmp/snakemake-again.log" || {
  cat "$tmp/snakemake-again.log" >&2
  fail "a second snakemake run would run jobs again"
}

for s in A B; do
  out=$tmp/results/$s
  echo "== sample $s"
  for f in "$s.bam" "$s.bam.bai" "$s.g.vcf.gz" "$s.g.vcf.gz.tbi" "$s.qc.json" "$s.report.html"; do
    [ -s "$out/$f" ] || fail "$out/$f is missing or empty"
  done
  # The shard directories are temp(): deleted once gathered.
  if compgen -G "$out/shards/$s.shard-*" >/dev/null; then fail "shard directories of $s left behind"; fi

  # The same sample in one unsharded run, with the same settings but the default read group
  # (the BAM records are compared without their RG tags; the sheet's @RG is checked below).
  # shellcheck disable=SC2086
  "$genoa" run -r "$tmp/data/ref.fa" -1 "$tmp/data/${s}_R1.fastq.gz" -2 "$tmp/data/${s}_R2.fastq.gz" \
    -s "$s" -o "$tmp/unsharded" -@ 2 $run_args 2>"$tmp/unsharded-$s.log" ||
    { cat "$tmp/unsharded-$s.log" >&2; fail "unsharded genoa run of $s failed"; }

  n=$(zcat "$out/$s.g.vcf.gz" | grep -vc '^##' || true)
  if ! cmp -s <(zcat "$out/$s.g.vcf.gz" | grep -v '^##') <(zcat "$tmp/unsharded/$s.g.vcf.gz" | grep -v '^##'); then
    diff <(zcat "$out/$s.g.vcf.gz" | grep -v '^##') <(zcat "$tmp/unsharded/$s.g.vcf.gz" | grep -v '^##') | head -n 20 >&2 || true
    fail "$s: gathered gVCF records differ from the unsharded run's"
  fi
  echo "  gVCF: $n lines past the ## header, identical to the unsharded run"

  if command -v samtools >/dev/null; then
    samtools quickcheck -v "$out/$s.bam" || fail "samtools quickcheck rejects $out/$s.bam"
    samtools idxstats "$out/$s.bam" >/dev/null || fail "samtools idxstats rejects $out/$s.bam.bai"
    no_rg() { samtools view "$1" | sed 's/\tRG:Z:[^\t]*//'; }
    if ! cmp -s <(no_rg "$out/$s.bam") <(no_rg "$tmp/unsharded/$s.bam"); then
      fail "$s: gathered BAM records differ from the unsharded run's"
    fi
    want_rg=$'@RG\tID:B\tSM:B'
    [ "$s" = A ] && want_rg=$(printf '%b' "$rg_a")
    samtools view -H "$out/$s.bam" | grep -q "^$want_rg" || fail "$s: @RG of the BAM header is not '$want_rg'"
    rg_ids=$(samtools view "$out/$s.bam" | grep -o $'\tRG:Z:[^\t]*' | sort -u | cut -d: -f3)
    [ "$rg_ids" = "$(printf '%s' "$want_rg" | grep -o 'ID:[^[:space:]]*' | cut -d: -f2)" ] ||
      fail "$s: records carry RG $rg_ids"
    echo "  BAM: $(samtools view -c "$out/$s.bam") records, identical to the unsharded run; samtools quickcheck ok"
  fi
  if command -v bcftools >/dev/null; then
    bcftools view -h "$out/$s.g.vcf.gz" >/dev/null || fail "bcftools view -h rejects $out/$s.g.vcf.gz"
    bcftools view -H "$out/$s.g.vcf.gz" >/dev/null || fail "bcftools view rejects $out/$s.g.vcf.gz"
    [ "$(bcftools query -l "$out/$s.g.vcf.gz")" = "$s" ] || fail "$s: gVCF sample column is not $s"
    echo "  bcftools view ok"
  fi
done
echo "workflow/test.sh: ok"
