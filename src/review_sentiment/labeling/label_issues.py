"""Finds labels in a labeled set that are likely wrong (cleanlab's confident learning on out-of-sample
probabilities from hashed uni- and bigram TF-IDF and a few epochs of logistic regression), worst
first, as a queue for people to review. Linear in the number of labels, with a footprint bounded by
`max_train_rows` and `n_features`, not by the vocabulary.
"""

from __future__ import annotations

import logging
import math
import time
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from review_sentiment.ground_truth.categories import check_classes
from review_sentiment.progress import Step, format_seconds, step

logger = logging.getLogger(__name__)

ISSUE_COLUMNS = ("position", "text", "given_label", "suggested_label", "label_quality")

# Texts hashed at a time: bounds the transient memory of hashing (about 3x the chunk's matrix)
# and sets how often the progress line moves.
CHUNK_ROWS = 50_000
# Every class keeps at least this many of its examples in the training sample (all of them when it
# has fewer), so that every fold's model sees every class however small the sample.
MIN_SAMPLED_PER_CLASS = 100
# As the vocabulary model's min_df: a term must be in this many of the sample's texts to count.
MIN_DF = 2
# Fewer training labels than this make the probabilities too rough to rank errors by.
MIN_TRAIN_ROWS = 1_000
# A fold's model sees at least this many examples (passes over a small set are cheap).
MIN_FIT_VISITS = 100_000
# Bounds of the hashing space: below 2**10 nearly every bigram collides; above 2**24 the models'
# coefficients alone (classes x n_features x folds) pass a gigabyte.
MIN_FEATURES, MAX_FEATURES = 2**10, 2**24


def find_label_issues(
    texts: list[str],
    labels: list[str],
    classes: list[str],
    *,
    cv_folds: int = 3,
    seed: int = 42,
    max_train_rows: int | None = 200_000,
    n_features: int = 2**20,
    epochs: int = 5,
) -> pd.DataFrame:
    """The examples whose given label is likely wrong, worst first.

    Every example is scored by a model that never saw it: each example falls in one of `cv_folds`
    stratified folds and is scored by the model fitted on the other folds' examples, at most
    `max_train_rows` of them (a stratified random sample; None: all). The texts are hashed once
    into `n_features` uni- and bigram columns with sublinear TF-IDF (IDF from the sample); each
    fold's model is multinomial logistic regression fitted with `epochs` passes of SAGA. cleanlab's
    confident learning (`filter_by="prune_by_noise_rate"`) picks the issues; label_quality is
    cleanlab's self-confidence, the out-of-sample probability of the given label (0 = surely
    wrong), and suggested_label the most probable class.

    Returns:
        One row per likely error, lowest label_quality first: position (index into `texts`),
        text, given_label, suggested_label, label_quality. Empty when none is found.

    Raises:
        ValueError: texts and labels of different lengths, fewer than two distinct classes,
            cv_folds below 2, a label not in `classes`, a class with fewer than `cv_folds`
            examples (each fold must see every class), or max_train_rows, n_features or epochs
            out of range.
    """
    _check_inputs(texts, labels, classes, cv_folds)
    _check_settings(max_train_rows, n_features, epochs)
    class_ids = {name: index for index, name in enumerate(classes)}
    label_ids = np.array([class_ids[label] for label in labels], dtype=np.int64)
    with step(f"label-issue search on {len(texts):,} labels", logger=logger) as searching:
        pred_probs = _out_of_sample_probabilities(
            texts, label_ids, len(classes), cv_folds, seed, max_train_rows, n_features, epochs,
            searching,
        )
        searching.update("ranking the issues")
        issues = cleanlab_find_label_issues(
            label_ids, pred_probs, return_indices_ranked_by="self_confidence", n_jobs=1
        )
        quality = get_label_quality_scores(label_ids, pred_probs, method="self_confidence")
    suggested = pred_probs[issues].argmax(axis=1)
    frame = pd.DataFrame(
        {
            "position": issues.astype(int),
            "text": [texts[i] for i in issues],
            "given_label": [labels[i] for i in issues],
            "suggested_label": [classes[j] for j in suggested],
            "label_quality": quality[issues].astype(float),
        },
        columns=list(ISSUE_COLUMNS),
    )
    # cleanlab already ranks by self-confidence; a stable sort makes the order explicit.
    return frame.sort_values("label_quality", kind="stable").reset_index(drop=True)


