#!/usr/bin/env bash
# Alignment figures of the README: the peer pipelines (../shared/bench/peers.sh, alignment
# stages only) and then genoa (index + align, which sorts and marks duplicates) on the same data,
# same machine, one after the other; mapping accuracy of genoa's BAM by mapeval.py.
#
# usage: scripts/bench-align.sh DATADIR OUTDIR     (DATADIR from make-data.sh or synth_genome)
# Environment: ALIGNERS (default "bwa minimap2"), THREADS (default 2), GENOA (default
#              target/release/genoa), BENCH (default ../shared/bench).
# Output: OUTDIR/peers/summary.tsv, OUTDIR/genoa/{index,align}.time, map.json, summary.txt
set -euo pipefail
[[ $# -eq 2 ]] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 1; }
HERE=$(cd "$(dirname "$0")/.." && pwd)
DATA=$(cd "$1" && pwd); mkdir -p "$2"; OUT=$(cd "$2" && pwd)
G=${GENOA:-$HERE/target/release/genoa}
BENCH=${BENCH:-$HERE/../shared/bench}
T=${THREADS:-2}
mkdir -p "$OUT/genoa"
THREADS=$T CALLERS=" " GVCF=0 bash "$BENCH/peers.sh" "$DATA" "$OUT/peers" > "$OUT/peers.log" 2>&1
cp "$DATA/ref.fa" "$OUT/genoa/ref.fa"
/usr/bin/time -v -o "$OUT/genoa/index.time" "$G" index -@ "$T" "$OUT/genoa/ref.fa" 2> "$OUT/genoa/index.log"
/usr/bin/time -v -o "$OUT/genoa/align.time" "$G" align -@ "$T" -r "$OUT/genoa/ref.fa" \
  -1 "$DATA/R1.fastq.gz" -2 "$DATA/R2.fastq.gz" -R '@RG\tID:SAMPLE\tSM:SAMPLE\tPL:ILLUMINA' \
  -o "$OUT/genoa/genoa.bam" 2> "$OUT/genoa/align.log"
python3 "$BENCH/mapeval.py" "$OUT/genoa/genoa.bam" "$DATA/reads.truth.tsv.gz" \
  --json "$OUT/genoa/map.json" > "$OUT/genoa/map.txt"
for f in index align; do
  echo "genoa $f wall $(grep Elapsed "$OUT/genoa/$f.time" | awk '{print $NF}')" \
       "rss_kb $(grep Maximum "$OUT/genoa/$f.time" | awk '{print $NF}')"
done > "$OUT/genoa/summary.txt"
cut -f1-4,9-11 "$OUT/peers/summary.tsv"; cat "$OUT/genoa/summary.txt" "$OUT/genoa/map.txt"
