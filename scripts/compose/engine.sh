#!/usr/bin/env bash
# The Docker engine for `npm run compose`: uses the one that answers; where there is none, installs
# Debian's (docker.io, docker-compose, debootstrap; root or sudo) and starts dockerd in the background.
#   engine.sh start   idempotent; records the dockerd it started in var/compose/dockerd.pid
#   engine.sh stop    stops that dockerd (and only that one)
# The log of a dockerd started here: var/compose/dockerd.log.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="$repo/var/compose"
pid_file="$state/dockerd.pid"
say() { echo "compose: $*" >&2; }
as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
answers() { docker info >/dev/null 2>&1; }

our_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(<"$pid_file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  echo "$pid"
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker >/dev/null || missing+=(docker.io)
  if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then missing+=(docker-compose); fi
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  ((${#missing[@]})) || return 0
  say "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start() {
  install_packages
  if answers; then return 0; fi
  command -v dockerd >/dev/null || {
    say "no dockerd to start"
    exit 1
  }
  mkdir -p "$state"
  say "starting dockerd (log: $state/dockerd.log)"
  # nohup execs dockerd: $! is the daemon's pid.
  as_root bash -c "nohup dockerd >>'$state/dockerd.log' 2>&1 </dev/null & echo \$! >'$pid_file'"
  local deadline=$((SECONDS + 60))
  until answers; do
    if ! our_pid >/dev/null; then
      tail -n 20 "$state/dockerd.log" >&2
      say "dockerd exited during start-up"
      rm -f "$pid_file"
      exit 1
    fi
    ((SECONDS < deadline)) || {
      say "dockerd did not answer within 60s; see $state/dockerd.log"
      exit 1
    }
    sleep 0.5
  done
  say "dockerd up (pid $(<"$pid_file"))"
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$pid_file"
    return 0
  fi
  as_root kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && as_root kill -KILL "$pid"
  rm -f "$pid_file"
  say "stopped dockerd (pid $pid)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: engine.sh start|stop" >&2
    exit 2
    ;;
esac
