#!/usr/bin/env bash
# Runs the DAG tests (test/dags) with pytest in the project's Airflow venv, creating it if needed.
# Extra arguments go to pytest, e.g. `npm run test:dags -- -k structure`.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=${AIRFLOW_VENV:-$root/.venv}

bash "$root/scripts/airflow/setup.sh" || { echo "[test:dags] error: Airflow venv setup failed" >&2; exit 1; }

cd "$root"
"$venv/bin/python" -m pytest test/dags -ra "$@"
status=$?
# pytest exits 5 when it collected no test: for this suite that is a failure, not a pass.
if [[ $status -eq 5 ]]; then
  echo "[test:dags] error: pytest collected no tests under test/dags" >&2
  exit 1
fi
exit $status
