"""The Spark reader: real output shapes parse, file layout (BOM, CRLF, blank end) is accepted as the
dataset accepts it, and what the dataset rejects (bad bytes, blank middle lines, over-long text)
gets the same problem on the same line."""

import json

from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.ground_truth.spark_reader import parse_output_manifest
from tests.conftest import shared_data

CLASSES = ["positive", "negative", "neutral"]


def parse(spark, path, classes=CLASSES, **kwargs):
    rows = parse_output_manifest(spark.read.text(str(path)), classes=classes, **kwargs).collect()
    return {row.line: row for row in sorted(rows, key=lambda row: row.line)}


def labeled(text, index=0, **extra):
    return json.dumps({"source": text, "s": index, "s-metadata": {"class-name": CLASSES[index]}, **extra})


def test_real_single_label_job_parses(spark):
    path = shared_data("groundtruth/example_output_manifest_lines.jsonl")

    rows = parse(spark, path, classes=["Technical", "Marketing"], label_attribute="hashtag-positivity-label-clone")

    assert [rows[n].class_name for n in range(1, 6)] == ["Marketing", "Marketing", "Technical", "Marketing", "Technical"]
    assert (rows[1].confidence, rows[1].human_annotated, rows[1].job_name) == (
        0.62, True, "labeling-job/hashtag-positivity-label-clone",
    )
    assert rows[6].problem == "hashtag-positivity-label-clone-metadata: missing"


def test_whole_real_multilabel_manifest_parses_with_top(spark):
    path = shared_data("groundtruth/comprehend_multilabel_output.manifest")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    class_map = {}
    for line in lines:
        class_map.update(line["cutomDocClassification-metadata"]["class-map"])
    # The job's label categories are not published; only classes 1 and 5 were chosen.
    classes = [class_map.get(str(i), f"class {i}") for i in range(max(map(int, class_map)) + 1)]

    rows = parse(spark, path, classes=classes, multilabel="top")

    assert len(rows) == len(lines) == 90  # 89 newlines, and a last line without one
    assert all(row.problem is None for row in rows.values())
    assert all(row.class_name in lines[line - 1]["cutomDocClassification-metadata"]["class-map"].values()
               for line, row in rows.items())


def test_bom_crlf_and_blank_end_are_accepted(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_bytes(b"\xef\xbb\xbf" + labeled("one").encode() + b"\r\n" + labeled("two", 1).encode() + b"\r\n\r\n  \n")

    rows = parse(spark, path)

    assert {n: (row.source, row.class_name, row.problem) for n, row in rows.items()} == {
        1: ("one", "positive", None), 2: ("two", "negative", None),
    }
    assert rows[1].file == str(path)


def test_blank_line_in_the_middle_is_a_problem_on_its_line(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text(labeled("one") + "\n\n" + labeled("two") + "\n")

    rows = parse(spark, path)

    assert rows[2].problem == "json: blank line (only the end of a file may be blank)"
    assert rows[3].problem is None


def test_invalid_utf8_is_a_problem_but_a_genuine_replacement_character_loads(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_bytes(
        labeled("fine").encode() + b"\n"
        + b'{"source":"caf\xe9","s":0,"s-metadata":{}}\n'  # Latin-1, not UTF-8
        + labeled("a real \ufffd").encode() + b"\n"
    )

    rows = parse(spark, path)

    assert rows[2].problem == "encoding: not valid UTF-8 (byte 0xe9 at column 15: invalid continuation byte)"
    assert rows[2].source is None
    assert (rows[3].problem, rows[3].source) == (None, "a real \ufffd")


def test_over_long_source_is_a_problem_naming_the_attribute(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_text(labeled("x" * (MAX_ATTRIBUTE_CHARS + 1)) + "\n" + labeled("ok") + "\n")

    rows = parse(spark, path)

    assert rows[1].problem == "source: 20,001 characters; Ground Truth takes at most 20,000 per attribute"
    assert rows[2].problem is None


def test_file_names_are_shown_as_written(spark, tmp_path):
    folder = tmp_path / "labeling job #1"
    folder.mkdir()
    path = folder / "out 100%.manifest"
    path.write_bytes(labeled("fine").encode() + b"\n" + b'{"source":"\xff"}\n')

    rows = parse(spark, path)

    assert rows[1].file == rows[2].file == str(path)
    assert rows[2].problem.startswith("encoding: not valid UTF-8")


def test_line_numbers_survive_many_partitions(spark, tmp_path):
    path = tmp_path / "big.manifest"
    classes = [f"c{i}" for i in range(5000)]
    path.write_text("".join(
        json.dumps({"source": f"text {i}", "s": i, "s-metadata": {"class-name": f"c{i}"}}) + "\n"
        for i in range(5000)
    ))

    spark.conf.set("spark.sql.files.maxPartitionBytes", "16k")  # many splits of one file
    try:
        text = spark.read.text(str(path))
        partitions = text.rdd.getNumPartitions()
        rows = parse_output_manifest(text, classes=classes).collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")

    assert partitions > 10
    assert len(rows) == 5000
    assert all(row.problem is None and row.class_name == f"c{row.line - 1}" for row in rows)
