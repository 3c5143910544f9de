"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# Run on their own. `kedro run --pipelines refresh` labels only the new reviews of the arrivals
# folder (into the same labeled set as the labeling pipeline) and keeps its own frozen test set;
# `kedro run --pipelines model_search` trains with the larger space (minutes, not seconds) on
# the split the plain run left.
NOT_IN_DEFAULT = ("refresh", "model_search")


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline by name; `__default__` is the plain end-to-end run (all but those above)."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        pipeline for name, pipeline in pipelines.items() if name not in NOT_IN_DEFAULT
    )
    return pipelines
