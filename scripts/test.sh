#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, builds, starts the real engines (cached,
# reused when already up) and runs every test. `unit` runs only tests that need no engine; `long`
# runs the long drills under test/long as well.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
mode="${1:-all}"

ensure_built

files=()
while IFS= read -r f; do files+=("$f"); done < <(find dist/test -name '*.test.js' -not -path '*/long/*' | sort)
if [ "$mode" = unit ]; then
  # Unit tests are the ones that use no engine helper, directly or through another helper (the
  # adversarial suite reaches the engines through support/adversary: it ran as a "unit" test, twice
  # in CI). The list is the helpers that import support/engines, so a new one is covered.
  all=("${files[@]}"); files=()
  helpers=$(grep -l "from './engines'" test/support/*.ts | xargs -n1 basename | sed 's/\.ts$//' | paste -sd'|')
  while IFS= read -r f; do files+=("$f"); done < <(grep -LE "support/(engines|${helpers})['\"]" "${all[@]}")
fi
if [ "$mode" != unit ]; then
  t0=$SECONDS; scripts/dockerd.sh start; echo "dockerd ready after $((SECONDS - t0)) s" >&2
  scripts/images.sh
  # dockward's own image (test/deploy): rebuilt only when its inputs changed (cached by their hash).
  t0=$SECONDS; scripts/image.sh build >/dev/null; echo "dockward image ready after $((SECONDS - t0)) s" >&2
  t0=$SECONDS; scripts/elasticsearch.sh start plain; echo "elasticsearch (plain) ready after $((SECONDS - t0)) s" >&2
  t0=$SECONDS; scripts/elasticsearch.sh start tls; echo "elasticsearch (tls) ready after $((SECONDS - t0)) s" >&2
  t0=$SECONDS; scripts/elasticsearch.sh start tiny; echo "elasticsearch (tiny) ready after $((SECONDS - t0)) s" >&2
  # The pipelines' real ingest engine (the test Elasticsearch has no ingest processors).
  t0=$SECONDS; scripts/opensearch.sh start; echo "opensearch ready after $((SECONDS - t0)) s" >&2
  # Every run leaves a few dozen test data streams behind, and a node holds 1000 shards at most
  # (the minimal distribution cannot delete data streams): start afresh well before that.
  for p in plain tls tiny; do
    n=$(scripts/elasticsearch.sh shards $p || echo 0)
    if [ "${n:-0}" -gt 400 ]; then echo "elasticsearch ($p) holds $n shards from earlier runs: resetting its data" >&2; scripts/elasticsearch.sh reset $p; fi
  done
  set -a
  eval "$(scripts/dockerd.sh env)"
  eval "$(scripts/elasticsearch.sh env plain)"
  eval "$(scripts/elasticsearch.sh env tls | sed 's/^DWTEST_ES_/DWTEST_TLS_/')"
  eval "$(scripts/elasticsearch.sh env tiny | sed 's/^DWTEST_ES_/DWTEST_TINY_/')"
  eval "$(scripts/opensearch.sh env)"
  set +a
  export DWTEST_ENGINES=1
fi
if [ "$mode" = long ]; then
  while IFS= read -r f; do files+=("$f"); done < <(find dist/test/long -name '*.test.js' | sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "no test files found" >&2; exit 1; }
# One file at a time: the integration tests share one engine pair and two cores. The linger
# reporter fails the run when a file's process outlives its tests (an open handle costs CI minutes).
exec node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./dist/test/support/linger-reporter.js --test-reporter-destination=stderr \
  "${files[@]}"
