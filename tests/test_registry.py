"""The model lifecycle against a real SQLite-backed MLflow registry in a temporary directory."""

from __future__ import annotations

import re

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import SGDClassifier

from review_sentiment.registry import RegistrationError, as_text_model, register_and_promote
from tests.serving import (
    PROBE_LABELS,
    PROBE_TEXTS,
    TEST_LABELS,
    TEST_TEXTS,
    TRAIN_LABELS,
    TRAIN_TEXTS,
    fit_text_model,
    local_mlflow,
    register,
)

ROTATED = {"positive": "negative", "negative": "neutral", "neutral": "positive"}


@pytest.fixture(scope="module")
def experiment_id(tmp_path_factory):
    """One registry for the module (creating its tables takes seconds); each test uses its own
    registered model name, so the tests stay independent."""
    with local_mlflow(tmp_path_factory.mktemp("registry")) as experiment:
        yield experiment


@pytest.fixture(scope="module")
def good_model():
    return fit_text_model(TRAIN_TEXTS, TRAIN_LABELS)  # macro-F1 1.0 on TEST


@pytest.fixture(scope="module")
def weak_model():
    # One training review per class: macro-F1 about 0.67 on TEST.
    return fit_text_model(TRAIN_TEXTS[::8], TRAIN_LABELS[::8])


@pytest.fixture(scope="module")
def wrong_model():
    # Trained on systematically wrong labels: macro-F1 0 on TEST.
    return fit_text_model(TRAIN_TEXTS, [ROTATED[label] for label in TRAIN_LABELS])


def test_first_registration_becomes_champion(experiment_id, weak_model):
    registration = register(weak_model, "first", experiment_id)

    assert registration.promoted
    assert (registration.version, registration.champion_version) == (1, 1)
    assert registration.model_uri == "models:/first/1"
    assert registration.previous_champion_version is None
    assert registration.previous_champion_macro_f1 is None
    assert MlflowClient().get_model_version_by_alias("first", "champion").version == 1


def test_worse_model_does_not_take_the_alias(experiment_id, good_model, wrong_model):
    champion = register(good_model, "worse", experiment_id)

    registration = register(wrong_model, "worse", experiment_id)

    assert not registration.promoted
    assert registration.version == 2
    assert registration.macro_f1 < champion.macro_f1
    assert registration.previous_champion_version == 1
    assert registration.previous_champion_macro_f1 == pytest.approx(champion.macro_f1)
    assert registration.champion_version == 1
    assert MlflowClient().get_model_version_by_alias("worse", "champion").version == 1


def test_better_model_takes_the_alias(experiment_id, weak_model, good_model):
    champion = register(weak_model, "better", experiment_id)

    registration = register(good_model, "better", experiment_id)

    assert registration.promoted
    assert registration.macro_f1 > champion.macro_f1
    assert registration.previous_champion_version == 1
    assert registration.champion_version == 2
    assert MlflowClient().get_model_version_by_alias("better", "champion").version == 2


def test_equally_good_model_does_not_take_the_alias(experiment_id, good_model):
    register(good_model, "tie", experiment_id)

    registration = register(good_model, "tie", experiment_id)

    assert not registration.promoted
    assert registration.macro_f1 == registration.previous_champion_macro_f1
    assert MlflowClient().get_model_version_by_alias("tie", "champion").version == 1


def test_version_is_tagged_with_its_test_macro_f1(experiment_id, weak_model):
    registration = register(weak_model, "tagged", experiment_id)

    version = MlflowClient().get_model_version("tagged", str(registration.version))

    assert float(version.tags["macro_f1"]) == pytest.approx(registration.macro_f1, abs=1e-6)
    assert 0.5 < registration.macro_f1 < 0.9  # weak, not perfect: the score is really computed


def test_logged_model_has_a_signature_an_example_and_the_text_contract(experiment_id, good_model):
    registration = register(good_model, "signed", experiment_id)

    info = mlflow.models.get_model_info(registration.model_uri)
    pyfunc_conf = info.flavors["python_function"]

    assert info.signature.inputs.to_dict() == [{"type": "any", "required": True}]  # see text_model_signature
    assert info.saved_input_example_info is not None
    assert pyfunc_conf["loader_module"] == "text_model"  # code/text_model.py, shipped with the model
    assert pyfunc_conf["config"] == {"allow_empty_texts": False}
    assert info.flavors["sklearn"]["serialization_format"] == "skops"
    assert list(mlflow.sklearn.load_model(registration.model_uri).predict(PROBE_TEXTS)) == PROBE_LABELS


@pytest.fixture(scope="module")
def served_like(experiment_id, good_model):
    """The registered model loaded as a scoring server loads it: through pyfunc."""
    registration = register(good_model, "contract", experiment_id)
    return mlflow.pyfunc.load_model(registration.model_uri)


def test_pyfunc_labels_a_list_an_array_a_series_and_a_text_table_alike(served_like):
    inputs = {
        "list": list(PROBE_TEXTS),
        "array": np.array(PROBE_TEXTS),
        "Series": pd.Series(PROBE_TEXTS),
        "Series named text": pd.Series(PROBE_TEXTS, name="text"),
        "table": pd.DataFrame({"text": PROBE_TEXTS}),
    }

    labels = {kind: list(served_like.predict(data)) for kind, data in inputs.items()}

    assert labels == {kind: PROBE_LABELS for kind in inputs}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["fine", None], "1 of 2 rows are not review texts: row 1 is null"),
        ([123], "row 0 is int 123, not a string"),
        (pd.DataFrame({"text": ["fine", np.nan]}), "row 1 is null"),
        (["fine", ""], "row 1 is an empty text"),
        (["   "], "row 0 is an empty text; this model refuses empty texts (training.allow_empty_texts)"),
        (pd.DataFrame({"review": ["fine"]}), "the input table has no 'text' column"),
    ],
    ids=["null", "number", "NaN in a table", "empty", "blank", "no text column"],
)
def test_pyfunc_refuses_what_is_not_a_review_text_with_a_message(served_like, data, message):
    with pytest.raises(MlflowException, match=re.escape(message)) as refused:
        served_like.predict(data)

    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"  # HTTP 400 from a scoring server


