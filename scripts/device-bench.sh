#!/usr/bin/env bash
# The GPU path, measured in one command (≤ 5 minutes on a machine with a GPU):
#   1. kernel throughput per backend and batch size (examples/device_bench.rs): scalar spec,
#      every SIMD set of this CPU, the GPU; best of 3 calls on all threads, each checked equal
#      to the spec — the smallest GPU batch that beats the best CPU backend is where
#      backend::GPU_MIN_CELLS belongs;
#   2. `genoa run --backend simd` against `--backend gpu` on a sample: wall, peak memory,
#      kernel seconds, the stage profile (CPU seconds per stage, from the QC JSON), and
#      whether the BAM and gVCF records are identical.
#
#   scripts/device-bench.sh [DATA]   DATA: a directory with ref.fa, R1.fastq.gz, R2.fastq.gz
#                                    (a ../shared/bench sample; default test-data/demo)
#   scripts/device-bench.sh --tiny   the two smallest batch sizes and the demo sample, on the
#                                    test build (CI runs it on lavapipe, so it cannot rot)
#
# GENOA_REQUIRE_GPU=1 makes a missing GPU an error (otherwise the GPU rows are left out and
# the run comparison is skipped). Needs samtools (BAM records) and python3. Exit 1 when a
# backend's results differ from the spec's or the two runs' records differ.
set -euo pipefail
cd "$(dirname "$0")/.."
tiny=0
data=""
for a in "$@"; do
  case $a in
  --tiny) tiny=1 ;;
  -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
  *) data=$a ;;
  esac
done
[ -n "$data" ] || data=test-data/demo
if [ "$tiny" = 1 ]; then profile=(); dir=debug; else profile=(--release); dir=release; fi
cargo build -q "${profile[@]}" --features gpu --example device_bench --bin genoa
out=$(mktemp -d "${TMPDIR:-/tmp}/genoa-device-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

# Mesa's Vulkan loader prints "XDG_RUNTIME_DIR is invalid or not set" on every probe without it
# (batch nodes, CI); genoa's main sets it for itself, the example does not.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}
echo "== kernels: seconds are the best of 3 calls on all threads; identical = equal to the scalar spec"
bench_args=()
[ "$tiny" = 1 ] && bench_args+=(--tiny)
"target/$dir/examples/device_bench" "${bench_args[@]}" | tee "$out/kernels.tsv"

if ! grep -q "gpu-" "$out/kernels.tsv"; then
  echo "== no GPU backend: the run comparison is skipped"
  exit 0
fi
echo "== genoa run on $data: --backend simd against --backend gpu"
for b in simd gpu; do
  "target/$dir/genoa" run -r "$data/ref.fa" -1 "$data/R1.fastq.gz" -2 "$data/R2.fastq.gz" \
    -s S -o "$out/$b" --backend "$b" 2>"$out/$b.log" ||
    { tail -n 20 "$out/$b.log" >&2; echo "device-bench: genoa run --backend $b failed" >&2; exit 1; }
done
records() { samtools view "$1/S.bam" | md5sum | cut -c1-12; }
gvcf() { zcat "$1/S.g.vcf.gz" | grep -v '^##' | md5sum | cut -c1-12; }
python3 - "$out" "$(records "$out/simd")" "$(records "$out/gpu")" "$(gvcf "$out/simd")" "$(gvcf "$out/gpu")" <<'PY'
import re, sys
out, bam_simd, bam_gpu, gvcf_simd, gvcf_gpu = sys.argv[1:]
pat = re.compile(r"wall ([0-9.]+) s .*peak memory ([0-9]+) MB; backend (.*) for alignment.*"
                 r"banded_align ([0-9.]+) s, pair_hmm ([0-9.]+) s")
print("backend\twall_s\tpeak_mb\tbanded_align_s\tpair_hmm_s\tbam_records\tgvcf_records\tdevice")
for b, bam, gv in (("simd", bam_simd, gvcf_simd), ("gpu", bam_gpu, gvcf_gpu)):
    m = next((pat.search(l) for l in open(f"{out}/{b}.log") if pat.search(l)), None)
    if not m:
        sys.exit(f"device-bench: no summary line in the {b} run's log")
    wall, peak, device, ba, hmm = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
    print(f"{b}\t{wall}\t{peak}\t{ba}\t{hmm}\t{bam}\t{gv}\t{device}")
import json
profiles = {b: json.load(open(f"{out}/{b}/S.qc.json"))["run"]["profile"] for b in ("simd", "gpu")}
print("stage\tsimd_cpu_s\tgpu_cpu_s")
stages = {b: {s["stage"]: s["cpu_seconds"] for s in p["stages"]} for b, p in profiles.items()}
names = list(dict.fromkeys([n for b in ("simd", "gpu") for n in stages[b]]))
for n in names + ["unattributed", "process"]:
    row = []
    for b in ("simd", "gpu"):
        p = profiles[b]
        v = {"unattributed": p["unattributed_seconds"], "process": p["cpu_seconds"]}.get(n, stages[b].get(n, 0.0))
        row.append(f"{v:.2f}")
    print(n + "\t" + "\t".join(row))
same = bam_simd == bam_gpu and gvcf_simd == gvcf_gpu
print("identical records (BAM and gVCF):", "yes" if same else "NO")
sys.exit(0 if same else 1)
PY
