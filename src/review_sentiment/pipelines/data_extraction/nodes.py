"""data_extraction's nodes: raw reviews to a Ground Truth input manifest (parse, select, clean,
de-duplicate, sample). The steps are the reviews domain's (`review_sentiment.reviews`), which
other pipelines reuse; this module names the ones this pipeline runs."""

from review_sentiment.reviews import REVIEW_COLUMNS
from review_sentiment.reviews.cleaning import clean_reviews, clean_text, sample_reviews, truncate_text
from review_sentiment.reviews.errors import ReviewDataError
from review_sentiment.reviews.manifest import (
    build_input_manifest,
    build_label_categories,
    build_worker_instructions,
)
from review_sentiment.reviews.reading import (
    choose_engine,
    parse_raw_reviews,
    resolve_columns,
    select_review_fields,
)

__all__ = [
    "REVIEW_COLUMNS",
    "ReviewDataError",
    "build_input_manifest",
    "build_label_categories",
    "build_worker_instructions",
    "choose_engine",
    "clean_reviews",
    "clean_text",
    "parse_raw_reviews",
    "resolve_columns",
    "sample_reviews",
    "select_review_fields",
    "truncate_text",
]
