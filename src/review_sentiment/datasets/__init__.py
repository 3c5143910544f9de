"""Kedro datasets for formats kedro-datasets does not cover, and its JSON file with options.

`metrics.MlflowFlatMetricsDataset` is not imported here: it pulls in MLflow (about a second),
which the labeling app, importing `manifest`, should not pay for. Nor is
`object_store_text.ObjectStoreTextDataset` (S3 text for Spark, `--env aws`): it pulls in PySpark.
"""

from review_sentiment.datasets.json_file import JSONDataset
from review_sentiment.datasets.label_store import LabelStoreDataset
from review_sentiment.datasets.manifest import ManifestDataset, ManifestError
from review_sentiment.datasets.optional_json import OptionalJSONDataset
from review_sentiment.datasets.previous_manifest import PreviousManifestDataset

__all__ = [
    "JSONDataset",
    "LabelStoreDataset",
    "ManifestDataset",
    "ManifestError",
    "OptionalJSONDataset",
    "PreviousManifestDataset",
]
