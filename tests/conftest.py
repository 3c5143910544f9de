"""Fixtures shared by the whole suite: one local Spark session, small review tables, the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parents[1]
# The workspace's real data sets (research-only licences: read from here, never copied in).
SHARED_DATA = PROJECT.parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is not here: these tests use the workspace's shared data")
    return path


@pytest.fixture(scope="session")
def moto_url():
    """A real AWS API server (moto's server mode) on 127.0.0.1 for the whole session: S3,
    SageMaker and the rest answer over HTTP as AWS does. Tests that need a clean slate POST
    `/moto-api/reset` or use their own bucket names."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_test_credentials(monkeypatch):
    """Fake AWS credentials in the environment, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def spark():
    """One `local[1]` session for every Spark test: starting a JVM takes seconds."""
    from review_sentiment.spark import start_spark

    session = start_spark(
        {
            "spark.master": "local[1]",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
        }
    )
    yield session
    session.stop()


@pytest.fixture
def raw_reviews() -> pd.DataFrame:
    """Amazon Customer Reviews columns, with the HTML and duplicates real files have."""
    return pd.DataFrame(
        {
            "marketplace": ["US"] * 6,
            "review_id": ["R1", "R2", "R3", "R4", "R5", "R6"],
            "product_category": ["Electronics"] * 6,
            "star_rating": [5, 1, 3, 4, 5, 2],
            "review_headline": ["Great", "Broke", "OK", "Nice", "Great", ""],
            "review_body": [
                "Works &#34;perfectly&#34;.<br /><br />Would buy again",
                "Stopped working after a week",
                "It does the job",
                "Good value",
                "Works &#34;perfectly&#34;.<br /><br />Would buy again",
                "<br />",
            ],
        }
    )


@pytest.fixture(autouse=True, scope="session")
def _mlflow_default_in_tmp(tmp_path_factory):
    """Anything that falls back to MLflow's default store writes to a temporary one, never
    `mlflow.db` in the working tree."""
    folder = tmp_path_factory.mktemp("mlflow-default")
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    yield
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch):
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture
def labeled_set_datasets():
    """The labeled set's catalog entries as conf/base/catalog.yml declares them, in a folder:
    `datasets(folder)` gives label_rounds, new_label_round, previous_output_manifest and
    output_manifest@lines."""
    from review_sentiment.datasets import ManifestDataset, PreviousManifestDataset
    from review_sentiment.datasets.partitions import OptionalPartitionedDataset

    def datasets(folder: Path) -> dict:
        rounds = {"path": str(folder / "labeled"), "dataset": "review_sentiment.datasets.ManifestDataset",
                  "filename_suffix": ".manifest"}  # fmt: skip
        output = str(folder / "output.manifest")
        return {
            "label_rounds": OptionalPartitionedDataset(**rounds),
            "new_label_round": OptionalPartitionedDataset(**rounds),
            "previous_output_manifest": PreviousManifestDataset(filepath=output),
            "output_manifest@lines": ManifestDataset(filepath=output),
        }

    return datasets


@pytest.fixture(scope="session")
def new_project(tmp_path_factory):
    """`new_project(name)`: a folder as a user's fresh clone has it (conf without credentials,
    pyproject.toml, the bundled clothing reviews, an empty arrivals folder); the package comes
    from the installed project."""
    import shutil

    def make(name: str) -> Path:
        root = tmp_path_factory.mktemp(name)
        shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*"))
        shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
        (root / "data/01_raw/arrivals").mkdir(parents=True)
        shutil.copy(PROJECT / "data/01_raw/womens_clothing_reviews_8k.csv.gz", root / "data/01_raw")
        (root / "src").mkdir()  # Kedro wants one
        return root

    return make
