"""A SIMULATED workforce for tests and benchmarks: answers from a hidden field of each item.

It stands in for people (its labels say human-annotated "yes"), so everything it touches must
say it is a simulation: its name, a warning on every call, and the job name the caller writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence

import numpy as np
from review_sentiment.ground_truth.records import Label
from review_sentiment.labeling.workforces import LabelingError
from review_sentiment.params import SimulatedWorkforceParams, StarRatingParams

logger = logging.getLogger(__name__)

SIMULATED = "simulated"


def simulated_job_name(job_name: str) -> str:
    """The job name to write for labels from a simulated workforce: it ends in `-simulated`."""
    suffix = f"-{SIMULATED}"
    return job_name if job_name.endswith(suffix) else f"{job_name}{suffix}"


class SimulatedAnnotator:
    """A pool of pretend people: each answer is the true class from `field`, replaced with
    probability of that annotator's error rate by another class (a neighbour in star order more
    often than the far one, see `SimulatedWorkforceParams`).

    Each answer depends only on the seed, the item's content and the annotator, not on batch
    order, so the same item always gets the same answers (like asking the same people twice)
    and a run is reproducible however the items are batched. An item's annotators are distinct
    and drawn from the pool by the same rule. Confidence is `1 - ` the annotator's error rate,
    the accuracy that simulated person is known to have.
    """

    name = SIMULATED
    is_simulation = True

    def __init__(
        self,
        settings: SimulatedWorkforceParams | None = None,
        stars: StarRatingParams | None = None,
    ) -> None:
        self.settings = settings or SimulatedWorkforceParams()
        # The configured star → class mapping, the same one the star_rating workforce uses.
        self._by_star = (stars or StarRatingParams()).classes_by_star()
        size, spread = self.settings.annotators, self.settings.annotator_spread
        scale = np.linspace(1 - spread, 1 + spread, size) if size > 1 else np.ones(1)
        self.error_rates = np.minimum(1.0, self.settings.error_rate * scale)

    def job_name(self, job_name: str) -> str:
        """`job_name` marked as simulated, for `labeled_line(..., job_name=...)`."""
        return simulated_job_name(job_name)

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]:
        """One label per item, from one annotator of the pool; every answer is simulated."""
        return [answers[0][1] for answers in self.answers(items, classes, 1)]

    def answers(
        self, items: Sequence[dict], classes: Sequence[str], n: int
    ) -> list[list[tuple[str, Label]]]:
        """`n` answers per item (at most the pool size), each `(annotator, label)` from a
        distinct annotator; the first is the one `label` gives."""
        classes = list(classes)
        settings = self.settings
        n = min(n, settings.annotators)
        truths = [self._truth(position, item, classes) for position, item in enumerate(items, 1)]
        given, wrong = [], 0
        for item, truth in zip(items, truths, strict=True):
            key = _item_key(item)
            who = np.random.default_rng([settings.seed, key]).permutation(settings.annotators)[:n]
            row = []
            for annotator in who:
                answer = self._answer(key, int(annotator), truth, classes)
                wrong += answer != truth
                rate = float(self.error_rates[annotator])
                row.append((f"{SIMULATED}-{annotator}", Label(answer, 1.0 - rate, True)))
            given.append(row)
        logger.warning(
            "SIMULATED labels, no person involved: %d answers for %d items from field %r "
            "(error rate %.3f over %d annotators, seed %d; %d answers deliberately wrong)",
            sum(len(row) for row in given), len(items), settings.field, settings.error_rate,
            settings.annotators, settings.seed, wrong,
        )
        return given

    def _answer(self, key: int, annotator: int, truth: str, classes: list[str]) -> str:
        rng = np.random.default_rng([self.settings.seed, key, annotator])
        if rng.random() >= self.error_rates[annotator]:
            return truth
        others = [name for name in classes if name != truth]
        weights = self._error_weights(truth, others)
        return others[int(rng.choice(len(others), p=weights))]

    def _error_weights(self, truth: str, others: list[str]) -> np.ndarray:
        """Where a wrong answer goes: neighbours in star order share `neighbour_bias`, the
        rest the remainder; uniform when the classes have no star order or no far class."""
        rank = {name: min(s for s, c in self._by_star.items() if c == name)
                for name in set(self._by_star.values())}
        if truth not in rank or any(name not in rank for name in others):
            return np.full(len(others), 1.0 / len(others))
        ordered = sorted([truth, *others], key=rank.get)
        at = ordered.index(truth)
        near = {ordered[j] for j in (at - 1, at + 1) if 0 <= j < len(ordered)}
        far = [name for name in others if name not in near]
        if not far:
            return np.full(len(others), 1.0 / len(others))
        bias = self.settings.neighbour_bias
        return np.asarray(
            [bias / len(near) if name in near else (1 - bias) / len(far) for name in others]
        )

    def _truth(self, position: int, item: dict, classes: list[str]) -> str:
        field = self.settings.field
        value = item.get(field)
        if isinstance(value, str) and value in classes:
            return value
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and value in self._by_star:
            class_name = self._by_star[int(value)]
            if class_name in classes:
                return class_name
            raise LabelingError(
                f"item {position}{_id(item)} of the simulated batch: field {field!r} is {value!r}, "
                f"which maps to {class_name!r}, not one of {', '.join(classes)}"
            )
        raise LabelingError(
            f"item {position}{_id(item)} of the simulated batch: field {field!r} is {value!r}, "
            f"expected a star rating {sorted(self._by_star)} or one of {', '.join(classes)}"
        )


def _item_key(item: dict) -> int:
    # The whole line, so distinct items get independent draws whatever keys they have.
    text = json.dumps(item, sort_keys=True, default=str)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _id(item: dict) -> str:
    return f" (review_id {item['review_id']!r})" if "review_id" in item else ""
