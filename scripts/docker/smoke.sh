#!/usr/bin/env bash
# The compose smoke test: `docker compose up --build` as the README says, checked as a user would
# check it (scripts/docker/smoke/main.ts), then `down -v`, which must leave nothing behind.
# .ci/run runs it last; by hand:
#   bash scripts/docker/smoke.sh                      # the default topology
#   bash scripts/docker/smoke.sh --profile sentinel   # Redis primary + replica + 3 Sentinels, two failovers
#   bash scripts/docker/smoke.sh --idle-s 300         # also: 5 idle minutes, 0 unhealthy, 0 kv-leader elections
# Docker comes from Debian's packages when missing, and dockerd is started when none runs; where
# Docker cannot start at all, one line says so and the test is skipped (exit 0). Once Docker
# runs, any failure is a failure. The base images are pulled, or built locally as stand-ins by
# scripts/docker/standins.sh where Docker Hub is out of reach. Needs `npm run build` output.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

profile=""
checks=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; checks+=(--profile "$2"); shift 2 ;;
    --idle-s) checks+=(--idle-s "$2"); shift 2 ;;
    *) echo "usage: smoke.sh [--profile sentinel] [--idle-s N]" >&2; exit 2 ;;
  esac
done
export COMPOSE_PROJECT_NAME="${NINES_SMOKE_PROJECT:-nines-smoke}"
skip () { echo "compose smoke test skipped: $*"; exit 0; }

have_compose () { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; }
daemon_up () { docker info >/dev/null 2>&1; }
if ! have_compose || { ! daemon_up && ! command -v dockerd >/dev/null 2>&1; }; then
  { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; } || skip "no Docker engine or compose, and no root apt-get to install them"
  echo "== installing docker.io and docker-compose (Debian packages)"
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq docker.io docker-compose >/dev/null) \
    || skip "docker.io/docker-compose could not be installed"
fi
if ! daemon_up; then
  { [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; } || skip "no Docker daemon answers and this user cannot start one"
  # left running on purpose: the next run (and its image cache) reuses it
  echo "== starting dockerd (log: /var/log/nines-dockerd.log)"
  nohup dockerd >/var/log/nines-dockerd.log 2>&1 &
  for _ in $(seq 60); do daemon_up && break; sleep 0.5; done
  daemon_up || skip "dockerd does not start here: $(tail -1 /var/log/nines-dockerd.log)"
fi
# `docker compose` (v2 plugin) when there is one, else Debian's docker-compose (v1)
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
echo "== compose smoke test: docker $(docker version -f '{{.Server.Version}}'), $("${compose[@]}" version --short 2>/dev/null || echo compose), project $COMPOSE_PROJECT_NAME"
npm run build >/dev/null # the checks run from dist/ (incremental: quick where CI has just built)

bash scripts/docker/standins.sh

# The build's npm ci trusts what the host trusts (a TLS-intercepting proxy's CA here); only the
# Dockerfile's build stage reads the file, and it is removed afterwards.
ca=deploy/docker/ca/extra-ca.pem
placed_ca=0
if [ ! -e "$ca" ] && [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$ca"
  placed_ca=1
fi
env_file=()
[ "$profile" = sentinel ] && env_file=(--env-file deploy/compose/sentinel.env)
dc () { "${compose[@]}" "${env_file[@]}" "$@"; }
cleanup () {
  if [ "$placed_ca" = 1 ]; then rm -f "$ca"; fi
  dc down -v --remove-orphans >/dev/null 2>&1 || true
}
trap cleanup EXIT

dc down -v --remove-orphans >/dev/null 2>&1 || true # what an interrupted earlier run left
up_at=$SECONDS
up_log="$(mktemp)"
if ! dc up --build -d >"$up_log" 2>&1; then
  tail -40 "$up_log"
  echo "smoke: FAILED: up --build -d"
  exit 1
fi
rm -f "$up_log"
echo "== up --build -d returned after $((SECONDS - up_at)) s ($(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l) containers)"
if [ "$placed_ca" = 1 ]; then rm -f "$ca"; placed_ca=0; fi

status=0
timeout 900 node dist/scripts/docker/smoke/main.js --project "$COMPOSE_PROJECT_NAME" "${checks[@]}" || status=$?
if [ "$status" != 0 ]; then
  echo "== logs of the containers that are not healthy"
  for id in $(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
    state="$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")"
    case "$state" in "running healthy") continue ;; esac
    echo "--- $(docker inspect -f '{{.Name}}' "$id") ($state)"
    docker logs --tail 20 "$id" 2>&1 || true
  done
  if [ "$profile" = sentinel ]; then
    # a Sentinel that stalls over 2 s (a starved CPU) enters TILT mode and does nothing for 30 s
    for id in $(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" --filter "label=com.docker.compose.service=redis-sentinel-1"); do
      echo "--- redis-sentinel-1"
      docker logs "$id" 2>&1 | grep -v 'Failed to resolve hostname' | tail -25 || true
    done
  fi
fi

down_at=$SECONDS
dc down -v --remove-orphans >/dev/null 2>&1
left="$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")$(docker network ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")"
if [ -n "$left" ]; then
  echo "smoke: FAILED: down -v left containers, volumes or networks of $COMPOSE_PROJECT_NAME behind"
  status=1
else
  echo "== down -v after $((SECONDS - down_at)) s: no container, volume or network of $COMPOSE_PROJECT_NAME left"
fi
echo "== compose smoke test ${profile:+($profile) }$([ "$status" = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit "$status"
