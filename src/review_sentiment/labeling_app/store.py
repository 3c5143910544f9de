"""Durable label store of the local labeling app: SQLite in WAL mode, one commit per answer.

Answers are an append-only log of events (`label`, `skip`, `undo`); an undo is an event that
points at the answer it takes back, so nothing is ever deleted and the history can be audited.
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import statistics
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from os import PathLike
from typing import TYPE_CHECKING

from review_sentiment.ground_truth.records import item_key

if TYPE_CHECKING:
    import pandas as pd

ANNOTATION_COLUMNS = ["item_key", "annotator", "class_name", "seconds", "created_at"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key      TEXT PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    line     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'undo')),
    item_key   TEXT NOT NULL REFERENCES items (key),
    annotator  TEXT NOT NULL,
    class_name TEXT,
    seconds    REAL,
    undoes     INTEGER REFERENCES events (id),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_annotator ON events (annotator, id);
CREATE INDEX IF NOT EXISTS events_by_item ON events (item_key);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_undone ON events (undoes);
-- The answers that stand: labels and skips no undo event points at.
CREATE VIEW IF NOT EXISTS answers AS
    SELECT e.* FROM events AS e
    WHERE e.kind IN ('label', 'skip')
      AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id);
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class LabelStoreError(ValueError):
    """An answer the store cannot take: names the item and the annotator."""


class AlreadyAnswered(LabelStoreError):
    """The annotator already labeled or skipped this item (a double submit, or a stale page)."""


class LabelStore:
    """Items to label and the answers given to them, in one SQLite file.

    Every `record`, `skip` and `undo_last` is its own committed transaction (WAL,
    `synchronous=FULL`), so an answer that returned survives a crash or `kill -9` of the process.
    One connection guarded by a lock makes the store safe to share between a web server's threads;
    several processes may open the same file (SQLite serialises their writes).

    Examples:
        >>> store = LabelStore(tmp_path / "labels.db")
        >>> store.add_items([{"source": "Great", "review_id": "R1"}])
        1
        >>> store.next_item("ana", per_item=1)
        {'source': 'Great', 'review_id': 'R1'}
        >>> store.record("R1", "ana", "positive", seconds=2.5)
        >>> store.next_item("ana", per_item=1) is None
        True
    """

    def __init__(self, path: str | PathLike) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._connection.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at each commit: an answer that returned survives power loss too.
        self._connection.execute("PRAGMA synchronous = FULL")
        self._connection.execute("PRAGMA foreign_keys = ON")
        # executescript commits whatever is open, so the schema brings its own transaction.
        self._connection.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")

    def close(self) -> None:
        """Closes the connection; the store cannot be used afterwards."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once so that checks and inserts see the same state."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def _query(self, sql: str, parameters: Sequence | dict = ()) -> list[tuple]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def add_items(self, lines: list[dict]) -> int:
        """Adds the manifest lines not in the store yet, after the others, in their order.

        Adding the same manifest again adds nothing, so a restarted server resumes.

        Returns:
            How many items were new.

        Raises:
            ValueError: a line has no key, or has the key of an item with another `source`
                (its labels would then belong to a different text).
        """
        keyed = []
        for number, line in enumerate(lines, start=1):
            try:
                keyed.append((item_key(line), line))
            except ValueError as error:
                raise ValueError(f"line {number} of the items: {error}") from error
        added = 0
        with self._transaction() as connection:
            (position,) = connection.execute(
                "SELECT COALESCE(MAX(position), -1) FROM items"
            ).fetchone()
            for number, (key, line) in enumerate(keyed, start=1):
                row = connection.execute("SELECT line FROM items WHERE key = ?", (key,)).fetchone()
                if row is not None:
                    stored_source = json.loads(row[0]).get("source")
                    if stored_source != line.get("source"):
                        raise ValueError(
                            f"line {number} of the items: key {key!r} is already in {self.path} "
                            "with another 'source'"
                        )
                    continue
                position += 1
                connection.execute(
                    "INSERT INTO items (key, position, line) VALUES (?, ?, ?)",
                    (key, position, json.dumps(line, ensure_ascii=False)),
                )
                added += 1
        return added

    def keys(self) -> list[str]:
        """The keys of all items, in manifest order."""
        return [key for (key,) in self._query("SELECT key FROM items ORDER BY position")]

    def record(
        self, item_key: str, annotator: str, class_name: str, seconds: float | None
    ) -> None:
        """Saves one label, committed before this returns.

        Args:
            item_key: the item's key (see `item_key`).
            annotator: who gave the label.
            class_name: the label; the caller checks it against the label categories.
            seconds: time from showing the item to the answer, if measured.

        Raises:
            AlreadyAnswered: the annotator already labeled or skipped the item.
            LabelStoreError: the item is unknown, or a value is empty or negative.
        """
        if not class_name:
            raise LabelStoreError(f"item {item_key!r}: empty label from {annotator!r}")
        if seconds is not None and not (math.isfinite(seconds) and seconds >= 0):
            raise LabelStoreError(
                f"item {item_key!r}: seconds must be a finite number >= 0, got {seconds!r}"
            )
        self._answer("label", item_key, annotator, class_name, seconds)

    def skip(self, item_key: str, annotator: str) -> None:
        """Records that the annotator skipped the item: it is not shown to them again.

        Raises:
            AlreadyAnswered: the annotator already labeled or skipped the item.
            LabelStoreError: the item is unknown or the annotator empty.
        """
        self._answer("skip", item_key, annotator, None, None)

    def _answer(
        self,
        kind: str,
        key: str,
        annotator: str,
        class_name: str | None,
        seconds: float | None,
    ) -> None:
        if not annotator:
            raise LabelStoreError(f"item {key!r}: the annotator's name is empty")
        with self._transaction() as connection:
            if connection.execute("SELECT 1 FROM items WHERE key = ?", (key,)).fetchone() is None:
                raise LabelStoreError(f"item {key!r} is not in {self.path}")
            previous = connection.execute(
                "SELECT kind, class_name FROM answers WHERE item_key = ? AND annotator = ?",
                (key, annotator),
            ).fetchone()
            if previous is not None:
                given = "skipped" if previous[0] == "skip" else f"labeled {previous[1]!r}"
                raise AlreadyAnswered(f"item {key!r}: {annotator!r} already {given} it")
            connection.execute(
                "INSERT INTO events (kind, item_key, annotator, class_name, seconds, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (kind, key, annotator, class_name, seconds, _now()),
            )

    def undo_last(self, annotator: str) -> str | None:
        """Takes back the annotator's latest standing label or skip, by appending an `undo` event.

        Returns:
            The key of the item answered again by undoing, or `None` if there was nothing to undo.
        """
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT id, item_key FROM answers WHERE annotator = ? ORDER BY id DESC LIMIT 1",
                (annotator,),
            ).fetchone()
            if row is None:
                return None
            event_id, key = row
            connection.execute(
                "INSERT INTO events (kind, item_key, annotator, undoes, created_at)"
                " VALUES ('undo', ?, ?, ?, ?)",
                (key, annotator, event_id, _now()),
            )
        return key

    def next_item(
        self, annotator: str, *, per_item: int, priority: list[str] | None = None
    ) -> dict | None:
        """The next item for the annotator, or `None` when nothing is left for them.

        That is an item they have neither labeled nor skipped and that has fewer than `per_item`
        standing labels; items whose keys are in `priority` come first, in that order, then the
        others in manifest order. Nothing is reserved: two people asking at once get the same item.
        """
        if per_item < 1:
            raise ValueError(f"per_item must be 1 or more, got {per_item}")
        wanted = """
            (SELECT COUNT(*) FROM answers AS a WHERE a.item_key = i.key AND a.kind = 'label')
                < :per_item
            AND NOT EXISTS (SELECT 1 FROM answers AS a
                            WHERE a.item_key = i.key AND a.annotator = :annotator)
        """
        parameters = {"per_item": per_item, "annotator": annotator}
        rows = []
        if priority:
            # json_each numbers the keys of the list from 0: that is their rank.
            rows = self._query(
                f"SELECT i.line FROM json_each(:priority) AS p JOIN items AS i ON i.key = p.value"
                f" WHERE {wanted} ORDER BY p.key LIMIT 1",
                {**parameters, "priority": json.dumps(list(priority))},
            )
        if not rows:
            # Walking the position index stops at the first match instead of sorting every item.
            rows = self._query(
                f"SELECT i.line FROM items AS i WHERE {wanted} ORDER BY i.position LIMIT 1",
                parameters,
            )
        return json.loads(rows[0][0]) if rows else None

    def annotations(self) -> pd.DataFrame:
        """The standing labels (undone ones left out), oldest first.

        Columns: item_key, annotator, class_name, seconds (float, NaN if not measured),
        created_at (UTC timestamps).
        """
        import pandas as pd

        rows = self._query(
            "SELECT item_key, annotator, class_name, seconds, created_at FROM answers"
            " WHERE kind = 'label' ORDER BY id"
        )
        frame = pd.DataFrame(rows, columns=ANNOTATION_COLUMNS)
        frame["seconds"] = frame["seconds"].astype("float64")
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
        return frame

    def progress(self, *, per_item: int = 1) -> dict:
        """How far labeling is, for the progress page and logs.

        Returns:
            `{"total": items, "done": items with >= per_item labels, "per_item": per_item,
            "labels": standing labels, "annotators": {name: {"labels": n, "skipped": n,
            "median_seconds": float | None}}}`, annotators sorted by name.
        """
        ((total,),) = self._query("SELECT COUNT(*) FROM items")
        ((done,),) = self._query(
            "SELECT COUNT(*) FROM (SELECT item_key FROM answers WHERE kind = 'label'"
            " GROUP BY item_key HAVING COUNT(*) >= ?)",
            (per_item,),
        )
        answers = self._query("SELECT annotator, kind, seconds FROM answers ORDER BY annotator")
        annotators: dict[str, dict] = {}
        seconds_by_annotator: dict[str, list[float]] = {}
        for annotator, kind, seconds in answers:
            counts = annotators.setdefault(annotator, {"labels": 0, "skipped": 0})
            times = seconds_by_annotator.setdefault(annotator, [])
            if kind == "skip":
                counts["skipped"] += 1
                continue
            counts["labels"] += 1
            if seconds is not None:
                times.append(seconds)
        for annotator, counts in annotators.items():
            times = seconds_by_annotator[annotator]
            counts["median_seconds"] = statistics.median(times) if times else None
        return {
            "total": total,
            "done": done,
            "per_item": per_item,
            "labels": sum(counts["labels"] for counts in annotators.values()),
            "annotators": annotators,
        }

    def secret(self, name: str) -> str:
        """A random secret made on first use and kept in the store, e.g. to sign cookies, so that
        they stay valid when the server restarts."""
        with self._transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)",
                (f"secret:{name}", secrets.token_urlsafe(32)),
            )
            (value,) = connection.execute(
                "SELECT value FROM meta WHERE name = ?", (f"secret:{name}",)
            ).fetchone()
        return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
