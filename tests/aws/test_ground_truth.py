"""Ground Truth labeling jobs (review_sentiment.aws.ground_truth) and the labeling node with
`workforce: ground_truth`.

S3 is real: moto's server on 127.0.0.1 (`moto_url`), reached through AWS_ENDPOINT_URL by s3fs.
Ground Truth itself cannot run here (closed to new customers, and moto 5.2.5 has no
CreateLabelingJob/DescribeLabelingJob), so the SageMaker client is wrapped in botocore's Stubber:
every request is checked against botocore's service model and against the exact parameters
expected, and every stubbed answer against the response shape.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from review_sentiment.aws import ground_truth
from review_sentiment.aws.ground_truth import (
    GroundTruthClient,
    GroundTruthJobError,
    label_with_ground_truth,
    open_clients,
)
from review_sentiment.aws.ground_truth_job import GroundTruthConfigError, labeling_job_name
from review_sentiment.ground_truth.manifest import manifest_fingerprint
from review_sentiment.ground_truth.records import Label
from review_sentiment.labeling.labeled_set import LabeledSet
from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS
from review_sentiment.params import GroundTruthParams, LabelingParams
from review_sentiment.labeling.batch import label_reviews

ROLE = "arn:aws:iam::123456789012:role/GroundTruthExecution"
PRIVATE_TEAM = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/reviewers"
PUBLIC_CROWD = "arn:aws:sagemaker:eu-west-1:394669845002:workteam/public-crowd/default"
CLASSES = ["positive", "negative", "neutral"]
CATEGORIES = {"document-version": "2018-11-28", "labels": [{"label": name} for name in CLASSES]}
ITEMS = [
    {"source": "Works perfectly", "review_id": "R1", "star_rating": 5},
    {"source": "Broke after a week", "review_id": "R2", "star_rating": 1},
    {"source": "It does the job", "review_id": "R3", "star_rating": 3},
]
NAME = f"review-sentiment-{manifest_fingerprint(ITEMS)}"


@pytest.fixture
def bucket(moto_url, aws_test_credentials, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    name = f"gt-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def clients(bucket):
    """The project's own clients (retry config, s3fs on moto), the SageMaker one stubbed."""
    sagemaker, s3 = open_clients("us-east-1")
    with Stubber(sagemaker) as stub:
        yield sagemaker, s3, stub
        stub.assert_no_pending_responses()


def settings(bucket, /, **changes) -> GroundTruthParams:
    values = dict(bucket=bucket, role_arn=ROLE, workteam_arn=PRIVATE_TEAM, poll_seconds=5)
    return GroundTruthParams(**{**values, **changes})


def described(name, status, *, bucket="b", human=0, machine=0, failed=0, unlabeled=3, output=None, reason=None):
    """A DescribeLabelingJob answer with every member the service model requires."""
    answer = {
        "LabelingJobStatus": status,
        "LabelCounters": {"TotalLabeled": human + machine, "HumanLabeled": human, "MachineLabeled": machine,
                          "FailedNonRetryableError": failed, "Unlabeled": unlabeled},
        "CreationTime": datetime(2026, 11, 30, 9, tzinfo=UTC),
        "LastModifiedTime": datetime(2026, 11, 30, 10, tzinfo=UTC),
        "JobReferenceCode": "7d2f3c1a",
        "LabelingJobName": name,
        "LabelingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{name}",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": f"s3://{bucket}/in.manifest"}}},
        "OutputConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "RoleArn": ROLE,
        "HumanTaskConfig": {
            "WorkteamArn": PRIVATE_TEAM, "UiConfig": {"UiTemplateS3Uri": f"s3://{bucket}/t.html"},
            "TaskTitle": "t", "TaskDescription": "d", "NumberOfHumanWorkersPerDataObject": 3,
            "TaskTimeLimitInSeconds": 300,
        },
    }
    if output:
        answer["LabelingJobOutput"] = {"OutputDatasetS3Uri": output}
    if reason:
        answer["FailureReason"] = reason
    return answer


def expect_describe(stub, name, answer):
    stub.add_response("describe_labeling_job", answer, {"LabelingJobName": name})


def expect_not_found(stub, name):
    stub.add_client_error("describe_labeling_job", service_error_code="ResourceNotFound",
                          http_status_code=400, expected_params={"LabelingJobName": name})


