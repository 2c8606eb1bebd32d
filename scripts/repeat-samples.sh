#!/usr/bin/env bash
# Builds the repeat-rich samples of issue 18 (README, "Indels in repeats") with the shared
# bench: an E. coli backbone with human-like repeats inserted by repeatgenome.py (2,000 STRs of
# 1-6 bp units at 10-40 copies, ~30 % interrupted; 1,000 homopolymers of 8-25 bp; Alu-like
# families, segmental duplications), 35 % of the planted indels forced into STRs and
# homopolymers, ART reads.
#
#   scripts/repeat-samples.sh OUTDIR [SET]
#
# SET: tune (default; seeds 11, 12 — the samples the work was measured on), heldout (seeds 21,
# 22) or final (seeds 31, 32 — kept aside, run once at the end). Each set is one 2x150 HS25 30x
# sample (fragments 400) and one 2x250 MSv3 25x sample (fragments 500): OUTDIR/rr150<s>/ and
# OUTDIR/rr250<s>/ in make-data.sh's layout. BENCH (default ../shared/bench beside the
# checkout) is the bench; the E. coli backbone is fetched by make-data.sh --genome ecoli into
# OUTDIR/ecoli if OUTDIR/ecoli/ref.fa is missing. ~4 min per sample on 2 cores; then
# `BENCH/peers.sh OUTDIR/rr150<s> RUNDIR` and `genoa run` on the same data.
set -euo pipefail
out=${1:?usage: scripts/repeat-samples.sh OUTDIR [tune|heldout|final]}
set_=${2:-tune}
here=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH:-$here/../shared/bench}
case $set_ in
  tune) seeds=(11 12); tag="" ;;
  heldout) seeds=(21 22); tag=h ;;
  final) seeds=(31 32); tag=x ;;
  *) echo "scripts/repeat-samples.sh: unknown set '$set_' (tune, heldout, final)" >&2; exit 1 ;;
esac
mkdir -p "$out"
if [ ! -s "$out/ecoli/ref.fa" ]; then
  bash "$bench/make-data.sh" "$out/ecoli" --genome ecoli --depth 1
fi
one() { # name seed read-len profile depth fragment-mean
  python3 "$bench/repeatgenome.py" "$out/ecoli/ref.fa" "$out/$1.ref.fa" --seed "$2" \
    --strs 2000 --homopolymers 1000
  bash "$bench/make-data.sh" "$out/$1" --ref "$out/$1.ref.fa" --seed "$2" --read-len "$3" \
    --profile "$4" --depth "$5" --frag-mean "$6" --str-indel-frac 0.35 --threads 2
}
one "rr150$tag" "${seeds[0]}" 150 HS25 30 400
one "rr250$tag" "${seeds[1]}" 250 MSv3 25 500
