"""Reads Ground Truth output manifests with Spark: numbers each line, then checks it on the
executors with the same Python the manifest dataset runs (`read_line`, `parse_labeled_line`),
so the two readers accept the same lines and reject the rest with the same messages.

DataFrame API only (the checks run in Python UDFs), so it reads the same on a classic session
and on a Spark Connect one, which has no RDDs.

A bad line is not raised here but gets a `problem` (`<field>: <what>`), so that a caller can
stop at the first one or set them all aside.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import fields
from functools import partial
from typing import Literal
from urllib.parse import unquote

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
from review_sentiment.spark import ShippedByValue

RECORD_FIELDS = [field.name for field in fields(LabeledRecord)]
# One row per line: where it is, the record's fields (null if the line is bad), the item's
# key and text hash (for duplicates), the problem, and the line's text (bad lines only).
PARSED_SCHEMA = (
    "file string, line long, source string, review_id string, label_attribute string, "
    "class_name string, class_index int, confidence double, human_annotated boolean, "
    "job_name string, creation_date string, item_key string, source_sha1 string, "
    "problem string, text string, blank boolean"
)
UNDECODABLE_SCHEMA = "array<struct<file: string, line: long, encoding_problem: string>>"


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
    """`uri` (`_metadata.file_path`), 1-based `line` and `value` of every line of
    `spark.read.text` output, blank lines included, in the text source's partitions.

    `monotonically_increasing_id` at the scan is the partition's index (the high bits), then the
    row's position in it: the order `zipWithIndex` gives, which is the position in the file, as
    the text source reads a file's splits in order. A small pass counts each file's rows per
    partition; a line is its position in its partition plus the rows of the file in earlier
    partitions. No shuffle of the lines: the checks that follow run on every partition at once
    (a window over the whole file would put each file in one task).
    """
    positioned = lines.select(
        F.col("_metadata.file_path").alias("uri"),
        F.monotonically_increasing_id().alias("position"),
        "value",
    ).withColumn("partition", F.shiftright("position", 33))
    parts = positioned.groupBy("uri", "partition").agg(
        F.min("position").alias("first"), F.count("*").alias("rows")
    )
    earlier = Window.partitionBy("uri").orderBy("partition")
    earlier = earlier.rowsBetween(Window.unboundedPreceding, -1)
    offset = F.coalesce(F.sum("rows").over(earlier), F.lit(0))
    offsets = parts.select("uri", "partition", "first", offset.alias("offset"))
    line = F.col("position") - F.col("first") + F.col("offset") + 1
    return positioned.join(F.broadcast(offsets), ["uri", "partition"]).select(
        "uri", line.alias("line"), "value"
    )


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
        numbered = numbered.join(undecodable, ["uri", "line"], "left")
    check = _python_udf(
        partial(
            _check_line, classes=list(classes), attribute=label_attribute, multilabel=multilabel
        ),
        "check_manifest_line",
        _struct_of(PARSED_SCHEMA),
    )
    parsed = numbered.select(
        check("uri", "line", "value", "encoding_problem").alias("parsed")
    ).select("parsed.*")
    # Blank lines at the end of a file are no lines (`split_lines` drops them too); the window
    # finds each file's last line that is not blank.
    last = F.max(F.when(~F.col("blank"), F.col("line"))).over(Window.partitionBy("file"))
    with_last = parsed.withColumn("last", F.coalesce(last, F.lit(0)))
    return with_last.where(F.col("line") <= F.col("last")).drop("blank", "last")


def _check_line(
    uri: str,
    line: int,
    value: str,
    encoding_problem: str | None,
    classes: list[str],
    attribute: str | None,
    multilabel: str,
) -> tuple:
    """Runs on the executors: one line through the dataset's checks, to a `PARSED_SCHEMA` row."""
    file = display_path(uri)
    # Hadoop drops a BOM at the start of a file; other readers may not.
    text = value[1:] if line == 1 and value.startswith(BOM) else value
    try:
        if encoding_problem:
            raise LineProblem(encoding_problem)
        obj = read_line(text)
        record = parse_labeled_line(obj, classes, attribute=attribute, multilabel=multilabel)
    except LineProblem as problem:
        blank = not encoding_problem and is_blank(text)
        return (file, line, *[None] * (len(RECORD_FIELDS) + 2), str(problem), value, blank)
    fields_ = [getattr(record, name) for name in RECORD_FIELDS]
    return (file, line, *fields_, item_key(obj), source_sha1(record.source), None, None, False)


def _undecodable_lines(lines: DataFrame) -> DataFrame | None:
    """`uri`, `line`, `encoding_problem` of each line that is not UTF-8; None if there is none.

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
    suspects = [
        row.uri
        for row in lines.where(~F.is_valid_utf8("value"))
        .select(F.col("_metadata.file_path").alias("uri"))
        .distinct()
        .collect()
    ]
    if not suspects:
        return None
    raw = lines.sparkSession.read.format("binaryFile").load([unquote(uri) for uri in suspects])
    find = _python_udf(_undecodable_in_file, "find_undecodable_lines", UNDECODABLE_SCHEMA)
    found = raw.select(F.explode(find("path", "content")).alias("found")).select("found.*")
    # binaryFile's path is not percent-encoded: back to the text source's URI, by display name.
    uri_of = F.create_map(*[F.lit(part) for uri in suspects for part in (display_path(uri), uri)])
    return found.select(uri_of[F.col("file")].alias("uri"), "line", "encoding_problem")


def _undecodable_in_file(path: str, content: bytes) -> list[tuple[str, int, str]]:
    """Runs on the executors: `file`, `line`, `encoding_problem` of each line that is not UTF-8."""
    found = []
    for number, raw in split_lines(bytes(content)):
        try:
            decode_line(raw)
        except LineProblem as problem:
            found.append((display_path(path, encoded=False), number, str(problem)))
    return found


def _struct_of(ddl: str) -> str:
    """`struct<a: string, b: long>` for a flat DDL schema string such as `PARSED_SCHEMA`."""
    return "struct<" + ", ".join(": ".join(part.split()) for part in ddl.split(", ")) + ">"


def _python_udf(func: Callable, name: str, return_type: str):
    """A Python UDF of `func`, shipped with this package's code (`ShippedByValue`: the format's
    checks need only the standard library) and without Arrow: pickled rows need nothing on the
    executors' Python but the standard library."""
    package = sys.modules[__package__]
    return F.udf(ShippedByValue(func, name, (package,)), returnType=return_type, useArrow=False)
