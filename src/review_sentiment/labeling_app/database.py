"""The label store's SQLite file: one connection shared by a server's threads, one committed
transaction at a time, and the clock its reservations and timestamps read. Labeling jobs and the
store both work through it, so neither needs the other's module."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from os import PathLike
from typing import Self

from review_sentiment.labeling_app.schema import prepare


class StoreDatabase:
    """One SQLite file of the label store, opened (created if missing, migrated if old).

    Every write is its own committed transaction (WAL, `synchronous=FULL`), so an answer that
    returned survives a crash or `kill -9` of the process. One connection guarded by a lock makes
    it safe to share between a web server's threads; several processes may open the same file
    (SQLite serialises their writes).

    Args:
        path: the SQLite file.
        clock: seconds since the epoch; reservations and timestamps read it (tests inject one).
    """

    def __init__(self, path: str | PathLike, *, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.clock = clock
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        try:
            self._connection.execute("PRAGMA journal_mode = WAL")
            # FULL syncs the WAL at each commit: an answer that returned survives power loss too.
            self._connection.execute("PRAGMA synchronous = FULL")
            self._connection.execute("PRAGMA foreign_keys = ON")
            with self.transaction() as connection:
                prepare(connection, self.timestamp())
        except BaseException:
            self._connection.close()
            raise

    def close(self) -> None:
        """Closes the connection; the store cannot be used afterwards."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction on the store's connection. A write one is taken at once (`IMMEDIATE`)
        so that its checks and inserts see the same state; a read one sees one snapshot."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def timestamp(self) -> str:
        """The clock's time as an ISO 8601 UTC timestamp, as events store it."""
        return datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="microseconds")
