import re

import pytest

from review_sentiment.labeling.workforces import LabelingError
from review_sentiment.params import LabelingParams
from review_sentiment.pipelines.labeling.nodes import label_reviews

CATEGORIES = {
    "document-version": "2018-11-28",
    "labels": [{"label": "positive"}, {"label": "negative"}, {"label": "neutral"}],
}


def manifest(*stars):
    return [
        {"source": f"review {i}", "review_id": f"R{i}", "star_rating": star}
        for i, star in enumerate(stars, start=1)
    ]


def test_star_rating_workforce_writes_ground_truth_output_lines():
    output = label_reviews(manifest(5, 1, 3), CATEGORIES, LabelingParams(job_name="stars-job"))

    first = output[0]
    assert first["source"] == "review 1" and first["review_id"] == "R1"
    assert first["sentiment"] == 0
    metadata = first["sentiment-metadata"]
    assert metadata["class-name"] == "positive"
    assert metadata["human-annotated"] == "no"
    assert metadata["confidence"] == 1.0
    assert metadata["type"] == "groundtruth/text-classification"
    assert metadata["job-name"] == "labeling-job/stars-job"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", metadata["creation-date"])


def test_star_rating_mapping_follows_the_convention():
    output = label_reviews(manifest(1, 2, 3, 4, 5), CATEGORIES, LabelingParams())

    names = [line["sentiment-metadata"]["class-name"] for line in output]
    assert names == ["negative", "negative", "neutral", "positive", "positive"]
    assert [line["sentiment"] for line in output] == [1, 1, 2, 0, 0]


def test_label_attribute_name_is_configurable():
    output = label_reviews(manifest(4), CATEGORIES, LabelingParams(label_attribute="review-mood"))

    assert output[0]["review-mood"] == 0
    assert "review-mood-metadata" in output[0]


def test_missing_star_rating_names_line_and_field():
    items = manifest(5, 4)
    del items[1]["star_rating"]

    with pytest.raises(LabelingError, match=r"line 2 of .*field 'star_rating' is None"):
        label_reviews(items, CATEGORIES, LabelingParams())


def test_empty_text_names_line_and_field():
    items = manifest(5, 4)
    items[0]["source"] = "  "

    with pytest.raises(LabelingError, match=r"line 1 of the input manifest: field 'source' is empty"):
        label_reviews(items, CATEGORIES, LabelingParams())


def test_workforce_classes_must_exist_in_label_categories():
    binary = {"labels": [{"label": "positive"}, {"label": "negative"}]}

    with pytest.raises(LabelingError, match="neutral"):
        label_reviews(manifest(3), binary, LabelingParams())


@pytest.mark.parametrize("name", ["has space", "-leading", "x-metadata", "y-ref", "a_b"])
def test_label_attribute_must_follow_ground_truth_rule(name):
    with pytest.raises(ValueError, match="Ground Truth"):
        LabelingParams(label_attribute=name)
