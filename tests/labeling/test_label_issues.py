"""Finding likely label errors with out-of-sample probabilities and confident learning."""

from __future__ import annotations

import json

import numpy as np
import pytest

from review_sentiment.labeling.label_issues import find_label_issues, to_review_queue

CLASSES = ["positive", "negative", "neutral"]
CLASS_WORDS = {
    "positive": ["great", "love", "excellent", "wonderful", "perfect", "amazing"],
    "negative": ["awful", "terrible", "broken", "hate", "refund", "worst"],
    "neutral": ["okay", "average", "fine", "decent", "ordinary", "acceptable"],
}
FILLER = ["the", "product", "arrived", "box", "it", "shipping", "colour", "size", "was", "this", "order"]


def _reviews(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Reviews whose class is plain from three of its class's words among four filler words."""
    rng = np.random.default_rng(seed)
    labels = [CLASSES[i % len(CLASSES)] for i in range(n)]
    texts = [
        " ".join(rng.permutation([*rng.choice(CLASS_WORDS[label], 3), *rng.choice(FILLER, 4)]))
        for label in labels
    ]
    return texts, labels


@pytest.fixture(scope="module")
def noisy() -> tuple[list[str], list[str], list[str], set[int], object]:
    """300 clean reviews with 5% of the labels flipped, and the issues found in them."""
    texts, truth = _reviews(300, seed=7)
    rng = np.random.default_rng(11)
    flipped = {int(i) for i in rng.choice(len(texts), 15, replace=False)}
    given = [
        str(rng.choice([c for c in CLASSES if c != label])) if i in flipped else label
        for i, label in enumerate(truth)
    ]
    return texts, truth, given, flipped, find_label_issues(texts, given, CLASSES)


def test_most_flipped_labels_are_flagged_and_few_clean_ones(noisy):
    _, _, _, flipped, issues = noisy

    flagged = set(issues["position"])

    assert len(flagged & flipped) >= 12  # at least 80% of the 15 flipped labels
    assert len(flagged - flipped) <= 5  # under 2% of the 285 clean ones


def test_issues_say_what_was_given_and_suggest_the_true_label(noisy):
    texts, truth, given, flipped, issues = noisy

    assert list(issues.columns) == ["position", "text", "given_label", "suggested_label", "label_quality"]
    for row in issues.itertuples():
        assert row.text == texts[row.position]
        assert row.given_label == given[row.position]
    caught = issues[issues["position"].isin(flipped)]
    suggested_right = [row.suggested_label == truth[row.position] for row in caught.itertuples()]
    assert sum(suggested_right) >= 0.9 * len(caught)


def test_issues_come_worst_first(noisy):
    *_, issues = noisy

    quality = issues["label_quality"].tolist()

    assert quality == sorted(quality)
    assert all(0.0 <= q <= 1.0 for q in quality)
    assert quality[0] < 0.1  # a flipped label on a plain review is nearly impossible


def test_a_clean_set_has_hardly_any_issues():
    texts, labels = _reviews(150, seed=3)

    issues = find_label_issues(texts, labels, CLASSES, cv_folds=3)

    assert len(issues) <= 2


def test_the_review_queue_is_plain_json_in_the_same_order(noisy):
    *_, issues = noisy

    queue = to_review_queue(issues)

    assert [row["position"] for row in queue] == issues["position"].tolist()
    assert all(type(row["position"]) is int and type(row["label_quality"]) is float for row in queue)
    assert json.loads(json.dumps(queue, allow_nan=False)) == queue


def test_a_class_with_fewer_examples_than_folds_is_an_error():
    texts, labels = _reviews(60, seed=5)
    dropped = [i for i, label in enumerate(labels) if label == "neutral"][4:]  # keep 4 neutral
    texts = [t for i, t in enumerate(texts) if i not in dropped]
    labels = [label for i, label in enumerate(labels) if i not in dropped]

    with pytest.raises(ValueError, match=r"cv_folds=5 .*too few: neutral \(4\)"):
        find_label_issues(texts, labels, CLASSES, cv_folds=5)


def test_a_class_with_no_examples_is_an_error_naming_it():
    texts, labels = _reviews(60, seed=5)

    with pytest.raises(ValueError, match=r"too few: mixed \(0\)"):
        find_label_issues(texts, labels, [*CLASSES, "mixed"])


def test_bad_inputs_name_what_is_wrong():
    texts, labels = _reviews(60, seed=5)

    with pytest.raises(ValueError, match=r"label 'postive' at position 2 is not one of"):
        find_label_issues(texts, [*labels[:2], "postive", *labels[3:]], CLASSES)
    with pytest.raises(ValueError, match="60 texts but 59 labels"):
        find_label_issues(texts, labels[:-1], CLASSES)
    with pytest.raises(ValueError, match="cv_folds must be 2 or more"):
        find_label_issues(texts, labels, CLASSES, cv_folds=1)
