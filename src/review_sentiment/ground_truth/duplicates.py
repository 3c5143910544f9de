"""One label per item: the rule for an item (review id, else text) labeled on several lines of the
output manifests, and the counts of such items and of texts labeled differently, for the record.

Works on the good rows of `spark_reader.parse_output_manifest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

_EXAMPLES = 3


@dataclass(frozen=True)
class Duplicates:
    """Items on more than one line, and texts that different items label differently."""

    lines_dropped: int = 0
    items_repeated: int = 0
    items_relabeled: int = 0
    texts_labeled_differently: int = 0
    relabeled_examples: list[str] = field(default_factory=list)
    text_examples: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The numbers, for a metrics dict."""
        return {
            "duplicate_lines_dropped": self.lines_dropped,
            "items_on_several_lines": self.items_repeated,
            "items_with_different_labels": self.items_relabeled,
            "texts_with_different_labels": self.texts_labeled_differently,
        }


def keep_latest_per_item(records: DataFrame) -> DataFrame:
    """The last line of each item (by file name, then line number).

    The last line is the newest answer: manifests are appended to (a relabel, a chained or
    streaming job, a later run's lines written after an earlier run's), never rewritten in place.
    """
    newest_first = Window.partitionBy("item_key").orderBy(F.desc("file"), F.desc("line"))
    ranked = records.withColumn("rank", F.row_number().over(newest_first))
    return ranked.where(F.col("rank") == 1).drop("rank")


def find_duplicates(records: DataFrame) -> Duplicates:
    """Counts items on several lines (and those whose lines disagree), and texts that two or
    more items carry with different labels (after `keep_latest_per_item`; all of them are kept:
    they may be different reviews with the same words, e.g. "Great product")."""
    per_item = records.groupBy("item_key").agg(
        F.count("*").alias("lines"), F.countDistinct("class_name").alias("labels")
    )
    repeated = per_item.where(F.col("lines") > 1)
    totals = repeated.agg(
        F.count("*").alias("items"),
        F.sum(F.col("lines") - 1).alias("dropped"),
        F.sum((F.col("labels") > 1).cast("int")).alias("relabeled"),
    ).first()
    if not totals["items"]:
        items = Duplicates()
    else:
        relabeled = repeated.where(F.col("labels") > 1).orderBy("item_key").limit(_EXAMPLES)
        items = Duplicates(
            lines_dropped=int(totals["dropped"]),
            items_repeated=int(totals["items"]),
            items_relabeled=int(totals["relabeled"]),
            relabeled_examples=[row.item_key for row in relabeled.collect()],
        )
    # Only the narrow columns are shuffled; the few example texts are fetched afterwards.
    narrow = records.select("item_key", "file", "line", "class_name", "source_sha1")
    latest = keep_latest_per_item(narrow) if items.items_repeated else narrow
    per_text = latest.groupBy("source_sha1").agg(F.countDistinct("class_name").alias("labels"))
    differing = per_text.where(F.col("labels") > 1)
    count = differing.count()
    if not count:
        return items
    first = differing.orderBy("source_sha1").limit(_EXAMPLES).collect()
    example_hashes = [row.source_sha1 for row in first]
    examples = (
        records.where(F.col("source_sha1").isin(example_hashes))
        .groupBy("source_sha1")
        .agg(F.min("source").alias("source"))
        .orderBy("source_sha1")
        .collect()
    )
    return replace(
        items,
        texts_labeled_differently=count,
        text_examples=[row.source[:80] for row in examples],
    )
