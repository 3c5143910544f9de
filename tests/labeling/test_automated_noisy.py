"""Automated labeling with people who make mistakes: validation judged against a Dawid-Skene
consensus of several answers, release on a lower confidence bound, every answer counted, and one
line when the loop cannot work."""

import logging

import numpy as np
import pytest

from review_sentiment.labeling.automated import choose_threshold, run_automated_labeling
from review_sentiment.labeling.automated.threshold import lower_bound
from review_sentiment.labeling.simulated import SimulatedAnnotator
from review_sentiment.params import AutomatedLabelingParams, SimulatedWorkforceParams
from tests.labeling.test_automated import CLASSES, FAST, RecordingHumans, synthetic_items


def noisy_humans(error_rate, seed=0):
    return SimulatedAnnotator(
        SimulatedWorkforceParams(field="truth", error_rate=error_rate, seed=seed)
    )


class CountingPool:
    """The simulated pool, remembering how many answers it gave per item."""

    name = "counting"

    def __init__(self, error_rate):
        self.inner = noisy_humans(error_rate)
        self.given = {}

    def label(self, items, classes):
        return self.inner.label(items, classes)

    def answers(self, items, classes, n):
        rows = self.inner.answers(items, classes, n)
        for item, row in zip(items, rows, strict=True):
            self.given[item["source"]] = max(self.given.get(item["source"], 0), len(row))
        return rows


def machine_accuracy(items, result):
    pairs = [
        (label.class_name, item["truth"])
        for item, label in zip(items, result.labels, strict=True)
        if label is not None and not label.human_annotated
    ]
    return np.mean([got == truth for got, truth in pairs]) if pairs else None


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_items(2000)


# -- the threshold against a consensus, released on a lower bound ---------------------------


def test_consensus_posteriors_count_as_partial_correctness():
    confidences = [0.99, 0.98, 0.97, 0.96]

    sure = choose_threshold(confidences, [1.0, 1.0, 1.0, 1.0], 0.95, 4)
    unsure = choose_threshold(confidences, [1.0, 1.0, 1.0, 0.6], 0.95, 4)

    assert sure.accuracy == 1.0
    assert unsure is None  # 3.6 / 4 = 0.9: a doubtful consensus cannot vouch for the machine
    assert choose_threshold(confidences, [1.0, 1.0, 1.0, 0.6], 0.9, 4).accuracy == pytest.approx(0.9)


def test_release_needs_the_lower_bound_not_the_point_estimate_to_clear_the_target():
    confidences = np.linspace(0.99, 0.5, 200)
    correct = np.ones(200)
    correct[[20, 60, 100, 150, 199]] = 0  # 195/200 = 0.975 right overall

    point = choose_threshold(confidences, correct, 0.97, 100)
    wilson = choose_threshold(confidences, correct, 0.97, 100, z=1.645)
    exact = choose_threshold(confidences, correct, 0.97, 100, z=1.645, bound="clopper_pearson")

    assert point is not None and point.items == 200
    assert wilson is None or wilson.lower_bound >= 0.97
    assert exact is None  # Clopper-Pearson is the stricter of the two here
    assert lower_bound(np.array([195.0]), np.array([200.0]), 1.645)[0] < 0.975
    assert lower_bound(np.array([195.0]), np.array([200.0]), 0.0)[0] == 0.975


def test_every_released_threshold_records_its_lower_bound_and_method(synthetic):
    params = AutomatedLabelingParams(**FAST, threshold_z=1.0)

    result = run_automated_labeling(synthetic, CLASSES, noisy_humans(0.0), params)

    released = [r for r in result.iterations if r["threshold"] is not None]
    assert released and result.machine_labeled > 0
    for record in result.iterations:
        assert (record["bound"], record["bound_z"]) == ("wilson", 1.0)
        assert record["bound_confidence"] == pytest.approx(0.841, abs=1e-3)
    for record in released:
        assert record["validation_lower_bound"] >= 0.95
        assert record["validation_lower_bound"] <= record["validation_accuracy"]


# -- several answers for validation, one for training, every answer counted ------------------


