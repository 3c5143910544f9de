"""Fits an SGDClassifier per feature set, scores it on both splits, registers the better one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import pandas as pd
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.champion_decision import describe_decision
from review_sentiment.model_search.search import cv_rows
from review_sentiment.params import ClassifierParams, SearchParams, TrainingParams
from review_sentiment.progress import step
from review_sentiment.registry import Registration, as_text_model, register_and_promote
from review_sentiment.scoring import NEAR_CHANCE_MARGIN, chance_macro_f1, macro_f1, weaknesses

logger = logging.getLogger(__name__)

# What each feature set's model is called in logs, plot titles and model_selection.json.
MODEL_NAMES = {"bigram": "bigram counts", "tfidf": "bigram TF-IDF"}
# A model scoring less than this above chance (in macro-F1) has learned next to nothing.


def fit_classifier(
    train_features: csr_matrix, train_reviews: pd.DataFrame, params: ClassifierParams
) -> SGDClassifier:
    """A linear classifier fitted by stochastic gradient descent."""
    classifier = SGDClassifier(**params.model_dump())
    return classifier.fit(train_features, train_reviews["label"])


def evaluate_classifier(
    classifier: SGDClassifier,
    features: csr_matrix,
    reviews: pd.DataFrame,
    *,
    model: str,
    split: str,
) -> tuple[dict[str, float], Any]:
    """Accuracy, macro-F1, per-class precision/recall and the chance macro-F1 of `model` on one
    split (`"training"` or `"test"`), and a confusion matrix (a matplotlib Figure) titled with
    the model and the split.

    Warns when the model is near chance (macro-F1 less than `NEAR_CHANCE_MARGIN` above
    `chance_macro_f1`) or never predicts one of its classes on this split.
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
    _warn_if_weak(metrics, classes, predicted, model=model, split=split)
    title = f"{model}, {split} set: macro-F1 {metrics['macro_f1']:.3f}"
    return metrics, _confusion_matrix_figure(truth, predicted, classes, title)


def evaluator(model: str, split: str) -> Callable[..., tuple[dict[str, float], Any]]:
    """`evaluate_classifier` for one model and split as a node function: Kedro reads every node
    function's type hints, which a `functools.partial` does not have."""

    def evaluate(
        classifier: SGDClassifier, features: csr_matrix, reviews: pd.DataFrame
    ) -> tuple[dict[str, float], Any]:
        return evaluate_classifier(classifier, features, reviews, model=model, split=split)

    evaluate.__name__ = evaluate.__qualname__ = f"evaluate_classifier_on_{split}_set"
    return evaluate


def _warn_if_weak(
    metrics: dict[str, float], classes: list[str], predicted, *, model: str, split: str
) -> None:
    for problem in weaknesses(metrics["macro_f1"], metrics["chance_macro_f1"], classes, predicted):
        logger.warning("%s %s on the %s set", model, problem, split)


def _confusion_matrix_figure(truth: pd.Series, predicted, classes: list[str], title: str) -> Any:
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


