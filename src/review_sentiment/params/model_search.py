"""Parameters of the model search: named feature sets (`feature_engineering.feature_sets`), named
classifiers with their grids, and which pairs are cross-validated (`training.search`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from review_sentiment.params.base import _Params

# The two feature sets of the original workflow: built from feature_engineering's own
# ngram_range / min_df / lowercase, always in the search, never redefined.
ORIGINAL_FEATURE_SETS = ("bigram", "tfidf")
# The classifier the original workflow fits on them: training.classifier (SGDClassifier).
ORIGINAL_CLASSIFIER = "sgd"


def _ordered(pair: tuple[int, int] | None, name: str) -> tuple[int, int] | None:
    if pair is not None and not 1 <= pair[0] <= pair[1]:
        raise ValueError(f"{name} must be [low, high] with 1 <= low <= high, got {list(pair)}")
    return pair


class FeatureSetSpec(_Params):
    """One way to turn texts into features: word n-grams, char_wb n-grams, or a union of both
    (each part weighted and normalised on its own), then a weighting. The original workflow's
    bigram counts and bigram TF-IDF are two of these (`modeling.features.original_feature_sets`).

    vectorizer: counts (a vocabulary learned from the training texts, pruned by min_df, max_df
    and max_features; learned from a seeded sample of `vocabulary_sample_size` texts when set)
    or hashing (each term hashed into one of `n_features` columns: nothing is learned, so the
    model's size does not grow with the data). Unset, a feature set follows
    `feature_engineering.vectorizer` and `n_features`: one switch bounds every feature set,
    and with hashing its vocabulary pruning does not apply.

    weighting: counts (raw counts), tfidf (TF-IDF, L2-normalised; a column no training text has
    weighs nothing), or nb (counts, or binary with `binary`, scaled per class by the naive-Bayes
    log-count ratio fitted on the training labels, Wang & Manning 2012; the classifier is then
    fitted one-vs-rest).
    """

    word_ngrams: tuple[int, int] | None = (1, 2)
    char_ngrams: tuple[int, int] | None = None
    vectorizer: Literal["counts", "hashing"] | None = None
    weighting: Literal["counts", "tfidf", "nb"] = "tfidf"
    sublinear_tf: bool = False
    binary: bool = False
    # An int is a count of documents, a float a share of them (scikit-learn's rule).
    min_df: int | float = Field(default=1, gt=0)
    max_df: int | float = Field(default=1.0, gt=0)
    max_features: int | None = Field(default=None, ge=1)
    vocabulary_sample_size: int | None = Field(default=None, ge=1)
    n_features: int | None = Field(default=None, ge=2, le=2**31 - 1)
    lowercase: bool = True
    # The naive-Bayes ratio's smoothing (a pseudo-count per feature), for weighting nb.
    nb_alpha: float = Field(default=1.0, gt=0.0)
    # Seeds the vocabulary sample.
    seed: int = 42

    @model_validator(mode="after")
    def _some_ngrams(self) -> FeatureSetSpec:
        _ordered(self.word_ngrams, "word_ngrams")
        _ordered(self.char_ngrams, "char_ngrams")
        if self.word_ngrams is None and self.char_ngrams is None:
            raise ValueError("a feature set needs word_ngrams, char_ngrams or both")
        return self

    @model_validator(mode="after")
    def _hashing_learns_no_vocabulary(self) -> FeatureSetSpec:
        if self.vectorizer == "hashing":
            pruning = [
                name
                for name, unset in (("min_df", 1), ("max_df", 1.0), ("max_features", None),
                                    ("vocabulary_sample_size", None))
                if getattr(self, name) != unset
            ]  # fmt: skip
            if pruning:
                raise ValueError(
                    f"{pruning[0]} prunes a learned vocabulary; vectorizer hashing learns none: "
                    f"remove {pruning[0]} or use vectorizer counts"
                )
        return self


class ClassifierSpec(_Params):
    """A linear classifier: `kind`, fixed scikit-learn arguments (`params`), and a `grid` of
    arguments whose every combination is one candidate (e.g. `{C: [1, 4], class_weight: [null,
    balanced]}`). `calibrated` wraps it in CalibratedClassifierCV (sigmoid, 3 folds) for models
    whose scores must be probabilities (a hinge loss or a linear SVM has none)."""

    kind: Literal["sgd", "logistic_regression", "linear_svm"]
    params: dict[str, Any] = {}
    grid: dict[str, list[Any]] = {}
    calibrated: bool = False

    @field_validator("grid")
    @classmethod
    def _non_empty_lists(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        empty = [name for name, values in grid.items() if not values]
        if empty:
            raise ValueError(f"grid value(s) {', '.join(empty)} list no value to try")
        return grid

    @model_validator(mode="after")
    def _grid_and_params_apart(self) -> ClassifierSpec:
        both = sorted(set(self.params) & set(self.grid))
        if both:
            raise ValueError(f"{', '.join(both)} is in both params and grid: keep it in one")
        return self


class SearchParams(_Params):
    """A space of candidates and how training chooses among them: `training.search` (the default
    run's) and `model_search` (the larger one of `kedro run --pipelines model_search`). The test
    split never reaches it: every score comes from folds of the training split."""

    folds: int = Field(default=5, ge=2)
    # The k folds run this many times, each with its own shuffle: more scores per candidate, so
    # a choice less at the mercy of one split. No default: the two spaces differ.
    repeats: int = Field(ge=1)
    seed: int = 0
    # Folds run in parallel processes (each fits every candidate on its fold): 1 or the cores.
    n_jobs: int = Field(default=2, ge=1)
    # The choice rule: a candidate is within noise of the best (highest mean CV macro-F1) when
    # its shortfall against the best, fold by fold on the same folds, averages at most this
    # many standard errors of that shortfall (paired: the folds' own difficulty cancels out);
    # of those, the one with the fewest coefficients wins (then the higher mean, then the name).
    noise_standard_errors: float = Field(default=1.0, ge=0.0)
    # The cross-validation runs on at most this many training reviews, a stratified sample drawn
    # with `seed` (None: all): the choice costs the same from there on, and the chosen model is
    # then fitted on the whole training split. No default: the two spaces differ.
    max_rows: int | None = Field(ge=100)
    classifiers: dict[str, ClassifierSpec] = {}
    # feature set name → classifier names tried on it. bigram and tfidf with sgd (the original
    # workflow's models, with training.classifier) are always added.
    candidates: dict[str, list[str]] = {}

    @field_validator("classifiers")
    @classmethod
    def _original_name_kept(cls, classifiers: dict[str, ClassifierSpec]) -> dict[str, ClassifierSpec]:
        if ORIGINAL_CLASSIFIER in classifiers:
            raise ValueError(
                f"training.search.classifiers.{ORIGINAL_CLASSIFIER}: the name is the original "
                "workflow's classifier (training.classifier); give this one another name"
            )
        return classifiers

    @model_validator(mode="after")
    def _known_classifiers(self) -> SearchParams:
        known = {ORIGINAL_CLASSIFIER, *self.classifiers}
        for feature_set, names in self.candidates.items():
            unknown = [name for name in names if name not in known]
            if unknown:
                raise ValueError(
                    f"training.search.candidates.{feature_set}: classifier(s) {', '.join(unknown)} "
                    f"not in training.search.classifiers ({', '.join(sorted(known))})"
                )
        return self
