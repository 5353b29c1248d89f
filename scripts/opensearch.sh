#!/usr/bin/env bash
# Start, stop or probe a local single-node OpenSearch that runs dockward's ingest pipelines for real.
#   scripts/opensearch.sh start|stop|restart|status|env
# Why OpenSearch: the test Elasticsearch (integ-test-zip) has no ingest processors, and no
# Elasticsearch distribution with them can be fetched here. OpenSearch 2.19's integ-test-zip is
# published on Maven Central, and so are the jars of its modules, so the engine is assembled from
# those: the zip plus three module directories with the plugin descriptors (and security policies)
# the full distribution carries. ingest-common brings set, grok, json, lowercase, convert, append,
# pipeline (grok needs opensearch-grok, joni and jcodings; dissect is a compile dependency);
# lang-painless runs the processors' `if` conditions; lang-mustache renders `{{{...}}}` values
# (without it OpenSearch stores the template text itself, e.g. event.ingested "{{{_ingest.timestamp}}}").
# HTTP on 127.0.0.1:19210 (transport 19310), security off (the integ-test-zip has no security plugin).
# OpenSearch 2.19 runs under the Java security manager, which JDK 24+ removed: it runs on JDK 17.
. "$(dirname "$0")/lib.sh"

OS_VERSION="${DOCKWARD_OS_VERSION:-2.19.6}"
OS_JAVA_HOME_DEFAULT=/usr/lib/jvm/java-17-openjdk-amd64
port=19210 tport=19310
# Same owner and root as Elasticsearch: it refuses to run as root too, and /root is not traversable.
home="$DOCKWARD_ES_ROOT/opensearch-$OS_VERSION"
pdir="$DOCKWARD_ES_ROOT/opensearch"
pidfile="$pdir/os.pid"
jars="$DOCKWARD_CACHE/downloads/opensearch-$OS_VERSION-modules"
# Per module: its Java entry point (a class in its jar), what it extends, and its Maven artifacts
# (versions from the modules' poms: ingest-common -> opensearch-grok -> joni 2.2.1, jcodings 1.0.61;
# lang-painless -> antlr4-runtime 4.13.1, asm 9.7; lang-mustache -> mustache.java compiler 0.9.14).
INGEST_CLASS=org.opensearch.ingest.common.IngestCommonPlugin
INGEST_ARTIFACTS=(org.opensearch.plugin:ingest-common:$OS_VERSION org.opensearch:opensearch-grok:$OS_VERSION
  org.opensearch:opensearch-dissect:$OS_VERSION org.jruby.joni:joni:2.2.1 org.jruby.jcodings:jcodings:1.0.61)
PAINLESS_CLASS=org.opensearch.painless.PainlessPlugin
PAINLESS_ARTIFACTS=(org.opensearch.plugin:lang-painless:$OS_VERSION org.opensearch.plugin:opensearch-scripting-painless-spi:$OS_VERSION
  org.antlr:antlr4-runtime:4.13.1 org.ow2.asm:asm:9.7 org.ow2.asm:asm-util:9.7 org.ow2.asm:asm-tree:9.7
  org.ow2.asm:asm-commons:9.7 org.ow2.asm:asm-analysis:9.7)
MUSTACHE_CLASS=org.opensearch.script.mustache.MustachePlugin
MUSTACHE_ARTIFACTS=(org.opensearch.plugin:lang-mustache-client:$OS_VERSION com.github.spullara.mustache.java:compiler:0.9.14)
# The permissions the distribution grants them: painless compiles scripts into classes at run
# time, mustache reflects over the values it renders.
PAINLESS_POLICY='permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";'
MUSTACHE_POLICY='permission java.lang.reflect.ReflectPermission "suppressAccessChecks";'

url() { echo "http://127.0.0.1:$port"; }
ping_os() { curl -sf "$(url)/_cluster/health?wait_for_status=yellow&timeout=1s"; }
as_os() { runuser -u "$DOCKWARD_ES_USER" -- env OPENSEARCH_JAVA_HOME="$java_home" OPENSEARCH_PATH_CONF="$pdir/config" "$@"; }

mvn_copy() { # mvn_copy DIR ARTIFACT...: download each artifact once into DIR
  local dir=$1; shift
  mkdir -p "$dir"
  for a in "$@"; do
    local name ver ext; IFS=: read -r _ name ver ext <<<"$a"
    [ -s "$dir/$name-$ver.${ext:-jar}" ] && continue
    command -v mvn >/dev/null || apt_install maven
    log "downloading $a from Maven Central"
    mvn -q -Dmaven.repo.local="$DOCKWARD_CACHE/m2" dependency:copy -Dartifact="$a" -DoutputDirectory="$dir" \
      -Dmdep.overWriteReleases=true >&2 || die "could not download $a"
  done
}

# module NAME CLASS EXTENDS POLICY DESCRIPTION ARTIFACT...: a module directory as the full distribution lays it out.
module() {
  local name=$1 class=$2 extends=$3 policy=$4 desc=$5; shift 5
  local dir="$home/modules/$name"
  [ -f "$dir/plugin-descriptor.properties" ] && return 0
  local tmp; tmp=$(mktemp -d "$home/modules/.$name.XXXX")
  for a in "$@"; do
    local n v; IFS=: read -r _ n v <<<"$a"
    cp "$jars/$n-$v.jar" "$tmp/"
  done
  cat >"$tmp/plugin-descriptor.properties" <<PROPS
description=$desc
version=$OS_VERSION
name=$name
classname=$class
java.version=11
opensearch.version=$OS_VERSION
custom.foldername=
extended.plugins=$extends
has.native.controller=false
PROPS
  [ -z "$policy" ] || printf 'grant {\n  %s\n};\n' "$policy" >"$tmp/plugin-security.policy"
  mv "$tmp" "$dir"
}

