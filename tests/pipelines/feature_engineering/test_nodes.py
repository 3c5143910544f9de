import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError
from scipy.sparse import issparse

from review_sentiment.datasets import ManifestError
from review_sentiment.modeling.nodes import (
    build_bigram_features,
    build_bigram_model,
    build_tfidf_features,
    build_tfidf_model,
    fit_classifier,
)
from review_sentiment.params import ClassifierParams, FeatureParams
from review_sentiment.pipelines.feature_engineering.nodes import (
    read_labeled_manifest,
    read_labeled_reviews,
    split_reviews,
)
from tests.conftest import PROJECT
from tests.serving import PROBE_LABELS, PROBE_TEXTS, TEST, TRAIN, local_mlflow, register

CLASSES = ["positive", "negative", "neutral"]
CATEGORIES = {"labels": [{"label": name} for name in CLASSES]}


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


def read(spark, path, params=None, queue=None):
    return read_labeled_manifest(spark.read.text(str(path)), CATEGORIES, params or FeatureParams(), queue)


def test_read_labeled_reviews_returns_text_and_class_name(spark, tmp_path):
    path = write_manifest(tmp_path / "out.manifest", [line("Love it", "positive"), line("Hate it", "negative", 1)])

    reviews = read_labeled_reviews(spark.read.text(str(path)), CATEGORIES, FeatureParams())

    assert reviews.to_dict("records") == [
        {"text": "Love it", "label": "positive"},
        {"text": "Hate it", "label": "negative"},
    ]


def test_read_labeled_reviews_names_line_file_and_label_not_in_categories(spark, tmp_path):
    path = write_manifest(tmp_path / "out.manifest", [line("Love it", "positive"), line("Meh", "postive")])

    with pytest.raises(ManifestError) as raised:
        read(spark, path)

    assert str(raised.value) == (
        f"line 2 of {path}: sentiment-metadata.class-name: 'postive' is not one of positive, negative, neutral"
    )


def test_first_bad_line_stops_the_run_and_the_rest_are_counted(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text(json.dumps(line("", "positive")) + "\n{not json\n")

    with pytest.raises(ManifestError) as raised:
        read(spark, path)

    assert str(raised.value) == (
        f"line 1 of {path}: source: empty; and 1 more bad line(s) "
        "(feature_engineering.on_bad_line: quarantine sets them aside and reads the rest)"
    )


def test_class_index_without_class_name_is_read_through_the_categories(spark, tmp_path):
    # A machine label as real jobs write it (line 14 of the shared examples): index, no class-name.
    unnamed = {"source": "Broke in a week", "sentiment": 1,
               "sentiment-metadata": {"confidence": 1.0, "human-annotated": "no"}}
    path = write_manifest(tmp_path / "out.manifest", [unnamed] + [
        line(f"review {i}", CLASSES[i % 3], i % 3) for i in range(9)
    ] + [{**unnamed, "source": "Dead on arrival"}])

    reviews, _, _ = read(spark, path)
    train, test = split_reviews(reviews, FeatureParams(test_size=0.25))

    assert reviews.loc[0].to_dict() == {"text": "Broke in a week", "label": "negative"}
    assert len(train) + len(test) == 11


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (line("Meh", "positive", 7), "sentiment: class index 7 is out of range for 3 classes (positive, negative, neutral)"),
        (line("Meh", "negative", 0), "sentiment: class index 0 is 'positive', but class-name is 'negative'"),
        (line("Meh", "neutral", "9"), "sentiment: class index 9 is out of range for 3 classes (positive, negative, neutral)"),
    ],
    ids=["out-of-range", "disagrees-with-class-name", "digit-string-out-of-range"],
)
def test_class_index_must_name_one_of_the_categories(spark, tmp_path, bad, problem):
    path = write_manifest(tmp_path / "out.manifest", [line("Good", "positive", "0"), bad])

    with pytest.raises(ManifestError) as raised:
        read(spark, path)

    assert str(raised.value) == f"line 2 of {path}: {problem}"


