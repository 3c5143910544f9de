"""Review texts made fit to label: HTML and whitespace cleaned, texts too long for Ground Truth
cut or skipped, empty and duplicate texts dropped, and a reproducible sample; on a pandas table
here, on a Spark one in `spark_engine`."""

from __future__ import annotations

import html
import logging
import re

import pandas as pd

from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.params import ExtractionParams

logger = logging.getLogger(__name__)

_LINE_BREAK = re.compile(r"<br\s*/?>", flags=re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SPACE = re.compile(r"\s+")
# A word cut in half reads as a typo: a truncated text ends at the last space within this many
# characters of the limit.
_WORD_BOUNDARY_WINDOW = 200


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


def clean_reviews(reviews, params: ExtractionParams) -> tuple[pd.DataFrame, dict[str, int]]:
    """Cleans the text, deals with texts too long for Ground Truth (`params.too_long`), then drops
    empty texts and exact duplicate texts (first one in file order kept).

    Returns:
        The clean reviews (pandas, or Spark for a Spark table) and the counts of what was dropped
        or cut, for the run's record.
    """
    if not isinstance(reviews, pd.DataFrame):
        from review_sentiment.reviews import spark_engine

        kept, counts = spark_engine.clean(reviews, params)
        _log_counts(counts)
        return kept, counts
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
    _log_counts(counts)
    return kept, counts


def _log_counts(counts: dict[str, int]) -> None:
    logger.info(
        "Dropped %d empty and %d duplicate texts; %d of %d reviews kept",
        counts["empty_texts_dropped"],
        counts["duplicate_texts_dropped"],
        counts["rows_kept"],
        counts["rows_read"],
    )


def sample_reviews(reviews, params: ExtractionParams):
    """Takes a reproducible random sample of `sample_size` reviews (all of them if fewer or unset).

    pandas draws with `DataFrame.sample(random_state=seed)`, Spark takes the reviews whose
    `xxhash64(seed, text)` is smallest: each is reproducible and exact, but they pick different
    reviews for the same seed."""
    if not isinstance(reviews, pd.DataFrame):
        from review_sentiment.reviews import spark_engine

        return spark_engine.sample(reviews, params)
    if params.sample_size is None or params.sample_size >= len(reviews):
        return reviews.copy()
    return reviews.sample(n=params.sample_size, random_state=params.seed).reset_index(drop=True)
