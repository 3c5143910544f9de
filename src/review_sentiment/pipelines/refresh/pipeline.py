"""Arrivals → new reviews only → labeled by the workforce as the labeled set's next round (the one
set the labeling pipeline also appends to) → frozen test set → the training data → feature_
engineering's feature nodes and the training pipeline's own nodes, in the `refresh` namespace →
McNemar gate against the champion → redeploy if it moved → summary. Not part of `__default__`
(the plain end-to-end run)."""

from kedro.pipeline import Node, Pipeline

from review_sentiment.hooks import MLFLOW_TAG
from review_sentiment.labeling.labeled_set import (
    append_label_round,
    collect_labeled_set,
)
from review_sentiment.modeling.pipeline import feature_sets_pipeline, model_pipeline
from review_sentiment.modeling.skipping import unless_nothing_to_train
from review_sentiment.reviews.manifest import (
    build_input_manifest,
    build_label_categories,
)

from .arrivals import label_new_reviews, read_arrivals, select_new_reviews
from .gate import candidate_facts, decide_champion, redeploy_if_promoted, training_split
from .summary import summarise_refresh
from .test_set import freeze_test_set

# The namespace of the training pipeline's nodes in the refresh (`refresh.bigram_classifier`, …).
NAMESPACE = "refresh"
# What the refresh hands the training nodes, and takes back from them, by their names there.
TRAINING_INPUTS = {"train_reviews": "refresh_train_reviews", "test_reviews": "refresh_test_reviews"}
TRAINING_OUTPUTS = {
    "best_model": "refresh_model",
    "model_selection": "refresh_selection",
    "bigram_test_metrics": "refresh_bigram_scores",
    "tfidf_test_metrics": "refresh_tfidf_scores",
    "chosen_test_metrics": "refresh_chosen_scores",
}


def labeling_pipeline() -> Pipeline:
    """From the arrivals to the refresh's training data."""
    return Pipeline(
        [
            Node(
                func=build_label_categories,
                inputs="params:data_extraction",
                outputs="label_categories",
                name="build_refresh_label_categories",
            ),
            Node(
                func=collect_labeled_set,
                inputs=["label_rounds", "previous_output_manifest", "label_categories", "params:labeling"],
                outputs="labeled_before",
                name="collect_refresh_labeled_set",
            ),
            Node(
                func=read_arrivals,
                inputs=["refresh_raw_reviews", "labeled_before", "params:data_extraction"],
                outputs=["arrived_reviews", "arrivals_skipped"],
                name="read_arrivals",
            ),
            Node(
                func=select_new_reviews,
                inputs=["arrived_reviews", "labeled_before", "params:data_extraction", "arrivals_skipped"],
                outputs=["new_reviews", "new_reviews_report"],
                name="select_new_reviews",
            ),
            Node(
                func=build_input_manifest,
                inputs="new_reviews",
                outputs="input_manifest",
                name="build_refresh_input_manifest",
            ),
            Node(
                func=label_new_reviews,
                inputs=[
                    "input_manifest",
                    "label_categories",
                    "human_annotations",
                    "labeled_before",
                    "params:labeling",
                    "new_reviews",
                ],
                outputs=[
                    "new_labels",
                    "labeling_summary",
                    "labeling_iterations",
                    "labeling_queue",
                    "annotator_quality",
                ],
                name="label_new_reviews",
            ),
            Node(
                func=append_label_round,
                inputs=["labeled_before", "new_labels", "label_categories", "params:labeling"],
                outputs=["new_label_round", "labeled_set", "output_manifest@lines"],
                name="append_refresh_label_round",
            ),
            Node(
                func=freeze_test_set,
                inputs=[
                    "labeled_set",
                    "frozen_test_set_before",
                    "params:data_extraction",
                    "params:labeling",
                    "params:refresh",
                ],
                outputs="frozen_test_set",
                name="freeze_test_set",
            ),
            Node(
                func=training_split,
                inputs=["labeled_set", "new_labels", "frozen_test_set", "params:labeling"],
                outputs=[TRAINING_INPUTS["train_reviews"], TRAINING_INPUTS["test_reviews"]],
                name="refresh_training_split",
            ),
        ]
    )


def decision_pipeline() -> Pipeline:
    """From the candidate the training nodes chose to the gate, the deployment and the summary."""
    return Pipeline(
        [
            Node(
                func=decide_champion,
                inputs=[
                    TRAINING_OUTPUTS["best_model"],
                    TRAINING_OUTPUTS["model_selection"],
                    TRAINING_INPUTS["train_reviews"],
                    TRAINING_INPUTS["test_reviews"],
                    "frozen_test_set",
                    "labeled_set",
                    "params:data_extraction",
                    "params:feature_engineering",
                    "params:refresh",
                    "params:training",
                ],
                outputs="refresh_decision",
                name="decide_champion",
                # It logs the model and the dataset inputs in the run itself (registry.py).
                tags=[MLFLOW_TAG],
            ),
            Node(
                func=candidate_facts,
                inputs=[
                    TRAINING_OUTPUTS["model_selection"],
                    TRAINING_INPUTS["train_reviews"],
                    TRAINING_INPUTS["test_reviews"],
                    TRAINING_OUTPUTS["bigram_test_metrics"],
                    TRAINING_OUTPUTS["tfidf_test_metrics"],
                    TRAINING_OUTPUTS["chosen_test_metrics"],
                ],
                outputs="refresh_candidate",
                name="describe_refresh_candidate",
            ),
            Node(
                func=redeploy_if_promoted,
                inputs=["refresh_decision", "frozen_test_set", "params:deployment"],
                outputs="refresh_deployment",
                name="redeploy_if_promoted",
            ),
            Node(
                func=summarise_refresh,
                inputs=[
                    "new_reviews_report",
                    "new_labels",
                    "labeling_summary",
                    "labeling_queue",
                    "labeled_set",
                    "frozen_test_set",
                    "refresh_candidate",
                    "refresh_decision",
                    "refresh_deployment",
                    "params:labeling",
                    "params:refresh",
                ],
                outputs="refresh_summary",
                name="summarise_refresh",
            ),
        ]
    )


def retraining_pipeline() -> Pipeline:
    """feature_engineering's feature nodes and the training nodes but registration, in the
    `refresh` namespace on the refresh's training data and frozen test set, each passing on the
    `NothingToTrain` it gets when no label is new."""
    retraining = unless_nothing_to_train(feature_sets_pipeline() + model_pipeline())
    return Pipeline(
        retraining,
        namespace=NAMESPACE,
        inputs=TRAINING_INPUTS,
        outputs=TRAINING_OUTPUTS,
        parameters={name for name in retraining.inputs() if name.startswith("params:")},
    )


def create_pipeline(**kwargs) -> Pipeline:
    return labeling_pipeline() + retraining_pipeline() + decision_pipeline()
