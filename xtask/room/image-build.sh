#!/usr/bin/env bash
# What the course's image runs at build time (xtask/room/Dockerfile), in the clone of
# the course it was given. Also runs in any clean clone, which is how it is tested
# (no container daemon is needed for that):
#
#   bash xtask/room/image-build.sh            # then: ls target/image-seed/evcxr
#
# 1. `cargo xtask setup`: the Python environment (.venv), the course's evcxr_jupyter
#    build and the `rust` kernelspec;
# 2. JupyterHub's single-user server in that environment (the hub's pods run it),
#    pinned in xtask/room/requirements.txt, without moving the course's own pins;
# 3. `cargo xtask warm` into a cache outside any home ($COURSE_SEED), because on a hub
#    each learner's home is their own volume, mounted over the image's: image-start.sh
#    copies the cache into a new learner's home when their server starts.
set -euo pipefail
cd "$(dirname "$0")/../.."
seed="${COURSE_SEED:-$PWD/target/image-seed}"
start=$(date +%s)
cargo xtask setup
.venv/bin/python -m pip install -q --disable-pip-version-check \
    -r xtask/room/requirements.txt -c xtask/requirements.txt
mkdir -p "$seed"
XDG_CACHE_HOME="$seed" cargo xtask warm
echo "image-build: done in $(( $(date +%s) - start )) s; warmed cache: $(du -sh "$seed" | cut -f1) in $seed"
