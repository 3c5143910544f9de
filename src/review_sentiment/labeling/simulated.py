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
    """A pretend person: the true class from `field`, replaced with probability `error_rate` by
    one of the other classes drawn uniformly.

    Each answer depends only on the seed and the item's content, not on batch order, so the same
    item always gets the same answer (like asking the same person twice) and a run is
    reproducible however the items are batched. Confidence is `1 - error_rate`, the accuracy the
    simulated person is known to have.
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

    def job_name(self, job_name: str) -> str:
        """`job_name` marked as simulated, for `labeled_line(..., job_name=...)`."""
        return simulated_job_name(job_name)

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]:
        """One label per item; every answer is simulated, never a person's."""
        classes = list(classes)
        settings = self.settings
        truths = [self._truth(position, item, classes) for position, item in enumerate(items, 1)]
        labels = []
        for item, truth in zip(items, truths, strict=True):
            rng = np.random.default_rng([settings.seed, _item_key(item)])
            answer = truth
            if rng.random() < settings.error_rate:
                others = [name for name in classes if name != truth]
                answer = others[int(rng.integers(len(others)))]
            labels.append(Label(answer, 1.0 - settings.error_rate, human_annotated=True))
        wrong = sum(label.class_name != truth for label, truth in zip(labels, truths, strict=True))
        logger.warning(
            "SIMULATED labels, no person involved: %d items labeled from field %r "
            "(error rate %.3f, seed %d; %d answers deliberately wrong)",
            len(items),
            settings.field,
            settings.error_rate,
            settings.seed,
            wrong,
        )
        return labels

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
