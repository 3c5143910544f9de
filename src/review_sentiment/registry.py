"""The model's MLflow lifecycle: one text → label pipeline, logged with a serving-safe signature,
registered as a new version, and promoted to the champion alias only if it beats the champion."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from review_sentiment import text_model
from review_sentiment.scoring import macro_f1

# The name of the model inside its run (MLflow 3 `name=`); the registry name is separate.
LOGGED_MODEL_NAME = "model"
MACRO_F1_TAG = "macro_f1"
# Fingerprint of the test set a version was scored on: a champion tagged with the same one
# needs no re-scoring (loading a large model and predicting costs seconds per run).
TEST_SET_TAG = "test_set_sha256"


class RegistrationError(RuntimeError):
    """The model could not be registered or compared with the champion; names the model."""


@dataclass(frozen=True)
class Registration:
    """What `register_and_promote` did: the new version, its score, and who is champion now."""

    model_name: str
    version: int
    model_uri: str
    macro_f1: float
    previous_champion_version: int | None
    previous_champion_macro_f1: float | None
    champion_version: int
    promoted: bool
    # What a promotion gate decided (`champion_gate.GateDecision.as_dict()`), when one was given.
    gate: dict | None = None


# A promotion rule: (test labels, the new version's predictions, the champion's or None) → a
# decision with `promote`; see `champion_gate.judge_candidate`.
Gate = Callable[[Sequence[str], Sequence[str], Sequence[str] | None], Any]


def as_text_model(*fitted_steps: tuple[str, Any]) -> Pipeline:
    """One scikit-learn Pipeline from already-fitted steps: a list of texts in, label strings out.

    No step is refitted and no input-adapter step is added, so the saved pipeline holds only
    scikit-learn types (skops trusts them); `review_sentiment.text_model` checks the input in
    front of it when it is served (see `text_model_signature`).

    Raises:
        ValueError: no steps, a step that is not fitted, or a last step that does not predict
            label strings.
    """
    if not fitted_steps:
        raise ValueError("as_text_model needs at least one fitted step, got none")
    for name, step in fitted_steps:
        try:
            check_is_fitted(step)
        except NotFittedError as error:
            raise ValueError(f"step {name!r} ({type(step).__name__}) is not fitted: {error}") from None
    last_name, last = fitted_steps[-1]
    classes = getattr(last, "classes_", None)
    if not hasattr(last, "predict") or classes is None:
        raise ValueError(f"last step {last_name!r} ({type(last).__name__}) is not a fitted classifier")
    not_text = [label for label in classes if not isinstance(label, str)]
    if not_text:
        raise ValueError(f"last step {last_name!r} predicts {not_text[0]!r}, not a label string")
    return Pipeline(list(fitted_steps))


def text_model_signature() -> ModelSignature:
    """The signature to log a text model with: one unnamed column of any type in, one label
    string per row out. The model itself (`review_sentiment.text_model`) enforces the contract.

    Why so loose: what MLflow 3.17 hands the model for each signature decides what the model
    can still check (measured with the scoring server's parser and pyfunc's schema enforcement):
    - a string tensor (the earlier signature) or a string column turns `{"inputs": [null]}` and
      `[123]` into the texts "None" and "123" before the model sees them, and a string tensor
      drops a table's column name, so a `review` column was labeled; pyfunc refused a list;
    - a named `text` column refuses a list, an array and an unnamed Series in pyfunc;
    - no signature turns `{"inputs": ["a", 1]}` into "a", "1";
    - one unnamed column of any type keeps every value as sent and the column's name, for every
      payload shape and every pyfunc input (a list becomes column 0). Its one cost: of a table
      with several columns only the first reaches the model, so `text` must come first; and
      it costs ~0.13 ms more per request than the tensor in MLflow's schema enforcement (two
      DataFrames built), ~0.2 ms per 100 texts (bench/serving.py measures the whole server).
    """
    return ModelSignature(inputs=Schema([ColSpec(AnyType())]), outputs=Schema([ColSpec("string")]))


def text_input_example(texts: Sequence[str]) -> np.ndarray:
    """The input example to log with `text_model_signature`; MLflow saves it as `{"inputs": [...]}`."""
    if not texts:
        raise ValueError("an input example needs at least one text, got none")
    return np.asarray(list(texts), dtype=str)


def register_and_promote(
    model: Pipeline,
    *,
    model_name: str,
    test_texts: list[str],
    test_labels: list[str],
    alias: str = "champion",
    example_texts: list[str],
    allow_empty_texts: bool = False,
    gate: Gate | None = None,
    tags: Mapping[str, str] | None = None,
) -> Registration:
    """Logs `model` in the active run, registers it as a new version of `model_name`, and points
    `alias` at it only if its test macro-F1 strictly beats the current champion's (or there is
    no champion). The champion's score is its tag when the tag says it was scored on this very
    test set (same fingerprint), else it is re-scored on these texts. If that fails, the new
    version stays registered without the alias. The served model refuses empty or blank texts
    unless `allow_empty_texts` (see `review_sentiment.text_model`).

    With a `gate`, the decision is the gate's instead (the refresh's McNemar test and recall
    floor, `champion_gate`): the champion is always re-scored, since the gate pairs its
    predictions with the new version's item by item. `tags` are set on the new version.

    Raises:
        RegistrationError: no active MLflow run, or the champion cannot be scored.
        ValueError: test texts and labels of different or zero length.
    """
    if mlflow.active_run() is None:
        raise RegistrationError(
            f"registering {model_name!r} needs an active MLflow run (kedro-mlflow starts one; "
            "elsewhere use `with mlflow.start_run():`)"
        )
    if not test_texts or len(test_texts) != len(test_labels):
        raise ValueError(
            f"test set for {model_name!r}: {len(test_texts)} texts and {len(test_labels)} labels; "
            "need the same number, at least one"
        )

    predicted = [str(label) for label in model.predict(test_texts)]
    score = macro_f1(test_labels, predicted)
    # What mlflow.sklearn.log_model does, with `text_model` as the flavor: the same scikit-learn
    # files (mlflow.sklearn.load_model still works), and text_model as the pyfunc loader.
    info = Model.log(
        artifact_path=None,
        flavor=text_model,
        sk_model=model,
        allow_empty_texts=allow_empty_texts,
        name=LOGGED_MODEL_NAME,
        signature=text_model_signature(),
        input_example=text_input_example(example_texts),
        registered_model_name=model_name,
        # skops, not pickle: loading it cannot run arbitrary code, and the pipeline holds only
        # scikit-learn types, which skops trusts. (MLflow picks cloudpickle on Databricks.)
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
        # Stated, not inferred: inference runs the model in a subprocess (~3 s per model here)
        # and pins whatever the training process had imported (pytest, rich, ...).
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
        # MLflow would load the logged model once more to predict the input example, and only
        # warn if that failed; saving already loads the skops file back with its trusted types,
        # and the test texts were just predicted above. It cost 3.4 s of a 20,000-review run.
        validate_serving_input=False,
    )
    version = int(info.registered_model_version)
    client = MlflowClient()
    test_set = test_set_fingerprint(test_texts, test_labels)
    client.set_model_version_tag(model_name, str(version), MACRO_F1_TAG, repr(score))
    client.set_model_version_tag(model_name, str(version), TEST_SET_TAG, test_set)
    for key, value in (tags or {}).items():
        client.set_model_version_tag(model_name, str(version), key, str(value))

    previous = _champion_version(client, model_name, alias)
    decision = None
    if gate is not None:
        champion_predicted = (
            None if previous is None else _predict_version(model_name, previous, test_texts)
        )
        decision = gate(test_labels, predicted, champion_predicted)
        previous_f1 = decision.champion_macro_f1
        promoted = bool(decision.promote)
    else:
        previous_f1 = (
            None
            if previous is None
            else _champion_score(client, model_name, previous, test_set, test_texts, test_labels)
        )
        promoted = previous_f1 is None or score > previous_f1
    if promoted:
        client.set_registered_model_alias(model_name, alias, str(version))
    return Registration(
        model_name=model_name,
        version=version,
        model_uri=f"models:/{model_name}/{version}",
        macro_f1=score,
        previous_champion_version=previous,
        previous_champion_macro_f1=previous_f1,
        champion_version=version if promoted else previous,
        promoted=promoted,
        gate=None if decision is None else decision.as_dict(),
    )


def _champion_version(client: MlflowClient, model_name: str, alias: str) -> int | None:
    try:
        return int(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException as error:
        if error.error_code == "INVALID_PARAMETER_VALUE" and "alias" in str(error):
            return None  # no champion yet
        raise


def test_set_fingerprint(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 of the test set's texts and labels, in order."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(json.dumps([text, label]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _champion_score(
    client: MlflowClient,
    model_name: str,
    version: int,
    test_set: str,
    texts: list[str],
    labels: list[str],
) -> float:
    """The champion's macro-F1 on this test set: its tag if it was scored on the very same one."""
    tags = client.get_model_version(model_name, str(version)).tags
    if tags.get(TEST_SET_TAG) == test_set and MACRO_F1_TAG in tags:
        return float(tags[MACRO_F1_TAG])
    return _score_version(model_name, version, texts, labels)


