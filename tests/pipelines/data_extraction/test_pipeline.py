"""data_extraction + labeling as one slice: raw reviews in, a Ground Truth output manifest out."""

from kedro.io import DataCatalog, MemoryDataset

from review_sentiment.datasets import LabelStoreDataset
from kedro.runner import SequentialRunner

from review_sentiment.datasets import ManifestDataset, PreviousManifestDataset
from review_sentiment.params import ExtractionParams, LabelingParams
from review_sentiment.pipelines import data_extraction, labeling


def test_raw_reviews_become_a_labeled_manifest_on_disk(raw_reviews, tmp_path):
    catalog = DataCatalog(
        {
            "raw_reviews": MemoryDataset(raw_reviews),
            "params:data_extraction": MemoryDataset(
                ExtractionParams(labels=["positive", "negative", "neutral"], sample_size=3, seed=0)
            ),
            "params:labeling": MemoryDataset(LabelingParams(job_name="slice")),
            "human_annotations": LabelStoreDataset(filepath=str(tmp_path / "labels.db")),
            "input_manifest": ManifestDataset(filepath=str(tmp_path / "input.manifest")),
            "output_manifest@lines": ManifestDataset(filepath=str(tmp_path / "output.manifest")),
            "previous_output_manifest": PreviousManifestDataset(
                filepath=str(tmp_path / "output.manifest")
            ),
        }
    )
    pipeline = data_extraction.create_pipeline() + labeling.create_pipeline()

    SequentialRunner().run(pipeline, catalog)

    inputs = ManifestDataset(filepath=str(tmp_path / "input.manifest")).load()
    outputs = ManifestDataset(filepath=str(tmp_path / "output.manifest")).load()
    assert len(inputs) == len(outputs) == 3
    assert {line["review_id"] for line in outputs} <= {"R1", "R2", "R3", "R4"}
    stars_to_class = {1: "negative", 3: "neutral", 4: "positive", 5: "positive"}
    for line in outputs:
        metadata = line["sentiment-metadata"]
        assert metadata["class-name"] == stars_to_class[line["star_rating"]]
        assert line["sentiment"] == ["positive", "negative", "neutral"].index(metadata["class-name"])
    assert catalog.load("cleaning_report")["duplicate_texts_dropped"] == 1
