"""The model of automated labeling: text → calibrated class probabilities."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.params import AutomatedLabelingParams


def build_labeling_model(params: AutomatedLabelingParams) -> SklearnPipeline:
    """Text → calibrated class probabilities: word uni- and bigrams and a linear model.

    Calibration matters: the threshold rule compares probabilities across iterations, and an
    SGD hinge model has no probabilities at all without it.
    """
    if params.features == "tfidf":
        # Sublinear TF-IDF ranks better than raw counts (see AutomatedLabelingParams.features);
        # C=10 because TF-IDF rows are unit length, so the default C=1 regularises too hard.
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        strength = 10.0
    else:
        vectorizer = CountVectorizer(ngram_range=(1, 2))
        strength = 1.0
    if params.classifier == "sgd":
        base = SGDClassifier(random_state=params.seed)
    else:
        # newton-cg converges on sparse n-grams in a fraction of lbfgs's time.
        base = LogisticRegression(solver="newton-cg", max_iter=1000, C=strength)
    return SklearnPipeline(
        [
            ("vectorizer", vectorizer),
            (
                "classifier",
                CalibratedClassifierCV(base, method=params.calibration, cv=params.calibration_cv),
            ),
        ]
    )


def predict_confident(model: SklearnPipeline, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's most probable class and its probability (the label's confidence)."""
    probabilities = model.predict_proba(list(texts))
    best = probabilities.argmax(axis=1)
    return probabilities[np.arange(best.size), best], np.asarray(model.classes_, dtype=object)[best]
