"""The one validator of manifest lines: every real Ground Truth shape reads, and each broken field
is named as `<field>: <what>`."""

import json

import pytest

from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.ground_truth.records import (
    Label,
    LabeledRecord,
    LineProblem,
    parse_input_line,
    parse_labeled_line,
    source_sha1,
)
from tests.conftest import shared_data

CLASSES = ["positive", "negative", "neutral"]


@pytest.fixture(scope="module")
def examples():
    path = shared_data("groundtruth/example_output_manifest_lines.jsonl")
    return {n: json.loads(line) for n, line in enumerate(path.read_text().splitlines(), start=1)}


def line(label=0, class_name="positive", **overrides):
    metadata = {"confidence": 0.9, "human-annotated": "yes", "job-name": "labeling-job/j",
                "creation-date": "2026-01-01T00:00:00.000000",
                "type": "groundtruth/text-classification"}
    if class_name is not None:
        metadata["class-name"] = class_name
    return {"source": "Great kettle", "review_id": "R1", "sentiment": label,
            "sentiment-metadata": metadata, **overrides}


@pytest.mark.parametrize(
    ("number", "classes", "expected"),
    [
        (1, ["Technical", "Marketing"], ("Marketing", 1, 0.62, True)),  # int index, float confidence
        (3, ["Technical", "Marketing"], ("Technical", 0, 0.66, True)),
        (6, ["joy", "optimism"], ("joy", 0, 0.0, True)),  # confidence written as the int 0
        (11, ["negative", "positive"], ("positive", 1, 0.8, True)),  # label the string "1"
        (12, ["not_spam", "spam"], ("not_spam", 0, 0.62, True)),
        (13, ["not_spam", "spam"], ("spam", 1, 0.81, True)),
    ],
)
def test_real_single_label_shapes_parse(examples, number, classes, expected):
    record = parse_labeled_line(examples[number], classes)

    assert (record.class_name, record.class_index, record.confidence, record.human_annotated) == expected
    assert record.source == examples[number]["source"]


def test_class_index_without_class_name_is_read_through_the_categories(examples):
    # line 14: a machine label with neither class-name nor job-name, as real jobs write
    record = parse_labeled_line(examples[14], ["dog", "cat"])

    assert (record.class_name, record.class_index, record.human_annotated, record.job_name) == (
        "cat", 1, False, None,
    )


def test_multilabel_line_reads_its_most_confident_label_with_top(examples):
    classes = ["sadness", "optimism", "fear", "joy", "love", "anger"]

    record = parse_labeled_line(examples[8], classes, multilabel="top")

    assert (record.class_name, record.class_index, record.confidence) == ("anger", 5, 0.91)


def test_multilabel_line_is_rejected_by_default(examples):
    with pytest.raises(LineProblem, match=r"^cutomDocClassification: a multi-label annotation; set feature_engineering.multilabel: top"):
        parse_labeled_line(examples[7], ["a", "optimism"])


def test_image_line_is_rejected_for_its_type(examples):
    with pytest.raises(LineProblem) as raised:
        parse_labeled_line(examples[10], ["dog", "cat"])

    assert str(raised.value) == (
        "species-metadata.type: 'groundtruth/image-classification' is not a text-classification "
        "label (expected groundtruth/text-classification)"
    )


def test_text_line_with_its_text_in_s3_is_rejected_for_its_missing_text():
    obj = {key: value for key, value in line().items() if key != "source"}

    with pytest.raises(LineProblem) as raised:
        parse_labeled_line({**obj, "source-ref": "s3://bucket/review.txt"}, CLASSES)

    assert str(raised.value) == "source: missing; the text must be inline (source-ref is not fetched)"


def test_line_without_a_type_is_read():
    obj = line()
    del obj["sentiment-metadata"]["type"]

    assert parse_labeled_line(obj, CLASSES).class_name == "positive"


def test_multilabel_type_takes_the_multilabel_path():
    obj = line()
    obj["sentiment-metadata"]["type"] = "groundtruth/text-classification-multilabel"

    with pytest.raises(LineProblem, match="^sentiment: a multi-label annotation"):
        parse_labeled_line(obj, CLASSES)


