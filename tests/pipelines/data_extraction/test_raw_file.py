"""raw_reviews' dataset: a file's bytes and name, from a local path or S3 (a real S3 API server
on 127.0.0.1), as the catalog entries of conf/base and conf/aws configure it."""

import gzip
import uuid

import boto3
import pytest
from kedro.io import DataCatalog, DatasetError

from review_sentiment.datasets.raw_file import RawFile, RawFileDataset
from review_sentiment.datasets.s3_access import S3AccessError, check_s3_access
from review_sentiment.params import ExtractionParams
from review_sentiment.pipelines.data_extraction.nodes import ReviewDataError, parse_raw_reviews

CSV = b"Id,Score,Summary,Text\n7,4,Tasty,Good tea\n"


def test_local_file_loads_as_its_bytes_and_path(tmp_path):
    path = tmp_path / "reviews.csv.gz"
    path.write_bytes(gzip.compress(CSV))

    raw = RawFileDataset(filepath=str(path)).load()

    assert raw == RawFile(path=str(path), content=gzip.compress(CSV))
    assert raw.name == "reviews.csv.gz"


def test_missing_file_says_how_to_point_at_the_reviews(tmp_path):
    dataset = RawFileDataset(filepath=str(tmp_path / "nowhere.csv"))

    with pytest.raises(DatasetError) as error:
        dataset.load()

    # Kedro wraps what a load raises; the CLI prints the data error inside as one line.
    cause = error.value.__cause__
    assert isinstance(cause, ReviewDataError)
    assert str(cause) == (
        f"{tmp_path / 'nowhere.csv'}: no such file (dataset raw_reviews); point it at your "
        "reviews with `kedro run --params raw_reviews_path=<path or s3:// URL>`"
    )


def test_raw_reviews_are_read_only(tmp_path):
    with pytest.raises(DatasetError, match="read-only"):
        RawFileDataset(filepath=str(tmp_path / "reviews.csv")).save(RawFile("reviews.csv", CSV))


@pytest.fixture
def s3_credentials(aws_test_credentials, moto_url):
    return {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": moto_url}}


@pytest.fixture
def bucket(s3_credentials, moto_url):
    name = f"raw-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def test_s3_object_loads_through_a_catalog_entry_like_conf_aws(s3_credentials, bucket, moto_url):
    key = "review-sentiment/01_raw/amazon_reviews.tsv.gz"
    tsv = b"review_id\tstar_rating\treview_headline\treview_body\tproduct_category\nR1\t5\tGreat\tWorks, well\tBooks\n"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").put_object(
        Bucket=bucket, Key=key, Body=gzip.compress(tsv)
    )
    catalog = DataCatalog.from_config(
        {
            "raw_reviews": {
                "type": "review_sentiment.datasets.raw_file.RawFileDataset",
                "filepath": f"s3://{bucket}/{key}",
                "credentials": "s3",
                "fs_args": {"config_kwargs": {"retries": {"mode": "standard", "max_attempts": 10}}},
            }
        },
        credentials={"s3": s3_credentials},
    )

    raw = catalog.load("raw_reviews")
    table = parse_raw_reviews(raw, ExtractionParams(labels=["positive", "negative", "neutral"]))

    assert raw.path == f"s3://{bucket}/{key}"
    assert table.loc[0, "review_body"] == "Works, well"  # tab-separated, from the name
    check_s3_access([("raw_reviews", catalog.get("raw_reviews"))])  # the bucket is there


def test_s3_access_check_names_a_missing_bucket_of_raw_reviews(s3_credentials):
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    dataset = RawFileDataset(filepath=f"s3://{missing}/01_raw/reviews.csv", credentials=s3_credentials)

    with pytest.raises(S3AccessError, match=rf"Bucket s3://{missing} \(dataset raw_reviews"):
        check_s3_access([("raw_reviews", dataset)])
