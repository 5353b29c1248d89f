#!/usr/bin/env bash
# `npm run bench [-- args]`: builds, starts the engines (cached) and runs every benchmark in bench/;
# `npm run bench -- NAME [args]` runs bench/NAME.ts alone (e.g. `-- detection-suites minutes=3`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_built
if [ $# -gt 0 ] && [ -f "dist/bench/$1.js" ]; then
  b="dist/bench/$1.js"; shift
  exec node "$b" "$@"
fi
# detection-suites runs for half an hour (real containers, drift scans once a minute) and log-cost
# for ten minutes (three rounds of every shipper over 200k lines): by name only.
for b in dist/bench/*.js; do case "$b" in dist/bench/detection-suites.js|dist/bench/log-cost.js) ;; *) node "$b" "$@";; esac; done
