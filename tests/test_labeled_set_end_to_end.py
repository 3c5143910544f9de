"""One labeled set, whichever way labels come in: the default run, a refresh with arrivals, people
collected from the page, an automated run waiting for people, another refresh and the default run
again, as a user runs them with `kedro run` in one project folder. After every step no labeled
item is gone, and every label is as it was (class, who, creation date) unless a person's label
replaced a machine's."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from review_sentiment.datasets import ManifestDataset
from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling_app.store import LabelStore
from tests.test_end_to_end import PROJECT, kedro

pytestmark = pytest.mark.e2e

FINE_FOOD = PROJECT / "data/01_raw/fine_food_reviews_1k.csv"
# The default run on a 600-review sample keeps the steps short; the refreshes add fine-food
# reviews (they have ids), 300 and then 200 of them.
SAMPLE = "data_extraction.sample_size=600"
AUTOMATED_WAITING = (
    "labeling.workforce=automated,labeling.automated.humans=people,labeling.automated.min_items=150,"
    "labeling.automated.initial_batch=60"
)


@pytest.fixture(scope="module")
def project(new_project) -> Path:
    return new_project("labeled-set-project")


def arrive(project: Path, name: str, rows: slice) -> None:
    reviews = pd.read_csv(FINE_FOOD, dtype=str, keep_default_na=False)
    reviews.iloc[rows].to_csv(project / "data/01_raw/arrivals" / name, index=False)


def labels(project: Path) -> dict[str, tuple[str, str, str]]:
    """The output manifest's labels: {item key: (class, human-annotated, creation date)}."""
    lines = ManifestDataset(filepath=str(project / "data/03_primary/output.manifest")).load()
    keys = [item_key(line) for line in lines]
    assert len(keys) == len(set(keys)), "the output manifest holds an item twice"
    return {
        key: tuple(line["sentiment-metadata"][field] for field in ("class-name", "human-annotated", "creation-date"))
        for key, line in zip(keys, lines, strict=True)
    }


def assert_kept(before: dict, after: dict) -> set[str]:
    """Every earlier label is still there and unchanged, unless a person's label replaced a
    machine's; returns the keys a person took over."""
    assert set(before) <= set(after), f"{len(set(before) - set(after))} labeled items were lost"
    taken_over = {key for key in before if after[key] != before[key]}
    for key in taken_over:
        assert before[key][1] == "no" and after[key][1] == "yes", f"{key}: {before[key]} became {after[key]}"
    return taken_over


def refresh_summary(project: Path) -> dict:
    return json.loads((project / "data/08_reporting/refresh_summary.json").read_text())


def test_every_path_appends_to_one_labeled_set_and_no_label_is_lost(project):
    # 1. The default run labels its sample from the stars.
    kedro(project, "run", "--pipelines", "data_extraction,labeling", "--params", SAMPLE)
    first = labels(project)
    assert len(first) == 600 and {human for _, human, _ in first.values()} == {"no"}

    # 2. A refresh with 300 arrivals continues from those labels: it trains on them too and
    # draws its frozen test set from the trusted ones (the stars), with nothing copied by hand.
    arrive(project, "arrival-1.csv", slice(0, 300))
    kedro(project, "run", "--pipelines", "refresh")
    second = labels(project)
    assert_kept(first, second)
    summary = refresh_summary(project)
    assert summary["new_reviews"]["new_reviews"] == len(second) - len(first) > 290
    assert summary["test_set"]["reviews"] + summary["candidate"]["train_size"] == len(second)
    assert summary["decision"]["promoted"]

    # 3. People label 20 reviews of the batch the page now shows (the refresh's); collecting
    # them keeps every other label: before, this step emptied the output manifest.
    batch = ManifestDataset(filepath=str(project / "data/03_primary/input.manifest")).load()
    with LabelStore(project / "data/03_primary/labels.db") as store:
        job = store.open_job("review-sentiment", batch)
        for line in batch[:20]:
            job.record(item_key(line), "ana", "neutral", 3.0)
    kedro(project, "run", "--pipelines", "labeling", "--params", "labeling.workforce=people")
    third = labels(project)
    taken_over = assert_kept(second, third)
    assert len(third) == len(second) and taken_over == {item_key(line) for line in batch[:20]}

    # 4. 200 more arrive; the automated workforce sends people a first batch and waits for them.
    arrive(project, "arrival-2.csv", slice(300, 500))
    waiting = kedro(project, "run", "--pipelines", "refresh", "--params", AUTOMATED_WAITING)
    fourth = labels(project)
    assert fourth == third
    assert "with `make label`, then run again" in waiting.stdout + waiting.stderr
    assert refresh_summary(project)["labeling"]["round"] is None

    # 5. Refresh again from the stars: only the 200 waiting reviews are new.
    kedro(project, "run", "--pipelines", "refresh")
    fifth = labels(project)
    assert_kept(fourth, fifth)
    assert refresh_summary(project)["new_reviews"]["new_reviews"] == len(fifth) - len(fourth) > 190

    # 6. The default run again: nothing new to label, every label of every path still there,
    # and training reads the whole set.
    kedro(project, "run", "--pipelines", "data_extraction,labeling,feature_engineering", "--params", SAMPLE)
    sixth = labels(project)
    assert sixth == fifth
    train = pd.read_pickle(project / "data/05_model_input/train_reviews.pkl")
    test = pd.read_pickle(project / "data/05_model_input/test_reviews.pkl")
    assert len(train) + len(test) == len(sixth)
    rounds = sorted(path.name for path in (project / "data/03_primary/labeled").glob("*.manifest"))
    assert rounds == ["round-0001.manifest", "round-0002.manifest", "round-0003.manifest", "round-0004.manifest"]


def test_labels_are_removed_only_on_purpose_with_a_command(project):
    before = labels(project)
    # Two fine-food reviews (keyed by their ids): labeled by a refresh, in no batch of the default run.
    removed = [key for key in before if key.isdigit()][:2]

    said = kedro(project, "labels", "remove", *removed, "--reason", "test: wrong language")
    after = labels(project)

    assert set(after) == set(before) - set(removed)
    assert "Removed 2 labels" in said.stdout
    # A later run does not bring them back from anywhere.
    kedro(project, "run", "--pipelines", "labeling")
    assert set(labels(project)) == set(after)
