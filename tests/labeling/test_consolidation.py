"""Consolidating several annotators' labels: the consensus, its confidence, annotator quality."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from review_sentiment.labeling.consolidation import consolidate
from review_sentiment.ground_truth.records import Label

CLASSES = ["positive", "negative", "neutral"]
ERROR_RATES = {"good_a": 0.05, "good_b": 0.05, "good_c": 0.05, "sloppy": 0.60}


def _annotations(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item_key", "annotator", "class_name"])


@pytest.fixture(scope="module")
def crowd() -> tuple[pd.DataFrame, pd.Series]:
    """200 reviews, each labeled by 3 of 4 annotators: three make 5% errors, one makes 60%."""
    rng = np.random.default_rng(0)
    truth = pd.Series(rng.choice(CLASSES, 200), index=[f"review-{i}" for i in range(200)])
    rows = []
    for item, true_class in truth.items():
        for annotator in rng.choice(list(ERROR_RATES), 3, replace=False):
            wrong = rng.random() < ERROR_RATES[annotator]
            answer = rng.choice([c for c in CLASSES if c != true_class]) if wrong else true_class
            rows.append((item, str(annotator), str(answer)))
    return _annotations(rows), truth


def _accuracy(items: pd.DataFrame, truth: pd.Series) -> float:
    consensus = items.set_index("item_key")["class_name"].reindex(truth.index)
    return float((consensus == truth).mean())


def test_dawid_skene_is_more_accurate_than_majority_vote(crowd):
    annotations, truth = crowd

    skene = consolidate(annotations, CLASSES)
    majority = consolidate(annotations, CLASSES, method="majority")

    assert skene.method == "dawid_skene" and majority.method == "majority"
    # Majority vote breaks 1-1-1 splits blindly; Dawid-Skene trusts the careful annotators there.
    assert _accuracy(skene.items, truth) > _accuracy(majority.items, truth)
    assert _accuracy(skene.items, truth) >= 0.93


def test_the_sloppy_annotator_gets_the_lowest_quality(crowd):
    annotations, _ = crowd

    for method in ("dawid_skene", "majority"):
        quality = consolidate(annotations, CLASSES, method=method).annotators.set_index("annotator")

        assert quality["quality"].idxmin() == "sloppy", method
        assert quality.loc["sloppy", "quality"] < 0.6, method
        assert (quality.drop(index="sloppy")["quality"] > 0.85).all(), method
        assert quality["labels"].sum() == len(annotations)


def test_one_row_per_item_with_a_posterior_confidence(crowd):
    annotations, truth = crowd

    items = consolidate(annotations, CLASSES).items

    assert list(items.columns) == ["item_key", "class_name", "confidence", "annotations"]
    assert list(items["item_key"]) == list(truth.index)  # order of first appearance
    assert (items["annotations"] == 3).all()
    assert items["confidence"].between(0.0, 1.0).all()
    # Confidence must mean something: the consensus is right more often where it is high.
    correct = items.set_index("item_key")["class_name"] == truth
    confident = items.set_index("item_key")["confidence"] >= 0.9
    assert correct[confident].mean() > correct[~confident].mean()


def test_a_single_annotation_keeps_its_label_with_the_annotators_precision(crowd):
    annotations, _ = crowd
    singles = _annotations(
        [
            ("single-good", "good_a", "neutral"),
            ("single-sloppy", "sloppy", "positive"),
            ("single-unknown", "newcomer", "negative"),
        ]
    )

    result = consolidate(pd.concat([annotations, singles], ignore_index=True), CLASSES)
    items = result.items.set_index("item_key")
    annotators = result.annotators.set_index("annotator")

    assert items.loc["single-good", "class_name"] == "neutral"
    assert items.loc["single-sloppy", "class_name"] == "positive"
    assert items.loc["single-unknown", "class_name"] == "negative"
    assert (items.loc[["single-good", "single-sloppy", "single-unknown"], "annotations"] == 1).all()
    assert items.loc["single-good", "confidence"] > 0.85
    assert items.loc["single-sloppy", "confidence"] < 0.6
    # Nobody else labeled the newcomer's items: no evidence either way, so chance level.
    assert items.loc["single-unknown", "confidence"] == pytest.approx(1 / len(CLASSES))
    assert math.isnan(annotators.loc["newcomer", "quality"])


def test_every_item_with_one_annotator_still_consolidates():
    annotations = _annotations(
        [("a", "ann", "positive"), ("b", "ann", "negative"), ("c", "bob", "neutral")]
    )

    for method, confidence in (("dawid_skene", 1 / 3), ("majority", 1.0)):
        result = consolidate(annotations, CLASSES, method=method)

        assert list(result.items["class_name"]) == ["positive", "negative", "neutral"], method
        assert result.items["confidence"].tolist() == pytest.approx([confidence] * 3), method
        assert result.annotators["quality"].isna().all(), method


def test_a_class_nobody_chose_is_allowed_and_never_the_consensus(crowd):
    annotations, truth = crowd

    items = consolidate(annotations, [*CLASSES, "mixed"]).items

    assert set(items["class_name"]) <= set(CLASSES)
    assert _accuracy(items, truth) >= 0.93


@pytest.mark.parametrize("method", ["dawid_skene", "majority"])
def test_a_tie_goes_to_the_class_listed_first(method):
    annotations = _annotations(
        [("tied", "ann", "negative"), ("tied", "bob", "positive"),
         ("agreed", "ann", "neutral"), ("agreed", "bob", "neutral")]
    )

    forward = consolidate(annotations, CLASSES, method=method).items.set_index("item_key")
    backward = consolidate(annotations, CLASSES[::-1], method=method).items.set_index("item_key")

    assert forward.loc["tied", "class_name"] == "positive"
    assert backward.loc["tied", "class_name"] == "negative"
    assert forward.loc["tied", "confidence"] == pytest.approx(0.5)
    assert forward.loc["agreed", "class_name"] == "neutral"


def test_a_label_outside_the_classes_names_item_annotator_and_label(crowd):
    annotations, _ = crowd
    typo = _annotations([("review-7", "good_b", "postive")])

    expected = r"item 'review-7', annotator 'good_b': label 'postive' is not one of"
    with pytest.raises(ValueError, match=expected):
        consolidate(pd.concat([annotations, typo], ignore_index=True), CLASSES)


def test_the_same_annotator_twice_on_one_item_is_an_error():
    annotations = _annotations(
        [("a", "ann", "positive"), ("a", "ann", "negative"), ("a", "bob", "positive")]
    )

    with pytest.raises(ValueError, match=r"item 'a': annotator 'ann' labeled it 2 times"):
        consolidate(annotations, CLASSES)


def test_bad_arguments_are_rejected():
    annotations = _annotations([("a", "ann", "positive")])

    with pytest.raises(ValueError, match="method must be one of"):
        consolidate(annotations, CLASSES, method="wawa")
    with pytest.raises(ValueError, match="missing class_name"):
        consolidate(annotations.drop(columns="class_name"), CLASSES)
    with pytest.raises(ValueError, match="two or more distinct"):
        consolidate(annotations, ["positive", "positive"])


def test_no_annotations_give_empty_frames_with_the_columns():
    result = consolidate(_annotations([]), CLASSES)

    assert result.items.empty
    assert list(result.items.columns) == ["item_key", "class_name", "confidence", "annotations"]
    assert result.annotators.empty
    assert list(result.annotators.columns) == ["annotator", "quality", "labels"]


def test_the_consensus_converts_to_ground_truth_labels():
    annotations = _annotations([("a", "ann", "neutral"), ("a", "bob", "neutral")])

    labels = consolidate(annotations, CLASSES, method="majority").to_labels()

    assert labels == {"a": Label("neutral", 1.0, True)}