def expected_create(bucket, name=NAME):
    root = f"s3://{bucket}/review-sentiment/ground-truth"
    return {
        "LabelingJobName": name,
        "LabelAttributeName": "sentiment",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": f"{root}/{name}/input.manifest"}}},
        "OutputConfig": {"S3OutputPath": f"{root}/output"},
        "RoleArn": ROLE,
        "LabelCategoryConfigS3Uri": f"{root}/{name}/label_categories.json",
        "HumanTaskConfig": {
            "WorkteamArn": PRIVATE_TEAM,
            "UiConfig": {"UiTemplateS3Uri": f"{root}/{name}/text_classification.liquid.html"},
            "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:PRE-TextMultiClass",
            "TaskKeywords": ["sentiment", "text classification", "reviews"],
            "TaskTitle": "Label the sentiment of a product review",
            "TaskDescription": "Read a customer review and choose positive, negative or neutral",
            "NumberOfHumanWorkersPerDataObject": 3,
            "TaskTimeLimitInSeconds": 300,
            "AnnotationConsolidationConfig": {
                "AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:ACS-TextMultiClass"
            },
        },
        "Tags": [{"Key": "project", "Value": "review-sentiment"},
                 {"Key": "input-manifest-fingerprint", "Value": manifest_fingerprint(ITEMS)}],
    }


def expect_create(stub, params):
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{params['LabelingJobName']}"
    stub.add_response("create_labeling_job", {"LabelingJobArn": arn}, params)


def output_line(item, index, human=True):
    """A line as Ground Truth writes it to the output manifest."""
    return {**item, "sentiment": index, "sentiment-metadata": {
        "class-name": CLASSES[index], "confidence": 0.91, "human-annotated": "yes" if human else "no",
        "creation-date": "2026-11-30T10:00:00.000000", "type": "groundtruth/text-classification",
        "job-name": f"labeling-job/{NAME}"}}


def put_output(s3, bucket, lines, name=NAME):
    uri = f"s3://{bucket}/review-sentiment/ground-truth/output/{name}/manifests/output/output.manifest"
    s3.pipe(uri, "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8"))
    return uri


# Ground Truth marks an object no worker could label with a failure reason and no label.
FAILED_R3 = {**ITEMS[2], "sentiment-metadata": {"failure-reason": "ClientError: task expired"}}


def logged(caplog):
    """What the Ground Truth client logged (moto's server logs each request on the same root)."""
    return [record.getMessage() for record in caplog.records if record.name == ground_truth.logger.name]


def client(sagemaker, s3, sleeps=None, clock=None):
    sleeps = [] if sleeps is None else sleeps
    return GroundTruthClient(sagemaker, s3, sleep=sleeps.append, clock=clock or (lambda: 0.0))


def run(sagemaker, s3, bucket, items=ITEMS, **kwargs):
    changes = {key: kwargs.pop(key) for key in list(kwargs) if key in GroundTruthParams.model_fields}
    return label_with_ground_truth(items, CLASSES, settings(bucket, **changes), job_base="review-sentiment",
                                   attribute="sentiment", client=client(sagemaker, s3, **kwargs))


def test_client_retries_throttled_calls_with_backoff(bucket):
    # Stubber answers before botocore's retry handler runs, so the configuration is what is tested.
    sagemaker, _ = open_clients("us-east-1")

    assert sagemaker.meta.config.retries == {"total_max_attempts": 10, "mode": "adaptive"}
    assert sagemaker.meta.region_name == "us-east-1"


def test_job_lifecycle_uploads_creates_polls_and_reads_the_labels(clients, bucket):
    sagemaker, s3, stub = clients
    uri = put_output(s3, bucket, [output_line(ITEMS[0], 0), output_line(ITEMS[1], 1, human=False), FAILED_R3])
    expect_not_found(stub, NAME)
    expect_create(stub, expected_create(bucket))
    expect_describe(stub, NAME, described(NAME, "InProgress"))
    expect_describe(stub, NAME, described(NAME, "InProgress", human=1, unlabeled=2))
    expect_describe(stub, NAME, described(NAME, "Completed", human=1, machine=1, failed=1, unlabeled=0, output=uri))
    sleeps = []

    result = run(sagemaker, s3, bucket, sleeps=sleeps)

    assert result.job_name == NAME and result.status == "Completed"
    assert [(given.label.class_name, given.label.human_annotated) for given in result.labels[:2]] == [
        ("positive", True), ("negative", False)]
    assert result.labels[2] is None
    assert sleeps == [5, 5]
    root = f"s3://{bucket}/review-sentiment/ground-truth/{NAME}"
    assert [json.loads(line) for line in s3.cat(f"{root}/input.manifest").splitlines()] == ITEMS
    assert json.loads(s3.cat(f"{root}/label_categories.json")) == CATEGORIES
    template = s3.cat(f"{root}/text_classification.liquid.html").decode()
    assert 'name="crowd-classifier"' in template and "{{ task.input.taskObject }}" in template


