"""What a Ground Truth text-classification job is given: the input manifest of the reviews (one
line per review, with our keys passed through), the label categories and the workers'
instructions."""

from __future__ import annotations

import html

import pandas as pd

from review_sentiment.ground_truth.categories import label_categories
from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import LineProblem, parse_input_line
from review_sentiment.params import ExtractionParams


def build_input_manifest(reviews: pd.DataFrame) -> list[dict]:
    """One Ground Truth input-manifest line per review: inline `source` text plus our own keys.

    Ground Truth passes extra keys through to the output manifest, which is how the review id
    and the star rating reach the labeling and training steps. For a Spark table, the lines are
    a Spark table of their JSON texts (`_order`, `value`), which `InputManifestDataset` writes
    as one file with the same bytes.

    Raises:
        ManifestError: a line Ground Truth would refuse (e.g. a review id over its size limit);
            texts were made to fit by `clean_reviews`, so this is a bug or odd data, not a skip.
    """
    if not isinstance(reviews, pd.DataFrame):
        from review_sentiment.reviews import spark_engine

        return spark_engine.manifest_lines(reviews)
    lines = [
        {
            "source": row.text,
            # No id (a file without review ids): Ground Truth and this project then key the
            # review by its text (ground_truth.records.item_key).
            **({"review_id": row.review_id} if row.review_id else {}),
            "star_rating": int(row.star_rating),
            "product_category": row.product_category,
        }
        for row in reviews.itertuples(index=False)
    ]
    for index, line in enumerate(lines):
        try:
            parse_input_line(line)
        except LineProblem as problem:
            review_id = str(line.get("review_id", ""))[:40]
            raise ManifestError(
                f"element {index} of the input manifest (review_id {review_id!r}): {problem}"
            ) from None
    return lines


def build_label_categories(params: ExtractionParams) -> dict:
    """The label category configuration file of a Ground Truth text classification job."""
    return label_categories(params.labels)


def build_worker_instructions(params: ExtractionParams) -> str:
    """Short instructions for workers, in the HTML fragment Ground Truth's templates take."""
    items = "\n".join(f"  <li><strong>{html.escape(label)}</strong></li>" for label in params.labels)
    return (
        f"<h2>{html.escape(params.instructions_title)}</h2>\n"
        "<p>Read the whole review, then choose the one label that best describes how the "
        "writer feels about the product.</p>\n"
        f"<ul>\n{items}\n</ul>\n"
        "<p>Judge the text, not the product: a review that praises a cheap product is positive. "
        "Mixed or purely factual reviews are neutral. Skip a review you cannot read.</p>\n"
    )
