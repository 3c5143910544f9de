"""Input manifest → labels from the configured workforce → the next round of the labeled set and
its Ground Truth output manifest, plus what people should label next and a review queue of likely
label errors."""

from kedro.pipeline import Node, Pipeline

from review_sentiment.labeling.batch import label_reviews
from review_sentiment.labeling.labeled_set import append_label_round, collect_labeled_set

from .nodes import find_label_issues


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=collect_labeled_set,
                inputs=["label_rounds", "previous_output_manifest", "label_categories", "params:labeling"],
                outputs="labeled_before",
                name="collect_labeled_set",
            ),
            Node(
                func=label_reviews,
                inputs=[
                    "input_manifest",
                    "label_categories",
                    "human_annotations",
                    "labeled_before",
                    "params:labeling",
                ],
                outputs=[
                    "new_labels",
                    "labeling_summary",
                    "labeling_iterations",
                    "labeling_queue",
                    "annotator_quality",
                ],
                name="label_reviews",
            ),
            Node(
                func=append_label_round,
                inputs=["labeled_before", "new_labels", "label_categories", "params:labeling"],
                outputs=["new_label_round", "labeled_set", "output_manifest@lines"],
                name="append_label_round",
            ),
            Node(
                func=find_label_issues,
                inputs=["output_manifest@lines", "label_categories", "params:labeling"],
                outputs="label_review_queue",
                name="find_label_issues",
            ),
        ]
    )
