"""`kedro run --env aws` in a fresh project folder against a real S3 API server (moto) on
127.0.0.1: every dataset in the bucket, nothing under data/, Spark reading S3 without hadoop-aws,
errors that say what to fix; and the MLflow tracking URI taken from MLFLOW_TRACKING_URI."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import boto3
import mlflow
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.aws.test_sagemaker import IMAGE, queue_answers
from tests.test_end_to_end import BIN, PROJECT

RAW_SAMPLE = "data/01_raw/fine_food_reviews_1k.csv"
PREFIX = "review-sentiment"
PIPELINES = "data_extraction,labeling,feature_engineering,training"


def copy_project(root: Path) -> Path:
    """The project as a user clones it (conf without credentials, the bundled raw sample), as
    tests/test_end_to_end.py copies it."""
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(PROJECT / "data", root / "data",
                    ignore=lambda folder, names: [n for n in names if n.endswith((".pkl", ".manifest", ".json", ".png", ".html", ".db", ".jsonl"))])
    (root / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    return root


def kedro_aws(project: Path, s3_uri: str | None, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`kedro run --env aws ARGS` in a user's shell (MLflow's URI from conf, not the suite's)."""
    inherited = {k: v for k, v in os.environ.items()
                 if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "REVIEW_SENTIMENT_S3_URI")}
    full_env = {**inherited, "KEDRO_DISABLE_TELEMETRY": "1", "SPARK_LOCAL_IP": "127.0.0.1",
                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
    if s3_uri is not None:
        full_env["REVIEW_SENTIMENT_S3_URI"] = s3_uri
    return subprocess.run([str(BIN / "kedro"), "run", "--env", "aws", *args], cwd=project,
                          env={k: v for k, v in full_env.items() if v is not None},
                          capture_output=True, text=True, timeout=900)


def files_under(folder: Path) -> dict[str, float]:
    return {str(path.relative_to(folder)): path.stat().st_mtime for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def s3(aws_test_credentials, moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return boto3.client("s3")


@pytest.fixture
def bucket(s3) -> str:
    name = f"aws-run-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.upload_file(str(PROJECT / RAW_SAMPLE), name, f"{PREFIX}/01_raw/fine_food_reviews_1k.csv")
    return name


@pytest.mark.e2e
def test_aws_run_keeps_every_dataset_in_the_bucket_and_writes_nothing_under_data(tmp_path, s3, bucket, moto_url):
    project = copy_project(tmp_path / "project")
    data_before = files_under(project / "data")

    done = kedro_aws(project, f"s3://{bucket}/{PREFIX}", "--pipelines", PIPELINES,
                     "--params", "labeling.workforce=star_rating")

    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    keys = bucket_keys(s3, bucket)
    expected = {
        "02_intermediate/review_sample.csv",
        "03_primary/input.manifest", "03_primary/label_categories.json", "03_primary/instructions.html",
        "03_primary/output.manifest", "03_primary/quarantine.jsonl",
        "04_feature/bigram_vectorizer.pkl", "04_feature/tfidf_transformer.pkl",
        *(f"04_feature/{features}_{split}_features.pkl" for features in ("bigram", "tfidf") for split in ("train", "test")),
        "05_model_input/train_reviews.pkl", "05_model_input/test_reviews.pkl",
        "08_reporting/label_review_queue.json", "08_reporting/model_registration.json",
    }
    assert expected <= keys, f"missing from s3://{bucket}/{PREFIX}: {sorted(expected - keys)}"
    artifacts = {Path(key).name for key in keys if key.startswith("mlartifacts/")}
    assert {"model_selection.json", *(f"{model}_{split}_confusion_matrix.png" for model in ("bigram", "tfidf")
                                      for split in ("train", "test"))} <= artifacts
    assert files_under(project / "data") == data_before
    # Spark read the manifest from S3 (no hadoop-aws here): the fsspec route.
    assert "S3AFileSystem" not in done.stderr

    # Then the deployment pipeline puts the champion on a SageMaker endpoint (moto's SageMaker;
    # no model container runs there, so its answers to the smoke test are queued).
    smoke = pd.read_pickle(io.BytesIO(
        s3.get_object(Bucket=bucket, Key=f"{PREFIX}/05_model_input/test_reviews.pkl")["Body"].read()
    )).head(100)  # deployment.smoke_test_size
    queue_answers(moto_url, smoke["label"].tolist())
    endpoint = f"review-sentiment-{uuid.uuid4().hex[:8]}"

    deployed = kedro_aws(project, f"s3://{bucket}/{PREFIX}", "--pipelines", "deployment",
                         "--params", sagemaker_deployment_params(endpoint))

    assert deployed.returncode == 0, f"{deployed.stdout[-4000:]}\n{deployed.stderr[-4000:]}"
    record = json.loads(s3.get_object(Bucket=bucket, Key=f"{PREFIX}/08_reporting/deployment_smoke_test.json")["Body"].read())
    assert (record["action"], record["endpoint"], record["agreement"]) == ("created", endpoint, 1.0)
    status = boto3.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
    assert status == "InService"
    assert files_under(project / "data") == data_before


def bucket_keys(s3, bucket: str) -> set[str]:
    """Every key in the bucket under PREFIX, without it."""
    return {item["Key"].removeprefix(f"{PREFIX}/")
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])}


def sagemaker_deployment_params(endpoint: str) -> str:
    """`--params` deploying to the SageMaker endpoint `endpoint` in moto, with a role and a
    model bucket of its own."""
    role, model_bucket = sagemaker_role_and_bucket()
    return (f"deployment.sagemaker.endpoint_name={endpoint},deployment.sagemaker.execution_role_arn={role},"
            f"deployment.sagemaker.bucket={model_bucket},deployment.sagemaker.image_url={IMAGE}")


def sagemaker_role_and_bucket() -> tuple[str, str]:
    """An execution role SageMaker may assume and a bucket for the model, in moto."""
    suffix = uuid.uuid4().hex[:8]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "sagemaker.amazonaws.com"}}]}
    role = boto3.client("iam").create_role(RoleName=f"sagemaker-{suffix}",
                                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    boto3.client("s3").create_bucket(Bucket=f"models-{suffix}")
    return role, f"models-{suffix}"


@pytest.mark.e2e
def test_missing_bucket_stops_the_run_saying_what_to_fix(tmp_path, s3):
    project = copy_project(tmp_path / "project")
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"

    done = kedro_aws(project, f"s3://{missing}/{PREFIX}", "--pipelines", "data_extraction")

    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert f"Bucket s3://{missing} (dataset" in output
    assert "does not exist: create it" in output and "REVIEW_SENTIMENT_S3_URI" in output


@pytest.mark.e2e
def test_missing_credentials_stop_the_run_saying_where_to_put_them(tmp_path, s3, bucket):
    project = copy_project(tmp_path / "project")

    done = kedro_aws(project, f"s3://{bucket}/{PREFIX}", "--pipelines", "data_extraction",
                     AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                     AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
                     AWS_EC2_METADATA_DISABLED="true")

    assert done.returncode != 0
    output = " ".join((done.stdout + done.stderr).split())
    assert f"No AWS credentials for s3://{bucket}" in output
    assert "conf/aws/credentials.yml" in output


@pytest.mark.e2e
def test_keys_in_conf_aws_credentials_are_used_without_any_in_the_environment(tmp_path, s3, bucket, moto_url):
    project = copy_project(tmp_path / "project")
    (project / "conf/aws/credentials.yml").write_text(
        f"s3:\n  key: testing\n  secret: testing\n  client_kwargs:\n    endpoint_url: {moto_url}\n"
        "    region_name: us-east-1\n")

    done = kedro_aws(project, f"s3://{bucket}/{PREFIX}", "--pipelines", "data_extraction",
                     AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_ENDPOINT_URL=None,
                     AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
                     AWS_EC2_METADATA_DISABLED="true")

    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert s3.head_object(Bucket=bucket, Key=f"{PREFIX}/03_primary/input.manifest")


@pytest.mark.e2e
def test_refused_credentials_stop_the_run_saying_what_to_check(tmp_path, s3, bucket, monkeypatch):
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    project = copy_project(tmp_path / "project")
    # The server (in this process) checks keys from now on, as AWS does: these are unknown.
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)

    done = kedro_aws(project, f"s3://{bucket}/{PREFIX}", "--pipelines", "data_extraction",
                     AWS_ACCESS_KEY_ID="AKIAWRONGWRONGWRONG0", AWS_SECRET_ACCESS_KEY="wrong")

    assert done.returncode != 0
    output = " ".join((done.stdout + done.stderr).split())
    assert f"AWS refused access to s3://{bucket}" in output
    assert "check the credentials" in output


