"""How models are scored everywhere in the project, so that a comparison compares like with like."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sklearn.metrics import f1_score

# A model scoring less than this above chance (macro-F1) is reported as near chance.
NEAR_CHANCE_MARGIN = 0.05


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-averaged F1: every class counts the same, so a model that never predicts the rare
    neutral class cannot hide behind the common positive one. A class never predicted scores 0."""
    return float(f1_score(list(truth), list(predicted), average="macro", zero_division=0))


def chance_macro_f1(truth: Sequence[str]) -> float:
    """The macro-F1 of the better of two models that learned nothing, on these labels: one that
    always answers the most frequent class (that class's F1, the others 0), and one that answers
    a class uniformly at random (expected F1 of a class with share p among k: 2p / (kp + 1))."""
    shares = pd.Series(list(truth)).value_counts(normalize=True)
    k = len(shares)
    if k == 0:
        return 0.0
    majority = 2 * shares.max() / (shares.max() + 1) / k
    uniform = float(sum(2 * p / (k * p + 1) for p in shares)) / k
    return float(max(majority, uniform))


def weaknesses(
    score: float, chance: float, classes: Sequence[str], predicted: Sequence[str]
) -> list[str]:
    """What is wrong with a model's answers, one phrase each: near chance (macro-F1 `score`
    less than `NEAR_CHANCE_MARGIN` above `chance`), and classes it never answered."""
    problems = []
    if score < chance + NEAR_CHANCE_MARGIN:
        problems.append(
            f"is near chance: macro-F1 {score:.3f}, chance {chance:.3f} (the better of always "
            f"the majority class and a uniform guess; warned below chance + {NEAR_CHANCE_MARGIN:.2f})"
        )
    answered = set(predicted)
    never = [name for name in classes if name not in answered]
    if never:
        problems.append(
            f"never predicts {', '.join(repr(name) for name in never)} ({len(predicted)} reviews)"
        )
    return problems
