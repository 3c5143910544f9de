"""The labeling queue asking several people for one review: an entry `{"item", "answers": n}` is
handed to n different people whatever `per_item` says; a plain key keeps `per_item`."""

from __future__ import annotations

import json

import pytest

from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling_app.app import create_app
from review_sentiment.labeling_app.store import LabelStore
from tests.labeling_app import ITEMS, JOB, Clock
from tests.labeling_app.test_app import _client, _label_all, _log_in, _review, paths  # noqa: F401

QUEUE = [{"item": "r3", "answers": 3}, "r2"]


def test_a_review_wanting_three_answers_goes_to_three_people_and_a_plain_key_to_one(
    paths, tmp_path  # noqa: F811
):
    queue = tmp_path / "labeling_queue.json"
    queue.write_text(json.dumps(QUEUE))
    app = create_app(**paths, per_item=1, priority_path=queue)

    with _client(app) as ana, _client(app) as bob, _client(app) as cy, _client(app) as dan:
        shown = {name: _label_all(client, _log_in(client, name))
                 for name, client in [("ana", ana), ("bob", bob), ("cy", cy), ("dan", dan)]}

    # Ana labels the queue first (r3, then r2), then the rest; each review once is per_item.
    assert shown["ana"][:3] == ["It is food", "Arrived broken", "Great dog food"]
    assert len(shown["ana"]) == 6
    # r3 wants three answers: two more people get it, nothing else; a fourth gets nothing.
    assert shown["bob"] == shown["cy"] == ["It is food"]
    assert shown["dan"] == []
    with LabelStore(paths["store_path"]) as store:
        counts = store.annotations()["item_key"].value_counts().to_dict()
    assert counts == {"r3": 3, "r1": 1, "r2": 1, "r4": 1, "r5": 1, "r6": 1}


def test_three_people_may_hold_a_review_wanting_three_answers_at_once(tmp_path):
    with LabelStore(tmp_path / "labels.db", clock=Clock()) as store:
        job = store.open_job(JOB, ITEMS)
        ask = {"per_item": 1, "priority": ["r3", "r2"], "answers": {"r3": 3}}

        held = [item_key(job.next_item(name, **ask)) for name in ["ana", "bob", "cy", "dan", "eve"]]

    # Nobody has answered yet: r3 is held by three, r2 (a plain key) by one, then file order.
    assert held == ["r3", "r3", "r3", "r2", "r1"]


def test_a_bad_queue_entry_is_named_by_file_and_index(paths, tmp_path):  # noqa: F811
    queue = tmp_path / "labeling_queue.json"
    queue.write_text(json.dumps(["r1", {"item": "r2", "answers": 0}]))

    with pytest.raises(ValueError, match=rf"entry 1 of {queue}: expected an item key or"):
        create_app(**paths, priority_path=queue)


def test_queue_entries_naming_a_count_must_still_be_in_the_manifest(paths, tmp_path):  # noqa: F811
    queue = tmp_path / "labeling_queue.json"
    queue.write_text(json.dumps([{"item": "r99", "answers": 3}]))

    with pytest.raises(ValueError, match=r"1 item keys are not in the manifest, e.g. \['r99'\]"):
        create_app(**paths, priority_path=queue)
