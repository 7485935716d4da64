#!/bin/bash
# Entrypoint of the Airflow image: `airflow <command>` after writing the simple auth manager's
# passwords file from AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD (the login of the UI and REST API).
#   airflow.sh init          migrate the metadata database (once, before the other components)
#   airflow.sh health URL    succeeds when URL answers 200 (the images carry no curl)
#   airflow.sh <args>        airflow <args>, e.g. api-server, scheduler, dag-processor
set -euo pipefail
if [[ -n "${AIRFLOW_ADMIN_USER:-}" ]]; then
  passwords="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-$AIRFLOW_HOME/simple_auth_manager_passwords.json}"
  python3 -c 'import json, os, sys; json.dump({os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, open(sys.argv[1], "w"))' "$passwords"
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$passwords"
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-$AIRFLOW_ADMIN_USER:admin}"
fi
case "${1:-version}" in
  init)
    airflow db migrate
    exec airflow version
    ;;
  health)
    exec python3 -c 'import sys, urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=8).status == 200 else 1)' "$2"
    ;;
  *) exec airflow "$@" ;;
esac