def test_with_noisy_people_validation_against_the_consensus_still_labels_by_machine(synthetic):
    params = AutomatedLabelingParams(**FAST, validation_answers=3)
    single = params.model_copy(update={"validation_answers": 1})

    consensus = run_automated_labeling(synthetic, CLASSES, noisy_humans(0.1), params)
    one_answer = run_automated_labeling(synthetic, CLASSES, noisy_humans(0.1), single)

    assert consensus.machine_labeled >= 0.4 * len(synthetic)
    assert machine_accuracy(synthetic, consensus) >= 0.95
    # Judged against single noisy answers, no threshold looks 95% accurate.
    assert one_answer.machine_labeled == 0
    annotators = consensus.iterations[-1]["annotator_accuracy"]
    assert 0.85 < annotators < 0.95
    assert consensus.iterations[-1]["consensus_accuracy"] > 0.95


def test_every_answer_is_counted_and_validation_items_get_three(synthetic):
    params = AutomatedLabelingParams(**FAST, validation_answers=3, train_answers=1)
    pool = CountingPool(0.1)

    result = run_automated_labeling(synthetic, CLASSES, pool, params)

    last = result.iterations[-1]
    assert last["human_answers"] == sum(pool.given.values())
    assert set(pool.given.values()) == {1, 3}
    three = sum(count == 3 for count in pool.given.values())
    assert three == pytest.approx(params.validation_fraction * len(pool.given), rel=0.3)
    assert last["answers_vs_three_each"] == pytest.approx(last["human_answers"] / (3 * 2000))
    assert last["answers_per_machine_label"] == pytest.approx(
        last["human_answers"] / result.machine_labeled
    )


def test_a_workforce_that_answers_once_counts_one_answer_per_label(synthetic):
    params = AutomatedLabelingParams(**FAST)

    result = run_automated_labeling(synthetic, CLASSES, RecordingHumans(), params)

    assert result.iterations[-1]["human_answers"] == result.human_labeled
    assert result.iterations[-1]["annotator_accuracy"] is None


# -- saying when it cannot work -------------------------------------------------------------


def test_annotators_too_poor_for_the_target_stop_the_loop_in_one_line(synthetic):
    params = AutomatedLabelingParams(**FAST, validation_answers=3)

    result = run_automated_labeling(synthetic, CLASSES, noisy_humans(0.45), params)

    assert result.machine_labeled == 0
    assert result.stopped.startswith("cannot work: cannot reach target accuracy 0.95")
    assert result.reason == result.stopped.removeprefix("cannot work: ")
    assert "\n" not in result.reason
    for words in ("annotator accuracy 0.", "consensus 0.", "best validation accuracy", "raise validation_answers"):
        assert words in result.reason
    assert result.unlabeled > 0  # it stopped asking people


def test_no_machine_labels_after_give_up_after_iterations_stops_asking(synthetic):
    # More validation items than there can be: no threshold is ever chosen.
    params = AutomatedLabelingParams(**{**FAST, "min_validation_items": 5000}, give_up_after=3)

    result = run_automated_labeling(synthetic, CLASSES, noisy_humans(0.0), params)

    assert len(result.iterations) == 3
    assert "nothing machine-labeled in 3 iterations" in result.reason
    assert result.stopped == f"cannot work: {result.reason}"


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_the_labeling_node_warns_in_one_line_and_records_answers_per_iteration():
    from review_sentiment.params import LabelingParams
    from tests.pipelines.labeling.test_nodes import CATEGORIES, NO_ANNOTATIONS, label_all
    from tests.pipelines.labeling.test_pipeline import reviews

    params = LabelingParams(
        workforce="automated",
        automated={"humans": "simulated", "min_items": 300, "initial_batch": 300,
                   "batch_size": 100, "min_validation_items": 60},
        simulated={"error_rate": 0.45},
    )

    # The node's own logger: the project's logging setup may not propagate it to the root.
    node_logger, collect = logging.getLogger("review_sentiment.labeling.batch"), Collect()
    node_logger.addHandler(collect)
    try:
        _, summary, histories, *_ = label_all(reviews(900), CATEGORIES, NO_ANNOTATIONS, [], params)
    finally:
        node_logger.removeHandler(collect)

    warnings = collect.messages
    assert any("cannot reach target accuracy 0.95" in message and "\n" not in message for message in warnings)
    assert summary["labeled_by_machine"] == 0 and summary["unlabeled"] > 0
    for metric in ("human_answers", "answers_vs_three_each", "annotator_accuracy", "bound_z"):
        assert [entry["step"] for entry in histories[metric]] == list(range(1, len(histories[metric]) + 1))
