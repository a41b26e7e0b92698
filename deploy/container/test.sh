#!/usr/bin/env bash
# The container test (a step of .ci/run): builds the image (deploy/container/build.sh: release
# binary, cached debootstrap base when no registry answers) and runs deploy/container/test.py
# against it. Needs root (rootful podman). Fails loudly when podman cannot run here: a sandbox
# limit is a failure to look at, not a reason to skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/container/containers.conf}
export IMAGE=${IMAGE:-localhost/mojo-bridge:test}
if [ "$(id -u)" -ne 0 ]; then echo "container test: needs root for rootful podman" >&2; exit 1; fi
t0=$(date +%s)
bash deploy/container/build.sh "$@"
.venv/bin/python deploy/container/test.py
echo "container test: $(( $(date +%s) - t0 )) s in all"
