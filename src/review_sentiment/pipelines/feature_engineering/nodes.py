"""Labeled manifest → train/test texts. The two feature sets over them are built by
`modeling.nodes` (the steps every pipeline that trains shares)."""

from __future__ import annotations

import logging

import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F
from sklearn.model_selection import train_test_split

from review_sentiment.ground_truth.categories import label_classes
from review_sentiment.ground_truth.duplicates import (
    Duplicates,
    find_duplicates,
    keep_latest_per_item,
)
from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.spark_reader import display_path, parse_output_manifest
from review_sentiment.labeling.queue import QueueEntry, next_step
from review_sentiment.params import FeatureParams
from review_sentiment.progress import step
from review_sentiment.spark import to_pandas

logger = logging.getLogger(__name__)

def read_labeled_manifest(
    manifest_lines: SparkDataFrame,
    label_categories: dict,
    params: FeatureParams,
    labeling_queue: list[QueueEntry] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Text and class name of each labeled item of the output manifest, as a pandas frame.

    Spark checks every line with the format's one validator; only text and label of the good
    lines reach pandas. An item on several lines keeps its last line (the newest answer).

    Args:
        manifest_lines: `spark.read.text` of the output manifest(s).
        label_categories: the job's label categories; a class index is read through them.
        params: `on_bad_line`, `multilabel`, `label_attribute`.
        labeling_queue: what people should label next, if the labeling step left anything (see
            `labeling.queue`): named in the error when nothing is labeled yet.

    Returns:
        The labeled reviews (`text`, `label`), the lines set aside (`file`, `line`, `reason`,
        `text`; empty unless `on_bad_line` is quarantine), and counts for the run's record.

    Raises:
        ManifestError: `line N of <path>: <field>: <what>` for the first bad line (when
            `on_bad_line` is raise), or naming the file when no line is labeled.
    """
    classes = label_classes(label_categories)
    parsed = parse_output_manifest(
        manifest_lines,
        classes=classes,
        label_attribute=params.label_attribute,
        multilabel=params.multilabel,
    ).cache()
    try:
        with step("reading the output manifest with Spark", logger=logger) as reading:
            reading.update("checking lines")
            lines_read, bad_count = parsed.agg(F.count("*"), F.count("problem")).first()
            bad = parsed.where(F.col("problem").isNotNull()).orderBy("file", "line")
            if bad_count and params.on_bad_line == "raise":
                raise _bad_line_error(bad.first(), bad_count)
            quarantine = bad.select(
                "file", "line", F.col("problem").alias("reason"), "text"
            ).toPandas()
            good = parsed.where(F.col("problem").isNull())
            reading.update("finding duplicates")
            duplicates = find_duplicates(good)
            reading.update("collecting text and labels")
            # With no item on several lines every good line is kept: no shuffle of the texts.
            latest = keep_latest_per_item(good) if duplicates.items_repeated else good
            # Sorted here, not by Spark: a global sort would shuffle every text once more.
            labeled = (
                to_pandas(latest.select("file", "line", "source", "class_name"))
                .rename(columns={"source": "text", "class_name": "label"})
                .sort_values(["file", "line"], kind="stable", ignore_index=True)
                .drop(columns=["file", "line"])
            )
    finally:
        parsed.unpersist()
    if labeled.empty:
        raise ManifestError(_nothing_labeled(manifest_lines, quarantine, labeling_queue))
    _warn(quarantine, duplicates)
    report = {
        "lines_read": lines_read,
        "lines_quarantined": len(quarantine),
        **duplicates.counts(),
        "reviews_read": len(labeled),
    }
    logger.info(
        "Read %d labeled reviews: %s", len(labeled), labeled["label"].value_counts().to_dict()
    )
    return labeled, quarantine, report


def read_labeled_reviews(
    manifest_lines: SparkDataFrame,
    label_categories: dict,
    params: FeatureParams,
    labeling_queue: list[QueueEntry] | None = None,
) -> pd.DataFrame:
    """`read_labeled_manifest` for a caller that only wants the reviews (lines set aside and
    duplicates are still logged at WARNING)."""
    labeled, _, _ = read_labeled_manifest(manifest_lines, label_categories, params, labeling_queue)
    return labeled


def _bad_line_error(first, count: int) -> ManifestError:
    error = ManifestError.at(first.file, first.line, first.problem)
    if count == 1:
        return error
    return ManifestError(
        f"{error}; and {count - 1} more bad line(s) (feature_engineering.on_bad_line: "
        "quarantine sets them aside and reads the rest)"
    )


def _nothing_labeled(
    manifest_lines: SparkDataFrame,
    quarantine: pd.DataFrame,
    labeling_queue: list[QueueEntry] | None,
) -> str:
    files = ", ".join(display_path(uri) for uri in manifest_lines.inputFiles())
    files = files or "the output manifest"
    if not quarantine.empty:
        first = quarantine.iloc[0]
        return (
            f"{files} has no good labeled lines: all {len(quarantine)} were set aside; the "
            f"first: {ManifestError.at(first['file'], first['line'], first['reason'])}"
        )
    message = f"{files} has no labeled lines yet"
    if labeling_queue:
        message += f": {next_step(labeling_queue)}"
    return message


def _warn(quarantine: pd.DataFrame, duplicates: Duplicates) -> None:
    if not quarantine.empty:
        first = quarantine.iloc[0]
        logger.warning(
            "%d bad line(s) set aside in manifest_quarantine, the first: %s",
            len(quarantine),
            ManifestError.at(first["file"], first["line"], first["reason"]),
        )
    if duplicates.items_repeated:
        logger.warning(
            "%d item(s) are on more than one line: %d older line(s) dropped, the last line of "
            "each kept (the newest answer); %d of them had different labels, e.g. %s",
            duplicates.items_repeated,
            duplicates.lines_dropped,
            duplicates.items_relabeled,
            ", ".join(duplicates.relabeled_examples) or "none",
        )
    if duplicates.texts_labeled_differently:
        logger.warning(
            "%d text(s) are labeled differently on different items (all kept), e.g. %s",
            duplicates.texts_labeled_differently,
            "; ".join(repr(text) for text in duplicates.text_examples),
        )


def split_reviews(
    labeled_reviews: pd.DataFrame, params: FeatureParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reproducible train/test split, stratified by label."""
    counts = labeled_reviews["label"].value_counts()
    too_few = counts[counts < 2]
    if not too_few.empty:
        raise ValueError(
            f"cannot stratify: label(s) {', '.join(too_few.index)} have fewer than 2 reviews "
            f"({too_few.to_dict()}); label more reviews or drop the class"
        )
    train, test = train_test_split(
        labeled_reviews,
        test_size=params.test_size,
        random_state=params.seed,
        stratify=labeled_reviews["label"],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)
