# Airflow 3 in the local stack (sourced by stack.sh, not run): the API server (UI and REST API on
# 127.0.0.1:8080), the scheduler (LocalExecutor), the DAG processor and the triggerer, from the project
# venv, with an SQLite metadata database in WAL mode under $STACK_DIR/airflow. The DAG defers nothing, but
# without a triggerer the UI's health panel shows it failed on every page visit (~150 MB). Each component runs under airflow-run.sh, whose command line names STACK_DIR (Airflow
# rewrites its own process titles), so `down` recognises and stops only what this stack started.
#
# Settings (environment, defaults in .env.example):
#   AIRFLOW_VENV                                   the venv (default <repo>/.venv; created when missing)
#   AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD    the UI and REST login (admin / admin)
#   AIRFLOW__CORE__PARALLELISM                     task slots = LocalExecutor worker processes (2)
#   AIRFLOW__API__WORKERS                          API server worker processes (1)
#   any other AIRFLOW__SECTION__KEY                passed through to the components

AIRFLOW_VENV="${AIRFLOW_VENV:-$REPO_ROOT/.venv}"
AIRFLOW_PORT_LOCAL=8080
AIRFLOW_URL_LOCAL="http://127.0.0.1:$AIRFLOW_PORT_LOCAL"
AIRFLOW_STACK_HOME="$STACK_DIR/airflow"

# The environment of every Airflow component, exported by airflow_env (called once per `up`).
airflow_env() {
  export AIRFLOW_HOME="$AIRFLOW_STACK_HOME"
  export PATH="$AIRFLOW_VENV/bin:$PATH"
  export AIRFLOW__CORE__DAGS_FOLDER="$REPO_ROOT/dags"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
  export AIRFLOW__CORE__EXECUTOR=LocalExecutor
  # One SQLite file: Airflow 3 opens it in WAL mode (concurrent readers, one writer), enough for one
  # machine and a four-task daily DAG, with no database server to run (see the README's Local stack).
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_STACK_HOME/airflow.db"
  # Memory: LocalExecutor forks `parallelism` workers up front (~140 MB each; the default 32 held ~4.5 GB).
  # The DAG is a chain with one active run, so two slots leave room for a retry and a manual run.
  export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-2}"
  export AIRFLOW__API__WORKERS="${AIRFLOW__API__WORKERS:-1}"
  export AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="${AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES:-1}"
  export AIRFLOW__API__HOST=127.0.0.1
  export AIRFLOW__API__PORT="$AIRFLOW_PORT_LOCAL"
  export AIRFLOW__API__BASE_URL="http://localhost:$AIRFLOW_PORT_LOCAL"
  export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$AIRFLOW_URL_LOCAL/execution/"
  # The simple auth manager: one admin whose password is ours, not a generated one.
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW_ADMIN_USER:-admin}:admin"
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$AIRFLOW_STACK_HOME/passwords.json"
  # Local mode of the DAG: each task is `npm run <task>` in this repository, against this stack. The DAG
  # is unpaused as soon as it is parsed: it runs on its daily schedule (catchup off).
  export PIPELINE_MODE=local
  export PIPELINE_REPO_DIR="$REPO_ROOT"
  export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
  export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$AIRFLOW_STACK_HOME/logs"
}

airflow_venv_ready() { [[ -x "$AIRFLOW_VENV/bin/airflow" ]]; }

# Creates (or checks) the venv: a no-op in well under a second when it is up to date.
ensure_airflow_venv() {
  AIRFLOW_VENV="$AIRFLOW_VENV" bash "$REPO_ROOT/scripts/airflow/setup.sh" >>"$STACK_LOGS/airflow-setup.log" 2>&1 ||
    die "could not create the Airflow venv $AIRFLOW_VENV; see $STACK_LOGS/airflow-setup.log"
}

# The admin login, written before each start so a changed AIRFLOW_ADMIN_PASSWORD takes effect.
write_airflow_passwords() {
  mkdir -p "$AIRFLOW_STACK_HOME"
  (
    umask 077
    AIRFLOW_ADMIN_USER="${AIRFLOW_ADMIN_USER:-admin}" AIRFLOW_ADMIN_PASSWORD="${AIRFLOW_ADMIN_PASSWORD:-admin}" \
      "$AIRFLOW_VENV/bin/python" -c 'import json, os; print(json.dumps({os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}))' \
      >"$AIRFLOW_STACK_HOME/passwords.json"
  )
}

