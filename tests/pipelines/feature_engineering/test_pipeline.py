"""feature_engineering + training slice: an output manifest in, two scored models and a champion out."""

import json

import mlflow
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pickle import PickleDataset

from review_sentiment.datasets import OptionalJSONDataset
from review_sentiment.params import FeatureParams, TrainingParams
from review_sentiment.pipelines import feature_engineering, training
from tests.serving import local_mlflow

CLASSES = ["positive", "negative", "neutral"]
WORDS = {"positive": "great lovely", "negative": "awful broken", "neutral": "okay average"}


@pytest.fixture
def manifest_lines(spark, tmp_path):
    path = tmp_path / "output.manifest"
    with path.open("w") as out:
        for label, words in WORDS.items():
            for i in range(20):
                out.write(json.dumps({
                    "source": f"{words} review {i}",
                    "sentiment": CLASSES.index(label),
                    "sentiment-metadata": {"class-name": label, "confidence": 1.0,
                                           "human-annotated": "no",
                                           "type": "groundtruth/text-classification"},
                }) + "\n")
    return spark.read.text(str(path))


@pytest.fixture
def tracking(tmp_path):
    with local_mlflow(tmp_path) as experiment:
        yield experiment


@pytest.mark.parametrize(
    "features",
    [
        FeatureParams(test_size=0.25, seed=1, vectorizer="counts"),
        FeatureParams(test_size=0.25, seed=1, vectorizer="hashing", n_features=2**12),
    ],
    ids=["counts", "hashing"],
)
def test_manifest_to_registered_champion(manifest_lines, tracking, tmp_path, features):
    # Kept on disk: the runner frees in-memory intermediate data once no node needs it.
    kept = {
        name: PickleDataset(filepath=str(tmp_path / f"{name}.pkl"))
        for name in ("train_reviews", "test_reviews", "bigram_test_metrics", "tfidf_test_metrics",
                     "manifest_quarantine", "manifest_report")
    }
    catalog = DataCatalog(
        {
            **kept,
            "output_manifest@spark": MemoryDataset(manifest_lines, copy_mode="assign"),
            "label_categories": MemoryDataset({"labels": [{"label": c} for c in CLASSES]}),
            # No labeling run before this one: the optional queue is absent.
            "labeling_queue": OptionalJSONDataset(filepath=str(tmp_path / "labeling_queue.json")),
            "params:feature_engineering": MemoryDataset(features),
            "params:training": MemoryDataset(TrainingParams(registered_model_name="slice-model")),
            "params:training.classifier": MemoryDataset(TrainingParams().classifier),
            "params:training.search": MemoryDataset(TrainingParams().search),
        }
    )
    pipeline = feature_engineering.create_pipeline() + training.create_pipeline()

    with mlflow.start_run(experiment_id=tracking):
        outputs = SequentialRunner().run(pipeline, catalog)

    test_reviews = catalog.load("test_reviews")
    assert len(test_reviews) == 15 and len(catalog.load("train_reviews")) == 45
    assert catalog.load("manifest_quarantine").empty
    assert catalog.load("manifest_report")["reviews_read"] == 60
    assert set(catalog.load("bigram_test_metrics")) >= {"accuracy", "macro_f1", "recall_neutral"}
    assert set(catalog.load("tfidf_test_metrics")) >= {"accuracy", "macro_f1", "precision_positive"}
    registration = outputs["model_registration"].load()
    assert registration["promoted"] and registration["champion_version"] == 1
    champion = mlflow.sklearn.load_model("models:/slice-model@champion")
    assert list(champion.predict(test_reviews["text"])) == test_reviews["label"].tolist()
