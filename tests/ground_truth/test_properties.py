"""Properties of the format: whatever the writer (`labeled_line`) produces reads back to the same
record, through the dataset's path and the Spark reader; a mangled line is a ManifestError or a
LineProblem, never another exception, and both readers judge it alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_sentiment.ground_truth.manifest import ManifestError, parse_manifest, serialise_manifest
from review_sentiment.ground_truth.records import (
    Label,
    LabeledRecord,
    LineProblem,
    labeled_line,
    parse_labeled_line,
)
from tests.ground_truth import dataset_verdicts, spark_verdicts

PATH = "s3://bucket/out.manifest"
# No example database in the work tree; failures print their example to reproduce.
FAST = settings(max_examples=300, deadline=None, database=None)
SPARK = settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Any Unicode text but lone surrogates, which UTF-8 cannot carry.
unicode_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80)
review_texts = unicode_text.filter(lambda text: text.strip())
class_lists = st.lists(unicode_text.filter(bool), min_size=2, max_size=6, unique=True)
attributes = st.from_regex(r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,20}", fullmatch=True).filter(
    lambda name: not name.endswith(("-ref", "-metadata")) and name not in ("source", "review_id")
)
review_ids = st.none() | unicode_text | st.integers(min_value=0, max_value=10**12)


@st.composite
def written_lines(draw) -> tuple[dict, list[str], LabeledRecord]:
    """A line as the writer produces it, its classes, and the record it must read back as."""
    classes = draw(class_lists)
    source, review_id = draw(review_texts), draw(review_ids)
    label = Label(draw(st.sampled_from(classes)), draw(st.floats(0, 1)), draw(st.booleans()))
    attribute, job = draw(attributes), draw(unicode_text)
    created = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                                timezones=st.just(UTC)))
    line = labeled_line({"source": source, "review_id": review_id}, label, attribute=attribute,
                        classes=classes, job_name=job, created=created)
    record = LabeledRecord(
        source=source,
        review_id=None if review_id in (None, "") else str(review_id),
        label_attribute=attribute,
        class_name=label.class_name,
        class_index=classes.index(label.class_name),
        confidence=round(label.confidence, 4),
        human_annotated=label.human_annotated,
        job_name=f"labeling-job/{job}",
        creation_date=created.replace(tzinfo=None).isoformat(timespec="microseconds"),
    )
    return line, classes, record


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | unicode_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(unicode_text, inner, max_size=3),
    max_leaves=5,
)


@st.composite
def mangled_lines(draw) -> tuple[bytes, list[str]]:
    """A written line truncated, with a byte flipped, a field removed or a field retyped."""
    line, classes, _ = draw(written_lines())
    how = draw(st.sampled_from(["truncate", "flip", "remove", "retype"]))
    if how in ("remove", "retype"):
        metadata_key = next(key for key in line if key.endswith("-metadata"))
        holder = draw(st.sampled_from([line, line[metadata_key]]))
        key = draw(st.sampled_from(sorted(holder)))
        if how == "remove":
            del holder[key]
        else:
            holder[key] = draw(json_values)
        return json.dumps(line, ensure_ascii=False).encode(), classes
    data = json.dumps(line, ensure_ascii=False).encode()
    at = draw(st.integers(0, len(data) - 1))
    if how == "truncate":
        return data[:at], classes
    flipped = data[at] ^ draw(st.integers(1, 255))
    return data[:at] + bytes([flipped]) + data[at + 1 :], classes


@FAST
@given(written_lines())
def test_written_line_reads_back_as_the_same_record(case):
    line, classes, record = case

    (obj,) = parse_manifest(serialise_manifest([line], PATH), PATH)

    assert parse_labeled_line(obj, classes) == record


@FAST
@given(mangled_lines())
def test_mangled_line_is_a_manifest_error_or_a_line_problem(case):
    content, classes = case
    try:
        for obj in parse_manifest(content, PATH):
            try:
                parse_labeled_line(obj, classes)
            except LineProblem as problem:
                assert str(problem).split(": ", 1)[0]  # `<field>: <what>`
    except ManifestError as error:
        assert str(error).startswith("line ")


@SPARK
@given(st.lists(written_lines(), min_size=1, max_size=12), st.data())
def test_spark_reader_reads_written_lines_back(spark, tmp_path_factory, cases, data):
    # One label attribute and one class list per file, as one labeling job writes.
    classes = data.draw(class_lists)
    attribute = data.draw(attributes)
    lines, expected = [], {}
    for number, (line, _, record) in enumerate(cases, start=1):
        label = Label(classes[number % len(classes)], record.confidence or 0.0, record.human_annotated)
        item = {"source": record.source, "review_id": record.review_id}
        lines.append(labeled_line(item, label, attribute=attribute, classes=classes,
                                  job_name="j", created=datetime(2026, 1, 1, tzinfo=UTC)))
        expected[number] = (record.source, record.review_id, label.class_name)
    path = tmp_path_factory.mktemp("written") / "out.manifest"
    path.write_bytes(serialise_manifest(lines, str(path)))

    verdicts = spark_verdicts(spark, path, classes)

    assert {n: (v[0], v[1], v[3]) for n, v in verdicts.items()} == expected
    assert verdicts == dataset_verdicts(path, classes)


@SPARK
@given(st.lists(mangled_lines(), min_size=1, max_size=12), class_lists)
def test_readers_judge_mangled_lines_alike(spark, tmp_path_factory, cases, classes):
    path = tmp_path_factory.mktemp("mangled") / "out.manifest"
    path.write_bytes(b"\n".join(content for content, _ in cases) + b"\n")

    assert spark_verdicts(spark, path, classes) == dataset_verdicts(path, classes)
