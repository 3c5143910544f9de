"""The steps every pipeline that trains shares, as Kedro pipelines: the original two feature
sets over a split (`feature_sets_pipeline`), the workflow's two SGD models fitted and scored on
both splits beside every candidate of `training.search` cross-validated on the training split,
the winner by the search's rule fitted and scored once on the test split (`model_pipeline`), then
registered and promoted only past the gate (`training_pipeline`).

`training` and `feature_engineering` are these; `model_search` is the same with
`params:model_search`'s larger space; the refresh runs `feature_sets_pipeline() +
model_pipeline()` in its namespace on its own split, then its frozen-set gate.

Every metric and plot leaves a node and is logged by the catalog under its model and split
(`bigram_test.macro_f1`, `bigram_cv.macro_f1`, `chosen_test_confusion_matrix.png`). Nothing
autologs: MLflow's sklearn autolog logs every fit under the same keys and copies sparse features
into a dense array.
"""

from kedro.pipeline import Node, Pipeline

from review_sentiment.hooks import MLFLOW_TAG
from review_sentiment.modeling.selection import search_models

from .nodes import (
    MODEL_NAMES,
    build_bigram_features,
    build_bigram_model,
    build_tfidf_features,
    build_tfidf_model,
    evaluate_chosen_model,
    evaluator,
    fit_chosen_model,
    fit_classifier,
    log_candidate_runs,
    register_best_model,
    report_model_search,
)


def feature_sets_pipeline() -> Pipeline:
    """Train and test texts → the original two feature sets: what the refresh also builds."""
    return Pipeline(
        [
            Node(
                func=build_bigram_features,
                inputs=["train_reviews", "test_reviews", "params:feature_engineering"],
                outputs=["bigram_vectorizer", "bigram_train_features", "bigram_test_features"],
                name="build_bigram_features",
            ),
            Node(
                func=build_tfidf_features,
                inputs=["bigram_train_features", "bigram_test_features", "params:feature_engineering"],
                outputs=["tfidf_transformer", "tfidf_train_features", "tfidf_test_features"],
                name="build_tfidf_features",
            ),
        ]
    )


def _original_model(feature_set: str) -> Pipeline:
    """The same three nodes for either feature set, namespaced so datasets stay apart."""
    model = MODEL_NAMES[feature_set]
    return Pipeline(
        [
            Node(
                func=fit_classifier,
                inputs=["train_features", "train_reviews", "params:training.classifier"],
                outputs="classifier",
                name="fit_classifier",
            ),
            Node(
                func=evaluator(model, "training"),
                inputs=["classifier", "train_features", "train_reviews"],
                outputs=["train_metrics", "train_confusion_matrix"],
                name="evaluate_on_training_set",
            ),
            Node(
                func=evaluator(model, "test"),
                inputs=["classifier", "test_features", "test_reviews"],
                outputs=["test_metrics", "test_confusion_matrix"],
                name="evaluate_on_test_set",
            ),
        ],
        namespace=feature_set,
        inputs={
            "train_features": f"{feature_set}_train_features",
            "test_features": f"{feature_set}_test_features",
            "train_reviews": "train_reviews",
            "test_reviews": "test_reviews",
        },
        outputs={
            "classifier": f"{feature_set}_classifier",
            "train_metrics": f"{feature_set}_train_metrics",
            "train_confusion_matrix": f"{feature_set}_train_confusion_matrix",
            "test_metrics": f"{feature_set}_test_metrics",
            "test_confusion_matrix": f"{feature_set}_test_confusion_matrix",
        },
        parameters={"params:training.classifier"},
    )


def model_pipeline() -> Pipeline:
    """Every training step up to the chosen model and its test scores, nothing registered."""
    return (
        _original_model("bigram")
        + _original_model("tfidf")
        + Pipeline(
            [
                Node(
                    func=build_bigram_model,
                    inputs=["bigram_vectorizer", "bigram_classifier"],
                    outputs="bigram_model",
                    name="build_bigram_model",
                ),
                Node(
                    func=build_tfidf_model,
                    inputs=["bigram_vectorizer", "tfidf_transformer", "tfidf_classifier"],
                    outputs="tfidf_model",
                    name="build_tfidf_model",
                ),
                Node(
                    func=search_models,
                    inputs=[
                        "train_reviews", "params:feature_engineering", "params:training.classifier",
                        "params:training.search",
                    ],
                    outputs="model_search",
                    name="search_models",
                ),
                Node(
                    func=report_model_search,
                    inputs="model_search",
                    outputs=[
                        "model_search_report", "bigram_cv_metrics", "tfidf_cv_metrics",
                        "model_search_comparison",
                    ],
                    name="report_model_search",
                ),
                Node(
                    func=log_candidate_runs,
                    inputs="model_search",
                    outputs=None,
                    name="log_candidate_runs",
                    # It opens nested runs under the run itself (modeling/tracking.py).
                    tags=[MLFLOW_TAG],
                ),
                Node(
                    func=fit_chosen_model,
                    inputs=["train_reviews", "model_search", "bigram_model", "tfidf_model"],
                    outputs=["best_model", "model_selection", "chosen_cv_metrics"],
                    name="fit_chosen_model",
                ),
                Node(
                    func=evaluate_chosen_model,
                    inputs=["best_model", "test_reviews"],
                    outputs=[
                        "chosen_test_metrics", "chosen_test_confusion_matrix", "chosen_test_pr_curves"
                    ],
                    name="evaluate_chosen_model",
                ),
            ]
        )
    )


def training_pipeline() -> Pipeline:
    """The `training` pipeline: `model_pipeline` then the chosen model registered (and promoted
    only past the gate); `model_search` is the same with a larger space."""
    return model_pipeline() + Pipeline(
        [
            Node(
                func=register_best_model,
                inputs=[
                    "best_model", "model_selection", "train_reviews", "test_reviews",
                    "params:feature_engineering", "params:training",
                ],
                outputs="model_registration",
                name="register_best_model",
                # It logs the model in the run itself (registry.py), not through a dataset.
                tags=[MLFLOW_TAG],
            )
        ]
    )
