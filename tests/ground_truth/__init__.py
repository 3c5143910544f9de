"""Helpers shared by the format's tests: each reader's verdict on every line of one file."""

from __future__ import annotations

from pathlib import Path

from review_sentiment.ground_truth.manifest import ManifestError, iter_manifest
from review_sentiment.ground_truth.records import LineProblem, parse_labeled_line
from review_sentiment.ground_truth.spark_reader import RECORD_FIELDS, parse_output_manifest


def dataset_verdicts(
    path: Path, classes: list[str], *, label_attribute: str | None = None, multilabel: str = "reject"
) -> dict[int, tuple | str]:
    """Line number → the record's fields, or the error, as ManifestDataset + parse_labeled_line
    see the file (`iter_manifest` is what the dataset's load runs)."""
    kwargs = {"attribute": label_attribute, "multilabel": multilabel}
    verdicts: dict[int, tuple | str] = {}
    for number, value in iter_manifest(path.read_bytes()):
        try:
            if isinstance(value, LineProblem):
                raise value
            record = parse_labeled_line(value, classes, **kwargs)
            verdicts[number] = tuple(getattr(record, name) for name in RECORD_FIELDS)
        except LineProblem as problem:
            verdicts[number] = str(ManifestError.at(str(path), number, problem))
    return verdicts


def spark_verdicts(spark, path: Path, classes: list[str], **kwargs) -> dict[int, tuple | str]:
    """The same, as the Spark reader sees the file."""
    rows = parse_output_manifest(spark.read.text(str(path)), classes=classes, **kwargs).collect()
    return {
        row.line: (
            tuple(getattr(row, name) for name in RECORD_FIELDS)
            if row.problem is None
            else str(ManifestError.at(row.file, row.line, row.problem))
        )
        for row in rows
    }
