"""Every real Ground Truth output shape in the shared data parses; broken lines are named."""

import json


from review_sentiment.ground_truth.spark_reader import parse_output_manifest
from tests.conftest import shared_data


def parse(spark, path, **kwargs):
    rows = parse_output_manifest(spark.read.text(str(path)), **kwargs).orderBy("line").collect()
    return {row.line: row for row in rows}


def test_every_real_shape_parses_with_multilabel_top(spark):
    path = shared_data("groundtruth/example_output_manifest_lines.jsonl")

    rows = parse(spark, path, multilabel="top")

    assert len(rows) == 14
    assert {line: row.error for line, row in rows.items() if row.error} == {}
    # int class index, float confidence
    assert (rows[1].class_name, rows[1].confidence, rows[1].label_attribute) == (
        "Marketing", 0.62, "hashtag-positivity-label-clone",
    )
    assert rows[6].confidence == 0.0  # written as the int 0
    assert rows[8].class_name == "anger"  # multi-label [5, 1]: anger 0.91 beats optimism 0.49
    assert rows[10].source is None and rows[10].source_ref.startswith("s3://")  # string label "0"
    assert rows[11].class_name == "positive"  # string label "1"
    # a machine label without class-name or job-name: the index is all there is
    assert (rows[14].human_annotated, rows[14].label_index, rows[14].class_name) == ("no", 1, None)


def test_whole_real_multilabel_manifest_parses(spark):
    path = shared_data("groundtruth/comprehend_multilabel_output.manifest")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]

    rows = parse(spark, path, multilabel="top")

    assert len(rows) == len(lines) == 90  # 89 newlines, and a last line without one
    assert all(row.error is None for row in rows.values())
    assert all(row.class_name in lines[line - 1]["cutomDocClassification-metadata"]["class-map"].values()
               for line, row in rows.items())


def test_multilabel_is_rejected_by_default_naming_the_line(spark):
    rows = parse(spark, shared_data("groundtruth/example_output_manifest_lines.jsonl"))

    assert rows[7].error.startswith("field 'cutomDocClassification' is a multi-label annotation")
    assert rows[1].error is None


def test_broken_lines_get_their_own_error(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text(
        "\n".join(
            [
                '{"source": "fine", "s": 0, "s-metadata": {"class-name": "positive", "confidence": 1}}',
                '{"source": "no label"}',
                "not json at all",
                '["a", "list"]',
                '{"source": "two", "a": 0, "a-metadata": {"class-name": "x"}, "b": 1, "b-metadata": {"class-name": "y"}}',
                '{"source": "no class", "s": 0, "s-metadata": {"confidence": 1}}',
            ]
        )
        + "\n"
    )

    rows = parse(spark, path)

    assert rows[1].error is None and rows[1].file == str(path)
    assert rows[2].error.startswith("no label attribute")
    assert rows[3].error == "not a JSON object"
    assert rows[4].error == "not a JSON object"
    assert rows[5].error.startswith("several label attributes (a-metadata, b-metadata)")
    assert rows[6].error is None and rows[6].class_name is None and rows[6].label_index == 0


def test_line_numbers_survive_many_partitions(spark, tmp_path):
    path = tmp_path / "big.manifest"
    lines = [
        json.dumps({"source": f"text {i}", "s": 0, "s-metadata": {"class-name": f"c{i}"}})
        for i in range(5000)
    ]
    path.write_text("\n".join(lines) + "\n")

    spark.conf.set("spark.sql.files.maxPartitionBytes", "16k")  # many splits of one file
    try:
        text = spark.read.text(str(path))
        partitions = text.rdd.getNumPartitions()
        rows = parse_output_manifest(text).collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")

    assert partitions > 10
    assert len(rows) == 5000
    assert all(row.class_name == f"c{row.line - 1}" for row in rows)
