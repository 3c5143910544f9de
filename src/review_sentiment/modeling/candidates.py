"""The space of candidates: named feature sets (built by `modeling.features`) paired with linear
classifiers at every point of their grids, the original workflow's two SGD models first.

A fitted candidate is exported with scikit-learn types only (`export_model`), so the registry
can store it with skops.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from review_sentiment.params import ClassifierParams, FeatureSetSpec, SearchParams
from review_sentiment.params.model_search import (
    ORIGINAL_CLASSIFIER,
    ORIGINAL_FEATURE_SETS,
)

CLASSIFIER_TYPES = {
    "sgd": SGDClassifier,
    "logistic_regression": LogisticRegression,
    "linear_svm": LinearSVC,
}
# Seed for classifiers that take one, unless the candidate's params give theirs.
DEFAULT_RANDOM_STATE = 42


@dataclass(frozen=True)
class Candidate:
    """One point of the search space: a feature set and a classifier with all its arguments."""

    name: str
    feature_set: str
    classifier: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    calibrated: bool = False
    # One of the original workflow's two models (always searched and reported).
    original: bool = False


def expand_candidates(
    search: SearchParams, original: ClassifierParams, feature_sets: dict[str, FeatureSetSpec]
) -> list[Candidate]:
    """Every (feature set, classifier, grid point) the search tries, the original two first.

    Raises:
        ValueError: a candidate names a feature set that is not defined.
    """
    pairs = {name: [ORIGINAL_CLASSIFIER] for name in ORIGINAL_FEATURE_SETS}
    for feature_set, classifiers in search.candidates.items():
        if feature_set not in feature_sets:
            raise ValueError(
                f"training.search.candidates.{feature_set}: no such feature set (defined: "
                f"{', '.join(feature_sets)}; add it under feature_engineering.feature_sets)"
            )
        pairs.setdefault(feature_set, [])
        pairs[feature_set] += [name for name in classifiers if name not in pairs[feature_set]]
    candidates = []
    for feature_set, classifiers in pairs.items():
        for classifier in classifiers:
            if classifier == ORIGINAL_CLASSIFIER:
                candidates.append(
                    Candidate(
                        name=f"{feature_set}+{classifier}",
                        feature_set=feature_set,
                        classifier=classifier,
                        kind="sgd",
                        params=original.model_dump(),
                        original=feature_set in ORIGINAL_FEATURE_SETS,
                    )
                )
                continue
            spec = search.classifiers[classifier]
            names, values = list(spec.grid), list(spec.grid.values())
            for point in itertools.product(*values):
                grid_point = dict(zip(names, point, strict=True))
                shown = ",".join(f"{key}={value}" for key, value in grid_point.items())
                candidates.append(
                    Candidate(
                        name=f"{feature_set}+{classifier}" + (f"({shown})" if shown else ""),
                        feature_set=feature_set,
                        classifier=classifier,
                        kind=spec.kind,
                        params={**spec.params, **grid_point},
                        calibrated=spec.calibrated,
                    )
                )
    return candidates


def build_classifier(candidate: Candidate, spec: FeatureSetSpec) -> Any:
    """The candidate's classifier, unfitted; one-vs-rest with a naive-Bayes weighting per class
    when the feature set is weighted `nb`.

    Raises:
        ValueError: an argument the scikit-learn class does not take, naming the candidate.
    """
    kind = CLASSIFIER_TYPES[candidate.kind]
    params = dict(candidate.params)
    if "random_state" in kind().get_params():
        params.setdefault("random_state", DEFAULT_RANDOM_STATE)
    try:
        classifier = kind(**params)
    except TypeError as error:
        raise ValueError(
            f"training.search.classifiers.{candidate.classifier} ({candidate.kind}): {error}"
        ) from None
    if candidate.calibrated:
        classifier = CalibratedClassifierCV(classifier, method="sigmoid", cv=3)
    if spec.weighting == "nb":
        return OneVsRestClassifier(
            Pipeline([("nb", NaiveBayesWeighting(alpha=spec.nb_alpha)), ("classifier", classifier)])
        )
    return classifier


class NaiveBayesWeighting(TransformerMixin, BaseEstimator):
    """Scales each feature by its naive-Bayes log-count ratio between the positive class (1) and
    the rest (Wang & Manning 2012, NBSVM): r = log((p / |p|₁) / (q / |q|₁)) with p, q the
    class-wise feature sums plus `alpha`. Used only while searching: `export_model` replaces it
    with a TfidfTransformer that multiplies by the same r."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X, y) -> NaiveBayesWeighting:  # noqa: N803 - scikit-learn's names
        y = np.asarray(y)
        X = sp.csr_matrix(X)
        positive = np.asarray(X[y == 1].sum(axis=0)).ravel() + self.alpha
        negative = np.asarray(X[y != 1].sum(axis=0)).ravel() + self.alpha
        self.ratio_ = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):  # noqa: N803
        return sp.csr_matrix(X) @ sp.diags(self.ratio_)

    def as_tfidf(self) -> TfidfTransformer:
        """The same scaling as a fitted TfidfTransformer (its idf_ is r; no normalising)."""
        transformer = TfidfTransformer(norm=None, use_idf=True, smooth_idf=False)
        transformer.idf_ = self.ratio_.copy()
        transformer.n_features_in_ = self.n_features_in_
        return transformer


def export_model(feature_steps: list[tuple[str, Any]], classifier: Any) -> list[tuple[str, Any]]:
    """The fitted steps of the text model, scikit-learn types only (for `as_text_model`)."""
    if isinstance(classifier, OneVsRestClassifier) and isinstance(classifier.estimator, Pipeline):
        classifier.estimators_ = [_without_custom_types(fitted) for fitted in classifier.estimators_]
        template = classifier.estimator
        classifier.estimator = Pipeline(
            [("nb", TfidfTransformer(norm=None, smooth_idf=False)),
             ("classifier", clone(template.named_steps["classifier"]))]
        )  # fmt: skip
    return [*feature_steps, ("classifier", classifier)]


def _without_custom_types(fitted: Pipeline) -> Pipeline:
    steps = [
        (name, step.as_tfidf() if isinstance(step, NaiveBayesWeighting) else step)
        for name, step in fitted.steps
    ]
    return Pipeline(steps)
