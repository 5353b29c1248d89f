#!/usr/bin/env bash
# The demo (`npm run demo`): installs what is missing, starts a local Docker engine and
# Elasticsearch, starts a small workload, runs dockward against it for a while and shows what
# arrived in Elasticsearch. Re-runnable; everything heavy is cached in ~/.cache/dockward.
#   DEMO_SECONDS=30 npm run demo
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
seconds="${DEMO_SECONDS:-20}"
ns=demo

ensure_built
scripts/dockerd.sh start
scripts/images.sh busybox
scripts/elasticsearch.sh start plain
eval "$(scripts/dockerd.sh env)"; export DOCKER_HOST
eval "$(scripts/elasticsearch.sh env plain)"
ES="$DWTEST_ES_URL"
dw() { node dist/src/cli/main.js "$@" -E "elasticsearch.hosts=[$ES]" -E namespace=$ns -E "state_dir=$DOCKWARD_CACHE/demo-state" -E 'collectors.logs.include_names=[demo-*]'; }

log "workload: demo-web (access log), demo-worker (errors on stderr), demo-job (starts 4 s into the run)"
for c in demo-web demo-worker demo-job; do docker rm -f $c >/dev/null 2>&1 || true; done
docker run -d --name demo-web --network none --label app=web --label team=shop dockward/busybox:1 sh -c \
  'i=0; while true; do i=$((i+1)); echo "127.0.0.1 - - [$(date)] \"GET /item/$i HTTP/1.1\" 200 512"; [ $((i % 7)) = 0 ] && echo "level=warn msg=\"slow request\" path=/item/$i"; sleep 0.2; done' >/dev/null
docker run -d --name demo-worker --network none --label app=worker dockward/busybox:1 sh -c \
  'i=0; while true; do i=$((i+1)); echo "INFO processed batch $i"; [ $((i % 5)) = 0 ] && echo "ERROR batch $i failed: timeout talking to db" >&2; sleep 0.5; done' >/dev/null
# Started while dockward runs: shows a container followed from its first line, and its events.
(sleep 4; docker run -d --name demo-job --network none dockward/busybox:1 sh -c 'echo "job started"; sleep 2; echo "job done"' >/dev/null) &

dw check
dw setup --index-management
log "running dockward for $seconds s (Ctrl-C stops it cleanly)"
dw run --stop-after "${seconds}s" || true
docker rm -f demo-web demo-worker demo-job >/dev/null
sleep 1; curl -s -XPOST "$ES/*-dockward.*-$ns/_refresh" >/dev/null

echo
echo "== documents in Elasticsearch ($ES) =="
curl -s "$ES/_cat/indices/*-dockward.*-$ns?v&h=index,docs.count&s=index"
echo
echo "== container log lines by container and stream =="
curl -s "$ES/logs-dockward.container-$ns/_search?size=0" -H 'content-type: application/json' -d '{
  "aggs": {"c": {"terms": {"field": "container.name"}, "aggs": {"s": {"terms": {"field": "stream"}}}}}}' |
  node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); for (const b of r.aggregations.c.buckets) console.log(`  ${b.key.padEnd(12)} ${b.doc_count} lines (${b.s.buckets.map(s=>`${s.key} ${s.doc_count}`).join(", ")})`)'
echo
echo "== the latest errors =="
curl -s "$ES/logs-dockward.container-$ns/_search?size=3&sort=@timestamp:desc&q=log.level:error&_source=@timestamp,container.name,message" |
  node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); for (const h of r.hits.hits) console.log(`  ${h._source["@timestamp"]} ${h._source.container.name}: ${h._source.message}`)'
echo
echo "== engine events =="
curl -s "$ES/logs-dockward.event-$ns/_search?size=0" -H 'content-type: application/json' -d '{"aggs":{"a":{"terms":{"field":"event.action"}}}}' |
  node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log("  " + r.aggregations.a.buckets.map(b=>`${b.key} ${b.doc_count}`).join(", "))'
cat <<MSG

Look for yourself:
  curl -s '$ES/logs-dockward.container-$ns/_search?q=container.name:demo-worker&size=5&pretty'
  curl -s '$ES/logs-dockward.event-$ns/_search?size=5&pretty'
Stop the engines: scripts/elasticsearch.sh stop plain; scripts/dockerd.sh stop
MSG
