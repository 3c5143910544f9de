"""The bucket check before a run covers folders of partitions (the refresh's arrivals and label
rounds) as it covers single files: against a real S3 API server on 127.0.0.1."""

import uuid

import boto3
import pytest

from review_sentiment.datasets.partitions import OptionalPartitionedDataset
from review_sentiment.datasets.s3_access import S3AccessError, check_s3_access


@pytest.fixture
def s3_credentials(aws_test_credentials, moto_url):
    return {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": moto_url}}


def label_rounds(path: str, credentials: dict) -> OptionalPartitionedDataset:
    """As conf/aws/catalog.yml configures label_rounds."""
    return OptionalPartitionedDataset(
        path=path,
        dataset="review_sentiment.datasets.ManifestDataset",
        filename_suffix=".manifest",
        credentials=credentials,
        fs_args={"config_kwargs": {"retries": {"mode": "standard", "max_attempts": 10}}},
    )


def test_partitions_in_an_existing_bucket_pass_the_check_and_start_empty(s3_credentials, moto_url):
    bucket = f"rounds-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    dataset = label_rounds(f"s3://{bucket}/review-sentiment/03_primary/labeled", s3_credentials)

    check_s3_access([("label_rounds", dataset)])

    assert dataset.load() == {}
    dataset.save({"round-0001": [{"source": "Fits well", "review_id": "R1"}]})
    assert [line["review_id"] for line in dataset.load()["round-0001"]()] == ["R1"]


def test_partitions_in_a_missing_bucket_stop_the_check_naming_the_dataset(s3_credentials):
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    dataset = label_rounds(f"s3://{missing}/review-sentiment/03_primary/labeled", s3_credentials)

    with pytest.raises(S3AccessError) as error:
        check_s3_access([("label_rounds", dataset)])

    assert str(error.value).startswith(
        f"Bucket s3://{missing} (dataset label_rounds, s3://{missing}/review-sentiment/03_primary/labeled) "
        "does not exist"
    )


def test_local_partitions_are_not_checked(tmp_path):
    check_s3_access([("label_rounds", label_rounds(str(tmp_path / "labeled"), {}))])
