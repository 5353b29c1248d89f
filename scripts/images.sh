#!/usr/bin/env bash
# Build the lab images into the project's Docker engine, from Debian packages only (no registry is
# reachable): `docker import` of a root filesystem. Cached: an image that exists is kept, and the
# attack-lab root filesystem tarball is kept in the cache so a wiped engine re-imports in seconds.
#   scripts/images.sh [busybox] [lab]      (default: both)
# dockward/busybox:1  tiny image with busybox-static (sh, seq, head, nc, ...)
# dockward/lab:1      debootstrap --variant=minbase bookworm + nmap, netcat-openbsd, curl, procps
. "$(dirname "$0")/lib.sh"
export DOCKER_HOST="unix://$DOCKWARD_DOCKER_SOCK"
BUSYBOX_IMAGE=dockward/busybox:1
LAB_IMAGE=dockward/lab:1

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

busybox() {
  have_image $BUSYBOX_IMAGE && return 0
  [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || apt_install busybox-static file
  local d; d=$(mktemp -d)
  mkdir -p "$d/bin" "$d/tmp" "$d/etc" "$d/root"
  cp /bin/busybox "$d/bin/busybox"
  for a in $("$d/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$d/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  chmod 1777 "$d/tmp"
  tar -C "$d" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - $BUSYBOX_IMAGE >/dev/null
  rm -rf "$d"
  log "built $BUSYBOX_IMAGE"
}

lab() {
  have_image $LAB_IMAGE && return 0
  local tarball="$DOCKWARD_CACHE/images/lab-bookworm-1.tar"
  if [ ! -s "$tarball" ]; then
    apt_install debootstrap
    local mirror; mirror=$(apt_mirror)
    local d; d=$(mktemp -d)
    log "debootstrap of the attack-lab image from $mirror (a few minutes, once)"
    debootstrap --variant=minbase --include=nmap,netcat-openbsd,curl,procps,ca-certificates \
      bookworm "$d" "$mirror" >"$DOCKWARD_CACHE/images-debootstrap.log" 2>&1 \
      || { tail -n 20 "$DOCKWARD_CACHE/images-debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$d"/var/cache/apt/archives/*.deb "$d"/var/lib/apt/lists/*
    mkdir -p "$DOCKWARD_CACHE/images"
    tar -C "$d" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$d"
  fi
  docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/bash"]' "$tarball" $LAB_IMAGE >/dev/null
  log "built $LAB_IMAGE"
}

[ $# -gt 0 ] || set -- busybox lab
for what in "$@"; do
  case "$what" in busybox) busybox ;; lab) lab ;; *) die "unknown image '$what'" ;; esac
done
