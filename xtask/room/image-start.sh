#!/usr/bin/env bash
# Runs as the learner each time their server starts on a hub (Zero to JupyterHub's
# postStart hook; see z2jh-values.yaml). Gives a new learner, in their own home:
# - ~/course/notebooks, their copy of the course's notebooks (a notebook they already
#   have is never overwritten, so their work survives image updates), beside a link
#   ~/course/helpers to the image's helpers, so `path = "../helpers"` resolves;
# - ~/.cache/evcxr, the cache warmed at build time, so the first `:dep` takes seconds.
# Usage: image-start.sh [COURSE_DIR [SEED_DIR]] (defaults: the image's).
set -euo pipefail
course="${1:-/opt/course}"
seed="${2:-${COURSE_SEED:-/opt/course-seed}}"
mkdir -p "$HOME/course/notebooks"
cp -R -n "$course/notebooks/." "$HOME/course/notebooks/"
[ -e "$HOME/course/helpers" ] || ln -s "$course/helpers" "$HOME/course/helpers"
if [ ! -e "$HOME/.cache/evcxr" ] && [ -d "$seed/evcxr" ]; then
    mkdir -p "$HOME/.cache"
    cp -R "$seed/evcxr" "$HOME/.cache/evcxr"
fi
