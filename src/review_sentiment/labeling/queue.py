"""What people should label next: the queue the labeling page shows first, and the one line that
tells the user so."""

from __future__ import annotations

from collections.abc import Sequence

from review_sentiment.ground_truth.records import Label, item_key
from review_sentiment.labeling.workforces import Workforce

QUEUE_FILE = "labeling_queue.json"


def next_step(queued: int) -> str:
    """The user's next step while people have reviews to label."""
    return f"label the {queued} reviews in {QUEUE_FILE} with `make label`, then run again"


class AskedButUnanswered:
    """Wraps people and remembers what they were asked and have not answered yet, in the order
    asked: the queue the labeling page shows first."""

    def __init__(self, people: Workforce) -> None:
        self._people = people
        self.name = people.name
        self.waiting: list[str] = []

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]:
        answers = self._people.label(items, classes)
        self.waiting += [
            item_key(item) for item, answer in zip(items, answers, strict=True) if answer is None
        ]
        return answers
