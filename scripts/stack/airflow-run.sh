#!/usr/bin/env bash
# airflow-run.sh <STACK_DIR> <airflow binary> <args...>: runs one Airflow component of the local stack in
# the foreground and exits with it. Airflow rewrites its processes' titles, so the pid file names this
# wrapper, whose command line keeps STACK_DIR for stack.sh's ownership check. `down` sends SIGTERM to the
# whole process group (this wrapper, the component, its workers and tasks); the wrapper then waits for
# the component's graceful shutdown instead of exiting first.
set -uo pipefail
shift # STACK_DIR: only there to be seen in this process's command line
"$@" &
child=$!
trap 'wait "$child"; exit $?' TERM INT
wait "$child"
