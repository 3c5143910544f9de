"""Kedro datasets for formats kedro-datasets does not cover."""

from review_sentiment.datasets.manifest import ManifestDataset, ManifestError
from review_sentiment.datasets.metrics import MlflowFlatMetricsDataset

__all__ = ["ManifestDataset", "ManifestError", "MlflowFlatMetricsDataset"]
