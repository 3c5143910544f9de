"""Helpers shared by the labeling app's tests: items, a clock to move by hand, labeling a job to
the end, and a label store file as the code before labeling jobs wrote it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling_app.job import LabelingJob

JOB = "review-sentiment"
ITEMS = [{"source": f"review {n}", "review_id": f"r{n}"} for n in range(1, 6)]


class Clock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def manifest_lines(reviews: dict[str, str]) -> list[dict]:
    """Manifest lines of `{review_id: text}`."""
    return [{"source": text, "review_id": key} for key, text in reviews.items()]


def write_manifest(path: Path, reviews: dict[str, str]) -> None:
    """An input manifest of `{review_id: text}` at `path`."""
    lines = manifest_lines(reviews)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def label_all(job: LabelingJob, annotator: str, **kwargs) -> list[str]:
    """Labels every item the job offers `annotator`, returning their keys in the order offered."""
    seen = []
    while (line := job.next_item(annotator, **kwargs)) is not None:
        seen.append(item_key(line))
        job.record(item_key(line), annotator, "positive", 1.0)
    return seen


# The store's schema at commit 770c6d4, before labeling jobs: one `items` table for every
# manifest ever served.
LEGACY_SCHEMA = """
CREATE TABLE items (
    key      TEXT PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    line     TEXT NOT NULL
);
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'undo')),
    item_key   TEXT NOT NULL REFERENCES items (key),
    annotator  TEXT NOT NULL,
    class_name TEXT,
    seconds    REAL,
    undoes     INTEGER REFERENCES events (id),
    created_at TEXT NOT NULL
);
CREATE INDEX events_by_annotator ON events (annotator, id);
CREATE INDEX events_by_item ON events (item_key);
CREATE UNIQUE INDEX events_by_undone ON events (undoes);
CREATE VIEW answers AS
    SELECT e.* FROM events AS e
    WHERE e.kind IN ('label', 'skip')
      AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id);
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def make_legacy_store(path: Path, items: list[dict], events: list[tuple]) -> None:
    """A store file in the schema before jobs, with `items` and `events` rows (kind, item_key,
    annotator, class_name, seconds, undoes, created_at), as that code wrote them."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(LEGACY_SCHEMA)
        connection.executemany(
            "INSERT INTO items (key, position, line) VALUES (?, ?, ?)",
            [(item_key(line), n, json.dumps(line)) for n, line in enumerate(items)],
        )
        connection.executemany(
            "INSERT INTO events (kind, item_key, annotator, class_name, seconds, undoes,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        connection.execute("INSERT INTO meta (name, value) VALUES ('secret:labeling-app', 's3cr3t')")
        connection.commit()
    finally:
        connection.close()
