"""The refresh pipeline: registered on its own (not in `__default__`), and its labeling half as a
slice run by Kedro's SequentialRunner over real folders: a second run with nothing new writes no
label round and keeps the frozen test set."""

import json

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset

from review_sentiment.datasets import OptionalJSONDataset
from review_sentiment.datasets.partitions import OptionalPartitionedDataset
from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS
from review_sentiment.params import ExtractionParams, LabelingParams, RefreshParams
from review_sentiment.pipelines.refresh import create_pipeline

CLASSES = ["positive", "negative", "neutral"]


def test_refresh_is_registered_but_not_part_of_the_default_run():
    from kedro.framework.project import configure_project

    from review_sentiment.pipeline_registry import register_pipelines

    configure_project("review_sentiment")
    pipelines = register_pipelines()

    assert "refresh" in pipelines
    assert not {node.name for node in pipelines["refresh"].nodes} & {node.name for node in pipelines["__default__"].nodes}


def catalog(folder, labeled_set_datasets):
    test_set = str(folder / "refresh_test_set.json")
    return DataCatalog(
        {
            "refresh_raw_reviews": OptionalPartitionedDataset(
                path=str(folder / "arrivals"),
                dataset="review_sentiment.datasets.raw_file.RawFileDataset",
            ),
            **labeled_set_datasets(folder),
            "human_annotations": MemoryDataset(pd.DataFrame(columns=ANNOTATION_COLUMNS)),
            "frozen_test_set_before": OptionalJSONDataset(filepath=test_set),
            "frozen_test_set": JSONDataset(filepath=test_set),
            "params:data_extraction": MemoryDataset(ExtractionParams(labels=CLASSES)),
            "params:labeling": MemoryDataset(LabelingParams()),
            "params:refresh": MemoryDataset(RefreshParams()),
        }
    )


def test_a_second_run_with_nothing_new_writes_no_round_and_keeps_the_test_set(tmp_path, labeled_set_datasets):
    (tmp_path / "arrivals").mkdir()
    stars = [5, 1, 3] * 10
    pd.DataFrame(
        {"review_id": [f"R{i}" for i in range(30)], "star_rating": stars,
         "review_headline": "", "review_body": [f"review number {i}" for i in range(30)],
         "product_category": "Shoes"}  # fmt: skip
    ).to_csv(tmp_path / "arrivals" / "first.tsv", sep="\t", index=False)
    labeling_half = create_pipeline().to_nodes("freeze_test_set")

    SequentialRunner().run(labeling_half, catalog(tmp_path, labeled_set_datasets))
    frozen = json.loads((tmp_path / "refresh_test_set.json").read_text())
    SequentialRunner().run(labeling_half, catalog(tmp_path, labeled_set_datasets))

    assert sorted(p.name for p in (tmp_path / "labeled").iterdir()) == ["round-0001.manifest"]
    assert json.loads((tmp_path / "refresh_test_set.json").read_text()) == frozen
    assert len(frozen["items"]) == 6
