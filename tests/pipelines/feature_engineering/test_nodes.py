import json

import pandas as pd
import pytest
from scipy.sparse import issparse

from review_sentiment.datasets import ManifestError
from review_sentiment.params import FeatureParams
from review_sentiment.pipelines.feature_engineering.nodes import (
    build_bigram_features,
    build_tfidf_features,
    read_labeled_reviews,
    split_reviews,
)

CATEGORIES = {"labels": [{"label": "positive"}, {"label": "negative"}, {"label": "neutral"}]}


def write_manifest(path, lines):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def line(text, class_name, index=0):
    return {
        "source": text,
        "sentiment": index,
        "sentiment-metadata": {"class-name": class_name, "confidence": 1, "human-annotated": "no",
                               "type": "groundtruth/text-classification"},
    }


def labeled(n_per_class=10):
    rows = [
        (f"{word} review number {i}", label)
        for label, word in [("positive", "great"), ("negative", "awful"), ("neutral", "okay")]
        for i in range(n_per_class)
    ]
    return pd.DataFrame(rows, columns=["text", "label"])


def test_read_labeled_reviews_returns_text_and_class_name(spark, tmp_path):
    path = write_manifest(tmp_path / "out.manifest", [line("Love it", "positive"), line("Hate it", "negative", 1)])

    reviews = read_labeled_reviews(spark.read.text(str(path)), CATEGORIES, FeatureParams())

    assert reviews.to_dict("records") == [
        {"text": "Love it", "label": "positive"},
        {"text": "Hate it", "label": "negative"},
    ]


def test_read_labeled_reviews_names_line_file_and_label_not_in_categories(spark, tmp_path):
    path = write_manifest(tmp_path / "out.manifest", [line("Love it", "positive"), line("Meh", "postive")])

    with pytest.raises(ManifestError, match=rf"line 2 of {path}: label 'postive' is not one of positive, negative, neutral"):
        read_labeled_reviews(spark.read.text(str(path)), CATEGORIES, FeatureParams())


def test_read_labeled_reviews_rejects_empty_text_and_broken_json(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text(json.dumps(line("", "positive")) + "\n{not json\n")

    with pytest.raises(ManifestError) as raised:
        read_labeled_reviews(spark.read.text(str(path)), CATEGORIES, FeatureParams())

    assert f"line 1 of {path}: field 'source' is empty" in str(raised.value)
    assert f"line 2 of {path}: not a JSON object" in str(raised.value)


def test_split_reviews_is_stratified_and_reproducible():
    reviews = labeled(10)
    params = FeatureParams(test_size=0.2, seed=3)

    train, test = split_reviews(reviews, params)
    again_train, _ = split_reviews(reviews, params)

    assert len(train) == 24 and len(test) == 6
    assert test["label"].value_counts().to_dict() == {"positive": 2, "negative": 2, "neutral": 2}
    assert set(train["text"]).isdisjoint(test["text"])
    pd.testing.assert_frame_equal(train, again_train)


def test_split_reviews_explains_a_class_too_small_to_stratify():
    reviews = pd.concat([labeled(5), pd.DataFrame([{"text": "lonely", "label": "mixed"}])])

    with pytest.raises(ValueError, match="mixed"):
        split_reviews(reviews, FeatureParams())


def test_bigram_features_are_fitted_on_train_only():
    train = pd.DataFrame({"text": ["good phone", "bad phone"], "label": ["positive", "negative"]})
    test = pd.DataFrame({"text": ["unseen words here"], "label": ["neutral"]})

    vectorizer, train_x, test_x = build_bigram_features(train, test, FeatureParams())

    assert set(vectorizer.vocabulary_) == {"good", "phone", "bad", "good phone", "bad phone"}
    assert train_x.shape == (2, 5) and test_x.shape == (1, 5)
    assert test_x.nnz == 0


def test_tfidf_features_reweight_the_counts():
    train, test = split_reviews(labeled(10), FeatureParams())
    _, train_counts, test_counts = build_bigram_features(train, test, FeatureParams())

    transformer, train_x, test_x = build_tfidf_features(train_counts, test_counts)

    assert issparse(train_x) and train_x.shape == train_counts.shape
    assert test_x.shape == test_counts.shape
    # rows are L2-normalised
    assert abs((train_x.multiply(train_x)).sum(axis=1).max() - 1.0) < 1e-9
    assert transformer.idf_.shape == (train_counts.shape[1],)