def test_public_crowd_job_with_price_automated_labeling_and_stopping_conditions(clients, bucket):
    sagemaker, s3, stub = clients
    items = ITEMS * 500  # 1,500 lines: automated labeling needs 1,250
    name = f"review-sentiment-{manifest_fingerprint(items)}"
    expected = expected_create(bucket, name)
    expected["Tags"][1]["Value"] = manifest_fingerprint(items)
    expected["InputConfig"]["DataAttributes"] = {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]}
    human = expected["HumanTaskConfig"]
    human["WorkteamArn"] = PUBLIC_CROWD
    human["PreHumanTaskLambdaArn"] = "arn:aws:lambda:eu-west-1:568282634449:function:PRE-TextMultiClass"
    human["AnnotationConsolidationConfig"] = {
        "AnnotationConsolidationLambdaArn": "arn:aws:lambda:eu-west-1:568282634449:function:ACS-TextMultiClass"}
    human["PublicWorkforceTaskPrice"] = {"AmountInUsd": {"Dollars": 0, "Cents": 1, "TenthFractionsOfACent": 2}}
    human["TaskAvailabilityLifetimeInSeconds"] = 21600
    human["MaxConcurrentTaskCount"] = 500
    expected["StoppingConditions"] = {"MaxHumanLabeledObjectCount": 1000, "MaxPercentageOfInputDatasetLabeled": 90}
    expected["LabelingJobAlgorithmsConfig"] = {"LabelingJobAlgorithmSpecificationArn":
        "arn:aws:sagemaker:eu-west-1:027400017018:labeling-job-algorithm-specification/text-classification"}
    expect_not_found(stub, name)
    expect_create(stub, expected)
    expect_describe(stub, name, described(name, "InProgress"))

    result = run(sagemaker, s3, bucket, items=items, region="eu-west-1", workteam_arn=PUBLIC_CROWD,
                 task_price=0.012, content_classifiers=["FreeOfPersonallyIdentifiableInformation"],
                 task_availability_lifetime=21600, max_concurrent_tasks=500, automated_labeling=True,
                 stopping_conditions={"max_human_labeled": 1000, "max_percentage_labeled": 90},
                 wait_timeout=1, clock=iter([0.0, 5.0]).__next__)

    assert result.status == "InProgress" and result.labels == [None] * len(items)


def test_labels_come_back_with_ground_truths_metadata_as_written(clients, bucket):
    sagemaker, s3, stub = clients
    # Not what this project writes: 6 decimals, another date, Ground Truth's own job name.
    written = [{**output_line(ITEMS[0], 0), "sentiment-metadata": {
        **output_line(ITEMS[0], 0)["sentiment-metadata"], "confidence": 0.912345,
        "creation-date": "2026-12-01T08:15:30.123456", "job-name": "labeling-job/another-name"}},
        output_line(ITEMS[1], 1, human=False), FAILED_R3]
    uri = put_output(s3, bucket, written)
    expect_describe(stub, NAME, described(NAME, "Completed", human=1, machine=1, failed=1, unlabeled=0, output=uri))

    result = run(sagemaker, s3, bucket)

    assert [given.fields for given in result.labels[:2]] == [
        {"sentiment": line["sentiment"], "sentiment-metadata": line["sentiment-metadata"]} for line in written[:2]]
    assert result.labels[0].label == Label("positive", 0.912345, True)
    assert result.labels[2] is None


