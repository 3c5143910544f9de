"""The refresh's one yardstick: a test set of trusted labels, frozen the first time and kept until
rotated on purpose, that every candidate and the champion are scored on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from review_sentiment.ground_truth.records import item_key
from review_sentiment.labeling.labeled_set import WORKFORCE_FIELD, LabeledSet
from review_sentiment.params import ExtractionParams, LabelingParams, RefreshParams

logger = logging.getLogger(__name__)


def freeze_test_set(
    labeled_set: LabeledSet,
    test_set_before: dict | None,
    extraction: ExtractionParams,
    labeling: LabelingParams,
    params: RefreshParams,
) -> dict:
    """The one test set every candidate and the champion are scored on: the one frozen before,
    unless `params.rotate_test_set`; else a stratified, seeded share of the trusted labels so
    far (`params.test_set.trusted`), with its fingerprint, when and how it was drawn.

    Empty (`items: []`) while nothing is labeled.

    Raises:
        ValueError: labels exist but too few are trusted to draw a stratified test set.
    """
    from sklearn.model_selection import train_test_split

    from review_sentiment.registry import test_set_fingerprint

    if test_set_before and test_set_before.get("items") and not params.rotate_test_set:
        before = test_set_before
        logger.info(
            "Frozen test set: %d reviews, fingerprint %s…, drawn %s",
            len(before["items"]), before["fingerprint"][:12], before["created"],
        )  # fmt: skip
        return test_set_before
    metadata = f"{labeling.label_attribute}-metadata"
    trusted = [line for line in labeled_set.lines if _trusted(line, metadata, params.test_set.trusted)]
    if not labeled_set.lines:
        return {"items": []}
    labels = [line[metadata]["class-name"] for line in trusted]
    counts = pd.Series(labels, dtype=object).value_counts()
    if len(counts) < 2 or (counts < 2).any():
        raise ValueError(
            f"cannot draw the frozen test set: {len(trusted)} of {len(labeled_set.lines)} labels are "
            f"trusted ({', '.join(params.test_set.trusted)}), by class {counts.to_dict()}; each class "
            "needs 2 or more: label more reviews with people, or change refresh.test_set.trusted"
        )
    _, chosen = train_test_split(
        trusted, test_size=params.test_set.size, random_state=params.test_set.seed, stratify=labels
    )
    items = [
        {"key": item_key(line), "text": line["source"], "label": line[metadata]["class-name"]}
        for line in chosen
    ]
    test_set = {
        "fingerprint": test_set_fingerprint([i["text"] for i in items], [i["label"] for i in items]),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "how": (
            f"stratified {params.test_set.size:.0%} of {len(trusted)} trusted labels "
            f"({', '.join(params.test_set.trusted)}), seed {params.test_set.seed}"
        ),
        "rotated_from": (test_set_before or {}).get("fingerprint") if params.rotate_test_set else None,
        "items": items,
    }
    if test_set["rotated_from"]:
        logger.warning(
            "Frozen test set rotated on purpose (refresh.rotate_test_set): %d reviews, fingerprint "
            "%s… replaces %s…",
            len(items), test_set["fingerprint"][:12], test_set["rotated_from"][:12],
        )  # fmt: skip
    else:
        logger.info("Frozen test set drawn: %d reviews (%s)", len(items), test_set["how"])
    return test_set


def _trusted(line: dict, metadata: str, trusted: Sequence[str]) -> bool:
    by_people = line[metadata].get("human-annotated") == "yes"
    by_stars = line.get(WORKFORCE_FIELD) == "star_rating"
    return ("human" in trusted and by_people) or ("star_rating" in trusted and by_stars)


def test_reviews_of(test_set: dict) -> pd.DataFrame:
    """The frozen test set as a `text`, `label` table."""
    return pd.DataFrame(test_set.get("items") or [], columns=["key", "text", "label"])[["text", "label"]]