class _Progress:
    """Counts and a time-left estimate for the progress line: hashing rate per text measured as
    it goes, a fold's fitting time once the first fold is done."""

    def __init__(self, progress: Step, to_hash: int, folds: int) -> None:
        self.progress, self.to_hash, self.folds = progress, to_hash, folds
        self.hashed, self.hash_seconds, self.fitted, self.fit_seconds = 0, 0.0, 0, 0.0

    def hashed_rows(self, rows: int, seconds: float) -> None:
        self.hashed += rows
        self.hash_seconds += seconds

    def fitted_fold(self, seconds: float) -> None:
        self.fitted += 1
        self.fit_seconds += seconds

    def left(self) -> str:
        if not self.hashed:
            return "time left not known yet"
        seconds = (self.to_hash - self.hashed) * self.hash_seconds / self.hashed
        if self.fitted:
            seconds += (self.folds - self.fitted) * self.fit_seconds / self.fitted
        elif self.fitted < self.folds:
            return f"ETA {format_seconds(seconds)} plus the folds' fitting (not timed yet)"
        return f"ETA {format_seconds(seconds)}"

    def say(self, detail: str, *, log: bool = False) -> None:
        line = f"{detail}; {self.left()}"
        self.progress.update(line)
        if log:
            logger.info("label-issue search: %s", line)


def _out_of_sample_probabilities(
    texts: list[str],
    label_ids: np.ndarray,
    n_classes: int,
    cv_folds: int,
    seed: int,
    max_train_rows: int | None,
    n_features: int,
    epochs: int,
    progress: Step,
) -> np.ndarray:
    """Each example's class probabilities from the model of the folds it is not in.

    Only the training sample's features stay in memory; the other texts are hashed and scored
    `CHUNK_ROWS` at a time, so memory is bounded by the sample, whatever the number of texts.
    """
    n = len(texts)
    fold_of = np.empty(n, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=seed)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros((n, 1)), label_ids)):
        fold_of[held_out] = fold
    sample = _training_sample(label_ids, cv_folds, max_train_rows, np.random.default_rng(seed))
    others = np.setdiff1d(np.arange(n), sample, assume_unique=True)
    hasher = HashingVectorizer(
        ngram_range=(1, 2), n_features=n_features, alternate_sign=False, norm=None,
        dtype=np.float32,
    )
    eta = _Progress(progress, n, cv_folds)

    parts = []
    for start in range(0, len(sample), CHUNK_ROWS):
        eta.say(f"hashing the training sample, {start:,}/{len(sample):,} texts")
        began = time.monotonic()
        parts.append(hasher.transform([texts[i] for i in sample[start : start + CHUNK_ROWS]]))
        eta.hashed_rows(len(parts[-1].indptr) - 1, time.monotonic() - began)
    features = sp.vstack(parts, format="csr") if len(parts) > 1 else parts[0]
    del parts
    # Terms in fewer than MIN_DF of the sample's texts say nothing a model could learn, yet they
    # would take a share of each text's norm (a vocabulary's min_df drops them; hashing cannot).
    kept = np.bincount(features.indices, minlength=n_features) >= MIN_DF
    features = _only(features, kept)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(features)
    features = tfidf.transform(features, copy=False)

    probabilities = np.zeros((n, n_classes))
    sample_folds = fold_of[sample]
    models = []
    for fold in range(cv_folds):
        train = sample_folds != fold
        eta.say(
            f"fold {fold + 1}/{cv_folds}: fitting on {int(train.sum()):,} labels, "
            f"{len(sample):,} of {n:,} in the training sample",
            log=True,
        )
        began = time.monotonic()
        model = _fit(features[train], label_ids[sample[train]], seed, epochs)
        held_out = ~train
        # By class id: a column per class the model saw (every class, given the sample's floor).
        probabilities[np.ix_(sample[held_out], model.classes_)] = model.predict_proba(
            features[held_out]
        )
        eta.fitted_fold(time.monotonic() - began)
        models.append(model)
    del features

    for start in range(0, len(others), CHUNK_ROWS):
        eta.say(f"scoring the labels outside the sample, {start:,}/{len(others):,}", log=start == 0)
        began = time.monotonic()
        rows = others[start : start + CHUNK_ROWS]
        chunk = tfidf.transform(_only(hasher.transform([texts[i] for i in rows]), kept), copy=False)
        chunk_folds = fold_of[rows]
        for fold, model in enumerate(models):
            mine = chunk_folds == fold
            if mine.any():
                probabilities[np.ix_(rows[mine], model.classes_)] = model.predict_proba(chunk[mine])
        eta.hashed_rows(len(rows), time.monotonic() - began)
    return probabilities


