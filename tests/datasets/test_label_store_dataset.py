"""The `human_annotations` dataset: people's standing labels of every labeling job, as a table."""

import pytest
from kedro.io import DatasetError

from review_sentiment.datasets import LabelStoreDataset
from review_sentiment.ground_truth.manifest import manifest_fingerprint
from review_sentiment.ground_truth.records import source_sha1
from review_sentiment.labeling_app.schema import LEGACY_JOB_NAME
from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS, LabelStore
from tests.labeling_app import make_legacy_store

COLUMNS = [
    "job_name",
    "manifest_fingerprint",
    "item_key",
    "source_sha1",
    "annotator",
    "class_name",
    "seconds",
    "created_at",
]
FIRST = [{"source": "a", "review_id": "R1"}, {"source": "b", "review_id": "R2"}]
SECOND = [*FIRST, {"source": "c", "review_id": "R3"}]


def test_missing_store_loads_as_no_labels_with_the_columns(tmp_path):
    dataset = LabelStoreDataset(filepath=str(tmp_path / "labels.db"))

    frame = dataset.load()

    assert frame.empty and not dataset.exists()
    assert list(frame.columns) == ANNOTATION_COLUMNS == COLUMNS
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["seconds"].dtype) == "float64"


def test_store_loads_the_standing_labels_of_every_job(tmp_path):
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        first = store.open_job("review-sentiment", FIRST)
        first.record("R1", "ana", "positive", 1.5)
        first.record("R2", "ana", "negative", 2)
        first.undo_last("ana")
        second = store.open_job("review-sentiment", SECOND)
        second.record("R3", "bo", "neutral", None)
        store.open_job("other-job", FIRST).record("R1", "cy", "negative", 4.0)

    frame = LabelStoreDataset(filepath=str(path)).load()

    assert list(frame.columns) == COLUMNS
    assert frame.drop(columns="created_at").astype(object).fillna("-").values.tolist() == [
        ["review-sentiment", manifest_fingerprint(FIRST), "R1", source_sha1("a"), "ana",
         "positive", 1.5],
        ["review-sentiment", manifest_fingerprint(SECOND), "R3", source_sha1("c"), "bo",
         "neutral", "-"],
        ["other-job", manifest_fingerprint(FIRST), "R1", source_sha1("a"), "cy", "negative", 4.0],
    ]  # fmt: skip
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["created_at"].is_monotonic_increasing


def test_a_store_from_before_jobs_loads_under_the_legacy_job(tmp_path):
    path = tmp_path / "labels.db"
    make_legacy_store(
        path, FIRST, [("label", "R2", "ana", "negative", 2.0, None, "2026-11-20T10:00:00+00:00")]
    )

    frame = LabelStoreDataset(filepath=str(path)).load()

    assert frame[["job_name", "item_key", "source_sha1", "class_name"]].values.tolist() == [
        [LEGACY_JOB_NAME, "R2", source_sha1("b"), "negative"]
    ]


def test_a_run_cannot_write_the_store(tmp_path):
    with pytest.raises(DatasetError, match="labeling app"):
        LabelStoreDataset(filepath=str(tmp_path / "labels.db")).save([])
