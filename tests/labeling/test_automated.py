"""Automated labeling on small synthetic data: the threshold rule, the loop's stopping rules,
uncertainty sampling, training on people's labels only, and MLflow's per-iteration record."""

import numpy as np
import pytest
from pydantic import ValidationError

from review_sentiment.ground_truth.records import Label
from review_sentiment.labeling.automated import (
    Threshold,
    build_labeling_model,
    choose_threshold,
    run_automated_labeling,
)
from review_sentiment.labeling.simulated import SimulatedAnnotator
from review_sentiment.params import AutomatedLabelingParams, SimulatedWorkforceParams
from review_sentiment.labeling.workforces import LabelingError

CLASSES = ["positive", "negative", "neutral"]
CUES = {
    "positive": ["great", "love", "excellent", "perfect", "happy", "recommend"],
    "negative": ["broken", "awful", "refund", "terrible", "waste", "returned"],
    "neutral": ["okay", "average", "fine", "decent", "mediocre", "ordinary"],
}
NOISE = (
    "the a this it product arrived box cable battery screen price size colour game sound "
    "delivery week day use bought gift phone case charger light weight"
).split()
# Small enough to run in a second; thresholds from 100+ validation items.
FAST = dict(min_items=1000, initial_batch=400, batch_size=200, min_validation_items=100, seed=0)


