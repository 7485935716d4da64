#!/usr/bin/env bash
# OpenAPI-driven fuzz of the API with schemathesis: starts the API on a free loopback port over the
# sample cubes (test/api/fuzz-server.ts), runs every schemathesis check (server errors, response schema,
# status codes, content types, headers, negative-data rejection, unsupported methods...) on every
# operation of /openapi.json, and exits non-zero on any failure.
#
#   test/api/fuzz.sh                 # start a server on the sample cubes and fuzz it
#   test/api/fuzz.sh http://host:8000 # fuzz a running API instead
#
# Environment: SCHEMATHESIS (default .venv/bin/schemathesis), FUZZ_MAX_EXAMPLES (default 100 per
# operation), FUZZ_SEED (default 20151231: reproducible runs), FUZZ_REPORT_DIR (junit report, optional).
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS="${SCHEMATHESIS:-.venv/bin/schemathesis}"
if [[ ! -x "$SCHEMATHESIS" ]]; then
  echo "fuzz: schemathesis not found at $SCHEMATHESIS (run npm run airflow:setup to create .venv, or set SCHEMATHESIS)" >&2
  exit 2
fi

base_url="${1:-}"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -n "${port_file:-}" ]]; then rm -f "$port_file"; fi
}
trap cleanup EXIT

if [[ -z "$base_url" ]]; then
  port_file="$(mktemp)"
  LOG_LEVEL="${LOG_LEVEL:-warn}" node --import tsx test/api/fuzz-server.ts >"$port_file" &
  server_pid=$!
  for _ in $(seq 1 300); do
    if grep -q '^listening ' "$port_file"; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then echo "fuzz: the API server exited before listening" >&2; exit 1; fi
    sleep 0.2
  done
  port="$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$port_file")"
  if [[ -z "$port" ]]; then echo "fuzz: the API server did not start within 60 s" >&2; exit 1; fi
  base_url="http://127.0.0.1:$port"
fi

report_args=()
if [[ -n "${FUZZ_REPORT_DIR:-}" ]]; then report_args=(--report junit --report-dir "$FUZZ_REPORT_DIR"); fi

echo "fuzz: schemathesis against $base_url/openapi.json"
"$SCHEMATHESIS" run "$base_url/openapi.json" \
  --checks all \
  --max-examples "${FUZZ_MAX_EXAMPLES:-100}" \
  --seed "${FUZZ_SEED:-20151231}" \
  --generation-database none \
  --request-timeout 10 \
  --no-color \
  "${report_args[@]}"
