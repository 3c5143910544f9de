"""Typed parameters of every pipeline: Kedro validates `params:` inputs against these before a run."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Workforce settings live beside their workforces; this module gathers them per pipeline.
from review_sentiment.labeling.automated import AutomatedLabelingParams
from review_sentiment.labeling.simulated import SimulatedWorkforceParams
from review_sentiment.labeling.workforces import StarRatingWorkforce

# Ground Truth's rule for LabelAttributeName (CreateLabelingJob API reference).
_LABEL_ATTRIBUTE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}$")


class _Params(BaseModel):
    # A misspelt key in YAML must fail the run, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnMapping(_Params):
    """Which raw column holds each field; the defaults are the Amazon Customer Reviews names."""

    review_id: str = "review_id"
    star_rating: str = "star_rating"
    review_headline: str | None = "review_headline"
    review_body: str = "review_body"
    product_category: str | None = "product_category"


class ExtractionParams(_Params):
    columns: ColumnMapping = ColumnMapping()
    sample_size: int | None = Field(default=None, ge=1)
    seed: int = 42
    labels: list[str] = Field(min_length=2)
    instructions_title: str = "Label the sentiment of each review"

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, labels: list[str]) -> list[str]:
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must be unique, got {labels}")
        return labels


class PeopleWorkforceParams(_Params):
    """People labeling in the local app (`python -m review_sentiment.labeling serve`)."""

    # Labels needed per item before it counts, like Ground Truth's NumberOfHumanWorkersPerDataObject.
    per_item: int = Field(default=1, ge=1)
    consolidation: Literal["dawid_skene", "majority"] = "dawid_skene"


class AutomatedWorkforceParams(AutomatedLabelingParams):
    """Automated labeling, and who the people in its loop are."""

    # "people": the label store (each run uses what was saved, then queues the next batch);
    # "simulated": the simulated annotator, for unattended runs, tests and benchmarks.
    humans: Literal["people", "simulated"] = "people"


class LabelIssuesParams(_Params):
    """Likely label errors (cleanlab, out-of-sample probabilities) written as a review queue."""

    enabled: bool = True
    cv_folds: int = Field(default=5, ge=2)
    seed: int = 42


class LabelingParams(_Params):
    # star_rating: from the stars, no person; people: the labeling app; automated: a model labels
    # what it is confident about, people the rest; simulated: a pretend person (tests, benchmarks).
    workforce: Literal["star_rating", "people", "automated", "simulated"] = "star_rating"
    job_name: str = "review-sentiment"
    label_attribute: str = "sentiment"
    star_rating: StarRatingWorkforce = StarRatingWorkforce()
    people: PeopleWorkforceParams = PeopleWorkforceParams()
    automated: AutomatedWorkforceParams = AutomatedWorkforceParams()
    simulated: SimulatedWorkforceParams = SimulatedWorkforceParams()
    label_issues: LabelIssuesParams = LabelIssuesParams()

    @field_validator("label_attribute")
    @classmethod
    def _ground_truth_name(cls, name: str) -> str:
        if not _LABEL_ATTRIBUTE.match(name) or name.endswith(("-ref", "-metadata")):
            raise ValueError(
                f"label_attribute {name!r} breaks Ground Truth's rule: letters, digits and "
                "hyphens, at most 127 characters, not ending in -ref or -metadata"
            )
        return name


class FeatureParams(_Params):
    multilabel: Literal["reject", "top"] = "reject"
    test_size: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = 42
    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = Field(default=1, ge=1)
    lowercase: bool = True

    @model_validator(mode="after")
    def _ngrams_ordered(self) -> FeatureParams:
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, got {self.ngram_range}")
        return self


class ClassifierParams(_Params):
    """SGDClassifier arguments; the defaults are scikit-learn's, with a fixed seed."""

    loss: str = "hinge"
    penalty: str = "l2"
    alpha: float = Field(default=1e-4, gt=0.0)
    max_iter: int = Field(default=1000, ge=1)
    tol: float | None = 1e-3
    class_weight: Literal["balanced"] | None = None
    random_state: int = 42


class TrainingParams(_Params):
    classifier: ClassifierParams = ClassifierParams()
    registered_model_name: str = "review-sentiment"
    champion_alias: str = "champion"
    input_example_size: int = Field(default=3, ge=1)


class DeploymentParams(_Params):
    model_name: str = "review-sentiment"
    alias: str = "champion"
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    startup_timeout: float = Field(default=180.0, gt=0.0)
    smoke_test_size: int = Field(default=5, ge=1)
