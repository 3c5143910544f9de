"""The champion model → a local MLflow scoring server (target local) or a SageMaker endpoint
(target sagemaker, `--env aws`) → a smoke test on a few test reviews.

Both deployment nodes are always in the pipeline (Kedro has no conditional nodes); the one whose
target is not `deployment.target` returns `{}` at once, and the last node records the other's."""

from kedro.pipeline import Node, Pipeline

from .nodes import deploy_champion_to_sagemaker, record_deployment_smoke_test, smoke_test_local_endpoint


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=smoke_test_local_endpoint,
                inputs=["model_registration", "test_reviews", "params:deployment"],
                outputs="local_smoke_test",
                name="smoke_test_local_endpoint",
            ),
            Node(
                func=deploy_champion_to_sagemaker,
                inputs=["model_registration", "test_reviews", "params:deployment"],
                outputs="sagemaker_smoke_test",
                name="deploy_champion_to_sagemaker",
            ),
            Node(
                func=record_deployment_smoke_test,
                inputs=["local_smoke_test", "sagemaker_smoke_test", "params:deployment"],
                outputs="deployment_smoke_test",
                name="record_deployment_smoke_test",
            ),
        ]
    )