# Creates or upgrades the metadata database; skipped when it was migrated by this Airflow version.
migrate_airflow_db() {
  local stamp="$AIRFLOW_STACK_HOME/.migrated" version
  version="$("$AIRFLOW_VENV/bin/python" -c 'import airflow; print(airflow.__version__)')"
  if [[ -f "$AIRFLOW_STACK_HOME/airflow.db" && -f "$stamp" && "$(<"$stamp")" == "$version" ]]; then return 0; fi
  say "migrating the Airflow metadata database (Airflow $version, SQLite)"
  "$AIRFLOW_VENV/bin/airflow" db migrate >>"$STACK_LOGS/airflow-migrate.log" 2>&1 ||
    die "airflow db migrate failed; see $STACK_LOGS/airflow-migrate.log"
  echo "$version" >"$stamp"
}

# The DAG's first task reads the sources from HDFS: upload data/sample when they are missing there, as
# the compose system's init job does, so the first scheduled run has its input.
ensure_sample_sources() {
  local raw="${HDFS_RAW_DIR:-/data/raw}" tsx="$REPO_ROOT/node_modules/.bin/tsx"
  if http_ok "http://127.0.0.1:9870/webhdfs/v1$raw/total-population.csv?op=GETFILESTATUS&user.name=${HDFS_USER:-hdfs}"; then
    return 0
  fi
  [[ -x "$tsx" ]] || die "node_modules missing: run npm ci (needed to upload the sample sources to HDFS)"
  say "uploading data/sample to HDFS $raw (the DAG's input)"
  (cd "$REPO_ROOT" && "$tsx" scripts/pipeline/cli.ts --upload-only) >>"$STACK_LOGS/airflow-upload.log" 2>&1 ||
    die "upload of data/sample to HDFS failed; see $STACK_LOGS/airflow-upload.log"
}

spawn_airflow() {
  local service="$1"
  shift
  spawn "$service" bash "$STACK_SCRIPTS/airflow-run.sh" "$STACK_DIR" "$AIRFLOW_VENV/bin/airflow" "$@"
}

# Runs once before the first Airflow component starts in this `up`.
AIRFLOW_PREPARED=0
prepare_airflow() {
  ((AIRFLOW_PREPARED)) && return 0
  airflow_venv_ready || say "creating the Airflow venv $AIRFLOW_VENV (first time: about a minute)"
  ensure_airflow_venv
  airflow_env
  mkdir -p "$AIRFLOW_STACK_HOME"
  write_airflow_passwords
  migrate_airflow_db
  AIRFLOW_PREPARED=1
}

start_airflow_api() {
  prepare_airflow
  spawn_airflow airflow_api api-server
}

start_airflow_scheduler() {
  prepare_airflow
  ensure_sample_sources
  # Task logs are files under AIRFLOW_HOME/logs that the API server reads directly: no log server.
  spawn_airflow airflow_scheduler scheduler --skip-serve-logs
}

start_airflow_dag_processor() {
  prepare_airflow
  spawn_airflow airflow_dag_processor dag-processor
}

start_airflow_triggerer() {
  prepare_airflow
  spawn_airflow airflow_triggerer triggerer --skip-serve-logs
}

# 10 s: the API server's single worker can take seconds to answer while task runs report to it (seen: 4 s).
airflow_health() { curl -fsS --max-time 10 "$AIRFLOW_URL_LOCAL/api/v2/monitor/health" 2>/dev/null; }
# "<component>":{"status":"healthy" in the health document (the API server answers for itself).
airflow_component_healthy() {
  local health
  health="$(airflow_health)" || return 1
  [[ "$health" =~ \"$1\":\ *\{\"status\":\ *\"healthy\" ]]
}
airflow_api_answers() { airflow_component_healthy metadatabase; }
airflow_scheduler_answers() { airflow_component_healthy scheduler; }
airflow_dag_processor_answers() { airflow_component_healthy dag_processor; }
airflow_triggerer_answers() { airflow_component_healthy triggerer; }
