"""What a Ground Truth single-label text-classification job is made of: its name, the region's
built-in ARNs, where its files go on S3, and the CreateLabelingJob request, checked where botocore
does not check (it validates required fields, types and minima only)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from review_sentiment.params import GROUND_TRUTH_MIN_ITEMS, GroundTruthParams

# The account of the built-in PRE-/ACS-TextMultiClass Lambdas in each region (botocore's model
# documents these twelve regions and no other).
TEXT_CLASSIFICATION_LAMBDA_ACCOUNTS = {
    "us-east-1": "432418664414",
    "us-east-2": "266458841044",
    "us-west-2": "081040173940",
    "ca-central-1": "918755190332",
    "eu-west-1": "568282634449",
    "eu-west-2": "487402164563",
    "eu-central-1": "203001061592",
    "ap-northeast-1": "477331159723",
    "ap-northeast-2": "845288260483",
    "ap-south-1": "565803892007",
    "ap-southeast-1": "377565633583",
    "ap-southeast-2": "454466003867",
}
# The automated-labeling algorithm is owned by one account in every region.
ALGORITHM_ACCOUNT = "027400017018"
TEMPLATE_FILE = "text_classification.liquid.html"

_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_JOB_NAME_MAX = 63
_S3_URI_MAX = 1024


class GroundTruthConfigError(ValueError):
    """A Ground Truth setting that the service would refuse; names the setting and the fix."""


def labeling_job_name(base: str, fingerprint: str, attempt: int = 1) -> str:
    """`<base>-<fingerprint>[-<attempt>]`, lower case: Ground Truth compares names ignoring case,
    so the same manifest always gives the same job and a changed one a new job."""
    suffix = f"-{fingerprint}" + (f"-{attempt}" if attempt > 1 else "")
    name = f"{base}{suffix}".lower()
    if len(name) > _JOB_NAME_MAX or not _JOB_NAME.match(name):
        raise GroundTruthConfigError(
            f"labeling.job_name {base!r} cannot start a Ground Truth job name: letters, digits and "
            f"single hyphens, at most {_JOB_NAME_MAX - len(suffix)} characters"
        )
    return name


def built_in_lambdas(region: str) -> tuple[str, str]:
    """The region's PRE- and ACS-TextMultiClass Lambda ARNs (single-label text classification)."""
    account = TEXT_CLASSIFICATION_LAMBDA_ACCOUNTS.get(region)
    if account is None:
        raise GroundTruthConfigError(
            f"labeling.ground_truth.region {region!r} has no built-in Ground Truth text-classification "
            f"Lambdas; use one of {', '.join(sorted(TEXT_CLASSIFICATION_LAMBDA_ACCOUNTS))}"
        )
    return tuple(  # type: ignore[return-value]
        f"arn:aws:lambda:{region}:{account}:function:{step}-TextMultiClass" for step in ("PRE", "ACS")
    )


def algorithm_arn(region: str) -> str:
    """The built-in text-classification algorithm that automated labeling trains."""
    return (
        f"arn:aws:sagemaker:{region}:{ALGORITHM_ACCOUNT}:"
        "labeling-job-algorithm-specification/text-classification"
    )


@dataclass(frozen=True)
class JobFiles:
    """The job's S3 locations: its inputs under `<prefix>/<job>/`, outputs under `<prefix>/output/`."""

    manifest: str
    categories: str
    template: str
    output: str

    @classmethod
    def for_job(cls, settings: GroundTruthParams, name: str) -> JobFiles:
        root = f"s3://{settings.bucket}/{settings.prefix}".rstrip("/")
        files = cls(
            manifest=f"{root}/{name}/input.manifest",
            categories=f"{root}/{name}/label_categories.json",
            template=f"{root}/{name}/{TEMPLATE_FILE}",
            output=f"{root}/output",
        )
        for uri in (files.manifest, files.categories, files.template, files.output):
            if len(uri) > _S3_URI_MAX:
                raise GroundTruthConfigError(
                    f"{uri[:60]}...: an S3 URI of over {_S3_URI_MAX} characters; shorten labeling.ground_truth.prefix"
                )
        return files

    def output_manifest(self, name: str) -> str:
        """Where Ground Truth writes the final output manifest of job `name`."""
        return f"{self.output}/{name}/manifests/output/output.manifest"


