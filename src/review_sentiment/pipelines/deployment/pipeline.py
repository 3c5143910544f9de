"""The champion model → a local MLflow scoring server → a smoke test on a few test reviews."""

from kedro.pipeline import Node, Pipeline

from .nodes import smoke_test_local_endpoint


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=smoke_test_local_endpoint,
                inputs=["model_registration", "test_reviews", "params:deployment"],
                outputs="deployment_smoke_test",
                name="smoke_test_local_endpoint",
            ),
        ]
    )
