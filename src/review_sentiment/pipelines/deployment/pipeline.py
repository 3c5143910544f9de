"""The champion model → a local MLflow scoring server (target local) or a SageMaker endpoint
(target sagemaker, `--env aws`) → a smoke test on a few test reviews."""

from kedro.pipeline import Node, Pipeline

from .nodes import deploy_champion


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=deploy_champion,
                inputs=["model_registration", "test_reviews", "params:deployment"],
                outputs="deployment_smoke_test",
                name="deploy_champion",
            ),
        ]
    )
