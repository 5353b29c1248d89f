#!/usr/bin/env bash
# Start, stop or probe a local single-node Elasticsearch for tests, the demo and benchmarks.
#   scripts/elasticsearch.sh start|stop|restart|reset|shards|status|env [plain|tls|tiny]
# reset: stop, delete the profile's data (config, certificates and users stay), start.
# plain: HTTP on 127.0.0.1:19200, security off.
# tls:   HTTPS on 127.0.0.1:19201, security on, certificates made locally by elasticsearch-certutil,
#        file-realm users: elastic-admin (superuser) and dockward (least privilege: see roles.yml).
# tiny:  HTTP on 127.0.0.1:19202 with one write thread and a write queue of one: it answers 429
#        under load (for the back-pressure tests).
# The engine is the integ-test-zip distribution from Maven Central (no Kibana, no ingest, no ILM),
# unpacked once and reused; each profile keeps its own config and data.
. "$(dirname "$0")/lib.sh"

profile="${2:-plain}"
case "$profile" in
  plain) port=19200; tport=19300; scheme=http ;;
  tls) port=19201; tport=19301; scheme=https ;;
  tiny) port=19202; tport=19302; scheme=http ;;
  *) die "unknown profile '$profile' (plain|tls|tiny)" ;;
esac
home="$DOCKWARD_ES_ROOT/elasticsearch-$ES_VERSION"
pdir="$DOCKWARD_ES_ROOT/$profile"
pidfile="$pdir/es.pid"
ADMIN_USER=elastic-admin ADMIN_PASS=dockward-admin-pw
WRITER_USER=dockward WRITER_PASS=dockward-writer-pw

url() { echo "$scheme://127.0.0.1:$port"; }
ping_es() {
  if [ $profile = tls ]; then
    curl -sf --cacert "$pdir/config/certs/ca/ca.crt" -u "$ADMIN_USER:$ADMIN_PASS" "$(url)/_cluster/health?wait_for_status=yellow&timeout=1s"
  else
    curl -sf "$(url)/_cluster/health?wait_for_status=yellow&timeout=1s"
  fi
}
as_es() { runuser -u "$DOCKWARD_ES_USER" -- env ES_JAVA_HOME="$java_home" ES_PATH_CONF="$pdir/config" "$@"; }

install_engine() {
  java_home="${ES_JAVA_HOME:-$ES_JAVA_HOME_DEFAULT}"
  [ -x "$java_home/bin/java" ] || die "no JDK at $java_home (set ES_JAVA_HOME)"
  id "$DOCKWARD_ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$DOCKWARD_ES_USER"
  command -v unzip >/dev/null || apt_install unzip
  command -v curl >/dev/null || apt_install curl
  local zip="$DOCKWARD_CACHE/downloads/elasticsearch-$ES_VERSION.zip"
  if [ ! -s "$zip" ]; then
    command -v mvn >/dev/null || apt_install maven
    log "downloading Elasticsearch $ES_VERSION from Maven Central"
    mkdir -p "$DOCKWARD_CACHE/downloads"
    mvn -q -Dmaven.repo.local="$DOCKWARD_CACHE/m2" dependency:copy -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
      -DoutputDirectory="$DOCKWARD_CACHE/downloads" -Dmdep.overWriteReleases=true >&2
  fi
  if [ ! -x "$home/bin/elasticsearch" ]; then
    mkdir -p "$DOCKWARD_ES_ROOT"
    local tmp; tmp=$(mktemp -d "$DOCKWARD_ES_ROOT/unpack.XXXX")
    unzip -q "$zip" -d "$tmp"
    mv "$tmp/elasticsearch-$ES_VERSION" "$home"; rmdir "$tmp"
  fi
  chown -R "$DOCKWARD_ES_USER:" "$DOCKWARD_ES_ROOT"
}

