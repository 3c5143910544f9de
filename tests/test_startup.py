"""A command pays only for what it runs: `kedro run --nodes build_input_manifest` opens no MLflow
store, starts no Spark session, draws nothing, and prints no kedro-viz warning; Spark starts for
a pipeline with a Spark dataset and only then."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from review_sentiment import hooks
from review_sentiment.datasets.review_table import ReviewTableDataset
from review_sentiment.spark import ProjectSpark, SparkConfigError
from tests.test_end_to_end import BIN
from tests.test_mlflow_runs import project_with_inputs

# `kedro` as its console script runs it, writing the names of the modules it loaded at exit.
KEDRO_LISTING_MODULES = (
    "import atexit, json, sys; out = sys.argv[1]; "
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules)))); "
    "sys.argv = ['kedro', *sys.argv[2:]]; "
    "from kedro.framework.cli.cli import main; main()"
)
NOT_NEEDED = {
    "mlflow.store.tracking.sqlalchemy_store": "the MLflow tracking store",
    "kedro_datasets.spark.spark_dataset": "Spark datasets",
    "matplotlib.pyplot": "plotting",
}


def test_a_node_that_needs_neither_mlflow_nor_spark_starts_neither(tmp_path):
    project = project_with_inputs(tmp_path / "project")
    env = {name: value for name, value in os.environ.items()
           if name not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}  # fmt: skip
    env.update(SPARK_LOCAL_IP="127.0.0.1", PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    modules = tmp_path / "modules.json"

    done = subprocess.run(
        [sys.executable, "-c", KEDRO_LISTING_MODULES, str(modules), "run", "--nodes", "build_input_manifest"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    loaded = set(json.loads(modules.read_text()))
    assert {module: why for module, why in NOT_NEEDED.items() if module in loaded} == {}
    assert not (project / "mlruns.db").exists()
    assert "Workflow tracking is disabled" not in output  # kedro-viz's warning on partial runs
    assert 'Setting default log level to "WARN"' not in output  # Spark's banner when its JVM starts


@pytest.mark.parametrize(("spark_input", "starts"), [(True, True), (False, False)])
def test_spark_starts_only_for_a_pipeline_with_a_spark_dataset(monkeypatch, tmp_path, spark_input, starts):
    from kedro_datasets.spark import SparkDataset

    started = []
    monkeypatch.setattr(ProjectSpark, "session", lambda self: started.append(self.conf))
    lines = SparkDataset(filepath=str(tmp_path / "lines"), file_format="text") if spark_input else MemoryDataset()
    catalog = DataCatalog({"lines": lines, "counted": MemoryDataset()})
    pipeline = Pipeline([Node(func=len, inputs="lines", outputs="counted", name="count_lines")])
    spark_hooks = hooks.SparkHooks()
    spark_hooks.spark = ProjectSpark({"spark.master": "local[1]"})

    spark_hooks.before_pipeline_run(pipeline=pipeline, catalog=catalog)

    assert started == ([{"spark.master": "local[1]"}] if starts else [])


def test_the_hooks_hand_the_project_spark_to_the_catalog_and_to_datasets_that_read_with_it(tmp_path):
    spark_hooks = hooks.SparkHooks()
    spark_hooks.spark = ProjectSpark({"spark.master": "local[1]"})
    sample = ReviewTableDataset(filepath=str(tmp_path / "review_sample.csv"))
    catalog = DataCatalog({"review_sample": sample, "manifest": MemoryDataset()})
    pipeline = Pipeline([Node(func=len, inputs=["review_sample", "spark"], outputs="manifest", name="count")])

    spark_hooks.after_catalog_created(catalog=catalog)
    spark_hooks.before_pipeline_run(pipeline=pipeline, catalog=catalog)

    assert catalog.load("spark") is spark_hooks.spark
    assert sample._spark is spark_hooks.spark


def test_without_a_kedro_context_the_session_running_in_the_process_is_used(spark):
    assert ProjectSpark().session() is spark
    assert ProjectSpark({"spark.master": "local[7]"}).session() is spark  # one session a process


def test_without_settings_or_a_running_session_there_is_no_spark(monkeypatch):
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(SparkSession, "_instantiatedSession", None, raising=False)

    with pytest.raises(SparkConfigError, match="no Spark settings: run through Kedro"):
        ProjectSpark().session()
