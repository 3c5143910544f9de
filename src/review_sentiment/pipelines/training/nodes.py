"""Fits an SGDClassifier per feature set, scores it, and registers the better model."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")  # nodes run headless; no display is needed to draw a figure

import matplotlib.pyplot as plt
import pandas as pd
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, precision_recall_fscore_support
from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.params import ClassifierParams, TrainingParams
from review_sentiment.registry import as_text_model, register_and_promote
from review_sentiment.scoring import macro_f1

logger = logging.getLogger(__name__)


def fit_classifier(
    train_features: csr_matrix, train_reviews: pd.DataFrame, params: ClassifierParams
) -> SGDClassifier:
    """A linear classifier fitted by stochastic gradient descent."""
    classifier = SGDClassifier(**params.model_dump())
    return classifier.fit(train_features, train_reviews["label"])


def evaluate_classifier(
    classifier: SGDClassifier, test_features: csr_matrix, test_reviews: pd.DataFrame
) -> tuple[dict[str, float], plt.Figure]:
    """Accuracy, macro-F1 and per-class precision/recall on the test set, and a confusion matrix."""
    truth = test_reviews["label"]
    predicted = classifier.predict(test_features)
    classes = list(classifier.classes_)
    precision, recall, _, _ = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    metrics = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": macro_f1(truth, predicted),
    }
    for class_name, p, r in zip(classes, precision, recall, strict=True):
        metrics[f"precision_{class_name}"] = float(p)
        metrics[f"recall_{class_name}"] = float(r)

    figure, axes = plt.subplots(figsize=(5, 4))
    ConfusionMatrixDisplay.from_predictions(truth, predicted, labels=classes, ax=axes, colorbar=False)
    axes.set_title(f"macro-F1 {metrics['macro_f1']:.3f}")
    figure.tight_layout()
    plt.close(figure)  # the catalog saves it; keeping it open would leak one figure per run
    return metrics, figure


def build_bigram_model(vectorizer: CountVectorizer, classifier: SGDClassifier) -> SklearnPipeline:
    """Text → label: bigram counts then the classifier."""
    return as_text_model(("vectorizer", vectorizer), ("classifier", classifier))


def build_tfidf_model(
    vectorizer: CountVectorizer, transformer: TfidfTransformer, classifier: SGDClassifier
) -> SklearnPipeline:
    """Text → label: bigram counts, TF-IDF weights, then the classifier."""
    return as_text_model(("vectorizer", vectorizer), ("tfidf", transformer), ("classifier", classifier))


def select_better_model(
    bigram_model: SklearnPipeline,
    bigram_metrics: dict[str, float],
    tfidf_model: SklearnPipeline,
    tfidf_metrics: dict[str, float],
) -> tuple[SklearnPipeline, dict]:
    """The model with the higher test macro-F1 (bigram counts on a tie: the simpler one)."""
    scores = {"bigram": bigram_metrics["macro_f1"], "tfidf": tfidf_metrics["macro_f1"]}
    chosen = "tfidf" if scores["tfidf"] > scores["bigram"] else "bigram"
    logger.info("Chose the %s model: macro-F1 %s", chosen, scores)
    return (tfidf_model if chosen == "tfidf" else bigram_model), {
        "feature_set": chosen,
        "macro_f1": scores,
    }


def register_best_model(
    best_model: SklearnPipeline,
    selection: dict,
    test_reviews: pd.DataFrame,
    params: TrainingParams,
) -> dict:
    """Logs and registers the chosen model; it becomes champion only if it beats the current one
    on this test set. The side effect is the point of the step: it lives in `registry`."""
    registration = register_and_promote(
        best_model,
        model_name=params.registered_model_name,
        test_texts=test_reviews["text"].tolist(),
        test_labels=test_reviews["label"].tolist(),
        alias=params.champion_alias,
        example_texts=test_reviews["text"].head(params.input_example_size).tolist(),
        allow_empty_texts=params.allow_empty_texts,
    )
    return {**registration.__dict__, "feature_set": selection["feature_set"]}
