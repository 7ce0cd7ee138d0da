#!/usr/bin/env bash
# Deploy one AdFlux image to the compose host this runs on, with a release step and rollback.
#   deploy.sh IMAGE [STACK]      e.g. deploy.sh ghcr.io/empresa/adflux:sha-1a2b3c4 production
# Run by .github/workflows/deploy.yml over SSH (or by hand). In DEPLOY_PATH (default
# /opt/adflux) it expects the repository's deploy/ folder and deploy/docker/adflux.env (or
# adflux.staging.env). Steps: pull the image; back up the database; run migrations once (the
# release step); restart web, worker and beat on the new image; smoke-test /healthz and /readyz;
# on any failure put the previous image back and exit non-zero. Migrations are never run
# backwards: a release's migrations must keep the previous release working (add, then remove in
# a later release), and the backup taken here is the way back for anything else.
set -euo pipefail

image="${1:?usage: deploy.sh IMAGE [production|staging]}"
stack="${2:-production}"
cd "${DEPLOY_PATH:-/opt/adflux}/deploy/docker"

files=(-f compose.yml)
project=adflux
port="${ADFLUX_PORT:-8000}"
if [ "$stack" = staging ]; then
  files+=(-f compose.staging.yml)
  project=adflux-staging
  port="${ADFLUX_PORT:-8100}"
  export ADFLUX_PORT="$port" GRAFANA_PORT="${GRAFANA_PORT:-3100}" PROMETHEUS_PORT="${PROMETHEUS_PORT:-9190}"
fi
compose() { docker compose -p "$project" "${files[@]}" "$@"; }
state=".deployed-image-$stack"
previous="$(cat "$state" 2>/dev/null || true)"

log() { printf '%s deploy[%s]: %s\n' "$(date -u +%FT%TZ)" "$stack" "$*"; }

smoke() {
  local base="http://127.0.0.1:$port"
  for _ in $(seq 1 "${SMOKE_TRIES:-30}"); do
    if curl -fsS --max-time 5 "$base/healthz" >/dev/null && curl -fsS --max-time 10 "$base/readyz" >/dev/null; then
      return 0
    fi
    sleep "${SMOKE_DELAY:-4}"
  done
  return 1
}

rollback() {
  if [ -z "$previous" ]; then
    log "no previous image to go back to; leaving the failed release stopped"
    compose stop web worker beat || true
    exit 1
  fi
  log "rolling back to $previous"
  ADFLUX_IMAGE="$previous" compose up -d --no-build web worker beat
  if smoke; then log "rolled back to $previous"; else log "ROLLBACK ALSO FAILS SMOKE TESTS"; fi
  exit 1
}

log "pulling $image (previous: ${previous:-none})"
export ADFLUX_IMAGE="$image"
docker pull "$image"
compose up -d postgres redis

if [ -n "$previous" ]; then
  log "backup before migrating"
  ADFLUX_IMAGE="$previous" compose run --rm --no-deps migrate adflux db backup --label "before-$(date -u +%Y%m%dT%H%M%SZ)"
fi
log "release step: migrations"
compose run --rm migrate adflux db upgrade || rollback

log "restarting web, worker and beat"
compose up -d --no-build web worker beat || rollback
if ! smoke; then
  log "smoke tests failed on $image"
  rollback
fi
echo "$image" > "$state"
log "deployed $image"
