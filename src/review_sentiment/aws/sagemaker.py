"""Deploys a registered MLflow model version to a SageMaker endpoint with MLflow's SageMaker
deployment client, and reads back from SageMaker which version an endpoint serves."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from review_sentiment.params import SageMakerDeploymentParams

logger = logging.getLogger(__name__)

# Tags put on the SageMaker model at deploy time: what an endpoint serves is read back from them,
# so a second run knows without any local state whether there is anything to do.
MODEL_NAME_TAG = "mlflow.registered_model"
MODEL_VERSION_TAG = "mlflow.model_version"

# Statuses in which SageMaker refuses an update: another operation is running.
_BUSY = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
_CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "ExpiredToken",
    "ExpiredTokenException",
}
_PERMISSION_CODES = {"AccessDenied", "AccessDeniedException"}
# How MLflow's SageMaker client words a failed or timed-out wait for InService (MLflow 3.17).
_OPERATION_FAILED = "The deployment operation failed"
_FIX_CREDENTIALS = (
    "set AWS_PROFILE to a configured profile (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "plus AWS_SESSION_TOKEN for temporary keys), or run `aws sso login` / `aws configure`"
)


class SageMakerDeploymentError(RuntimeError):
    """A deployment that could not start or did not finish; names the endpoint and what to do."""


class EndpointNotInServiceError(SageMakerDeploymentError, TimeoutError):
    """The endpoint did not reach InService within the timeout."""


class AwsCredentialsError(SageMakerDeploymentError):
    """No AWS credentials, or credentials AWS refuses."""


@dataclass(frozen=True)
class EndpointState:
    """What SageMaker says an endpoint is and serves; `version` is None when its model carries no
    version tag (deployed by hand, or several variants)."""

    name: str
    status: str
    failure_reason: str | None
    model_name: str | None
    version: int | None
    image: str | None
    instance_type: str | None
    instance_count: int | None


@dataclass(frozen=True)
class Deployment:
    """What `SageMakerDeployer.deploy` did, and why (`changes`: what differed before a replace)."""

    action: Literal["created", "replaced", "unchanged"]
    endpoint_name: str
    region: str
    model_uri: str
    version: int
    changes: tuple[str, ...] = ()


class SageMakerDeployer:
    """Creates, replaces or leaves alone one SageMaker endpoint for a registered model version.

    Args:
        settings: region, endpoint, image, role, bucket, instances, timeout and retries.
        sagemaker: a boto3 SageMaker client to read endpoints with (tests pass one with a
            Stubber); default a new one with botocore's standard retry mode. MLflow's deployment
            client makes its own clients; they get the same retry settings through botocore's
            environment variables while it runs.
    """

    def __init__(self, settings: SageMakerDeploymentParams, *, sagemaker: Any | None = None) -> None:
        self.settings = settings
        self._sagemaker = sagemaker if sagemaker is not None else self._client()

    def _client(self) -> Any:
        # Imported here: boto3 takes a while to import and only the AWS path needs it.
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "total_max_attempts": self.settings.max_attempts})
        # A session of its own: boto3's default session keeps the first credentials it found for
        # the life of the process. boto3 reads AWS_ENDPOINT_URL itself (a local server in tests).
        session = boto3.session.Session(region_name=self.settings.region)
        return session.client("sagemaker", config=config)

    def endpoint(self) -> EndpointState | None:
        """The endpoint as SageMaker describes it, or None if there is none by that name."""
        from botocore.exceptions import ClientError

        name = self.settings.endpoint_name
        try:
            described = self._call("describe_endpoint", EndpointName=name)
        except SageMakerDeploymentError as error:
            cause = error.__cause__
            if isinstance(cause, ClientError) and "Could not find endpoint" in str(cause):
                return None
            raise
        variants = self._call("describe_endpoint_config", EndpointConfigName=described["EndpointConfigName"])[
            "ProductionVariants"
        ]
        model_name = version = image = instance_type = instance_count = None
        if len(variants) == 1:
            variant = variants[0]
            instance_type, instance_count = variant.get("InstanceType"), variant.get("InitialInstanceCount")
            model = self._call("describe_model", ModelName=variant["ModelName"])
            image = model.get("PrimaryContainer", {}).get("Image")
            tags = {tag["Key"]: tag["Value"] for tag in self._call("list_tags", ResourceArn=model["ModelArn"])["Tags"]}
            model_name = tags.get(MODEL_NAME_TAG)
            version = int(tags[MODEL_VERSION_TAG]) if tags.get(MODEL_VERSION_TAG, "").isdigit() else None
        return EndpointState(
            name=name,
            status=described["EndpointStatus"],
            failure_reason=described.get("FailureReason"),
            model_name=model_name,
            version=version,
            image=image,
            instance_type=instance_type,
            instance_count=instance_count,
        )

    def deploy(self, model_name: str, version: int) -> Deployment:
        """Makes the endpoint serve `models:/<model_name>/<version>`: creates it if missing,
        replaces its model if it serves anything else (or on other instances or another image),
        does nothing if it already serves exactly that.

        Raises:
            EndpointNotInServiceError: not InService within `settings.timeout` seconds.
            AwsCredentialsError: no credentials, or credentials AWS refuses.
            SageMakerDeploymentError: the endpoint is failed or busy, a SageMaker/S3 call failed
                after its retries, or SageMaker rolled the update back.
        """
        settings = self.settings
        model_uri = f"models:/{model_name}/{version}"
        before = self.endpoint()
        if before is not None:
            self._check_updatable(before)
            changes = self._changes(before, model_name, version)
            if not changes:
                logger.info("SageMaker endpoint %s already serves %s: nothing to do", before.name, model_uri)
                return Deployment("unchanged", before.name, settings.region, model_uri, version)
            logger.info("Replacing the model of SageMaker endpoint %s: %s", before.name, "; ".join(changes))
        else:
            changes = ()
        self._deploy_with_mlflow(model_uri, {MODEL_NAME_TAG: model_name, MODEL_VERSION_TAG: str(version)}, before)
        action: Literal["created", "replaced"] = "created" if before is None else "replaced"
        return Deployment(action, settings.endpoint_name, settings.region, model_uri, version, tuple(changes))

    def _check_updatable(self, state: EndpointState) -> None:
        where = f"SageMaker endpoint {state.name} ({self.settings.region})"
        if state.status == "Failed":
            raise SageMakerDeploymentError(
                f"{where} is Failed (FailureReason: {state.failure_reason or 'none given'}); SageMaker "
                f"only deletes a failed endpoint: `aws sagemaker delete-endpoint --endpoint-name "
                f"{state.name} --region {self.settings.region}`, then run again"
            )
        if state.status in _BUSY:
            raise SageMakerDeploymentError(
                f"{where} is {state.status}: another operation is still running on it; run again "
                "when it is InService"
            )

    def _changes(self, state: EndpointState, model_name: str, version: int) -> list[str]:
        settings = self.settings
        changes = []
        if (state.model_name, state.version) != (model_name, version):
            served = f"{state.model_name} version {state.version}" if state.version else "an untagged model"
            changes.append(f"model {served} → {model_name} version {version}")
        if state.instance_type != settings.instance_type:
            changes.append(f"instance type {state.instance_type} → {settings.instance_type}")
        if state.instance_count != settings.instance_count:
            changes.append(f"instance count {state.instance_count} → {settings.instance_count}")
        if settings.image_url and state.image != settings.image_url:
            changes.append(f"image {state.image} → {settings.image_url}")
        if state.status != "InService":
            changes.append(f"status {state.status}")
        return changes

    def _deploy_with_mlflow(self, model_uri: str, tags: dict[str, str], before: EndpointState | None) -> None:
        from mlflow.deployments import get_deploy_client
        from mlflow.exceptions import MlflowException

        settings = self.settings
        client = get_deploy_client(f"sagemaker:/{settings.region}")
        config = {
            "execution_role_arn": settings.execution_role_arn,
            "bucket": settings.bucket,
            "image_url": settings.image_url,
            "region_name": settings.region,
            "instance_type": settings.instance_type,
            "instance_count": settings.instance_count,
            "timeout_seconds": settings.timeout,
            # Wait for InService, then delete the replaced model and endpoint configuration.
            "synchronous": True,
            "archive": False,
            "tags": tags,
        }
        name = settings.endpoint_name
        try:
            with _botocore_retries(settings.max_attempts):
                if before is None:
                    client.create_deployment(name, model_uri, config=config)
                else:
                    client.update_deployment(name, model_uri, config={**config, "mode": "replace"})
        except MlflowException as error:
            if _OPERATION_FAILED not in str(error):  # e.g. the model is not in the registry
                raise SageMakerDeploymentError(f"deploying {model_uri} to {name}: {error}") from error
            raise self._not_deployed(model_uri, error) from error
        except Exception as error:
            translated = _aws_error(error, f"deploying {model_uri} to SageMaker endpoint {name}", settings.region)
            if translated is None:
                raise
            raise translated from error

    def _not_deployed(self, model_uri: str, error: Exception) -> SageMakerDeploymentError:
        settings = self.settings
        state = self.endpoint()
        status = state.status if state else "not found"
        reason = (state.failure_reason if state else None) or "none given"
        where = f"SageMaker endpoint {settings.endpoint_name} ({settings.region})"
        if state is None or state.status in _BUSY:
            return EndpointNotInServiceError(
                f"{where} is not InService after {settings.timeout} s: status {status}, FailureReason: "
                f"{reason}. It may still finish: `aws sagemaker describe-endpoint --endpoint-name "
                f"{settings.endpoint_name} --region {settings.region}`; a slower start needs a larger "
                "deployment.sagemaker.timeout"
            )
        return SageMakerDeploymentError(
            f"{where} did not take {model_uri}: status {status}, FailureReason: {reason} (MLflow: {error})"
        )

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._sagemaker, operation)(**kwargs)
        except Exception as error:
            subject = next(iter(kwargs.values()), "")
            doing = f"SageMaker {_api_name(operation)} {subject}".rstrip()
            translated = _aws_error(error, doing, self.settings.region)
            if translated is None:
                raise
            raise translated from error


def _api_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


def _aws_error(error: Exception, doing: str, region: str) -> SageMakerDeploymentError | None:
    """A deployment error saying what to fix for an AWS error from botocore; None for any other."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
        SSOError,
        TokenRetrievalError,
    )

    if isinstance(error, NoCredentialsError | PartialCredentialsError | SSOError | TokenRetrievalError):
        return AwsCredentialsError(f"{doing} ({region}): no usable AWS credentials ({error}); {_FIX_CREDENTIALS}")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "error")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code in _CREDENTIAL_CODES:
            return AwsCredentialsError(
                f"{doing} ({region}): AWS refused the credentials ({code}: {message}); they are wrong, "
                f"expired or for another account: {_FIX_CREDENTIALS}"
            )
        if code in _PERMISSION_CODES:
            return SageMakerDeploymentError(
                f"{doing} ({region}): the AWS identity is not allowed to ({code}: {message}); grant it "
                "the actions listed in docs/sagemaker.md"
            )
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        return SageMakerDeploymentError(f"{doing} ({region}) failed after {attempts} attempt(s): {code}: {message}")
    if isinstance(error, BotoCoreError):
        return SageMakerDeploymentError(f"{doing} ({region}) failed: {error}")
    return None


@contextmanager
def _botocore_retries(max_attempts: int) -> Iterator[None]:
    """botocore's standard retry mode for every client created meanwhile: MLflow's deployment
    client creates its own boto3 clients and takes no botocore Config, so the environment
    variables botocore reads at client creation are the one way to reach them."""
    wanted = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": str(max_attempts)}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
