"""Durable label store of the local labeling app: one SQLite file (WAL), one commit per answer,
holding every labeling job served from it.

A labeling job is a job name plus the fingerprint of its input manifest: the page serves one job
and counts its items only, so a new batch never mixes with an old one, and old jobs stay in the
file with their answers. Answers are an append-only log of events (`label`, `skip`, `undo`); an
undo is an event that points at the answer it takes back, so nothing is ever deleted.

A grown batch keeps what people did: an item (table `items`) is identified by job name, item key
and the SHA-1 of its text, and jobs of one name share their items (table `job_items` links them),
so an answer given in an earlier job is resolved at query time as an answer in the new one.
Nothing is copied: copies would be counted twice by a reader selecting a job name's labels and
would go stale when the original is undone; here each answer is stored once, under the job it
was given in, and an undo or a late answer in either job is seen by both. Reservations (module
`reservations`) keep two people from being handed one review; `schema` migrates old files.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from review_sentiment.labeling_app.database import StoreDatabase
from review_sentiment.labeling_app.job import LabelingJob
from review_sentiment.labeling_app.job_items import create_job

if TYPE_CHECKING:
    import pandas as pd

# What `LabelStore.annotations` and the `human_annotations` dataset return, in this order.
ANNOTATION_COLUMNS = [
    "job_name",
    "manifest_fingerprint",
    "item_key",
    "source_sha1",
    "annotator",
    "class_name",
    "seconds",
    "created_at",
]


class LabelStore(StoreDatabase):
    """The labeling jobs of one SQLite file and the answers given to them.

    Every write is its own committed transaction (`StoreDatabase`: WAL, `synchronous=FULL`), so
    an answer that returned survives a crash or `kill -9` of the process; the store is safe to
    share between a web server's threads, and several processes may open the same file (SQLite
    serialises their writes, and reservations live in the file).

    Args:
        path: the SQLite file; created if missing, migrated if written before jobs existed.
        clock: seconds since the epoch; reservations and timestamps read it (tests inject one).

    Examples:
        >>> store = LabelStore(tmp_path / "labels.db")
        >>> job = store.open_job("review-sentiment", [{"source": "Great", "review_id": "R1"}])
        >>> job.next_item("ana", per_item=1)
        {'source': 'Great', 'review_id': 'R1'}
        >>> job.record("R1", "ana", "positive", seconds=2.5)
        >>> job.next_item("ana", per_item=1) is None
        True
    """

    def open_job(self, name: str, lines: list[dict]) -> LabelingJob:
        """The job `name` over these manifest lines: made on first use, resumed after.

        The same name and lines (same fingerprint) give the same job, so a restarted server
        resumes. Items with the key and text of an item of an earlier job of this name keep its
        answers; a key with another text is another item.

        Raises:
            ValueError: an empty name, a line without a key, or a key given two texts.
        """
        with self.transaction() as connection:
            job_id, fingerprint = create_job(connection, name, lines, self.timestamp())
        return LabelingJob(self, job_id, name, fingerprint)

    def jobs(self) -> list[dict]:
        """Every job in the file, oldest first: `{"name", "manifest_fingerprint", "items",
        "created_at"}`."""
        with self.transaction(write=False) as connection:
            rows = connection.execute(
                "SELECT j.name, j.manifest_fingerprint, COUNT(ji.item_id), j.created_at"
                " FROM jobs AS j LEFT JOIN job_items AS ji ON ji.job_id = j.id"
                " GROUP BY j.id ORDER BY j.id"
            ).fetchall()
        fields = ("name", "manifest_fingerprint", "items", "created_at")
        return [dict(zip(fields, row, strict=True)) for row in rows]

    def annotations(self) -> pd.DataFrame:
        """The standing labels of all jobs (undone ones left out), oldest first, each once, under
        the job it was given in.

        Columns `ANNOTATION_COLUMNS`: seconds is float (NaN if not measured), created_at UTC
        timestamps. A later job of the same name reuses a label when it has the same
        (item_key, source_sha1): select by job name and those two, not by fingerprint.
        """
        with self.transaction(write=False) as connection:
            rows = connection.execute(
                "SELECT j.name, j.manifest_fingerprint, i.key, i.source_sha1, a.annotator,"
                " a.class_name, a.seconds, a.created_at FROM answers AS a"
                " JOIN jobs AS j ON j.id = a.job_id JOIN items AS i ON i.id = a.item_id"
                " WHERE a.kind = 'label' ORDER BY a.id"
            ).fetchall()
        return annotation_frame(rows)

    def secret(self, name: str) -> str:
        """A random secret made on first use and kept in the store, e.g. to sign cookies, so that
        they stay valid when the server restarts."""
        with self.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)",
                (f"secret:{name}", secrets.token_urlsafe(32)),
            )
            (value,) = connection.execute(
                "SELECT value FROM meta WHERE name = ?", (f"secret:{name}",)
            ).fetchone()
        return value


def annotation_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows in `ANNOTATION_COLUMNS` order as the annotations table, typed (also when empty)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=ANNOTATION_COLUMNS)
    frame["seconds"] = frame["seconds"].astype("float64")
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return frame
