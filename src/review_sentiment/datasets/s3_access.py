"""One look at each S3 bucket a run will use, before it starts: a missing bucket, missing or
refused credentials or an unreachable endpoint stop the run with what to fix, instead of
failing at the first dataset that happens to touch S3 (possibly after minutes of work)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from kedro.io import AbstractDataset, DatasetError

CREDENTIALS_HINT = (
    "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), run where an instance "
    "role applies, or put `s3: {key: ..., secret: ...}` in conf/aws/credentials.yml"
)
# The schemes s3fs serves.
S3_PROTOCOLS = ("s3", "s3a", "s3n")


class S3AccessError(DatasetError):
    """A bucket the run needs cannot be used; the message says what to change."""


def check_s3_access(datasets: Iterable[tuple[str, AbstractDataset]]) -> None:
    """Checks every bucket of the datasets on S3 once (`HeadBucket`).

    Raises:
        S3AccessError: naming the bucket, the dataset, and the fix.
    """
    on_s3 = [(name, location) for name, dataset in datasets if (location := _s3_location(dataset))]
    if not on_s3:
        return
    from botocore.exceptions import (
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )
    from s3fs import S3FileSystem

    checked: set[str] = set()
    for name, (fs, filepath) in on_s3:
        if not isinstance(fs, S3FileSystem):
            continue
        bucket = str(filepath).split("/", 1)[0]
        if bucket in checked:
            continue
        where = f"s3://{bucket} (dataset {name}, s3://{filepath})"
        try:
            fs.call_s3("head_bucket", Bucket=bucket)
        except FileNotFoundError as exc:
            raise S3AccessError(
                f"Bucket {where} does not exist: create it (aws s3 mb s3://{bucket}) or set "
                f"REVIEW_SENTIMENT_S3_URI to s3://<an existing bucket>/<prefix>{_endpoint_note()}"
            ) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise S3AccessError(f"No AWS credentials for {where}: {CREDENTIALS_HINT}") from exc
        except PermissionError as exc:
            raise S3AccessError(
                f"AWS refused access to {where} ({exc}): check the credentials ({CREDENTIALS_HINT}) "
                "and that they may list, read and write this bucket"
            ) from exc
        except EndpointConnectionError as exc:
            raise S3AccessError(f"Cannot reach S3 for {where}: {exc}{_endpoint_note()}") from exc
        checked.add(bucket)


def _s3_location(dataset: AbstractDataset) -> tuple[Any, str] | None:
    """The filesystem and `bucket/key` of a dataset on S3: a file dataset (`_fs`, `_filepath`)
    or a folder of partitions (kedro-datasets' `PartitionedDataset`: `_protocol`, `_filesystem`,
    `_path`); None for anything else. Told apart by attributes, module and protocol, so that a
    local run imports neither s3fs and botocore (~0.2 s) nor kedro_datasets.partitions."""
    fs, filepath = getattr(dataset, "_fs", None), getattr(dataset, "_filepath", None)
    if type(fs).__module__.startswith("s3fs") and filepath is not None:
        return fs, str(filepath)
    path = getattr(dataset, "_path", None)
    if getattr(dataset, "_protocol", None) in S3_PROTOCOLS and hasattr(type(dataset), "_filesystem") and path:
        fs = dataset._filesystem
        return fs, fs._strip_protocol(str(path))
    return None


def _endpoint_note() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return f" (S3 endpoint {endpoint} from AWS_ENDPOINT_URL: is it the right store?)"
    return ""
