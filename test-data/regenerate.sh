#!/usr/bin/env bash
# Regenerates test-data/demo/ from the shared bench (../shared/bench/make-data.sh, beside the
# checkout): phage lambda from Debian's bowtie2-examples, seed 7, 20x ART HS25 2x150.
# Same seed and the same Debian packages => byte-identical files (see test-data/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH:-$here/../../shared/bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$bench/make-data.sh" "$work/demo" --genome lambda --seed 7 --depth 20
for f in ref.fa ref.fa.fai R1.fastq.gz R2.fastq.gz truth.vcf.gz; do
  cp "$work/demo/$f" "$here/demo/$f"
done
cp "$work/demo/README" "$here/demo/make-data.README"
(cd "$here/demo" && md5sum ref.fa ref.fa.fai R1.fastq.gz R2.fastq.gz truth.vcf.gz)
