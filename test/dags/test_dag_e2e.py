"""The real DAG end to end: `airflow dags test data_pipeline <date>` in local mode against the local stack.

Each run gets its own Airflow metadata DB (a copy of one migrated once), and the pipeline runs isolated
from other test runs (own VAR_DIR, Kafka topic and group, HDFS directories) with the real tasks
(`npm run <task>`). Asserted: cube_analytics.db is filled; the same date run again gives identical
cubes; a task that fails once is retried by Airflow and the run still succeeds.

Needs the local stack (`npm run stack -- up`) and the tasks; skips, saying so, only when the stack does
not answer.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

DATE = os.environ.get("E2E_DAG_DATE", "2026-01-20")
KAFKA = os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092").split(",")[0]
HDFS_URL = os.environ.get("HDFS_URL", "http://127.0.0.1:9870").rstrip("/")
VENV_BIN = Path(sys.executable).parent
WORK = REPO / "var" / "e2e" / "dag"
TASK_IDS = ["start_producer", "transform_hdfs", "start_consumer", "compute_cube"]


def _stack_problem() -> str | None:
    host, _, port = KAFKA.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as err:
        return f"Kafka does not answer at {KAFKA} ({err})"
    try:
        with urllib.request.urlopen(f"{HDFS_URL}/webhdfs/v1/?op=GETFILESTATUS&user.name=hdfs", timeout=5) as res:
            res.read()
    except OSError as err:
        return f"HDFS (WebHDFS) does not answer at {HDFS_URL} ({err})"
    return None


def _run(cmd: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(cmd)}  -> exit {proc.returncode} in {time.monotonic() - started:.1f} s")
    return proc


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 40) -> str:
    return "\n".join((proc.stdout + "\n" + proc.stderr).strip().splitlines()[-lines:])


@pytest.fixture(scope="module")
def pipeline_env() -> Iterator[dict[str, str]]:
    problem = _stack_problem()
    if problem:
        pytest.skip(f"local stack not answering: {problem}. Start it with `npm run stack -- up`.")
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("node and npm must be on PATH to run the tasks")

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "airflow-template").mkdir(parents=True)
    run_id = uuid.uuid4().hex[:8]
    topic = f"e2e.dag.{run_id}"
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PIPELINE_MODE": "local",
        "PIPELINE_REPO_DIR": str(REPO),
        # Fast retries for the test; the back-off doubles from here.
        "PIPELINE_RETRIES": "2",
        "PIPELINE_RETRY_DELAY_SECONDS": "1",
        "VAR_DIR": str(WORK / "var"),
        "KAFKA_BROKERS": os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092"),
        "HDFS_URL": HDFS_URL,
        "KAFKA_TOPIC": topic,
        "KAFKA_DLQ_TOPIC": f"{topic}.dlq",
        "KAFKA_GROUP_ID": f"e2e-dag-{run_id}",
        "HDFS_RAW_DIR": "/e2e/dag/raw",
        "HDFS_PROCESSED_DIR": "/e2e/dag/processed",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "warn"),
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)

    migrate = _run(["airflow", "db", "migrate"], _airflow_home_env(env, WORK / "airflow-template"))
    assert migrate.returncode == 0, f"airflow db migrate failed:\n{_tail(migrate)}"
    upload = _run([str(shutil.which("node")), "--import", "tsx", "scripts/pipeline/cli.ts", "--upload-only"], env)
    assert upload.returncode == 0, f"upload of the sample sources to HDFS failed:\n{_tail(upload)}"
    yield env
    # Leave no test topics behind on the shared broker (best effort).
    _run([str(shutil.which("node")), "--import", "tsx", "test/e2e/delete-topics.ts", topic, f"{topic}.dlq"], env, 60)


def _airflow_home_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """Airflow's home and its metadata DB in it (the generated airflow.cfg would pin the first home's)."""
    return {**env, "AIRFLOW_HOME": str(home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}


def _dags_test(env: dict[str, str], name: str, **extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`airflow dags test` with a fresh copy of the migrated metadata DB; returns the run and that DB."""
    home = WORK / f"airflow-{name}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    shutil.copy(WORK / "airflow-template" / "airflow.db", home / "airflow.db")
    proc = _run(["airflow", "dags", "test", "data_pipeline", DATE], {**_airflow_home_env(env, home), **extra}, 900)
    return proc, home / "airflow.db"


def _task_instances(airflow_db: Path) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(airflow_db) as db:
        rows = db.execute("select task_id, state, try_number from task_instance where dag_id = 'data_pipeline'")
        return {task_id: (state, try_number) for task_id, state, try_number in rows}


def _cube_snapshot(cube_db: Path) -> dict[str, list[tuple]]:
    """Every cube table's rows, sorted; cube_runs (build times) is left out."""
    assert cube_db.exists(), f"{cube_db} was not written"
    with sqlite3.connect(f"file:{cube_db}?mode=ro", uri=True) as db:
        tables = [
            name
            for (name,) in db.execute("select name from sqlite_master where type = 'table' and name like 'cube\\_%' escape '\\'")
            if name != "cube_runs"
        ]
        return {t: sorted(db.execute(f'select * from "{t}"').fetchall(), key=repr) for t in sorted(tables)}


def test_dag_run_fills_the_cubes_and_a_rerun_is_identical(pipeline_env: dict[str, str]) -> None:
    first, first_db = _dags_test(pipeline_env, "run1")
    assert first.returncode == 0, f"airflow dags test failed:\n{_tail(first)}"
    assert _task_instances(first_db) == {t: ("success", 1) for t in TASK_IDS}
    cube_db = WORK / "var" / "cube_analytics.db"
    cubes = _cube_snapshot(cube_db)
    assert set(cubes) >= {"cube_health_insurance", "cube_income", "cube_self_employment"}, cubes.keys()
    for table, rows in cubes.items():
        assert rows, f"{table} is empty after the DAG run"
    with sqlite3.connect(f"file:{cube_db}?mode=ro", uri=True) as db:
        dates = {d for (d,) in db.execute("select distinct date from cube_income")}
    assert DATE in dates

    second, second_db = _dags_test(pipeline_env, "run2")
    assert second.returncode == 0, f"airflow dags test (re-run) failed:\n{_tail(second)}"
    assert _task_instances(second_db) == {t: ("success", 1) for t in TASK_IDS}
    assert _cube_snapshot(cube_db) == cubes, "re-running the same date changed the cubes"


def test_a_failed_task_is_retried(pipeline_env: dict[str, str], tmp_path: Path) -> None:
    marker = tmp_path / "compute-cube-failed-once"
    proc, airflow_db = _dags_test(
        pipeline_env,
        "retry",
        PIPELINE_LOCAL_RUNNER=f"bash {REPO / 'test/dags/fail_once.sh'}",
        FAIL_ONCE_SCRIPT="compute-cube",
        FAIL_ONCE_MARKER=str(marker),
    )
    assert marker.exists(), f"compute_cube was never made to fail:\n{_tail(proc)}"
    assert proc.returncode == 0, f"the DAG run failed despite the retry:\n{_tail(proc)}"
    states = _task_instances(airflow_db)
    assert states["compute_cube"] == ("success", 2), states
    assert all(states[t] == ("success", 1) for t in TASK_IDS[:-1]), states
