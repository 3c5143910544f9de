"""The people workforce's several answers per item: what the label store holds, per annotator."""

import pandas as pd

from review_sentiment.labeling.people import PeopleWorkforce

CLASSES = ["positive", "negative", "neutral"]


def annotations(*rows):
    return pd.DataFrame(
        [
            {"item_key": key, "annotator": who, "class_name": name,
             "created_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(minutes=minute)}
            for key, who, name, minute in rows
        ]
    )


def test_answers_are_each_annotators_latest_label_up_to_n():
    store = annotations(
        ("R1", "ann", "neutral", 0), ("R1", "ann", "positive", 5), ("R1", "bob", "positive", 1),
        ("R1", "cy", "negative", 2), ("R2", "bob", "negative", 3),
    )
    items = [{"review_id": "R1", "source": "a"}, {"review_id": "R2", "source": "b"},
             {"review_id": "R3", "source": "c"}]

    answers = PeopleWorkforce(store).answers(items, CLASSES, 3)

    assert sorted((who, label.class_name) for who, label in answers[0]) == [
        ("ann", "positive"), ("bob", "positive"), ("cy", "negative"),
    ]
    assert [(who, label.class_name) for who, label in answers[1]] == [("bob", "negative")]
    assert answers[2] == []  # nobody labeled it: nothing to make up
    assert len(PeopleWorkforce(store).answers(items, CLASSES, 2)[0]) == 2
    assert all(label.human_annotated for row in answers for _, label in row)
