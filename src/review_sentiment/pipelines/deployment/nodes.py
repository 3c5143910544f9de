"""Serves the champion model locally and checks that it answers."""

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
    alias points at now, which is what a deployment would serve.

    Raises:
        review_sentiment.serving.EndpointError: the endpoint failed or answered badly.
    """
    model_uri = f"models:/{params.model_name}@{params.alias}"
    sample = test_reviews.head(params.smoke_test_size)
    with LocalModelServer(
        model_uri,
        tracking_uri=mlflow.get_tracking_uri(),
        host=params.host,
        port=params.port,
        startup_timeout=params.startup_timeout,
    ) as server:
        started = time.perf_counter()
        labels = predict(server.url, sample["text"].tolist())
        seconds = time.perf_counter() - started
    matches = sum(label == truth for label, truth in zip(labels, sample["label"], strict=True))
    logger.info("Endpoint %s labeled %d reviews, %d as the test set says", server.url, len(labels), matches)
    return {
        "model_uri": model_uri,
        "registered_version": model_registration.get("champion_version"),
        "endpoint": server.url,
        "reviews": len(labels),
        "predictions": labels,
        "expected": sample["label"].tolist(),
        "agreement": matches / len(labels),
        "seconds": round(seconds, 4),
    }
