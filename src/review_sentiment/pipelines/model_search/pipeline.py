"""The model search (`kedro run --pipelines model_search`): every candidate of the declared space
cross-validated on the training split, one nested MLflow run each under this run, a comparison
plot, and the chosen one fitted on the training split, scored on the test split and registered
(promoted only if it beats the champion on that same test set), as the training pipeline does.

It reads the split that feature_engineering left (train_reviews, test_reviews): run the default
pipeline (or `--pipelines feature_engineering`) once first.
"""

from kedro.pipeline import Node, Pipeline

from review_sentiment.hooks import MLFLOW_TAG
from review_sentiment.pipelines.training.nodes import register_best_model

from .nodes import (
    evaluate_chosen_model,
    fit_chosen_model,
    log_candidate_runs,
    plot_search_comparison,
    search_models,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=search_models,
                inputs=["train_reviews", "params:feature_engineering", "params:training"],
                outputs="model_search",
                name="search_models",
            ),
            Node(
                func=log_candidate_runs,
                inputs="model_search",
                outputs=None,
                name="log_candidate_runs",
                # It opens nested runs under the run itself (model_search/tracking.py).
                tags=[MLFLOW_TAG],
            ),
            Node(
                func=plot_search_comparison,
                inputs="model_search",
                outputs="model_search_comparison",
                name="plot_search_comparison",
            ),
            Node(
                func=fit_chosen_model,
                inputs=[
                    "train_reviews", "model_search", "params:feature_engineering", "params:training"
                ],
                outputs=["searched_model", "model_selection", "searched_cv_metrics"],
                name="fit_chosen_model",
            ),
            Node(
                func=evaluate_chosen_model,
                inputs=["searched_model", "test_reviews"],
                outputs=[
                    "searched_test_metrics", "searched_test_confusion_matrix", "searched_test_pr_curves"
                ],
                name="evaluate_chosen_model",
            ),
            Node(
                func=register_best_model,
                inputs=["searched_model", "model_selection", "test_reviews", "params:training"],
                outputs="model_registration",
                name="register_chosen_model",
                tags=[MLFLOW_TAG],
            ),
        ]
    )
