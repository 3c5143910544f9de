"""Labels the input manifest with the workforce chosen in parameters."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

from review_sentiment.labeling.ground_truth import label_classes, labeled_line
from review_sentiment.labeling.workforces import LabelingError, StarRatingLabeler, Workforce
from review_sentiment.params import LabelingParams

logger = logging.getLogger(__name__)


def make_workforce(params: LabelingParams) -> Workforce:
    """The workforce named by `labeling.workforce`."""
    if params.workforce == "star_rating":
        return StarRatingLabeler(params.star_rating)
    raise ValueError(f"unknown workforce {params.workforce!r}")  # pragma: no cover - pydantic


def label_reviews(
    input_manifest: list[dict], label_categories: dict, params: LabelingParams
) -> list[dict]:
    """Labels every item and returns the Ground Truth output manifest (labeled items only).

    Raises:
        LabelingError: an input line has no text, or the workforce cannot label it.
    """
    classes = label_classes(label_categories)
    for line, item in enumerate(input_manifest, start=1):
        source = item.get("source")
        if not isinstance(source, str) or not source.strip():
            raise LabelingError(f"line {line} of the input manifest: field 'source' is empty")
    workforce = make_workforce(params)
    labels = workforce.label(input_manifest, classes)
    created = datetime.now(UTC)
    output = [
        labeled_line(
            item,
            label,
            attribute=params.label_attribute,
            classes=classes,
            job_name=params.job_name,
            created=created,
        )
        for item, label in zip(input_manifest, labels, strict=True)
        if label is not None
    ]
    counts = Counter(line[f"{params.label_attribute}-metadata"]["class-name"] for line in output)
    logger.info(
        "Workforce %s labeled %d of %d items: %s",
        workforce.name,
        len(output),
        len(input_manifest),
        dict(sorted(counts.items())),
    )
    return output
