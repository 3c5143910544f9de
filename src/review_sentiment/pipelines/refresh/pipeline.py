"""Arrivals → new reviews only → labeled by the workforce as the labeled set's next round (the one
set the labeling pipeline also appends to) → frozen test set → candidate → McNemar gate against the
champion → redeploy if it moved → summary. Not part of `__default__` (the plain end-to-end run)."""

from kedro.pipeline import Node, Pipeline

from review_sentiment.hooks import MLFLOW_TAG
from review_sentiment.labeling.labeled_set import append_label_round, collect_labeled_set
from review_sentiment.pipelines.data_extraction.nodes import (
    build_input_manifest,
    build_label_categories,
)

from .nodes import (
    decide_champion,
    freeze_test_set,
    label_new_reviews,
    read_arrivals,
    redeploy_if_promoted,
    select_new_reviews,
    summarise_refresh,
    train_candidate,
)


def create_pipeline(**kwargs) -> Pipeline:
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
                func=train_candidate,
                inputs=[
                    "labeled_set",
                    "new_labels",
                    "frozen_test_set",
                    "params:labeling",
                    "params:feature_engineering",
                    "params:training",
                ],
                outputs="refresh_candidate",
                name="train_candidate",
            ),
            Node(
                func=decide_champion,
                inputs=[
                    "refresh_candidate",
                    "frozen_test_set",
                    "labeled_set",
                    "params:data_extraction",
                    "params:refresh",
                    "params:training",
                ],
                outputs="refresh_decision",
                name="decide_champion",
                # It logs the model and the dataset inputs in the run itself (registry.py).
                tags=[MLFLOW_TAG],
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
