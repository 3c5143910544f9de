"""The labeled set: rounds merged by the carry rule, their digest, labels of an older output
manifest adopted, and labels removed only on purpose."""

from datetime import UTC, datetime

import pytest

from review_sentiment.datasets import ManifestDataset
from review_sentiment.ground_truth.categories import label_categories
from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import Label, item_key, labeled_line
from review_sentiment.labeling.labeled_set import (
    LabeledSet,
    append_label_round,
    collect_labeled_set,
    labeled_set_version,
    merge_rounds,
    next_round_name,
    removal_round,
    round_sha256,
)
from review_sentiment.params import LabelingParams

CLASSES = ["positive", "negative", "neutral"]
CATEGORIES = label_categories(CLASSES)
PARAMS = LabelingParams()


def line(text, class_name, *, human=False, day=1):
    written = labeled_line(
        {"source": text}, Label(class_name, 1.0, human), attribute="sentiment", classes=CLASSES,
        job_name="review-sentiment", created=datetime(2026, 1, day, tzinfo=UTC),
    )  # fmt: skip
    return {**written, "workforce": "people" if human else "star_rating"}


def loaders(rounds):
    return {name: (lambda lines=lines: lines) for name, lines in rounds.items()}


def test_round_names_count_up_and_sort_in_time_order():
    assert next_round_name([]) == "round-0001"
    assert next_round_name(["round-0001", "round-0009"]) == "round-0010"


def test_the_labeled_set_digest_changes_with_a_round_and_only_then():
    first = {"round-0001": round_sha256([line("A", "positive")])}
    second = {**first, "round-0002": round_sha256([line("B", "negative")])}

    assert labeled_set_version(first, 1)["digest"] == labeled_set_version(dict(first), 1)["digest"]
    assert labeled_set_version(second, 2)["digest"] != labeled_set_version(first, 1)["digest"]


def test_the_digest_of_a_round_read_back_is_the_one_computed_when_written(tmp_path):
    lines = [line('Ünïcode "quoted"', "positive"), line("B", "neutral", human=True)]
    dataset = ManifestDataset(filepath=str(tmp_path / "round-0001.manifest"))
    dataset.save(lines)

    labeled = collect_labeled_set({"round-0001": dataset.load}, [], CATEGORIES, PARAMS)

    assert labeled.version["rounds"] == {"round-0001": round_sha256(lines)}
    assert len(labeled.lines) == 2


def test_rounds_merge_by_the_carry_rule():
    rounds = {
        "round-0001": [line("A", "positive"), line("B", "positive", human=True)],
        "round-0002": [line("A", "negative", human=True), line("B", "negative")],
    }

    merged, removed = merge_rounds(rounds, CLASSES, "sentiment")

    labels = {item["source"]: item["sentiment-metadata"]["class-name"] for item in merged}
    assert labels == {"A": "negative", "B": "positive"} and removed == set()


def test_a_bad_line_of_a_round_is_named():
    with pytest.raises(ManifestError, match="line 2 of label round round-0003: sentiment-metadata: missing"):
        merge_rounds({"round-0003": [line("A", "positive"), {"source": "B"}]}, CLASSES, "sentiment")


def test_nothing_new_appends_no_round_and_keeps_the_version():
    before = collect_labeled_set(loaders({"round-0001": [line("A", "positive")]}), [], CATEGORIES, PARAMS)

    written, after, view = append_label_round(before, [], CATEGORIES, PARAMS)

    assert written == {} and after.version == before.version and view == before.lines


def test_a_new_round_is_appended_after_the_highest_and_the_view_holds_every_label():
    before = collect_labeled_set(
        loaders({"round-0001": [line("A", "positive")], "round-0007": [line("B", "negative")]}),
        [], CATEGORIES, PARAMS,
    )  # fmt: skip

    written, after, view = append_label_round(before, [line("C", "neutral")], CATEGORIES, PARAMS)

    assert list(written) == ["round-0008"] and after.appended == "round-0008"
    assert [item["source"] for item in view] == ["A", "B", "C"]
    assert after.version["digest"] != before.version["digest"]


def test_labels_only_in_an_older_output_manifest_are_adopted_as_a_round():
    # An output manifest written before label rounds existed (or with lines added by hand).
    rounds = {"round-0001": [line("A", "positive")]}
    view = [line("A", "positive"), line("Only in the view", "negative", human=True)]

    labeled = collect_labeled_set(loaders(rounds), view, CATEGORIES, PARAMS)
    written, _, after = append_label_round(labeled, [], CATEGORIES, PARAMS)

    assert written == {"round-0002": [view[1]]}
    assert after == [rounds["round-0001"][0], view[1]]


def test_a_bad_line_of_the_output_manifest_is_named_before_it_is_adopted():
    with pytest.raises(ManifestError, match="line 1 of the output manifest"):
        collect_labeled_set({}, [{"source": "no label"}], CATEGORIES, PARAMS)


def test_a_removed_label_leaves_the_set_and_is_not_adopted_back_from_the_view():
    rounds = {"round-0001": [line("A", "positive"), line("B", "negative")]}
    labeled = collect_labeled_set(loaders(rounds), [], CATEGORIES, PARAMS)

    name, removal = removal_round(labeled, [item_key(line("A", "positive"))], "wrong text")
    after = collect_labeled_set(loaders({**rounds, name: removal}), labeled.lines, CATEGORIES, PARAMS)

    assert name == "round-0002" and removal[0]["removed"]["reason"] == "wrong text"
    assert [item["source"] for item in after.lines] == ["B"] and after.unwritten == {}


def test_removing_a_key_without_a_label_names_it_and_removes_nothing():
    labeled = LabeledSet([line("A", "positive")], {"round-0001": "x"})

    with pytest.raises(KeyError, match="'nope'"):
        removal_round(labeled, ["nope"], "typo")
