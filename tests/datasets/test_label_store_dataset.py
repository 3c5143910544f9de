import pytest
from kedro.io import DatasetError

from review_sentiment.datasets import LabelStoreDataset
from review_sentiment.labeling_app.store import LabelStore


def test_missing_store_loads_as_no_labels(tmp_path):
    dataset = LabelStoreDataset(filepath=str(tmp_path / "labels.db"))

    assert dataset.load().empty and not dataset.exists()


def test_store_loads_standing_labels_only(tmp_path):
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        store.add_items([{"source": "a", "review_id": "R1"}, {"source": "b", "review_id": "R2"}])
        store.record("R1", "ana", "positive", 1.5)
        store.record("R2", "ana", "negative", 2.0)
        store.undo_last("ana")

    frame = LabelStoreDataset(filepath=str(path)).load()

    assert frame[["item_key", "annotator", "class_name"]].values.tolist() == [["R1", "ana", "positive"]]


def test_a_run_cannot_write_the_store(tmp_path):
    with pytest.raises(DatasetError, match="labeling app"):
        LabelStoreDataset(filepath=str(tmp_path / "labels.db")).save([])
