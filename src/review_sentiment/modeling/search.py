"""Cross-validates every candidate on folds of the training split and chooses one by a stated
rule: the cheapest of the candidates within noise of the best. Nothing here sees a test set.

The rule was chosen on review sets built from the project's training data, never on the
holdout sets (bench/search_rules.py, bench/results/search_rules.json)."""

from __future__ import annotations

import math
import os
import pickle
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import RepeatedStratifiedKFold

from review_sentiment.lifetime import die_with_parent
from review_sentiment.modeling.candidates import (
    Candidate,
    build_classifier,
    export_model,
)
from review_sentiment.modeling.features import (
    fit_counts,
    fit_features,
    transform,
    vectorizer_key,
)
from review_sentiment.params import FeatureSetSpec


@dataclass(frozen=True)
class CandidateResult:
    """A candidate's cross-validated scores and costs."""

    candidate: Candidate
    macro_f1: list[float]  # one per fold (folds × repeats, in the same order for every candidate)
    accuracy: list[float]
    fit_seconds: float  # mean per fold: its feature set's fit plus the classifier's
    model_size_bytes: int  # the fitted text model, pickled (first fold)
    coefficients: int  # numbers the fitted classifier learned, weights and intercepts (first fold)

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
            "coefficients": self.coefficients,
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
    repeats: int = 1,
) -> list[CandidateResult]:
    """Stratified `folds`-fold CV of every candidate on these texts, `repeats` times, each
    time shuffled anew (scikit-learn's RepeatedStratifiedKFold with `seed`).

    Each fold fits each feature set once, on that fold's training part only, and every
    candidate on that feature set reuses it; folds run in `n_jobs` processes.

    Raises:
        ValueError: a class with fewer reviews than folds.
    """
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels, dtype=object)
    counts = dict(zip(*np.unique(labels, return_counts=True), strict=True))
    too_few = {label: int(n) for label, n in counts.items() if n < folds}
    if too_few:
        raise ValueError(
            f"training.search.folds is {folds}, but class(es) {', '.join(map(str, too_few))} have "
            f"fewer training reviews ({too_few}): label more or use fewer folds"
        )
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    jobs = [
        (number, texts, labels, train, held_out, candidates, feature_sets)
        for number, (train, held_out) in enumerate(splitter.split(texts, labels))
    ]
    if n_jobs == 1:
        per_fold = [score_fold(*job) for job in jobs]
    else:
        # Workers die with this process (a killed run leaves none computing), and are gone when
        # the folds are: joblib's reusable workers outlive both.
        with ProcessPoolExecutor(
            max_workers=n_jobs, mp_context=get_context("spawn"),
            initializer=die_with_parent, initargs=(os.getpid(),),
        ) as pool:  # fmt: skip
            per_fold = list(pool.map(score_fold, *zip(*jobs, strict=True)))
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
                coefficients=int(runs[0]["coefficients"]),
            )
        )
    return results


def score_fold(
    number: int,
    texts: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    held_out: np.ndarray,
    candidates: list[Candidate],
    feature_sets: dict[str, FeatureSetSpec],
) -> dict[str, dict[str, float]]:
    """Every candidate fitted on `train` and scored on `held_out`: macro-F1, accuracy, fit
    seconds, and for fold `number` 0 the model's pickled size and coefficients (else 0).
    Each feature set is fitted once, on `train` only, and shared by its candidates."""
    scores: dict[str, dict[str, float]] = {}
    # Feature sets with the same counts (the original bigram and tfidf) share them; each is
    # charged the counting time it would cost alone.
    counts: dict[tuple, tuple] = {}
    counting_seconds: dict[tuple, float] = {}
    training_texts = texts[train].tolist()
    for name in dict.fromkeys(candidate.feature_set for candidate in candidates):
        spec = feature_sets[name]
        key = vectorizer_key(spec)
        started = time.perf_counter()
        if key not in counts:
            counts[key] = fit_counts(spec, training_texts)
            counting_seconds[key] = time.perf_counter() - started
            started = time.perf_counter()
        steps, x_train = fit_features(spec, training_texts, counts[key])
        feature_seconds = counting_seconds[key] + time.perf_counter() - started
        x_held_out = transform(steps, texts[held_out])
        for candidate in (c for c in candidates if c.feature_set == name):
            classifier = build_classifier(candidate, spec)
            started = time.perf_counter()
            classifier.fit(x_train, labels[train])
            fit_seconds = time.perf_counter() - started
            predicted = classifier.predict(x_held_out)
            size = coefficients = 0
            if number == 0:  # the size of the model a user would get, custom types exported
                coefficients = count_coefficients(classifier)
                size = len(pickle.dumps(export_model(steps, classifier)))
            scores[candidate.name] = {
                "macro_f1": float(f1_score(labels[held_out], predicted, average="macro", zero_division=0)),
                "accuracy": float(accuracy_score(labels[held_out], predicted)),
                "fit_seconds": feature_seconds + fit_seconds,
                "model_size_bytes": size,
                "coefficients": coefficients,
            }
    return scores


