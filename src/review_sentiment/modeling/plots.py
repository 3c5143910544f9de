"""Figures of the search: every candidate's CV macro-F1 side by side, and a precision-recall curve
per class of the chosen model. matplotlib is imported when a figure is drawn (it costs ~0.5 s)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # nodes run headless
    import matplotlib.pyplot as plt

    return plt


def comparison_figure(search: dict[str, Any]) -> Any:
    """Horizontal bars: each candidate's mean CV macro-F1 with its spread over folds (one
    standard deviation), best first; the original workflow's two in grey, the chosen one in
    green, the others within noise of the best hatched."""
    plt = _pyplot()
    results = sorted(search["candidates"], key=lambda r: r["macro_f1_mean"])
    choice = search["choice"]
    names = [r["name"] + ("  (original)" if r["original"] else "") for r in results]
    colours = [
        "tab:green" if r["name"] == choice["chosen"] else "grey" if r["original"] else "tab:blue"
        for r in results
    ]
    figure, axes = plt.subplots(figsize=(9, 0.32 * len(results) + 1.6))
    bars = axes.barh(
        names,
        [r["macro_f1_mean"] for r in results],
        xerr=[r["macro_f1_std"] for r in results],
        color=colours,
        capsize=2,
    )
    for bar, result in zip(bars, results, strict=True):
        if result["name"] in choice["within_noise"]:
            bar.set_hatch("//")
    bars[0].set_label("hatched: within noise of the best")
    low = min(r["macro_f1_mean"] - r["macro_f1_std"] for r in results)
    axes.set_xlim(max(0.0, low - 0.02), min(1.0, max(r["macro_f1_mean"] + r["macro_f1_std"] for r in results) + 0.02))
    splits = len(results[0]["cv_macro_f1"])
    axes.set_xlabel(f"macro-F1, {splits} CV folds on the training split (mean ± std)")
    axes.set_title(f"Model search: {choice['chosen']} chosen", fontsize=10)
    axes.tick_params(axis="y", labelsize=7)
    axes.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    plt.close(figure)  # the catalog saves it
    return figure


def class_scores(model: Any, inputs: Any) -> tuple[np.ndarray, list[str]]:
    """A score per input and class (probabilities when the model has them, else decision
    values), columns in the order of the model's classes. `inputs` is what the model takes:
    texts for a text model, a feature matrix for its classifier."""
    classes = [str(name) for name in model.classes_]
    if hasattr(model, "predict_proba"):
        try:
            return np.asarray(model.predict_proba(inputs)), classes
        except AttributeError:  # a Pipeline answers hasattr yes, its last step may not
            pass
    scores = np.asarray(model.decision_function(inputs))
    if scores.ndim == 1:  # two classes: the score of the second
        scores = np.column_stack([-scores, scores])
    return scores, classes


def precision_recall_figure(
    truth: Sequence[str], scores: np.ndarray, classes: list[str], title: str
) -> tuple[Any, dict[str, float]]:
    """One precision-recall curve per class (that class against the rest) and each class's
    average precision."""
    from sklearn.metrics import PrecisionRecallDisplay, average_precision_score

    plt = _pyplot()
    truth = np.asarray(list(truth))
    figure, axes = plt.subplots(figsize=(5.5, 4.5))
    average_precision = {}
    for column, name in enumerate(classes):
        is_class = truth == name
        if not is_class.any():
            continue
        average_precision[name] = float(average_precision_score(is_class, scores[:, column]))
        # scikit-learn adds "(AP = …)" to the name
        PrecisionRecallDisplay.from_predictions(is_class, scores[:, column], name=name, ax=axes)
    axes.set_xlabel(f"recall (each class against the rest, {len(truth):,} reviews)")
    axes.set_ylabel("precision")
    axes.set_title(title, fontsize=10)
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure, average_precision
