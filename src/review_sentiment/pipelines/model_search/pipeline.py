"""`kedro run --pipelines model_search`: feature_engineering's feature nodes and the training
pipeline itself, with `params:model_search`'s larger space in place of training.search. It needs
only the split a run left (train_reviews, test_reviews), and registers its winner as training
does. No nodes of its own."""

from kedro.pipeline import Pipeline

from review_sentiment.modeling.pipeline import feature_sets_pipeline, training_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        feature_sets_pipeline() + training_pipeline(),
        parameters={"params:training.search": "params:model_search"},
    )
