"""Reservations: two people at once are not handed the same review, per_item lets several hold one,
reservations expire, end with an answer or the next request, and are shared through the file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling_app.store import LabelStore
from tests.labeling_app import ITEMS, JOB, Clock

MINUTE = 60.0


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    with LabelStore(tmp_path / "labels.db", clock=clock) as store:
        yield store


@pytest.fixture
def job(store):
    return store.open_job(JOB, ITEMS)


def _next(job, annotator: str, per_item: int = 1, **kwargs) -> str | None:
    line = job.next_item(annotator, per_item=per_item, reserve_seconds=10 * MINUTE, **kwargs)
    return None if line is None else item_key(line)


def test_two_annotators_interleaving_are_never_handed_the_same_review(job):
    shown = [_next(job, "ana"), _next(job, "bob")]
    assert shown == ["r1", "r2"]

    job.record("r1", "ana", "positive", 1.0)
    assert _next(job, "ana") == "r3"  # r2 is bob's
    job.skip("r2", "bob")
    assert _next(job, "bob") == "r4"
    assert _next(job, "cy") == "r2"  # bob skipped it: free for others
    job.record("r3", "ana", "negative", 1.0)
    assert _next(job, "ana") == "r5"
    assert _next(job, "ana") == "r5"  # asking again (a reload) keeps one's own item
    assert job.progress(per_item=1)["held"] == 3


def test_with_per_item_2_two_people_hold_an_item_and_a_third_waits(job):
    assert [_next(job, name, per_item=2) for name in ("ana", "bob", "cy")] == ["r1", "r1", "r2"]

    job.record("r1", "ana", "positive", 1.0)
    # One label and bob's reservation make two: r1 is not handed to a third person ...
    assert _next(job, "dee", per_item=2) == "r2"
    job.skip("r1", "bob")
    # ... until bob lets it go.
    assert _next(job, "eve", per_item=2) == "r1"


def test_a_reservation_expires(job, clock):
    assert _next(job, "ana") == "r1"
    clock.advance(10 * MINUTE - 1)
    assert _next(job, "bob") == "r2"

    clock.advance(1)

    assert _next(job, "cy") == "r1"
    assert _next(job, "ana") == "r3"  # ana's old page may still answer r1; her next is new


def test_asking_for_the_next_item_releases_the_previous_one(job):
    assert _next(job, "ana") == "r1"
    assert _next(job, "ana", priority=["r3"]) == "r3"

    assert _next(job, "bob") == "r1"


def test_no_reservation_with_zero_seconds(job):
    job.next_item("ana", per_item=1, reserve_seconds=0)
    assert _next(job, "bob") == "r1"
    with pytest.raises(ValueError, match="reserve_seconds must be a number >= 0"):
        job.next_item("ana", per_item=1, reserve_seconds=-1)


def test_nothing_is_left_while_others_hold_the_rest(store):
    job = store.open_job(JOB, ITEMS[:1])
    assert _next(job, "ana") == "r1"

    assert _next(job, "bob") is None
    assert job.progress(per_item=1)["held"] == 1


def test_two_processes_on_one_file_see_each_others_reservations(tmp_path, clock):
    path = tmp_path / "labels.db"
    with LabelStore(path, clock=clock) as first, LabelStore(path, clock=clock) as second:
        job_a = first.open_job(JOB, ITEMS)
        job_b = second.open_job(JOB, ITEMS)

        assert [_next(job_a, "ana"), _next(job_b, "bob"), _next(job_a, "cy")] == ["r1", "r2", "r3"]
        job_b.record("r2", "bob", "positive", 1.0)
        assert _next(job_a, "dee") == "r4"


def test_a_reservation_in_one_job_holds_the_item_in_a_grown_batch(store):
    first = store.open_job(JOB, ITEMS[:2])
    assert _next(first, "ana") == "r1"

    grown = store.open_job(JOB, ITEMS)

    assert _next(grown, "bob") == "r2"


_SERVER = textwrap.dedent(
    """
    import sys
    from review_sentiment.labeling_app.store import LabelStore

    job = LabelStore(sys.argv[1]).open_job("review-sentiment", [
        {"source": f"review {n}", "review_id": f"r{n}"} for n in range(1, 6)
    ])
    print(job.next_item("ana", per_item=1, reserve_seconds=600)["review_id"], flush=True)
    sys.stdin.read()  # holds the store open until killed
    """
)


def test_reservations_outlive_a_killed_server_until_they_expire(tmp_path, clock):
    path = tmp_path / "labels.db"
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        handed = server.stdout.readline().strip()
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
        server.stdin.close()
        server.stdout.close()
    assert handed == "r1"

    clock.now = time.time()  # the killed server reserved on the real clock
    with LabelStore(path, clock=clock) as restarted:
        job = restarted.open_job(JOB, ITEMS)
        assert [_next(job, "bob"), _next(job, "cy")] == ["r2", "r3"]
        clock.advance(10 * MINUTE)
        assert _next(job, "dee") == "r1"


def test_the_holder_gets_the_same_item_after_a_restart(tmp_path, clock):
    with LabelStore(tmp_path / "labels.db", clock=clock) as store:
        assert _next(store.open_job(JOB, ITEMS), "ana") == "r1"
    with LabelStore(tmp_path / "labels.db", clock=clock) as restarted:
        job = restarted.open_job(JOB, ITEMS)
        assert [_next(job, "bob"), _next(job, "ana")] == ["r2", "r1"]


def test_release_lets_go_of_the_annotators_item(job):
    assert _next(job, "ana") == "r1"

    job.release("ana")

    assert _next(job, "bob") == "r1"
