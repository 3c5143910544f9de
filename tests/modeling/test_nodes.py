import logging
import typing
from dataclasses import asdict

import matplotlib.pyplot as plt
import mlflow
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from review_sentiment.champion_decision import describe_decision
from review_sentiment.modeling.evaluation import evaluate_classifier
from review_sentiment.modeling.nodes import (
    build_bigram_model,
    build_tfidf_model,
    evaluator,
    fit_classifier,
    register_best_model,
)
from review_sentiment.params import ClassifierParams, FeatureParams, TrainingParams
from review_sentiment.registry import Registration
from review_sentiment.scoring import chance_macro_f1
from tests.serving import local_mlflow

WORDS = {"positive": "great lovely", "negative": "awful broken", "neutral": "okay average"}


def reviews(n_per_class: int, offset: int = 0) -> pd.DataFrame:
    rows = [
        (f"{words} item {i + offset}", label)
        for label, words in WORDS.items()
        for i in range(n_per_class)
    ]
    return pd.DataFrame(rows, columns=["text", "label"])


@pytest.fixture
def fitted():
    train, test = reviews(20), reviews(5, offset=100)
    vectorizer = CountVectorizer(ngram_range=(1, 2))
    train_x = vectorizer.fit_transform(train["text"])
    test_x = vectorizer.transform(test["text"])
    classifier = fit_classifier(train_x, train, ClassifierParams())
    return vectorizer, classifier, train, test, train_x, test_x


def test_fit_classifier_learns_the_labels(fitted):
    _, classifier, _, test, _, test_x = fitted

    assert sorted(classifier.classes_) == ["negative", "neutral", "positive"]
    assert (classifier.predict(test_x) == test["label"]).mean() == 1.0


def test_fit_classifier_uses_the_parameters(fitted):
    _, _, train, _, train_x, _ = fitted

    classifier = fit_classifier(train_x, train, ClassifierParams(loss="log_loss", alpha=0.01))

    assert (classifier.loss, classifier.alpha) == ("log_loss", 0.01)


def test_evaluate_classifier_reports_scores_and_a_confusion_matrix(fitted):
    _, classifier, _, test, _, test_x = fitted
    wrong = test.assign(label=test["label"].replace({"neutral": "positive"}))

    metrics, figure = evaluate_classifier(classifier, test_x, wrong, model="bigram counts", split="test")

    assert metrics["accuracy"] == pytest.approx(10 / 15)
    assert metrics["recall_positive"] == pytest.approx(0.5)
    assert metrics["precision_neutral"] == 0.0
    assert 0 < metrics["macro_f1"] < 1
    assert isinstance(figure, plt.Figure)
    assert figure.axes[0].get_title() == f"bigram counts, test set: macro-F1 {metrics['macro_f1']:.3f}"


def test_evaluate_classifier_is_quiet_about_a_good_model(fitted, caplog):
    _, classifier, _, test, _, test_x = fitted

    with caplog.at_level(logging.WARNING):
        metrics, _ = evaluate_classifier(classifier, test_x, test, model="bigram counts", split="test")

    assert metrics["macro_f1"] == 1.0 and metrics["chance_macro_f1"] == pytest.approx(1 / 3)
    assert not caplog.records


def test_evaluate_classifier_warns_near_chance_and_for_a_class_never_predicted(fitted, caplog):
    _, classifier, _, test, _, test_x = fitted
    # The model answers correctly; the labels say otherwise, rotated: it scores 0.
    rotated = test.assign(label=test["label"].map(
        {"positive": "negative", "negative": "neutral", "neutral": "positive"}
    ))
    only_positive = test[test["label"] == "positive"]

    with caplog.at_level(logging.WARNING):
        evaluate_classifier(classifier, test_x, rotated, model="bigram TF-IDF", split="test")
        evaluate_classifier(
            classifier, test_x[only_positive.index], only_positive, model="bigram TF-IDF", split="training"
        )

    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("bigram TF-IDF is near chance: macro-F1 0.000, chance 0.333")
    assert messages[0].endswith("on the test set")
    assert "'negative', 'neutral' (5 reviews) on the training set" in messages[-1]


def test_chance_macro_f1_is_the_better_of_majority_and_uniform_guessing():
    balanced = ["a", "b", "c"] * 10
    skewed = ["a"] * 90 + ["b"] * 10

    assert chance_macro_f1(balanced) == pytest.approx(1 / 3)  # uniform: 1/3 per class
    # Always "a": F1 of a = 2 * 0.9 / 1.9, b scores 0; uniform over two scores less.
    assert chance_macro_f1(skewed) == pytest.approx((2 * 0.9 / 1.9) / 2)
    assert chance_macro_f1([]) == 0.0


