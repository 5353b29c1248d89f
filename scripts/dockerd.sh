#!/usr/bin/env bash
# Start, stop or probe the project's own Docker engine.
#   scripts/dockerd.sh start|stop|restart|status|env
# Runs dockerd with vfs storage, no iptables and no bridge (what this sandbox allows) on a socket of
# its own, with --live-restore so containers and their logs survive a daemon restart.
# Prints nothing on stdout but `env`, which prints DOCKER_HOST=... for eval.
. "$(dirname "$0")/lib.sh"

sock_ok() { curl -sf --unix-socket "$DOCKWARD_DOCKER_SOCK" http://docker/_ping; }
pidfile="$DOCKWARD_DOCKER_RUN/dockerd.pid"

start() {
  if sock_ok >/dev/null 2>&1; then log "dockerd already up on $DOCKWARD_DOCKER_SOCK"; return 0; fi
  need_root "starting dockerd"
  command -v dockerd >/dev/null || apt_install docker.io
  command -v curl >/dev/null || apt_install curl
  mkdir -p "$DOCKWARD_DOCKER_ROOT" "$DOCKWARD_DOCKER_RUN"
  # A stale pidfile from a killed daemon makes dockerd refuse to start.
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
  local t0=$SECONDS
  setsid dockerd \
    --host "unix://$DOCKWARD_DOCKER_SOCK" \
    --data-root "$DOCKWARD_DOCKER_ROOT" \
    --exec-root "$DOCKWARD_DOCKER_RUN/exec" \
    --pidfile "$pidfile" \
    --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none --live-restore \
    >>"$DOCKWARD_DOCKER_RUN/dockerd.log" 2>&1 < /dev/null &
  if ! wait_for dockerd 60 sock_ok; then
    tail -n 30 "$DOCKWARD_DOCKER_RUN/dockerd.log" >&2
    die "dockerd did not answer on $DOCKWARD_DOCKER_SOCK within 60 s (log: $DOCKWARD_DOCKER_RUN/dockerd.log)"
  fi
  log "dockerd up on $DOCKWARD_DOCKER_SOCK in $((SECONDS - t0)) s"
}

stop() { stop_pid dockerd "$pidfile"; }

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) sock_ok >/dev/null 2>&1 && echo up || { echo down; exit 1; } ;;
  env) echo "DOCKER_HOST=unix://$DOCKWARD_DOCKER_SOCK" ;;
  *) die "usage: $0 start|stop|restart|status|env" ;;
esac