def test_invalid_utf8_stops_the_run_naming_the_line(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_bytes(json.dumps(line("Good", "positive")).encode() + b"\n" + b'{"source":"\xc3("}\n')

    with pytest.raises(ManifestError) as raised:
        read(spark, path)

    assert str(raised.value) == (
        f"line 2 of {path}: encoding: not valid UTF-8 (byte 0xc3 at column 12: invalid continuation byte)"
    )


def test_over_long_text_stops_the_run_naming_the_line(spark, tmp_path):
    path = write_manifest(tmp_path / "out.manifest", [line("a" * 20_001, "positive")])

    with pytest.raises(ManifestError) as raised:
        read(spark, path)

    assert str(raised.value) == (
        f"line 1 of {path}: source: 20,001 characters; Ground Truth takes at most 20,000 per attribute"
    )


def test_empty_manifest_error_names_the_file(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text("")

    with pytest.raises(ManifestError) as raised:
        read(spark, path)

    assert str(raised.value) == f"{path} has no labeled lines yet"


def test_empty_manifest_error_says_what_to_label_next(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text("\n")

    with pytest.raises(ManifestError) as raised:
        read(spark, path, queue=["R1", "R2", "R3"])

    assert str(raised.value) == (
        f"{path} has no labeled lines yet: label the 3 reviews in labeling_queue.json with "
        "`make label`, then run again"
    )


def test_duplicate_ids_keep_the_last_line_and_are_reported(spark, tmp_path, caplog):
    path = write_manifest(tmp_path / "out.manifest", [
        {**line("Works", "positive"), "review_id": "R1"},
        {**line("Fine", "neutral", 2), "review_id": "R2"},
        {**line("Works", "negative", 1), "review_id": "R1"},  # relabeled: the newest answer
        {**line("Fine", "neutral", 2), "review_id": "R2"},
        {**line("Great", "positive"), "review_id": "R3"},
        {**line("Great", "negative", 1), "review_id": "R4"},  # same text, another review
    ])

    with caplog.at_level("WARNING"):
        reviews, quarantine, report = read(spark, path)

    assert reviews.to_dict("records") == [
        {"text": "Works", "label": "negative"},
        {"text": "Fine", "label": "neutral"},
        {"text": "Great", "label": "positive"},
        {"text": "Great", "label": "negative"},
    ]
    assert quarantine.empty
    assert report == {
        "lines_read": 6, "lines_quarantined": 0, "duplicate_lines_dropped": 2,
        "items_on_several_lines": 2, "items_with_different_labels": 1,
        "texts_with_different_labels": 1, "reviews_read": 4,
    }
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("2 item(s) are on more than one line: 2 older line(s) dropped, the last line of each "
               "kept (the newest answer); 1 of them had different labels, e.g. R1" in w for w in warnings)
    assert any("1 text(s) are labeled differently on different items (all kept), e.g. 'Great'" in w
               for w in warnings)


def test_quarantine_sets_bad_lines_aside_and_reads_the_rest(spark, tmp_path, caplog):
    path = tmp_path / "out.manifest"
    path.write_bytes(b"\r\n".join([
        json.dumps(line("Good", "positive")).encode(),
        json.dumps(line("Meh", "positive", 7)).encode(),
        b"",
        json.dumps(line("Bad", "negative", 1)).encode(),
        b"{not json",
    ]) + b"\r\n\r\n")

    with caplog.at_level("WARNING"):
        reviews, quarantine, report = read(spark, path, FeatureParams(on_bad_line="quarantine"))

    assert reviews["text"].tolist() == ["Good", "Bad"]
    assert quarantine.to_dict("records") == [
        {"file": str(path), "line": 2, "text": json.dumps(line("Meh", "positive", 7)),
         "reason": "sentiment: class index 7 is out of range for 3 classes (positive, negative, neutral)"},
        {"file": str(path), "line": 3, "text": "",
         "reason": "json: blank line (only the end of a file may be blank)"},
        {"file": str(path), "line": 5, "text": "{not json",
         "reason": "json: not valid JSON (Expecting property name enclosed in double quotes at column 2)"},
    ]
    assert (report["lines_read"], report["lines_quarantined"], report["reviews_read"]) == (5, 3, 2)
    assert any(f"3 bad line(s) set aside in manifest_quarantine, the first: line 2 of {path}" in r.getMessage()
               for r in caplog.records)


def test_quarantine_of_every_line_still_stops_the_run(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text("{not json\n")

    with pytest.raises(ManifestError) as raised:
        read(spark, path, FeatureParams(on_bad_line="quarantine"))

    assert str(raised.value) == (
        f"{path} has no good labeled lines: all 1 were set aside; the first: line 1 of {path}: "
        "json: not valid JSON (Expecting property name enclosed in double quotes at column 2)"
    )


def test_several_label_attributes_are_read_by_name(spark, tmp_path):
    two = {**line("Good", "positive"), "stars": 4, "stars-metadata": {"class-name": "4"}}
    path = write_manifest(tmp_path / "out.manifest", [two])

    with pytest.raises(ManifestError, match="set feature_engineering.label_attribute to the one to read"):
        read(spark, path)
    reviews, _, _ = read(spark, path, FeatureParams(label_attribute="sentiment"))

    assert reviews.to_dict("records") == [{"text": "Good", "label": "positive"}]


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

    vectorizer, train_x, test_x = build_bigram_features(train, test, FeatureParams(vectorizer="counts"))

    assert set(vectorizer.vocabulary_) == {"good", "phone", "bad", "good phone", "bad phone"}
    assert train_x.shape == (2, 5) and test_x.shape == (1, 5)
    assert test_x.nnz == 0


def test_tfidf_features_reweight_the_counts():
    train, test = split_reviews(labeled(10), FeatureParams())
    _, train_counts, test_counts = build_bigram_features(train, test, FeatureParams())

    transformer, train_x, test_x = build_tfidf_features(train_counts, test_counts, FeatureParams())

    assert issparse(train_x) and train_x.shape == train_counts.shape
    assert test_x.shape == test_counts.shape
    # rows are L2-normalised (float32: to about 1e-7)
    assert abs((train_x.multiply(train_x)).sum(axis=1).max() - 1.0) < 1e-6
    assert transformer.idf_.shape == (train_counts.shape[1],)


def test_counts_are_float32_so_neither_tfidf_nor_the_classifier_copies_them():
    train, test = split_reviews(labeled(10), FeatureParams())

    _, train_counts, test_counts = build_bigram_features(train, test, FeatureParams())
    _, train_x, test_x = build_tfidf_features(train_counts, test_counts, FeatureParams())

    assert train_counts.dtype == test_counts.dtype == np.float32
    assert train_x.dtype == test_x.dtype == np.float32


def test_min_df_keeps_terms_of_at_least_that_many_training_texts():
    train = pd.DataFrame({"text": ["good phone", "good case", "bad cable"], "label": ["p", "p", "n"]})
    test = pd.DataFrame({"text": ["good cable"], "label": ["p"]})

    vectorizer, train_x, test_x = build_bigram_features(train, test, FeatureParams(vectorizer="counts", min_df=2))

    assert set(vectorizer.vocabulary_) == {"good"}
    assert train_x.shape == (3, 1) and test_x.toarray().tolist() == [[1.0]]


def test_max_features_bounds_the_vocabulary_to_the_most_frequent_terms():
    train, test = split_reviews(labeled(10), FeatureParams())

    vectorizer, train_x, test_x = build_bigram_features(train, test, FeatureParams(vectorizer="counts", max_features=4))

    assert len(vectorizer.vocabulary_) == 4
    assert {"review", "number", "review number"} <= set(vectorizer.vocabulary_)
    assert train_x.shape[1] == test_x.shape[1] == 4


def test_a_vocabulary_sample_learns_terms_from_the_sample_and_counts_every_text():
    train = pd.DataFrame({"text": [f"word{i} common" for i in range(50)], "label": ["p"] * 50})
    test = pd.DataFrame({"text": ["common word3"], "label": ["p"]})
    params = FeatureParams(vectorizer="counts", vocabulary_sample_size=10, ngram_range=(1, 1))

    vectorizer, train_x, test_x = build_bigram_features(train, test, params)

    assert len(vectorizer.vocabulary_) == 11  # "common" and the ten sampled "wordN"
    assert train_x.shape == (50, 11) and test_x.shape == (1, 11)
    assert train_x[:, vectorizer.vocabulary_["common"]].sum() == 50


def test_hashing_gives_n_features_columns_and_the_same_columns_for_train_and_test():
    train, test = split_reviews(labeled(10), FeatureParams())
    params = FeatureParams(vectorizer="hashing", n_features=2**10)

    vectorizer, train_x, test_x = build_bigram_features(train, test, params)
    _, tfidf_train, tfidf_test = build_tfidf_features(train_x, test_x, params)

    assert train_x.shape == (len(train), 2**10) and test_x.shape == (len(test), 2**10)
    assert tfidf_train.shape[1] == tfidf_test.shape[1] == 2**10
    # Counts, as CountVectorizer gives: "review number 3" has 5 uni- and bigrams, all counted once.
    assert train_x.min() >= 0 and (train_x.sum(axis=1) == 5).all()
    # The one vectorizer the served model keeps maps a test text to the columns it was scored on.
    assert (vectorizer.transform(test["text"]) != test_x).nnz == 0


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"vectorizer": "hashing", "max_features": 1000}, "feature_engineering.max_features"),
        ({"vectorizer": "hashing", "min_df": 3}, "feature_engineering.min_df"),
        ({"vectorizer": "hashing", "vocabulary_sample_size": 10}, "feature_engineering.vocabulary_sample_size"),
        ({"vectorizer": "counts", "n_features": 1024}, "feature_engineering.n_features"),
        ({"vectorizer": "bag-of-words"}, "vectorizer"),
        ({"vectorizer": "counts", "max_features": 0}, "max_features"),
        ({"vectorizer": "hashing", "n_features": 1}, "n_features"),
    ],
)
def test_a_setting_the_vectorizer_cannot_use_is_refused_naming_the_key(settings, named):
    with pytest.raises(ValidationError, match=named):
        FeatureParams(**settings)


