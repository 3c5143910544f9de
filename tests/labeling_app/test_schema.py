"""The label store's schema: a store written before labeling jobs is migrated on open, losing nothing."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from review_sentiment.ground_truth.manifest import manifest_fingerprint
from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling_app.schema import LEGACY_JOB_NAME, SCHEMA_VERSION
from review_sentiment.labeling_app.store import LabelStore
from tests.labeling_app import ITEMS, JOB, make_legacy_store

T = "2026-11-20T10:00:0{}.000000+00:00"
# Two manifests served before jobs: r1-r3, then r4-r5 added to the same table.
LEGACY_EVENTS = [
    ("label", "r1", "ana", "positive", 2.0, None, T.format(1)),
    ("skip", "r2", "ana", None, None, None, T.format(2)),
    ("label", "r3", "ana", "neutral", 3.0, None, T.format(3)),
    ("undo", "r3", "ana", None, None, 3, T.format(4)),
    ("label", "r4", "bob", "negative", None, None, T.format(5)),
]


@pytest.fixture
def legacy_path(tmp_path):
    path = tmp_path / "labels.db"
    make_legacy_store(path, ITEMS, LEGACY_EVENTS)
    return path


def test_an_old_store_is_migrated_into_one_job_with_every_answer(legacy_path):
    with LabelStore(legacy_path) as store:
        jobs = store.jobs()
        annotations = store.annotations()
        # The same manifest under the old job's name resumes it.
        legacy = store.open_job(LEGACY_JOB_NAME, ITEMS)
        progress = legacy.progress(per_item=1)
        next_for_ana = legacy.next_item("ana", per_item=1)
        secret = store.secret("labeling-app")

    assert [(job["name"], job["manifest_fingerprint"], job["items"]) for job in jobs] == [
        (LEGACY_JOB_NAME, manifest_fingerprint(ITEMS), 5)
    ]
    assert annotations[["job_name", "item_key", "annotator", "class_name"]].values.tolist() == [
        [LEGACY_JOB_NAME, "r1", "ana", "positive"],
        [LEGACY_JOB_NAME, "r4", "bob", "negative"],
    ]
    assert annotations["seconds"].fillna(-1.0).tolist() == [2.0, -1.0]
    assert annotations["created_at"].dt.strftime("%S").tolist() == ["01", "05"]
    assert (progress["done"], progress["total"]) == (2, 5)
    assert progress["annotators"]["ana"] == {"labels": 1, "skipped": 1, "median_seconds": 2.0}
    assert item_key(next_for_ana) == "r3"  # undone before the migration: asked again
    assert secret == "s3cr3t"  # sessions signed before the migration stay valid


def test_the_migrated_file_keeps_the_event_log_and_is_consistent(legacy_path):
    LabelStore(legacy_path).close()

    with sqlite3.connect(legacy_path) as raw:
        events = raw.execute("SELECT id, kind, annotator, undoes FROM events ORDER BY id").fetchall()
        ((version,),) = raw.execute("PRAGMA user_version").fetchall()
        ((integrity,),) = raw.execute("PRAGMA integrity_check").fetchall()
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}

    assert [kind for _, kind, _, _ in events] == ["label", "skip", "label", "undo", "label"]
    assert events[3] == (4, "undo", "ana", 3)
    assert (version, integrity, broken) == (SCHEMA_VERSION, "ok", [])
    assert not {"legacy_items", "legacy_events"} & tables


def test_a_migrated_store_serves_a_new_job_apart_from_the_old_one(legacy_path):
    with LabelStore(legacy_path) as store:
        job = store.open_job(JOB, ITEMS[:2])

        assert job.progress(per_item=1)["done"] == 0  # another job name: asked again
        assert item_key(job.next_item("ana", per_item=1)) == "r1"
        assert len(store.annotations()) == 2


def test_two_servers_opening_an_old_store_at_once_migrate_it_once(legacy_path):
    errors = []

    def open_store() -> None:
        try:
            LabelStore(legacy_path).close()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with LabelStore(legacy_path) as store:
        assert len(store.jobs()) == 1 and len(store.annotations()) == 2


def test_a_store_from_newer_code_is_refused(tmp_path):
    path = tmp_path / "labels.db"
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(RuntimeError, match="newer than this code"):
        LabelStore(path)
