"""Parameters of the AWS side: the Ground Truth labeling job and the SageMaker endpoint, with
the service rules botocore does not check."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from review_sentiment.params.base import _Params

# Ground Truth's CreateLabelingJob rules (botocore checks none of them: only required fields,
# types and minima; /work/shared/aws/GROUND_TRUTH.md §1, §7).
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_WORKTEAM_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:([a-z0-9\-]*):([0-9]{12}):workteam/.+$")
_TASK_KEYWORD = re.compile(r"^[A-Za-z0-9]+( [A-Za-z0-9]+)*$")
_TASK_TITLE = re.compile("^[\t\n\r -\ud7ff\ue000-\ufffd]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_PATTERNS = {
    "region": (re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"), "an AWS region name such as us-east-1"),
    "bucket": (_BUCKET, "an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens; "
               "no s3:// and no prefix: that goes in prefix)"),
    "role_arn": (_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)"),
    "workteam_arn": (_WORKTEAM_ARN, "a workteam ARN (arn:aws:sagemaker:<region>:<12 digits>:workteam/<type>/<name>)"),
    "title": (_TASK_TITLE, "a task title Ground Truth takes (no control characters but tab and newlines)"),
}
# Mechanical Turk's workteam is owned by this account in every region.
PUBLIC_CROWD_ACCOUNT = "394669845002"
_MTURK_MAX_LIFETIME = 12 * 3600


class GroundTruthStoppingParams(_Params):
    """When Ground Truth stops the job early; None: label the whole manifest."""

    max_human_labeled: int | None = Field(default=None, ge=1)
    max_percentage_labeled: int | None = Field(default=None, ge=1, le=100)


class GroundTruthParams(_Params):
    """A SageMaker Ground Truth text-classification job (`workforce: ground_truth`)."""

    region: str = "us-east-1"
    # Inputs go to s3://<bucket>/<prefix>/<job name>/, the output under s3://<bucket>/<prefix>/output/.
    bucket: str | None = None
    prefix: str = "review-sentiment/ground-truth"
    role_arn: str | None = Field(default=None, max_length=2048)
    workteam_arn: str | None = Field(default=None, max_length=256)
    # US dollars per review and worker, in tenths of a cent; the public crowd only.
    task_price: float | None = Field(default=None, ge=0.0, lt=3.0)
    title: str = Field(default="Label the sentiment of a product review", min_length=1, max_length=128)
    description: str = Field(
        default="Read a customer review and choose positive, negative or neutral",
        min_length=1, max_length=255,
    )
    keywords: list[str] = Field(
        default=["sentiment", "text classification", "reviews"], min_length=1, max_length=5
    )
    workers_per_review: int = Field(default=3, ge=1, le=9)
    task_time_limit: int = Field(default=300, ge=30, le=8 * 3600)
    task_availability_lifetime: int | None = Field(default=None, ge=60, le=30 * 24 * 3600)
    max_concurrent_tasks: int | None = Field(default=None, ge=1, le=5000)
    content_classifiers: list[
        Literal["FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent"]
    ] = []
    automated_labeling: bool = False
    stopping_conditions: GroundTruthStoppingParams = GroundTruthStoppingParams()
    poll_seconds: float = Field(default=60.0, gt=0.0)
    # Seconds to wait for the job; None: until it ends. It keeps running either way.
    wait_timeout: float | None = Field(default=None, gt=0.0)
    # A job name is never reused: after a failed or stopped job, a higher attempt starts a new one.
    attempt: int = Field(default=1, ge=1)

    @field_validator(*_PATTERNS)
    @classmethod
    def _matches_pattern(cls, value: str | None, info: ValidationInfo) -> str | None:
        pattern, what = _PATTERNS[info.field_name]
        if value is not None and not pattern.match(value):
            raise ValueError(f"{info.field_name} {value!r} is not {what}")
        return value

    @field_validator("prefix")
    @classmethod
    def _plain_prefix(cls, prefix: str) -> str:
        return prefix.strip("/")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, keywords: list[str]) -> list[str]:
        for keyword in keywords:
            if len(keyword) > 30 or not _TASK_KEYWORD.match(keyword):
                raise ValueError(
                    f"keyword {keyword!r}: at most 30 letters and digits, words separated by one space"
                )
        return keywords

    @field_validator("task_price")
    @classmethod
    def _tenths_of_a_cent(cls, price: float | None) -> float | None:
        if price is not None and abs(price * 1000 - round(price * 1000)) > 1e-6:
            raise ValueError(f"task_price {price}: Ground Truth pays in tenths of a cent, e.g. 0.012")
        return price

    @model_validator(mode="after")
    def _workteam_fits(self) -> GroundTruthParams:
        match = _WORKTEAM_ARN.match(self.workteam_arn or "")
        if match and match.group(1) != self.region:
            raise ValueError(
                f"workteam_arn is in region {match.group(1)!r}, the job in {self.region!r}: "
                "a workteam works in its own region only"
            )
        if not self.public_crowd:
            if self.task_price is not None:
                raise ValueError("task_price is paid to the public crowd only; remove it for this workteam")
            return self
        if self.task_price is None:
            raise ValueError("the public crowd (Mechanical Turk) needs a task_price, e.g. 0.012")
        if "FreeOfPersonallyIdentifiableInformation" not in self.content_classifiers:
            raise ValueError(
                "the public crowd (Mechanical Turk) needs content_classifiers: "
                "[FreeOfPersonallyIdentifiableInformation], or the job fails"
            )
        if (self.task_availability_lifetime or 0) > _MTURK_MAX_LIFETIME:
            raise ValueError(
                f"task_availability_lifetime {self.task_availability_lifetime}: the public crowd "
                f"allows at most {_MTURK_MAX_LIFETIME} seconds (12 hours)"
            )
        return self

    @property
    def public_crowd(self) -> bool:
        """Whether the workteam is Mechanical Turk's public crowd."""
        match = _WORKTEAM_ARN.match(self.workteam_arn or "")
        return bool(match) and match.group(2) == PUBLIC_CROWD_ACCOUNT and "public-crowd" in match.group(0)


# SageMaker's rule for EndpointName (CreateEndpoint API reference).
_SAGEMAKER_ENDPOINT_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"


class SageMakerDeploymentParams(_Params):
    """Where and how `--env aws` deploys the champion: MLflow's SageMaker deployment client's
    settings (see docs/sagemaker.md). The defaults are the placeholders in conf/base."""

    region: str = "us-east-1"
    endpoint_name: str = Field(default="review-sentiment", pattern=_SAGEMAKER_ENDPOINT_NAME)
    # The serving image `mlflow sagemaker build-and-push-container` pushed to ECR; None: MLflow's
    # default, <account>.dkr.ecr.<region>.amazonaws.com/mlflow-pyfunc:<mlflow version>.
    image_url: str | None = None
    # The IAM role SageMaker assumes to pull the image and read the model from S3. Required:
    # MLflow's fallback (the caller's own role) fails for IAM users and SSO sessions.
    execution_role_arn: str | None = None
    # Where the model archive is uploaded; None: MLflow creates mlflow-sagemaker-<region>-<account>.
    bucket: str | None = None
    instance_type: str = "ml.m5.large"
    instance_count: int = Field(default=1, ge=1)
    # Seconds to wait for the endpoint to be InService after a create or replace.
    timeout: int = Field(default=1200, ge=1)
    # Attempts per SageMaker/S3 call (botocore's "standard" retry mode: exponential backoff with
    # jitter on throttling, 5xx and connection errors).
    max_attempts: int = Field(default=5, ge=1)
