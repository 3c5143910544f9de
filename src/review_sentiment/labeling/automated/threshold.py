"""The threshold rule of automated labeling: the lowest model confidence at which machine labels
are accurate enough on people's validation labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Threshold(NamedTuple):
    """A confidence threshold and what it achieved on validation."""

    threshold: float
    accuracy: float
    items: int  # validation items with confidence >= threshold


def choose_threshold(
    confidences: Sequence[float],
    correct: Sequence[bool],
    target_accuracy: float,
    min_items: int,
    *,
    z: float = 0.0,
) -> Threshold | None:
    """The LOWEST confidence threshold t such that the validation items with confidence >= t
    number at least `min_items` and are at least `target_accuracy` accurate; None if none is.

    With `z` > 0 the accuracy must clear the target by its Wilson lower bound at z standard
    errors rather than by its point estimate. Candidates are the items' own confidences, so
    items with equal confidence are all in or all out. Lower thresholds label more items, so the
    lowest one that meets the target wins.
    """
    conf = np.asarray(confidences, dtype=float)
    hits = np.asarray(correct, dtype=bool)
    if conf.shape != hits.shape:
        raise ValueError(f"{conf.size} confidences but {hits.size} correct flags")
    order = np.argsort(-conf, kind="stable")
    conf, hits = conf[order], hits[order]
    included = np.arange(1, conf.size + 1)
    right = np.cumsum(hits)
    # A cut is only possible after the last of a group of equal confidences.
    group_end = np.append(conf[1:] < conf[:-1], True)
    if z > 0:
        meets = _wilson_lower(right, included, z) >= target_accuracy
    else:
        # Counts, not ratios, so 19 of 20 meets 0.95 despite floating point.
        meets = right >= target_accuracy * included - 1e-9
    ok = np.flatnonzero(group_end & meets & (included >= min_items))
    if ok.size == 0:
        return None
    last = ok[-1]
    return Threshold(float(conf[last]), float(right[last] / included[last]), int(included[last]))


def _wilson_lower(successes: np.ndarray, trials: np.ndarray, z: float) -> np.ndarray:
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials)


