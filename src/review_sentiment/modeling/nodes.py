"""The steps of feature building and training as Kedro nodes: the original two feature sets,
the workflow's two SGD models fitted on them and scored on both splits, every candidate of the
space cross-validated on the training split, the winner fitted, scored once on the test split,
and registered. The logic lives in the other `modeling` modules; these are thin. The pipelines
that train (`training`, `model_search`, `refresh`) get them through `modeling.pipeline`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
)
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.modeling import plots, selection
from review_sentiment.modeling.evaluation import MODEL_NAMES, evaluate_classifier
from review_sentiment.modeling.features import fit_counts, fit_weighting, original_feature_sets
from review_sentiment.modeling.registration import register_model
from review_sentiment.modeling.selection import ModelSearch, original_name
from review_sentiment.params import (
    ClassifierParams,
    FeatureParams,
    TrainingParams,
)
from review_sentiment.registry import as_text_model

logger = logging.getLogger(__name__)


def build_bigram_features(
    train_reviews: pd.DataFrame, test_reviews: pd.DataFrame, params: FeatureParams
) -> tuple[CountVectorizer | HashingVectorizer, csr_matrix, csr_matrix]:
    """Word uni- and bigram counts of train and test texts (`modeling.features`' `bigram` set):
    a vocabulary learned from the training texts only (`vectorizer: counts`), or each term
    hashed into one of `n_features` columns (`hashing`)."""
    spec = original_feature_sets(params)["bigram"]
    [vectorizer], [train_features] = fit_counts(spec, train_reviews["text"].tolist())
    if isinstance(vectorizer, HashingVectorizer):
        logger.info("Hashed bigram features: %d columns", params.n_features)
    else:
        logger.info("Bigram vocabulary: %d terms", len(vectorizer.vocabulary_))
    return vectorizer, train_features, vectorizer.transform(test_reviews["text"])


def build_tfidf_features(
    train_counts: csr_matrix, test_counts: csr_matrix, params: FeatureParams
) -> tuple[TfidfTransformer, csr_matrix, csr_matrix]:
    """TF-IDF weights over the bigram counts (the weighting of `modeling.features`' `tfidf`
    set), the document frequencies fitted on train only; a column no training text has weighs
    nothing."""
    spec = original_feature_sets(params)["tfidf"]
    transformer, train_features = fit_weighting(spec, train_counts)
    return transformer, train_features, transformer.transform(test_counts)


# What the chosen model is called in metric keys and plot titles (chosen_test.macro_f1).
CHOSEN = "chosen"


def fit_classifier(
    train_features: csr_matrix, train_reviews: pd.DataFrame, params: ClassifierParams
) -> SGDClassifier:
    """The original workflow's linear classifier, fitted by stochastic gradient descent."""
    classifier = SGDClassifier(**params.model_dump())
    return classifier.fit(train_features, train_reviews["label"])


def evaluator(model: str, split: str) -> Callable[..., tuple[dict[str, float], Any]]:
    """`evaluate_classifier` for one model and split as a node function: Kedro reads every node
    function's type hints, which a `functools.partial` does not have."""

    def evaluate(
        classifier: SGDClassifier, features: csr_matrix, reviews: pd.DataFrame
    ) -> tuple[dict[str, float], Any]:
        return evaluate_classifier(classifier, features, reviews, model=model, split=split)

    evaluate.__name__ = evaluate.__qualname__ = f"evaluate_classifier_on_{split}_set"
    return evaluate


def build_bigram_model(
    vectorizer: CountVectorizer | HashingVectorizer, classifier: SGDClassifier
) -> SklearnPipeline:
    """Text → label: bigram counts (learned or hashed) then the classifier."""
    return as_text_model(("vectorizer", vectorizer), ("classifier", classifier))


def build_tfidf_model(
    vectorizer: CountVectorizer | HashingVectorizer, transformer: TfidfTransformer, classifier: SGDClassifier
) -> SklearnPipeline:
    """Text → label: bigram counts, TF-IDF weights, then the classifier."""
    return as_text_model(
        ("vectorizer", vectorizer), ("tfidf", transformer), ("classifier", classifier)
    )


def report_model_search(
    model_search: ModelSearch,
) -> tuple[dict[str, Any], dict[str, float], dict[str, float], Any]:
    """The search for data/08_reporting/model_search.json, the original two models' CV scores
    as run metrics (`bigram_cv.macro_f1`, `tfidf_cv.…`), and every candidate's CV macro-F1 side
    by side (a matplotlib Figure)."""
    report = model_search.as_dict()
    originals = [
        selection.cv_metrics(model_search.result(original_name(feature_set)))
        for feature_set in MODEL_NAMES
    ]
    return report, *originals, plots.comparison_figure(report)


def log_candidate_runs(model_search: ModelSearch) -> None:
    """One nested MLflow run per candidate under this run (modeling/tracking.py)."""
    from review_sentiment.modeling.tracking import log_candidate_runs as log_runs

    run_ids = log_runs(model_search.as_dict())
    logger.info("Logged %d candidates as nested MLflow runs", len(run_ids))


def fit_chosen_model(
    train_reviews: pd.DataFrame,
    model_search: ModelSearch,
    bigram_model: SklearnPipeline,
    tfidf_model: SklearnPipeline,
) -> tuple[SklearnPipeline, dict[str, Any], dict[str, float]]:
    """The chosen candidate fitted on the whole training split (an original model is taken as
    fitted), what was chosen and why (model_selection.json), and its CV scores."""
    originals = {original_name("bigram"): bigram_model, original_name("tfidf"): tfidf_model}
    model = selection.fit_chosen(model_search, train_reviews, originals)
    chosen = model_search.result(model_search.choice.chosen)
    return (
        model,
        selection.selection_record(model_search),
        selection.cv_metrics(chosen, candidates=len(model_search.results)),
    )


def evaluate_chosen_model(
    model: SklearnPipeline, test_reviews: pd.DataFrame
) -> tuple[dict[str, float], Any, Any]:
    """The chosen model scored once on the test split, after choosing: accuracy, macro-F1,
    per-class precision, recall and average precision; a confusion matrix; and one
    precision-recall curve per class."""
    # The texts go through the model's feature steps once, for both the labels and the scores.
    features = model[:-1].transform(test_reviews["text"].tolist())
    classifier = model[-1]
    metrics, confusion = evaluate_classifier(classifier, features, test_reviews, model=CHOSEN, split="test")
    scores, classes = plots.class_scores(classifier, features)
    curves, average_precision = plots.precision_recall_figure(
        test_reviews["label"], scores, classes, f"{CHOSEN} model, test set: precision-recall per class"
    )
    metrics.update({f"average_precision_{name}": value for name, value in average_precision.items()})
    return metrics, confusion, curves


def register_best_model(
    best_model: SklearnPipeline,
    model_selection: dict,
    train_reviews: pd.DataFrame,
    test_reviews: pd.DataFrame,
    features: FeatureParams,
    params: TrainingParams,
) -> dict:
    """Logs and registers the chosen model; it becomes champion only if it beats the current one
    on this test set. The same training registered before registers nothing (one line says so).
    The side effect is the point of the step: it lives in `modeling.registration`."""
    return register_model(best_model, model_selection, train_reviews, test_reviews, features, params)