def check_settings(settings: GroundTruthParams, n_items: int) -> None:
    """`GroundTruthConfigError` for what a job needs beyond valid parameters."""
    missing = [field for field in ("bucket", "role_arn", "workteam_arn") if getattr(settings, field) is None]
    if missing:
        raise GroundTruthConfigError(
            f"labeling.ground_truth needs {', '.join(missing)} for workforce ground_truth: set them in "
            "conf/aws/parameters_labeling.yml or conf/local (never commit credentials)"
        )
    built_in_lambdas(settings.region)
    if settings.automated_labeling and n_items < GROUND_TRUTH_MIN_ITEMS:
        raise GroundTruthConfigError(
            f"automated labeling needs at least {GROUND_TRUTH_MIN_ITEMS} reviews, the input manifest has "
            f"{n_items}: set labeling.ground_truth.automated_labeling: false or label a larger batch"
        )


def create_request(
    name: str, settings: GroundTruthParams, files: JobFiles, *, attribute: str, fingerprint: str
) -> dict:
    """The CreateLabelingJob request of a single-label text-classification job."""
    pre, acs = built_in_lambdas(settings.region)
    human = {
        "WorkteamArn": settings.workteam_arn,
        "UiConfig": {"UiTemplateS3Uri": files.template},
        "PreHumanTaskLambdaArn": pre,
        "TaskKeywords": list(settings.keywords),
        "TaskTitle": settings.title,
        "TaskDescription": settings.description,
        "NumberOfHumanWorkersPerDataObject": settings.workers_per_review,
        "TaskTimeLimitInSeconds": settings.task_time_limit,
        "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": acs},
    }
    if settings.task_availability_lifetime is not None:
        human["TaskAvailabilityLifetimeInSeconds"] = settings.task_availability_lifetime
    if settings.max_concurrent_tasks is not None:
        human["MaxConcurrentTaskCount"] = settings.max_concurrent_tasks
    if settings.task_price is not None:
        human["PublicWorkforceTaskPrice"] = {"AmountInUsd": usd(settings.task_price)}
    input_config: dict = {"DataSource": {"S3DataSource": {"ManifestS3Uri": files.manifest}}}
    if settings.content_classifiers:
        input_config["DataAttributes"] = {"ContentClassifiers": list(settings.content_classifiers)}
    request = {
        "LabelingJobName": name,
        "LabelAttributeName": attribute,
        "InputConfig": input_config,
        "OutputConfig": {"S3OutputPath": files.output},
        "RoleArn": settings.role_arn,
        "LabelCategoryConfigS3Uri": files.categories,
        "HumanTaskConfig": human,
        "Tags": [
            {"Key": "project", "Value": "review-sentiment"},
            {"Key": "input-manifest-fingerprint", "Value": fingerprint},
        ],
    }
    stopping = {
        "MaxHumanLabeledObjectCount": settings.stopping_conditions.max_human_labeled,
        "MaxPercentageOfInputDatasetLabeled": settings.stopping_conditions.max_percentage_labeled,
    }
    if any(value is not None for value in stopping.values()):
        request["StoppingConditions"] = {key: value for key, value in stopping.items() if value is not None}
    if settings.automated_labeling:
        request["LabelingJobAlgorithmsConfig"] = {
            "LabelingJobAlgorithmSpecificationArn": algorithm_arn(settings.region)
        }
    check_request(request)
    return request


def check_request(request: dict) -> None:
    """What botocore lets through and Ground Truth refuses, for the parts built here."""
    name = request["LabelingJobName"]
    if len(name) > _JOB_NAME_MAX or not _JOB_NAME.match(name):
        raise GroundTruthConfigError(f"labeling job name {name!r}: letters, digits and hyphens, at most 63")
    ui = request["HumanTaskConfig"]["UiConfig"]
    if len([key for key in ("UiTemplateS3Uri", "HumanTaskUiArn") if ui.get(key)]) != 1:
        raise GroundTruthConfigError(
            f"UiConfig {ui}: give exactly one of UiTemplateS3Uri and HumanTaskUiArn "
            "(text classification has no HumanTaskUiArn: use a template)"
        )


def usd(price: float) -> dict[str, int]:
    """A price in dollars as Ground Truth's AmountInUsd (dollars, cents, tenths of a cent)."""
    tenths = round(price * 1000)
    return {"Dollars": tenths // 1000, "Cents": tenths % 1000 // 10, "TenthFractionsOfACent": tenths % 10}