def test_empty_texts_are_labeled_when_training_allows_them(experiment_id, good_model):
    with mlflow.start_run(experiment_id=experiment_id):
        registration = register_and_promote(
            good_model,
            model_name="empty-allowed",
            test_texts=TEST_TEXTS,
            test_labels=TEST_LABELS,
            example_texts=TRAIN_TEXTS[:1],
            allow_empty_texts=True,
        )
    model = mlflow.pyfunc.load_model(registration.model_uri)

    labels = model.predict(["", PROBE_TEXTS[0]])

    assert len(labels) == 2 and labels[1] == PROBE_LABELS[0]
    with pytest.raises(MlflowException, match="row 0 is null"):
        model.predict([None])  # still refused: only empty texts are allowed


def test_registering_outside_a_run_fails_and_registers_nothing(experiment_id, good_model):
    with pytest.raises(RegistrationError, match="active MLflow run"):
        register_and_promote(
            good_model,
            model_name="no-run",
            test_texts=TEST_TEXTS,
            test_labels=TEST_LABELS,
            example_texts=TRAIN_TEXTS[:1],
        )

    assert MlflowClient().search_registered_models(filter_string="name = 'no-run'") == []


def test_test_set_of_mismatched_lengths_is_refused(experiment_id, good_model):
    with (
        mlflow.start_run(experiment_id=experiment_id),
        pytest.raises(ValueError, match="12 texts and 11 labels"),
    ):
        register_and_promote(
            good_model,
            model_name="mismatch",
            test_texts=TEST_TEXTS,
            test_labels=TEST_LABELS[:-1],
            example_texts=TRAIN_TEXTS[:1],
        )


def test_text_model_labels_texts_with_the_fitted_steps():
    vectorizer = CountVectorizer(ngram_range=(1, 2)).fit(TRAIN_TEXTS)
    classifier = SGDClassifier(random_state=0).fit(vectorizer.transform(TRAIN_TEXTS), TRAIN_LABELS)

    model = as_text_model(("vectorizer", vectorizer), ("classifier", classifier))

    assert list(model.predict(PROBE_TEXTS)) == PROBE_LABELS
    assert model.named_steps["vectorizer"] is vectorizer  # wrapped, not refitted


def test_text_model_refuses_an_unfitted_step():
    vectorizer = CountVectorizer(ngram_range=(1, 2)).fit(TRAIN_TEXTS)

    with pytest.raises(ValueError, match="step 'classifier' .*not fitted"):
        as_text_model(("vectorizer", vectorizer), ("classifier", SGDClassifier()))


def test_champion_is_rescored_when_the_test_set_changed(experiment_id, good_model, weak_model):
    register(weak_model, "moved", experiment_id)
    # The champion's tag claims a perfect score, but for another test set: it must not count.
    MlflowClient().set_model_version_tag("moved", "1", "macro_f1", "1.0")
    MlflowClient().set_model_version_tag("moved", "1", "test_set_sha256", "another test set")

    registration = register(good_model, "moved", experiment_id)

    assert registration.previous_champion_macro_f1 < 1.0
    assert registration.promoted


def test_champion_scored_on_the_same_test_set_is_not_rescored(experiment_id, good_model, weak_model, monkeypatch):
    register(weak_model, "same", experiment_id)

    def must_not_load(*args, **kwargs):
        raise AssertionError("the champion was loaded although its score on this test set is known")

    monkeypatch.setattr(mlflow.pyfunc, "load_model", must_not_load)
    registration = register(good_model, "same", experiment_id)

    assert registration.previous_champion_macro_f1 == pytest.approx(
        float(MlflowClient().get_model_version("same", "1").tags["macro_f1"])
    )
    assert registration.promoted


def _gated(model, model_name, experiment_id, *, significance):
    from review_sentiment.champion_gate import judge_candidate

    def gate(truth, predicted, champion):
        return judge_candidate(truth, predicted, champion, ["positive", "negative", "neutral"],
                               significance=significance, max_recall_drop=1.0)  # fmt: skip

    with mlflow.start_run(experiment_id=experiment_id):
        return register_and_promote(
            model, model_name=model_name, test_texts=TEST_TEXTS, test_labels=TEST_LABELS,
            example_texts=TRAIN_TEXTS[:3], gate=gate, tags={"labeled_set_sha256": "abc"},
        )  # fmt: skip


def test_a_gate_decides_instead_of_the_plain_comparison(experiment_id, weak_model, good_model):
    _gated(weak_model, "gated", experiment_id, significance=0.05)

    # Better on macro-F1, but on so few test reviews that McNemar cannot call it (p >= 1e-9).
    refused = _gated(good_model, "gated", experiment_id, significance=1e-9)
    accepted = _gated(good_model, "gated", experiment_id, significance=1.0)

    assert not refused.promoted and refused.macro_f1 > refused.previous_champion_macro_f1
    assert "may be noise" in refused.gate["reason"] and refused.gate["p_value"] > 1e-9
    assert accepted.promoted and accepted.gate["champion_only_right"] == 0
    assert MlflowClient().get_model_version_by_alias("gated", "champion").version == accepted.version
    assert MlflowClient().get_model_version("gated", str(accepted.version)).tags["labeled_set_sha256"] == "abc"
