#!/usr/bin/env bash
# genoa's test command: installs the system packages the tests need (when it can), then runs
# the whole suite, with and without the `gpu` feature.
#
#   libclang-dev         rust-htslib (dev-dependency) runs bindgen
#   zlib1g-dev pkg-config  htslib's build
#   mesa-vulkan-drivers libvulkan1   lavapipe, a Vulkan driver that runs the WGSL kernels on the CPU
#   samtools bcftools tabix python3   the real consumers the format tests hand genoa's outputs to
#   chromium             the QC report test opens SAMPLE.report.html in headless Chromium
#   picard-tools         Picard (htsjdk) decodes the CRAM and validates the records; GENOA_REQUIRE_PICARD=1
#                        (CI) makes its absence an error, otherwise that test skips
#   openjdk-17-jre-headless  the Java runtime of Hail (PyPI `hail`, in the Python $HAIL_PYTHON names), whose
#                        VDS combiner the hail test runs on genoa gVCFs; GENOA_REQUIRE_HAIL=1 (CI) makes a
#                        missing Hail an error, otherwise that test skips
#
# Then workflow/test.sh runs the Snakemake workflow on two small samples, when snakemake is
# found ($SNAKEMAKE, else on PATH); GENOA_REQUIRE_SNAKEMAKE=1 (CI) makes its absence an error,
# as GENOA_REQUIRE_BROWSER=1 does for Chromium and GENOA_REQUIRE_CRYPT4GH=1 for the reference
# Crypt4GH tool ($CRYPT4GH, else `crypt4gh` on PATH; pip install crypt4gh), which the package
# interoperability test runs both ways.
#
# GPU tests skip (printing why) when no adapter exists, unless GENOA_REQUIRE_GPU=1, which CI sets.
# Extra arguments go to both `cargo test` runs (e.g. a test-name filter). Last,
# scripts/device-bench.sh --tiny runs the device bench on the demo sample.
set -euo pipefail
cd "$(dirname "$0")/.."
# Mesa's Vulkan loader prints "XDG_RUNTIME_DIR is invalid or not set" on every adapter probe
# without it (CI, batch nodes): 36 lines in a CI log. genoa's main sets it for itself; the tests
# probe in-process.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}

packages=(libclang-dev zlib1g-dev pkg-config mesa-vulkan-drivers libvulkan1 samtools bcftools tabix python3 chromium picard-tools openjdk-17-jre-headless)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  echo "scripts/test.sh: not a Debian/Ubuntu system; make sure these are installed: ${packages[*]}" >&2
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "scripts/test.sh: missing system packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "scripts/test.sh: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cargo test --locked --workspace "$@"
cargo test --locked --workspace --no-default-features "$@"

snakemake=${SNAKEMAKE:-$(command -v snakemake || true)}
if [ -n "$snakemake" ]; then
  # The binary the last cargo test built (the CPU-only one), run as the workflow's genoa.
  SNAKEMAKE="$snakemake" GENOA="$PWD/target/debug/genoa" workflow/test.sh
elif [ "${GENOA_REQUIRE_SNAKEMAKE:-0}" = 1 ]; then
  echo "scripts/test.sh: GENOA_REQUIRE_SNAKEMAKE=1 but no snakemake (pip install 'snakemake>=8,<10')" >&2
  exit 1
else
  echo "scripts/test.sh: SKIPPED workflow/test.sh (no snakemake; pip install 'snakemake>=8,<10')" >&2
fi

# The device bench on its smallest input (lavapipe in CI, where GENOA_REQUIRE_GPU=1), so the
# script and its output format cannot rot: kernel rows equal to the spec, and a GPU run whose
# records equal the SIMD run's.
scripts/device-bench.sh --tiny
