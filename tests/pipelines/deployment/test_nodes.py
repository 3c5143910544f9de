"""The deployment nodes with target sagemaker against moto's SageMaker on 127.0.0.1 and a real
model in a temporary registry (fixtures from tests/aws/test_sagemaker.py); the local target's
server is covered by tests/serving and tests/test_end_to_end.py."""

from __future__ import annotations

import pandas as pd
import pytest

from review_sentiment.params import DeploymentParams
from review_sentiment.pipelines.deployment.nodes import deploy_champion
from review_sentiment.serving import ServerStartError
from tests.aws.test_sagemaker import aws, champion, experiment_id, fake_clock, queue_answers  # noqa: F401



@pytest.fixture
def test_reviews(request) -> pd.DataFrame:
    """Texts of the test's own: moto answers a request body it has seen as it did then."""
    texts = ["Great value", "Broke in a week", "It is fine"]
    return pd.DataFrame(
        {"text": [f"{text} ({request.node.name})" for text in texts], "label": ["positive", "negative", "neutral"]}
    )


@pytest.fixture
def params(aws, champion) -> DeploymentParams:
    name, _ = champion
    return DeploymentParams(target="sagemaker", model_name=name, sagemaker=aws, smoke_test_size=2)


def test_sagemaker_target_deploys_the_champion_and_records_its_answers(params, test_reviews, moto_url):
    queue_answers(moto_url, ["positive", "neutral"])

    result = deploy_champion({"champion_version": 1}, test_reviews, params)

    assert result["action"] == "created"
    assert result["endpoint"] == params.sagemaker.endpoint_name
    assert (result["version"], result["registered_version"]) == (1, 1)
    assert result["model_uri"] == f"models:/{params.model_name}/1"
    assert result["region"] == "us-east-1"
    assert result["predictions"] == ["positive", "neutral"]
    assert result["expected"] == ["positive", "negative"]
    assert (result["reviews"], result["agreement"]) == (2, 0.5)


def test_the_smoke_test_warns_when_the_served_model_answers_near_chance(
    params, test_reviews, moto_url, caplog
):
    three = params.model_copy(update={"smoke_test_size": 3})
    queue_answers(moto_url, ["positive", "positive", "positive"])

    with caplog.at_level("WARNING"):
        result = deploy_champion({"champion_version": 1}, test_reviews, three)

    assert result["macro_f1"] < result["chance_macro_f1"] + 0.05
    assert any("near chance" in problem for problem in result["warnings"])
    assert any("never predicts 'negative', 'neutral'" in problem for problem in result["warnings"])
    assert "The served model is near chance: macro-F1 0.167" in caplog.text


def test_the_smoke_test_is_quiet_when_the_served_model_gets_every_class(params, test_reviews, moto_url):
    three = params.model_copy(update={"smoke_test_size": 3})
    queue_answers(moto_url, ["positive", "negative", "neutral"])

    result = deploy_champion({"champion_version": 1}, test_reviews, three)

    assert (result["macro_f1"], result["warnings"]) == (1.0, [])


def test_second_run_leaves_the_endpoint_unchanged(params, test_reviews, moto_url):
    # One answer: moto repeats it for the same request.
    queue_answers(moto_url, ["positive", "negative"])
    deploy_champion({}, test_reviews, params)

    result = deploy_champion({}, test_reviews, params)

    assert (result["action"], result["changes"], result["agreement"]) == ("unchanged", [], 1.0)


def test_local_target_serves_locally_and_makes_no_aws_call(test_reviews, tmp_path, monkeypatch):
    # No credentials and an unreachable AWS API: an AWS call would fail with an AWS error. The
    # model does not exist, so the local scoring server is what fails, naming the model.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    params = DeploymentParams(model_name="no-such-model", startup_timeout=60)

    with pytest.raises(ServerStartError, match="no-such-model"):
        deploy_champion({}, test_reviews, params)
