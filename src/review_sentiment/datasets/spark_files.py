"""One file from a Spark table, written whole or not at all: the rows in `_order`, streamed from
Spark's part files (or, from a cluster whose files this machine cannot see, from the rows it sends
back one partition at a time) into a temporary file, then renamed over the target (uploaded in
one piece to an object store). Memory stays at one chunk (or one partition), whatever the size.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

from fsspec.implementations.local import LocalFileSystem

from review_sentiment.files import ReplacingFile

ORDER = "_order"  # spark_engine.ORDER: the rows' order
_CHUNK = 1 << 20


def is_spark_frame(data: object) -> bool:
    """Whether `data` is a Spark DataFrame, classic or Spark Connect, without importing PySpark."""
    return any(
        cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql")
        for cls in type(data).__mro__
    )


def write_spark_file(  # noqa: PLR0913
    frame: Any,
    fs: Any,
    path: str,
    *,
    kind: Literal["text", "csv"],
    columns: list[str],
) -> None:
    """Writes `columns` of `frame`, in `_order`, to `path` on `fs` as one file.

    text: one line per row of the single column (`\\n`-terminated UTF-8: a manifest).
    csv: a header, then every field quoted as pandas reads it back (`"` doubled).
    """
    rows = frame.orderBy(ORDER).select(*columns) if ORDER in frame.columns else frame.select(*columns)
    if isinstance(fs, LocalFileSystem):
        with ReplacingFile(path) as output:
            _write_rows(output, rows, kind, columns)
        return
    # One upload (multipart and aborted on failure by s3fs): the old object or the new one.
    with tempfile.NamedTemporaryFile(suffix=".tmp") as output:
        _write_rows(output, rows, kind, columns)
        output.flush()
        fs.put_file(output.name, path)


def _write_rows(output: BinaryIO, rows: Any, kind: str, columns: list[str]) -> None:
    if kind == "csv":
        output.write(_csv_line(columns))
    for chunk in _spark_output(rows, kind):
        output.write(chunk)


def _csv_line(values: list[str]) -> bytes:
    return (",".join('"' + str(value).replace('"', '""') + '"' for value in values) + "\n").encode()


def _spark_output(rows: Any, kind: str) -> Iterator[bytes]:
    """The file's bytes after its header, in chunks."""
    from review_sentiment.reviews.spark_engine import is_cluster

    spark = rows.sparkSession
    if is_cluster(spark):
        # Its part files would be on the cluster's storage: rows come back a partition at a time.
        for row in rows.toLocalIterator():
            if kind == "text":
                yield (row[0] + "\n").encode("utf-8")
            else:
                yield _csv_line(["" if value is None else value for value in row])
        return
    with tempfile.TemporaryDirectory(prefix="review-sentiment-spark-") as parts:
        writer = rows.write.mode("overwrite")
        if kind == "text":
            writer.text(parts)
        else:
            writer.csv(
                parts, header=False, quoteAll=True, escape='"', emptyValue='""', nullValue="",
                ignoreLeadingWhiteSpace=False, ignoreTrailingWhiteSpace=False, lineSep="\n",
                encoding="UTF-8",
            )  # fmt: skip
        # part-00000-…, part-00001-…: Spark numbers them in the sorted order.
        for part in sorted(Path(parts).glob("part-*")):
            with part.open("rb") as stream:
                while chunk := stream.read(_CHUNK):
                    yield chunk


def read_spark_csv(spark: Any, path: str) -> Any:
    """A CSV file `write_spark_file` (or pandas) wrote, read by Spark with `_order` in file order."""
    from pyspark.sql import functions as F

    table = spark.read.csv(
        os.path.abspath(path), header=True, quote='"', escape='"', multiLine=True,
        ignoreLeadingWhiteSpace=False, ignoreTrailingWhiteSpace=False, encoding="UTF-8",
    )  # fmt: skip
    return table.select(F.monotonically_increasing_id().alias(ORDER), *table.columns)
