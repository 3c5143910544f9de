"""`kedro run --pipelines model_search` as a user runs it, in a project copy whose split is already
on disk (the training pipeline with the larger space of parameters_model_search.yml): one parent MLflow run with a nested run per candidate of the shipped search space, the
comparison plot and per-class precision-recall curves as artifacts, and the chosen model
registered and promoted."""

from __future__ import annotations

import json
import pickle

import mlflow
import pytest

from tests import mlflow_store
from tests.modeling import star_labeled_reviews
from tests.test_aws_end_to_end import copy_project
from tests.test_end_to_end import kedro

pytestmark = pytest.mark.e2e
CLASSES = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("project"))
    reviews = star_labeled_reviews(400, seed=5)
    split = {"train_reviews": reviews.iloc[:320].reset_index(drop=True),
             "test_reviews": reviews.iloc[320:].reset_index(drop=True)}  # fmt: skip
    for name, frame in split.items():
        (root / f"data/05_model_input/{name}.pkl").write_bytes(pickle.dumps(frame))
    done = kedro(root, "run", "--pipelines", "model_search", "--params", "model_search.folds=3")
    with mlflow_store(root / "mlruns.db"):
        yield root, done.stdout + done.stderr


def test_one_parent_run_holds_a_nested_run_per_candidate(project):
    root, _ = project
    search = json.loads((root / "data/08_reporting/model_search.json").read_text())
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("review_sentiment").experiment_id

    runs = client.search_runs([experiment])
    [parent] = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id]

    assert parent.info.status == "FINISHED"
    assert len(children) == len(search["candidates"]) == len(runs) - 1
    assert {"bigram+sgd", "tfidf+sgd"} <= {child.data.tags["model_search.candidate"] for child in children}
    assert all(0.0 < child.data.metrics["cv.macro_f1_mean"] <= 1.0 for child in children)
    assert search["test_split_used_to_choose"] is False


def test_the_parent_run_logs_the_comparison_the_per_class_view_and_the_model(project):
    root, output = project
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("review_sentiment").experiment_id
    parent = next(run for run in client.search_runs([experiment]) if "mlflow.parentRunId" not in run.data.tags)

    artifacts = {artifact.path for artifact in client.list_artifacts(parent.info.run_id)}
    metrics = parent.data.metrics

    assert {"model_search_comparison.png", "chosen_test_pr_curves.png",
            "chosen_test_confusion_matrix.png", "model_search.json", "model_selection.json"} <= artifacts  # fmt: skip
    for name in CLASSES:
        assert {f"chosen_test.{kind}_{name}" for kind in ("precision", "recall", "average_precision")} <= set(metrics)
    assert "chosen_cv.macro_f1" in metrics
    chosen = json.loads((root / "data/08_reporting/model_selection.json").read_text())["feature_set"]
    version = client.get_model_version_by_alias("review-sentiment", "champion")
    assert version.run_id == parent.info.run_id
    assert f"Chose {chosen}" in output
