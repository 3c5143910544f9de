"""A fitted model scored on one split: accuracy, macro-F1, chance, per-class precision and recall,
a confusion matrix, and warnings when it has learned next to nothing or never predicts a class."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from review_sentiment.scoring import chance_macro_f1, macro_f1, weaknesses

logger = logging.getLogger(__name__)

# What each original feature set's model is called in logs and plot titles.
MODEL_NAMES = {"bigram": "bigram counts", "tfidf": "bigram TF-IDF"}


def evaluate_classifier(
    classifier: Any,
    features: Any,
    reviews: pd.DataFrame,
    *,
    model: str,
    split: str,
) -> tuple[dict[str, float], Any]:
    """Accuracy, macro-F1, per-class precision/recall and the chance macro-F1 of `model` on one
    split (`"training"`, `"test"`, …), and a confusion matrix (a matplotlib Figure) titled with
    the model and the split. `features` is what the classifier takes: a feature matrix, or texts
    for a whole text model.

    Warns when the model is near chance or never predicts one of its classes on this split.
    """
    truth = reviews["label"]
    predicted = classifier.predict(features)
    classes = [str(name) for name in classifier.classes_]
    precision, recall, _, _ = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    metrics = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": macro_f1(truth, predicted),
        "chance_macro_f1": chance_macro_f1(truth),
    }
    for class_name, p, r in zip(classes, precision, recall, strict=True):
        metrics[f"precision_{class_name}"] = float(p)
        metrics[f"recall_{class_name}"] = float(r)
    for problem in weaknesses(metrics["macro_f1"], metrics["chance_macro_f1"], classes, predicted):
        logger.warning("%s %s on the %s set", model, problem, split)
    title = f"{model}, {split} set: macro-F1 {metrics['macro_f1']:.3f}"
    return metrics, confusion_matrix_figure(truth, predicted, classes, title)


def confusion_matrix_figure(truth: pd.Series, predicted, classes: list[str], title: str) -> Any:
    # Imported here: with the pipelines, matplotlib would cost every `kedro` command ~0.5 s.
    import matplotlib

    matplotlib.use("Agg")  # nodes run headless; no display is needed to draw a figure
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axes = plt.subplots(figsize=(5, 4))
    ConfusionMatrixDisplay.from_predictions(
        truth, predicted, labels=classes, ax=axes, colorbar=False
    )
    axes.set_title(title)
    figure.tight_layout()
    plt.close(figure)  # the catalog saves it; keeping it open would leak one figure per run
    return figure
