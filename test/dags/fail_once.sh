#!/usr/bin/env bash
# Test runner for the DAG's local mode (PIPELINE_LOCAL_RUNNER="bash test/dags/fail_once.sh"): runs
# `npm run --silent "$@"`, except that the first call for the npm script named by FAIL_ONCE_SCRIPT
# fails (exit 1) and leaves FAIL_ONCE_MARKER behind, so the test can assert that Airflow retried it.
set -euo pipefail
script=${1:?usage: fail_once.sh <npm script> -- <args>}
if [[ "$script" == "${FAIL_ONCE_SCRIPT:-}" && ! -e "${FAIL_ONCE_MARKER:?FAIL_ONCE_MARKER must be set}" ]]; then
  date -u +%FT%TZ >"$FAIL_ONCE_MARKER"
  echo "fail_once: failing '$script' once on purpose (marker $FAIL_ONCE_MARKER)" >&2
  exit 1
fi
exec npm run --silent "$@"
