"""Registering what training chose: a new version of the registered model, promoted past the gate,
unless an identical training (same data, same parameters, same code) is already registered."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from functools import cache
from importlib.resources import files
from typing import Any

import pandas as pd
from pydantic import BaseModel
from sklearn.pipeline import Pipeline

from review_sentiment.champion_decision import describe_decision
from review_sentiment.params import FeatureParams, TrainingParams
from review_sentiment.progress import step
from review_sentiment.registry import (
    Registration,
    register_and_promote,
    test_set_fingerprint,
)

logger = logging.getLogger(__name__)

# The tag that says what a version was trained from (`training_fingerprint`).
TRAINING_TAG = "training_sha256"


@cache
def code_fingerprint() -> str:
    """SHA-256 of this package's Python sources, by path: any change to the code changes it."""
    digest = hashlib.sha256()
    root = files("review_sentiment")
    for path in sorted(_python_files(root), key=lambda p: p[0]):
        digest.update(path[0].encode() + b"\0" + path[1].read_bytes() + b"\0")
    return digest.hexdigest()


def _python_files(folder, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for entry in folder.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir() and entry.name != "__pycache__":
            found += _python_files(entry, f"{name}/")
        elif entry.name.endswith(".py"):
            found.append((name, entry))
    return found


def training_fingerprint(
    train_reviews: pd.DataFrame, test_reviews: pd.DataFrame, *parameters: BaseModel
) -> str:
    """SHA-256 of what a trained model follows from: the training and test rows in order, the
    parameters given, and the code."""
    digest = hashlib.sha256()
    digest.update(test_set_fingerprint(train_reviews["text"].tolist(), train_reviews["label"].tolist()).encode())
    digest.update(test_set_fingerprint(test_reviews["text"].tolist(), test_reviews["label"].tolist()).encode())
    for params in parameters:
        digest.update(json.dumps(params.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(code_fingerprint().encode())
    return digest.hexdigest()


def identical_version(model_name: str, fingerprint: str) -> int | None:
    """The newest registered version of `model_name` trained from `fingerprint`, if any."""
    from mlflow import MlflowClient

    versions = MlflowClient().search_model_versions(
        f"name = '{model_name}' and tags.{TRAINING_TAG} = '{fingerprint}'"
    )
    return max((int(version.version) for version in versions), default=None)


def register_model(
    model: Pipeline,
    selection: dict,
    train_reviews: pd.DataFrame,
    test_reviews: pd.DataFrame,
    features: FeatureParams,
    params: TrainingParams,
    **options: Any,
) -> dict[str, Any]:
    """Registers `model` (`register_and_promote` with the training parameters and this test
    set; `options`, e.g. the refresh's `gate` and `tags`, are passed on) and returns what was
    decided (model_registration.json), with a progress line while it runs.

    When a version trained from the same rows, parameters and code is registered already,
    nothing is logged or registered: the record says which version it is and who is champion.
    """
    fingerprint = training_fingerprint(train_reviews, test_reviews, features, params)
    name = params.registered_model_name
    same = identical_version(name, fingerprint)
    if same is not None:
        record = _unchanged(name, same, params.champion_alias)
        logger.info("%s", describe_decision(record, params.champion_alias))
        return {**record, "feature_set": selection["feature_set"]}
    with step(f"registering {selection['feature_set']} as {name}", logger=logger):
        registration = register_and_promote(
            model,
            model_name=name,
            test_texts=test_reviews["text"].tolist(),
            test_labels=test_reviews["label"].tolist(),
            alias=params.champion_alias,
            example_texts=test_reviews["text"].head(params.input_example_size).tolist(),
            allow_empty_texts=params.allow_empty_texts,
            **{**options, "tags": {**options.get("tags", {}), TRAINING_TAG: fingerprint}},
        )
    record = {**asdict(registration), "registered": True}
    logger.info("%s", describe_decision(record, params.champion_alias))
    return {**record, "feature_set": selection["feature_set"]}


def _unchanged(name: str, version: int, alias: str) -> dict[str, Any]:
    """The record of a training that registered nothing: `version` is the identical one."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        champion = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        champion = None
    tags = client.get_model_version(name, str(version)).tags
    return {
        **asdict(
            Registration(
                model_name=name,
                version=version,
                model_uri=f"models:/{name}/{version}",
                macro_f1=float(tags.get("macro_f1", "nan")),
                previous_champion_version=None if champion is None else int(champion.version),
                previous_champion_macro_f1=None,
                champion_version=None if champion is None else int(champion.version),
                promoted=False,
            )
        ),
        "registered": False,
    }
