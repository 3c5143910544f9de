"""Serving the registered model: MLflow's scoring server run locally, and the client that asks
any endpoint speaking its protocol (local, remote, or SageMaker) for labels."""

from review_sentiment.serving.client import EndpointError, predict
from review_sentiment.serving.server import LocalModelServer, ServerStartError

__all__ = ["EndpointError", "LocalModelServer", "ServerStartError", "predict"]
