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


def test_error_rate_is_honoured_and_wrong_answers_are_uniform_without_neighbour_bias():
    settings = SimulatedWorkforceParams(
        error_rate=0.2, seed=7, annotator_spread=0.0, neighbour_bias=0.5
    )

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
    always_wrong = SimulatedAnnotator(SimulatedWorkforceParams(error_rate=1.0, annotator_spread=0))

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
    "settings",
    [
        {"error_rate": 1.5}, {"error_rate": -0.1}, {"fields": "star_rating"}, {"annotators": 0},
        {"annotator_spread": 1.5}, {"neighbour_bias": -0.1},
    ],
)
def test_settings_reject_out_of_range_and_unknown_keys(settings):
    with pytest.raises(ValidationError):
        SimulatedWorkforceParams(**settings)


# -- the annotator pool ----------------------------------------------------------------------


def test_the_pool_has_worse_and_better_annotators_averaging_the_error_rate():
    settings = SimulatedWorkforceParams(error_rate=0.1, annotators=5, annotator_spread=0.5)

    pool = SimulatedAnnotator(settings)
    answers = pool.answers(reviews(4000), CLASSES, 5)

    wrong = Counter(who for row in answers for who, label in row if label.class_name != "positive")
    asked = Counter(who for row in answers for who, _ in row)
    rates = {who: wrong[who] / asked[who] for who in asked}
    assert list(pool.error_rates) == pytest.approx([0.05, 0.075, 0.1, 0.125, 0.15])
    assert rates["simulated-0"] < 0.07 and rates["simulated-4"] > 0.13
    assert all(len({who for who, _ in row}) == 5 for row in answers)  # distinct annotators


def test_wrong_answers_go_to_the_neighbouring_class_more_often():
    settings = SimulatedWorkforceParams(error_rate=0.3, neighbour_bias=0.8, seed=2)

    positive = SimulatedAnnotator(settings).answers(reviews(3000, star=5), CLASSES, 3)
    neutral = SimulatedAnnotator(settings).answers(reviews(3000, star=3), CLASSES, 3)

    from_positive = Counter(l.class_name for row in positive for _, l in row if l.class_name != "positive")
    from_neutral = Counter(l.class_name for row in neutral for _, l in row if l.class_name != "neutral")
    assert from_positive["neutral"] / sum(from_positive.values()) == pytest.approx(0.8, abs=0.04)
    # neutral's two neighbours share its errors evenly
    assert from_neutral["positive"] / sum(from_neutral.values()) == pytest.approx(0.5, abs=0.05)


def test_pool_answers_are_reproducible_and_label_is_the_first_answer():
    items = reviews(300)
    settings = SimulatedWorkforceParams(error_rate=0.2, seed=5)

    first = SimulatedAnnotator(settings).answers(items, CLASSES, 3)
    again = SimulatedAnnotator(settings).answers(items[::-1], CLASSES, 3)[::-1]
    labels = SimulatedAnnotator(settings).label(items, CLASSES)
    other = SimulatedAnnotator(settings.model_copy(update={"seed": 6})).answers(items, CLASSES, 3)

    assert first == again and first != other
    assert labels == [row[0][1] for row in first]


def test_error_rate_zero_means_every_answer_of_every_annotator_is_right():
    settings = SimulatedWorkforceParams(error_rate=0.0, annotators=7, annotator_spread=1.0)

    answers = SimulatedAnnotator(settings).answers(reviews(200, star=1), CLASSES, 7)

    assert {label.class_name for row in answers for _, label in row} == {"negative"}
    assert all(label.confidence == 1.0 for row in answers for _, label in row)