def test_hashing_takes_min_df_1_which_prunes_nothing():
    assert FeatureParams(vectorizer="hashing", min_df=1).vectorizer == "hashing"


def test_the_base_parameters_are_the_defaults_and_say_why():
    text = (PROJECT / "conf/base/parameters_feature_engineering.yml").read_text()

    params = FeatureParams(**yaml.safe_load(text)["feature_engineering"])

    # feature_sets are the model search's (tests/model_search), not the pipeline's defaults.
    searched = {"feature_sets"}
    assert params.model_dump(exclude=searched) == FeatureParams().model_dump(exclude=searched)
    assert params.vectorizer == "counts"
    assert "hashing 2**20 scores within noise of counts" in text


def test_a_served_model_of_hashed_features_labels_raw_texts(tmp_path):
    train = pd.DataFrame(TRAIN, columns=["text", "label"])
    test = pd.DataFrame(TEST, columns=["text", "label"])
    params = FeatureParams(vectorizer="hashing", n_features=2**12)
    vectorizer, train_counts, test_counts = build_bigram_features(train, test, params)
    transformer, train_tfidf, _ = build_tfidf_features(train_counts, test_counts, params)
    classifier = fit_classifier(train_tfidf, train, ClassifierParams(random_state=0))
    model = build_tfidf_model(vectorizer, transformer, classifier)

    with local_mlflow(tmp_path) as experiment:
        register(model, "hashed", experiment)
        served = mlflow.pyfunc.load_model("models:/hashed@champion")
        answers = served.predict(PROBE_TEXTS)

    assert list(answers) == PROBE_LABELS