@pytest.mark.parametrize("described_output", [True, False], ids=["described", "conventional-path"])
def test_stopped_job_keeps_what_it_labeled_and_says_what_to_do(clients, bucket, caplog, described_output):
    sagemaker, s3, stub = clients
    name = f"{NAME}-3"
    # R2 was never reached; R3 expired.
    written = [output_line(ITEMS[0], 0), FAILED_R3]
    uri = put_output(s3, bucket, written, name=name)
    expect_describe(stub, name, described(name, "Stopped", human=1, failed=1, unlabeled=1,
                                          output=uri if described_output else None))

    with caplog.at_level(logging.WARNING):
        result = run(sagemaker, s3, bucket, attempt=3)

    assert (result.job_name, result.status) == (name, "Stopped")
    assert result.labels[0].fields == {key: written[0][key] for key in ("sentiment", "sentiment-metadata")}
    assert result.labels[1:] == [None, None]
    assert logged(caplog) == [
        f"Ground Truth job {name} is Stopped: it labeled 1 of 3 reviews (human 1, machine 0, failed 1, "
        "unlabeled 1), which are kept; run again with --params labeling.ground_truth.attempt=4: the 2 "
        "reviews it did not label go to a new job (a job name is never reused)"]


def test_stopped_job_without_output_gives_no_labels_and_says_what_to_do(clients, bucket, caplog):
    sagemaker, s3, stub = clients
    expect_describe(stub, NAME, described(NAME, "Stopped"))

    with caplog.at_level(logging.WARNING):
        result = run(sagemaker, s3, bucket)

    assert result.status == "Stopped" and result.labels == [None, None, None]
    assert logged(caplog) == [
        f"Ground Truth job {NAME} is Stopped and wrote no output manifest: it labeled 0 of 3 reviews "
        "(human 0, machine 0, failed 0, unlabeled 3), earlier labels are kept; run again with --params "
        "labeling.ground_truth.attempt=2: the 3 reviews it did not label go to a new job "
        "(a job name is never reused)"]


def test_failed_job_keeps_what_it_labeled_before_failing(clients, bucket, caplog):
    sagemaker, s3, stub = clients
    uri = put_output(s3, bucket, [output_line(ITEMS[0], 0), output_line(ITEMS[1], 1), FAILED_R3])
    expect_describe(stub, NAME, described(NAME, "Failed", human=2, failed=1, unlabeled=0, output=uri,
                                          reason="ClientError: the workteam was deleted"))

    with caplog.at_level(logging.WARNING):
        result = run(sagemaker, s3, bucket)

    assert result.status == "Failed"
    assert [given and given.label.class_name for given in result.labels] == ["positive", "negative", None]
    assert logged(caplog) == [
        f"Ground Truth job {NAME} is Failed (ClientError: the workteam was deleted): it labeled 2 of 3 "
        "reviews (human 2, machine 0, failed 1, unlabeled 0), which are kept; fix that, then run again "
        "with --params labeling.ground_truth.attempt=2: the 1 review it did not label goes to a new job "
        "(a job name is never reused)"]


@pytest.mark.parametrize("written", [None, [FAILED_R3]], ids=["no-output", "nothing-labeled"])
def test_failed_job_stops_the_run_with_its_failure_reason(clients, bucket, written):
    sagemaker, s3, stub = clients
    if written is not None:
        put_output(s3, bucket, written)
    expect_not_found(stub, NAME)
    expect_create(stub, expected_create(bucket))
    expect_describe(stub, NAME, described(NAME, "Failed", reason="AccessDenied: s3://b/in.manifest"))

    with pytest.raises(GroundTruthJobError, match=(
        rf"^Ground Truth job {NAME} is Failed: AccessDenied: s3://b/in.manifest; fix that, then run again "
        r"with --params labeling.ground_truth.attempt=2 \(a job name is never reused\); "
        r"earlier labels are kept$")):
        run(sagemaker, s3, bucket)


def test_rerun_attaches_to_the_existing_job_without_creating_another(clients, bucket):
    sagemaker, s3, stub = clients
    uri = put_output(s3, bucket, [output_line(ITEMS[0], 0), output_line(ITEMS[1], 1), output_line(ITEMS[2], 2)])
    expect_describe(stub, NAME, described(NAME, "InProgress", human=2, unlabeled=1))
    expect_describe(stub, NAME, described(NAME, "Completed", human=3, unlabeled=0, output=uri))

    result = run(sagemaker, s3, bucket)

    # No CreateLabelingJob was stubbed: a second job would have raised UnStubbedResponseError.
    assert [given.label.class_name for given in result.labels] == CLASSES
    assert not s3.exists(f"s3://{bucket}/review-sentiment/ground-truth/{NAME}/input.manifest")


