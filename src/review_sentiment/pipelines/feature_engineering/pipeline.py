"""Output manifest (read with Spark) → stratified split → bigram and bigram TF-IDF features."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_bigram_features, build_tfidf_features, read_labeled_manifest, split_reviews


def feature_sets_pipeline() -> Pipeline:
    """Train and test texts → the original two feature sets: what the refresh also builds."""
    return Pipeline(
        [
            Node(
                func=build_bigram_features,
                inputs=["train_reviews", "test_reviews", "params:feature_engineering"],
                outputs=["bigram_vectorizer", "bigram_train_features", "bigram_test_features"],
                name="build_bigram_features",
            ),
            Node(
                func=build_tfidf_features,
                inputs=["bigram_train_features", "bigram_test_features"],
                outputs=["tfidf_transformer", "tfidf_train_features", "tfidf_test_features"],
                name="build_tfidf_features",
            ),
        ]
    )


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
