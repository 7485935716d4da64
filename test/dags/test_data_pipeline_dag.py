"""Structure of dags/data_pipeline_dag.py: imports cleanly in both modes; Docker mode matches SPEC 7."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DAG_FILE

TASK_IDS = ["start_producer", "transform_hdfs", "start_consumer", "compute_cube"]
CLIS = {
    "start_producer": "tasks/producer/cli.ts",
    "transform_hdfs": "tasks/transform-hdfs/cli.ts",
    "start_consumer": "tasks/consumer/cli.ts",
    "compute_cube": "tasks/compute-cube/cli.ts",
}
NPM_SCRIPTS = {
    "start_producer": "producer",
    "transform_hdfs": "transform-hdfs",
    "start_consumer": "consumer",
    "compute_cube": "compute-cube",
}


def load_dag(monkeypatch: pytest.MonkeyPatch, mode: str, **env: str):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("PIPELINE_MODE", mode)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}, f"DAG import errors in {mode} mode: {bag.import_errors}"
    assert "data_pipeline" in bag.dags, f"DAG data_pipeline not found in {DAG_FILE}"
    return bag.dags["data_pipeline"]


def chain_of(dag) -> list[str]:
    """Task ids in dependency order; asserts the DAG is one straight chain."""
    roots = [t for t in dag.tasks if not t.upstream_task_ids]
    assert len(roots) == 1, f"expected one root task, got {[t.task_id for t in roots]}"
    order, task = [], roots[0]
    while True:
        order.append(task.task_id)
        downstream = list(task.downstream_list)
        assert len(downstream) <= 1, f"{task.task_id} fans out to {[t.task_id for t in downstream]}"
        if not downstream:
            return order
        task = downstream[0]


@pytest.mark.parametrize("mode", ["docker", "local"])
def test_dag_imports_without_errors(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    dag = load_dag(monkeypatch, mode)
    assert chain_of(dag) == TASK_IDS


def test_unknown_mode_is_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("PIPELINE_MODE", "kubernetes")
    bag = DagBag(dag_folder=str(DAG_FILE))
    errors = " ".join(bag.import_errors.values())
    assert "PIPELINE_MODE must be 'docker' or 'local'" in errors


def test_docker_mode_structure(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.docker.operators.docker import DockerOperator

    dag = load_dag(monkeypatch, "docker")
    assert dag.dag_id == "data_pipeline"
    assert chain_of(dag) == TASK_IDS
    assert dag.schedule == "@daily"
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    for task_id in TASK_IDS:
        task = dag.get_task(task_id)
        assert isinstance(task, DockerOperator), f"{task_id} is {type(task).__name__}"
        assert task.retries >= 1
        assert task.retry_exponential_backoff >= 2
        assert task.retry_delay >= timedelta(seconds=1)
        assert task.max_retry_delay is not None and task.max_retry_delay > task.retry_delay
        assert task.image == "population-pipeline-task:latest"
        assert task.command[0] == CLIS[task_id]
        assert task.command[1:3] == ["--date", "{{ ds }}"]
        assert task.docker_url == "tcp://docker-socket-proxy:2375"
        assert task.network_mode == "population-pipeline"
        assert task.mount_tmp_dir is False
        assert task.auto_remove == "success"
        [mount] = task.mounts
        assert mount["Target"] == "/app/var" and mount["Source"] == "population-pipeline-var"
        # Services are reached by compose service name, overridable by an Airflow Variable.
        assert "kafka:19092" in task.environment["KAFKA_BROKERS"]
        assert "var.value.get" in task.environment["KAFKA_BROKERS"]
        assert "http://namenode:9870" in task.environment["HDFS_URL"]
        assert "http://pushgateway:9091" in task.environment["PUSHGATEWAY_URL"]


def test_docker_mode_is_configured_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    dag = load_dag(
        monkeypatch,
        "docker",
        PIPELINE_TASK_IMAGE="registry.example/task:1.2.3",
        PIPELINE_DOCKER_URL="unix://var/run/docker.sock",
        PIPELINE_DOCKER_NETWORK="other-net",
        PIPELINE_RETRIES="5",
        PIPELINE_SCHEDULE="0 3 * * *",
        PIPELINE_ARGS_START_PRODUCER="--loops 2",
        KAFKA_BROKERS="broker-a:9092,broker-b:9092",
    )
    producer = dag.get_task("start_producer")
    assert producer.image == "registry.example/task:1.2.3"
    assert producer.docker_url == "unix://var/run/docker.sock"
    assert producer.network_mode == "other-net"
    assert producer.retries == 5
    assert producer.command[-2:] == ["--loops", "2"]
    assert "broker-a:9092,broker-b:9092" in producer.environment["KAFKA_BROKERS"]
    assert dag.schedule == "0 3 * * *"


def test_local_mode_runs_the_npm_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.standard.operators.bash import BashOperator

    dag = load_dag(monkeypatch, "local", PIPELINE_REPO_DIR="/srv/pipeline")
    for task_id in TASK_IDS:
        task = dag.get_task(task_id)
        assert isinstance(task, BashOperator), f"{task_id} is {type(task).__name__}"
        runner = '{{ var.value.get("PIPELINE_LOCAL_RUNNER", "npm run --silent") }}'
        assert task.bash_command == f"{runner} {NPM_SCRIPTS[task_id]} -- --date {{{{ ds }}}}"
        assert task.cwd == "/srv/pipeline"
        assert task.append_env is True
        assert task.skip_on_exit_code == []
