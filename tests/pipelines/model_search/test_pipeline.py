"""The model_search pipeline (the training pipeline with `params:model_search`'s space) after
feature_engineering's feature nodes, as a slice run by Kedro's SequentialRunner in a real SQLite
MLflow store: nested runs per candidate, the comparison plot, the chosen model scored per class
on the test split and registered; and the test split never reaching the choice."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from review_sentiment.modeling.tracking import METRICS
from review_sentiment.params import FeatureParams, TrainingParams
from review_sentiment.pipelines import training
from review_sentiment.pipelines.model_search import create_pipeline
from tests.modeling import star_labeled_reviews
from tests.pipelines.training.test_pipeline import KeptDataset
from tests.serving import local_mlflow

CLASSES = ("negative", "neutral", "positive")
FEATURES = FeatureParams(
    feature_sets={"word_char": {"word_ngrams": [1, 2], "char_ngrams": [2, 4], "sublinear_tf": True, "min_df": 2}}
)
TRAINING = TrainingParams(
    registered_model_name="searched-slice",
    search={
        "folds": 3, "repeats": 1, "max_rows": None,
        "classifiers": {"lr": {"kind": "logistic_regression", "params": {"class_weight": "balanced"},
                               "grid": {"C": [1.0, 10.0]}}},
        "candidates": {"word_char": ["lr"]},
    },
)  # fmt: skip
CANDIDATES = {"bigram+sgd", "tfidf+sgd", "word_char+lr(C=1.0)", "word_char+lr(C=10.0)"}


def _split() -> tuple[pd.DataFrame, pd.DataFrame]:
    reviews = star_labeled_reviews(320, seed=3)
    return reviews.iloc[:240].reset_index(drop=True), reviews.iloc[240:].reset_index(drop=True)


def _run(pipeline, test_reviews: pd.DataFrame) -> dict:
    train, _ = _split()
    inputs = {"train_reviews": train, "test_reviews": test_reviews,
              "params:feature_engineering": FEATURES, "params:training": TRAINING,
              "params:training.classifier": TRAINING.classifier,
              "params:model_search": TRAINING.search}  # fmt: skip
    catalog = DataCatalog(
        {
            **{name: MemoryDataset(value, copy_mode="assign") for name, value in inputs.items()},
            **{name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()},
        }
    )
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The whole pipeline in a parent run; yields its outputs, the parent run and the client."""
    tmp_path = tmp_path_factory.mktemp("model_search")
    with local_mlflow(tmp_path) as experiment:
        with mlflow.start_run(experiment_id=experiment) as parent:
            outputs = _run(create_pipeline(), _split()[1])
        yield outputs, parent.info.run_id, mlflow.MlflowClient(), experiment


def test_every_candidate_is_a_nested_run_with_its_params_and_cv_scores(run):
    outputs, parent, client, experiment = run

    children = client.search_runs([experiment], filter_string=f"tags.mlflow.parentRunId = '{parent}'")

    assert {child.data.tags["model_search.candidate"] for child in children} == CANDIDATES
    chosen = [c for c in children if c.data.tags["model_search.chosen"] == "true"]
    assert [c.data.tags["model_search.candidate"] for c in chosen] == [outputs["model_search_report"]["choice"]["chosen"]]
    for child in children:
        assert set(METRICS) | {"cv.macro_f1_fold"} == set(child.data.metrics)
        assert len(client.get_metric_history(child.info.run_id, "cv.macro_f1_fold")) == 3
        assert {"feature_set", "classifier", "kind", "original", "features.weighting"} <= set(child.data.params)
    lr = next(c for c in children if c.data.tags["model_search.candidate"] == "word_char+lr(C=10.0)")
    assert lr.data.params["classifier.C"] == "10.0"
    assert lr.data.params["classifier.class_weight"] == "balanced"
    assert lr.data.params["features.char_ngrams"] == "[2, 4]"


def test_it_is_the_training_pipeline_with_the_model_search_space():
    searched, trained = create_pipeline(), training.create_pipeline()

    assert {node.name for node in trained.nodes} <= {node.name for node in searched.nodes}
    assert "params:model_search" in searched.inputs()
    assert "params:training.search" not in searched.inputs()


def test_the_original_two_models_are_reported_beside_the_rest(run):
    outputs, *_ = run

    originals = {r["name"] for r in outputs["model_search_report"]["candidates"] if r["original"]}

    assert originals == {"bigram+sgd", "tfidf+sgd"}
    assert set(outputs["model_selection"]["original"]) == originals
    assert set(outputs["model_selection"]["cv_macro_f1"]) == CANDIDATES
    assert outputs["model_selection"]["test_split_used_to_choose"] is False


def test_the_chosen_model_is_scored_per_class_on_the_test_split_and_registered(run):
    outputs, *_ = run

    metrics = outputs["chosen_test_metrics"]
    [curves] = outputs["chosen_test_pr_curves"].axes

    for name in CLASSES:
        for kind in ("precision", "recall", "average_precision"):
            assert 0.0 <= metrics[f"{kind}_{name}"] <= 1.0
    assert sorted(line.get_label().split(" ")[0] for line in curves.get_lines()) == list(CLASSES)
    assert outputs["chosen_cv_metrics"]["candidates"] == len(CANDIDATES)
    registration = outputs["model_registration"]
    assert registration["promoted"] and registration["version"] == 1
    assert registration["feature_set"] == outputs["model_search_report"]["choice"]["chosen"]
    served = mlflow.pyfunc.load_model("models:/searched-slice@champion")
    assert set(served.predict(["I love this dress", "It ripped, returned it"])) <= set(CLASSES)


def test_the_test_split_never_reaches_the_choice(run):
    outputs, *_ = run
    _, test = _split()
    # Reviews only in the test split, and every test label turned around.
    flipped = pd.concat([test, pd.DataFrame({"text": ["zzqx only in the test split"] * 5, "label": "neutral"})])
    flipped["label"] = flipped["label"].map({"positive": "negative", "negative": "neutral", "neutral": "positive"})
    to_evaluation = create_pipeline().to_outputs("chosen_test_metrics")

    again = _run(to_evaluation, flipped.reset_index(drop=True))

    choosing = training.create_pipeline().to_outputs("model_selection")
    assert not {"test_reviews", "bigram_test_features", "tfidf_test_features"} & choosing.inputs()
    # What the choice is made from is the same; equal-size candidates are then told apart by
    # fit time, which a loaded machine can swap, so the chosen name is compared within noise.
    before, after = outputs["model_selection"], again["model_selection"]
    assert after["cv_macro_f1"] == before["cv_macro_f1"]
    assert after["rule"] == before["rule"] and after["test_split_used_to_choose"] is False
    assert again["model_search"].choice.within_noise == outputs["model_search"].choice.within_noise
    assert again["chosen_test_metrics"]["macro_f1"] != outputs["chosen_test_metrics"]["macro_f1"]
