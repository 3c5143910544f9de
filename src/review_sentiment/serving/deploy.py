"""Deploying the champion model (a local scoring server, or a SageMaker endpoint under `--env aws`)
and checking that it answers: the deployment pipeline's step, and the refresh's when it moved
the champion."""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack

import mlflow
import pandas as pd

from review_sentiment.params import DeploymentParams
from review_sentiment.progress import step
from review_sentiment.scoring import chance_macro_f1, macro_f1, weaknesses
from review_sentiment.serving.client import predict
from review_sentiment.serving.server import LocalModelServer

logger = logging.getLogger(__name__)


def deploy_champion(
    model_registration: dict, test_reviews: pd.DataFrame, params: DeploymentParams
) -> dict:
    """Serves the champion on `params.target` and records how it answered a few test reviews.

    `model_registration` orders this step after training; the model served is whatever the
    alias points at now.

    Raises:
        review_sentiment.aws.sagemaker.SageMakerDeploymentError: not deployed to SageMaker (see
            its subclasses for a timeout and for credentials).
        review_sentiment.serving.EndpointError: the endpoint failed or answered badly.
    """
    if params.target == "sagemaker":
        return _deploy_to_sagemaker(model_registration, test_reviews, params)
    return _smoke_test_locally(model_registration, test_reviews, params)


def _smoke_test_locally(
    model_registration: dict, test_reviews: pd.DataFrame, params: DeploymentParams
) -> dict:
    """Starts MLflow's scoring server on the champion, predicts a few test reviews, stops it."""
    model_uri = f"models:/{params.model_name}@{params.alias}"
    with ExitStack() as running:
        # ~10 s here, most of it `mlflow models serve` importing MLflow and loading the model.
        with step(f"starting the scoring server for {model_uri}", logger=logger) as starting:
            starting.update("waiting for /ping")
            server = running.enter_context(
                LocalModelServer(
                    model_uri,
                    tracking_uri=mlflow.get_tracking_uri(),
                    host=params.host,
                    port=params.port,
                    startup_timeout=params.startup_timeout,
                    workers=params.workers,
                )
            )
        answers = _ask_endpoint(server.url, test_reviews.head(params.smoke_test_size))
    return {
        "model_uri": model_uri,
        "registered_version": model_registration.get("champion_version"),
        "endpoint": server.url,
        **answers,
    }


def _deploy_to_sagemaker(
    model_registration: dict, test_reviews: pd.DataFrame, params: DeploymentParams
) -> dict:
    """Makes the SageMaker endpoint `params.sagemaker.endpoint_name` serve the champion's
    version (created, replaced or unchanged), then predicts a few test reviews through it."""
    # Imported here: boto3 and the SageMaker client only matter on this path.
    from review_sentiment.aws.sagemaker import SageMakerDeployer

    version = int(mlflow.MlflowClient().get_model_version_by_alias(params.model_name, params.alias).version)
    # Creating or replacing an endpoint waits for InService: minutes.
    with step(
        f"deploying {params.model_name} v{version} to SageMaker endpoint {params.sagemaker.endpoint_name}",
        logger=logger,
    ):
        deployment = SageMakerDeployer(params.sagemaker).deploy(params.model_name, version)
    answers = _ask_endpoint(
        deployment.endpoint_name, test_reviews.head(params.smoke_test_size), region=deployment.region
    )
    return {
        "model_uri": deployment.model_uri,
        "registered_version": model_registration.get("champion_version"),
        "endpoint": deployment.endpoint_name,
        **answers,
        "action": deployment.action,
        "changes": list(deployment.changes),
        "region": deployment.region,
        "version": deployment.version,
    }


def _ask_endpoint(endpoint: str, sample: pd.DataFrame, *, region: str | None = None) -> dict:
    """Predictions for `sample`'s texts from `endpoint`, and how many match its labels."""
    started = time.perf_counter()
    labels = predict(endpoint, sample["text"].tolist(), region=region)
    seconds = time.perf_counter() - started
    matches = sum(label == truth for label, truth in zip(labels, sample["label"], strict=True))
    logger.info("Endpoint %s labeled %d reviews, %d as the test set says", endpoint, len(labels), matches)
    expected = sample["label"].tolist()
    score, chance = macro_f1(expected, labels), chance_macro_f1(expected)
    # Judged on the classes this sample holds (a few reviews need not have all of them); one
    # class alone says nothing about chance.
    classes = sorted(set(expected))
    problems = weaknesses(score, chance, classes, labels) if len(classes) > 1 else []
    for problem in problems:
        logger.warning("The served model %s on the smoke test", problem)
    return {
        "reviews": len(labels),
        "predictions": labels,
        "expected": expected,
        "agreement": matches / len(labels),
        "macro_f1": score,
        "chance_macro_f1": chance,
        "warnings": problems,
        "seconds": round(seconds, 4),
    }
