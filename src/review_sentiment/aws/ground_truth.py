"""Labels a batch with a SageMaker Ground Truth job: uploads its files, creates the job once per
input manifest (a rerun attaches to it), waits for it and reads its labels back as Ground Truth
wrote them, from a completed job and from one stopped (or failed) part way."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files as package_files
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from review_sentiment.aws.ground_truth_job import (
    TEMPLATE_FILE,
    JobFiles,
    check_settings,
    create_request,
    labeling_job_name,
)
from review_sentiment.ground_truth.categories import label_categories
from review_sentiment.ground_truth.limits import json_line
from review_sentiment.ground_truth.manifest import (
    ManifestError,
    manifest_fingerprint,
    parse_manifest,
    serialise_manifest,
)
from review_sentiment.ground_truth.records import LineProblem, parse_labeled_line
from review_sentiment.labeling.carry import GivenLabel, labels_given_before
from review_sentiment.params import GroundTruthParams

logger = logging.getLogger(__name__)

# Throttled calls are retried by botocore with backoff (Stubber bypasses this: see the tests).
CLIENT_CONFIG = Config(retries={"total_max_attempts": 10, "mode": "adaptive"})
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
_RUNNING = {"Initializing", "InProgress", "Stopping"}
_COUNTERS = (("human", "HumanLabeled"), ("machine", "MachineLabeled"),
             ("failed", "FailedNonRetryableError"), ("unlabeled", "Unlabeled"))


class GroundTruthJobError(RuntimeError):
    """A labeling job that failed before labeling anything: says why and what to do."""


class StillRunning(Exception):
    """The wait ended (timeout) while the job goes on; carries its last description."""

    def __init__(self, description: dict) -> None:
        super().__init__(description["LabelingJobStatus"])
        self.description = description


@dataclass(frozen=True)
class GroundTruthRun:
    """What a run got from Ground Truth: the job, its status, and per item the label and its
    fields as Ground Truth wrote them (creation date, job name included), or None."""

    job_name: str
    status: str
    labels: list[GivenLabel | None]


def open_clients(region: str) -> tuple[Any, Any]:
    """A SageMaker client and an S3 filesystem for `region`, from the usual AWS credential chain."""
    import boto3
    import fsspec

    sagemaker = boto3.client("sagemaker", region_name=region, config=CLIENT_CONFIG)
    s3 = fsspec.filesystem("s3", skip_instance_cache=True, client_kwargs={"region_name": region})
    return sagemaker, s3


def counters(description: dict) -> str:
    """`human 3, machine 0, failed 0, unlabeled 7`: a job's label counters for one log line."""
    found = description.get("LabelCounters", {})
    return ", ".join(f"{name} {found.get(key, 0)}" for name, key in _COUNTERS)


def reattach_hint(name: str, region: str) -> str:
    """The one line that says how to collect a running job's labels, or stop it."""
    return (
        f"run again to collect its labels, or stop it with "
        f"`aws sagemaker stop-labeling-job --labeling-job-name {name} --region {region}`"
    )


