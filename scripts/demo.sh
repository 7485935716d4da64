#!/usr/bin/env bash
# npm run demo [-- --date D] [-- --data DIR]: the main job without Docker, through Airflow. Starts the local
# stack (Kafka, HDFS, Prometheus, Pushgateway and Airflow on loopback; idempotent), uploads the sources
# (data/sample) to HDFS, triggers a run of the DAG data_pipeline for the date over Airflow's REST API and
# prints each task's state and duration as the scheduler runs it, then serves the API on :8000 in the
# foreground (Ctrl-C stops it; `npm run stack -- down` stops the stack).
#   npm run demo -- --urls   only print the URLs it serves
# `npm run pipeline` is the direct path without Airflow (tests, benchmarks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

api_port=${API_PORT:-8000}
date_args=()
data_args=()
while (($#)); do
  case "$1" in
    --date) date_args=(--date "${2:?--date needs YYYY-MM-DD}") && shift 2 ;;
    --data) data_args=(--data "${2:?--data needs a folder}") && shift 2 ;;
    --urls) urls_only=1 && shift ;;
    *) echo "usage: npm run demo [-- --date YYYY-MM-DD] [--data DIR] [--urls]" >&2 && exit 2 ;;
  esac
done

login() {
  local user=${AIRFLOW_ADMIN_USER:-admin}
  if [[ -z "${AIRFLOW_ADMIN_PASSWORD:-}" || "${AIRFLOW_ADMIN_PASSWORD}" == admin ]]; then
    echo "$user / admin"
  else
    echo "$user / \$AIRFLOW_ADMIN_PASSWORD"
  fi
}

# Prometheus here is Debian's 2.42, whose UI lives under /classic/.
urls() {
  cat <<URLS

  Airflow UI ($(login))     http://localhost:8080/dags/data_pipeline
  API docs (Swagger UI)      http://localhost:${api_port}/docs
  API                        http://localhost:${api_port}/api/income
  API metrics                http://localhost:${api_port}/metrics
  Prometheus targets         http://localhost:9090/classic/targets
  Prometheus alerts          http://localhost:9090/classic/alerts
  Pushgateway                http://localhost:9091
  HDFS NameNode (WebHDFS)    http://localhost:9870
  Kafka                      127.0.0.1:9092

URLS
}

if [[ -n "${urls_only:-}" ]]; then
  urls
  exit 0
fi

started=$SECONDS
echo "[demo] installing the local stack's prerequisites when missing (first time: apt + Maven, minutes)"
bash scripts/stack/install.sh

echo "[demo] starting the local stack with Airflow (first time: the Airflow venv, about a minute more)"
npm run --silent stack -- up

echo "[demo] uploading the sources to HDFS"
npm run --silent pipeline -- --upload-only "${data_args[@]}"

echo "[demo] running data_pipeline through Airflow"
npm run --silent airflow:run -- "${date_args[@]}"
echo "[demo] pipeline done, $((SECONDS - started)) s since the demo started"

if (exec 3<>"/dev/tcp/127.0.0.1/${api_port}") 2>/dev/null; then
  echo "[demo] error: port ${api_port} is already in use: stop that process or set API_PORT" >&2
  exit 1
fi

echo "[demo] serving the API (Ctrl-C to stop)"
urls
exec npm run --silent api