@pytest.mark.e2e
def test_unset_s3_location_stops_the_run_naming_the_variable(tmp_path):
    project = copy_project(tmp_path / "project")

    done = kedro_aws(project, None, "--pipelines", "data_extraction")

    assert done.returncode != 0
    assert "REVIEW_SENTIMENT_S3_URI" in done.stdout + done.stderr


@pytest.fixture
def session_project(tmp_path, monkeypatch):
    """A project copy as the working directory, MLflow's global URIs set back afterwards."""
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    bootstrap_project(project)
    yield project
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def tracking_uri_of_a_session(project: Path) -> str:
    with KedroSession.create(project_path=project) as session:
        return session.load_context().mlflow.server.mlflow_tracking_uri


def test_mlflow_tracking_uri_comes_from_the_environment_when_set(session_project, monkeypatch):
    uri = f"sqlite:///{session_project / 'elsewhere.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)

    assert tracking_uri_of_a_session(session_project) == uri
    assert mlflow.get_tracking_uri() == uri


def test_mlflow_tracking_uri_is_the_local_sqlite_file_otherwise(session_project, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    # The project's file, wherever the process runs (a notebook runs in notebooks/).
    expected = f"sqlite:///{session_project / 'mlruns.db'}"
    assert tracking_uri_of_a_session(session_project) == expected
    assert mlflow.get_tracking_uri() == expected
