"""Text files on S3 as a Spark DataFrame of lines, with or without Hadoop's S3 connector.

Clusters that ship hadoop-aws (Databricks, EMR) read `s3a://` themselves (`route: s3a`). A Spark
without it (pip's pyspark, this machine) cannot; there (`route: fsspec`) the objects are copied
to a temporary folder with fsspec/s3fs and read with Spark's text source, so lines are split
exactly as before, and the DataFrame names the S3 objects, not the copies, wherever
`ground_truth.spark_reader` looks for a file name (`_metadata.file_path`, `inputFiles()`).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import quote

import fsspec
from kedro.io.core import DatasetError, get_protocol_and_path
from kedro_datasets.spark import SparkDataset
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.classic.dataframe import DataFrame as ClassicDataFrame

from review_sentiment.ground_truth.manifest import ManifestError, decode_line, split_lines
from review_sentiment.ground_truth.records import LineProblem
from review_sentiment.ground_truth.spark_reader import display_path

__all__ = ["ObjectStoreTextDataset"]

Route = Literal["fsspec", "s3a"]


class ObjectStoreTextDataset(SparkDataset):
    """Loads one text file, or every file under a folder, on S3 as `spark.read.text` does.

    A `SparkDataset` (so the project's Spark hook starts the session from `spark.yml` before
    it loads), read-only: the file is written by another dataset (e.g. a `ManifestDataset`).

    Examples:
        ```yaml
        output_manifest@spark:
          type: review_sentiment.datasets.ObjectStoreTextDataset
          filepath: s3://my-bucket/review-sentiment/03_primary/output.manifest
          route: fsspec     # s3a on a cluster with hadoop-aws
          credentials: s3
        ```
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str,
        route: Route = "fsspec",
        file_format: str = "text",
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Args:
        filepath: `s3://bucket/key` (or any fsspec URL) of a file or a folder of files.
        route: `s3a`: Spark reads `s3a://bucket/key` itself (needs hadoop-aws and
            `spark.hadoop.fs.s3a.*` settings); `fsspec`: copied locally first, any Spark.
        file_format: only `text` (accepted so a base entry's `file_format` can stay).
        credentials: for the fsspec filesystem, e.g. `{key, secret, client_kwargs}`; with
            none, the AWS default chain (environment, profile, instance role).
        fs_args: other arguments of the fsspec filesystem (e.g. `config_kwargs`).
        metadata: ignored by Kedro.
        """
        if file_format != "text":
            raise DatasetError(f"ObjectStoreTextDataset '{filepath}' reads text, not {file_format}")
        if route not in ("fsspec", "s3a"):
            raise DatasetError(
                f"ObjectStoreTextDataset '{filepath}': route must be fsspec or s3a, not {route!r}"
            )
        protocol, path = get_protocol_and_path(str(filepath))
        self._route = route
        self._object_protocol = protocol
        spark_path = f"s3a://{path}" if route == "s3a" and protocol == "s3" else str(filepath)
        super().__init__(
            filepath=spark_path, file_format="text", credentials=credentials, metadata=metadata
        )
        self._fs = fsspec.filesystem(protocol, **deepcopy(credentials or {}), **(fs_args or {}))
        self._object_path = path

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "route": self._route}

    def load(self) -> DataFrame:
        if self._route == "s3a":
            return super().load()
        return self._load_through_copies()

    def save(self, data: DataFrame) -> None:
        raise DatasetError(
            f"{self._uri(self._object_path)} is read-only here: it is written by the dataset "
            "that owns the file (e.g. the ManifestDataset of the same path)"
        )

    def _exists(self) -> bool:
        return self._fs.exists(self._object_path)

    def _load_through_copies(self) -> DataFrame:
        from pyspark.sql import SparkSession
        from pyspark.sql.utils import is_remote

        spark = SparkSession.builder.getOrCreate()
        if is_remote():
            # The copies would be on this machine, which a Spark Connect server cannot read.
            raise DatasetError(
                f"{self._uri(self._object_path)}: route fsspec needs a classic Spark session "
                "(it copies the objects to this machine); on Spark Connect read S3 on the "
                "cluster: route s3a (REVIEW_SENTIMENT_SPARK_S3_ROUTE=s3a)"
            )
        objects = self._objects()
        folder = tempfile.mkdtemp(prefix="review-sentiment-s3-")
        local_to_object: dict[str, str] = {}
        try:
            for key in objects:
                local = Path(folder, key)
                local.parent.mkdir(parents=True, exist_ok=True)
                self._fs.get_file(key, str(local))
                _refuse_undecodable(local, self._uri(key))
                local_to_object[str(local)] = key
            copies = spark.read.text(sorted(local_to_object))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        # Each copy's percent-encoded path -> the object's URI, percent-encoded the same way.
        # (`inputFiles()` writes `file:///tmp/…`, `_metadata.file_path` `file:/tmp/…`.)
        names = {
            _without_file_scheme(uri): self._encoded_uri(local_to_object[display_path(uri)])
            for uri in copies.inputFiles()
        }
        name_of = F.create_map(*[F.lit(part) for pair in names.items() for part in pair])
        copy_path = F.regexp_replace(F.col("_metadata.file_path"), "^file:/+", "/")
        # A column named `_metadata` hides Spark's hidden one: the reader's
        # `_metadata.file_path` then gives the S3 object.
        lines = copies.select(
            "value", F.struct(name_of[copy_path].alias("file_path")).alias("_metadata")
        )
        named = _ObjectFiles(lines, list(names.values()))
        # The copies live as long as the DataFrame that reads them, lazily.
        weakref.finalize(named, shutil.rmtree, folder, True)
        return named

    def _objects(self) -> list[str]:
        path = self._object_path
        if not self._fs.exists(path):
            raise DatasetError(f"{self._uri(path)} does not exist")
        if not self._fs.isdir(path):
            return [path]
        # Spark's text source skips these too (_SUCCESS, .crc files).
        return sorted(
            key
            for key in self._fs.find(path)
            if not PurePosixPath(key).name.startswith(("_", "."))
        )

    def _uri(self, key: str) -> str:
        return f"{self._object_protocol}://{key}"

    def _encoded_uri(self, key: str) -> str:
        return f"{self._object_protocol}://{quote(key)}"


def _without_file_scheme(uri: str) -> str:
    return "/" + uri.removeprefix("file:").lstrip("/")


def _refuse_undecodable(local: Path, uri: str) -> None:
    """Spark's reader re-reads a file holding a line that is not UTF-8 by its URI, which a
    Spark without an S3 connector cannot: such a file is refused here, with the same message
    the reader would give (and regardless of `on_bad_line`)."""
    content = local.read_bytes()
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        for number, raw in split_lines(content):
            try:
                decode_line(raw)
            except LineProblem as problem:
                raise ManifestError.at(uri, number, problem) from None


class _ObjectFiles(ClassicDataFrame):
    """The lines DataFrame, whose `inputFiles()` names the S3 objects rather than the copies."""

    def __init__(self, frame: DataFrame, files: list[str]) -> None:
        super().__init__(frame._jdf, frame.sparkSession)
        self._object_files = files

    def inputFiles(self) -> list[str]:  # noqa: N802 (PySpark's name)
        return list(self._object_files)

