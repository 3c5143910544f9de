"""The project's training pipeline run in-process on a table of reviews, for the benches that
measure what it chooses: feature_engineering's feature nodes and the training nodes up to the
chosen model (nothing logged or registered), with the search space given."""

from __future__ import annotations

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from review_sentiment.params import FeatureParams, SearchParams, TrainingParams
from review_sentiment.modeling.pipeline import feature_sets_pipeline, model_pipeline


def shipped_parameters(project) -> tuple[FeatureParams, TrainingParams, SearchParams]:
    """feature_engineering, training and model_search parameters as `kedro run` reads them."""
    from kedro.config import OmegaConfigLoader

    loader = OmegaConfigLoader(str(project / "conf"), base_env="base", default_run_env="base")
    parameters = loader["parameters"]
    return (
        FeatureParams(**parameters["feature_engineering"]),
        TrainingParams(**parameters["training"]),
        SearchParams(**parameters["model_search"]),
    )


class _Kept(MemoryDataset):
    def _release(self) -> None:  # the runner would drop what no later node needs
        pass


def train(
    train_reviews: pd.DataFrame,
    features: FeatureParams,
    training: TrainingParams,
    search: SearchParams,
    *,
    outputs: tuple[str, ...] = ("best_model", "model_selection", "model_search"),
    test_reviews: pd.DataFrame | None = None,
) -> dict[str, object]:
    """The pipeline's `outputs` for these training reviews (the test split, which nothing before
    the chosen model reads, defaults to a few training rows)."""
    pipeline = (feature_sets_pipeline() + model_pipeline()).to_outputs(*outputs)
    inputs = {
        "train_reviews": train_reviews,
        "test_reviews": train_reviews.head(10) if test_reviews is None else test_reviews,
        "params:feature_engineering": features,
        "params:training": training,
        "params:training.classifier": training.classifier,
        "params:training.search": search,
    }
    catalog = DataCatalog(
        {
            **{name: MemoryDataset(inputs[name], copy_mode="assign") for name in pipeline.inputs()},
            **{name: _Kept(copy_mode="assign") for name in pipeline.all_outputs()},
        }
    )
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in outputs}
