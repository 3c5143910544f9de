"""The label store's tables, and the migration of a store written before labeling jobs existed.

Version 1 (no `PRAGMA user_version`) kept every item ever served in one `items` table keyed by
item key; version 2 scopes items to labeling jobs. Opening a version-1 file moves its items and
events, event ids included, into one job named `LEGACY_JOB_NAME`, so nothing is lost.
"""

from __future__ import annotations

import json
import sqlite3

from review_sentiment.labeling_app.job_items import create_job

SCHEMA_VERSION = 2
LEGACY_JOB_NAME = "(before jobs)"

_TABLES = (
    # A job: one manifest (by its fingerprint) served under one name.
    """CREATE TABLE IF NOT EXISTS jobs (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
        name                 TEXT NOT NULL,
        manifest_fingerprint TEXT NOT NULL,
        created_at           TEXT NOT NULL,
        UNIQUE (name, manifest_fingerprint)
    )""",
    # A review as the jobs of one name know it: the same key and text in two jobs of one name is
    # one item, so its answers count in both; another text under the same key is another item.
    """CREATE TABLE IF NOT EXISTS items (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        job_name    TEXT NOT NULL,
        key         TEXT NOT NULL,
        source_sha1 TEXT NOT NULL,
        UNIQUE (job_name, key, source_sha1)
    )""",
    """CREATE TABLE IF NOT EXISTS job_items (
        job_id   INTEGER NOT NULL REFERENCES jobs (id),
        position INTEGER NOT NULL,
        item_id  INTEGER NOT NULL REFERENCES items (id),
        line     TEXT NOT NULL,
        PRIMARY KEY (job_id, position),
        UNIQUE (job_id, item_id)
    )""",
    # Append-only: `job_id` is the job the person was labeling when they answered.
    """CREATE TABLE IF NOT EXISTS events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id     INTEGER NOT NULL REFERENCES jobs (id),
        item_id    INTEGER NOT NULL REFERENCES items (id),
        kind       TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'undo')),
        annotator  TEXT NOT NULL,
        class_name TEXT,
        seconds    REAL,
        undoes     INTEGER REFERENCES events (id),
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_by_annotator ON events (annotator, id)",
    "CREATE INDEX IF NOT EXISTS events_by_item ON events (item_id, annotator)",
    "CREATE UNIQUE INDEX IF NOT EXISTS events_by_undone ON events (undoes)",
    # The answers that stand: labels and skips no undo event points at.
    """CREATE VIEW IF NOT EXISTS answers AS
        SELECT e.* FROM events AS e
        WHERE e.kind IN ('label', 'skip')
          AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id)""",
    """CREATE TABLE IF NOT EXISTS reservations (
        job_id     INTEGER NOT NULL REFERENCES jobs (id),
        annotator  TEXT NOT NULL,
        item_id    INTEGER NOT NULL REFERENCES items (id),
        expires_at REAL NOT NULL,
        PRIMARY KEY (job_id, annotator)
    )""",
    "CREATE INDEX IF NOT EXISTS reservations_by_item ON reservations (item_id, expires_at)",
    """CREATE TABLE IF NOT EXISTS meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
)


def prepare(connection: sqlite3.Connection, now: str) -> None:
    """Creates the tables, or migrates a version-1 store; call inside a write transaction, so that
    two processes opening one old file migrate it once."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"label store schema {version} is newer than this code's ({SCHEMA_VERSION}): "
            "update the project"
        )
    legacy = version == 0 and _has_table(connection, "items")
    if legacy:
        _set_legacy_aside(connection)
    for statement in _TABLES:
        connection.execute(statement)
    if legacy:
        _move_legacy_into_a_job(connection, now)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return connection.execute(query, (name,)).fetchone() is not None


def _set_legacy_aside(connection: sqlite3.Connection) -> None:
    # The indexes would keep their names on the renamed table and stop the new ones being made.
    for statement in (
        "DROP VIEW IF EXISTS answers",
        "DROP INDEX IF EXISTS events_by_annotator",
        "DROP INDEX IF EXISTS events_by_item",
        "DROP INDEX IF EXISTS events_by_undone",
        "ALTER TABLE items RENAME TO legacy_items",
        "ALTER TABLE events RENAME TO legacy_events",
    ):
        connection.execute(statement)


def _move_legacy_into_a_job(connection: sqlite3.Connection, now: str) -> None:
    lines = [
        json.loads(line)
        for (line,) in connection.execute("SELECT line FROM legacy_items ORDER BY position")
    ]
    if lines:
        job_id, _ = create_job(connection, LEGACY_JOB_NAME, lines, now)
        # Event ids are kept, so every undo still points at the answer it took back.
        connection.execute(
            "INSERT INTO events (id, job_id, item_id, kind, annotator, class_name, seconds,"
            " undoes, created_at)"
            " SELECT e.id, ?, i.id, e.kind, e.annotator, e.class_name, e.seconds, e.undoes,"
            " e.created_at FROM legacy_events AS e"
            " JOIN items AS i ON i.job_name = ? AND i.key = e.item_key ORDER BY e.id",
            (job_id, LEGACY_JOB_NAME),
        )
    ((moved,),) = connection.execute("SELECT COUNT(*) FROM events").fetchall()
    ((old,),) = connection.execute("SELECT COUNT(*) FROM legacy_events").fetchall()
    if moved != old:
        # Rolled back by the caller's transaction: the file stays as it was.
        raise RuntimeError(f"migrating the label store: {old - moved} events name unknown items")
    connection.execute("DROP TABLE legacy_events")
    connection.execute("DROP TABLE legacy_items")
