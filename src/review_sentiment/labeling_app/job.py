"""One labeling job in the label store: its items in manifest order, who is handed which item next,
and the answers (label, skip, undo) people give to it.

An item belongs to every job of one name whose manifest has its key and text (see `store`), so
the answers read here are the item's answers from any of those jobs: a grown batch does not ask
again what was answered in an earlier one.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping

from review_sentiment.labeling_app import reservations
from review_sentiment.labeling_app.database import StoreDatabase
from review_sentiment.labeling_app.reservations import DEFAULT_RESERVE_SECONDS


class LabelStoreError(ValueError):
    """An answer the store cannot take: names the item and the annotator."""


class AlreadyAnswered(LabelStoreError):
    """The annotator already labeled or skipped this item (a double submit, or a stale page)."""


def _wanted(answers: str) -> str:
    """SQL: the item `ji.item_id` may be handed to :annotator: they have not answered it, and its
    standing labels plus the other people holding it are fewer than `answers` (an expression)."""
    return f"""
    NOT EXISTS (SELECT 1 FROM answers AS a
                WHERE a.item_id = ji.item_id AND a.annotator = :annotator)
    AND (SELECT COUNT(*) FROM answers AS a WHERE a.item_id = ji.item_id AND a.kind = 'label')
        + {reservations.HELD_BY_OTHERS} < {answers}
