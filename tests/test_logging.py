"""What `kedro run` prints with the shipped conf/logging.yml: node and project lines, one record
per line, no catalog load/save lines unless asked for, the run summary; and no Spark progress
bars in any environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kedro.config import OmegaConfigLoader

from review_sentiment.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT

BIN = Path(sys.executable).parent
# Two nodes that need only parameters: the run is about logging, not data.
NODES = "build_label_categories,build_worker_instructions"
RECORD = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w.]+: ")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The project's configuration and folders, as a user clones it (no run outputs)."""
    root = tmp_path_factory.mktemp("logging_project")
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*", "local"))
    (root / "conf" / "local").mkdir()
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    for layer in sorted((PROJECT / "data").iterdir()):
        if layer.is_dir():
            (root / "data" / layer.name).mkdir(parents=True)
    (root / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    return root


def kedro_run(project: Path, *args: str, **env: str) -> str:
    """`kedro run` as a user's shell runs it (none of the suite's MLflow or logging settings);
    stdout and stderr together, as a terminal shows them."""
    inherited = {
        key: value for key, value in os.environ.items()
        if key not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "KEDRO_LOGGING_CONFIG")
    }  # fmt: skip
    done = subprocess.run(
        [str(BIN / "kedro"), "run", *args],
        cwd=project,
        env={**inherited, "KEDRO_DISABLE_TELEMETRY": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    return done.stdout


def test_the_shipped_config_hides_catalog_io_and_keeps_one_record_per_line(project):
    output = kedro_run(project, "--nodes", NODES)
    lines = output.splitlines()

    assert "Using 'conf/logging.yml' as logging configuration" in output
    assert "Loading data from" not in output
    assert "Saving data to" not in output
    assert "Completed 1 out of 2 tasks" not in output
    running = [line for line in lines if "Running node: build_label_categories" in line]
    # Not wrapped at 80 columns: the whole record, inputs and outputs, on one line.
    assert len(running) == 1 and RECORD.match(running[0]), running
    assert running[0].endswith("build_label_categories([params:data_extraction]) -> [label_categories]")
    summary = [line for line in lines if "review_sentiment.run_summary: Run summary: 2 nodes in " in line]
    assert len(summary) == 1, output


def test_catalog_io_lines_come_back_with_a_more_detailed_config(project):
    detailed = yaml.safe_load((project / "conf" / "logging.yml").read_text())
    detailed["loggers"]["kedro.io.data_catalog"]["level"] = "DEBUG"
    (project / "conf" / "local" / "logging.yml").write_text(yaml.safe_dump(detailed))

    output = kedro_run(project, "--nodes", NODES, KEDRO_LOGGING_CONFIG="conf/local/logging.yml")

    assert "Using 'conf/local/logging.yml' as logging configuration" in output
    assert re.search(r"^\S+ INFO +kedro\.io\.data_catalog: Saving data to label_categories", output, re.M)


@pytest.mark.parametrize("env", ["local", "aws"])
def test_spark_draws_no_progress_bars(env, monkeypatch):
    monkeypatch.setenv("REVIEW_SENTIMENT_S3_URI", "s3://bucket/review-sentiment")  # conf/aws needs it
    # Spark turns its console progress bar on for PySpark ("pyspark-shell"); its
    # `[Stage 3:=====>  (2 + 1) / 4]` lines would land in the middle of the log.
    spark = OmegaConfigLoader(str(PROJECT / "conf"), env=env, **CONFIG_LOADER_ARGS)["spark"]

    assert spark["spark.ui.showConsoleProgress"] is False


def test_the_config_sets_a_level_for_every_noisy_logger_it_names():
    config = yaml.safe_load((PROJECT / "conf" / "logging.yml").read_text())
    loggers = config["loggers"]

    assert loggers["review_sentiment"]["level"] == "INFO"
    for quiet in ("kedro.io.data_catalog", "kedro.runner", "kedro_mlflow.framework.hooks.mlflow_hook"):
        assert loggers[quiet]["level"] == "WARNING", quiet
    assert config["root"]["level"] == "WARNING"
