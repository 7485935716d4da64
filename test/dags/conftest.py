"""Pytest setup for the DAG tests: an isolated AIRFLOW_HOME per session, before airflow is imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO / "dags"
DAG_FILE = DAGS_DIR / "data_pipeline_dag.py"

# Parsing the DAG needs an Airflow config but no database; never touch ~/airflow.
_home = tempfile.mkdtemp(prefix="airflow-home-", dir=os.environ.get("TMPDIR"))
os.environ.setdefault("AIRFLOW_HOME", _home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_DIR))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
