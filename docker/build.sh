#!/usr/bin/env bash
# docker/build.sh: builds genoa's container images with no image registry, from Debian's package
# mirror alone (air-gapped sites with a local Debian mirror included).
#
#   docker/build.sh [cpu] [gpu] [workflow] [--check] [--save DIR] [options]
#
#   cpu, gpu, workflow
#                     the images to build (default: all three): localhost/genoa:cpu (CPU-only genoa),
#                     localhost/genoa:gpu (genoa with wgpu, the Vulkan loader and Mesa's drivers),
#                     localhost/genoa:workflow (CPU-only genoa and Snakemake, for Snakemake's cloud
#                     executors); each also tagged localhost/genoa:VERSION-IMAGE
#   --check           run each image after building it, as its non-root user, without network:
#                     cpu: `genoa demo`, and `genoa run` on the demo data mounted read-only;
#                     gpu: `genoa demo`, `genoa backends` listing a Vulkan adapter, and
#                     `genoa demo --backend gpu`; workflow: workflow/test.sh inside the image (the
#                     Snakefile on two samples, sharded and gathered, compared with unsharded runs)
#   --save DIR        also write each image as DIR/genoa-IMAGE.oci.tar (podman load -i, skopeo copy)
#   --genoa-cpu FILE, --genoa-gpu FILE
#                     put this genoa binary in the image(s) instead of building one with cargo
#                     (--genoa-cpu is the cpu and workflow images' genoa)
#   --build-arg K=V   passed to the runtime stage's build (repeatable), e.g.
#                     --build-arg PIP_PACKAGES=snakemake-storage-plugin-s3 for the workflow image
#   --mirror URL      Debian mirror (default http://deb.debian.org/debian)
#   --security-mirror URL
#                     Debian security mirror (default http://deb.debian.org/debian-security;
#                     "none" leaves security updates out)
#   --suite NAME      Debian suite of the base (default bookworm)
#   --rebuild-base    make the base again even if localhost/genoa-base:SUITE exists
#   --storage-driver D
#                     podman's storage driver (overlay, podman's default where the kernel allows it,
#                     or vfs, which works everywhere but copies every layer); a store holds one
#                     driver's images, so this uses its own store, --root or podman's with "-D" added
#   --root DIR        podman's store (default: podman's own)
#
# How (docker/README.md has the why and the measurements):
# 1. base: `debootstrap --variant=minbase SUITE` from the mirror, upgraded from the security mirror,
#    trimmed like Debian's -slim images (no docs, man pages or locales; apt lists removed), and
#    imported with `podman import` as localhost/genoa-base:SUITE.
# 2. runtime: the `runtime` stage of docker/Dockerfile.IMAGE (the same file a registry build uses),
#    built with `podman build --target runtime --build-arg BASE=localhost/genoa-base:SUITE`;
#    stages it does not need (the rust:… build stage) are skipped, so nothing is pulled.
# 3. genoa: a binary built by the host's cargo (`cargo build --release --locked`, without the gpu
#    feature for the cpu image), stripped and copied in. Not built inside the image: Debian's rustc
#    is older than genoa's MSRV, and the machines this runs on reach no other toolchain source. The
#    host must therefore link against a glibc no newer than the base's (Debian 12: 2.36); the script
#    runs `genoa --version` in the image and stops with that hint if it cannot start.
#
# Needs root (debootstrap; sudo is used when it is passwordless) and podman, runc and debootstrap,
# which it installs with apt when they are missing. podman runs with docker/containers.conf unless
# CONTAINERS_CONF is set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

die() {
  echo "docker/build.sh: $*" >&2
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

images=()
check=0
save_dir=""
bin_cpu=""
bin_gpu=""
mirror=http://deb.debian.org/debian
security_mirror=http://deb.debian.org/debian-security
suite=bookworm
rebuild_base=0
storage_driver=""
store=""
build_args=()
while (($#)); do
  case "$1" in
    cpu | gpu | workflow) images+=("$1") ;;
    --check) check=1 ;;
    --save) save_dir=${2:?--save needs a directory}; shift ;;
    --genoa-cpu) bin_cpu=${2:?--genoa-cpu needs a file}; shift ;;
    --genoa-gpu) bin_gpu=${2:?--genoa-gpu needs a file}; shift ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift ;;
    --security-mirror) security_mirror=${2:?--security-mirror needs a URL}; shift ;;
    --suite) suite=${2:?--suite needs a name}; shift ;;
    --rebuild-base) rebuild_base=1 ;;
    --storage-driver) storage_driver=${2:?--storage-driver needs a driver}; shift ;;
    --build-arg) build_args+=(--build-arg "${2:?--build-arg needs K=V}"); shift ;;
    --root) store=${2:?--root needs a directory}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (--help lists them)" ;;
  esac
  shift
