"""SageMakerDeployer against moto's SageMaker, S3 and IAM APIs on 127.0.0.1, with a real model
registered in a temporary SQLite MLflow registry.

What moto 5.2.5 lacks is supplied in the test, each time said where:
- UpdateEndpoint (MLflow's replace) is not implemented: `update_endpoint_handler` registers a
  minimal handler on moto's in-process SageMaker server (ThreadedMotoServer runs in this
  process): it points the endpoint at the new configuration and leaves it InService.
- Endpoints are InService at once: `endpoints_start_as` makes new ones stay Creating (timeout).
- Credentials are not checked: a refused key is played with botocore's Stubber.
MLflow's waits (5 s between checks, at least 20 s after an update) run on `FakeClock`, a clock
that moves when slept on, so a 20-minute timeout takes no real time.
"""

from __future__ import annotations

import json
import uuid

import boto3
import mlflow
import pytest
import requests
from botocore.stub import Stubber
from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import SagemakerClientError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from review_sentiment.aws.sagemaker import (
    MODEL_VERSION_TAG,
    AwsCredentialsError,
    EndpointNotInServiceError,
    SageMakerDeployer,
    SageMakerDeploymentError,
)
from review_sentiment.params import DeploymentParams, SageMakerDeploymentParams
from review_sentiment.serving import predict
from tests.serving import TRAIN_LABELS, TRAIN_TEXTS, fit_text_model, local_mlflow, register

REGION = "us-east-1"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:3.17.2"


class FakeClock:
    """Stands in for the `time` module inside mlflow.sagemaker: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch) -> FakeClock:
    import mlflow.sagemaker

    clock = FakeClock()
    monkeypatch.setattr(mlflow.sagemaker, "time", clock)
    return clock


@pytest.fixture(scope="module")
def experiment_id(tmp_path_factory):
    """One registry for the module; each test registers its own model name."""
    with local_mlflow(tmp_path_factory.mktemp("sagemaker")) as experiment:
        yield experiment


@pytest.fixture
def champion(experiment_id):
    """Registers a new champion version of a model name of the test's own; returns
    `(name, register_next)`, where `register_next()` registers a better one and returns its
    version."""
    name = f"review-sentiment-{uuid.uuid4().hex[:8]}"
    # One training review per class first, so that the full set later beats it.
    register(fit_text_model(TRAIN_TEXTS[::8], TRAIN_LABELS[::8]), name, experiment_id)

    def register_next() -> int:
        registration = register(fit_text_model(TRAIN_TEXTS, TRAIN_LABELS), name, experiment_id)
        assert registration.promoted
        return registration.version

    return name, register_next


@pytest.fixture
def aws(moto_url, aws_test_credentials, monkeypatch):
    """moto for every boto3 client; an execution role and a bucket of the test's own. Returns
    deployment settings for an endpoint name of the test's own."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    suffix = uuid.uuid4().hex[:8]
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=f"sagemaker-{suffix}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    bucket = f"models-{suffix}"
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
    return SageMakerDeploymentParams(
        region=REGION,
        endpoint_name=f"review-sentiment-{suffix}",
        image_url=IMAGE,
        execution_role_arn=role,
        bucket=bucket,
        instance_type="ml.t2.medium",
        timeout=600,
        max_attempts=3,
    )


@pytest.fixture
def sagemaker():
    return boto3.client("sagemaker", region_name=REGION)


def resources(sagemaker, endpoint_name: str) -> tuple[list[str], list[str]]:
    """Names of the SageMaker models and endpoint configurations MLflow made for the endpoint."""
    # Filtered here: moto's ListModels ignores NameContains.
    models = [m["ModelName"] for m in sagemaker.list_models(MaxResults=100)["Models"]]
    configs = [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]]
    return (
        sorted(m for m in models if m.startswith(f"{endpoint_name}-model-")),
        sorted(c for c in configs if c.startswith(f"{endpoint_name}-config-")),
    )


@pytest.fixture
def update_endpoint_handler(monkeypatch):
    """A minimal UpdateEndpoint for moto 5.2.5, which has none: the endpoint takes the new
    configuration's variants and stays InService (a real one is Updating for minutes)."""

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        endpoint = backend.endpoints[self._get_param("EndpointName")]
        config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
        endpoint.endpoint_config_name = config["EndpointConfigName"]
        endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
        return ActionResult({"EndpointArn": endpoint.arn})

    monkeypatch.setattr(SageMakerResponse, "update_endpoint", update_endpoint, raising=False)


