"""Typed parameters of every pipeline: Kedro validates `params:` inputs against these before a
run. Imports no capability module (reading parameters loads neither MLflow nor scikit-learn)."""

from review_sentiment.params.aws import (
    PUBLIC_CROWD_ACCOUNT,
    GroundTruthParams,
    GroundTruthStoppingParams,
    SageMakerDeploymentParams,
)
from review_sentiment.params.labeling import (
    GROUND_TRUTH_MIN_ITEMS,
    AutomatedLabelingParams,
    AutomatedWorkforceParams,
    LabelingParams,
    LabelIssuesParams,
    PeopleWorkforceParams,
    SimulatedWorkforceParams,
    StarRatingParams,
)
from review_sentiment.params.pipelines import (
    ClassifierParams,
    ColumnMapping,
    DeploymentParams,
    ExtractionParams,
    FeatureParams,
    TrainingParams,
)

__all__ = [
    "AutomatedLabelingParams",
    "AutomatedWorkforceParams",
    "ClassifierParams",
    "ColumnMapping",
    "DeploymentParams",
    "ExtractionParams",
    "FeatureParams",
    "GROUND_TRUTH_MIN_ITEMS",
    "GroundTruthParams",
    "GroundTruthStoppingParams",
    "LabelIssuesParams",
    "LabelingParams",
    "PUBLIC_CROWD_ACCOUNT",
    "PeopleWorkforceParams",
    "SageMakerDeploymentParams",
    "SimulatedWorkforceParams",
    "StarRatingParams",
    "TrainingParams",
]
