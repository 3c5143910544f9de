"""ObjectStoreTextDataset against a real S3 API server (moto) on 127.0.0.1, read by the project's
Spark reader: the lines Spark sees and the file its errors name are the S3 object's."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from kedro.io import DatasetError

from review_sentiment.datasets import ManifestError
from review_sentiment.datasets.object_store_text import ObjectStoreTextDataset
from review_sentiment.params import FeatureParams
from review_sentiment.pipelines.feature_engineering.nodes import read_labeled_manifest

CATEGORIES = {"labels": [{"label": name} for name in ("positive", "negative", "neutral")]}


def line(text, class_name, index=0):
    return json.dumps({
        "source": text,
        "sentiment": index,
        "sentiment-metadata": {"class-name": class_name, "confidence": 1, "human-annotated": "no",
                               "type": "groundtruth/text-classification"},
    })


@pytest.fixture
def s3(aws_test_credentials, moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return boto3.client("s3")


@pytest.fixture
def bucket(s3):
    name = f"text-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def dataset(uri, **kwargs):
    # No credentials: the AWS default chain (here the environment) and AWS_ENDPOINT_URL.
    return ObjectStoreTextDataset(filepath=uri, fs_args={"skip_instance_cache": True}, **kwargs)


def test_load_gives_spark_the_object_lines_in_order(spark, s3, bucket):
    s3.put_object(Bucket=bucket, Key="out.manifest", Body=b"first\r\nsecond\n\nfourth\n")

    lines = dataset(f"s3://{bucket}/out.manifest").load()

    assert [row.value for row in lines.collect()] == ["first", "second", "", "fourth"]
    assert lines.inputFiles() == [f"s3://{bucket}/out.manifest"]


def test_reader_errors_name_the_s3_object_and_line(spark, s3, bucket):
    body = "\n".join([line("Love it", "positive"), line("Meh", "postive")]) + "\n"
    s3.put_object(Bucket=bucket, Key="labels/out put.manifest", Body=body.encode())

    lines = dataset(f"s3://{bucket}/labels/out put.manifest").load()

    with pytest.raises(ManifestError, match=rf"line 2 of s3://{bucket}/labels/out put.manifest: .*postive"):
        read_labeled_manifest(lines, CATEGORIES, FeatureParams())


def test_nothing_labeled_names_the_s3_object(spark, s3, bucket):
    s3.put_object(Bucket=bucket, Key="out.manifest", Body=b"")

    lines = dataset(f"s3://{bucket}/out.manifest").load()

    with pytest.raises(ManifestError, match=rf"^s3://{bucket}/out.manifest has no labeled lines yet"):
        read_labeled_manifest(lines, CATEGORIES, FeatureParams())


def test_folder_reads_every_file_but_hidden_and_marker_files(spark, s3, bucket):
    for key, body in [("run/a.manifest", b"a1\na2\n"), ("run/b.manifest", b"b1\n"),
                      ("run/_SUCCESS", b""), ("run/.a.manifest.crc", b"x")]:
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    lines = dataset(f"s3://{bucket}/run").load()

    assert sorted(row.value for row in lines.collect()) == ["a1", "a2", "b1"]
    assert sorted(lines.inputFiles()) == [f"s3://{bucket}/run/a.manifest", f"s3://{bucket}/run/b.manifest"]


def test_line_that_is_not_utf8_is_refused_naming_object_and_line(spark, s3, bucket):
    s3.put_object(Bucket=bucket, Key="out.manifest", Body=b'{"a": 1}\n{"source": "caf\xe9"}\n')

    with pytest.raises(ManifestError, match=rf"line 2 of s3://{bucket}/out.manifest: encoding: not valid UTF-8"):
        dataset(f"s3://{bucket}/out.manifest").load()


def test_missing_object_raises_dataset_error_naming_it(s3, bucket):
    with pytest.raises(DatasetError, match=rf"s3://{bucket}/missing.manifest does not exist"):
        dataset(f"s3://{bucket}/missing.manifest").load()


def test_exists_follows_the_object(s3, bucket):
    text = dataset(f"s3://{bucket}/out.manifest")
    assert not text.exists()

    s3.put_object(Bucket=bucket, Key="out.manifest", Body=b"x\n")

    assert text.exists()


def test_s3a_route_hands_spark_the_s3a_path(s3, bucket):
    text = dataset(f"s3://{bucket}/out.manifest", route="s3a")

    assert text._describe()["filepath"] == f"s3a://{bucket}/out.manifest"


def test_unknown_route_and_save_are_refused(s3, bucket):
    with pytest.raises(DatasetError, match="route must be fsspec or s3a"):
        dataset(f"s3://{bucket}/out.manifest", route="hdfs")
    with pytest.raises(DatasetError, match="read-only"):
        dataset(f"s3://{bucket}/out.manifest").save("lines")
