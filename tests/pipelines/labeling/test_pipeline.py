"""The labeling pipeline run after run on the same files: the labeled set never shrinks, people's
labels and issued machine labels stay, and a run that waits for people says what to do next."""

from __future__ import annotations

import logging

from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from review_sentiment.datasets import LabelStoreDataset, ManifestDataset
from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling_app.store import LabelStore
from review_sentiment.params import LabelingParams
from review_sentiment.pipelines import labeling
from tests.labeling.test_automated import synthetic_items
from tests.pipelines.labeling.test_nodes import CATEGORIES

TRUTH = {1: "negative", 3: "neutral", 5: "positive"}
STARS = {name: star for star, name in TRUTH.items()}


def reviews(n):
    """Input-manifest lines of synthetic reviews, some hard for a model, with ids and stars."""
    return [
        {"source": item["source"], "review_id": f"R{i}", "star_rating": STARS[item["truth"]]}
        for i, item in enumerate(synthetic_items(n, seed=1))
    ]
PARAMS = LabelingParams(
    workforce="automated",
    automated={"humans": "people", "min_items": 300, "initial_batch": 200, "batch_size": 100,
               # 20 validation items: no margin over the point estimate could pass there.
               "min_validation_items": 20, "threshold_z": 0.0, "seed": 3},
    label_issues={"enabled": False},
)


class People:
    """People answering on the labeling page: each answer committed to the real label store."""

    def __init__(self, path):
        self.path = path

    def label(self, items, keys, annotator="ana"):
        by_key = {item_key(item): item for item in items}
        with LabelStore(self.path) as store:
            job = store.open_job(PARAMS.job_name, items)  # what `make label` does for this batch
            for key in keys:
                job.record(key, annotator, TRUTH[by_key[key]["star_rating"]], 3.0)

    def labeled(self):
        return set(LabelStoreDataset(filepath=str(self.path)).load()["item_key"])


def run_labeling(tmp_path, items, people, datasets):
    """One `kedro run --pipelines labeling` on the same files; returns (lines, queue)."""
    catalog = DataCatalog({
        "input_manifest": MemoryDataset(items),
        "label_categories": MemoryDataset(CATEGORIES),
        "human_annotations": LabelStoreDataset(filepath=str(people.path)),
        **datasets(tmp_path),
        "labeling_queue": MemoryDataset(),
        "params:labeling": MemoryDataset(PARAMS),
    })
    SequentialRunner().run(labeling.create_pipeline(), catalog)
    return ManifestDataset(filepath=str(tmp_path / "output.manifest")).load(), catalog.load("labeling_queue")


def labels(lines):
    """Each labeled review's class, who labeled it, and when: everything that must not change."""
    return {
        line["review_id"]: (
            line["sentiment-metadata"]["class-name"],
            line["sentiment-metadata"]["human-annotated"],
            line["sentiment-metadata"]["creation-date"],
        )
        for line in lines
    }


def test_labels_are_never_lost_across_runs(tmp_path, caplog, labeled_set_datasets):
    items = reviews(900)
    people = People(tmp_path / "labels.db")
    caplog.set_level(logging.WARNING)

    # 1. Nobody has labeled: the run queues a first batch and says what to do next.
    lines, queue = run_labeling(tmp_path, items, people, labeled_set_datasets)
    assert lines == [] and len(queue) == 200
    assert "label the 200 reviews in labeling_queue.json with `make label`, then run again" in caplog.text

    # 2. People label 150 of the queue: their labels are in, and the model labels the easy rest.
    people.label(items, queue[:150])
    second, queue = run_labeling(tmp_path, items, people, labeled_set_datasets)
    humans = {key for key, (_, human, _) in labels(second).items() if human == "yes"}
    assert humans == people.labeled() and len(humans) == 150
    assert sum(human == "no" for _, human, _ in labels(second).values()) > 0
    # Labeled items are queued again only to ask more people (validation), never as plain keys.
    assert queue and not {entry for entry in queue if isinstance(entry, str)} & set(labels(second))

    # 3. Nobody answered the new batch: nothing is lost, nothing changes.
    caplog.clear()
    third, queue_again = run_labeling(tmp_path, items, people, labeled_set_datasets)
    assert labels(third).items() >= labels(second).items()
    assert f"label the {len(queue_again)} reviews in labeling_queue.json" in caplog.text

    # 4. The input manifest grows: every earlier label stays as it was ...
    grown = items + reviews(1200)[900:]
    fourth, queue = run_labeling(tmp_path, grown, people, labeled_set_datasets)
    assert labels(fourth).items() >= labels(third).items()
    # ... and once people answer the new queue, new reviews are labeled too.
    people.label(grown, [entry for entry in queue if isinstance(entry, str)])
    fifth, _ = run_labeling(tmp_path, grown, people, labeled_set_datasets)
    assert labels(fifth).items() >= labels(fourth).items()
    new = {line["review_id"] for line in fifth} - {item["review_id"] for item in items}
    assert len(new) > 100