def synthetic_items(n, seed=0, *, no_cue=0.05, mixed=0.2):
    """Short reviews: class cue words among noise words. A share `mixed` also carries a cue of
    another class and a share `no_cue` has no cue at all, so the model is unsure of some."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        truth = str(rng.choice(CLASSES, p=[0.5, 0.3, 0.2]))
        words = list(rng.choice(NOISE, size=rng.integers(3, 7)))
        kind = rng.random()
        if kind >= no_cue:
            words += list(rng.choice(CUES[truth], size=rng.integers(1, 3)))
        if kind >= 1 - mixed:
            other = str(rng.choice([name for name in CLASSES if name != truth]))
            words.append(str(rng.choice(CUES[other])))
        rng.shuffle(words)
        items.append({"source": " ".join(words) + f" ref{i}", "truth": truth})
    return items


def truth_humans(**settings):
    return SimulatedAnnotator(SimulatedWorkforceParams(field="truth", **settings))


class RecordingHumans:
    """A simulated workforce that remembers every batch it was sent."""

    name = "recording"

    def __init__(self):
        self.inner = truth_humans()
        self.batches = []

    def label(self, items, classes):
        self.batches.append([item["source"] for item in items])
        return self.inner.label(items, classes)


# -- the threshold rule --------------------------------------------------------------------


def test_threshold_is_the_lowest_meeting_the_target():
    # Sorted by confidence: 5 right, 1 wrong, 4 right, 2 wrong.
    confidences = [0.99, 0.98, 0.97, 0.96, 0.95, 0.90, 0.85, 0.80, 0.75, 0.70, 0.60, 0.50]
    correct = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0]

    # Top 10 are 9/10 right; top 11 are 9/11 = 0.82.
    assert choose_threshold(confidences, correct, 0.9, 1)[:3] == (0.70, 0.9, 10)
    # 0.95 holds only for the top 5, and not once the 6th (wrong) item is in.
    assert choose_threshold(confidences, correct, 0.95, 1)[:3] == (0.95, 1.0, 5)


def test_threshold_needs_enough_validation_items_above_it():
    confidences = [0.99, 0.98, 0.97, 0.5, 0.4]
    correct = [1, 1, 1, 0, 0]

    assert choose_threshold(confidences, correct, 0.95, min_items=3)[:3] == (0.97, 1.0, 3)
    assert choose_threshold(confidences, correct, 0.95, min_items=4) is None


def test_threshold_keeps_equal_confidences_together():
    # Cutting inside the tie at 0.9 would claim 3/3; all three 0.9 items must be in or out.
    confidences = [0.95, 0.9, 0.9, 0.9, 0.8]
    correct = [1, 1, 1, 0, 1]

    assert choose_threshold(confidences, correct, 1.0, 1)[:3] == (0.95, 1.0, 1)
    assert choose_threshold(confidences, correct, 0.75, 1)[:3] == (0.8, 0.8, 5)


def test_a_wilson_margin_picks_a_higher_threshold_than_the_point_estimate():
    rng = np.random.default_rng(0)
    confidences = np.sort(rng.uniform(0.4, 1.0, 500))[::-1]
    correct = rng.random(500) < confidences

    point = choose_threshold(confidences, correct, 0.9, 30)
    bounded = choose_threshold(confidences, correct, 0.9, 30, z=1.0)

    assert point is not None and bounded is not None
    assert bounded.threshold > point.threshold and bounded.items < point.items


# -- the loop ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_items(2000)


@pytest.fixture(scope="module")
def labeled(synthetic):
    params = AutomatedLabelingParams(**FAST)
    return run_automated_labeling(synthetic, CLASSES, truth_humans(), params)


def test_machine_labels_meet_the_target_accuracy(synthetic, labeled):
    machine = [
        (label.class_name, item["truth"])
        for item, label in zip(synthetic, labeled.labels, strict=True)
        if label is not None and not label.human_annotated
    ]

    assert len(machine) >= 0.5 * len(synthetic)
    assert np.mean([got == truth for got, truth in machine]) >= 0.95
    assert labeled.unlabeled == 0 and labeled.stopped == "all items labeled"
    assert labeled.reason is None


def test_machine_labels_carry_the_model_probability_and_are_not_human(labeled):
    machine = [label for label in labeled.labels if label and not label.human_annotated]
    thresholds = [r["threshold"] for r in labeled.iterations if r["threshold"] is not None]

    assert all(min(thresholds) <= label.confidence <= 1.0 for label in machine)
    assert len(machine) == labeled.machine_labeled > 0


def test_each_iteration_is_recorded(labeled):
    records = labeled.iterations

    assert [r["iteration"] for r in records] == list(range(1, len(records) + 1))
    assert sum(r["machine_labels"] for r in records) == labeled.machine_labeled
    assert records[-1]["remaining"] == 0
    humans = [r["human_labels"] for r in records]
    assert humans == sorted(humans) and humans[-1] == labeled.human_labeled
    for record in records:
        if record["threshold"] is not None:
            assert record["validation_accuracy"] >= 0.95
            assert record["validation_items_above_threshold"] >= FAST["min_validation_items"]


def test_below_min_items_nothing_is_machine_labeled_and_reason_says_why(synthetic):
    items = synthetic[:300]

    result = run_automated_labeling(items, CLASSES, truth_humans(), AutomatedLabelingParams())

    assert result.machine_labeled == 0 and result.human_labeled == 300
    assert "300 items is fewer than min_items=1250" in result.reason
    assert len(result.iterations) == 1 and result.iterations[0]["threshold"] is None


def test_below_min_items_people_label_only_up_to_max_human_labels(synthetic):
    params = AutomatedLabelingParams(max_human_labels=120)

    result = run_automated_labeling(synthetic[:300], CLASSES, truth_humans(), params)

    assert (result.human_labeled, result.machine_labeled, result.unlabeled) == (120, 0, 180)
    assert "min_items" in result.reason


def test_stops_at_max_human_labels_and_leaves_the_rest_unlabeled(synthetic):
    # A target nothing can meet, so people would otherwise label everything.
    params = AutomatedLabelingParams(**FAST, target_accuracy=1.0, max_human_labels=500)
    humans = RecordingHumans()

    result = run_automated_labeling(synthetic, CLASSES, humans, params)

    assert result.human_sent == 500 == sum(len(batch) for batch in humans.batches)
    assert [len(batch) for batch in humans.batches] == [400, 100]  # the last batch is cut short
    assert result.machine_labeled == 0 and result.unlabeled == 1500
    assert result.stopped == "max_human_labels reached"
    assert "no confidence threshold reached target accuracy 1.0" in result.reason


def test_stops_at_max_iterations(synthetic):
    params = AutomatedLabelingParams(**FAST, target_accuracy=1.0, max_iterations=2)

    result = run_automated_labeling(synthetic, CLASSES, truth_humans(), params)

    assert len(result.iterations) == 2 and result.stopped == "max_iterations reached"
    assert result.human_sent == 400 + 200  # initial batch, then one batch after iteration 1


class ConfidenceFromText:
    """A stand-in model: item `ref<i>` gets confidence 0.34 + 0.66 * ((7 * i) % 100) / 100 and
    is predicted right above 0.6, wrong at or below it."""

    truth: dict[str, str] = {}

    def __init__(self, params):
        self.classes_ = np.asarray(CLASSES, dtype=object)

    @staticmethod
    def confidence(text):
        i = int(text.rsplit("ref", 1)[1])
        return 0.34 + 0.66 * ((7 * i) % 100) / 100

    def fit(self, texts, labels):
        return self

    def predict_proba(self, texts):
        rows = []
        for text in texts:
            conf, truth = self.confidence(text), self.truth[text]
            predicted = truth if conf > 0.6 else CLASSES[(CLASSES.index(truth) + 1) % 3]
            row = [(1 - conf) / 2] * 3
            row[CLASSES.index(predicted)] = conf
            rows.append(row)
        return np.asarray(rows)


@pytest.fixture
def known_confidence(synthetic, monkeypatch):
    monkeypatch.setattr(
        ConfidenceFromText, "truth", {item["source"]: item["truth"] for item in synthetic}
    )
    return ConfidenceFromText


def second_batch(synthetic, humans, result):
    """The second batch people got, and the items still unlabeled that it left out."""
    first, second = humans.batches
    threshold = result.iterations[0]["threshold"]
    conf = ConfidenceFromText.confidence
    left = [
        item["source"]
        for item in synthetic
        if item["source"] not in set(first) and conf(item["source"]) < threshold
    ]
    assert set(second) <= set(left)  # everything at or above the threshold was machine-labeled
    return sorted(map(conf, second)), [conf(text) for text in left if text not in set(second)]


def test_uncertainty_sampling_sends_the_least_confident_items_next(synthetic, known_confidence):
    humans = RecordingHumans()
    params = AutomatedLabelingParams(
        **{**FAST, "min_validation_items": 30}, random_validation=False, max_iterations=2
    )

    result = run_automated_labeling(synthetic, CLASSES, humans, params, make_model=known_confidence)

    sent, not_sent = second_batch(synthetic, humans, result)
    assert len(sent) == 200 and not_sent
    assert sent[-1] <= min(not_sent)


def test_random_validation_draws_part_of_each_later_batch_at_random(synthetic, known_confidence):
    humans = RecordingHumans()
    params = AutomatedLabelingParams(**{**FAST, "min_validation_items": 30}, max_iterations=2)

    result = run_automated_labeling(synthetic, CLASSES, humans, params, make_model=known_confidence)

    sent, not_sent = second_batch(synthetic, humans, result)
    # 160 least confident for training, 40 drawn at random for validation.
    assert len(sent) == 200
    assert sent[159] <= min(not_sent) < sent[-1]


def test_machine_labels_are_never_training_data():
    # Hard enough that people and the machine take turns for several iterations.
    synthetic = synthetic_items(2000, no_cue=0.15, mixed=0.25)
    fits = []

    def spying_model(params):
        model = build_labeling_model(params)
        fit = model.fit

        def recording_fit(texts, labels):
            fits.append(dict(zip(texts, labels, strict=True)))
            return fit(texts, labels)

        model.fit = recording_fit
        return model

    humans = RecordingHumans()
    # Small batches, so models are still trained after the first machine labels.
    params = AutomatedLabelingParams(**{**FAST, "batch_size": 50})
    result = run_automated_labeling(synthetic, CLASSES, humans, params, make_model=spying_model)

    by_text = {item["source"]: label for item, label in zip(synthetic, result.labels, strict=True)}
    asked = {text for batch in humans.batches for text in batch}
    machine = {text for text, label in by_text.items() if label and not label.human_annotated}
    first_machine = min(r["iteration"] for r in result.iterations if r["machine_labels"])
    assert len(fits) > first_machine  # a model per iteration, some after machine labels existed
    for fitted in fits:
        assert set(fitted) <= asked and not set(fitted) & machine
        assert all(by_text[text].class_name == label for text, label in fitted.items())


def test_items_people_decline_are_not_sent_again(synthetic):
    class Declining(RecordingHumans):
        def label(self, items, classes):
            labels = super().label(items, classes)
            return [
                None if "ref1" in item["source"] else label
                for item, label in zip(items, labels, strict=True)
            ]

    humans = Declining()
    params = AutomatedLabelingParams(**FAST, target_accuracy=1.0, max_iterations=4)

    run_automated_labeling(synthetic, CLASSES, humans, params)

    sent = [text for batch in humans.batches for text in batch]
    assert len(sent) == len(set(sent))


class AnsweringFirstBatches(RecordingHumans):
    """People at their own pace: they have answered the first `answered` batches only."""

    def __init__(self, answered):
        super().__init__()
        self.answered = answered

    def label(self, items, classes):
        labels = super().label(items, classes)
        return labels if len(self.batches) <= self.answered else [None] * len(items)


def test_nobody_answered_yet_sends_only_the_first_batch():
    humans = AnsweringFirstBatches(answered=0)
    params = AutomatedLabelingParams(**FAST)

    result = run_automated_labeling(synthetic_items(1500), CLASSES, humans, params)

    assert [len(batch) for batch in humans.batches] == [400]
    assert result.stopped.startswith("waiting for people")
    assert all(label is None for label in result.labels)


def test_the_loop_waits_for_the_batch_people_have_not_answered(synthetic):
    humans = AnsweringFirstBatches(answered=2)
    params = AutomatedLabelingParams(**FAST)

    result = run_automated_labeling(synthetic, CLASSES, humans, params)

    # The first batch and the next were answered; the third went out and is waited for.
    assert [len(batch) for batch in humans.batches] == [400, 200, 200]
    assert result.stopped == "waiting for people: none of the 200 items last sent is answered yet"
    assert sum(label is not None and label.human_annotated for label in result.labels) == 600


def test_an_answer_outside_the_classes_names_the_workforce(synthetic):
    class Misspelling:
        name = "typo"

        def label(self, items, classes):
            return [Label("postive", 1.0, human_annotated=True) for _ in items]

    with pytest.raises(
        LabelingError, match=r"line \d+ of the input manifest: workforce 'typo' answered 'postive'"
    ):
        run_automated_labeling(synthetic, CLASSES, Misspelling(), AutomatedLabelingParams(**FAST))


def test_an_item_without_text_is_named(synthetic):
    items = [*synthetic[:2], {"truth": "positive", "source": " "}]

    with pytest.raises(LabelingError, match="line 3 of the input manifest: field 'source'"):
        run_automated_labeling(items, CLASSES, truth_humans(), AutomatedLabelingParams())


# -- parameters --------------------------------------------------------------------------


def test_initial_batch_is_a_fraction_or_a_count():
    assert AutomatedLabelingParams(initial_batch=0.1).initial_batch_size(2000) == 200
    assert AutomatedLabelingParams(initial_batch=300).initial_batch_size(2000) == 300
    assert AutomatedLabelingParams(initial_batch=300).initial_batch_size(100) == 100


@pytest.mark.parametrize(
    "settings",
    [{"initial_batch": 1.5}, {"initial_batch": 0}, {"target_accuracy": 1.2},
     {"validation_fraction": 1.0}, {"batch": 10}, {"calibration": "platt"}],
)
def test_params_reject_bad_values_and_unknown_keys(settings):
    with pytest.raises(ValidationError):
        AutomatedLabelingParams(**settings)

