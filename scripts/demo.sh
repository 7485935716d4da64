#!/usr/bin/env bash
# npm run demo [-- --date D --data DIR]: the main job without Docker. Starts the local stack (Kafka,
# HDFS, Prometheus, Pushgateway on loopback; idempotent), runs the pipeline on the sample data, then
# serves the API on :8000 in the foreground (Ctrl-C stops it; `npm run stack -- down` stops the stack).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

api_port=${API_PORT:-8000}
urls() {
  cat <<URLS

  API docs (Swagger UI)  http://localhost:${api_port}/docs
  API                    http://localhost:${api_port}/api/income
  API metrics            http://localhost:${api_port}/metrics
  Prometheus             http://localhost:9090   (alerts: http://localhost:9090/alerts)
  Pushgateway            http://localhost:9091
  HDFS NameNode          http://localhost:9870
  Kafka                  127.0.0.1:9092

URLS
}

echo "[demo] installing the local stack's prerequisites when missing (first time: apt + Maven, minutes)"
bash scripts/stack/install.sh

echo "[demo] starting the local stack"
npm run --silent stack -- up

echo "[demo] running the pipeline"
npm run --silent pipeline -- "$@"

if (exec 3<>"/dev/tcp/127.0.0.1/${api_port}") 2>/dev/null; then
  echo "[demo] error: port ${api_port} is already in use: stop that process or set API_PORT" >&2
  exit 1
fi

echo "[demo] serving the API (Ctrl-C to stop)"
urls
exec npm run --silent api
