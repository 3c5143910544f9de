"""Checks the labels: likely label errors, for people to review. (The labeling itself is
`labeling.batch.label_reviews`, shared with the refresh.)"""

from __future__ import annotations

import logging

from review_sentiment.ground_truth.categories import label_classes
from review_sentiment.ground_truth.records import item_key
from review_sentiment.params import LabelingParams

logger = logging.getLogger(__name__)


def find_label_issues(
    output_manifest: list[dict], label_categories: dict, params: LabelingParams
) -> list[dict]:
    """Likely label errors in the labeled set, worst first, for people to review.

    Empty when switched off or when a class has too few labels to cross-validate (logged).
    """
    settings = params.label_issues
    if not settings.enabled or not output_manifest:
        return []
    from review_sentiment.labeling.label_issues import find_label_issues as search, to_review_queue

    classes = label_classes(label_categories)
    metadata = f"{params.label_attribute}-metadata"
    texts = [line["source"] for line in output_manifest]
    labels = [line[metadata]["class-name"] for line in output_manifest]
    try:
        issues = search(
            texts, labels, classes, cv_folds=settings.cv_folds, seed=settings.seed,
            max_train_rows=settings.max_train_rows, n_features=settings.n_features,
            epochs=settings.epochs,
        )
    except ValueError as error:
        logger.warning("Label issues not searched: %s", error)
        return []
    queue = to_review_queue(issues)
    for row in queue:
        # A review without an id (e.g. the bundled clothing reviews) is named by its text's key.
        line = output_manifest[row["position"]]
        row["review_id"] = line.get("review_id")
        row["item_key"] = item_key(line)
    logger.info("%d likely label errors among %d labels", len(queue), len(labels))
    return queue
