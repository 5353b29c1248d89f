# Shared settings for the engine scripts. Sourced, never run.
# Everything that is downloaded or built lives outside the clone, so a fresh clone reuses it.
set -euo pipefail

DOCKWARD_CACHE="${DOCKWARD_CACHE:-$HOME/.cache/dockward}"
# Elasticsearch refuses to run as root and /root is not traversable by other users, so its
# unpacked engine and data live in a directory that its own system user owns.
DOCKWARD_ES_ROOT="${DOCKWARD_ES_ROOT:-/var/lib/dockward-es}"
DOCKWARD_ES_USER="${DOCKWARD_ES_USER:-dockward-es}"
ES_VERSION="${DOCKWARD_ES_VERSION:-9.2.8}"
ES_JAVA_HOME_DEFAULT=/usr/lib/jvm/temurin-25-jdk-amd64

DOCKWARD_DOCKER_ROOT="$DOCKWARD_CACHE/docker"
DOCKWARD_DOCKER_RUN="$DOCKWARD_CACHE/run"
DOCKWARD_DOCKER_SOCK="${DOCKWARD_DOCKER_SOCK:-$DOCKWARD_DOCKER_RUN/docker.sock}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (it installs packages and starts system daemons)"; }

apt_updated=0
# The Debian mirror debootstrap fetches from: DOCKWARD_DEBIAN_MIRROR, else the one this machine's
# apt uses (deb822 .sources, then one-line .list); none found is an error that says what to set.
apt_mirror() {
  local m="${DOCKWARD_DEBIAN_MIRROR:-}"
  [ -n "$m" ] || m=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1)
  [ -n "$m" ] || m=$(grep -hE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v '\[' | awk '{print $2}' | grep -v security | head -n1)
  [ -n "$m" ] || die "no Debian mirror found in /etc/apt/sources.list(.d); set DOCKWARD_DEBIAN_MIRROR to the one to use"
  echo "$m"
}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

# stop_pid WHAT PIDFILE: TERM, wait up to 30 s, then KILL.
stop_pid() {
  local what=$1 pidfile=$2
  [ -f "$pidfile" ] || { log "$what not running"; return 0; }
  local pid; pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "$what stopped"
}

# npm ci only when the lockfile changed since the last install, then build.
ensure_built() {
  local stamp=node_modules/.dockward-lock
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    npm ci --no-audit --no-fund
    cp package-lock.json "$stamp"
  fi
  rm -rf dist
  npx tsc -p tsconfig.json
}
