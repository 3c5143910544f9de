"""The simulated workforce: right answers from the hidden field, errors at the configured rate,
reproducible by seed, and unmistakably marked as a simulation."""

import logging
from collections import Counter

import pytest
from pydantic import ValidationError

from review_sentiment.ground_truth.records import labeled_line
from review_sentiment.labeling.simulated import SimulatedAnnotator, simulated_job_name
from review_sentiment.params import SimulatedWorkforceParams
from review_sentiment.labeling.workforces import LabelingError, Workforce

CLASSES = ["positive", "negative", "neutral"]


def reviews(n, star=5):
    return [{"source": f"review {i}", "review_id": f"R{i}", "star_rating": star} for i in range(n)]


def test_answers_follow_the_star_convention_when_error_rate_is_zero():
    items = [{"source": f"r{star}", "star_rating": star} for star in (1, 2, 3, 4, 5)]

    labels = SimulatedAnnotator().label(items, CLASSES)

    assert [label.class_name for label in labels] == [
        "negative", "negative", "neutral", "positive", "positive",
    ]
    assert all(label.human_annotated and label.confidence == 1.0 for label in labels)


def test_a_field_holding_class_names_is_used_as_is():
    items = [{"source": "a", "truth": "neutral"}, {"source": "b", "truth": "negative"}]

    labels = SimulatedAnnotator(SimulatedWorkforceParams(field="truth")).label(items, CLASSES)

    assert [label.class_name for label in labels] == ["neutral", "negative"]


def test_it_is_named_and_marked_as_a_simulation(caplog):
    annotator: Workforce = SimulatedAnnotator()

    with caplog.at_level(logging.WARNING, logger="review_sentiment.labeling.simulated"):
        annotator.label(reviews(3), CLASSES)

    assert annotator.name == "simulated" and annotator.is_simulation is True
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "SIMULATED" in warnings[0].getMessage()
    assert "no person" in warnings[0].getMessage()


def test_job_name_written_for_simulated_labels_says_simulated():
    annotator = SimulatedAnnotator()
    label = annotator.label(reviews(1), CLASSES)[0]

    line = labeled_line(
        reviews(1)[0], label, attribute="sentiment", classes=CLASSES,
        job_name=annotator.job_name("review-sentiment"),
    )

    assert line["sentiment-metadata"]["job-name"] == "labeling-job/review-sentiment-simulated"
    assert line["sentiment-metadata"]["human-annotated"] == "yes"
    assert simulated_job_name("job-simulated") == "job-simulated"  # not marked twice


def test_error_rate_is_honoured_and_wrong_answers_are_uniform_over_the_other_classes():
    settings = SimulatedWorkforceParams(error_rate=0.2, seed=7)

    labels = SimulatedAnnotator(settings).label(reviews(3000), CLASSES)

    answers = Counter(label.class_name for label in labels)
    wrong = 3000 - answers["positive"]
    assert abs(wrong / 3000 - 0.2) < 0.03
    assert abs(answers["negative"] / wrong - 0.5) < 0.08
    assert all(label.confidence == pytest.approx(0.8) for label in labels)


def test_answers_are_reproducible_by_seed_and_independent_of_batch_order():
    items = reviews(400)
    settings = SimulatedWorkforceParams(error_rate=0.3, seed=3)

    first = SimulatedAnnotator(settings).label(items, CLASSES)
    again = SimulatedAnnotator(settings).label(items, CLASSES)
    reversed_batch = SimulatedAnnotator(settings).label(items[::-1], CLASSES)[::-1]
    other_seed = SimulatedAnnotator(settings.model_copy(update={"seed": 4})).label(items, CLASSES)

    assert first == again == reversed_batch
    assert first != other_seed


def test_error_rate_one_is_always_wrong():
    always_wrong = SimulatedAnnotator(SimulatedWorkforceParams(error_rate=1.0))

    labels = always_wrong.label(reviews(50), CLASSES)

    assert {label.class_name for label in labels} <= {"negative", "neutral"}


def test_missing_or_unknown_field_value_names_the_item_and_field():
    items = reviews(2)
    del items[1]["star_rating"]

    with pytest.raises(LabelingError, match=r"item 2 \(review_id 'R1'\).*'star_rating' is None"):
        SimulatedAnnotator().label(items, CLASSES)
    with pytest.raises(LabelingError, match="field 'star_rating' is 9"):
        SimulatedAnnotator().label([{"source": "x", "star_rating": 9}], CLASSES)


def test_a_star_mapping_to_a_class_the_job_lacks_is_an_error():
    with pytest.raises(LabelingError, match="maps to 'neutral', not one of positive, negative"):
        SimulatedAnnotator().label([{"source": "x", "star_rating": 3}], ["positive", "negative"])


@pytest.mark.parametrize(
    "settings", [{"error_rate": 1.5}, {"error_rate": -0.1}, {"fields": "star_rating"}]
)
def test_settings_reject_out_of_range_and_unknown_keys(settings):
    with pytest.raises(ValidationError):
        SimulatedWorkforceParams(**settings)