def count_coefficients(fitted: Any) -> int:
    """How many numbers a fitted linear model learned: its weights and intercepts, and for
    one-vs-rest, calibrated or pipelined models those of every fitted part (a naive-Bayes
    weighting's ratios included). The search's measure of a model's cost."""
    if hasattr(fitted, "coef_"):
        return int(np.size(fitted.coef_) + np.size(getattr(fitted, "intercept_", 0)))
    if hasattr(fitted, "ratio_"):
        return int(np.size(fitted.ratio_))
    if hasattr(fitted, "calibrated_classifiers_"):
        return sum(count_coefficients(part.estimator) for part in fitted.calibrated_classifiers_)
    if hasattr(fitted, "estimators_"):
        return sum(count_coefficients(part) for part in fitted.estimators_)
    if hasattr(fitted, "steps"):
        return sum(count_coefficients(step) for _, step in fitted.steps)
    return 0


@dataclass(frozen=True)
class Choice:
    """Which candidate won and why, in numbers and in one sentence."""

    chosen: str
    best: str
    best_mean: float
    best_standard_error: float
    within_noise: list[str]
    rule: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


RULE = (
    "the candidate with the best mean CV macro-F1 on the training split ({splits}), unless "
    "others are within noise of it: their shortfall against the best, fold by fold on the same "
    "folds, averages at most {noise:g} standard error(s) of that shortfall. Then the one with "
    "the fewest coefficients of those (then the higher mean, then the name). The test split is "
    "not used to choose."
)


def choose(results: list[CandidateResult], noise_standard_errors: float) -> Choice:
    """The winner by a paired one-standard-error rule with the number of coefficients as the
    cost. Everything it compares is deterministic for given folds: no timing decides.

    Raises:
        ValueError: no results.
    """
    if not results:
        raise ValueError("the model search has no candidates to choose from")
    best = min(results, key=lambda r: (-r.macro_f1_mean, r.coefficients, r.candidate.name))
    splits = len(best.macro_f1)
    shortfalls = {r.candidate.name: _shortfall(best, r, noise_standard_errors) for r in results}
    within = [r for r in results if shortfalls[r.candidate.name] <= 1e-12]
    chosen = min(within, key=lambda r: (r.coefficients, -r.macro_f1_mean, r.candidate.name))
    standard_error = best.macro_f1_std / math.sqrt(splits)
    if chosen is best:
        reason = (
            f"{best.candidate.name}: best CV macro-F1 {best.macro_f1_mean:.4f} "
            f"(± {standard_error:.4f} s.e.), and the fewest coefficients of the {len(within)} "
            "within noise"
        )
    else:
        reason = (
            f"{chosen.candidate.name}: CV macro-F1 {chosen.macro_f1_mean:.4f}, within noise of "
            f"the best ({best.candidate.name} {best.macro_f1_mean:.4f}: "
            f"{best.macro_f1_mean - chosen.macro_f1_mean:.4f} lower on average, within "
            f"{noise_standard_errors:g} s.e. of that difference), and fewer coefficients "
            f"({chosen.coefficients:,} vs {best.coefficients:,})"
        )
    return Choice(
        chosen=chosen.candidate.name,
        best=best.candidate.name,
        best_mean=best.macro_f1_mean,
        best_standard_error=standard_error,
        within_noise=[r.candidate.name for r in within],
        rule=RULE.format(noise=noise_standard_errors, splits=f"{splits} folds"),
        reason=reason,
    )


def _shortfall(best: CandidateResult, other: CandidateResult, noise: float) -> float:
    """How far `other`'s mean shortfall against `best` exceeds `noise` standard errors of the
    paired differences (≤ 0: within noise)."""
    differences = np.asarray(best.macro_f1) - np.asarray(other.macro_f1)
    if len(differences) < 2:
        return float(differences.mean())
    standard_error = differences.std(ddof=1) / math.sqrt(len(differences))
    return float(differences.mean() - noise * standard_error)


def fit_candidate(
    candidate: Candidate, spec: FeatureSetSpec, texts: Sequence[str], labels: Sequence[str]
) -> list[tuple[str, Any]]:
    """The candidate fitted on all these texts, as text-model steps of scikit-learn types."""
    steps, x = fit_features(spec, list(texts))
    classifier = build_classifier(candidate, spec).fit(x, np.asarray(labels, dtype=object))
    return export_model(steps, classifier)
