"""Typed parameters of every pipeline: Kedro validates `params:` inputs against these before a
run. Their defaults are conf/base's values (conf/README.md, "Parameters: one source of defaults").
Imports no capability module (reading parameters loads neither MLflow nor scikit-learn)."""

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
from review_sentiment.params.model_search import ClassifierSpec, FeatureSetSpec, SearchParams
from review_sentiment.params.pipelines import (
    ChampionGateParams,
    ClassifierParams,
    ColumnMapping,
    DeploymentParams,
    ExtractionParams,
    FeatureParams,
    FrozenTestSetParams,
    RefreshParams,
    TrainingParams,
)

__all__ = [
    "AutomatedLabelingParams",
    "AutomatedWorkforceParams",
    "ChampionGateParams",
    "ClassifierParams",
    "ClassifierSpec",
    "ColumnMapping",
    "DeploymentParams",
    "ExtractionParams",
    "FeatureParams",
    "FeatureSetSpec",
    "FrozenTestSetParams",
    "GROUND_TRUTH_MIN_ITEMS",
    "GroundTruthParams",
    "GroundTruthStoppingParams",
    "LabelIssuesParams",
    "LabelingParams",
    "PUBLIC_CROWD_ACCOUNT",
    "PeopleWorkforceParams",
    "RefreshParams",
    "SearchParams",
    "SageMakerDeploymentParams",
    "SimulatedWorkforceParams",
    "StarRatingParams",
    "TrainingParams",
]
