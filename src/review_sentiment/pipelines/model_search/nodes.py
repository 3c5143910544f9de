"""Cross-validate every candidate on the training split, choose one by the stated rule, fit it on
the whole training split, then score it once on the test split for the report and the gate."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.model_search import plots
from review_sentiment.model_search.search import choose, cross_validate, cv_rows, fit_candidate
from review_sentiment.model_search.space import expand_candidates, feature_set_specs
from review_sentiment.params import FeatureParams, TrainingParams
from review_sentiment.pipelines.training.nodes import evaluate_classifier
from review_sentiment.progress import step
from review_sentiment.registry import as_text_model

logger = logging.getLogger(__name__)

# What the chosen model is called in metric keys and plot titles (searched_test.macro_f1).
SEARCHED = "searched"


def search_models(
    train_reviews: pd.DataFrame, features: FeatureParams, training: TrainingParams
) -> dict[str, Any]:
    """Every candidate of the declared space cross-validated on `train_reviews` (the training
    split: no test review is an input here) and the one chosen by `search.choose`'s rule.

    Returns:
        `folds`, `train_size`, `candidates` (each with its feature set's fields, classifier
        arguments, per-fold and mean scores, fit seconds and model size; the original
        workflow's two marked `original`), `choice` (chosen, best, within-noise
        names, rule and reason) and `test_split_used_to_choose: false`.
    """
    specs = feature_set_specs(features)
    candidates = expand_candidates(training.search, training.classifier, specs)
    search = training.search
    rows = train_reviews.iloc[cv_rows(train_reviews["label"], search.max_rows, search.seed)]
    what = (
        f"cross-validating {len(candidates)} candidates ({search.folds} folds × "
        f"{search.repeats}, {len(rows):,} of "
        f"{len(train_reviews):,} training reviews)"
    )
    with step(what, logger=logger):
        results = cross_validate(
            rows["text"].tolist(), rows["label"].tolist(), candidates, specs,
            folds=search.folds, seed=search.seed, n_jobs=search.n_jobs, repeats=search.repeats,
        )  # fmt: skip
    choice = choose(results, search.noise_standard_errors)
    logger.info("Model search chose %s", choice.reason)
    for result in results:
        if result.candidate.original:
            logger.info(
                "Original workflow's %s: CV macro-F1 %.4f ± %.4f",
                result.candidate.name, result.macro_f1_mean, result.macro_f1_std,
            )  # fmt: skip
    return {
        "folds": search.folds,
        "repeats": search.repeats,
        "train_size": len(train_reviews),
        "cv_rows": len(rows),
        "test_split_used_to_choose": False,
        "candidates": [
            {**result.as_dict(), "features": specs[result.candidate.feature_set].model_dump(mode="json")}
            for result in results
        ],
        "choice": choice.as_dict(),
    }


def log_candidate_runs(model_search: dict[str, Any]) -> None:
    """One nested MLflow run per candidate under this run (model_search/tracking.py)."""
    from review_sentiment.model_search.tracking import log_candidate_runs as log_runs

    run_ids = log_runs(model_search)
    logger.info("Logged %d candidates as nested MLflow runs", len(run_ids))


def plot_search_comparison(model_search: dict[str, Any]) -> Any:
    """Every candidate's CV macro-F1 side by side (a matplotlib Figure)."""
    return plots.comparison_figure(model_search)


def fit_chosen_model(
    train_reviews: pd.DataFrame,
    model_search: dict[str, Any],
    features: FeatureParams,
    training: TrainingParams,
) -> tuple[SklearnPipeline, dict[str, Any], dict[str, float]]:
    """The chosen candidate fitted on the whole training split, as a text model; what was
    chosen and why (model_selection.json); and its CV scores for the parent run."""
    specs = feature_set_specs(features)
    candidates = {
        c.name: c for c in expand_candidates(training.search, training.classifier, specs)
    }
    name = model_search["choice"]["chosen"]
    with step(f"fitting {name} on {len(train_reviews):,} reviews", logger=logger):
        steps = fit_candidate(
            candidates[name], specs[candidates[name].feature_set],
            train_reviews["text"].tolist(), train_reviews["label"].tolist(),
        )  # fmt: skip
    model = as_text_model(*steps)
    chosen = next(r for r in model_search["candidates"] if r["name"] == name)
    selection = {
        "feature_set": name,
        "model": name,
        "chosen_by": f"{model_search['folds']}-fold CV macro-F1 on the training split, "
        f"{model_search['repeats']} time(s) shuffled anew",
        "test_split_used_to_choose": False,
        "rule": model_search["choice"]["rule"],
        "reason": model_search["choice"]["reason"],
        "cv_macro_f1": {r["name"]: r["macro_f1_mean"] for r in model_search["candidates"]},
        "original": {
            r["name"]: r["macro_f1_mean"] for r in model_search["candidates"] if r["original"]
        },
    }
    cv_metrics = {
        "macro_f1_mean": chosen["macro_f1_mean"],
        "macro_f1_std": chosen["macro_f1_std"],
        "accuracy_mean": chosen["accuracy_mean"],
        "accuracy_std": chosen["accuracy_std"],
        "candidates": len(model_search["candidates"]),
    }
    return model, selection, cv_metrics


def evaluate_chosen_model(
    model: SklearnPipeline, test_reviews: pd.DataFrame
) -> tuple[dict[str, float], Any, Any]:
    """The chosen model scored once on the test split, after choosing: accuracy, macro-F1,
    per-class precision, recall and average precision; a confusion matrix; and one
    precision-recall curve per class."""
    texts = test_reviews["text"].tolist()
    metrics, confusion = evaluate_classifier(model, texts, test_reviews, model=SEARCHED, split="test")
    scores, classes = plots.class_scores(model, texts)
    curves, average_precision = plots.precision_recall_figure(
        test_reviews["label"], scores, classes, f"{SEARCHED} model, test set: precision-recall per class"
    )
    metrics.update({f"average_precision_{name}": value for name, value in average_precision.items()})
    return metrics, confusion, curves
