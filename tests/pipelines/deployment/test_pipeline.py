"""The deployment pipeline with target sagemaker, run as Kedro runs it, against moto."""

from __future__ import annotations

from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from review_sentiment.params import DeploymentParams
from review_sentiment.pipelines import deployment
from tests.aws.test_sagemaker import aws, champion, experiment_id, fake_clock, queue_answers  # noqa: F401
from tests.pipelines.deployment.test_nodes import test_reviews  # noqa: F401


def test_sagemaker_target_records_the_endpoints_smoke_test(aws, champion, test_reviews, moto_url):
    name, _ = champion
    params = DeploymentParams(target="sagemaker", model_name=name, sagemaker=aws, smoke_test_size=3)
    catalog = DataCatalog(
        {
            "model_registration": MemoryDataset({"champion_version": 1}),
            "test_reviews": MemoryDataset(test_reviews),
            "params:deployment": MemoryDataset(params),
        }
    )
    queue_answers(moto_url, ["positive", "negative", "neutral"])

    SequentialRunner().run(deployment.create_pipeline(), catalog)

    smoke = catalog.load("deployment_smoke_test")
    assert (smoke["action"], smoke["endpoint"], smoke["version"]) == ("created", aws.endpoint_name, 1)
    assert smoke["agreement"] == 1.0
