"""The training pipeline as a slice run by Kedro's SequentialRunner: both models scored on both
splits under their own names, the better one by CV on the training split registered and promoted."""

import mlflow
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from review_sentiment.params import TrainingParams
from review_sentiment.pipelines.training import create_pipeline
from tests.serving import TEST, TRAIN, local_mlflow

SPLITS = {"train": "training", "test": "test"}
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
        "params:training": TrainingParams(registered_model_name="slice-model"),
        "params:training.classifier": TrainingParams().classifier,
        "params:training.search": TrainingParams().search,
    }


class KeptDataset(MemoryDataset):
    """Keeps its data after the run: the runner releases intermediate data no later node needs."""

    def _release(self) -> None:
        pass


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("training")
    pipeline = create_pipeline()
    catalog = DataCatalog(
        {
            **{name: MemoryDataset(value) for name, value in training_inputs().items()},
            **{name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()},
        }
    )
    with local_mlflow(tmp_path) as experiment, mlflow.start_run(experiment_id=experiment):
        SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}


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
        "bigram": outputs["bigram_cv_metrics"]["macro_f1"],
        "tfidf": outputs["tfidf_cv_metrics"]["macro_f1"],
    }
    assert selection["test_split_used_to_choose"] is False
    assert "macro_f1" not in selection  # no test score went into the choice
    assert registration["feature_set"] == selection["feature_set"]
    assert registration["promoted"] and registration["champion_version"] == 1


def test_nothing_autologs_and_the_registering_node_asks_for_an_mlflow_run():
    pipeline = create_pipeline()

    assert not any("autolog" in node.tags for node in pipeline.nodes)
    assert [node.name for node in pipeline.only_nodes_with_tags("mlflow").nodes] == ["register_best_model"]


def test_the_choice_does_not_depend_on_the_test_split():
    pipeline = create_pipeline().to_outputs("model_selection")

    assert "test_reviews" not in pipeline.inputs()
    assert not {"bigram_test_features", "tfidf_test_features"} & pipeline.inputs()
