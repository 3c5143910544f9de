"""Reads Ground Truth output manifests with Spark: numbers each line, then checks it on the
executors with the same Python the manifest dataset runs (`read_line`, `parse_labeled_line`),
so the two readers accept the same lines and reject the rest with the same messages.

A bad line is not raised here but gets a `problem` (`<field>: <what>`), so that a caller can
stop at the first one or set them all aside.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import fields
from functools import partial
from typing import Literal
from urllib.parse import unquote

from pyspark import cloudpickle
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from review_sentiment.ground_truth.manifest import (
    BOM,
    decode_line,
    is_blank,
    read_line,
    split_lines,
)
from review_sentiment.ground_truth.records import (
    LabeledRecord,
    LineProblem,
    item_key,
    parse_labeled_line,
    source_sha1,
)

RECORD_FIELDS = [field.name for field in fields(LabeledRecord)]
# One row per line: where it is, the record's fields (null if the line is bad), the item's
# key and text hash (for duplicates), the problem, and the line's text (bad lines only).
PARSED_SCHEMA = (
    "file string, line long, source string, review_id string, label_attribute string, "
    "class_name string, class_index int, confidence double, human_annotated boolean, "
    "job_name string, creation_date string, item_key string, source_sha1 string, "
    "problem string, text string, blank boolean"
)
# Registering for pickling by value is process-wide: one DataFrame is built at a time.
_BY_VALUE = threading.Lock()


def display_path(uri: str, *, encoded: bool = True) -> str:
    """A file as a user writes it: `/data/out x.manifest` for `file:///data/out%20x.manifest`.

    `encoded`: the URI is percent-encoded, as `_metadata.file_path` and `inputFiles()` give it
    (binaryFile's `path` is not).
    """
    path = unquote(uri) if encoded else uri
    for prefix in ("file://", "file:"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def number_lines(lines: DataFrame) -> DataFrame:
    """`file` (as `display_path` shows it), 1-based `line` and `value` of every line of
    `spark.read.text` output, blank lines included.

    `zipWithIndex` keeps the order of the text source's partitions, so the index is the position
    in the file, which a window over a non-deterministic id could not promise.
    """
    with_file = lines.select(F.col("_metadata.file_path").alias("uri"), "value")
    with _shipped_by_value():
        indexed = with_file.rdd.zipWithIndex().map(_file_index_value).toDF(
            "file string, index long, value string"
        )
    first = F.min("index").over(Window.partitionBy("file"))
    return indexed.select("file", (F.col("index") - first + 1).alias("line"), "value")


def parse_output_manifest(
    lines: DataFrame,
    *,
    classes: list[str],
    label_attribute: str | None = None,
    multilabel: Literal["reject", "top"] = "reject",
) -> DataFrame:
    """One row per manifest line (`PARSED_SCHEMA` less `blank`): its record, or its problem.

    Args:
        lines: `spark.read.text(path)` of one or more manifests.
        classes: the label categories in class-index order.
        label_attribute: the attribute to read; by default the one `<name>-metadata` key of a line.
        multilabel: "top" reads a multi-label line as its most confident label; "reject" makes it
            a problem, for projects that train single-label models.
    """
    numbered = number_lines(lines)
    undecodable = _undecodable_lines(lines)
    if undecodable is None:
        numbered = numbered.withColumn("encoding_problem", F.lit(None).cast("string"))
    else:
        numbered = numbered.join(undecodable, ["file", "line"], "left")
    check = partial(
        _check_lines, classes=list(classes), attribute=label_attribute, multilabel=multilabel
    )
    rows = numbered.select("file", "line", "value", "encoding_problem").rdd.mapPartitions(check)
    with _shipped_by_value():
        # The rows are built here to the schema: no per-row check needed.
        parsed = lines.sparkSession.createDataFrame(rows, PARSED_SCHEMA, verifySchema=False)
    # Blank lines at the end of a file are no lines (`split_lines` drops them too); the window
    # finds each file's last line that is not blank.
    last = F.max(F.when(~F.col("blank"), F.col("line"))).over(Window.partitionBy("file"))
    with_last = parsed.withColumn("last", F.coalesce(last, F.lit(0)))
    return with_last.where(F.col("line") <= F.col("last")).drop("blank", "last")


def _check_lines(
    rows: Iterable, classes: list[str], attribute: str | None, multilabel: str
) -> Iterator[tuple]:
    """Runs on the executors: each line through the dataset's checks, to a `PARSED_SCHEMA` row."""
    for file, line, value, encoding_problem in rows:
        # Hadoop drops a BOM at the start of a file; other readers may not.
        text = value[1:] if line == 1 and value.startswith(BOM) else value
        try:
            if encoding_problem:
                raise LineProblem(encoding_problem)
            obj = read_line(text)
            record = parse_labeled_line(obj, classes, attribute=attribute, multilabel=multilabel)
        except LineProblem as problem:
            blank = not encoding_problem and is_blank(text)
            yield (file, line, *[None] * (len(RECORD_FIELDS) + 2), str(problem), value, blank)
            continue
        fields_ = [getattr(record, name) for name in RECORD_FIELDS]
        yield (file, line, *fields_, item_key(obj), source_sha1(record.source), None, None, False)


def _undecodable_lines(lines: DataFrame) -> DataFrame | None:
    """`file`, `line`, `encoding_problem` of each line that is not UTF-8; None if there is none.

    Spark's text source keeps a line's bytes as they are, and decodes them with replacement
    when they reach Python: a byte that is not UTF-8 arrives as U+FFFD, and the line would load
    with the wrong text. Such lines are rare, so Spark's own check (`is_valid_utf8`) finds the
    files holding one, and only those are read again as bytes and their lines decoded
    strictly, as the dataset does (`split_lines`, `decode_line`), for the same message. A
    genuine U+FFFD (bytes EF BF BD) is valid UTF-8 and loads.

    Limits: each such file is read whole by one task (binaryFile takes files up to 2 GiB);
    its path is given to `load`, so glob characters (`*?[]{}`) in it would be expanded; a file
    rewritten between the two reads would be judged on its new bytes.
    """
    suspects = (
        lines.where(~F.is_valid_utf8("value"))
        .select(F.col("_metadata.file_path").alias("uri"))
        .distinct()
        .collect()
    )
    if not suspects:
        return None
    spark = lines.sparkSession
    raw = spark.read.format("binaryFile").load([unquote(row.uri) for row in suspects])
    with _shipped_by_value():
        return spark.createDataFrame(
            raw.select("path", "content").rdd.flatMap(_undecodable_in_file),
            "file string, line long, encoding_problem string",
        )


def _undecodable_in_file(row) -> Iterator[tuple[str, int, str]]:
    path, content = row
    for number, raw in split_lines(bytes(content)):
        try:
            decode_line(raw)
        except LineProblem as problem:
            yield display_path(path, encoded=False), number, str(problem)


def _file_index_value(pair: tuple) -> tuple[str, int, str]:
    (uri, value), index = pair
    return display_path(uri), index, value


@contextlib.contextmanager
def _shipped_by_value() -> Iterator[None]:
    """Executors may run a Python without this project installed (locally the `python3` on
    PATH, on a cluster whatever its image has). The format's checks need only the standard
    library, so the functions of this package travel with each task instead of being imported
    there. Spark pickles a task's functions when the DataFrame is built, inside this block."""
    import review_sentiment.ground_truth as package

    with _BY_VALUE:
        cloudpickle.register_pickle_by_value(package)
        try:
            yield
        finally:
            cloudpickle.unregister_pickle_by_value(package)
