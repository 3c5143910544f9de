"""The threshold rule of automated labeling: the lowest model confidence at which machine labels
are accurate enough on people's validation labels, judged by a lower confidence bound."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
from scipy.stats import beta, norm

Bound = Literal["wilson", "clopper_pearson"]


class Threshold(NamedTuple):
    """A confidence threshold and what it achieved on validation."""

    threshold: float
    accuracy: float
    items: int  # validation items with confidence >= threshold
    # The lower confidence bound on `accuracy` that cleared the target (None: not computed).
    lower_bound: float | None = None


def choose_threshold(
    confidences: Sequence[float],
    correct: Sequence[float],
    target_accuracy: float,
    min_items: int,
    *,
    z: float = 0.0,
    bound: Bound = "wilson",
) -> Threshold | None:
    """The LOWEST confidence threshold t such that the validation items with confidence >= t
    number at least `min_items` and are at least `target_accuracy` accurate; None if none is.

    `correct` is each item's chance that the machine's label is right: 0 or 1 against a label
    taken as the truth, or the consensus posterior of the predicted class when the truth is only
    known as a consolidation of several noisy answers; accuracy is their mean.

    With `z` > 0 the accuracy must clear the target by its lower confidence bound (`bound`:
    Wilson score or Clopper-Pearson, one-sided at Φ(z), e.g. z=1.645 for 95%) rather than by
    its point estimate. Candidates are the items' own confidences, so items with equal
    confidence are all in or all out. Lower thresholds label more items, so the lowest one that
    meets the target wins.
    """
    conf, hits = _sorted(confidences, correct)
    included = np.arange(1, conf.size + 1)
    right = np.cumsum(hits)
    # A cut is only possible after the last of a group of equal confidences.
    group_end = np.append(conf[1:] < conf[:-1], True) if conf.size else np.zeros(0, bool)
    lower = lower_bound(right, included, z, bound)
    if z > 0:
        meets = lower >= target_accuracy
    else:
        # Counts, not ratios, so 19 of 20 meets 0.95 despite floating point.
        meets = right >= target_accuracy * included - 1e-9
    ok = np.flatnonzero(group_end & meets & (included >= min_items))
    if ok.size == 0:
        return None
    last = ok[-1]
    return Threshold(
        float(conf[last]), float(right[last] / included[last]), int(included[last]),
        float(lower[last]),
    )


def best_accuracy(
    confidences: Sequence[float], correct: Sequence[float], min_items: int
) -> float | None:
    """The highest validation accuracy any threshold reaches on at least `min_items` items (the
    number that says how far the model is from the target); None with fewer items."""
    conf, hits = _sorted(confidences, correct)
    included = np.arange(1, conf.size + 1)
    group_end = np.append(conf[1:] < conf[:-1], True) if conf.size else np.zeros(0, bool)
    accuracy = np.cumsum(hits) / np.maximum(included, 1)
    ok = group_end & (included >= min_items)
    return float(accuracy[ok].max()) if ok.any() else None


def lower_bound(
    successes: np.ndarray, trials: np.ndarray, z: float, bound: Bound = "wilson"
) -> np.ndarray:
    """One-sided lower confidence bound at Φ(z) on a success rate; `successes` may be fractional
    (sums of posteriors). z=0 gives the point estimate."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    if z <= 0:
        return successes / trials
    if bound == "clopper_pearson":
        alpha = float(norm.sf(z))
        with np.errstate(invalid="ignore"):
            low = beta.ppf(alpha, successes, trials - successes + 1)
        return np.where(successes <= 0, 0.0, np.nan_to_num(low))
    if bound != "wilson":
        raise ValueError(f"bound must be wilson or clopper_pearson, got {bound!r}")
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * np.sqrt(np.maximum(p * (1 - p), 0.0) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials)


def _sorted(
    confidences: Sequence[float], correct: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidences, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if conf.shape != hits.shape:
        raise ValueError(f"{conf.size} confidences but {hits.size} correct flags")
    order = np.argsort(-conf, kind="stable")
    return conf[order], hits[order]
