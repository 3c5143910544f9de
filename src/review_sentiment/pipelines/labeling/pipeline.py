"""Input manifest → labels from the configured workforce → Ground Truth output manifest,
plus what people should label next and a review queue of likely label errors."""

from kedro.pipeline import Node, Pipeline

from .nodes import find_label_issues, label_reviews


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=label_reviews,
                inputs=[
                    "input_manifest",
                    "label_categories",
                    "human_annotations",
                    "previous_output_manifest",
                    "params:labeling",
                ],
                outputs=[
                    "output_manifest@lines",
                    "labeling_summary",
                    "labeling_iterations",
                    "labeling_queue",
                    "annotator_quality",
                ],
                name="label_reviews",
            ),
            Node(
                func=find_label_issues,
                inputs=["output_manifest@lines", "label_categories", "params:labeling"],
                outputs="label_review_queue",
                name="find_label_issues",
            ),
        ]
    )
