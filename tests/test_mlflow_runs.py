"""MLflow runs as `kedro run` leaves them, in a project copy: a node that logs nothing opens no
store and creates no run; a training run logs parameters, each metric key once, one confusion
matrix per model and split, and a registered model with a signature."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from review_sentiment.hooks import mlflow_logging_reason
from tests import mlflow_store
from tests.pipelines.training.test_pipeline import training_inputs
from tests.test_aws_end_to_end import copy_project

CLASSES = ("negative", "neutral", "positive")
TRAINING_FILES = {
    "train_reviews": "data/05_model_input/train_reviews.pkl",
    "test_reviews": "data/05_model_input/test_reviews.pkl",
    "bigram_vectorizer": "data/04_feature/bigram_vectorizer.pkl",
    "tfidf_transformer": "data/04_feature/tfidf_transformer.pkl",
    **{
        f"{feature_set}_{split}_features": f"data/04_feature/{feature_set}_{split}_features.pkl"
        for feature_set in ("bigram", "tfidf")
        for split in ("train", "test")
    },
}


def project_with_inputs(root: Path) -> Path:
    """A project copy at `root` with what the training pipeline and `build_input_manifest` read
    already on disk (no Spark, labeling or data extraction needed)."""
    copy_project(root)
    for name, value in training_inputs().items():
        if name in TRAINING_FILES:
            (root / TRAINING_FILES[name]).parent.mkdir(parents=True, exist_ok=True)
            (root / TRAINING_FILES[name]).write_bytes(pickle.dumps(value))
    (root / "data/02_intermediate").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"review_id": ["R1", "R2"], "text": ["Great tea", "Stale"], "star_rating": [5, 1],
         "product_category": ["Grocery", "Grocery"]}
    ).to_csv(root / "data/02_intermediate/review_sample.csv", index=False)  # fmt: skip
    return root


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project copy whose MLflow store is its own `mlruns.db` (MLflow's URIs set back after)."""
    root = project_with_inputs(tmp_path / "project")
    monkeypatch.chdir(root)
    bootstrap_project(root)
    with mlflow_store(root / "mlruns.db"):
        yield root


def kedro_run(project: Path, **run_args) -> None:
    with KedroSession.create(project_path=project) as session:
        session.run(**run_args)


def test_a_node_that_logs_nothing_opens_no_store_and_creates_no_run(project, caplog):
    with caplog.at_level(logging.INFO, logger="review_sentiment.hooks"):
        kedro_run(project, node_names=["build_input_manifest"])

    assert (project / "data/03_primary/input.manifest").read_text().count("\n") == 2
    assert not (project / "mlruns.db").exists()
    assert "No MLflow run: nothing in this run logs to MLflow" in caplog.messages


def test_a_training_run_logs_each_model_and_split_under_its_own_keys(project):
    kedro_run(project, pipeline_names=["training"])

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("review_sentiment")
    runs = client.search_runs([experiment.experiment_id])
    [run] = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    run_id = run.info.run_id
    prefixes = [f"{model}_{split}" for model in ("bigram", "tfidf") for split in ("train", "test")]
    names = ["accuracy", "macro_f1", "chance_macro_f1",
             *(f"{kind}_{label}" for kind in ("precision", "recall") for label in CLASSES)]  # fmt: skip
    chosen = {f"chosen_test.{name}" for name in names} | {
        f"chosen_test.average_precision_{label}" for label in CLASSES
    }
    assert run.info.status == "FINISHED"
    assert mlflow.active_run() is None  # ended, not left on MLflow's stack once per node
    assert run.data.params["training.classifier.loss"] == "hinge"
    assert run.data.params["training.registered_model_name"] == "review-sentiment"
    # No autolog keys (`training_f1_score`), and every key logged exactly once.
    cv = {f"{model}_cv.{name}" for model in ("bigram", "tfidf", "chosen")
          for name in ("macro_f1", "macro_f1_std", "accuracy", "accuracy_std")} | {"chosen_cv.candidates"}  # fmt: skip
    assert set(run.data.metrics) == {f"{prefix}.{name}" for prefix in prefixes for name in names} | cv | chosen
    assert {len(client.get_metric_history(run_id, key)) for key in run.data.metrics} == {1}
    artifacts = {artifact.path for artifact in client.list_artifacts(run_id)}
    assert artifacts == {f"{prefix}_confusion_matrix.png" for prefix in [*prefixes, "chosen_test"]} | {
        "model_selection.json", "model_search.json", "model_search_comparison.png", "chosen_test_pr_curves.png"
    }
    # One nested run per candidate of the space.
    assert len(runs) - 1 == run.data.metrics["chosen_cv.candidates"] >= 3
    version = client.get_model_version("review-sentiment", "1")
    assert version.run_id == run_id
    assert mlflow.models.get_model_info("models:/review-sentiment/1").signature is not None


def test_a_failed_run_ends_its_mlflow_run_as_failed(project):
    (project / TRAINING_FILES["tfidf_test_features"]).unlink()

    with pytest.raises(Exception, match="tfidf_test_features"):
        kedro_run(project, pipeline_names=["training"])

    client = mlflow.MlflowClient()
    runs = client.search_runs([client.get_experiment_by_name("review_sentiment").experiment_id])
    [run] = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert run.info.status == "FAILED"
    assert mlflow.active_run() is None


def _node(name: str, inputs: list[str], tags: tuple[str, ...] = ()) -> Node:
    return Node(func=lambda *args: 0, inputs=inputs, outputs=f"{name}_out", name=name, tags=tags)


@pytest.mark.parametrize(
    ("node", "catalog", "reason"),
    [
        (_node("plain", ["table"]), {}, None),
        (_node("with_params", ["table", "params:training"]), {}, "node with_params logs params:training"),
        (_node("registers", ["table"], ("mlflow",)), {}, "node registers is tagged 'mlflow'"),
        (_node("scores", ["table"]), {"scores_out": "metrics"}, "dataset scores_out logs to MLflow"),
        (_node("caches", ["table"]), {"caches_out": "cached metrics"}, "dataset caches_out logs to MLflow"),
    ],
)
def test_an_mlflow_run_is_needed_only_when_something_logs(node, catalog, reason):
    from kedro.io import CachedDataset

    from review_sentiment.datasets.metrics import MlflowFlatMetricsDataset

    made = {
        "metrics": lambda: MlflowFlatMetricsDataset(prefix="m"),
        "cached metrics": lambda: CachedDataset(dataset=MlflowFlatMetricsDataset(prefix="m")),
    }
    datasets = {name: made[kind]() for name, kind in catalog.items()}

    assert mlflow_logging_reason(Pipeline([node]), DataCatalog({"table": MemoryDataset(), **datasets})) == reason