configure_profile() {
  [ -f "$pdir/config/.configured" ] && return 0
  rm -rf "$pdir"; mkdir -p "$pdir/data" "$pdir/logs"
  cp -r "$home/config" "$pdir/config"
  cat >>"$pdir/config/elasticsearch.yml" <<YML
cluster.name: dockward-$profile
node.name: dockward-$profile
network.host: 127.0.0.1
http.port: $port
transport.port: $tport
discovery.type: single-node
path.data: $pdir/data
path.logs: $pdir/logs
action.destructive_requires_name: false
YML
  echo "-Xms512m" >"$pdir/config/jvm.options.d/heap.options"; echo "-Xmx512m" >>"$pdir/config/jvm.options.d/heap.options"
  chown -R "$DOCKWARD_ES_USER:" "$pdir"
  if [ $profile = plain ]; then
    echo "xpack.security.enabled: false" >>"$pdir/config/elasticsearch.yml"
  elif [ $profile = tiny ]; then
    printf 'xpack.security.enabled: false\nthread_pool.write.size: 1\nthread_pool.write.queue_size: 1\n' >>"$pdir/config/elasticsearch.yml"
  else
    mkdir -p "$pdir/config/certs"; chown "$DOCKWARD_ES_USER:" "$pdir/config/certs"
    as_es "$home/bin/elasticsearch-certutil" ca --pem --silent --out "$pdir/config/certs/ca.zip"
    as_es unzip -q "$pdir/config/certs/ca.zip" -d "$pdir/config/certs"
    as_es "$home/bin/elasticsearch-certutil" cert --pem --silent --ca-cert "$pdir/config/certs/ca/ca.crt" \
      --ca-key "$pdir/config/certs/ca/ca.key" --ip 127.0.0.1 --dns localhost --name node --out "$pdir/config/certs/node.zip"
    as_es unzip -q "$pdir/config/certs/node.zip" -d "$pdir/config/certs"
    cat >>"$pdir/config/elasticsearch.yml" <<YML
xpack.security.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.certificate: certs/node/node.crt
xpack.security.http.ssl.key: certs/node/node.key
xpack.security.http.ssl.certificate_authorities: [certs/ca/ca.crt]
xpack.license.self_generated.type: trial
YML
    # Least privilege for the shipper: write its own streams, read templates, nothing else.
    cat >>"$pdir/config/roles.yml" <<YML
dockward_writer:
  cluster: [monitor, manage_index_templates]
  indices:
    - names: ['logs-dockward.*', 'metrics-dockward.*']
      privileges: [create_doc, auto_configure, view_index_metadata]
YML
    as_es "$home/bin/elasticsearch-users" useradd "$ADMIN_USER" -p "$ADMIN_PASS" -r superuser
    as_es "$home/bin/elasticsearch-users" useradd "$WRITER_USER" -p "$WRITER_PASS" -r dockward_writer
  fi
  touch "$pdir/config/.configured"
}

start() {
  if ping_es >/dev/null 2>&1; then log "elasticsearch ($profile) already up on $(url)"; return 0; fi
  need_root "starting elasticsearch"
  install_engine
  configure_profile
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill -9 "$(cat "$pidfile")"; fi
  local t0=$SECONDS
  as_es env ES_JAVA_OPTS="${ES_JAVA_OPTS:-}" "$home/bin/elasticsearch" -d -p "$pidfile" \
    >>"$pdir/logs/console.log" 2>&1 || { tail -n 40 "$pdir/logs/console.log" >&2; die "elasticsearch ($profile) failed to start"; }
  if ! wait_for elasticsearch 120 ping_es; then
    tail -n 40 "$pdir/logs/dockward-$profile.log" >&2 2>/dev/null || true
    die "elasticsearch ($profile) not ready on $(url) within 120 s (logs: $pdir/logs)"
  fi
  log "elasticsearch $ES_VERSION ($profile) up on $(url) in $((SECONDS - t0)) s"
}

stop() { stop_pid "elasticsearch ($profile)" "$pidfile"; }

env_out() {
  echo "DWTEST_ES_URL=$(url)"
  if [ $profile = tls ]; then
    echo "DWTEST_ES_CA=$pdir/config/certs/ca/ca.crt"
    echo "DWTEST_ES_ADMIN=$ADMIN_USER:$ADMIN_PASS"
    echo "DWTEST_ES_WRITER=$WRITER_USER:$WRITER_PASS"
  fi
}

shards() {
  local auth=()
  [ $profile = tls ] && auth=(--cacert "$pdir/config/certs/ca/ca.crt" -u "$ADMIN_USER:$ADMIN_PASS")
  curl -sf "${auth[@]}" "$(url)/_cluster/health?filter_path=active_shards" | tr -dc 0-9
  echo
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  reset) stop; rm -rf "$pdir/data"; mkdir -p "$pdir/data"; chown "$DOCKWARD_ES_USER:" "$pdir/data"; start ;;
  shards) shards ;;
  status) ping_es >/dev/null 2>&1 && echo up || { echo down; exit 1; } ;;
  env) env_out ;;
  *) die "usage: $0 start|stop|restart|reset|shards|status|env [plain|tls|tiny]" ;;
esac
