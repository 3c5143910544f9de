"""Both feature sets → SGDClassifier each → CV on the training split and scores on both splits →
the better by CV registered, and promoted only if it beats the champion on the test split.

Every metric and plot leaves a node and is logged by the catalog under its model and split
(`bigram_test.macro_f1`, `bigram_cv.macro_f1`, `tfidf_train_confusion_matrix.png`), so nothing
logged by one model overwrites the other's in the run. Nothing autologs: MLflow's sklearn autolog logs every fit
under the same keys (`training_f1_score` twice at step 0, one `training_confusion_matrix.png`)
and copies sparse features into a dense array.
"""

from kedro.pipeline import Node, Pipeline

from review_sentiment.hooks import MLFLOW_TAG

from .nodes import (
    MODEL_NAMES,
    build_bigram_model,
    build_tfidf_model,
    cross_validate_classifier,
    evaluator,
    fit_classifier,
    register_best_model,
    select_better_model_by_cv,
)


def _train_and_score(feature_set: str) -> Pipeline:
    """The same four nodes for either feature set, namespaced so datasets stay apart."""
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
                func=cross_validate_classifier,
                inputs=[
                    "train_features", "train_reviews", "params:training.classifier",
                    "params:training.search",
                ],
                outputs="cv_metrics",
                name="cross_validate_classifier",
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
            "cv_metrics": f"{feature_set}_cv_metrics",
            "train_metrics": f"{feature_set}_train_metrics",
            "train_confusion_matrix": f"{feature_set}_train_confusion_matrix",
            "test_metrics": f"{feature_set}_test_metrics",
            "test_confusion_matrix": f"{feature_set}_test_confusion_matrix",
        },
        parameters={"params:training.classifier", "params:training.search"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    return (
        _train_and_score("bigram")
        + _train_and_score("tfidf")
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
                    func=select_better_model_by_cv,
                    inputs=["bigram_model", "bigram_cv_metrics", "tfidf_model", "tfidf_cv_metrics"],
                    outputs=["best_model", "model_selection"],
                    name="select_better_model",
                ),
                Node(
                    func=register_best_model,
                    inputs=["best_model", "model_selection", "test_reviews", "params:training"],
                    outputs="model_registration",
                    name="register_best_model",
                    # It logs the model in the run itself (registry.py), not through a dataset.
                    tags=[MLFLOW_TAG],
                ),
            ]
        )
    )
