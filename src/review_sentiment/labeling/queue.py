"""What people should label next: the queue the labeling page shows first, its file format, and
the one line that tells the user so."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from review_sentiment.ground_truth.records import Label, item_key

# For the annotation only: at run time `workforces` would bring `review_sentiment.params`
# (pydantic) into the labeling web app, which reads the queue and needs neither.
if TYPE_CHECKING:
    from review_sentiment.labeling.workforces import Workforce

QUEUE_FILE = "labeling_queue.json"

# One entry of the queue file, a JSON list: an item key (the page's `per_item` answers), or
# {"item": key, "answers": n} for an item that wants n answers from distinct people.
QueueEntry = str | dict[str, Any]
# A workforce's `answers(items, classes, n)`: per item, up to n `(annotator, label)`.
AnswersMethod = Callable[[Sequence[dict], Sequence[str], int], list[list[tuple[str, Label]]]]


class QueueError(ValueError):
    """A queue entry that is neither an item key nor `{"item": key, "answers": n}`."""


def queue_entry(key: str, answers: int) -> QueueEntry:
    """The queue's entry for an item wanting `answers` answers: the plain key for one, so that
    runs asking one answer per item write what older labeling pages read."""
    return key if answers <= 1 else {"item": key, "answers": answers}


def read_queue(entries: object, source: str) -> list[tuple[str, int | None]]:
    """Each entry's item key and answers wanted (None: the page's `per_item`), in order.

    Raises:
        QueueError: `source` is not a JSON list, or names the first bad entry by its index.
    """
    if not isinstance(entries, list):
        raise QueueError(f"{source}: expected a JSON list of item keys, got {type(entries).__name__}")
    return [_read_entry(entry, index, source) for index, entry in enumerate(entries)]


def _read_entry(entry: object, index: int, source: str) -> tuple[str, int | None]:
    if isinstance(entry, str) and entry:
        return entry, None
    if isinstance(entry, dict) and set(entry) == {"item", "answers"}:
        key, answers = entry["item"], entry["answers"]
        # bool is an int in Python: `true` is no count.
        if isinstance(key, str) and key and type(answers) is int and answers >= 1:
            return key, answers
    raise QueueError(
        f"entry {index} of {source}: expected an item key or "
        f'{{"item": <key>, "answers": <n >= 1>}}, got {entry!r}'
    )


def queue_key(entry: QueueEntry) -> str:
    """The item key of a queue entry the pipeline wrote."""
    return entry if isinstance(entry, str) else entry["item"]


def next_step(queue: Sequence[QueueEntry]) -> str:
    """The user's next step while people have reviews to label: how many reviews are queued, and
    how many of them want several people's answers."""
    several = [entry["answers"] for entry in queue if not isinstance(entry, str)]
    who = ""
    if several:
        counts = sorted(set(several))
        each = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        who = f" ({len(several)} of them by {each} different people each)"
    return (
        f"label the {len(queue)} reviews in {QUEUE_FILE}{who} with `make label`, then run again"
    )


class AskedButUnanswered:
    """Wraps people and remembers what they were asked and have not fully answered yet, in the
    order asked: the queue the labeling page shows first.

    `waiting` maps each such item's key to the answers wanted: 1 for an item asked through
    `label` (the page's `per_item` will do), n for one asked `answers(items, classes, n)` with
    fewer than n answers in. People answer at their own pace, so such an item stays queued,
    wanting n, even when its first answers are in and the loop has used them.
    """

    def __init__(self, people: Workforce) -> None:
        self._people = people
        self.name = people.name
        self.waiting: dict[str, int] = {}

    @property
    def queue(self) -> list[QueueEntry]:
        """`waiting` as entries of the queue file, in the order asked."""
        return [queue_entry(key, answers) for key, answers in self.waiting.items()]

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]:
        answers = self._people.label(items, classes)
        for item, answer in zip(items, answers, strict=True):
            if answer is None:
                self._wait(item_key(item), 1)
        return answers

    @property
    def answers(self) -> AnswersMethod:
        """The wrapped workforce's `answers(items, classes, n)`, remembering every item with
        fewer than n answers as waiting for n.

        Raises:
            AttributeError: the wrapped workforce gives one label per item: the loop, which
                looks for an `answers` method, then asks through `label`.
        """
        given = getattr(self._people, "answers", None)
        if not callable(given):
            raise AttributeError(f"workforce {self.name!r} has no answers(items, classes, n)")

        def answers(
            items: Sequence[dict], classes: Sequence[str], n: int
        ) -> list[list[tuple[str, Label]]]:
            rows = given(items, classes, n)
            # A wrong number of rows is the loop's to name (`Answers`), with the workforce.
            for item, row in zip(items, rows, strict=False):
                if len(row) < n:
                    self._wait(item_key(item), n)
            return rows

        return answers

    def answer_counts(self, items: Sequence[dict]) -> list[int]:
        """How many people have answered each item so far; 0s where the workforce cannot say."""
        counts = getattr(self._people, "answer_counts", None)
        return counts(items) if callable(counts) else [0] * len(items)

    def _wait(self, key: str, answers: int) -> None:
        # A dict keeps the first ask's place; a later ask wanting more raises the count.
        self.waiting[key] = max(self.waiting.get(key, 0), answers)
