"""Reservations: which annotator holds which item until when, so that two people labeling at once
are not handed the same review.

They live in the store's SQLite file, not in a server's memory, so that two server processes on
one file agree and a killed server's reservations still stand (until they expire). Times are
seconds since the epoch from the store's clock, which tests replace.
"""

from __future__ import annotations

import sqlite3

DEFAULT_RESERVE_SECONDS = 600.0

# How many people other than :annotator hold the item `ji.item_id` now. An item is handed out
# while its standing labels plus these holders are fewer than per_item: with per_item=1 a held
# item waits, with per_item=2 a second person may take it alongside the first.
HELD_BY_OTHERS = """(
    SELECT COUNT(*) FROM reservations AS r
    WHERE r.item_id = ji.item_id AND r.annotator <> :annotator AND r.expires_at > :now
)"""


def forget_expired(connection: sqlite3.Connection, now: float) -> None:
    """Deletes the reservations that have run out: they hold nothing, and the table stays small."""
    connection.execute("DELETE FROM reservations WHERE expires_at <= ?", (now,))


def release(connection: sqlite3.Connection, job_id: int, annotator: str) -> None:
    """Ends the annotator's reservation in the job: they asked for another item, or left."""
    connection.execute(
        "DELETE FROM reservations WHERE job_id = ? AND annotator = ?", (job_id, annotator)
    )


def release_item(connection: sqlite3.Connection, item_id: int, annotator: str) -> None:
    """Ends the annotator's reservation of an item they have just answered or skipped."""
    connection.execute(
        "DELETE FROM reservations WHERE item_id = ? AND annotator = ?", (item_id, annotator)
    )


def hold(
    connection: sqlite3.Connection, job_id: int, annotator: str, item_id: int, until: float
) -> None:
    """Reserves the item for the annotator until `until`; one reservation per annotator and job."""
    connection.execute(
        "INSERT OR REPLACE INTO reservations (job_id, annotator, item_id, expires_at)"
        " VALUES (?, ?, ?, ?)",
        (job_id, annotator, item_id, until),
    )


def held_items(connection: sqlite3.Connection, job_id: int, now: float) -> int:
    """How many of the job's items someone holds now."""
    ((count,),) = connection.execute(
        "SELECT COUNT(DISTINCT r.item_id) FROM reservations AS r"
        " JOIN job_items AS ji ON ji.item_id = r.item_id AND ji.job_id = ?"
        " WHERE r.expires_at > ?",
        (job_id, now),
    ).fetchall()
    return count
