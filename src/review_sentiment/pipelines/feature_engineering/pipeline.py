"""Output manifest (read with Spark) → stratified split → bigram and bigram TF-IDF features (the
feature steps are `modeling.pipeline`'s, shared with the refresh)."""

from kedro.pipeline import Node, Pipeline

from review_sentiment.modeling.pipeline import feature_sets_pipeline

from .nodes import read_labeled_manifest, split_reviews


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=read_labeled_manifest,
                inputs=[
                    "output_manifest@spark",
                    "label_categories",
                    "params:feature_engineering",
                    "labeling_queue",
                ],
                outputs=["labeled_reviews", "manifest_quarantine", "manifest_report"],
                name="read_labeled_reviews",
            ),
            Node(
                func=split_reviews,
                inputs=["labeled_reviews", "params:feature_engineering"],
                outputs=["train_reviews", "test_reviews"],
                name="split_reviews",
            ),
        ]
    ) + feature_sets_pipeline()
