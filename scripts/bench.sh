#!/usr/bin/env bash
# `npm run bench [-- args]`: builds, starts the engines (cached) and runs every benchmark in bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_built
for b in dist/bench/*.js; do node "$b" "$@"; done
