"""Reads Ground Truth output manifests with Spark SQL functions, keeping each line's number.

Every real shape is accepted: int or string label values, int or float confidence, single- or
multi-label, `source` or `source-ref`, any label attribute name. Problems are not raised here but
put in an `error` column, so a caller can report the first few with file and line.
"""

from __future__ import annotations

from typing import Literal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

PARSED_COLUMNS = [
    "file",
    "line",
    "source",
    "source_ref",
    "label_attribute",
    "label_index",
    "class_name",
    "confidence",
    "human_annotated",
    "job_name",
    "type",
    "review_id",
    "error",
]


def number_lines(lines: DataFrame) -> DataFrame:
    """Adds `file` and 1-based `line` to the `value` column of `spark.read.text` output.

    `zipWithIndex` keeps the order of the text source's partitions, so the index is the position
    in the file, which a window over a non-deterministic id could not promise.
    """
    with_file = lines.select(F.col("_metadata.file_path").alias("file"), "value")
    indexed = with_file.rdd.zipWithIndex().map(lambda pair: (pair[0][0], pair[1], pair[0][1]))
    numbered = indexed.toDF("file string, index long, value string")
    first = F.min("index").over(Window.partitionBy("file"))
    return numbered.select(
        "file", (F.col("index") - first + 1).alias("line"), "value"
    ).where(F.trim("value") != "")


def _when_no_error(error: Column, problem: Column, message: Column) -> Column:
    return F.coalesce(error, F.when(problem, message))


def parse_output_manifest(
    lines: DataFrame,
    *,
    label_attribute: str | None = None,
    multilabel: Literal["reject", "top"] = "reject",
) -> DataFrame:
    """One row per manifest line with the label read out of it, or the reason it cannot be read.

    Args:
        lines: `spark.read.text(path)` of one or more manifests.
        label_attribute: the attribute to read; by default the one `<name>-metadata` key of a line.
        multilabel: "top" reads a multi-label line as its most confident label; "reject" makes it
            an error, for projects that train single-label models.
    """
    numbered = number_lines(lines)
    obj = F.from_json("value", "MAP<STRING,STRING>")
    parsed = numbered.select("file", "line", obj.alias("obj"))

    metadata_keys = F.filter(F.map_keys("obj"), lambda key: key.endswith("-metadata"))
    if label_attribute is None:
        attribute = F.when(
            F.size(metadata_keys) == 1,
            F.regexp_replace(F.element_at(metadata_keys, 1), "-metadata$", ""),
        )
    else:
        attribute = F.lit(label_attribute)
    parsed = parsed.select("*", metadata_keys.alias("metadata_keys"), attribute.alias("label_attribute"))

    metadata = F.from_json(
        F.try_element_at("obj", F.concat(F.col("label_attribute"), F.lit("-metadata"))),
        "MAP<STRING,STRING>",
    )
    parsed = parsed.select(
        "*",
        F.try_element_at("obj", F.col("label_attribute")).alias("label_value"),
        metadata.alias("metadata"),
    )
    kind = F.col("metadata")["type"]
    is_multilabel = F.coalesce(
        kind.endswith("multilabel") | F.trim("label_value").startswith("["), F.lit(False)
    )

    # Multi-label: the label is a list of class indices; class-map names them and
    # confidence-map scores them. The most confident one wins (ties: the higher index).
    indices = F.from_json("label_value", "ARRAY<STRING>")
    class_map = F.from_json(F.col("metadata")["class-map"], "MAP<STRING,STRING>")
    confidence_map = F.from_json(F.col("metadata")["confidence-map"], "MAP<STRING,DOUBLE>")
    top = F.array_max(
        F.transform(
            indices,
            lambda index: F.struct(
                F.coalesce(F.try_element_at(confidence_map, index), F.lit(0.0)).alias("confidence"),
                index.alias("index"),
            ),
        )
    )
    class_name = F.when(is_multilabel, F.try_element_at(class_map, top.getField("index"))).otherwise(
        F.col("metadata")["class-name"]
    )
    confidence = F.when(is_multilabel, top.getField("confidence")).otherwise(
        F.col("metadata")["confidence"].try_cast("double")
    )

    key_list = F.array_join(F.col("metadata_keys"), ", ")
    error = F.lit(None).cast("string")
    error = _when_no_error(error, F.col("obj").isNull(), F.lit("not a JSON object"))
    if label_attribute is None:
        error = _when_no_error(
            error,
            F.size("metadata_keys") == 0,
            F.lit("no label attribute (no '<attribute>-metadata' key)"),
        )
        error = _when_no_error(
            error,
            F.size("metadata_keys") > 1,
            F.concat(
                F.lit("several label attributes ("),
                key_list,
                F.lit("): set feature_engineering.label_attribute"),
            ),
        )
    else:
        error = _when_no_error(
            error,
            F.col("metadata").isNull(),
            F.lit(f"field '{label_attribute}-metadata' is missing or not an object"),
        )
    error = _when_no_error(
        error,
        F.col("label_value").isNull(),
        F.concat(F.lit("field '"), F.col("label_attribute"), F.lit("' is missing")),
    )
    if multilabel == "reject":
        error = _when_no_error(
            error,
            is_multilabel,
            F.concat(
                F.lit("field '"),
                F.col("label_attribute"),
                F.lit("' is a multi-label annotation; set feature_engineering.multilabel: top "
                      "to read its most confident label"),
            ),
        )
    else:
        error = _when_no_error(
            error,
            is_multilabel & (F.coalesce(F.size(indices), F.lit(0)) < 1),
            F.concat(F.lit("field '"), F.col("label_attribute"), F.lit("' has no label")),
        )
    return parsed.select(
        F.regexp_replace("file", "^file:(//)?", "").alias("file"),
        "line",
        F.col("obj")["source"].alias("source"),
        F.col("obj")["source-ref"].alias("source_ref"),
        "label_attribute",
        F.when(~is_multilabel, F.col("label_value").try_cast("int")).alias("label_index"),
        class_name.alias("class_name"),
        confidence.alias("confidence"),
        F.col("metadata")["human-annotated"].alias("human_annotated"),
        F.col("metadata")["job-name"].alias("job_name"),
        kind.alias("type"),
        F.col("obj")["review_id"].alias("review_id"),
        error.alias("error"),
    )