class GroundTruthClient:
    """Creates, finds and waits for labeling jobs; reads their output manifests from S3.

    Args:
        sagemaker: a boto3 SageMaker client (tests pass one wrapped in a Stubber).
        s3: an fsspec filesystem for `s3://` URIs (s3fs).
        sleep, clock: injected by tests so polling takes no time.
    """

    def __init__(
        self, sagemaker: Any, s3: Any, *,
        sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sagemaker = sagemaker
        self.s3 = s3
        self._sleep = sleep
        self._clock = clock

    def describe(self, name: str) -> dict | None:
        """The job's description, or None if there is no job of that name."""
        try:
            return self.sagemaker.describe_labeling_job(LabelingJobName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFound":
                return None
            raise

    def start(self, request: dict, uploads: dict[str, bytes]) -> dict | None:
        """The existing job of the request's name, or None after uploading `uploads`
        ({s3 uri: content}) and creating the job."""
        name = request["LabelingJobName"]
        found = self.describe(name)
        if found is not None:
            logger.info("Ground Truth job %s exists (%s): attaching to it", name, found["LabelingJobStatus"])
            return found
        for uri, content in uploads.items():
            self.s3.pipe(uri, content)
        try:
            arn = self.sagemaker.create_labeling_job(**request)["LabelingJobArn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUse":
                raise
            # Another run created it between our describe and create.
            return self.describe(name)
        logger.info("Created Ground Truth job %s (%s)", name, arn)
        return None

    def wait(self, name: str, first: dict | None, *, poll_seconds: float, timeout: float | None) -> dict:
        """The description of the job once it has ended, polling every `poll_seconds`.

        Raises:
            StillRunning: `timeout` seconds passed and the job still runs.
        """
        started = self._clock()
        description, shown = first, None
        while True:
            if description is None:
                description = self._poll(name)
            if description is not None:
                status = description["LabelingJobStatus"]
                progress = f"{status}: {counters(description)}"
                if progress != shown:
                    logger.info("Ground Truth job %s %s", name, progress)
                    shown = progress
                if status not in _RUNNING:
                    return description
                if timeout is not None and self._clock() - started >= timeout:
                    raise StillRunning(description)
            self._sleep(poll_seconds)
            description = None

    def _poll(self, name: str) -> dict | None:
        try:
            return self.sagemaker.describe_labeling_job(LabelingJobName=name)
        except ClientError as error:
            # Still throttled after botocore's retries: no news this round, ask at the next one.
            if error.response["Error"]["Code"] not in _THROTTLED:
                raise
            logger.info("DescribeLabelingJob throttled; asking again in the next poll")
            return None

    def output_manifest(self, description: dict, conventional: str) -> str | None:
        """The job's output manifest, the one its description names or else `conventional`, if
        it is on S3: a job stopped or failed before writing one has none."""
        uri = description.get("LabelingJobOutput", {}).get("OutputDatasetS3Uri") or conventional
        return uri if self.s3.exists(uri) else None

    def read_labels(
        self, uri: str, items: Sequence[dict], classes: list[str], attribute: str
    ) -> list[GivenLabel | None]:
        """Per item, the label of the job's output manifest at `uri` with its fields as written
        there: a line counts for an item with the same key and the same text; objects Ground
        Truth did not label (failed, or not reached by a stopped job) stay None.

        Raises:
            ManifestError: a labeled line that is not valid, naming `uri` and the line.
        """
        with self.s3.open(uri, "rb") as stream:
            lines = parse_manifest(stream.read(), uri)
        labeled = []
        for number, line in enumerate(lines, start=1):
            if line.get(attribute) is None:
                continue  # a failed object: its metadata holds only a failure-reason
            try:
                parse_labeled_line(line, classes, attribute=attribute)
            except LineProblem as problem:
                raise ManifestError.at(uri, number, problem) from None
            labeled.append(line)
        return labels_given_before(items, labeled, classes, attribute)


def _failed_without_labels(description: dict, attempt: int) -> GroundTruthJobError:
    name = description["LabelingJobName"]
    reason = description.get("FailureReason") or "no reason given"
    return GroundTruthJobError(
        f"Ground Truth job {name} is Failed: {reason}; fix that, then run again with --params "
        f"labeling.ground_truth.attempt={attempt + 1} (a job name is never reused); earlier labels are kept"
    )


def _ended_early(description: dict, uri: str | None, labeled: int, total: int, attempt: int) -> str:
    """The WARNING for a job that Stopped or Failed part way: what it labeled, and what to do."""
    name, status = description["LabelingJobName"], description["LabelingJobStatus"]
    reason = description.get("FailureReason")
    why = f" ({reason})" if reason else ""
    found = "" if uri else " and wrote no output manifest"
    todo = "fix that, then run" if status == "Failed" else "run"
    kept = "which are kept" if labeled else "earlier labels are kept"
    rest = total - labeled
    return (
        f"Ground Truth job {name} is {status}{why}{found}: it labeled {labeled} of {total} reviews "
        f"({counters(description)}), {kept}; {todo} again with --params "
        f"labeling.ground_truth.attempt={attempt + 1}: the {rest} review{'s' if rest != 1 else ''} "
        f"it did not label go{'es' if rest == 1 else ''} to a new job (a job name is never reused)"
    )


def label_with_ground_truth(
    items: Sequence[dict],
    classes: list[str],
    settings: GroundTruthParams,
    *,
    job_base: str,
    attribute: str,
    client: GroundTruthClient | None = None,
) -> GroundTruthRun:
    """Labels `items` with the Ground Truth job of this input manifest, creating it on the first
    run; a later run attaches to it. A job still running when the wait ends gives no labels and a
    WARNING; Ctrl-C leaves the job running, says how to reattach, and stops the run.

    A job that ended early keeps what it labeled: a Stopped job gives the labels of its output
    manifest (none if it wrote none) and a WARNING saying how many and what to do next. So does
    a Failed job that labeled some objects, since those labels are as good as a completed job's;
    one that labeled nothing raises, as its reason needs fixing before a new attempt.

    Returns:
        The job's name and end status, and per item the label with its fields as Ground Truth
        wrote them (`GivenLabel`), or None where the job gave no label.

    Raises:
        GroundTruthConfigError: a setting the service would refuse (before any call).
        GroundTruthJobError: the job Failed without labeling anything.
        KeyboardInterrupt: Ctrl-C while waiting.
    """
    check_settings(settings, len(items))
    fingerprint = manifest_fingerprint(list(items))
    name = labeling_job_name(job_base, fingerprint, settings.attempt)
    files = JobFiles.for_job(settings, name)
    request = create_request(name, settings, files, attribute=attribute, fingerprint=fingerprint)
    client = client or GroundTruthClient(*open_clients(settings.region))
    template = package_files("review_sentiment.aws").joinpath("templates", TEMPLATE_FILE).read_bytes()
    uploads = {
        files.manifest: serialise_manifest(list(items), files.manifest),
        files.categories: json_line(label_categories(classes)).encode("utf-8"),
        files.template: template,
    }
    first = client.start(request, uploads)
    try:
        done = client.wait(name, first, poll_seconds=settings.poll_seconds, timeout=settings.wait_timeout)
    except StillRunning as running:
        logger.warning(
            "Ground Truth job %s is still %s after %s s (%s): no new labels this run; %s",
            name, running.description["LabelingJobStatus"], f"{settings.wait_timeout:g}",
            counters(running.description), reattach_hint(name, settings.region),
        )
        return GroundTruthRun(name, running.description["LabelingJobStatus"], [None] * len(items))
    except KeyboardInterrupt:
        message = f"Stopped waiting; Ground Truth job {name} keeps running: {reattach_hint(name, settings.region)}"
        logger.warning(message)
        raise KeyboardInterrupt(message) from None
    status = done["LabelingJobStatus"]
    if status == "Completed":
        output = done.get("LabelingJobOutput", {}).get("OutputDatasetS3Uri") or files.output_manifest(name)
    else:
        output = client.output_manifest(done, files.output_manifest(name))
    labels = client.read_labels(output, items, classes, attribute) if output else [None] * len(items)
    labeled = sum(label is not None for label in labels)
    if status == "Failed" and not labeled:
        raise _failed_without_labels(done, settings.attempt)
    if status != "Completed" and labeled < len(items):
        logger.warning(_ended_early(done, output, labeled, len(items), settings.attempt))
    else:
        logger.info(
            "Ground Truth job %s %s: labeled %d of %d reviews (%s)",
            name, status, labeled, len(items), counters(done),
        )
    return GroundTruthRun(name, status, labels)
