"""The original workflow's two models (SGD on bigram counts and on bigram TF-IDF) fitted and
scored on both splits; every candidate of `training.search` cross-validated on the training
split, the winner by the search's rule fitted and scored once on the test split; then registered,
and promoted only if it beats the champion on the test split. The steps are
`modeling.pipeline`'s, which `model_search` and the refresh run too."""

from kedro.pipeline import Pipeline

from review_sentiment.modeling.pipeline import training_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline()
