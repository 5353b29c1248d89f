#!/usr/bin/env bash
# `npm run bench [-- args]`: builds, starts the engines (cached) and runs every benchmark in bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.dockward-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then npm ci --no-audit --no-fund; cp package-lock.json "$stamp"; fi
npx tsc -p tsconfig.json
for b in dist/bench/*.js; do node "$b" "$@"; done