"""


# The answers wanted for the priority entry `p`, a pair [key, answers].
_PRIORITY_ANSWERS = "json_extract(p.value, '$[1]')"


class LabelingJob:
    """The items of one manifest under one job name, and the answers people give them.

    Get one from `LabelStore.open_job`. Every `record`, `skip`, `undo_last` and `next_item` is one
    committed transaction of the store.
    """

    def __init__(self, store: StoreDatabase, job_id: int, name: str, fingerprint: str) -> None:
        self.store = store
        self.id = job_id
        self.name = name
        self.manifest_fingerprint = fingerprint

    def __repr__(self) -> str:
        return f"LabelingJob({self.name!r}, {self.manifest_fingerprint!r})"

    def keys(self) -> list[str]:
        """The keys of the job's items, in manifest order."""
        with self.store.transaction(write=False) as connection:
            rows = connection.execute(
                "SELECT i.key FROM job_items AS ji JOIN items AS i ON i.id = ji.item_id"
                " WHERE ji.job_id = ? ORDER BY ji.position",
                (self.id,),
            ).fetchall()
        return [key for (key,) in rows]

    def next_item(
        self,
        annotator: str,
        *,
        per_item: int,
        priority: list[str] | None = None,
        answers: Mapping[str, int] | None = None,
        reserve_seconds: float = DEFAULT_RESERVE_SECONDS,
    ) -> dict | None:
        """The line of the next item for the annotator, reserved for them; `None` when nothing
        is left for them now.

        That is an item of this job they have neither labeled nor skipped whose standing labels
        plus the other people holding it are fewer than `per_item`, or, for a key of `priority`
        that `answers` gives a larger count (e.g. a validation item wanting three answers),
        fewer than that count. Items whose keys are in `priority` come first, in that order,
        then the others in manifest order. Asking releases the annotator's previous reservation
        in the job; the new one lasts `reserve_seconds`.
        """
        if per_item < 1:
            raise ValueError(f"per_item must be 1 or more, got {per_item}")
        answers = answers or {}
        if any(count < 1 for count in answers.values()):
            raise ValueError(f"answers wanted must be 1 or more, got {dict(answers)}")
        if not (math.isfinite(reserve_seconds) and reserve_seconds >= 0):
            raise ValueError(f"reserve_seconds must be a number >= 0, got {reserve_seconds!r}")
        now = self.store.clock()
        parameters = {"job": self.id, "annotator": annotator, "per_item": per_item, "now": now}
        with self.store.transaction() as connection:
            reservations.forget_expired(connection, now)
            reservations.release(connection, self.id, annotator)
            row = None
            if priority:
                # Pairs [key, answers wanted]; json_each numbers them from 0: that is their rank.
                ranked = [[key, max(per_item, answers.get(key, per_item))] for key in priority]
                row = connection.execute(
                    "SELECT ji.item_id, ji.line FROM json_each(:priority) AS p"
                    " JOIN items AS i"
                    " ON i.job_name = :name AND i.key = json_extract(p.value, '$[0]')"
                    " JOIN job_items AS ji ON ji.job_id = :job AND ji.item_id = i.id"
                    f" WHERE {_wanted(_PRIORITY_ANSWERS)} ORDER BY p.key LIMIT 1",
                    {**parameters, "name": self.name, "priority": json.dumps(ranked)},
                ).fetchone()
            if row is None:
                # Walking the position index stops at the first match instead of sorting.
                row = connection.execute(
                    "SELECT ji.item_id, ji.line FROM job_items AS ji"
                    f" WHERE ji.job_id = :job AND {_wanted(':per_item')}"
                    " ORDER BY ji.position LIMIT 1",
                    parameters,
                ).fetchone()
            if row is None:
                return None
            reservations.hold(connection, self.id, annotator, row[0], now + reserve_seconds)
        return json.loads(row[1])

    def release(self, annotator: str) -> None:
        """Lets go of the item the annotator holds in this job, e.g. when they stop labeling."""
        with self.store.transaction() as connection:
            reservations.release(connection, self.id, annotator)

    def record(
        self, item_key: str, annotator: str, class_name: str, seconds: float | None
    ) -> None:
        """Saves one label, committed before this returns; ends the annotator's reservation.

        Args:
            item_key: the item's key (see `item_key`).
            annotator: who gave the label.
            class_name: the label; the caller checks it against the label categories.
            seconds: time from showing the item to the answer, if measured.

        Raises:
            AlreadyAnswered: the annotator already labeled or skipped the item.
            LabelStoreError: the item is not in the job, or a value is empty or negative.
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
            LabelStoreError: the item is not in the job or the annotator is empty.
        """
        self._answer("skip", item_key, annotator, None, None)

    def _answer(
        self, kind: str, key: str, annotator: str, class_name: str | None, seconds: float | None
    ) -> None:
        if not annotator:
            raise LabelStoreError(f"item {key!r}: the annotator's name is empty")
        with self.store.transaction() as connection:
            row = connection.execute(
                "SELECT i.id FROM items AS i JOIN job_items AS ji ON ji.item_id = i.id"
                " WHERE i.job_name = ? AND i.key = ? AND ji.job_id = ?",
                (self.name, key, self.id),
            ).fetchone()
            if row is None:
                raise LabelStoreError(f"item {key!r} is not in {self} of {self.store.path}")
            (item_id,) = row
            previous = connection.execute(
                "SELECT kind, class_name FROM answers WHERE item_id = ? AND annotator = ?",
                (item_id, annotator),
            ).fetchone()
            if previous is not None:
                given = "skipped" if previous[0] == "skip" else f"labeled {previous[1]!r}"
                raise AlreadyAnswered(f"item {key!r}: {annotator!r} already {given} it")
            connection.execute(
                "INSERT INTO events (job_id, item_id, kind, annotator, class_name, seconds,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.id, item_id, kind, annotator, class_name, seconds, self.store.timestamp()),
            )
            reservations.release_item(connection, item_id, annotator)

    def undo_last(self, annotator: str) -> str | None:
        """Takes back the annotator's latest standing label or skip of an item of this job (given
        in this job or an earlier one of its name), by appending an `undo` event.

        Returns:
            The key of the item to answer again, or `None` if there was nothing to undo.
        """
        with self.store.transaction() as connection:
            row = connection.execute(
                "SELECT a.id, a.item_id, i.key FROM answers AS a"
                " JOIN job_items AS ji ON ji.item_id = a.item_id AND ji.job_id = ?"
                " JOIN items AS i ON i.id = a.item_id"
                " WHERE a.annotator = ? ORDER BY a.id DESC LIMIT 1",
                (self.id, annotator),
            ).fetchone()
            if row is None:
                return None
            event_id, item_id, key = row
            connection.execute(
                "INSERT INTO events (job_id, item_id, kind, annotator, undoes, created_at)"
                " VALUES (?, ?, 'undo', ?, ?, ?)",
                (self.id, item_id, annotator, event_id, self.store.timestamp()),
            )
        return key

    def progress(self, *, per_item: int = 1) -> dict:
        """How far this job is, for the progress page and logs.

        An item counts as done at `per_item` labels, even one the labeling queue wants more
        answers for (see `next_item`): the page shows the job's own rule, not the queue's.

        Returns:
            `{"total": items, "done": items with >= per_item labels, "per_item": per_item,
            "labels": standing labels, "held": items someone holds now, "annotators": {name:
            {"labels": n, "skipped": n, "median_seconds": float | None}}}`, annotators sorted
            by name. Answers from earlier jobs of the name to items of this one count.
        """
        with self.store.transaction(write=False) as connection:
            ((total,),) = connection.execute(
                "SELECT COUNT(*) FROM job_items WHERE job_id = ?", (self.id,)
            ).fetchall()
            ((done,),) = connection.execute(
                "SELECT COUNT(*) FROM job_items AS ji WHERE ji.job_id = ? AND (SELECT COUNT(*)"
                " FROM answers AS a WHERE a.item_id = ji.item_id AND a.kind = 'label') >= ?",
                (self.id, per_item),
            ).fetchall()
            answers = connection.execute(
                "SELECT a.annotator, a.kind, a.seconds FROM job_items AS ji"
                " JOIN answers AS a ON a.item_id = ji.item_id WHERE ji.job_id = ?"
                " ORDER BY a.annotator",
                (self.id,),
            ).fetchall()
            held = reservations.held_items(connection, self.id, self.store.clock())
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
            "held": held,
            "annotators": annotators,
        }
