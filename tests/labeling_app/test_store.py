"""Unit tests of the label store: order, resume, per_item, skip, undo, durability under kill -9."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from review_sentiment.labeling_app.store import (
    ANNOTATION_COLUMNS,
    AlreadyAnswered,
    LabelStore,
    LabelStoreError,
)
from review_sentiment.ground_truth.records import item_key

ITEMS = [{"source": f"review {n}", "review_id": f"r{n}"} for n in range(1, 6)]


@pytest.fixture
def store(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        store.add_items(ITEMS)
        yield store


def _keys_in_order(store: LabelStore, annotator: str, **kwargs) -> list[str]:
    """Labels every item the store offers `annotator`, returning their keys in the order offered."""
    seen = []
    while (line := store.next_item(annotator, **kwargs)) is not None:
        seen.append(item_key(line))
        store.record(item_key(line), annotator, "positive", 1.0)
    return seen


def test_item_key_is_the_review_id_or_the_sha1_of_the_source():
    assert item_key({"source": "x", "review_id": 17}) == "17"
    assert item_key({"source": "Great"}) == hashlib.sha1(b"Great").hexdigest()


def test_item_key_needs_a_review_id_or_a_source():
    with pytest.raises(ValueError, match="'review_id' or a text 'source'"):
        item_key({"source-ref": "s3://bucket/review.txt"})


def test_add_items_is_idempotent_and_keeps_the_manifest_order(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        assert store.add_items(ITEMS[:3]) == 3
        assert store.add_items(ITEMS) == 2
        assert store.add_items(ITEMS) == 0
        assert store.keys() == ["r1", "r2", "r3", "r4", "r5"]


def test_add_items_refuses_a_known_key_with_another_text(store):
    with pytest.raises(ValueError, match=r"line 2 of the items: key 'r1' is already in .* another"):
        store.add_items([ITEMS[1], {"source": "changed text", "review_id": "r1"}])
    assert store.keys() == ["r1", "r2", "r3", "r4", "r5"]


def test_next_item_never_shows_an_answered_item_to_the_same_person_again(store):
    store.record("r1", "ana", "positive", 2.0)
    store.skip("r2", "ana")

    assert _keys_in_order(store, "ana", per_item=3) == ["r3", "r4", "r5"]
    assert store.next_item("ana", per_item=3) is None
    assert item_key(store.next_item("bob", per_item=3)) == "r1"


def test_a_reopened_store_resumes_where_the_annotator_stopped(tmp_path):
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        store.add_items(ITEMS)
        store.record("r1", "ana", "positive", 1.5)
        store.record("r2", "ana", "negative", 2.5)

    with LabelStore(path) as reopened:
        assert reopened.add_items(ITEMS) == 0
        assert item_key(reopened.next_item("ana", per_item=1)) == "r3"
        assert reopened.annotations()[["item_key", "class_name"]].values.tolist() == [
            ["r1", "positive"],
            ["r2", "negative"],
        ]


def test_per_item_stops_offering_an_item_once_it_has_enough_labels(store):
    store.record("r1", "ana", "positive", None)
    store.record("r1", "bob", "negative", None)

    assert item_key(store.next_item("cy", per_item=3)) == "r1"
    assert item_key(store.next_item("cy", per_item=2)) == "r2"
    assert store.progress(per_item=2)["done"] == 1


def test_skips_do_not_count_as_labels(store):
    store.skip("r1", "ana")

    assert item_key(store.next_item("bob", per_item=1)) == "r1"
    assert store.annotations().empty


def test_priority_items_come_first_in_their_order(store):
    assert _keys_in_order(store, "ana", per_item=1, priority=["r4", "r2"]) == [
        "r4",
        "r2",
        "r1",
        "r3",
        "r5",
    ]


def test_undo_appends_an_event_and_gives_the_item_back(store):
    store.record("r1", "ana", "positive", 1.0)
    store.skip("r2", "ana")
    store.record("r3", "ana", "neutral", 3.0)

    assert store.undo_last("ana") == "r3"
    assert store.undo_last("ana") == "r2"
    store.record("r3", "ana", "negative", 4.0)

    annotations = store.annotations()
    assert annotations[["item_key", "class_name"]].values.tolist() == [
        ["r1", "positive"],
        ["r3", "negative"],
    ]
    assert item_key(store.next_item("ana", per_item=1)) == "r2"
    with sqlite3.connect(store.path) as raw:
        kinds = [kind for (kind,) in raw.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds == ["label", "skip", "label", "undo", "undo", "label"]


def test_undo_with_nothing_to_undo_returns_none(store):
    store.record("r1", "bob", "positive", 1.0)
    assert store.undo_last("ana") is None
    assert store.undo_last("bob") == "r1"
    assert store.undo_last("bob") is None


def test_record_refuses_a_second_answer_from_the_same_person(store):
    store.record("r1", "ana", "positive", 1.0)
    with pytest.raises(AlreadyAnswered, match="item 'r1': 'ana' already labeled 'positive'"):
        store.record("r1", "ana", "negative", 1.0)
    with pytest.raises(AlreadyAnswered):
        store.skip("r1", "ana")
    assert len(store.annotations()) == 1


@pytest.mark.parametrize(
    ("key", "annotator", "seconds", "message"),
    [
        ("r9", "ana", 1.0, "item 'r9' is not in"),
        ("r1", "", 1.0, "name is empty"),
        ("r1", "ana", -1.0, "seconds must be a finite number >= 0"),
        ("r1", "ana", float("nan"), "seconds must be a finite number >= 0"),
    ],
)
def test_record_refuses_bad_answers(store, key, annotator, seconds, message):
    with pytest.raises(LabelStoreError, match=message):
        store.record(key, annotator, "positive", seconds)
    assert store.annotations().empty


def test_annotations_of_an_empty_store_have_the_columns(store):
    annotations = store.annotations()
    assert list(annotations.columns) == ANNOTATION_COLUMNS
    assert str(annotations["created_at"].dtype) == "datetime64[ns, UTC]"


def test_progress_counts_items_and_times_per_annotator(store):
    store.record("r1", "ana", "positive", 2.0)
    store.record("r2", "ana", "negative", 4.0)
    store.record("r3", "ana", "neutral", 9.0)
    store.skip("r4", "ana")
    store.record("r1", "bob", "positive", None)

    progress = store.progress(per_item=1)

    assert progress == {
        "total": 5,
        "done": 3,
        "per_item": 1,
        "labels": 4,
        "annotators": {
            "ana": {"labels": 3, "skipped": 1, "median_seconds": 4.0},
            "bob": {"labels": 1, "skipped": 0, "median_seconds": None},
        },
    }
    assert store.progress(per_item=2)["done"] == 1


def test_secret_is_made_once_and_kept(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        first = store.secret("cookies")
    with LabelStore(tmp_path / "labels.db") as store:
        assert store.secret("cookies") == first
        assert store.secret("other") != first


def test_threads_can_share_one_store(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        store.add_items([{"source": f"review {n}", "review_id": f"r{n}"} for n in range(50)])

        def label(annotator: str) -> None:
            for n in range(50):
                store.record(f"r{n}", annotator, "positive", 0.5)

        threads = [threading.Thread(target=label, args=(f"a{t}",)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(store.annotations()) == 200


_WRITER = textwrap.dedent(
    """
    import sys
    from review_sentiment.labeling_app.store import LabelStore

    store = LabelStore(sys.argv[1])
    for n in range(20_000):
        store.record(f"r{n}", "ana", "positive", 0.25)
        print(f"r{n}", flush=True)  # only after the commit returned
    """
)


def test_every_label_committed_before_a_kill_9_survives(tmp_path):
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        store.add_items([{"source": f"review {n}", "review_id": f"r{n}"} for n in range(20_000)])
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    reported = []
    try:
        while len(reported) < 200:
            line = writer.stdout.readline()
            assert line, f"the writer stopped early with code {writer.poll()}"
            reported.append(line.strip())
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        # Lines already in the pipe were printed after their commit, so they count too.
        reported += [line.strip() for line in writer.stdout]
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL

    with LabelStore(path) as reopened:
        stored = reopened.annotations()["item_key"].tolist()
    with sqlite3.connect(path) as raw:
        ((integrity,),) = raw.execute("PRAGMA integrity_check").fetchall()

    assert integrity == "ok"
    assert stored[: len(reported)] == reported
    # At most one label was committed but not yet reported when the kill came.
    assert len(stored) - len(reported) in (0, 1)
