"""No label is lost between runs: earlier labels are read back, kept, and replaced only by a
person's label or, for a machine's, a newer machine label."""

import pytest

from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import Label, labeled_line
from review_sentiment.labeling.carry import labels_given_before, newest_labels, output_lines

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


def test_a_kept_label_keeps_its_creation_date_and_job():
    earlier = written(ITEMS[0], PERSON)
    before = labels_given_before(ITEMS[:1], [earlier], CLASSES, "sentiment")

    (line,) = output_lines(ITEMS[:1], before, [None], **LINE_ARGS)

    assert line == earlier


def test_a_broken_earlier_line_is_named():
    previous = [written(ITEMS[0], PERSON), {"source": "review 2", "sentiment": 0}]

    with pytest.raises(ManifestError, match="line 2 of the previous output manifest"):
        labels_given_before(ITEMS, previous, CLASSES, "sentiment")