def test_first_deploy_creates_the_endpoint_serving_the_champion(aws, champion, sagemaker):
    name, _ = champion

    deployment = SageMakerDeployer(aws).deploy(name, 1)

    assert (deployment.action, deployment.version) == ("created", 1)
    assert deployment.model_uri == f"models:/{name}/1"
    state = SageMakerDeployer(aws).endpoint()
    assert (state.status, state.model_name, state.version) == ("InService", name, 1)
    assert (state.image, state.instance_type, state.instance_count) == (IMAGE, "ml.t2.medium", 1)
    model_data = sagemaker.describe_model(ModelName=resources(sagemaker, aws.endpoint_name)[0][0])
    bucket, key = model_data["PrimaryContainer"]["ModelDataUrl"].removeprefix("s3://").split("/", 1)
    assert bucket == aws.bucket
    assert boto3.client("s3", region_name=REGION).head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def test_second_deploy_of_the_same_version_changes_nothing(aws, champion, sagemaker):
    name, _ = champion
    SageMakerDeployer(aws).deploy(name, 1)
    before = resources(sagemaker, aws.endpoint_name)

    deployment = SageMakerDeployer(aws).deploy(name, 1)

    assert deployment.action == "unchanged"
    assert resources(sagemaker, aws.endpoint_name) == before
    assert len(before[0]) == len(before[1]) == 1


def test_new_champion_replaces_the_model_and_removes_the_old_one(
    aws, champion, sagemaker, update_endpoint_handler
):
    name, register_next = champion
    SageMakerDeployer(aws).deploy(name, 1)
    (old_model,), (old_config,) = resources(sagemaker, aws.endpoint_name)
    version = register_next()

    deployment = SageMakerDeployer(aws).deploy(name, version)

    assert (deployment.action, deployment.version) == ("replaced", 2)
    assert deployment.changes == (f"model {name} version 1 → {name} version 2",)
    models, configs = resources(sagemaker, aws.endpoint_name)
    assert len(models) == len(configs) == 1
    assert old_model not in models and old_config not in configs
    assert SageMakerDeployer(aws).endpoint().version == 2


def test_other_instance_type_replaces_the_same_version(aws, champion, update_endpoint_handler):
    name, _ = champion
    SageMakerDeployer(aws).deploy(name, 1)

    deployment = SageMakerDeployer(aws.model_copy(update={"instance_type": "ml.m5.large"})).deploy(name, 1)

    assert deployment.action == "replaced"
    assert deployment.changes == ("instance type ml.t2.medium → ml.m5.large",)


def queue_answers(moto_url: str, *predictions: list[str]) -> None:
    """What moto's invoke_endpoint answers next, in order: no model container runs in moto.
    moto 5.2.5 answers a body it has seen before (on any endpoint) as it did then, without
    taking from the queue: each test sends texts of its own, one answer per distinct body."""
    results = [{"Body": json.dumps({"predictions": labels})} for labels in predictions]
    response = requests.post(
        f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
        json={"region": REGION, "results": results},
        timeout=10,
    )
    response.raise_for_status()


def test_deployed_endpoint_answers_predict_over_sagemaker_runtime(aws, champion, moto_url):
    name, _ = champion
    deployment = SageMakerDeployer(aws).deploy(name, 1)
    queue_answers(moto_url, ["positive", "negative"])

    labels = predict(deployment.endpoint_name, ["Lovely (runtime)", "Awful (runtime)"], region=deployment.region)

    assert labels == ["positive", "negative"]


@pytest.fixture
def endpoints_start_as(monkeypatch):
    """Makes endpoints created from now on stay in `status` (with `reason` as FailureReason)."""

    def start_as(status: str, reason: str | None = None) -> None:
        create = SageMakerModelBackend.create_endpoint

        def create_endpoint(self, *args, **kwargs):
            endpoint = create(self, *args, **kwargs)
            endpoint.endpoint_status, endpoint.failure_reason = status, reason
            return endpoint

        monkeypatch.setattr(SageMakerModelBackend, "create_endpoint", create_endpoint)

    return start_as


def test_endpoint_never_in_service_times_out_naming_endpoint_and_status(
    aws, champion, endpoints_start_as, fake_clock
):
    name, _ = champion
    endpoints_start_as("Creating")
    started = fake_clock.now

    with pytest.raises(EndpointNotInServiceError) as error:
        SageMakerDeployer(aws).deploy(name, 1)

    assert str(error.value).startswith(
        f"SageMaker endpoint {aws.endpoint_name} ({REGION}) is not InService after 600 s: "
        "status Creating, FailureReason: none given."
    )
    assert fake_clock.now - started >= 600
    assert isinstance(error.value, TimeoutError)


def test_failed_endpoint_names_the_failure_reason(aws, champion, endpoints_start_as):
    name, _ = champion
    endpoints_start_as("Failed", "The primary container for production variant X did not pass the ping health check.")

    with pytest.raises(SageMakerDeploymentError, match="status Failed, FailureReason: The primary container"):
        SageMakerDeployer(aws).deploy(name, 1)

    # A second run does not try to update what SageMaker can only delete.
    with pytest.raises(SageMakerDeploymentError, match="is Failed .* SageMaker only deletes a failed endpoint"):
        SageMakerDeployer(aws).deploy(name, 1)


class Throttling(SagemakerClientError):
    """What AWS answers a caller over its request rate (moto's serializer takes the code from
    the class: a bare ServiceException comes out as HTTP 500)."""

    code = "ThrottlingException"


