import matplotlib.pyplot as plt
import mlflow
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from review_sentiment.params import ClassifierParams, TrainingParams
from review_sentiment.pipelines.training.nodes import (
    build_bigram_model,
    build_tfidf_model,
    evaluate_classifier,
    fit_classifier,
    register_best_model,
    select_better_model,
)
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

    metrics, figure = evaluate_classifier(classifier, test_x, wrong)

    assert metrics["accuracy"] == pytest.approx(10 / 15)
    assert metrics["recall_positive"] == pytest.approx(0.5)
    assert metrics["precision_neutral"] == 0.0
    assert 0 < metrics["macro_f1"] < 1
    assert isinstance(figure, plt.Figure)


def test_text_models_map_raw_texts_to_labels(fitted):
    vectorizer, classifier, train, _, train_x, _ = fitted
    tfidf = TfidfTransformer().fit(train_x)
    tfidf_classifier = fit_classifier(tfidf.transform(train_x), train, ClassifierParams())

    bigram = build_bigram_model(vectorizer, classifier)
    weighted = build_tfidf_model(vectorizer, tfidf, tfidf_classifier)

    texts = ["great lovely thing", "awful broken thing"]
    assert list(bigram.predict(texts)) == ["positive", "negative"]
    assert list(weighted.predict(texts)) == ["positive", "negative"]


def test_select_better_model_takes_higher_macro_f1_and_bigram_on_tie():
    bigram, tfidf = object(), object()

    chosen, selection = select_better_model(bigram, {"macro_f1": 0.7}, tfidf, {"macro_f1": 0.8})
    tied, tie_selection = select_better_model(bigram, {"macro_f1": 0.8}, tfidf, {"macro_f1": 0.8})

    assert chosen is tfidf and selection["feature_set"] == "tfidf"
    assert tied is bigram and tie_selection["feature_set"] == "bigram"


def test_register_best_model_registers_and_names_the_champion(fitted, tmp_path):
    vectorizer, classifier, _, test, _, _ = fitted
    model = build_bigram_model(vectorizer, classifier)
    with local_mlflow(tmp_path) as experiment:
        with mlflow.start_run(experiment_id=experiment):
            record = register_best_model(
                model, {"feature_set": "bigram"}, test, TrainingParams(registered_model_name="m")
            )
        champion = mlflow.MlflowClient().get_model_version_by_alias("m", "champion")

    assert record["feature_set"] == "bigram"
    assert record["promoted"] is True and record["version"] == 1 == int(champion.version)
    assert record["macro_f1"] == 1.0


def test_register_best_model_needs_a_run(fitted, tmp_path):
    vectorizer, classifier, _, test, _, _ = fitted
    with local_mlflow(tmp_path), pytest.raises(RuntimeError, match="active MLflow run"):
        register_best_model(
            build_bigram_model(vectorizer, classifier), {"feature_set": "bigram"}, test,
            TrainingParams(),
        )
