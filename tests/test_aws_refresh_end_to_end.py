"""The three refreshes of tests/test_refresh_end_to_end.py under `kedro run --env aws` against a
real S3 and SageMaker API server (moto) on 127.0.0.1: arrivals uploaded to the bucket between
rounds, every label round in the bucket, the champion on a SageMaker endpoint, nothing written
under data/."""

from __future__ import annotations

import json
import uuid

import boto3
import mlflow
import pytest

from review_sentiment.aws.sagemaker import SageMakerDeployer
from review_sentiment.ground_truth.records import item_key
from review_sentiment.params import SageMakerDeploymentParams
from tests import mlflow_store, train_original_models_only
from tests.aws.test_sagemaker import REGION, queue_answers, update_endpoint_handler  # noqa: F401
from tests.test_aws_end_to_end import (  # noqa: F401
    PREFIX,
    bucket,
    bucket_keys,
    copy_project,
    files_under,
    kedro_aws,
    s3,
    sagemaker_deployment_params,
)
from tests.test_refresh_end_to_end import ARRIVALS, MODEL, arrive

pytestmark = pytest.mark.e2e

ROUNDS = "03_primary/labeled"
# The first round freezes 60 of its 300 reviews (as test_refresh_end_to_end asserts); the smoke
# test sends them all. moto runs no model container: it answers what is queued, once per distinct
# request body and endpoint, so the second deployment (the same 60 texts) gets the same answer.
TEST_SET_SIZE = 60
ANSWER = "positive"


def test_three_refreshes_on_aws_keep_rounds_in_the_bucket_and_redeploy_only_on_change(
    tmp_path, s3, bucket, moto_url, update_endpoint_handler  # noqa: F811
):
    project = copy_project(tmp_path / "project")
    train_original_models_only(project)  # the seeded arrivals' setup (test_refresh_end_to_end)
    data_before = files_under(project / "data")
    s3_uri = f"s3://{bucket}/{PREFIX}"
    endpoint = f"review-sentiment-{uuid.uuid4().hex[:8]}"
    params = f"labeling.workforce=star_rating,{sagemaker_deployment_params(endpoint)}"
    queue_answers(moto_url, [ANSWER] * TEST_SET_SIZE)

    def refresh(name: str) -> tuple[dict, str]:
        """Uploads the arrival `name` to the bucket, then runs one refresh."""
        path = arrive(tmp_path / "arrivals", name)
        s3.upload_file(str(path), bucket, f"{PREFIX}/01_raw/arrivals/{name}")
        done = kedro_aws(project, s3_uri, "--pipelines", "refresh", "--params", params)
        assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        # MlflowArtifactDataset logs a local file: it stays in the aws env's local folder.
        summary = json.loads((project / ".cache/aws/08_reporting/refresh_summary.json").read_text())
        return summary, done.stdout + done.stderr

    def keys_in(key: str) -> list[str]:
        """The item keys of a manifest in the bucket (review id, or its text's SHA-1), in order."""
        body = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{key}")["Body"].read().decode()
        return [item_key(json.loads(line)) for line in body.splitlines() if line.strip()]

    def serving() -> tuple[str, int | None, str]:
        """The endpoint's status, the model version it serves, its configuration's name."""
        state = SageMakerDeployer(SageMakerDeploymentParams(region=REGION, endpoint_name=endpoint)).endpoint()
        config = boto3.client("sagemaker", region_name=REGION).describe_endpoint(EndpointName=endpoint)
        return state.status, state.version, config["EndpointConfigName"]

    first_arrival, second_arrival, third_arrival = ARRIVALS

    # Round 1: every arrived review labeled, a model trained, registered, deployed to SageMaker.
    first, _ = refresh(first_arrival)

    assert first["labeling"]["round"] == "round-0001" and first["labeling"]["items"] == 300
    assert first["decision"]["version"] == 1 and first["decision"]["promoted"]
    assert first["test_set"]["reviews"] == TEST_SET_SIZE
    deployment = first["deployment"]
    assert deployment["deployed"] and (deployment["action"], deployment["endpoint"]) == ("created", endpoint)
    assert deployment["reviews"] == TEST_SET_SIZE
    frozen = json.loads(s3.get_object(Bucket=bucket, Key=f"{PREFIX}/05_model_input/refresh_test_set.json")["Body"].read())
    truth = [item["label"] for item in frozen["items"]]
    assert deployment["agreement"] == pytest.approx(truth.count(ANSWER) / len(truth))
    assert serving()[:2] == ("InService", 1)
    first_round = keys_in(f"{ROUNDS}/round-0001.manifest")
    assert len(set(first_round)) == len(first_round) == 300

    # Round 2: only the new reviews labeled (round-0002 holds exactly them); promoted, redeployed.
    second, log = refresh(second_arrival)

    assert second["new_reviews"]["new_reviews"] == 1200 and second["new_reviews"]["seen_before"] == 300
    second_round = keys_in(f"{ROUNDS}/round-0002.manifest")
    # The round's reviews are this run's input manifest, 1,200 of them, none of round 1's.
    assert second_round == keys_in("03_primary/input.manifest")
    assert len(set(second_round)) == 1200 and not set(second_round) & set(first_round)
    assert second["test_set"]["fingerprint"] == first["test_set"]["fingerprint"]
    gate = second["decision"]["gate"]
    assert second["decision"]["promoted"] and second["decision"]["version"] == 2
    assert gate["p_value"] < 0.05 and gate["candidate_macro_f1"] > gate["champion_macro_f1"]
    assert second["deployment"]["deployed"] and second["deployment"]["action"] == "replaced"
    assert "McNemar p=" in log
    status, version, config = serving()
    assert (status, version) == ("InService", 2)

    # Round 3: only reviews labeled before arrive: no round, no model version, no deployment.
    third, log = refresh(third_arrival)

    assert third["new_reviews"]["new_reviews"] == 0
    assert {key for key in bucket_keys(s3, bucket) if key.startswith(f"{ROUNDS}/")} == {
        f"{ROUNDS}/round-0001.manifest", f"{ROUNDS}/round-0002.manifest"}
    assert not third["deployment"]["deployed"] and not third["decision"]["registered"]
    assert serving() == (status, version, config)
    said = [line for line in log.splitlines() if "Refresh: no new reviews in" in line]
    assert len(said) == 2 and "refresh.summary" in said[0] and "run_summary" in said[1]
    assert said[0].endswith("(1,800 seen before): nothing labeled, trained or deployed")
    with mlflow_store(project / "mlruns.db"):
        registry = mlflow.MlflowClient()
        assert len(registry.search_model_versions(f"name='{MODEL}'")) == 2
        assert int(registry.get_model_version_by_alias(MODEL, "champion").version) == 2

    # Models and summaries went to the bucket's MLflow artifact store; nothing to data/.
    artifacts = [key for key in bucket_keys(s3, bucket) if key.startswith("mlartifacts/")]
    assert sum(key.endswith("refresh_summary.json") for key in artifacts) == 3
    assert files_under(project / "data") == data_before
