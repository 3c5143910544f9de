"""Deploys the champion model (a local scoring server, or a SageMaker endpoint under `--env aws`)
and checks that it answers."""

from __future__ import annotations

import logging
import time

import mlflow
import pandas as pd

from review_sentiment.params import DeploymentParams
from review_sentiment.serving import LocalModelServer, predict

logger = logging.getLogger(__name__)


def smoke_test_local_endpoint(
    model_registration: dict, test_reviews: pd.DataFrame, params: DeploymentParams
) -> dict:
    """Starts MLflow's scoring server on the champion, predicts a few test reviews, stops it.

    `model_registration` orders this step after training; the model served is whatever the
    alias points at now, which is what a deployment would serve. Does nothing (returns `{}`)
    unless `params.target` is local.

    Raises:
        review_sentiment.serving.EndpointError: the endpoint failed or answered badly.
    """
    if params.target != "local":
        return {}
    model_uri = f"models:/{params.model_name}@{params.alias}"
    with LocalModelServer(
        model_uri,
        tracking_uri=mlflow.get_tracking_uri(),
        host=params.host,
        port=params.port,
        startup_timeout=params.startup_timeout,
        workers=params.workers,
    ) as server:
        answers = _ask_endpoint(server.url, test_reviews.head(params.smoke_test_size))
    return {
        "model_uri": model_uri,
        "registered_version": model_registration.get("champion_version"),
        "endpoint": server.url,
        **answers,
    }


def deploy_champion_to_sagemaker(
    model_registration: dict, test_reviews: pd.DataFrame, params: DeploymentParams
) -> dict:
    """Makes the SageMaker endpoint `params.sagemaker.endpoint_name` serve the champion's
    version (created, replaced or unchanged), then predicts a few test reviews through it.
    Does nothing (returns `{}`) unless `params.target` is sagemaker.

    Raises:
        review_sentiment.aws.sagemaker.SageMakerDeploymentError: not deployed (see its subclasses
            for a timeout and for credentials).
        review_sentiment.serving.EndpointError: the endpoint failed or answered badly.
    """
    if params.target != "sagemaker":
        return {}
    # Imported here: boto3 and the SageMaker client only matter on this path.
    from review_sentiment.aws.sagemaker import SageMakerDeployer

    version = int(mlflow.MlflowClient().get_model_version_by_alias(params.model_name, params.alias).version)
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
        "endpoint_name": deployment.endpoint_name,
        "region": deployment.region,
        "version": deployment.version,
    }


def record_deployment_smoke_test(local: dict, sagemaker: dict, params: DeploymentParams) -> dict:
    """The smoke test of the target that was deployed (the other node did nothing)."""
    return sagemaker if params.target == "sagemaker" else local


def _ask_endpoint(endpoint: str, sample: pd.DataFrame, *, region: str | None = None) -> dict:
    """Predictions for `sample`'s texts from `endpoint`, and how many match its labels."""
    started = time.perf_counter()
    labels = predict(endpoint, sample["text"].tolist(), region=region)
    seconds = time.perf_counter() - started
    matches = sum(label == truth for label, truth in zip(labels, sample["label"], strict=True))
    logger.info("Endpoint %s labeled %d reviews, %d as the test set says", endpoint, len(labels), matches)
    return {
        "reviews": len(labels),
        "predictions": labels,
        "expected": sample["label"].tolist(),
        "agreement": matches / len(labels),
        "seconds": round(seconds, 4),
    }
