"""Cross-validates every candidate on folds of the training split and chooses one by a stated
rule: the cheapest of the candidates within noise of the best. Nothing here sees a test set."""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from review_sentiment.model_search.space import (
    Candidate,
    build_classifier,
    build_features,
    export_model,
)
from review_sentiment.params import FeatureSetSpec


@dataclass(frozen=True)
class CandidateResult:
    """A candidate's cross-validated scores and costs."""

    candidate: Candidate
    macro_f1: list[float]  # one per fold
    accuracy: list[float]
    fit_seconds: float  # mean per fold: its feature set's fit plus the classifier's
    model_size_bytes: int  # the fitted text model, pickled (fold 1)

    @property
    def macro_f1_mean(self) -> float:
        return float(np.mean(self.macro_f1))

    @property
    def macro_f1_std(self) -> float:
        return float(np.std(self.macro_f1, ddof=1)) if len(self.macro_f1) > 1 else 0.0

    @property
    def accuracy_mean(self) -> float:
        return float(np.mean(self.accuracy))

    @property
    def accuracy_std(self) -> float:
        return float(np.std(self.accuracy, ddof=1)) if len(self.accuracy) > 1 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self.candidate),
            "cv_macro_f1": self.macro_f1,
            "cv_accuracy": self.accuracy,
            "macro_f1_mean": self.macro_f1_mean,
            "macro_f1_std": self.macro_f1_std,
            "accuracy_mean": self.accuracy_mean,
            "accuracy_std": self.accuracy_std,
            "fit_seconds": self.fit_seconds,
            "model_size_bytes": self.model_size_bytes,
        }


def cv_rows(labels: Sequence[str], max_rows: int | None, seed: int) -> np.ndarray:
    """Positions of the rows cross-validation runs on, in order: all of them, or a stratified
    sample of `max_rows` drawn with `seed` (`training.search.max_rows`)."""
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(labels))
    if max_rows is None or len(labels) <= max_rows:
        return positions
    sample, _ = train_test_split(
        positions, train_size=max_rows, stratify=np.asarray(labels), random_state=seed
    )
    return np.sort(sample)


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    candidates: list[Candidate],
    feature_sets: dict[str, FeatureSetSpec],
    *,
    folds: int,
    seed: int,
    n_jobs: int = 1,
) -> list[CandidateResult]:
    """Stratified `folds`-fold CV (shuffled with `seed`) of every candidate on these texts.

    Each fold fits each feature set once, on that fold's training part only, and every
    candidate on that feature set reuses it; folds run in `n_jobs` processes.

    Raises:
        ValueError: a class with fewer reviews than folds.
    """
    from joblib import Parallel, delayed

    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels, dtype=object)
    counts = dict(zip(*np.unique(labels, return_counts=True), strict=True))
    too_few = {label: int(n) for label, n in counts.items() if n < folds}
    if too_few:
        raise ValueError(
            f"training.search.folds is {folds}, but class(es) {', '.join(map(str, too_few))} have "
            f"fewer training reviews ({too_few}): label more or use fewer folds"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    per_fold = Parallel(n_jobs=n_jobs)(
        delayed(_run_fold)(number, texts, labels, train, held_out, candidates, feature_sets)
        for number, (train, held_out) in enumerate(splitter.split(texts, labels))
    )
    results = []
    for candidate in candidates:
        runs = [fold[candidate.name] for fold in per_fold]
        results.append(
            CandidateResult(
                candidate=candidate,
                macro_f1=[run["macro_f1"] for run in runs],
                accuracy=[run["accuracy"] for run in runs],
                fit_seconds=float(np.mean([run["fit_seconds"] for run in runs])),
                model_size_bytes=int(runs[0]["model_size_bytes"]),
            )
        )
    return results


def _run_fold(
    number: int,
    texts: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    held_out: np.ndarray,
    candidates: list[Candidate],
    feature_sets: dict[str, FeatureSetSpec],
) -> dict[str, dict[str, float]]:
    scores: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(candidate.feature_set for candidate in candidates):
        started = time.perf_counter()
        features = build_features(feature_sets[name])
        x_train = features.fit_transform(texts[train])
        feature_seconds = time.perf_counter() - started
        x_held_out = features.transform(texts[held_out])
        for candidate in (c for c in candidates if c.feature_set == name):
            classifier = build_classifier(candidate, feature_sets[name])
            started = time.perf_counter()
            classifier.fit(x_train, labels[train])
            fit_seconds = time.perf_counter() - started
            predicted = classifier.predict(x_held_out)
            size = 0
            if number == 0:  # the size of the model a user would get, custom types exported
                size = len(pickle.dumps(export_model(features, classifier)))
            scores[candidate.name] = {
                "macro_f1": float(f1_score(labels[held_out], predicted, average="macro", zero_division=0)),
                "accuracy": float(accuracy_score(labels[held_out], predicted)),
                "fit_seconds": feature_seconds + fit_seconds,
                "model_size_bytes": size,
            }
    return scores


@dataclass(frozen=True)
class Choice:
    """Which candidate won and why, in numbers and in one sentence."""

    chosen: str
    best: str
    best_mean: float
    best_standard_error: float
    threshold: float
    within_noise: list[str]
    rule: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


RULE = (
    "the candidate with the best mean CV macro-F1 on the training split, unless others are "
    "within {noise:g} standard error(s) of it (std over folds / sqrt(folds)): then the smallest "
    "model of those (then the faster fit, then the name). The test split is not used to choose."
)


def choose(results: list[CandidateResult], noise_standard_errors: float) -> Choice:
    """The winner by the one-standard-error rule with model size as the cost.

    Raises:
        ValueError: no results.
    """
    if not results:
        raise ValueError("the model search has no candidates to choose from")
    best = max(results, key=lambda r: (r.macro_f1_mean, -r.model_size_bytes))
    folds = len(best.macro_f1)
    standard_error = best.macro_f1_std / math.sqrt(folds)
    threshold = best.macro_f1_mean - noise_standard_errors * standard_error
    within = [r for r in results if r.macro_f1_mean >= threshold - 1e-12]
    chosen = min(within, key=lambda r: (r.model_size_bytes, r.fit_seconds, r.candidate.name))
    if chosen is best:
        reason = (
            f"{best.candidate.name}: best CV macro-F1 {best.macro_f1_mean:.4f} "
            f"(± {standard_error:.4f} s.e.), and the smallest of the {len(within)} within noise"
        )
    else:
        reason = (
            f"{chosen.candidate.name}: CV macro-F1 {chosen.macro_f1_mean:.4f}, within "
            f"{noise_standard_errors:g} s.e. of the best ({best.candidate.name} "
            f"{best.macro_f1_mean:.4f} ± {standard_error:.4f}), and smaller "
            f"({chosen.model_size_bytes:,} vs {best.model_size_bytes:,} bytes)"
        )
    return Choice(
        chosen=chosen.candidate.name,
        best=best.candidate.name,
        best_mean=best.macro_f1_mean,
        best_standard_error=standard_error,
        threshold=threshold,
        within_noise=[r.candidate.name for r in within],
        rule=RULE.format(noise=noise_standard_errors),
        reason=reason,
    )


def fit_candidate(
    candidate: Candidate, spec: FeatureSetSpec, texts: Sequence[str], labels: Sequence[str]
) -> list[tuple[str, Any]]:
    """The candidate fitted on all these texts, as text-model steps of scikit-learn types."""
    features = build_features(spec)
    x = features.fit_transform(list(texts))
    classifier = build_classifier(candidate, spec).fit(x, np.asarray(labels, dtype=object))
    return export_model(features, classifier)
