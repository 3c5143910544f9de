"""Raw review file → table → clean sample → Ground Truth input manifest, categories and
instructions."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_input_manifest,
    build_label_categories,
    build_worker_instructions,
    clean_reviews,
    parse_raw_reviews,
    sample_reviews,
    select_review_fields,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=parse_raw_reviews,
                inputs=["raw_reviews", "params:data_extraction", "spark"],
                outputs="raw_review_table",
                name="parse_raw_reviews",
            ),
            Node(
                func=select_review_fields,
                inputs=["raw_review_table", "params:data_extraction"],
                outputs="reviews",
                name="select_review_fields",
            ),
            Node(
                func=clean_reviews,
                inputs=["reviews", "params:data_extraction"],
                outputs=["clean_reviews", "cleaning_report"],
                name="clean_reviews",
            ),
            Node(
                func=sample_reviews,
                inputs=["clean_reviews", "params:data_extraction"],
                outputs="review_sample",
                name="sample_reviews",
            ),
            Node(
                func=build_input_manifest,
                inputs="review_sample",
                outputs="input_manifest",
                name="build_input_manifest",
            ),
            Node(
                func=build_label_categories,
                inputs="params:data_extraction",
                outputs="label_categories",
                name="build_label_categories",
            ),
            Node(
                func=build_worker_instructions,
                inputs="params:data_extraction",
                outputs="worker_instructions",
                name="build_worker_instructions",
            ),
        ]
    )
