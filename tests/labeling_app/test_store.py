"""Unit tests of the label store: jobs, order, resume, per_item, skip, undo, grown batches,
durability under kill -9."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pandas as pd
import pytest

from review_sentiment.ground_truth.manifest import manifest_fingerprint
from review_sentiment.ground_truth.records import item_key, source_sha1
from review_sentiment.labeling_app.job import AlreadyAnswered, LabelStoreError
from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS, LabelStore
from tests.labeling_app import ITEMS, JOB, label_all


@pytest.fixture
def store(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        yield store


@pytest.fixture
def job(store):
    return store.open_job(JOB, ITEMS)


def test_item_key_is_the_review_id_or_the_sha1_of_the_source():
    assert item_key({"source": "x", "review_id": 17}) == "17"
    assert item_key({"source": "Great"}) == hashlib.sha1(b"Great").hexdigest()


def test_item_key_needs_a_review_id_or_a_source():
    with pytest.raises(ValueError, match="'review_id' or a text 'source'"):
        item_key({"source-ref": "s3://bucket/review.txt"})


def test_opening_the_same_manifest_again_resumes_its_job(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        first = store.open_job(JOB, ITEMS)
        again = store.open_job(JOB, list(ITEMS))

        assert (again.id, again.manifest_fingerprint) == (first.id, manifest_fingerprint(ITEMS))
        assert again.keys() == ["r1", "r2", "r3", "r4", "r5"]
        assert [job["items"] for job in store.jobs()] == [5]


def test_a_new_manifest_is_a_new_job_that_shows_and_counts_only_its_items(store):
    old = store.open_job(JOB, ITEMS[:3])
    old.record("r1", "ana", "positive", 1.0)
    new_batch = [{"source": f"new {n}", "review_id": f"n{n}"} for n in range(1, 3)]

    new = store.open_job(JOB, new_batch)

    assert label_all(new, "bob", per_item=1) == ["n1", "n2"]
    assert new.progress(per_item=1) | {"annotators": None} == {
        "total": 2, "done": 2, "per_item": 1, "labels": 2, "held": 0, "annotators": None,
    }  # fmt: skip
    assert old.progress(per_item=1)["total"] == 3
    # The old job stays readable, its answers included.
    annotations = store.annotations()
    assert annotations[["manifest_fingerprint", "item_key", "annotator"]].values.tolist() == [
        [manifest_fingerprint(ITEMS[:3]), "r1", "ana"],
        [manifest_fingerprint(new_batch), "n1", "bob"],
        [manifest_fingerprint(new_batch), "n2", "bob"],
    ]


def test_a_grown_batch_keeps_what_people_already_did(store):
    first = store.open_job(JOB, ITEMS[:3])
    first.record("r1", "ana", "positive", 1.0)
    first.skip("r2", "ana")

    grown = store.open_job(JOB, ITEMS)

    assert label_all(grown, "ana", per_item=1) == ["r3", "r4", "r5"]
    progress = grown.progress(per_item=1)
    assert (progress["done"], progress["total"]) == (4, 5)
    assert progress["annotators"]["ana"] == {"labels": 4, "skipped": 1, "median_seconds": 1.0}
    # Each label is stored once, under the job it was given in; the grown batch selects it by
    # job name and (item_key, source_sha1).
    annotations = store.annotations()
    wanted = {(item_key(line), source_sha1(line["source"])) for line in ITEMS}
    rows = annotations[annotations["job_name"] == JOB]
    assert sorted(zip(rows["item_key"], rows["source_sha1"], strict=True)) == sorted(wanted - {
        ("r2", source_sha1("review 2"))
    })  # fmt: skip
    with pytest.raises(AlreadyAnswered):
        grown.record("r1", "ana", "negative", 1.0)


def test_a_grown_batch_asks_again_for_a_changed_text_or_under_another_job_name(store):
    store.open_job(JOB, ITEMS[:2]).record("r1", "ana", "positive", 1.0)
    changed = [{"source": "review 1, edited", "review_id": "r1"}, ITEMS[1]]

    assert label_all(store.open_job(JOB, changed), "ana", per_item=1) == ["r1", "r2"]
    assert label_all(store.open_job("another-job", ITEMS[:2]), "ana", per_item=1) == ["r1", "r2"]
    assert store.annotations()["source_sha1"].tolist()[:2] == [
        source_sha1("review 1"),
        source_sha1("review 1, edited"),
    ]


def test_an_undo_in_a_grown_batch_gives_back_an_earlier_answer(store):
    store.open_job(JOB, ITEMS[:2]).record("r2", "ana", "neutral", 1.0)
    grown = store.open_job(JOB, ITEMS)

    assert grown.undo_last("ana") == "r2"
    assert store.annotations().empty
    assert item_key(grown.next_item("ana", per_item=1, priority=["r2"])) == "r2"


def test_a_job_refuses_a_key_given_two_texts(store):
    with pytest.raises(ValueError, match=r"line 2 of the items: key 'r1' is already on line 1 .*"):
        store.open_job(JOB, [ITEMS[0], {"source": "changed text", "review_id": "r1"}])
    assert store.jobs() == []


def test_a_job_needs_a_name(store):
    with pytest.raises(ValueError, match="needs a name"):
        store.open_job(" ", ITEMS)


def test_next_item_never_shows_an_answered_item_to_the_same_person_again(store, job):
    job.record("r1", "ana", "positive", 2.0)
    job.skip("r2", "ana")

    assert label_all(job, "ana", per_item=3) == ["r3", "r4", "r5"]
    assert job.next_item("ana", per_item=3) is None
    assert item_key(job.next_item("bob", per_item=3)) == "r1"


def test_a_reopened_store_resumes_where_the_annotator_stopped(tmp_path):
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        job = store.open_job(JOB, ITEMS)
        job.record("r1", "ana", "positive", 1.5)
        job.record("r2", "ana", "negative", 2.5)

    with LabelStore(path) as reopened:
        job = reopened.open_job(JOB, ITEMS)
        assert item_key(job.next_item("ana", per_item=1)) == "r3"
        assert reopened.annotations()[["item_key", "class_name"]].values.tolist() == [
            ["r1", "positive"],
            ["r2", "negative"],
        ]


def test_per_item_stops_offering_an_item_once_it_has_enough_labels(store, job):
    job.record("r1", "ana", "positive", None)
    job.record("r1", "bob", "negative", None)

    assert item_key(job.next_item("cy", per_item=3)) == "r1"
    assert item_key(job.next_item("cy", per_item=2)) == "r2"
    assert job.progress(per_item=2)["done"] == 1


def test_skips_do_not_count_as_labels(store, job):
    job.skip("r1", "ana")

    assert item_key(job.next_item("bob", per_item=1)) == "r1"
    assert store.annotations().empty


def test_priority_items_come_first_in_their_order(store, job):
    assert label_all(job, "ana", per_item=1, priority=["r4", "r2"]) == [
        "r4",
        "r2",
        "r1",
        "r3",
        "r5",
    ]


def test_undo_appends_an_event_and_gives_the_item_back(store, job):
    job.record("r1", "ana", "positive", 1.0)
    job.skip("r2", "ana")
    job.record("r3", "ana", "neutral", 3.0)

    assert job.undo_last("ana") == "r3"
    assert job.undo_last("ana") == "r2"
    job.record("r3", "ana", "negative", 4.0)

    annotations = store.annotations()
    assert annotations[["item_key", "class_name"]].values.tolist() == [
        ["r1", "positive"],
        ["r3", "negative"],
    ]
    assert item_key(job.next_item("ana", per_item=1)) == "r2"
    with sqlite3.connect(store.path) as raw:
        kinds = [kind for (kind,) in raw.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds == ["label", "skip", "label", "undo", "undo", "label"]


def test_undo_with_nothing_to_undo_returns_none(store, job):
    job.record("r1", "bob", "positive", 1.0)
    assert job.undo_last("ana") is None
    assert job.undo_last("bob") == "r1"
    assert job.undo_last("bob") is None


def test_record_refuses_a_second_answer_from_the_same_person(store, job):
    job.record("r1", "ana", "positive", 1.0)
    with pytest.raises(AlreadyAnswered, match="item 'r1': 'ana' already labeled 'positive'"):
        job.record("r1", "ana", "negative", 1.0)
    with pytest.raises(AlreadyAnswered):
        job.skip("r1", "ana")
    assert len(store.annotations()) == 1


@pytest.mark.parametrize(
    ("key", "annotator", "seconds", "message"),
    [
        ("r9", "ana", 1.0, "item 'r9' is not in LabelingJob"),
        ("r1", "", 1.0, "name is empty"),
        ("r1", "ana", -1.0, "seconds must be a finite number >= 0"),
        ("r1", "ana", float("nan"), "seconds must be a finite number >= 0"),
    ],
)
def test_record_refuses_bad_answers(store, job, key, annotator, seconds, message):
    with pytest.raises(LabelStoreError, match=message):
        job.record(key, annotator, "positive", seconds)
    assert store.annotations().empty


def test_annotations_of_an_empty_store_have_the_columns(store, job):
    annotations = store.annotations()
    assert list(annotations.columns) == ANNOTATION_COLUMNS
    assert str(annotations["created_at"].dtype) == "datetime64[ns, UTC]"
    assert str(annotations["seconds"].dtype) == "float64"


def test_annotations_name_the_job_the_item_and_its_text(tmp_path):
    with LabelStore(tmp_path / "labels.db", clock=lambda: 1_800_000_000.5) as store:
        job = store.open_job(JOB, ITEMS)
        job.record("r2", "ana", "negative", 2)
        job.record("r3", "bob", "neutral", None)
        annotations = store.annotations()

    assert annotations.iloc[0].to_dict() == {
        "job_name": JOB,
        "manifest_fingerprint": manifest_fingerprint(ITEMS),
        "item_key": "r2",
        "source_sha1": hashlib.sha1(b"review 2").hexdigest(),
        "annotator": "ana",
        "class_name": "negative",
        "seconds": 2.0,
        "created_at": pd.Timestamp("2027-01-15T08:00:00.5", tz="UTC"),
    }
    assert annotations["seconds"].isna().tolist() == [False, True]


def test_progress_counts_items_and_times_per_annotator(store, job):
    job.record("r1", "ana", "positive", 2.0)
    job.record("r2", "ana", "negative", 4.0)
    job.record("r3", "ana", "neutral", 9.0)
    job.skip("r4", "ana")
    job.record("r1", "bob", "positive", None)

    progress = job.progress(per_item=1)

    assert progress == {
        "total": 5,
        "done": 3,
        "per_item": 1,
        "labels": 4,
        "held": 0,
        "annotators": {
            "ana": {"labels": 3, "skipped": 1, "median_seconds": 4.0},
            "bob": {"labels": 1, "skipped": 0, "median_seconds": None},
        },
    }
    assert job.progress(per_item=2)["done"] == 1


def test_secret_is_made_once_and_kept(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        first = store.secret("cookies")
    with LabelStore(tmp_path / "labels.db") as store:
        assert store.secret("cookies") == first
        assert store.secret("other") != first


def test_threads_can_share_one_store(tmp_path):
    with LabelStore(tmp_path / "labels.db") as store:
        job = store.open_job(JOB, [{"source": f"review {n}", "review_id": f"r{n}"} for n in range(50)])

        def label(annotator: str) -> None:
            for n in range(50):
                job.record(f"r{n}", annotator, "positive", 0.5)

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
    job = store.open_job("review-sentiment", [{"source": f"review {n}", "review_id": f"r{n}"} for n in range(20_000)])
    for n in range(20_000):
        job.record(f"r{n}", "ana", "positive", 0.25)
        print(f"r{n}", flush=True)  # only after the commit returned
    """
)


def test_every_label_committed_before_a_kill_9_survives(tmp_path):
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        store.open_job(JOB, [{"source": f"review {n}", "review_id": f"r{n}"} for n in range(20_000)])
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
