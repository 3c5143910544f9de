"""The two readers of output manifests (ManifestDataset + parse_labeled_line, and the Spark reader)
accept the same records and reject the same lines with the same messages."""

import json

import pytest

from review_sentiment.datasets import ManifestDataset, ManifestError
from tests.conftest import shared_data
from tests.ground_truth import dataset_verdicts, spark_verdicts

CLASSES = ["positive", "negative", "neutral"]


def labeled(index=0, class_name=None, source="A fine kettle", **extra):
    metadata = {"confidence": 0.5, "human-annotated": "yes"}
    if class_name is not None:
        metadata["class-name"] = class_name
    return json.dumps({"source": source, "s": index, "s-metadata": metadata, **extra}).encode()


# Good and bad lines of every kind the readers have disagreed on, in one file.
LINES = [
    labeled(0, "positive"),
    labeled(1),  # no class-name: read through the categories
    labeled("2", "neutral"),  # a digit string
    labeled(7, "positive"),  # index out of range
    labeled(1, "positive"),  # index and name disagree
    labeled(0, "postive"),  # not a class
    b"",  # blank line in the middle
    b'{"source":"caf\xe9","s":0,"s-metadata":{}}',  # not UTF-8
    labeled(0, "positive", source="a real \ufffd"),
    labeled(0, "positive", source="x" * 20_001),  # over Ground Truth's attribute limit
    b"{not json",
    b"[1, 2]",
    b'{"source":"x"}',  # no label
    labeled(0, "positive", review_id=["odd"]),
    labeled(0, "positive", source="   "),
    b'{"source":"t","s":[1,2],"s-metadata":{"type":"groundtruth/text-classification-multilabel"}}',
    labeled(2, "neutral", review_id="R9"),
    b'{"source":"A fine kettle","s":0,"s-metadata":{"class-name":"positive"},"source":"A bad one"}',
    b'{"source":"A fine kettle","s":0,"s-metadata":{"class-name":"positive","class-name":"negative"}}',
    b'{"source":"A fine kettle","s":0,"s-metadata":{"class-name":"positive","type":"groundtruth/image-classification"}}',
]


def test_readers_accept_and_reject_the_same_lines_alike(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(LINES) + b"\r\n\n")

    expected = dataset_verdicts(path, CLASSES)
    actual = spark_verdicts(spark, path, CLASSES)

    assert actual == expected
    rejected = sorted(line for line, value in expected.items() if isinstance(value, str))
    assert rejected == [4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20]
    # the dataset itself stops at the first of them, with the same message
    with pytest.raises(ManifestError) as raised:
        ManifestDataset(filepath=str(path)).load()
    assert str(raised.value) == expected[7]


def test_readers_refuse_duplicate_keys_and_other_tasks_naming_the_line(spark, tmp_path):
    path = tmp_path / "out.manifest"
    path.write_bytes(b"\n".join([labeled(0, "positive"), *LINES[-3:]]) + b"\n")

    expected = dataset_verdicts(path, CLASSES)

    assert spark_verdicts(spark, path, CLASSES) == expected
    assert [expected[line] for line in (2, 3, 4)] == [
        f"line 2 of {path}: json: duplicate key 'source'",
        f"line 3 of {path}: json: duplicate key 'class-name'",
        f"line 4 of {path}: s-metadata.type: 'groundtruth/image-classification' is not a "
        "text-classification label (expected groundtruth/text-classification)",
    ]
    with pytest.raises(ManifestError) as raised:
        ManifestDataset(filepath=str(path)).load()
    assert str(raised.value) == expected[2]


@pytest.mark.parametrize(
    ("classes", "options"),
    [
        (["Technical", "Marketing"], {}),
        (["sadness", "optimism", "fear", "joy", "love", "anger"], {"multilabel": "top"}),
        (["negative", "positive"], {"label_attribute": "mood"}),
    ],
    ids=["hashtag-job", "multilabel-top", "mood-attribute"],
)
def test_readers_agree_on_every_real_example_line(spark, classes, options):
    path = shared_data("groundtruth/example_output_manifest_lines.jsonl")

    verdicts = dataset_verdicts(path, classes, **options)

    assert spark_verdicts(spark, path, classes, **options) == verdicts
    assert any(not isinstance(verdict, str) for verdict in verdicts.values())
