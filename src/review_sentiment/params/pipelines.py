"""Parameters of data_extraction, feature_engineering, training and deployment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

# The format's rule for label categories; a plain function, no heavy imports.
from review_sentiment.ground_truth.categories import check_classes
from review_sentiment.params.aws import SageMakerDeploymentParams
from review_sentiment.params.base import _Params
from review_sentiment.params.model_search import FeatureSetSpec, SearchParams


# The separators `data_extraction.separator` takes by name: `kedro run --params` splits its
# argument on commas, so `--params data_extraction.separator=comma` is how to pass ",".
SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
# data_extraction.engine auto: the raw file size (MB as stored, compressed or not) from which Spark
# extracts instead of pandas (bench/results/extraction.json; parameters_data_extraction.yml).
SPARK_FROM_MB = 75.0


class ColumnMapping(_Params):
    """Which raw column holds each field (null: the file has none). A field left out is taken
    from the layout recognised in the header, else it is the Amazon Customer Reviews name."""

    # null: reviews are keyed by their text's SHA-1 (ground_truth.records.item_key).
    review_id: str | None = "review_id"
    star_rating: str = "star_rating"
    review_headline: str | None = "review_headline"
    review_body: str = "review_body"
    product_category: str | None = "product_category"


class ExtractionParams(_Params):
    # auto: recognised from the header (pipelines/data_extraction/schemas.py); or a mapping.
    columns: Literal["auto"] | ColumnMapping = "auto"
    # auto: from the file name (.tsv tab, .csv comma, compressed or not), else from the header;
    # or tab, comma, semicolon, pipe, or the character itself ("\t" and '\t' both mean tab).
    separator: str = "auto"
    sample_size: int | None = Field(default=None, ge=1)
    seed: int = 42
    labels: list[str]
    instructions_title: str = "Label the sentiment of each review"
    # A text longer than Ground Truth takes (20,000 characters per attribute): leave the
    # review out (skip), or keep its beginning (truncate). Why skip is the default:
    # parameters_data_extraction.yml.
    too_long: Literal["skip", "truncate"] = "skip"
    # Which engine extracts: pandas (the file read into this process), spark (the project's
    # session, conf/*/spark.yml), or auto: spark for a raw file of `spark_from_mb` or more as
    # stored, or when the session is a cluster's (--env cluster); else pandas.
    engine: Literal["auto", "pandas", "spark"] = "auto"
    spark_from_mb: float = Field(default=SPARK_FROM_MB, gt=0)

    @field_validator("labels")
    @classmethod
    def _two_or_more_distinct(cls, labels: list[str]) -> list[str]:
        return check_classes(labels)

    @field_validator("separator")
    @classmethod
    def _one_character_or_a_name(cls, separator: str) -> str:
        """The separator as its character (or `auto`)."""
        named = SEPARATORS.get(separator.strip().lower())
        if named or separator == "auto":
            return named or separator
        if separator == "\\t":
            return "\t"
        if len(separator) == 1 and not separator.isalnum() and separator not in "\"\r\n":
            return separator
        raise ValueError(
            f"separator {separator!r} is not one of auto, {', '.join(SEPARATORS)} or a single "
            "character that is not a letter, digit, quote or line break"
        )


class FeatureParams(_Params):
    multilabel: Literal["reject", "top"] = "reject"
    # The label attribute to read when output lines carry several; None: each line's only one.
    label_attribute: str | None = None
    # A line that breaks the format stops the run (raise), or is set aside in
    # manifest_quarantine with its reason and counted while the rest goes on (quarantine).
    on_bad_line: Literal["raise", "quarantine"] = "raise"
    test_size: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = 42
    ngram_range: tuple[int, int] = (1, 2)
    # How terms become columns (the measured reason for the default: parameters_feature_engineering.yml):
    # hashing: each term hashed into one of n_features columns (HashingVectorizer, stateless: no
    # vocabulary, so memory and the served model's size do not grow with the data); counts: a
    # vocabulary learned from the training texts (CountVectorizer), pruned by min_df and max_features.
    vectorizer: Literal["counts", "hashing"] = "counts"
    min_df: int = Field(default=1, ge=1)
    # None: every term seen min_df times; else the max_features most frequent of them.
    max_features: int | None = Field(default=None, ge=1)
    # counts: the vocabulary is learned from this many training texts (a seeded sample) and
    # then counted in all of them, so the vocabulary built before pruning stays bounded; None: all.
    vocabulary_sample_size: int | None = Field(default=None, ge=1)
    n_features: int = Field(default=2**20, ge=2, le=2**31 - 1)
    lowercase: bool = True
    # More feature sets by name, for the candidates of training.search and model_search
    # (params/model_search.py).
    feature_sets: dict[str, FeatureSetSpec] = {}

    @model_validator(mode="after")
    def _ngrams_ordered(self) -> FeatureParams:
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, got {self.ngram_range}")
        return self

    @model_validator(mode="after")
    def _options_of_the_chosen_vectorizer(self) -> FeatureParams:
        """A setting the chosen vectorizer would ignore is refused: it would look applied."""
        ignored = {
            "counts": ["n_features"],
            "hashing": ["min_df", "max_features", "vocabulary_sample_size"],
        }[self.vectorizer]
        given = [name for name in ignored if name in self.model_fields_set]
        if self.vectorizer == "hashing" and "min_df" in given and self.min_df == 1:
            given.remove("min_df")  # min_df: 1 prunes nothing, as with hashing
        if given:
            other = "hashing" if self.vectorizer == "counts" else "counts"
            raise ValueError(
                f"feature_engineering.{given[0]} ({getattr(self, given[0])}) applies to "
                f"vectorizer: {other} only, and vectorizer is {self.vectorizer}: remove "
                f"{given[0]} or set vectorizer: {other}"
            )
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
    # The served model refuses empty or blank texts (HTTP 400) unless this is true.
    allow_empty_texts: bool = False
    # The candidates training chooses from (params/model_search.py); the original two only unless
    # the YAML declares more.
    search: SearchParams = SearchParams(repeats=1, max_rows=20_000)


class DeploymentParams(_Params):
    # local: MLflow's scoring server on this machine, for the smoke test only;
    # sagemaker: a SageMaker endpoint (conf/aws), kept running.
    target: Literal["local", "sagemaker"] = "local"
    sagemaker: SageMakerDeploymentParams = SageMakerDeploymentParams()
    # What training registers and promotes: the YAML interpolates training's two settings, and
    # these defaults are training's, so neither can name a model training never registered.
    model_name: str = TrainingParams.model_fields["registered_model_name"].default
    alias: str = TrainingParams.model_fields["champion_alias"].default
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    startup_timeout: float = Field(default=180.0, gt=0.0)
    # Test reviews sent to the endpoint in one request after deploying; it warns when the
    # answers are near chance or miss a class (scoring.weaknesses), which needs enough reviews
    # of every class to mean anything: 5 reviews of one class would always look near chance.
    smoke_test_size: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _sagemaker_needs_a_role(self) -> DeploymentParams:
        if self.target == "sagemaker" and not self.sagemaker.execution_role_arn:
            raise ValueError(
                "deployment.sagemaker.execution_role_arn is required for target sagemaker: the IAM "
                "role SageMaker assumes to pull the image and read the model "
                "(arn:aws:iam::<account>:role/<name>, see docs/sagemaker.md)"
            )
        return self


class FrozenTestSetParams(_Params):
    """How the refresh's one yardstick is drawn, the first time or when rotated on purpose."""

    # Share of the trusted labels drawn into it, stratified by label.
    size: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = 42
    # Labels trusted as the truth: `human` (human-annotated yes: people, Ground Truth's workers,
    # the simulated people) and `star_rating` (the reviewers' own stars). A model's own labels
    # (the automated workforce's machine labels) never are.
    trusted: list[Literal["human", "star_rating"]] = ["human", "star_rating"]

    @field_validator("trusted")
    @classmethod
    def _at_least_one(cls, trusted: list[str]) -> list[str]:
        if not trusted:
            raise ValueError("refresh.test_set.trusted needs human, star_rating or both")
        return trusted


class ChampionGateParams(_Params):
    # McNemar's one-sided exact test on the frozen test set: promote only below this p-value.
    significance: float = Field(default=0.05, gt=0.0, le=1.0)
    # Keep the champion if any class's recall on the frozen test set drops by more than this.
    max_recall_drop: float = Field(default=0.05, ge=0.0, le=1.0)


class RefreshParams(_Params):
    # true draws the frozen test set again from the labels so far (for one run: --params).
    rotate_test_set: bool = False
    test_set: FrozenTestSetParams = FrozenTestSetParams()
    gate: ChampionGateParams = ChampionGateParams()
