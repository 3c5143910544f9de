"""Kedro datasets for formats kedro-datasets does not cover."""

from review_sentiment.datasets.manifest import ManifestDataset, ManifestError

__all__ = ["ManifestDataset", "ManifestError"]
