"""The labeling queue: what people were asked and have not fully answered, several answers per
validation item, and the queue file's two entry forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from review_sentiment.ground_truth.records import Label
from review_sentiment.labeling.automated.answers import Answers
from review_sentiment.labeling.people import PeopleWorkforce
from review_sentiment.labeling.queue import (
    AskedButUnanswered,
    QueueError,
    next_step,
    queue_entry,
    read_queue,
)

CLASSES = ["positive", "negative", "neutral"]
ITEMS = [{"review_id": f"R{n}", "source": f"review {n}"} for n in range(1, 5)]


def store(*rows):
    """The label store's annotations: (item key, annotator, class) in the order given."""
    return pd.DataFrame([
        {"item_key": key, "annotator": who, "class_name": name,
         "created_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(minutes=minute)}
        for minute, (key, who, name) in enumerate(rows)
    ])


class OneLabelEach:
    """A workforce with `label` only: one label per item, R1 answered and the rest not."""

    name = "one_label"

    def label(self, items, classes):
        return [Label("positive", 1.0, True) if item["review_id"] == "R1" else None
                for item in items]


def test_answers_returns_what_people_gave_and_queues_items_short_of_n():
    saved = store(("R1", "ana", "positive"), ("R1", "bo", "positive"), ("R1", "cy", "neutral"),
                  ("R2", "ana", "negative"))
    people = AskedButUnanswered(PeopleWorkforce(saved))

    rows = people.answers(ITEMS[:3], CLASSES, 3)

    assert [len(row) for row in rows] == [3, 1, 0]
    assert [(who, label.class_name) for who, label in rows[1]] == [("ana", "negative")]
    # R1 has its three answers; R2 has one of three and stays queued; R3 has none.
    assert people.waiting == {"R2": 3, "R3": 3}
    assert people.queue == [{"item": "R2", "answers": 3}, {"item": "R3", "answers": 3}]


def test_waiting_keeps_the_order_asked_without_duplicates_and_raises_the_count():
    people = AskedButUnanswered(PeopleWorkforce(store(("R1", "ana", "positive"))))

    people.answers(ITEMS[2:4], CLASSES, 1)  # R3, R4: nobody answered
    people.answers(ITEMS[:3], CLASSES, 1)  # R1 answered; R2 new; R3 again
    people.answers(ITEMS[:1], CLASSES, 3)  # R1 now wants three
    people.answers(ITEMS[3:4], CLASSES, 2)  # R4 wants two
    people.answers(ITEMS[3:4], CLASSES, 1)  # ... and a later ask for one does not lower it

    assert people.waiting == {"R3": 1, "R4": 2, "R2": 1, "R1": 3}
    assert people.queue == ["R3", {"item": "R4", "answers": 2}, "R2", {"item": "R1", "answers": 3}]


def test_a_workforce_with_label_only_keeps_working_through_label():
    people = AskedButUnanswered(OneLabelEach())

    labels = people.label(ITEMS[:3], CLASSES)

    assert getattr(people, "answers", None) is None  # the loop asks it through `label`
    assert not Answers(people, CLASSES, lambda i, label: None).several
    assert [label and label.class_name for label in labels] == ["positive", None, None]
    assert people.queue == ["R2", "R3"]


def test_the_loop_asks_people_for_the_validation_answers_still_missing():
    saved = store(("R1", "ana", "positive"), ("R2", "ana", "negative"), ("R2", "bo", "negative"))
    people = AskedButUnanswered(PeopleWorkforce(saved))
    answers = Answers(people, CLASSES, lambda i, label: None)
    indices = np.arange(3)

    first = answers.ask(ITEMS[:3], indices, 1)  # one answer per item, as for training
    answers.top_up(ITEMS[:3], indices[:2], 3)  # R1 and R2 are validation: three answers each

    assert [label and label.class_name for label in first] == ["positive", "negative", None]
    assert answers.given == {0: [("ana", "positive")],
                             1: [("ana", "negative"), ("bo", "negative")]}
    assert people.queue == ["R3", {"item": "R1", "answers": 3}, {"item": "R2", "answers": 3}]


def test_queue_entries_are_plain_keys_unless_several_answers_are_wanted():
    assert queue_entry("R1", 1) == "R1"
    assert queue_entry("R1", 3) == {"item": "R1", "answers": 3}


def test_read_queue_reads_both_entry_forms():
    entries = read_queue(["R1", {"item": "R2", "answers": 3}], "queue.json")

    assert entries == [("R1", None), ("R2", 3)]


@pytest.mark.parametrize(
    "entry",
    [{"item": "R2"}, {"item": "R2", "answers": 0}, {"item": "R2", "answers": True},
     {"item": "R2", "answers": "3"}, {"item": "", "answers": 3},
     {"item": "R2", "answers": 3, "extra": 1}, 7, ""],
)
def test_read_queue_names_the_file_and_index_of_a_bad_entry(entry):
    with pytest.raises(QueueError, match=r"^entry 1 of data/queue\.json: expected an item key"):
        read_queue(["R1", entry], "data/queue.json")


def test_read_queue_needs_a_list():
    with pytest.raises(QueueError, match=r"data/queue\.json: expected a JSON list"):
        read_queue({"R1": 3}, "data/queue.json")


def test_next_step_counts_reviews_and_says_which_want_several_people():
    queue = ["R1", {"item": "R2", "answers": 3}, {"item": "R3", "answers": 3}]

    assert next_step(queue[:1]) == (
        "label the 1 reviews in labeling_queue.json with `make label`, then run again"
    )
    assert next_step(queue) == (
        "label the 3 reviews in labeling_queue.json (2 of them by 3 different people each) "
        "with `make label`, then run again"
    )