def _only(features: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """`features` with the entries outside the boolean mask `columns` removed, in place."""
    features.data[~columns[features.indices]] = 0
    features.eliminate_zeros()
    return features


def _training_sample(
    label_ids: np.ndarray, cv_folds: int, max_train_rows: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Sorted positions of the examples the fold models learn from: all of them when each fold's
    share fits in `max_train_rows`, else a stratified random sample of cv_folds/(cv_folds - 1) x
    max_train_rows (each fold then trains on about max_train_rows), with at least
    `MIN_SAMPLED_PER_CLASS` of every class."""
    n = len(label_ids)
    wanted = n if max_train_rows is None else math.ceil(max_train_rows * cv_folds / (cv_folds - 1))
    if wanted >= n:
        return np.arange(n)
    share = wanted / n
    kept = []
    for class_id in np.unique(label_ids):
        members = np.flatnonzero(label_ids == class_id)
        keep = min(len(members), max(MIN_SAMPLED_PER_CLASS, round(share * len(members))))
        kept.append(rng.choice(members, keep, replace=False))
    return np.sort(np.concatenate(kept))


def _fit(features: sp.csr_matrix, label_ids: np.ndarray, seed: int, epochs: int) -> LogisticRegression:
    """Multinomial logistic regression (log-loss, so cleanlab can threshold its probabilities
    without calibration), `epochs` passes of SAGA: on hashed features lbfgs took 70x longer for
    the same recall (conf/base/parameters_labeling.yml). A small set gets more passes, up to
    `MIN_FIT_VISITS` examples seen or convergence: a few passes over 200 examples leave the
    probabilities near the class shares."""
    passes = max(epochs, math.ceil(MIN_FIT_VISITS / features.shape[0]))
    model = LogisticRegression(solver="saga", max_iter=passes, random_state=seed)
    with warnings.catch_warnings():
        # Stopping after a few passes is the point; the probabilities have settled by then.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(features, label_ids)


def to_review_queue(issues: pd.DataFrame) -> list[dict]:
    """The issues as JSON-ready rows (plain ints, floats and strings), worst first."""
    return [
        {
            "position": int(row.position),
            "text": str(row.text),
            "given_label": str(row.given_label),
            "suggested_label": str(row.suggested_label),
            "label_quality": float(row.label_quality),
        }
        for row in issues.loc[:, list(ISSUE_COLUMNS)].itertuples(index=False)
    ]


def _check_settings(max_train_rows: int | None, n_features: int, epochs: int) -> None:
    if max_train_rows is not None and max_train_rows < MIN_TRAIN_ROWS:
        raise ValueError(
            f"max_train_rows must be at least {MIN_TRAIN_ROWS:,} (or None for every label), "
            f"got {max_train_rows}"
        )
    if not MIN_FEATURES <= n_features <= MAX_FEATURES:
        raise ValueError(
            f"n_features must be between 2**10 ({MIN_FEATURES:,}) and 2**24 ({MAX_FEATURES:,}), "
            f"got {n_features:,}"
        )
    if epochs < 1:
        raise ValueError(f"epochs must be 1 or more, got {epochs}")


def _check_inputs(texts: list[str], labels: list[str], classes: list[str], cv_folds: int) -> None:
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels; they must pair up")
    check_classes(classes)
    if cv_folds < 2:
        raise ValueError(f"cv_folds must be 2 or more, got {cv_folds}")
    known = set(classes)
    for position, label in enumerate(labels):
        if label not in known:
            raise ValueError(
                f"label {label!r} at position {position} is not one of {', '.join(classes)}"
            )
    counts = pd.Series(labels, dtype=object).value_counts().reindex(classes, fill_value=0)
    too_few = counts[counts < cv_folds]
    if not too_few.empty:
        raise ValueError(
            f"every class needs at least cv_folds={cv_folds} examples for out-of-sample "
            f"probabilities; too few: {', '.join(f'{name} ({n})' for name, n in too_few.items())}. "
            "Label more, lower cv_folds, or leave the class out of classes"
        )