def test_changed_manifest_makes_a_new_job():
    changed = [*ITEMS[:2], {**ITEMS[2], "source": "It does the job, mostly"}]
    name = labeling_job_name("review-sentiment", manifest_fingerprint(changed))

    assert name != NAME
    assert labeling_job_name("Review-Sentiment", manifest_fingerprint(ITEMS)) == NAME
    assert labeling_job_name("review-sentiment", manifest_fingerprint(ITEMS), attempt=2) == f"{NAME}-2"


def test_ctrl_c_while_waiting_leaves_the_job_running_and_says_how_to_reattach(clients, bucket, caplog):
    sagemaker, s3, stub = clients
    expect_describe(stub, NAME, described(NAME, "InProgress"))

    def interrupted(seconds):
        raise KeyboardInterrupt

    waiting = GroundTruthClient(sagemaker, s3, sleep=interrupted)
    with caplog.at_level(logging.WARNING), pytest.raises(KeyboardInterrupt) as interrupt:
        label_with_ground_truth(ITEMS, CLASSES, settings(bucket), job_base="review-sentiment",
                                attribute="sentiment", client=waiting)

    message = (f"Stopped waiting; Ground Truth job {NAME} keeps running: run again to collect its labels, "
               f"or stop it with `aws sagemaker stop-labeling-job --labeling-job-name {NAME} --region us-east-1`")
    assert str(interrupt.value) == message
    assert caplog.messages[-1] == message  # and no StopLabelingJob: none was stubbed


def test_wait_timeout_gives_no_labels_and_one_warning(clients, bucket, caplog):
    sagemaker, s3, stub = clients
    expect_describe(stub, NAME, described(NAME, "InProgress", human=1, unlabeled=2))
    expect_describe(stub, NAME, described(NAME, "InProgress", human=2, unlabeled=1))
    times = iter([0.0, 30.0, 61.0])

    with caplog.at_level(logging.WARNING):
        result = run(sagemaker, s3, bucket, wait_timeout=60, clock=lambda: next(times))

    assert result.labels == [None, None, None]
    assert caplog.messages == [
        f"Ground Truth job {NAME} is still InProgress after 60 s (human 2, machine 0, failed 0, "
        f"unlabeled 1): no new labels this run; run again to collect its labels, or stop it with "
        f"`aws sagemaker stop-labeling-job --labeling-job-name {NAME} --region us-east-1`"]


def test_throttled_poll_is_asked_again_at_the_next_poll(clients, bucket):
    sagemaker, s3, stub = clients
    uri = put_output(s3, bucket, [output_line(ITEMS[0], 0)])
    expect_describe(stub, NAME, described(NAME, "InProgress"))
    stub.add_client_error("describe_labeling_job", service_error_code="ThrottlingException",
                          http_status_code=400, expected_params={"LabelingJobName": NAME})
    expect_describe(stub, NAME, described(NAME, "Completed", human=1, unlabeled=0, output=uri))
    sleeps = []

    result = run(sagemaker, s3, bucket, sleeps=sleeps)

    assert result.labels[0].label.class_name == "positive" and result.labels[1:] == [None, None]
    assert sleeps == [5, 5]


def test_other_describe_errors_are_not_swallowed(clients, bucket):
    sagemaker, s3, stub = clients
    stub.add_client_error("describe_labeling_job", service_error_code="AccessDeniedException",
                          http_status_code=400, expected_params={"LabelingJobName": NAME})

    with pytest.raises(sagemaker.exceptions.ClientError, match="AccessDeniedException"):
        run(sagemaker, s3, bucket)


def test_unknown_region_is_named_before_any_call(clients, bucket):
    sagemaker, s3, _ = clients
    team = "arn:aws:sagemaker:us-west-1:123456789012:workteam/private-crowd/reviewers"

    with pytest.raises(GroundTruthConfigError, match=(
        r"^labeling.ground_truth.region 'us-west-1' has no built-in Ground Truth text-classification "
        r"Lambdas; use one of ap-northeast-1, .*, us-west-2$")):
        run(sagemaker, s3, bucket, region="us-west-1", workteam_arn=team)


def test_missing_role_or_workteam_is_named(clients, bucket):
    sagemaker, s3, _ = clients

    with pytest.raises(GroundTruthConfigError, match="needs role_arn, workteam_arn for workforce ground_truth"):
        run(sagemaker, s3, bucket, role_arn=None, workteam_arn=None)


