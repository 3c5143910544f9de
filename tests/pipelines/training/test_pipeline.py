"""The training pipeline as a slice run by Kedro's SequentialRunner in a real SQLite MLflow store:
the original two models scored on both splits under their own names, the winner of the space by CV
on the training split registered and promoted, and the same training again registering nothing."""

import mlflow
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from review_sentiment.champion_decision import describe_decision
from review_sentiment.params import FeatureParams, TrainingParams
from review_sentiment.pipelines.training import create_pipeline
from tests.serving import TEST, TRAIN, local_mlflow

SPLITS = {"train": "training", "test": "test"}
# The originals and one more candidate, on folds the toy set's classes can fill.
SEARCH = TrainingParams(
    search={
        "folds": 3, "repeats": 1, "max_rows": None, "n_jobs": 1,
        "classifiers": {"lr": {"kind": "logistic_regression", "params": {"class_weight": "balanced"}}},
        "candidates": {"tfidf": ["lr"]},
    }
).search  # fmt: skip
MODELS = {"bigram": "bigram counts", "tfidf": "bigram TF-IDF"}


def training_inputs() -> dict[str, object]:
    """What feature_engineering leaves for training, fitted on the shared toy reviews."""
    train = pd.DataFrame(TRAIN, columns=["text", "label"])
    test = pd.DataFrame(TEST, columns=["text", "label"])
    vectorizer = CountVectorizer(ngram_range=(1, 2)).fit(train["text"])
    counts = {"train": vectorizer.transform(train["text"]), "test": vectorizer.transform(test["text"])}
    tfidf = TfidfTransformer().fit(counts["train"])
    return {
        "train_reviews": train,
        "test_reviews": test,
        "bigram_vectorizer": vectorizer,
        "tfidf_transformer": tfidf,
        **{f"bigram_{split}_features": matrix for split, matrix in counts.items()},
        **{f"tfidf_{split}_features": tfidf.transform(matrix) for split, matrix in counts.items()},
        "params:feature_engineering": FeatureParams(),
        "params:training": TrainingParams(registered_model_name="slice-model"),
        "params:training.classifier": TrainingParams().classifier,
        "params:training.search": SEARCH,
    }


class KeptDataset(MemoryDataset):
    """Keeps its data after the run: the runner releases intermediate data no later node needs."""

    def _release(self) -> None:
        pass


def _run(pipeline, experiment: str) -> dict[str, object]:
    catalog = DataCatalog(
        {
            **{name: MemoryDataset(value) for name, value in training_inputs().items()},
            **{name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()},
        }
    )
    with mlflow.start_run(experiment_id=experiment):
        SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The pipeline run twice on the same data and parameters: both runs' outputs, and how many
    versions the registry holds after them."""
    tmp_path = tmp_path_factory.mktemp("training")
    with local_mlflow(tmp_path) as experiment:
        first = _run(create_pipeline(), experiment)
        again = _run(create_pipeline(), experiment)
        versions = mlflow.MlflowClient().search_model_versions("name = 'slice-model'")
    return first, again, [int(version.version) for version in versions]


@pytest.fixture(scope="module")
def outputs(runs):
    return runs[0]


def test_each_model_is_scored_on_each_split_under_its_own_name(outputs):
    for feature_set, model in MODELS.items():
        for split, split_name in SPLITS.items():
            metrics = outputs[f"{feature_set}_{split}_metrics"]
            figure = outputs[f"{feature_set}_{split}_confusion_matrix"]

            assert {"accuracy", "macro_f1", "chance_macro_f1", "recall_neutral"} <= set(metrics)
            assert figure.axes[0].get_title().startswith(f"{model}, {split_name} set: macro-F1")


def test_the_better_model_by_cv_on_the_training_split_is_registered_and_promoted(outputs):
    selection, registration = outputs["model_selection"], outputs["model_registration"]

    assert selection["cv_macro_f1"] == {
        "bigram+sgd": outputs["bigram_cv_metrics"]["macro_f1"],
        "tfidf+sgd": outputs["tfidf_cv_metrics"]["macro_f1"],
        "tfidf+lr": outputs["model_search_report"]["candidates"][2]["macro_f1_mean"],
    }
    assert selection["feature_set"] == outputs["model_search_report"]["choice"]["chosen"]
    assert selection["test_split_used_to_choose"] is False
    assert "macro_f1" not in selection  # no test score went into the choice
    assert registration["feature_set"] == selection["feature_set"]
    assert registration["promoted"] and registration["champion_version"] == 1
    assert outputs["chosen_test_metrics"]["macro_f1"] == pytest.approx(registration["macro_f1"])


def test_the_same_training_again_registers_no_new_version_and_says_so(runs):
    first, again, versions = runs

    assert versions == [1]
    assert describe_decision(again["model_registration"], "champion") == (
        "slice-model: no new version, the same training (rows, parameters and code) is v1; "
        "champion stays v1"
    )
    assert again["model_registration"]["registered"] is False
    assert again["model_registration"]["version"] == first["model_registration"]["version"] == 1
    assert again["model_registration"]["champion_version"] == 1


def test_nothing_autologs_and_the_registering_node_asks_for_an_mlflow_run():
    pipeline = create_pipeline()

    assert not any("autolog" in node.tags for node in pipeline.nodes)
    tagged = {node.name for node in pipeline.only_nodes_with_tags("mlflow").nodes}
    assert tagged == {"log_candidate_runs", "register_best_model"}


def test_the_choice_does_not_depend_on_the_test_split():
    pipeline = create_pipeline().to_outputs("model_selection")

    assert "test_reviews" not in pipeline.inputs()
    assert not {"bigram_test_features", "tfidf_test_features"} & pipeline.inputs()
