#!/usr/bin/env bash
# Builds the mojo-bridge runtime image with podman (or docker with ENGINE=docker):
#   1. the release binary with the static Swift standard library;
#   2. the base image: BASE (default debian:bookworm-slim) if the registry answers, else a
#      local Debian bookworm made with debootstrap from the apt mirror this machine already uses
#      (read from /etc/apt/sources.list*), kept in podman's storage as
#      localhost/debian:bookworm-local and made again only when missing;
#   3. the image IMAGE (default localhost/mojo-bridge:latest) from the Containerfile.
# Usage: deploy/container/build.sh [--no-compile] [--local-base]
#   --no-compile  use the binary already in .build/release
#   --local-base  skip the registry and use (or make) the debootstrap base
#   --base-only   stop after the base image
set -euo pipefail
cd "$(dirname "$0")/../.."
here=deploy/container
ENGINE=${ENGINE:-podman}
IMAGE=${IMAGE:-localhost/mojo-bridge:latest}
BASE=${BASE:-debian:bookworm-slim}
LOCAL_BASE=localhost/debian:bookworm-local
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/$here/containers.conf}
compile=1 local_base=0 base_only=0
for a in "$@"; do
  case "$a" in
    --no-compile) compile=0 ;;
    --local-base) local_base=1 ;;
    --base-only) base_only=1; compile=0 ;;
    *) echo "build.sh: unknown argument $a" >&2; exit 64 ;;
  esac
done
command -v "$ENGINE" >/dev/null || { echo "build.sh: $ENGINE is not installed (bash .ci/setup installs podman)" >&2; exit 69; }

t0=$(date +%s.%N)
if [ $compile -eq 1 ]; then
  echo "build.sh: swift build -c release --static-swift-stdlib"
  swift build -c release --static-swift-stdlib --product mojo-bridge 2>&1 | tail -n 3
fi
bin=.build/release/mojo-bridge
[ -x "$bin" ] || [ $base_only -eq 1 ] || { echo "build.sh: no $bin (run without --no-compile)" >&2; exit 66; }

# The apt mirror this machine uses: the first Debian URI of a bookworm suite.
mirror() {
  local f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" && $0 ~ / bookworm( |$)/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" } /(^|\n)Suites:[^\n]* bookworm( |\n|$)/ || /(^|\n)Suites: *bookworm( |\n|$)/ {
                 for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, u, " "); print u[2]; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
}

base=$BASE
if [ $local_base -eq 0 ] && [ "$ENGINE" = podman ] && ! $ENGINE image exists "$BASE" 2>/dev/null; then
  if timeout 30 $ENGINE pull -q "$BASE" >/dev/null 2>&1; then :; else
    echo "build.sh: $BASE cannot be pulled (no registry); using the local base"
    local_base=1
  fi
fi
if [ $local_base -eq 1 ]; then
  base=$LOCAL_BASE
  if ! $ENGINE image exists "$LOCAL_BASE" 2>/dev/null; then
    m=$(mirror)
    [ -n "$m" ] || { echo "build.sh: no bookworm apt mirror in /etc/apt/sources.list*" >&2; exit 78; }
    command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is not installed" >&2; exit 69; }
    rootfs=$(mktemp -d /tmp/mojo-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    echo "build.sh: debootstrap --variant=minbase bookworm from $m"
    debootstrap --variant=minbase bookworm "$rootfs" "$m" >/tmp/mojo-debootstrap.log 2>&1 \
      || { tail -n 20 /tmp/mojo-debootstrap.log; echo "build.sh: debootstrap failed" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | $ENGINE import - "$LOCAL_BASE" >/dev/null
    rm -rf "$rootfs"; trap - EXIT
  fi
fi

[ $base_only -eq 1 ] && { echo "build.sh: base $base ready"; exit 0; }
ctx=$(mktemp -d /tmp/mojo-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
install -m 0755 "$bin" "$ctx/mojo-bridge"
strip "$ctx/mojo-bridge" 2>/dev/null || true
fmt=(); [ "$ENGINE" = podman ] && fmt=(--format docker)
echo "build.sh: $ENGINE build $IMAGE from $base"
$ENGINE build -q "${fmt[@]}" --build-arg "BASE=$base" -t "$IMAGE" -f Containerfile "$ctx" >/dev/null
# The previous build of this image, untagged by the new one, is of no use any more.
$ENGINE image prune -f --filter label=org.opencontainers.image.title=mojo-bridge >/dev/null 2>&1 || true
t1=$(date +%s.%N)
size=$($ENGINE image inspect --format '{{.Size}}' "$IMAGE")
basesize=$($ENGINE image inspect --format '{{.Size}}' "$base")
awk -v img="$IMAGE" -v base="$base" -v t="$t1" -v t0="$t0" -v s="$size" -v b="$basesize" \
  'BEGIN { printf "build.sh: %s built in %.0f s: %.1f MB, %.1f MB over the base %s\n", img, t - t0, s / 1e6, (s - b) / 1e6, base }'
