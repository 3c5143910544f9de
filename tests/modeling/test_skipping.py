"""A run with nothing to train runs the training nodes without fitting anything: each passes the
reason on, in the shape of its outputs, and the refresh's training nodes are the training
pipeline's own."""

from __future__ import annotations

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from review_sentiment.modeling.skipping import NothingToTrain, unless_nothing_to_train
from review_sentiment.pipelines.refresh import create_pipeline as refresh_pipeline
from review_sentiment.modeling.pipeline import model_pipeline

CALLED: list[str] = []


def fit(rows: list[int]) -> tuple[str, int]:
    CALLED.append("fit")
    return "model", len(rows)


def log(model: str) -> None:
    CALLED.append("log")


def score(model: str, size: int) -> dict:
    CALLED.append("score")
    return {"model": model, "size": size}


def _run(rows) -> dict:
    CALLED.clear()
    pipeline = unless_nothing_to_train(
        Pipeline(
            [
                Node(fit, "rows", ["model", "size"], name="fit"),
                Node(log, "model", None, name="log"),
                Node(score, ["model", "size"], "scores", name="score"),
            ]
        )
    )
    catalog = DataCatalog({"rows": MemoryDataset(rows), "scores": MemoryDataset()})
    SequentialRunner().run(pipeline, catalog)
    return catalog.load("scores")


def test_training_data_runs_every_node_as_written():
    assert _run([1, 2, 3]) == {"model": "model", "size": 3}
    assert CALLED == ["fit", "log", "score"]


def test_nothing_to_train_reaches_the_end_and_nothing_runs():
    assert _run(NothingToTrain("no new labels")) == NothingToTrain("no new labels")
    assert CALLED == []


def test_the_refresh_runs_the_training_pipelines_own_nodes_but_registration():
    refresh = {node.name for node in refresh_pipeline().nodes}

    assert {f"refresh.{node.name}" for node in model_pipeline().nodes} <= refresh
    assert "refresh.register_best_model" not in refresh
    assert {"refresh.build_bigram_features", "refresh.build_tfidf_features", "decide_champion"} <= refresh
