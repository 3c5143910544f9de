"""A labeling job's items, made from its manifest: which lines are items, and which item each is.

An item is identified by job name, item key and the SHA-1 of its text, so a later job of the same
name that has the same review reuses the item, with the answers people gave it.
"""

from __future__ import annotations

import json
import sqlite3

from review_sentiment.ground_truth.manifest import manifest_fingerprint
from review_sentiment.ground_truth.records import item_key, source_sha1


def create_job(
    connection: sqlite3.Connection, name: str, lines: list[dict], created_at: str
) -> tuple[int, str]:
    """Adds the job (name, fingerprint of `lines`) with its items, unless it is there.

    Call inside a write transaction. An item with the key and text of an item of an earlier job
    of the same name is that item, answers included.

    Returns:
        The job's id and manifest fingerprint.

    Raises:
        ValueError: the name is empty, a line has no key, or two lines have one key and
            different `source` texts.
    """
    if not name.strip():
        raise ValueError("a labeling job needs a name")
    fingerprint = manifest_fingerprint(lines)
    row = connection.execute(
        "SELECT id FROM jobs WHERE name = ? AND manifest_fingerprint = ?", (name, fingerprint)
    ).fetchone()
    if row is not None:
        return row[0], fingerprint
    (job_id,) = connection.execute(
        "INSERT INTO jobs (name, manifest_fingerprint, created_at) VALUES (?, ?, ?) RETURNING id",
        (name, fingerprint, created_at),
    ).fetchone()
    for position, (key, sha1, line) in enumerate(_identified(lines)):
        connection.execute(
            "INSERT OR IGNORE INTO items (job_name, key, source_sha1) VALUES (?, ?, ?)",
            (name, key, sha1),
        )
        connection.execute(
            "INSERT INTO job_items (job_id, position, item_id, line)"
            " SELECT ?, ?, id, ? FROM items WHERE job_name = ? AND key = ? AND source_sha1 = ?",
            (job_id, position, json.dumps(line, ensure_ascii=False), name, key, sha1),
        )
    return job_id, fingerprint


def _identified(lines: list[dict]) -> list[tuple[str, str, dict]]:
    """(key, SHA-1 of the text, line) of each item once, in manifest order."""
    first: dict[str, tuple[int, str]] = {}
    items = []
    for number, line in enumerate(lines, start=1):
        try:
            key = item_key(line)
        except ValueError as error:
            raise ValueError(f"line {number} of the items: {error}") from error
        source = line.get("source")
        # A line without a text (a `source-ref`) shows as empty on the page: that is its text.
        sha1 = source_sha1(source if isinstance(source, str) else "")
        if key in first:
            if first[key][1] != sha1:
                raise ValueError(
                    f"line {number} of the items: key {key!r} is already on line {first[key][0]}"
                    " with another 'source'"
                )
            continue
        first[key] = (number, sha1)
        items.append((key, sha1, line))
    return items
