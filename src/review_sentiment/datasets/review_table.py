"""Kedro dataset for a table of reviews as one CSV file, saved from pandas or from Spark.

`review_sample` is kept so that a single node (`kedro run --nodes build_input_manifest`) can be
re-run. A Spark table is written without collecting it into this process
(`spark_files.write_spark_file`: Spark's part files streamed into one file, temp + rename), and
a file that large is loaded back by the project's Spark session (`spark.ProjectSpark`, handed
over by `hooks.SparkHooks`); a small one by pandas.
"""

from __future__ import annotations

import os
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
import pandas as pd
from kedro.io.core import AbstractDataset, get_filepath_str, get_protocol_and_path

from review_sentiment.datasets.spark_files import is_spark_frame, read_spark_csv, write_spark_file
from review_sentiment.files import replace_file_atomically
from review_sentiment.params.pipelines import SPARK_FROM_MB
from review_sentiment.reviews import REVIEW_COLUMNS
from review_sentiment.spark import ProjectSpark


class ReviewTableDataset(AbstractDataset[Any, Any]):
    """Loads and saves the review table (`REVIEW_COLUMNS`) as one CSV file, locally or on S3.

    Saves a pandas DataFrame with pandas, a Spark one with Spark (same file, same columns).
    Loads with pandas (ids and categories as text, empty fields as ""), or as a Spark table
    when the file is local, at least `spark_from_mb` and the project's Spark session runs here
    (as `data_extraction.engine: auto` decides for the raw file). The session is the one
    `use_spark` was given (a Kedro run's), else the one running in the process.

    Examples:
        ```yaml
        review_sample:
          type: review_sentiment.datasets.review_table.ReviewTableDataset
          filepath: data/02_intermediate/review_sample.csv
        ```
    """

    def __init__(
        self,
        *,
        filepath: str | os.PathLike,
        spark_from_mb: float = SPARK_FROM_MB,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(str(filepath))
        self._protocol = protocol
        self._filepath = PurePosixPath(path)
        _fs_args = deepcopy(fs_args) or {}
        if protocol == "file":
            _fs_args.setdefault("auto_mkdir", True)
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **_fs_args)
        self._spark_from_mb = spark_from_mb
        self._spark = ProjectSpark()
        self.metadata = metadata

    def use_spark(self, spark: ProjectSpark) -> None:
        """Loads a large file with `spark`'s session (`hooks.SparkHooks` gives the project's)."""
        self._spark = spark

    @property
    def _path(self) -> str:
        return get_filepath_str(self._filepath, self._protocol)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol}

    def load(self) -> Any:
        if self._load_with_spark():
            return read_spark_csv(self._spark.session(), self._path)
        with self._fs.open(self._path, mode="rb") as stream:
            table = pd.read_csv(
                stream, dtype={"review_id": str, "product_category": str}, keep_default_na=False
            )
        return table

    def _load_with_spark(self) -> bool:
        if self._protocol != "file" or self._fs.size(self._path) < self._spark_from_mb * 1e6:
            return False
        return not self._spark.is_remote

    def save(self, data: Any) -> None:
        if is_spark_frame(data):
            write_spark_file(data, self._fs, self._path, kind="csv", columns=REVIEW_COLUMNS)
        else:
            # Through a temporary file: a kill mid-write leaves the previous sample.
            payload = data[REVIEW_COLUMNS].to_csv(index=False).encode("utf-8")
            if self._protocol == "file":
                replace_file_atomically(self._path, payload)
            else:
                self._fs.pipe_file(self._path, payload)
        self._fs.invalidate_cache(self._path)

    def _exists(self) -> bool:
        return self._fs.exists(self._path)
