"""Input manifest → labels from the configured workforce → Ground Truth output manifest."""

from kedro.pipeline import Node, Pipeline

from .nodes import label_reviews


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=label_reviews,
                inputs=["input_manifest", "label_categories", "params:labeling"],
                outputs="output_manifest@lines",
                name="label_reviews",
            ),
        ]
    )
