"""data_extraction + labeling as one slice: raw reviews in, a Ground Truth output manifest out;
and the bundled sample through data_extraction as the catalog reads it."""

import shutil
import subprocess
from pathlib import Path

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from review_sentiment.datasets import LabelStoreDataset, ManifestDataset
from review_sentiment.datasets.raw_file import RawFile, RawFileDataset
from review_sentiment.ground_truth.records import item_key
from review_sentiment.params import ExtractionParams, LabelingParams
from review_sentiment.pipelines import data_extraction, labeling
from review_sentiment.spark import ProjectSpark
from tests.conftest import PROJECT

LABELS = ["positive", "negative", "neutral"]


def test_raw_reviews_become_a_labeled_manifest_on_disk(raw_reviews, tmp_path, labeled_set_datasets):
    tsv = RawFile(path="data/01_raw/reviews.tsv", content=raw_reviews.to_csv(sep="\t", index=False).encode())
    catalog = DataCatalog(
        {
            "raw_reviews": MemoryDataset(tsv, copy_mode="assign"),
            "spark": MemoryDataset(ProjectSpark(), copy_mode="assign"),
            "params:data_extraction": MemoryDataset(
                ExtractionParams(labels=LABELS, sample_size=3, seed=0)
            ),
            "params:labeling": MemoryDataset(LabelingParams(job_name="slice")),
            "human_annotations": LabelStoreDataset(filepath=str(tmp_path / "labels.db")),
            "input_manifest": ManifestDataset(filepath=str(tmp_path / "input.manifest")),
            **labeled_set_datasets(tmp_path),
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


def bundled_default() -> Path:
    """The raw file conf/base/catalog.yml reads when no raw_reviews_path is given."""
    catalog = (PROJECT / "conf/base/catalog.yml").read_text()
    default = catalog.split("${runtime_params:raw_reviews_path,", 1)[1].split("}", 1)[0]
    return PROJECT / default


def test_the_bundled_sample_becomes_an_input_manifest_of_distinct_reviews(tmp_path):
    manifest = ManifestDataset(filepath=str(tmp_path / "input.manifest"))
    catalog = DataCatalog(
        {
            "raw_reviews": RawFileDataset(filepath=str(bundled_default())),
            "spark": MemoryDataset(ProjectSpark(), copy_mode="assign"),
            "params:data_extraction": MemoryDataset(ExtractionParams(labels=LABELS)),
            "input_manifest": manifest,
        }
    )

    SequentialRunner().run(data_extraction.create_pipeline(), catalog)

    lines = manifest.load()
    report = catalog.load("cleaning_report")
    assert report["rows_read"] >= 5_000
    assert len(lines) == report["rows_kept"] >= 0.99 * report["rows_read"]
    # Women's E-Commerce Clothing Reviews have no review id: each review is keyed by its text.
    assert all("review_id" not in line for line in lines)
    assert len({item_key(line) for line in lines}) == len(lines)
    assert {line["star_rating"] for line in lines} == {1, 2, 3, 4, 5}
    assert sum(line["source"].count("\n") for line in lines) == 0  # clean_text joined the lines


def test_the_bundled_sample_and_its_script_are_not_git_ignored():
    """A fresh clone must have the default raw file, or `make run` fails at its first node."""
    git = shutil.which("git")
    if git is None or not (PROJECT / ".git").exists():
        pytest.skip("not a git checkout")
    script = PROJECT / "data/01_raw/make_womens_clothing_sample.py"
    for path in (bundled_default(), script):
        relative = str(path.relative_to(PROJECT))
        ignored = subprocess.run([git, "check-ignore", "-q", relative], cwd=PROJECT, check=False)
        assert ignored.returncode == 1, f"{relative} is git-ignored: add !{relative} to .gitignore"