install_engine() {
  java_home="${OPENSEARCH_JAVA_HOME:-$OS_JAVA_HOME_DEFAULT}"
  if [ ! -x "$java_home/bin/java" ]; then apt_install openjdk-17-jre-headless; fi
  [ -x "$java_home/bin/java" ] || die "no JDK 17 at $java_home (set OPENSEARCH_JAVA_HOME; OpenSearch 2.19 needs the security manager, gone in JDK 24+)"
  id "$DOCKWARD_ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$DOCKWARD_ES_USER"
  command -v unzip >/dev/null || apt_install unzip
  command -v curl >/dev/null || apt_install curl
  mvn_copy "$DOCKWARD_CACHE/downloads" "org.opensearch.distribution.integ-test-zip:opensearch:$OS_VERSION:zip"
  mvn_copy "$jars" "${INGEST_ARTIFACTS[@]}" "${PAINLESS_ARTIFACTS[@]}" "${MUSTACHE_ARTIFACTS[@]}"
  if [ ! -x "$home/bin/opensearch" ]; then
    mkdir -p "$DOCKWARD_ES_ROOT"
    local tmp; tmp=$(mktemp -d "$DOCKWARD_ES_ROOT/unpack.XXXX")
    unzip -q "$DOCKWARD_CACHE/downloads/opensearch-$OS_VERSION.zip" -d "$tmp"
    mv "$tmp/opensearch-$OS_VERSION" "$home"; rmdir "$tmp"
  fi
  module lang-painless "$PAINLESS_CLASS" "" "$PAINLESS_POLICY" "An easy, safe and fast scripting language for OpenSearch" "${PAINLESS_ARTIFACTS[@]}"
  module lang-mustache "$MUSTACHE_CLASS" "" "$MUSTACHE_POLICY" "Mustache scripting integration for OpenSearch" "${MUSTACHE_ARTIFACTS[@]}"
  module ingest-common "$INGEST_CLASS" lang-painless "" \
    "Module for ingest processors that do not require additional security permissions or have large dependencies and resources" \
    "${INGEST_ARTIFACTS[@]}"
  chown -R "$DOCKWARD_ES_USER:" "$home"
}

configure() {
  [ -f "$pdir/config/.configured" ] && return 0
  rm -rf "$pdir"; mkdir -p "$pdir/data" "$pdir/logs"
  cp -r "$home/config" "$pdir/config"
  cat >>"$pdir/config/opensearch.yml" <<YML
cluster.name: dockward-opensearch
node.name: dockward-opensearch
network.host: 127.0.0.1
http.port: $port
transport.port: $tport
discovery.type: single-node
path.data: $pdir/data
path.logs: $pdir/logs
YML
  # It only runs _simulate (no indices): a small heap is plenty.
  printf -- '-Xms384m\n-Xmx384m\n' >"$pdir/config/jvm.options.d/heap.options"
  chown -R "$DOCKWARD_ES_USER:" "$pdir"
  touch "$pdir/config/.configured"
}

# The node is of no use without the processors the pipelines name and the languages of their
# conditions and templates: say which are missing.
check_processors() {
  local have; have=$(curl -sf "$(url)/_nodes/ingest?filter_path=nodes.*.ingest.processors.type") || die "opensearch: cannot list ingest processors"
  for p in set grok json lowercase convert append pipeline; do
    grep -q "\"$p\"" <<<"$have" || die "opensearch on $(url) lacks the ingest processor '$p' (modules: $home/modules)"
  done
  local langs; langs=$(curl -sf "$(url)/_script_language") || die "opensearch: cannot list script languages"
  for l in painless mustache; do
    grep -q "\"$l\"" <<<"$langs" || die "opensearch on $(url) lacks the script language '$l' (modules: $home/modules)"
  done
}

start() {
  if ping_os >/dev/null 2>&1; then check_processors; log "opensearch already up on $(url)"; return 0; fi
  need_root "starting opensearch"
  install_engine
  configure
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill -9 "$(cat "$pidfile")"; fi
  rm -f "$pidfile"
  local t0=$SECONDS
  as_os env OPENSEARCH_JAVA_OPTS="${OPENSEARCH_JAVA_OPTS:-}" "$home/bin/opensearch" -d -p "$pidfile" \
    >>"$pdir/logs/console.log" 2>&1 || { tail -n 40 "$pdir/logs/console.log" >&2; die "opensearch failed to start"; }
  # Wait for it, but not for a process that is gone (a module it cannot load ends it at once).
  # It writes its pid file a moment after `-d` returns and deletes it when it exits.
  local deadline=$((SECONDS + 120)) why= pid=
  until ping_os >/dev/null 2>&1; do
    [ -n "$pid" ] || pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ]; then kill -0 "$pid" 2>/dev/null || { why="exited during start-up"; break; }
    elif [ $((deadline - SECONDS)) -lt 90 ]; then why="wrote no pid file within 30 s"; break; fi
    [ $SECONDS -lt $deadline ] || { why="not ready on $(url) within 120 s"; break; }
    sleep 0.5
  done
  if [ -n "$why" ]; then
    tail -n 40 "$pdir/logs/dockward-opensearch.log" >&2 2>/dev/null || true
    die "opensearch $why (logs: $pdir/logs)"
  fi
  check_processors
  log "opensearch $OS_VERSION (ingest-common, lang-painless, lang-mustache) up on $(url) in $((SECONDS - t0)) s"
}

stop() { stop_pid opensearch "$pidfile"; }

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) ping_os >/dev/null 2>&1 && echo up || { echo down; exit 1; } ;;
  env) echo "DWTEST_OS_URL=$(url)" ;;
  *) die "usage: $0 start|stop|restart|status|env" ;;
esac
