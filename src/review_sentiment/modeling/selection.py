"""Choosing the model to register: every candidate of the declared space cross-validated on the
training split, the winner by `search.choose`'s rule, fitted on the whole split. The original
workflow's two models are always candidates and always reported beside the winner."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from review_sentiment.modeling.candidates import Candidate, expand_candidates
from review_sentiment.modeling.features import feature_set_specs
from review_sentiment.modeling.search import (
    CandidateResult,
    Choice,
    choose,
    cross_validate,
    cv_rows,
    fit_candidate,
)
from review_sentiment.params import (
    ClassifierParams,
    FeatureParams,
    FeatureSetSpec,
    SearchParams,
)
from review_sentiment.params.model_search import ORIGINAL_CLASSIFIER
from review_sentiment.progress import step
from review_sentiment.registry import as_text_model

logger = logging.getLogger(__name__)


def original_name(feature_set: str) -> str:
    """The candidate name of the original workflow's model on `feature_set` (bigram or tfidf)."""
    return f"{feature_set}+{ORIGINAL_CLASSIFIER}"


@dataclass(frozen=True)
class ModelSearch:
    """Every candidate's CV scores on the training split and the choice among them."""

    folds: int
    repeats: int
    train_size: int
    cv_rows: int
    specs: dict[str, FeatureSetSpec]
    results: list[CandidateResult]
    choice: Choice

    def result(self, name: str) -> CandidateResult:
        return next(r for r in self.results if r.candidate.name == name)

    @property
    def chosen(self) -> Candidate:
        return self.result(self.choice.chosen).candidate

    def as_dict(self) -> dict[str, Any]:
        """As data/08_reporting/model_search.json: each candidate with its feature set's fields,
        classifier arguments, per-fold and mean scores, fit seconds and size (the original
        workflow's two marked `original`), and the choice with its rule and reason."""
        return {
            "folds": self.folds,
            "repeats": self.repeats,
            "train_size": self.train_size,
            "cv_rows": self.cv_rows,
            "test_split_used_to_choose": False,
            "candidates": [
                {**r.as_dict(), "features": self.specs[r.candidate.feature_set].model_dump(mode="json")}
                for r in self.results
            ],
            "choice": self.choice.as_dict(),
        }


def search_models(
    train_reviews: pd.DataFrame,
    features: FeatureParams,
    classifier: ClassifierParams,
    search: SearchParams,
) -> ModelSearch:
    """Every candidate of the space cross-validated on `train_reviews` (or a stratified sample of
    `search.max_rows` of them), and the one `choose` picks. No test review is an input."""
    specs = feature_set_specs(features)
    candidates = expand_candidates(search, classifier, specs)
    rows = train_reviews.iloc[cv_rows(train_reviews["label"], search.max_rows, search.seed)]
    what = (
        f"cross-validating {len(candidates)} candidates ({search.folds} folds × {search.repeats}, "
        f"{len(rows):,} of {len(train_reviews):,} training reviews)"
    )
    with step(what, logger=logger):
        results = cross_validate(
            rows["text"].tolist(), rows["label"].tolist(), candidates, specs,
            folds=search.folds, seed=search.seed, n_jobs=search.n_jobs, repeats=search.repeats,
        )  # fmt: skip
    choice = choose(results, search.noise_standard_errors)
    logger.info("Chose %s", choice.reason)
    for result in results:
        if result.candidate.original:
            logger.info(
                "Original workflow's %s: CV macro-F1 %.4f ± %.4f",
                result.candidate.name, result.macro_f1_mean, result.macro_f1_std,
            )  # fmt: skip
    return ModelSearch(
        folds=search.folds,
        repeats=search.repeats,
        train_size=len(train_reviews),
        cv_rows=len(rows),
        specs=specs,
        results=results,
        choice=choice,
    )


def fit_chosen(
    search: ModelSearch, train_reviews: pd.DataFrame, originals: Mapping[str, Pipeline]
) -> Pipeline:
    """The chosen candidate as a text model fitted on the whole training split: one of the
    original models as already fitted (`originals`, by candidate name), or fitted here."""
    chosen = search.chosen
    if chosen.name in originals:
        return originals[chosen.name]
    with step(f"fitting {chosen.name} on {len(train_reviews):,} reviews", logger=logger):
        steps = fit_candidate(
            chosen, search.specs[chosen.feature_set],
            train_reviews["text"].tolist(), train_reviews["label"].tolist(),
        )  # fmt: skip
    return as_text_model(*steps)


def selection_record(search: ModelSearch) -> dict[str, Any]:
    """What was chosen and why (model_selection.json): the chosen candidate (`feature_set`, as the
    registry's records name it), the rule and reason, every candidate's CV macro-F1 and the
    original two's apart."""
    return {
        "feature_set": search.choice.chosen,
        "model": search.choice.chosen,
        "chosen_by": (
            f"{search.folds}-fold CV macro-F1 on the training split, {search.repeats} time(s) "
            "shuffled anew"
        ),
        "test_split_used_to_choose": False,
        "rule": search.choice.rule,
        "reason": search.choice.reason,
        "cv_macro_f1": {r.candidate.name: r.macro_f1_mean for r in search.results},
        "original": {r.candidate.name: r.macro_f1_mean for r in search.results if r.candidate.original},
    }


def cv_metrics(result: CandidateResult, *, candidates: int | None = None) -> dict[str, float]:
    """A candidate's CV scores as run metrics (`<model>_cv.macro_f1`, …)."""
    metrics = {
        "macro_f1": result.macro_f1_mean,
        "macro_f1_std": result.macro_f1_std,
        "accuracy": result.accuracy_mean,
        "accuracy_std": result.accuracy_std,
    }
    if candidates is not None:
        metrics["candidates"] = candidates
    return metrics
