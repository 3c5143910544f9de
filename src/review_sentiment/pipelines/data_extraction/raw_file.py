"""The raw review file's dataset under the name `conf/*/catalog.yml` and the refresh pipeline still
use; it lives in `review_sentiment.datasets.raw_file`."""

from review_sentiment.datasets.raw_file import RawFile, RawFileDataset

__all__ = ["RawFile", "RawFileDataset"]
