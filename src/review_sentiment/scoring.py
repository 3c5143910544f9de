"""How models are scored everywhere in the project, so that a comparison compares like with like."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.metrics import f1_score


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-averaged F1: every class counts the same, so a model that never predicts the rare
    neutral class cannot hide behind the common positive one. A class never predicted scores 0."""
    return float(f1_score(list(truth), list(predicted), average="macro", zero_division=0))
