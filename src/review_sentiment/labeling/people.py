"""The people workforce: labels given in the labeling app, consolidated per item."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import pandas as pd

from review_sentiment.ground_truth.records import Label
from review_sentiment.ground_truth.records import item_key, source_sha1

logger = logging.getLogger(__name__)


def answers_for(annotations: pd.DataFrame, items: Sequence[dict], job_name: str) -> pd.DataFrame:
    """People's standing answers to these items in the labeling job `job_name`: the same item key
    and the same text (from this batch or an earlier one of the job), each person's latest answer
    per item. Other jobs' answers are left alone."""
    wanted = {(item_key(item), source_sha1(item["source"])) for item in items}
    rows = annotations[annotations["job_name"] == job_name]
    matches = [pair in wanted for pair in zip(rows["item_key"], rows["source_sha1"], strict=True)]
    rows = rows[matches] if len(rows) else rows
    return rows.sort_values("created_at", kind="stable").drop_duplicates(
        ["item_key", "annotator"], keep="last"
    )


class PeopleWorkforce:
    """Answers with the consensus of what people saved in the label store.

    An item counts as labeled once `per_item` people have labeled it (Ground Truth's
    NumberOfHumanWorkersPerDataObject); until then it gets `None` and stays in the app's queue.
    Consolidation is Dawid-Skene (crowd-kit) when items have several labels; when every item has
    one label there is nothing to weigh, so the label stands (majority vote, confidence 1).
    """

    name = "people"

    def __init__(
        self,
        annotations: pd.DataFrame,
        *,
        per_item: int = 1,
        method: Literal["dawid_skene", "majority"] = "dawid_skene",
    ) -> None:
        self._annotations = annotations
        self._per_item = per_item
        self._method = method
        self.annotator_quality = pd.DataFrame(columns=["annotator", "quality", "labels"])

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]:
        from review_sentiment.labeling.consolidation import consolidate  # imports nltk: slow

        keys = [item_key(item) for item in items]
        wanted = self._annotations[self._annotations["item_key"].isin(keys)]
        counts = wanted.groupby("item_key").size()
        ready = wanted[wanted["item_key"].isin(counts[counts >= self._per_item].index)]
        if ready.empty:
            logger.info("People have labeled none of these %d items yet", len(keys))
            return [None] * len(keys)
        method = self._method if counts.max() > 1 else "majority"
        result = consolidate(
            ready[["item_key", "annotator", "class_name"]], list(classes), method=method
        )
        self.annotator_quality = result.annotators
        labels = result.to_labels(human_annotated=True)
        logger.info(
            "People labeled %d of %d items (%d labels, %s consolidation)",
            len(labels), len(keys), len(ready), method,
        )
        return [labels.get(key) for key in keys]

    def answer_counts(self, items: Sequence[dict]) -> list[int]:
        """How many people have answered each item so far (each person once)."""
        rows = self._annotations.drop_duplicates(["item_key", "annotator"])
        counts = rows.groupby("item_key").size()
        return [int(counts.get(item_key(item), 0)) for item in items]

    def answers(
        self, items: Sequence[dict], classes: Sequence[str], n: int
    ) -> list[list[tuple[str, Label]]]:
        """What the label store holds for each item: up to `n` answers, each person's latest,
        as `(annotator, label)` in the order given; [] for an item nobody labeled. People cannot
        be made to answer more now: an item with fewer than `n` simply has fewer (the labeling
        queue asks more people for it, see `AskedButUnanswered`)."""
        keys = [item_key(item) for item in items]
        rows = self._annotations[self._annotations["item_key"].isin(keys)]
        if "created_at" in rows.columns:
            rows = rows.sort_values("created_at", kind="stable")
        rows = rows.drop_duplicates(["item_key", "annotator"], keep="last")
        by_key: dict[str, list[tuple[str, Label]]] = {}
        for row in rows.itertuples(index=False):
            # A class outside `classes` is passed on for the caller to name, not dropped.
            by_key.setdefault(row.item_key, []).append(
                (str(row.annotator), Label(row.class_name, 1.0, human_annotated=True))
            )
        return [by_key.get(key, [])[:n] for key in keys]
