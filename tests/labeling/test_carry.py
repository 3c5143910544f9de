"""The carry rule: earlier labels are found by key and text, kept, and replaced only by a person's
label or, for a machine's, a newer machine label; a run adds only the labels that stand."""

import pytest

from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import Label, labeled_line
from review_sentiment.labeling.carry import (
    GivenLabel,
    labels_given_before,
    new_label_lines,
    newest_labels,
)

CLASSES = ["positive", "negative", "neutral"]
ITEMS = [{"source": f"review {n}", "review_id": f"R{n}"} for n in range(1, 5)]
PERSON = Label("negative", 0.9, human_annotated=True)
MACHINE = Label("positive", 0.97, human_annotated=False)
LINE_ARGS = {"attribute": "sentiment", "classes": CLASSES, "job_name": "job"}


def written(item, label):
    return labeled_line(item, label, **LINE_ARGS)


def test_earlier_labels_are_found_by_key_and_text():
    previous = [written(ITEMS[1], PERSON), written(ITEMS[2], MACHINE)]

    given = labels_given_before(ITEMS, previous, CLASSES, "sentiment")

    assert [g.label if g else None for g in given] == [None, PERSON, MACHINE, None]


def test_an_item_whose_text_changed_is_a_new_item():
    previous = [written({"source": "old text", "review_id": "R1"}, PERSON)]

    assert labels_given_before(ITEMS, previous, CLASSES, "sentiment")[0] is None


def test_a_person_beats_a_machine_and_otherwise_the_newer_label_wins():
    before = labels_given_before(
        ITEMS, [written(ITEMS[0], PERSON), written(ITEMS[1], MACHINE), written(ITEMS[2], MACHINE)],
        CLASSES, "sentiment",
    )
    newer_machine = Label("neutral", 0.99, human_annotated=False)
    newer_person = Label("neutral", 1.0, human_annotated=True)

    now = newest_labels(before, [newer_machine, newer_person, None, None])

    assert now == [PERSON, newer_person, MACHINE, None]


def test_only_labels_that_replace_or_add_one_are_new_lines():
    before = labels_given_before(
        ITEMS, [written(ITEMS[0], PERSON), written(ITEMS[1], MACHINE)], CLASSES, "sentiment"
    )
    same_again = Label(MACHINE.class_name, MACHINE.confidence, human_annotated=False)

    lines = new_label_lines(ITEMS, before, [MACHINE, same_again, PERSON, None], **LINE_ARGS)

    # The machine cannot overrule the person, the same answer keeps the earlier line.
    assert [line["review_id"] for line in lines] == ["R3"]
    assert lines[0]["sentiment-metadata"]["human-annotated"] == "yes"


def test_a_label_read_from_a_workforce_output_keeps_its_fields_as_written():
    theirs = {"sentiment": 1, "sentiment-metadata": {
        "class-name": "negative", "confidence": 0.42, "human-annotated": "yes",
        "creation-date": "2026-01-02T03:04:05.000006", "type": "groundtruth/text-classification",
        "job-name": "labeling-job/their-job"}}  # fmt: skip
    given = GivenLabel(Label("negative", 0.42, human_annotated=True), theirs)

    (line,) = new_label_lines(ITEMS[:1], [None], [given], **LINE_ARGS)

    assert line == {**ITEMS[0], **theirs}


def test_a_broken_earlier_line_is_named():
    previous = [written(ITEMS[0], PERSON), {"source": "review 2", "sentiment": 0}]

    with pytest.raises(ManifestError, match="line 2 of the labeled lines"):
        labels_given_before(ITEMS, previous, CLASSES, "sentiment")
