"""Typed parameters of every pipeline: Kedro validates `params:` inputs against these before a run."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class StarRatingWorkforce(_Params):
    """Labels from the star rating: not a person, so human-annotated is "no"."""

    negative: list[int] = [1, 2]
    neutral: list[int] = [3]
    positive: list[int] = [4, 5]
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


class LabelingParams(_Params):
    workforce: Literal["star_rating"] = "star_rating"
    job_name: str = "review-sentiment"
    label_attribute: str = "sentiment"
    star_rating: StarRatingWorkforce = StarRatingWorkforce()

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
