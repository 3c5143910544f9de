"""OptionalJSONDataset: a JSON file another pipeline may not have written yet."""

from kedro.io import DataCatalog

from review_sentiment.datasets import OptionalJSONDataset


def test_missing_file_loads_the_default(tmp_path):
    dataset = OptionalJSONDataset(filepath=str(tmp_path / "labeling_queue.json"))

    assert dataset.load() is None
    assert OptionalJSONDataset(filepath=str(tmp_path / "q.json"), default=[]).load() == []


def test_saved_file_loads_as_json(tmp_path):
    dataset = OptionalJSONDataset(filepath=str(tmp_path / "labeling_queue.json"), default=[])

    dataset.save(["R1", "R2"])

    assert dataset.load() == ["R1", "R2"]


def test_catalog_entry_loads_the_default_before_any_run(tmp_path):
    catalog = DataCatalog.from_config(
        {
            "labeling_queue": {
                "type": "review_sentiment.datasets.OptionalJSONDataset",
                "filepath": str(tmp_path / "labeling_queue.json"),
            }
        }
    )

    assert catalog.load("labeling_queue") is None