@pytest.fixture
def throttled(monkeypatch):
    """Makes moto's `operation` answer ThrottlingException `times` times (all calls if None)
    before answering normally; returns the list of calls made to it."""
    calls: list[int] = []

    def throttle(operation: str, times: int | None = None) -> list[int]:
        original = getattr(SageMakerModelBackend, operation)

        def answer(self, *args, **kwargs):
            calls.append(1)
            if times is None or len(calls) <= times:
                raise Throttling("Rate exceeded")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(SageMakerModelBackend, operation, answer)
        return calls

    return throttle


def test_throttled_call_is_retried_then_named_with_its_attempts(aws, throttled):
    calls = throttled("describe_endpoint")

    with pytest.raises(SageMakerDeploymentError) as error:
        SageMakerDeployer(aws).endpoint()

    assert len(calls) == aws.max_attempts == 3
    assert str(error.value) == (
        f"SageMaker DescribeEndpoint {aws.endpoint_name} ({REGION}) failed after 3 attempt(s): "
        "ThrottlingException: Rate exceeded"
    )


def test_throttled_call_inside_mlflow_is_retried_and_the_deploy_succeeds(aws, champion, throttled):
    name, _ = champion
    calls = throttled("create_model", times=2)

    deployment = SageMakerDeployer(aws).deploy(name, 1)

    assert deployment.action == "created"
    assert len(calls) == 3


def test_missing_credentials_say_what_to_set(aws, monkeypatch, tmp_path):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(AwsCredentialsError) as error:
        SageMakerDeployer(aws).endpoint()

    assert str(error.value) == (
        f"SageMaker DescribeEndpoint {aws.endpoint_name} ({REGION}): no usable AWS credentials "
        "(Unable to locate credentials); set AWS_PROFILE to a configured profile (or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, plus AWS_SESSION_TOKEN for temporary keys), "
        "or run `aws sso login` / `aws configure`"
    )


def test_refused_credentials_say_they_are_wrong_or_expired(aws, sagemaker):
    # moto accepts any key; the answer AWS gives a key it does not know is played by Stubber.
    stubber = Stubber(sagemaker)
    stubber.add_client_error(
        "describe_endpoint",
        service_error_code="UnrecognizedClientException",
        service_message="The security token included in the request is invalid.",
        http_status_code=400,
    )

    with stubber, pytest.raises(AwsCredentialsError) as error:
        SageMakerDeployer(aws, sagemaker=sagemaker).endpoint()

    assert "AWS refused the credentials (UnrecognizedClientException: The security token" in str(error.value)
    assert "they are wrong, expired or for another account: set AWS_PROFILE" in str(error.value)


def test_endpoint_whose_model_has_no_version_tag_is_replaced(aws, champion, sagemaker, update_endpoint_handler):
    name, _ = champion
    SageMakerDeployer(aws).deploy(name, 1)
    (model,), _ = resources(sagemaker, aws.endpoint_name)
    arn = sagemaker.describe_model(ModelName=model)["ModelArn"]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=[MODEL_VERSION_TAG])

    deployment = SageMakerDeployer(aws).deploy(name, 1)

    assert deployment.action == "replaced"
    assert deployment.changes == (f"model an untagged model → {name} version 1",)


def test_sagemaker_target_needs_an_execution_role():
    with pytest.raises(ValueError, match="deployment.sagemaker.execution_role_arn is required for target sagemaker"):
        DeploymentParams(target="sagemaker")


def test_model_missing_from_the_registry_is_a_deployment_error(aws, experiment_id):
    with pytest.raises(SageMakerDeploymentError, match="deploying models:/not-registered/1 to review-sentiment-"):
        SageMakerDeployer(aws).deploy("not-registered", 1)
    assert mlflow.get_tracking_uri().startswith("sqlite:///")


def test_make_dockerfile_writes_the_serving_image_offline(tmp_path):
    import os
    import subprocess

    from tests.conftest import PROJECT
    from tests.serving import registered_champion

    _, tracking_uri = registered_champion(tmp_path / "registry")
    work = tmp_path / "work"
    work.mkdir()
    # Any network access fails through a proxy nobody listens on.
    offline = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    # The module's registry fixture exports MLFLOW_REGISTRY_URI; a user's shell has none.
    inherited = {k: v for k, v in os.environ.items() if k != "MLFLOW_REGISTRY_URI"}
    env = {**inherited, "MLFLOW_TRACKING_URI": tracking_uri, **offline}

    # -o: the installed venv counts as up to date (make would reinstall it whenever pyproject.toml is newer).
    done = subprocess.run(
        ["make", "-f", str(PROJECT / "Makefile"), "-o", str(PROJECT / ".venv/.installed"),
         f"VENV={PROJECT / '.venv'}", "dockerfile"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    dockerfile = (work / "build/docker/Dockerfile").read_text()
    assert f"RUN pip install mlflow=={mlflow.__version__}" in dockerfile
    assert "COPY model_dir /opt/ml/model" in dockerfile
    assert (work / "build/docker/model_dir/MLmodel").exists()