def _score_version(model_name: str, version: int, texts: list[str], labels: list[str]) -> float:
    return macro_f1(labels, _predict_version(model_name, version, texts))


def _predict_version(model_name: str, version: int, texts: list[str]) -> list[str]:
    # Through pyfunc, as the server loads it. A Series named `text` is the one input every
    # signature this project has logged accepts: a 1-D string tensor, one column of any type.
    uri = f"models:/{model_name}/{version}"
    try:
        predicted = list(mlflow.pyfunc.load_model(uri).predict(pd.Series(texts, name="text")))
    except MlflowException as error:
        raise RegistrationError(f"champion {uri} could not be scored on the test set: {error}") from error
    if len(predicted) != len(texts):
        raise RegistrationError(
            f"champion {uri} gave {len(predicted)} predictions for {len(texts)} test texts"
        )
    return [str(label) for label in predicted]


def log_dataset_input(
    frame: pd.DataFrame, *, name: str, source: str, digest: str, context: str
) -> None:
    """Records `frame` as an input of the active run (MLflow's dataset inputs: name, source,
    digest), so a model logged in the run says exactly which data it was trained or tested on.
    MLflow stores at most 36 characters of a digest: a SHA-256 is cut to its first 32."""
    from mlflow.data.pandas_dataset import from_pandas

    dataset = from_pandas(frame, source=source, name=name, digest=digest[:32])
    mlflow.log_input(dataset, context=context)