def cross_validate_classifier(
    train_features: csr_matrix, train_reviews: pd.DataFrame, params: ClassifierParams,
    search: SearchParams,
) -> dict[str, float]:
    """Macro-F1 of the classifier in stratified `search.folds`-fold CV on the training split, or
    on a stratified sample of `search.max_rows` of it (shuffled with `search.seed`): the mean (`macro_f1`) and its spread over folds. What the
    better model is chosen by, so that the test split is not used to choose. The features'
    vocabulary was fitted on the whole training split (labels play no part in it)."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    rows = cv_rows(train_reviews["label"], search.max_rows, search.seed)
    labels = train_reviews["label"].iloc[rows]
    train_features = train_features[rows]
    folds = min(search.folds, int(labels.value_counts().min()))
    if folds < 2:
        raise ValueError(
            f"cross-validating on the training split: class(es) "
            f"{', '.join(labels.value_counts()[lambda c: c < 2].index)} have fewer than 2 reviews"
        )
    scores = cross_val_score(
        clone(SGDClassifier(**params.model_dump())), train_features, labels, scoring="f1_macro",
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=search.seed),
    )  # fmt: skip
    return {"macro_f1": float(scores.mean()), "macro_f1_std": float(scores.std(ddof=1))}


def select_better_model(
    bigram_model: SklearnPipeline,
    bigram_metrics: dict[str, float],
    tfidf_model: SklearnPipeline,
    tfidf_metrics: dict[str, float],
    *,
    scored_on: str = "test",
) -> tuple[SklearnPipeline, dict]:
    """The model with the higher macro-F1 in the metrics given (bigram counts on a tie: the
    simpler one), `scored_on` naming where they were measured."""
    scores = {"bigram": bigram_metrics["macro_f1"], "tfidf": tfidf_metrics["macro_f1"]}
    chosen = "tfidf" if scores["tfidf"] > scores["bigram"] else "bigram"
    other = "bigram" if chosen == "tfidf" else "tfidf"
    if scores[chosen] > scores[other]:
        logger.info(
            "Chose %s: %s macro-F1 %.3f > %s %.3f",
            MODEL_NAMES[chosen], scored_on, scores[chosen], MODEL_NAMES[other], scores[other],
        )  # fmt: skip
    else:
        logger.info(
            "Chose %s: %s macro-F1 %.3f, a tie with %s (a tie goes to the simpler model)",
            MODEL_NAMES[chosen], scored_on, scores[chosen], MODEL_NAMES[other],
        )  # fmt: skip
    key = "macro_f1" if scored_on == "test" else "cv_macro_f1"
    return (tfidf_model if chosen == "tfidf" else bigram_model), {
        "feature_set": chosen,
        "model": MODEL_NAMES[chosen],
        key: scores,
    }


def select_better_model_by_cv(
    bigram_model: SklearnPipeline,
    bigram_cv_metrics: dict[str, float],
    tfidf_model: SklearnPipeline,
    tfidf_cv_metrics: dict[str, float],
) -> tuple[SklearnPipeline, dict]:
    """`select_better_model` by CV macro-F1 on the training split: the test split only scores
    the chosen model and gates the champion, it does not choose."""
    model, selection = select_better_model(
        bigram_model, bigram_cv_metrics, tfidf_model, tfidf_cv_metrics,
        scored_on="CV (training split)",
    )  # fmt: skip
    return model, {**selection, "test_split_used_to_choose": False}


def register_best_model(
    best_model: SklearnPipeline,
    selection: dict,
    test_reviews: pd.DataFrame,
    params: TrainingParams,
) -> dict:
    """Logs and registers the chosen model; it becomes champion only if it beats the current one
    on this test set. The side effect is the point of the step: it lives in `registry`."""
    registration = register_model(best_model, selection, test_reviews, params)
    logger.info("%s", describe_registration(registration, params.champion_alias))
    return {**registration.__dict__, "feature_set": selection["feature_set"]}


def register_model(
    model: SklearnPipeline,
    selection: dict,
    test_reviews: pd.DataFrame,
    params: TrainingParams,
    **options: Any,
) -> Registration:
    """`register_and_promote` with the training parameters and this test set, with a progress
    line while it runs (logging the model and scoring the champion take 10-20 s); `options`
    (e.g. the refresh's `gate` and `tags`) are passed on."""
    model_name = MODEL_NAMES.get(selection["feature_set"], selection.get("model", selection["feature_set"]))
    what = f"registering {model_name} as {params.registered_model_name}"
    with step(what, logger=logger):
        return register_and_promote(
            model,
            model_name=params.registered_model_name,
            test_texts=test_reviews["text"].tolist(),
            test_labels=test_reviews["label"].tolist(),
            alias=params.champion_alias,
            example_texts=test_reviews["text"].head(params.input_example_size).tolist(),
            allow_empty_texts=params.allow_empty_texts,
            **options,
        )


def describe_registration(registration: Registration, alias: str) -> str:
    """One line saying what registration decided and why (see `describe_decision`)."""
    return describe_decision(asdict(registration), alias)
