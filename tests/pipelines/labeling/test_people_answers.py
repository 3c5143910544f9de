"""Automated labeling with real people, run after run: the queue asks several people for each
validation item, and once their answers are in the label store the next run consolidates them."""

from __future__ import annotations

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from review_sentiment.datasets import (
    LabelStoreDataset,
    ManifestDataset,
    OptionalJSONDataset,
)
from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling.queue import read_queue
from review_sentiment.labeling_app.store import LabelStore
from review_sentiment.params import LabelingParams
from review_sentiment.pipelines import labeling
from tests.pipelines.labeling.test_nodes import CATEGORIES
from tests.pipelines.labeling.test_pipeline import TRUTH, reviews

PARAMS = LabelingParams(
    workforce="automated",
    people={"per_item": 1},
    automated={"humans": "people", "min_items": 300, "initial_batch": 200, "batch_size": 100,
               "min_validation_items": 20, "validation_answers": 3, "seed": 3},
    label_issues={"enabled": False},
)


def run_labeling(tmp_path, items, datasets):
    """One `kedro run --pipelines labeling`; returns (lines, queue file, summary, iterations)."""
    output = str(tmp_path / "output.manifest")
    catalog = DataCatalog({
        "input_manifest": MemoryDataset(items),
        "label_categories": MemoryDataset(CATEGORIES),
        "human_annotations": LabelStoreDataset(filepath=str(tmp_path / "labels.db")),
        **datasets(tmp_path),
        "labeling_queue": OptionalJSONDataset(filepath=str(tmp_path / "labeling_queue.json")),
        "labeling_summary": MemoryDataset(),
        "labeling_iterations": MemoryDataset(),
        "params:labeling": MemoryDataset(PARAMS),
    })
    SequentialRunner().run(labeling.create_pipeline(), catalog)
    return (
        ManifestDataset(filepath=output).load(),
        catalog.load("labeling_queue"),
        catalog.load("labeling_summary"),
        catalog.load("labeling_iterations"),
    )


def work_through(tmp_path, items, queue, annotators):
    """People on the labeling page (per_item 1), one after another: each labels what the page
    hands them from the queue, truthfully, until it hands them nothing more from it."""
    entries = read_queue(queue, "labeling_queue.json")
    keys = [key for key, _ in entries]
    wanted = {key: answers for key, answers in entries if answers is not None}
    by_key = {item_key(item): item for item in items}
    with LabelStore(tmp_path / "labels.db") as store:
        job = store.open_job(PARAMS.job_name, items)  # what `make label` does for this batch
        for name in annotators:
            while (line := job.next_item(name, per_item=1, priority=keys, answers=wanted)) and (
                item_key(line) in wanted or item_key(line) in keys
            ):
                job.record(item_key(line), name, TRUTH[by_key[item_key(line)]["star_rating"]], 2.0)
            job.release(name)


def answers_per_item(tmp_path):
    annotations = LabelStoreDataset(filepath=str(tmp_path / "labels.db")).load()
    return annotations.groupby("item_key")["annotator"].nunique().to_dict()


def test_people_give_three_answers_per_validation_item_and_the_next_run_consolidates_them(
    tmp_path, labeled_set_datasets
):
    items = reviews(900)

    # 1. Nobody has labeled: a random first batch, one answer each, as plain keys.
    _, first, _, _ = run_labeling(tmp_path, items, labeled_set_datasets)
    assert len(first) == 200 and all(isinstance(entry, str) for entry in first)
    work_through(tmp_path, items, first, ["ana"])

    # 2. Ana's labels are in; a validation share of them wants two more people.
    lines, second, summary, iterations = run_labeling(tmp_path, items, labeled_set_datasets)
    several = {entry["item"] for entry in second if isinstance(entry, dict)}
    assert all(entry["answers"] == 3 for entry in second if isinstance(entry, dict))
    assert 20 <= len(several) <= 60  # validation_fraction 0.2 of ana's 200
    by_people = {line["review_id"] for line in lines
                 if line["sentiment-metadata"]["human-annotated"] == "yes"}
    assert several <= by_people and several <= set(first)  # labeled once, still queued
    assert summary["queued_for_more_answers"] == len(several)
    assert summary["queued_for_people"] == len(second)
    assert "annotator_accuracy" not in iterations  # one answer each: nothing to weigh

    # 3. Three people work through the queue: the validation items get their three answers.
    work_through(tmp_path, items, second, ["ana", "bob", "cy"])
    counts = answers_per_item(tmp_path)
    assert all(counts[key] == 3 for key in several)
    assert all(counts[key] == 1 for key in set(first) - several)

    # 4. The next run weighs them: a consensus and the annotators' accuracy are recorded.
    _, third, _, iterations = run_labeling(tmp_path, items, labeled_set_datasets)
    assert iterations["consensus_accuracy"] and iterations["annotator_accuracy"]
    assert all(0.0 < entry["value"] <= 1.0 for entry in iterations["annotator_accuracy"])
    asked_again = {entry["item"] for entry in third if isinstance(entry, dict)}
    assert not several & asked_again
    # The items with three answers stay validation: only the new batch's validation share
    # (0.2 of 100) wants three answers, not a fresh draw among everything people labeled.
    assert len(asked_again) <= 30
