"""A folder of files, one per partition, that may still be empty: the refresh's arrivals of raw
reviews and its append-only label rounds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro_datasets.partitions import PartitionedDataset


class OptionalPartitionedDataset(PartitionedDataset):
    """kedro-datasets' `PartitionedDataset`, loading `{}` instead of failing when the folder has
    no partition yet (the first refresh, before any label round). Saving adds partitions and
    never removes one (`overwrite` stays false).

    Examples:
        ```yaml
        labeled_rounds:
          type: review_sentiment.datasets.partitions.OptionalPartitionedDataset
          path: data/03_primary/labeled
          dataset: review_sentiment.datasets.ManifestDataset
          filename_suffix: .manifest
        ```
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        self._invalidate_caches()
        if not self._list_partitions():
            return {}
        return super().load()