@pytest.mark.parametrize(("changes", "message"), [
    ({"role_arn": "arn:aws:iam::12345:role/x"}, "is not an IAM role ARN"),
    ({"workteam_arn": "arn:aws:sagemaker:us-east-1:123456789012:team/x"}, "is not a workteam ARN"),
    ({"workteam_arn": PUBLIC_CROWD}, "workteam_arn is in region 'eu-west-1', the job in 'us-east-1'"),
    ({"region": "eu-west-1", "workteam_arn": PUBLIC_CROWD}, "the public crowd .* needs a task_price"),
    ({"task_price": 0.012}, "task_price is paid to the public crowd only"),
    ({"task_price": 0.0125, "region": "eu-west-1", "workteam_arn": PUBLIC_CROWD}, "tenths of a cent"),
    ({"keywords": ["good & bad"]}, "keyword 'good & bad'"),
    ({"workers_per_review": 10}, "less than or equal to 9"),
    ({"task_time_limit": 28801}, "less than or equal to 28800"),
    ({"max_concurrent_tasks": 5001}, "less than or equal to 5000"),
    ({"content_classifiers": ["Nope"]}, "FreeOfPersonallyIdentifiableInformation"),
    ({"bucket": "s3://bucket/prefix"}, "is not an S3 bucket name"),
])
def test_values_botocore_would_let_through_are_refused(changes, message):
    with pytest.raises(ValidationError, match=message):
        settings("bucket", **changes)


@pytest.mark.parametrize("base", ["review_sentiment", "r" * 47])
def test_bad_job_name_is_refused(base):
    with pytest.raises(GroundTruthConfigError, match="cannot start a Ground Truth job name"):
        labeling_job_name(base, manifest_fingerprint(ITEMS))


def test_automated_labeling_needs_enough_reviews(clients, bucket):
    sagemaker, s3, _ = clients

    with pytest.raises(GroundTruthConfigError, match="needs at least 1250 reviews, the input manifest has 3"):
        run(sagemaker, s3, bucket, automated_labeling=True)


def test_labeling_node_sends_ground_truth_only_unlabeled_reviews_and_keeps_its_lines_verbatim(
    clients, bucket, monkeypatch
):
    sagemaker, s3, stub = clients
    monkeypatch.setattr(ground_truth, "open_clients", lambda region: (sagemaker, s3))
    # A person labeled R3 in an earlier run: only R1 and R2 go to the job, which is then stopped
    # after labeling both; its lines come back with its own confidence, date and job name.
    unlabeled = ITEMS[:2]
    name = f"review-sentiment-{manifest_fingerprint(unlabeled)}"
    theirs = output_line(ITEMS[1], 1)
    written = [output_line(ITEMS[0], 0), {**theirs, "sentiment-metadata": {
        **theirs["sentiment-metadata"], "confidence": 0.123456, "creation-date": "2020-01-01T00:00:00.000001"}}]
    uri = put_output(s3, bucket, written, name=name)
    expected = expected_create(bucket, name)
    expected["Tags"][1]["Value"] = manifest_fingerprint(unlabeled)
    expect_not_found(stub, name)
    expect_create(stub, expected)
    expect_describe(stub, name, described(name, "Stopped", human=2, unlabeled=0, output=uri))
    earlier = {**output_line(ITEMS[2], 2), "sentiment-metadata": {
        **output_line(ITEMS[2], 2)["sentiment-metadata"], "job-name": "labeling-job/earlier"}}
    params = LabelingParams(workforce="ground_truth", ground_truth=settings(bucket))
    no_answers = pd.DataFrame(columns=ANNOTATION_COLUMNS)

    new, summary, *_ = label_reviews(ITEMS, CATEGORIES, no_answers, LabeledSet([earlier], {}), params)

    assert [{key: value for key, value in line.items() if key != "workforce"} for line in new] == written
    assert {line["workforce"] for line in new} == {"ground_truth"}
    assert summary["labeled_by_people"] == 3 and summary["unlabeled"] == 0
    # Everything labeled now: the next run sends nothing (no call is stubbed for it).
    again, *_ = label_reviews(ITEMS, CATEGORIES, no_answers, LabeledSet([*new, earlier], {}), params)
    assert again == []
