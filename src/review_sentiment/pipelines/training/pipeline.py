"""Both feature sets → SGDClassifier each → scores → the better one registered and maybe promoted."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_bigram_model,
    build_tfidf_model,
    evaluate_classifier,
    fit_classifier,
    register_best_model,
    select_better_model,
)


def _train_and_score(feature_set: str) -> Pipeline:
    """The same two nodes for either feature set, namespaced so datasets and runs stay apart."""
    return Pipeline(
        [
            Node(
                func=fit_classifier,
                inputs=["train_features", "train_reviews", "params:training.classifier"],
                outputs="classifier",
                name="fit_classifier",
                tags=["autolog"],
            ),
            Node(
                func=evaluate_classifier,
                inputs=["classifier", "test_features", "test_reviews"],
                outputs=["metrics", "confusion_matrix"],
                name="evaluate_classifier",
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
            "metrics": f"{feature_set}_metrics",
            "confusion_matrix": f"{feature_set}_confusion_matrix",
        },
        parameters={"params:training.classifier"},
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
                    func=select_better_model,
                    inputs=["bigram_model", "bigram_metrics", "tfidf_model", "tfidf_metrics"],
                    outputs=["best_model", "model_selection"],
                    name="select_better_model",
                ),
                Node(
                    func=register_best_model,
                    inputs=["best_model", "model_selection", "test_reviews", "params:training"],
                    outputs="model_registration",
                    name="register_best_model",
                ),
            ]
        )
    )
