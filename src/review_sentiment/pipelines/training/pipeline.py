"""Both feature sets → SGDClassifier each → scores on both splits → the better one registered
and maybe promoted.

Every metric and plot leaves a node and is logged by the catalog under its model and split
(`bigram_test.macro_f1`, `tfidf_train_confusion_matrix.png`), so nothing logged by one model
overwrites the other's in the run. Nothing autologs: MLflow's sklearn autolog logs every fit
under the same keys (`training_f1_score` twice at step 0, one `training_confusion_matrix.png`)
and copies sparse features into a dense array.
"""

from kedro.pipeline import Node, Pipeline

from review_sentiment.hooks import MLFLOW_TAG

from .nodes import (
    MODEL_NAMES,
    build_bigram_model,
    build_tfidf_model,
    evaluator,
    fit_classifier,
    register_best_model,
    select_better_model,
)


def _train_and_score(feature_set: str) -> Pipeline:
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
                    inputs=[
                        "bigram_model", "bigram_test_metrics", "tfidf_model", "tfidf_test_metrics"
                    ],
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
