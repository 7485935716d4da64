"""Daily census pipeline: CSV sources -> Kafka + HDFS -> SQLite -> cubes served by the API.

``start_producer >> transform_hdfs >> start_consumer >> compute_cube``, each task one TypeScript CLI of
the task image, run with the run's logical date (``--date {{ ds }}``) so a re-run replaces that day's
results and never double-counts.

Two modes, chosen by the environment of the Airflow processes (Twelve-Factor, nothing hard-wired):

* ``PIPELINE_MODE=docker`` (default, docker compose): each task is a DockerOperator on the task image,
  started through the docker socket proxy on the compose network, with the SQLite volume mounted.
* ``PIPELINE_MODE=local`` (no Docker): each task is a BashOperator running ``npm run <task> -- --date
  {{ ds }}`` in the repository, against the local stack on loopback. ``airflow dags test`` runs the
  real DAG end to end this way.

Settings of the tasks themselves (``KAFKA_BROKERS``, ``HDFS_URL``, ...) come, by precedence, from an
Airflow Variable of that name (read when the task runs), the Airflow process's environment, then the
mode's default. Nothing here does I/O at import time: the DAG processor only builds operators.
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, chain
from docker.types import Mount

DAG_ID = "data_pipeline"

# (task id, npm script, CLI entry of the task image), in DAG order.
TASKS: tuple[tuple[str, str, str], ...] = (
    ("start_producer", "producer", "tasks/producer/cli.ts"),
    ("transform_hdfs", "transform-hdfs", "tasks/transform-hdfs/cli.ts"),
    ("start_consumer", "consumer", "tasks/consumer/cli.ts"),
    ("compute_cube", "compute-cube", "tasks/compute-cube/cli.ts"),
)

# Where the task containers find the services: compose service names on the compose network.
DOCKER_TASK_ENV_DEFAULTS: dict[str, str] = {
    "KAFKA_BROKERS": "kafka:19092",
    "HDFS_URL": "http://namenode:9870",
    "HDFS_USER": "hdfs",
    "PUSHGATEWAY_URL": "http://pushgateway:9091",
    "VAR_DIR": "/app/var",
    "LOG_LEVEL": "info",
}
# Locally the tasks' own defaults (lib/config.ts) already point at the loopback stack; an empty value
# means "use the task's default".
LOCAL_TASK_ENV_DEFAULTS: dict[str, str] = {key: "" for key in DOCKER_TASK_ENV_DEFAULTS}
LOCAL_TASK_ENV_DEFAULTS.update({"DB_PATH": "", "CUBE_DB": ""})


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value != "" else default


def _env_float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be a number, got {raw!r}") from err


def _task_env(defaults: dict[str, str]) -> dict[str, str]:
    """Jinja templates resolved at run time: Airflow Variable, else process env, else default."""
    return {
        key: "{{ var.value.get(%s, %s) }}" % (json.dumps(key), json.dumps(_env(key, default)))
        for key, default in defaults.items()
    }


def _extra_args(task_id: str) -> list[str]:
    """Per-task extra CLI flags, e.g. PIPELINE_ARGS_START_PRODUCER="--loops 2"."""
    return shlex.split(_env(f"PIPELINE_ARGS_{task_id.upper()}", ""))


MODE = _env("PIPELINE_MODE", "docker")
if MODE not in ("docker", "local"):
    raise ValueError(f"PIPELINE_MODE must be 'docker' or 'local', got {MODE!r}")

default_args = {
    "owner": "data-engineering",
    "retries": int(_env_float("PIPELINE_RETRIES", 3)),
    "retry_delay": timedelta(seconds=_env_float("PIPELINE_RETRY_DELAY_SECONDS", 30)),
    # Doubles the delay after each failed try (30 s, 60 s, 120 s ...), capped below.
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(seconds=_env_float("PIPELINE_MAX_RETRY_DELAY_SECONDS", 600)),
    "execution_timeout": timedelta(seconds=_env_float("PIPELINE_TASK_TIMEOUT_SECONDS", 3600)),
}


def _docker_task(task_id: str, cli: str) -> DockerOperator:
    return DockerOperator(
        task_id=task_id,
        image=_env("PIPELINE_TASK_IMAGE", "population-pipeline-task:latest"),
        # The image's entrypoint is `node --import tsx`: the command names the task's CLI.
        command=[cli, "--date", "{{ ds }}", *_extra_args(task_id)],
        docker_url=_env("PIPELINE_DOCKER_URL", "tcp://docker-socket-proxy:2375"),
        network_mode=_env("PIPELINE_DOCKER_NETWORK", "population-pipeline"),
        environment=_task_env(DOCKER_TASK_ENV_DEFAULTS),
        mounts=[
            Mount(
                source=_env("PIPELINE_DATA_VOLUME", "population-pipeline-var"),
                target=DOCKER_TASK_ENV_DEFAULTS["VAR_DIR"],
                type="volume",
            )
        ],
        # The Airflow container's temp dir does not exist on the Docker host: never bind-mount it.
        mount_tmp_dir=False,
        # Failed containers stay for `docker logs`; successful ones are removed.
        auto_remove="success",
        force_pull=False,
        tty=False,
    )


def _local_task(task_id: str, npm_script: str) -> BashOperator:
    # The runner resolves at run time like the tasks' settings (Airflow Variable, environment, default),
    # so a running Airflow can be pointed at another one (the scheduler retry test's fail_once.sh).
    runner = "{{ var.value.get(%s, %s) }}" % (
        json.dumps("PIPELINE_LOCAL_RUNNER"),
        json.dumps(_env("PIPELINE_LOCAL_RUNNER", "npm run --silent")),
    )
    args = " ".join(shlex.quote(a) for a in _extra_args(task_id))
    return BashOperator(
        task_id=task_id,
        bash_command=f"{runner} {npm_script} -- --date {{{{ ds }}}} {args}".rstrip(),
        cwd=_env("PIPELINE_REPO_DIR", str(Path(__file__).resolve().parents[1])),
        env=_task_env(LOCAL_TASK_ENV_DEFAULTS),
        # Keep PATH, HOME and the rest of the worker's environment for npm and node.
        append_env=True,
        # Exit code 99 is a failure like any other, not a skip.
        skip_on_exit_code=None,
    )


with DAG(
    dag_id=DAG_ID,
    description="Census sources -> Kafka/HDFS -> SQLite -> analytic cubes",
    doc_md=__doc__,
    schedule=_env("PIPELINE_SCHEDULE", "@daily"),
    start_date=pendulum.parse(_env("PIPELINE_START_DATE", "2026-01-01"), tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["census", "pipeline", MODE],
) as dag:
    steps = [
        _docker_task(task_id, cli) if MODE == "docker" else _local_task(task_id, npm_script)
        for task_id, npm_script, cli in TASKS
    ]
    chain(*steps)
