"""People's answers in one automated-labeling run: every answer counted, several per validation
item where the workforce can give them, and their Dawid-Skene consensus with its uncertainty."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from review_sentiment.ground_truth.records import Label
from review_sentiment.labeling.workforces import Workforce


class Answers:
    """Asks people and keeps every answer: `count` is answers, not items.

    A workforce with an `answers(items, classes, n)` method (n answers per item, each
    `(annotator, Label)`, from distinct annotators) can be asked for more answers per item
    (people in the labeling app give what is in so far, and the queue asks the rest); one
    without gives one label per item through `label`, which is then taken as the truth.
    """

    def __init__(self, humans: Workforce, classes: list[str], check: Callable[[int, Label], None]):
        self.humans, self.classes, self._check = humans, classes, check
        self.several = callable(getattr(humans, "answers", None))
        self.count = 0
        self.given: dict[int, list[tuple[str, str]]] = {}  # item → [(annotator, class)]
        # Consolidated validation items: item → {class: posterior}.
        self.posterior: dict[int, dict[str, float]] = {}
        self.annotator_accuracy: float | None = None

    def ask(self, items: Sequence[dict], indices: np.ndarray, n: int) -> list[Label | None]:
        """The first answer (or people's label) for each of `indices`, asking `n` per item."""
        if not self.several:
            labels = self.humans.label(items, self.classes)
            self.count += sum(label is not None for label in labels)
            return labels
        rows = self.humans.answers(items, self.classes, n)
        self._keep(indices, rows)
        return [row[0][1] if row else None for row in rows]

    def answered_before(self, items: Sequence[dict], indices: np.ndarray) -> np.ndarray:
        """How many answers each of `indices` had before this run, where the workforce can say
        (`answer_counts(items)`, e.g. people in the label store); 0s otherwise."""
        counts = getattr(self.humans, "answer_counts", None)
        if not callable(counts) or indices.size == 0:
            return np.zeros(indices.size, dtype=int)
        return np.asarray(counts([items[int(i)] for i in indices]), dtype=int)

    def top_up(self, items: Sequence[dict], indices: np.ndarray, n: int) -> None:
        """Asks for answers until each of `indices` (positions in `items`) has `n`, where the
        workforce can give several; items labeled before this run included."""
        if not self.several:
            return
        short = [int(i) for i in indices if len(self.given.get(int(i), [])) < n]
        if short:
            rows = self.humans.answers([items[i] for i in short], self.classes, n)
            self._keep(np.asarray(short, dtype=int), rows)

    def _keep(self, indices: np.ndarray, rows: list[list[tuple[str, Label]]]) -> None:
        if len(rows) != len(indices):
            raise ValueError(
                f"workforce {self.humans.name!r} returned answers for {len(rows)} of "
                f"{len(indices)} items"
            )
        for i, row in zip(indices, rows, strict=True):
            i = int(i)
            before = {who for who, _ in self.given.get(i, [])}
            for who, label in row:
                self._check(i, label)
                if who not in before:
                    self.count += 1
                    self.given.setdefault(i, []).append((who, label.class_name))

    def consolidate(self, indices: np.ndarray) -> dict[int, Label]:
        """Dawid-Skene consensus of the items with several answers: their labels (confidence =
        posterior) and, in `posterior`, each item's class probabilities."""
        several = [int(i) for i in indices if len(self.given.get(int(i), [])) > 1]
        if not several:
            return {}
        import pandas as pd

        from review_sentiment.labeling.consolidation import consolidate  # imports nltk: slow

        rows = [(i, who, name) for i in several for who, name in self.given[i]]
        frame = pd.DataFrame(rows, columns=["item_key", "annotator", "class_name"])
        result = consolidate(frame, self.classes)
        probabilities = result.probabilities
        self.posterior = {
            int(i): {name: float(probabilities.at[i, name]) for name in self.classes}
            for i in several
        }
        quality = result.annotators.dropna(subset=["quality"])
        if len(quality):
            self.annotator_accuracy = float(
                np.average(quality["quality"], weights=quality["labels"])
            )
        return {int(i): Label(row.class_name, float(row.confidence), True)
                for i, row in zip(result.items["item_key"], result.items.itertuples(index=False))}

    def chance_right(self, indices: np.ndarray, predicted: np.ndarray, labels: list) -> np.ndarray:
        """Each validation item's chance that `predicted` is its true class: the consensus
        posterior where several answers were consolidated, else 1 or 0 against its label."""
        return np.asarray([
            self.posterior[int(i)].get(name, 0.0) if int(i) in self.posterior
            else float(labels[int(i)].class_name == name)
            for i, name in zip(indices, predicted, strict=True)
        ])

    def consensus_accuracy(self, validation: np.ndarray) -> float | None:
        """Mean posterior of the consensus class over consolidated validation items: the best
        accuracy any machine can be measured at against them."""
        posterior = self.posterior
        known = [max(posterior[int(i)].values()) for i in validation if int(i) in posterior]
        return float(np.mean(known)) if known else None