def test_the_logged_model_does_not_grow_with_pruned_terms(tmp_path):
    base = pd.DataFrame(TRAIN, columns=["text", "label"])
    # The same texts, each with a word no other text has: min_df 2 prunes all of them.
    noisy = base.assign(text=[f"{text} unique{i}x" for i, text in enumerate(base["text"])])
    test = pd.DataFrame(TEST, columns=["text", "label"])
    params = FeatureParams(vectorizer="counts", min_df=2)
    sizes = {}
    with local_mlflow(tmp_path) as experiment:
        for name, train in {"base": base, "noisy": noisy}.items():
            vectorizer, train_x, _ = build_bigram_features(train, test, params)
            classifier = fit_classifier(train_x, train, ClassifierParams(random_state=0))
            registration = register(build_bigram_model(vectorizer, classifier), name, experiment)
            folder = Path(mlflow.artifacts.download_artifacts(registration.model_uri, dst_path=str(tmp_path / name)))
            sizes[name] = sum(path.stat().st_size for path in folder.rglob("*.skops"))
            assert not hasattr(vectorizer, "stop_words_")  # scikit-learn < 1.5 kept pruned terms there

    assert sizes["noisy"] == sizes["base"] > 0


def test_a_hashed_term_no_training_text_has_takes_no_tfidf_weight():
    train = pd.DataFrame({"text": ["good phone", "bad phone"], "label": ["positive", "negative"]})
    test = pd.DataFrame({"text": ["good phone", "good phone never seen before"], "label": ["p", "p"]})
    params = FeatureParams(vectorizer="hashing", n_features=2**16)
    _, train_counts, test_counts = build_bigram_features(train, test, params)

    _, _, test_x = build_tfidf_features(train_counts, test_counts, params)

    # As with a learned vocabulary, where unknown terms are dropped: both texts weigh the same.
    assert abs(test_x[0] - test_x[1]).max() < 1e-6