def test_writer_output_reads_back_as_the_same_record():
    from datetime import UTC, datetime

    from review_sentiment.ground_truth.records import labeled_line

    written = labeled_line({"source": "Broke in a week", "review_id": 7}, Label("negative", 0.61234, True),
                           attribute="sentiment", classes=CLASSES, job_name="j",
                           created=datetime(2026, 1, 2, tzinfo=UTC))

    assert parse_labeled_line(written, CLASSES) == LabeledRecord(
        source="Broke in a week", review_id="7", label_attribute="sentiment", class_name="negative",
        class_index=1, confidence=0.6123, human_annotated=True, job_name="labeling-job/j",
        creation_date="2026-01-02T00:00:00.000000",
    )


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        (line(label=7), "sentiment: class index 7 is out of range for 3 classes (positive, negative, neutral)"),
        (line(label="7", class_name=None), "sentiment: class index 7 is out of range for 3 classes (positive, negative, neutral)"),
        (line(label=-1), "sentiment: class index -1 is out of range for 3 classes (positive, negative, neutral)"),
        (line(label=1, class_name="positive"), "sentiment: class index 1 is 'negative', but class-name is 'positive'"),
        (line(label=0, class_name="postive"), "sentiment-metadata.class-name: 'postive' is not one of positive, negative, neutral"),
        (line(label="one"), "sentiment: expected a class index (a whole number), got 'one'"),
        (line(label=1.0), "sentiment: expected a class index (a whole number), got 1.0"),
        (line(label=True), "sentiment: expected a class index (a whole number), got True"),
        (line(source=""), "source: empty"),
        (line(source=3), "source: expected text, got int"),
        (line(review_id=[1]), "review_id: expected text or a whole number, got [1]"),
        ({"source": "x"}, "label attribute: no '<attribute>-metadata' key, so no label"),
        ({**line(), "b": 1, "b-metadata": {}}, "label attribute: several (sentiment-metadata, b-metadata); set feature_engineering.label_attribute to the one to read"),
        ({**line(), "sentiment-metadata": [1]}, "sentiment-metadata: expected an object, got list"),
        ({k: v for k, v in line().items() if k != "sentiment"}, "sentiment: missing"),
        ({**line(), "sentiment-metadata": {**line()["sentiment-metadata"], "type": "groundtruth/image-classification"}},
         "sentiment-metadata.type: 'groundtruth/image-classification' is not a text-classification label "
         "(expected groundtruth/text-classification)"),
        ({**line(), "sentiment-metadata": {**line()["sentiment-metadata"], "type": 1}},
         "sentiment-metadata.type: 1 is not a text-classification label (expected groundtruth/text-classification)"),
    ],
    ids=["index-out-of-range", "digit-string-out-of-range", "negative-index", "index-disagrees-with-name",
         "name-not-a-class", "word-index", "float-index", "bool-index", "empty-source", "numeric-source",
         "list-review-id", "no-label", "two-labels", "metadata-not-object", "label-missing", "image-type",
         "numeric-type"],
)
def test_bad_field_is_named(obj, problem):
    with pytest.raises(LineProblem) as raised:
        parse_labeled_line(obj, CLASSES)

    assert str(raised.value) == problem


def test_label_attribute_picks_one_of_several():
    obj = {**line(label=2, class_name="neutral"), "other": 0, "other-metadata": {"class-name": "x"}}

    assert parse_labeled_line(obj, CLASSES, attribute="sentiment").class_name == "neutral"


def test_digit_string_index_is_read_like_an_int():
    assert parse_labeled_line(line(label="1", class_name="negative"), CLASSES).class_index == 1


def test_input_line_gives_text_and_key():
    assert parse_input_line({"source": "Good", "review_id": 12}).key == "12"
    assert parse_input_line({"source": "Good"}).key == source_sha1("Good")


def test_input_line_over_the_attribute_limit_is_rejected():
    with pytest.raises(LineProblem) as raised:
        parse_input_line({"source": "a" * (MAX_ATTRIBUTE_CHARS + 1)})

    assert str(raised.value) == "source: 20,001 characters; Ground Truth takes at most 20,000 per attribute"
