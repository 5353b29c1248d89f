#!/usr/bin/env bash
# The demo (`npm run demo`): installs what is missing, starts a local Docker engine and
# Elasticsearch, then demo/main.ts: a benign workload, an attacked and a misconfigured container,
# dockward with its default rules, a webhook receiver and dry-run response; alerts, notifications
# and responses printed as they happen, then a summary. Re-runnable; everything heavy is cached
# in ~/.cache/dockward.
#   DEMO_SECONDS=90 npm run demo
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
seconds="${DEMO_SECONDS:-75}"

ensure_built
scripts/dockerd.sh start
scripts/images.sh
scripts/elasticsearch.sh start plain
eval "$(scripts/dockerd.sh env)"; export DOCKER_HOST
eval "$(scripts/elasticsearch.sh env plain)"
export DWTEST_ES_URL DOCKWARD_CACHE
log "engines up; the demo follows (DEMO_SECONDS=${seconds})"
DEMO_SECONDS="$seconds" exec node dist/demo/main.js
