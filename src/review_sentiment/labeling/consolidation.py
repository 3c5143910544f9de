"""Consolidates several annotators' labels for the same reviews into one label per review, with a
confidence, and scores the annotators, using crowd-kit's Dawid-Skene (or majority vote as a baseline).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote

from review_sentiment.ground_truth.categories import check_classes
from review_sentiment.ground_truth.records import Label

METHODS = ("dawid_skene", "majority")
ANNOTATION_COLUMNS = ("item_key", "annotator", "class_name")
ITEM_COLUMNS = ("item_key", "class_name", "confidence", "annotations")
ANNOTATOR_COLUMNS = ("annotator", "quality", "labels")

# Dawid-Skene's defaults in crowd-kit; EM converges in a few dozen iterations on review-sized sets.
_DS_ITERATIONS = 100
_DS_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Consolidated:
    """One label per item and one quality score per annotator.

    items: item_key, class_name (the consensus), confidence (probability that class_name is the
        true class: the Dawid-Skene posterior, or the vote share for `majority`), annotations
        (how many labels the item had); in order of first appearance.
    annotators: annotator, quality (estimated accuracy; NaN for an annotator who shares no item
        with another, as nothing can check them), labels (how many labels they gave).
    """

    items: pd.DataFrame
    annotators: pd.DataFrame
    method: str
    # Each item's posterior over the classes (rows by item_key, one column per class; the vote
    # shares for `majority`), for callers that weigh a prediction by the chance it is right.
    probabilities: pd.DataFrame | None = None

    def to_labels(self, *, human_annotated: bool = True) -> dict[Hashable, Label]:
        """The consensus as Ground Truth labels, by item key."""
        return {
            row.item_key: Label(row.class_name, float(row.confidence), human_annotated)
            for row in self.items.itertuples(index=False)
        }


def consolidate(
    annotations: pd.DataFrame,
    classes: list[str],
    *,
    method: Literal["dawid_skene", "majority"] = "dawid_skene",
) -> Consolidated:
    """The consensus class of every item and a quality score for every annotator.

    `annotations` has one row per label: item_key, annotator, class_name.

    dawid_skene (Dawid & Skene 1979, crowd-kit's EM implementation) learns each annotator's
    confusion matrix, so a reliable annotator outweighs an unreliable one; confidence is the
    posterior of the consensus class and quality is the annotator's expected accuracy,
    sum over classes c of prior(c) * P(annotator says c | true class c).
    majority (crowd-kit's MajorityVote) is the baseline: confidence is the share of the item's
    annotators who chose the class, quality the share of an annotator's labels that agree with it.

    An item with one annotation keeps that label. With dawid_skene its confidence is the
    posterior of that label, i.e. that annotator's estimated precision for it, learned from the
    items they share with others; an annotator who shares no item cannot be checked, so their
    items get chance-level confidence 1/len(classes) (and the annotator quality NaN). With
    majority it is 1.0, the vote share.
    Classes nobody chose get probability 0. Exact ties go to the class listed first in `classes`.

    Raises:
        ValueError: a missing column or value, an unknown method, fewer than two distinct
            classes, an annotator labeling the same item twice, or a label not in `classes`
            (naming item, annotator and label).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    check_classes(classes)
    data = _checked_annotations(annotations, classes)
    if data.empty:
        return Consolidated(
            items=pd.DataFrame(columns=list(ITEM_COLUMNS)),
            annotators=pd.DataFrame(columns=list(ANNOTATOR_COLUMNS)),
            method=method,
        )

    counts = data.groupby("task", sort=False).size()
    # Only annotators who share an item with someone else can be checked against anyone.
    shared_tasks = counts.index[counts > 1]
    scored = pd.Index(data.loc[data["task"].isin(shared_tasks), "worker"].unique())

    if method == "majority":
        model = MajorityVote().fit(data)
        probas = _by_class(model.probas_, classes)
        quality = model.skills_
    else:
        probas, quality = _dawid_skene(data[data["worker"].isin(scored)], classes)
    # Items of unchecked annotators have no Dawid-Skene row; they keep their label below.
    probas = probas.reindex(counts.index).fillna(0.0)

    consensus = probas.idxmax(axis="columns")  # idxmax takes the first maximum: `classes` order
    single = data[data["task"].map(counts) == 1].set_index("task")
    consensus.loc[single.index] = single["label"]
    confidence = pd.Series(
        probas.to_numpy()[np.arange(len(probas)), probas.columns.get_indexer(consensus)],
        index=probas.index,
    )
    unchecked = single.index[~single["worker"].isin(scored)]
    if method == "dawid_skene":
        confidence.loc[unchecked] = 1.0 / len(classes)

    items = pd.DataFrame(
        {
            "item_key": counts.index,
            "class_name": consensus.to_numpy(),
            "confidence": confidence.to_numpy(dtype=float),
            "annotations": counts.to_numpy(dtype=int),
        }
    )
    labels_given = data.groupby("worker", sort=False).size()
    annotators = pd.DataFrame(
        {
            "annotator": labels_given.index,
            "quality": quality.reindex(labels_given.index)
            .where(labels_given.index.isin(scored))
            .to_numpy(dtype=float),
            "labels": labels_given.to_numpy(dtype=int),
        }
    )
    return Consolidated(items=items, annotators=annotators, method=method, probabilities=probas)


def _dawid_skene(data: pd.DataFrame, classes: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Per-task class posteriors and per-worker expected accuracy from crowd-kit's Dawid-Skene."""
    if data.empty:
        return pd.DataFrame(columns=classes, dtype=float), pd.Series(dtype=float)
    model = DawidSkene(n_iter=_DS_ITERATIONS, tol=_DS_TOLERANCE).fit(data)
    priors = model.priors_.reindex(classes, fill_value=0.0)
    # errors_ rows are (worker, observed label), columns the true label: P(observed | true).
    errors = model.errors_.reindex(columns=classes, fill_value=0.0)
    observed = errors.index.get_level_values("label")
    # A worker who never used class c says c with probability 0 when c is true: no term for c.
    p_correct = errors.to_numpy()[np.arange(len(errors)), errors.columns.get_indexer(observed)]
    weighted = pd.Series(
        p_correct * priors.reindex(observed).to_numpy(),
        index=errors.index.get_level_values("worker"),
    )
    quality = weighted.groupby(level=0, sort=False).sum()
    return _by_class(model.probas_, classes), quality


def _by_class(probas: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """Probabilities with one column per class, in `classes` order; unseen classes get 0."""
    return probas.reindex(columns=classes, fill_value=0.0).astype(float)


def _checked_annotations(annotations: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """The annotations in crowd-kit's task/worker/label columns, after checking every row."""
    missing = [column for column in ANNOTATION_COLUMNS if column not in annotations.columns]
    if missing:
        raise ValueError(
            f"annotations need columns {', '.join(ANNOTATION_COLUMNS)}; missing {', '.join(missing)}"
        )
    data = annotations.loc[:, list(ANNOTATION_COLUMNS)].reset_index(drop=True)
    blank = data[data.isna().any(axis=1)]
    if not blank.empty:
        row = blank.index[0]
        raise ValueError(
            f"annotation row {row} has an empty value: {blank.iloc[0].to_dict()} "
            f"({len(blank)} row(s) with empty values)"
        )
    unknown = data[~data["class_name"].isin(classes)]
    if not unknown.empty:
        first = unknown.iloc[0]
        more = f" ({len(unknown) - 1} more label(s) outside the classes)" if len(unknown) > 1 else ""
        raise ValueError(
            f"item {first['item_key']!r}, annotator {first['annotator']!r}: label "
            f"{first['class_name']!r} is not one of {', '.join(classes)}{more}"
        )
    repeated = data[data.duplicated(["item_key", "annotator"], keep=False)]
    if not repeated.empty:
        first = repeated.iloc[0]
        raise ValueError(
            f"item {first['item_key']!r}: annotator {first['annotator']!r} labeled it "
            f"{int((repeated['item_key'] == first['item_key']).sum())} times; keep one label per "
            "annotator and item"
        )
    return data.rename(columns={"item_key": "task", "annotator": "worker", "class_name": "label"})