def test_evaluator_is_a_node_function_with_type_hints(fitted):
    _, classifier, _, test, _, test_x = fitted
    evaluate = evaluator("bigram counts", "training")

    metrics, figure = evaluate(classifier, test_x, test)

    assert evaluate.__name__ == "evaluate_classifier_on_training_set"
    assert set(typing.get_type_hints(evaluate)) == {"classifier", "features", "reviews", "return"}
    assert figure.axes[0].get_title().startswith("bigram counts, training set")
    assert metrics["macro_f1"] == 1.0


def test_text_models_map_raw_texts_to_labels(fitted):
    vectorizer, classifier, train, _, train_x, _ = fitted
    tfidf = TfidfTransformer().fit(train_x)
    tfidf_classifier = fit_classifier(tfidf.transform(train_x), train, ClassifierParams())

    bigram = build_bigram_model(vectorizer, classifier)
    weighted = build_tfidf_model(vectorizer, tfidf, tfidf_classifier)

    texts = ["great lovely thing", "awful broken thing"]
    assert list(bigram.predict(texts)) == ["positive", "negative"]
    assert list(weighted.predict(texts)) == ["positive", "negative"]


def test_register_best_model_registers_and_names_the_champion(fitted, tmp_path):
    vectorizer, classifier, train, test, _, _ = fitted
    model = build_bigram_model(vectorizer, classifier)
    with local_mlflow(tmp_path) as experiment:
        with mlflow.start_run(experiment_id=experiment):
            record = register_best_model(
                model, {"feature_set": "bigram"}, train, test, FeatureParams(),
                TrainingParams(registered_model_name="m"),
            )  # fmt: skip
        champion = mlflow.MlflowClient().get_model_version_by_alias("m", "champion")

    assert record["feature_set"] == "bigram"
    assert record["promoted"] is True and record["version"] == 1 == int(champion.version)
    assert record["macro_f1"] == 1.0


def test_register_best_model_says_what_it_decided(fitted, tmp_path, caplog):
    vectorizer, classifier, train, test, _, _ = fitted
    model = build_bigram_model(vectorizer, classifier)
    with local_mlflow(tmp_path) as experiment, caplog.at_level(logging.INFO):
        for rows in (train, train.iloc[1:]):  # a different training set: a new version
            with mlflow.start_run(experiment_id=experiment):
                register_best_model(
                    model, {"feature_set": "bigram"}, rows, test, FeatureParams(),
                    TrainingParams(registered_model_name="m"),
                )  # fmt: skip

    decisions = [r.getMessage() for r in caplog.records if " registered" in r.getMessage()]
    assert decisions == [
        "m v1 registered and promoted to champion: test macro-F1 1.000, no champion before",
        "m v2 registered, not promoted: test macro-F1 1.000 ≤ champion v1 1.000 on the same test set",
    ]
    # Registration takes seconds: it is announced when it starts and when it is done.
    assert any(r.getMessage() == "registering bigram as m …" for r in caplog.records)


@pytest.mark.parametrize(
    ("previous", "promoted", "line"),
    [
        (None, True, "m v3 registered and promoted to champion: test macro-F1 0.550, no champion before"),
        ((2, 0.52), True, "m v3 registered and promoted to champion: test macro-F1 0.550 > champion v2 "
                          "0.520 on the same test set"),
        ((2, 0.61), False, "m v3 registered, not promoted: test macro-F1 0.550 ≤ champion v2 0.610 on "
                           "the same test set"),
    ],
)
def test_describe_registration_names_the_decision_and_why(previous, promoted, line):
    version, score = previous or (None, None)
    registration = Registration(
        model_name="m", version=3, model_uri="models:/m/3", macro_f1=0.55,
        previous_champion_version=version, previous_champion_macro_f1=score,
        champion_version=3 if promoted else version, promoted=promoted,
    )  # fmt: skip

    assert describe_decision(asdict(registration), "champion") == line


def test_register_best_model_needs_a_run(fitted, tmp_path):
    vectorizer, classifier, train, test, _, _ = fitted
    with local_mlflow(tmp_path), pytest.raises(RuntimeError, match="active MLflow run"):
        register_best_model(
            build_bigram_model(vectorizer, classifier), {"feature_set": "bigram"}, train, test,
            FeatureParams(), TrainingParams(),
        )
