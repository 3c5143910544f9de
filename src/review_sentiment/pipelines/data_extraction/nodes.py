"""Raw reviews to a Ground Truth input manifest: select, clean, de-duplicate, sample."""

from __future__ import annotations

import html
import logging
import re

import pandas as pd

from review_sentiment.ground_truth.categories import label_categories
from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import LineProblem, parse_input_line
from review_sentiment.params import ExtractionParams

logger = logging.getLogger(__name__)

REVIEW_COLUMNS = ["review_id", "text", "star_rating", "product_category"]

_LINE_BREAK = re.compile(r"<br\s*/?>", flags=re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SPACE = re.compile(r"\s+")
# A word cut in half reads as a typo: a truncated text ends at the last space within this many
# characters of the limit.
_WORD_BOUNDARY_WINDOW = 200


class ReviewDataError(ValueError):
    """Raw reviews that cannot be used: names the source, the row and the field."""


def _source(raw: pd.DataFrame) -> str:
    # Set by the project's hook from the catalog entry, so errors name the real file.
    return raw.attrs.get("source", "raw_reviews")


def select_review_fields(raw_reviews: pd.DataFrame, params: ExtractionParams) -> pd.DataFrame:
    """Keeps id, text (headline + body), star rating and category under the project's names.

    Raises:
        ReviewDataError: a mapped column is missing, or a star rating is not a whole number 1-5.
    """
    mapping = params.columns
    wanted = {
        field: column for field, column in mapping.model_dump().items() if column is not None
    }
    missing = {field: column for field, column in wanted.items() if column not in raw_reviews}
    if missing:
        described = ", ".join(f"{column!r} (for {field})" for field, column in missing.items())
        raise ReviewDataError(
            f"{_source(raw_reviews)}: missing column {described}; "
            f"columns present: {', '.join(map(str, raw_reviews.columns))}"
        )

    headline = _text_column(raw_reviews, mapping.review_headline)
    body = _text_column(raw_reviews, mapping.review_body)
    stars = pd.to_numeric(raw_reviews[mapping.star_rating], errors="coerce")
    bad = stars.isna() | ~stars.isin([1, 2, 3, 4, 5])
    if bad.any():
        row = bad.idxmax()
        raise ReviewDataError(
            f"{_source(raw_reviews)}: row {row + 1} (review_id "
            f"{raw_reviews[mapping.review_id].iloc[row]!r}), field {mapping.star_rating!r}: "
            f"star rating {raw_reviews[mapping.star_rating].iloc[row]!r} is not a whole number 1-5"
        )
    category = _text_column(raw_reviews, mapping.product_category)
    return pd.DataFrame(
        {
            "review_id": raw_reviews[mapping.review_id].astype(str),
            "text": _join_headline(headline, body) if mapping.review_headline else body,
            "star_rating": stars.astype(int),
            "product_category": category,
        }
    )[REVIEW_COLUMNS]


def _text_column(raw: pd.DataFrame, column: str | None) -> pd.Series | str:
    """A text column with missing values as "", or "" for a field the file does not have."""
    return raw[column].fillna("").astype(str) if column else ""


def _join_headline(headline: pd.Series, body: pd.Series) -> pd.Series:
    # "Five Stars" + "As described." reads as one text; an empty part adds no separator.
    both = headline.str.strip().ne("") & body.str.strip().ne("")
    return headline.where(~both, headline + ". ") + body


def clean_text(text: str) -> str:
    """Decodes HTML entities, turns `<br />` and other tags into spaces, collapses whitespace."""
    text = _LINE_BREAK.sub(" ", text)
    text = html.unescape(text)
    text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def truncate_text(text: str, limit: int = MAX_ATTRIBUTE_CHARS) -> str:
    """At most `limit` characters of `text`, ending at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", limit - _WORD_BOUNDARY_WINDOW)
    return (cut[:space] if space > 0 else cut).rstrip()


def clean_reviews(
    reviews: pd.DataFrame, params: ExtractionParams
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Cleans the text, deals with texts too long for Ground Truth (`params.too_long`), then drops
    empty texts and exact duplicate texts (first one kept).

    Returns:
        The clean reviews and the counts of what was dropped or cut, for the run's record.
    """
    cleaned = reviews.assign(text=reviews["text"].map(clean_text))
    too_long = cleaned["text"].str.len() > MAX_ATTRIBUTE_CHARS
    if params.too_long == "truncate":
        cleaned.loc[too_long, "text"] = cleaned.loc[too_long, "text"].map(truncate_text)
    else:
        cleaned = cleaned.loc[~too_long]
    if too_long.any():
        logger.warning(
            "%d review text(s) are longer than Ground Truth takes (%s characters): %s "
            "(data_extraction.too_long)",
            int(too_long.sum()),
            f"{MAX_ATTRIBUTE_CHARS:,}",
            "truncated" if params.too_long == "truncate" else "skipped",
        )
    empty = cleaned["text"].eq("")
    non_empty = cleaned.loc[~empty]
    duplicate = non_empty["text"].duplicated(keep="first")
    kept = non_empty.loc[~duplicate].reset_index(drop=True)
    counts = {
        "rows_read": len(reviews),
        "too_long_texts_skipped": int(too_long.sum()) if params.too_long == "skip" else 0,
        "too_long_texts_truncated": int(too_long.sum()) if params.too_long == "truncate" else 0,
        "empty_texts_dropped": int(empty.sum()),
        "duplicate_texts_dropped": int(duplicate.sum()),
        "rows_kept": len(kept),
    }
    logger.info(
        "Dropped %d empty and %d duplicate texts; %d of %d reviews kept",
        counts["empty_texts_dropped"],
        counts["duplicate_texts_dropped"],
        counts["rows_kept"],
        counts["rows_read"],
    )
    return kept, counts


def sample_reviews(reviews: pd.DataFrame, params: ExtractionParams) -> pd.DataFrame:
    """Takes a reproducible random sample of `sample_size` reviews (all of them if fewer or unset)."""
    if params.sample_size is None or params.sample_size >= len(reviews):
        return reviews.copy()
    return reviews.sample(n=params.sample_size, random_state=params.seed).reset_index(drop=True)


def build_input_manifest(reviews: pd.DataFrame) -> list[dict]:
    """One Ground Truth input-manifest line per review: inline `source` text plus our own keys.

    Ground Truth passes extra keys through to the output manifest, which is how the review id
    and the star rating reach the labeling and training steps.

    Raises:
        ManifestError: a line Ground Truth would refuse (e.g. a review id over its size limit);
            texts were made to fit by `clean_reviews`, so this is a bug or odd data, not a skip.
    """
    lines = [
        {
            "source": row.text,
            "review_id": row.review_id,
            "star_rating": int(row.star_rating),
            "product_category": row.product_category,
        }
        for row in reviews.itertuples(index=False)
    ]
    for index, line in enumerate(lines):
        try:
            parse_input_line(line)
        except LineProblem as problem:
            review_id = str(line["review_id"])[:40]
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