done
((${#images[@]})) || images=(cpu gpu workflow)
for f in "$bin_cpu" "$bin_gpu"; do
  [ -z "$f" ] || [ -f "$f" ] || die "$f: no such file"
done

t0=$SECONDS
say() { printf '== [%4ds] %s\n' $((SECONDS - t0)) "$*"; }

asroot=()
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
    die "debootstrap needs root: run as root, or with passwordless sudo"
  fi
  asroot=(sudo)
fi

# The tools, installed from Debian when they are missing.
missing=()
for p in podman runc debootstrap; do
  command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || missing+=("$p")
done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null 2>&1 || die "install ${missing[*]} (no apt-get here)"
  say "installing ${missing[*]}"
  "${asroot[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${asroot[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
PATH=$PATH:/usr/sbin:/sbin

export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
podman=(podman)
if [ -n "$storage_driver" ]; then
  [ -n "$store" ] || store=$(podman info --format '{{.Store.GraphRoot}}')-$storage_driver
  podman+=(--storage-driver "$storage_driver")
fi
[ -z "$store" ] || podman+=(--root "$store")
# Local images only: a registry is never asked, so a missing image fails at once.
build=("${podman[@]}" build --pull=never --isolation chroot)

work=$(mktemp -d "${TMPDIR:-/tmp}/genoa-image.XXXXXX")
cleanup() {
  if [ -d "$work/rootfs/proc" ]; then "${asroot[@]}" umount "$work/rootfs/proc" 2>/dev/null || true; fi
  "${asroot[@]}" rm -rf "$work"
}
trap cleanup EXIT

# 1. The base image, from the Debian mirror.
base=localhost/genoa-base:$suite
if ((rebuild_base)) || ! "${podman[@]}" image exists "$base"; then
  say "base: debootstrap --variant=minbase $suite from $mirror"
  rootfs=$work/rootfs
  "${asroot[@]}" debootstrap --variant=minbase --components=main "$suite" "$rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    die "debootstrap $suite from $mirror failed (log above)"
  }
  {
    echo "deb $mirror $suite main"
    echo "deb $mirror $suite-updates main"
    [ "$security_mirror" = none ] || echo "deb $security_mirror $suite-security main"
  } | "${asroot[@]}" tee "$rootfs/etc/apt/sources.list" >/dev/null
  # As Debian's -slim images: no documentation, manual pages or translations, in this base or in
  # any package installed on it later (the copyright files stay).
  "${asroot[@]}" tee "$rootfs/etc/dpkg/dpkg.cfg.d/genoa-slim" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  "${asroot[@]}" tee "$rootfs/etc/apt/apt.conf.d/genoa-clean" >/dev/null <<'EOF'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
EOF
  say "base: security and point-release updates"
  "${asroot[@]}" mount -t proc proc "$rootfs/proc"
  "${asroot[@]}" chroot "$rootfs" /bin/sh -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 upgrade' \
    >"$work/upgrade.log" 2>&1 || {
    tail -20 "$work/upgrade.log" >&2
    die "apt-get upgrade in the base failed (log above)"
  }
  "${asroot[@]}" umount "$rootfs/proc"
  "${asroot[@]}" find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  "${asroot[@]}" find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  "${asroot[@]}" find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias \
    -exec rm -rf {} +
  "${asroot[@]}" rm -rf "$rootfs"/usr/share/{man,info,lintian}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/* \
    "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  say "base: podman import as $base"
  "${asroot[@]}" tar --numeric-owner -C "$rootfs" -c . |
    "${podman[@]}" import --quiet --change 'CMD ["/bin/bash"]' \
      --message "debootstrap --variant=minbase $suite $mirror" - "$base" >/dev/null
  "${asroot[@]}" rm -rf "$rootfs"
else
  say "base: $base exists (--rebuild-base makes it again)"
fi

# demo_check IMAGE COMMAND...: runs a `genoa demo` command and checks it found every planted
# variant and nothing else.
demo_check() {
  local img=$1
  shift
  "$@" | tee "$work/demo.txt"
  [ "$(grep -c 'recall 1.0000 precision 1.0000' "$work/demo.txt")" = 2 ] ||
    die "$img: genoa demo did not find exactly the planted variants"
}

version_of() {
  "$1" --version | awk '{print $2; exit}'
}
revision=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

for img in "${images[@]}"; do
  # 2. The runtime stage of the published Dockerfile, on the local base.
  say "$img: runtime stage of docker/Dockerfile.$img on $base"
  mkdir -p "$work/empty"
  # The host's CA bundle (pip's, else the system's) for the workflow image's pip download, as a
  # build secret: a TLS-inspecting proxy's CA reaches pip without being kept in the image.
  secret=()
  ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
  [ "$img" != workflow ] || [ ! -s "$ca" ] || secret=(--secret "id=pip-ca,src=$ca")
  "${build[@]}" --quiet --target runtime --build-arg "BASE=$base" "${build_args[@]}" "${secret[@]}" \
    -f "$here/Dockerfile.$img" -t "localhost/genoa-runtime:$img" "$work/empty" >/dev/null

  # 3. genoa, built on the host.
  ctx=$work/ctx-$img
  mkdir -p "$ctx"
  bin=$bin_cpu
  [ "$img" != gpu ] || bin=$bin_gpu
  # The source revision only of a genoa built here from it.
  labels=()
  if [ -z "$bin" ]; then
    labels=(--label "org.opencontainers.image.revision=$revision")
    features=()
    [ "$img" = gpu ] || features=(--no-default-features)
    say "$img: cargo build --release --locked ${features[*]:-}"
    target_dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
      sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    (cd "$repo" && cargo build --quiet --release --locked "${features[@]}")
    bin=$target_dir/release/genoa
  fi
  cp "$bin" "$ctx/genoa"
  strip "$ctx/genoa" 2>/dev/null || true
  chmod 0755 "$ctx/genoa"
  version=$(version_of "$ctx/genoa")
  tag=localhost/genoa:$img
  say "$img: genoa $version ($(du -h "$ctx/genoa" | cut -f1)) into $tag"
  printf 'FROM localhost/genoa-runtime:%s\nCOPY genoa /usr/local/bin/genoa\n' "$img" |
    "${build[@]}" --quiet -f - \
      --label "org.opencontainers.image.title=genoa ($img)" \
      --label "org.opencontainers.image.version=$version" \
      "${labels[@]}" \
      --label "org.opencontainers.image.licenses=MIT OR Apache-2.0" \
      --label "org.opencontainers.image.base.name=$base" \
      -t "$tag" -t "localhost/genoa:$version-$img" "$ctx" >/dev/null
  if ! out=$("${podman[@]}" run --rm --network none --entrypoint genoa "$tag" --version 2>&1); then
    echo "$out" >&2
    die "$tag: genoa does not start in the image; build it on a machine whose glibc is not newer than $suite's"
  fi
  if [ "$img" = gpu ]; then
    backends=$("${podman[@]}" run --rm --network none --entrypoint genoa "$tag" backends)
    if grep -q 'built without the gpu feature' <<<"$backends"; then
      die "$tag: this genoa was built without the gpu feature"
    fi
  fi
  size=$("${podman[@]}" image inspect --format '{{.Size}}' "$tag")
  say "$img: built $tag: $out, $((size / 1000000)) MB"

  if ((check)); then
    run=("${podman[@]}" run --rm --network none)
    uid=$("${run[@]}" --entrypoint id "$tag" -u)
    [ "$uid" != 0 ] || die "$tag runs as root"
    case $img in
      cpu)
        say "$img: check: genoa demo"
        demo_check "$img" "${run[@]}" "$tag" demo -@ 2
        say "$img: check: genoa run on mounted data (read-only, no .fai or index), as uid $uid"
        in_dir=$work/run-in
        out_dir=$work/run-out
        mkdir -p "$in_dir" "$out_dir"
        chmod 1777 "$out_dir"
        cp "$repo"/test-data/demo/{ref.fa,R1.fastq.gz,R2.fastq.gz} "$in_dir/"
        "${run[@]}" -v "$in_dir:/data:ro" -v "$out_dir:/out" "$tag" \
          run -r /data/ref.fa -1 /data/R1.fastq.gz -2 /data/R2.fastq.gz -s S -o /out -@ 2
        for f in S.bam S.bam.bai S.g.vcf.gz S.g.vcf.gz.tbi S.qc.json; do
          [ -s "$out_dir/$f" ] || die "$tag: genoa run wrote no $f"
        done
        ;;
      gpu)
        say "$img: check: genoa demo, genoa backends lists a Vulkan adapter, genoa demo --backend gpu"
        demo_check "$img" "${run[@]}" "$tag" demo -@ 2
        "${run[@]}" "$tag" backends | tee "$work/backends.txt"
        grep -q '^gpu 0: .*backend vulkan' "$work/backends.txt" || die "$tag: no Vulkan adapter"
        demo_check "$img" "${run[@]}" "$tag" demo -@ 2 --backend gpu
        grep -q 'backend *gpu-' "$work/demo.txt" || die "$tag: the demo did not run on the GPU"
        ;;
      workflow)
        say "$img: check: workflow/test.sh inside the image"
        "${run[@]}" -v "$repo:/src:ro" -e GENOA=/usr/local/bin/genoa -e SNAKEMAKE=snakemake \
          "$tag" bash /src/workflow/test.sh
        ;;
    esac
  fi
  if [ -n "$save_dir" ]; then
    mkdir -p "$save_dir"
    "${podman[@]}" save --format oci-archive -o "$save_dir/genoa-$img.oci.tar" "$tag"
    say "$img: saved $save_dir/genoa-$img.oci.tar ($(du -h "$save_dir/genoa-$img.oci.tar" | cut -f1))"
  fi
done
say "done: ${images[*]}"
