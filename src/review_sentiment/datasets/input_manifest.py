"""Kedro dataset for the Ground Truth input manifest, saved from pandas or from Spark.

A `ManifestDataset` (loads a list of dicts, checked line by line) whose save also takes the Spark
table of lines `build_input_manifest` makes on the Spark engine (`_order`, `value`): the lines are
written as one file (Ground Truth takes one manifest file), streamed from Spark's part files,
temp + rename, with the same bytes `ManifestDataset` writes for the same lines.
"""

from __future__ import annotations

from typing import Any

from kedro.io.core import get_filepath_str

from review_sentiment.datasets.manifest import ManifestDataset
from review_sentiment.datasets.spark_files import is_spark_frame, write_spark_file


class InputManifestDataset(ManifestDataset):
    """`ManifestDataset`, whose save also takes a Spark table of JSON lines (column `value`).

    Examples:
        ```yaml
        input_manifest:
          type: review_sentiment.datasets.input_manifest.InputManifestDataset
          filepath: data/03_primary/input.manifest
        ```
    """

    def save(self, data: Any) -> None:
        if not is_spark_frame(data):
            super().save(data)
            return
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        write_spark_file(data, self._fs, save_path, kind="text", columns=["value"])
        self._invalidate_cache()
