"""Parameters of the labeling pipeline: which workforce labels, and each workforce's settings."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from review_sentiment.params.aws import GroundTruthParams
from review_sentiment.params.base import _Params

# Ground Truth's rule for LabelAttributeName (CreateLabelingJob API reference).
_LABEL_ATTRIBUTE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}$")


class StarRatingParams(_Params):
    """The project's one star → class mapping (1-2 negative, 3 neutral, 4-5 positive by default),
    used by the star_rating workforce and by the simulated annotator's truth."""

    negative: list[int] = [1, 2]
    neutral: list[int] = [3]
    positive: list[int] = [4, 5]
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _each_star_once(self) -> StarRatingParams:
        self.classes_by_star()
        return self

    def classes_by_star(self) -> dict[int, str]:
        """`{star: class name}`; `ValueError` if a star is mapped to two classes."""
        by_star: dict[int, str] = {}
        for class_name in ("negative", "neutral", "positive"):
            for star in getattr(self, class_name):
                if star in by_star:
                    raise ValueError(
                        f"star {star} is mapped to both {by_star[star]} and {class_name}"
                    )
                by_star[star] = class_name
        return by_star


class SimulatedWorkforceParams(_Params):
    """Where the simulated annotators find the truth, how often and how they are wrong, and the
    seed. A pool of `annotators` pretend people: their error rates average `error_rate` and
    spread by `annotator_spread` (some are worse than others); a wrong answer goes to a
    neighbouring class in star order (negative-neutral-positive) with probability
    `neighbour_bias`, as people confuse neutral with either side far more than positive with
    negative. `error_rate: 0` means every answer is right."""

    # A star rating (mapped with labeling.star_rating, like the star_rating workforce) or a
    # class name.
    field: str = "star_rating"
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # Annotators in the pool; each item's answers come from distinct annotators.
    annotators: int = Field(default=5, ge=1)
    # Annotator k's error rate is error_rate x (1 - spread ... 1 + spread), evenly spaced, capped
    # at 1: with 0.5 and error 0.1 the pool runs from 5% to 15% wrong.
    annotator_spread: float = Field(default=0.5, ge=0.0, le=1.0)
    # Share of a positive or negative item's wrong answers that are neutral (the neighbour); the
    # rest go to the far class. 1/(classes - 1) is uniform.
    neighbour_bias: float = Field(default=0.8, ge=0.0, le=1.0)
    seed: int = 0


# Ground Truth will not start automated labeling on fewer objects than this.
GROUND_TRUTH_MIN_ITEMS = 1250


class AutomatedLabelingParams(_Params):
    """How the labeling loop runs. The defaults follow Ground Truth where it documents one
    (95% target, 1,250 items); the rest were measured on 14,000 Amazon reviews with
    bench/labeling_efficiency.py (never on the holdout sets)."""

    # Accuracy the machine labels must reach on validation (Ground Truth's default is 95%).
    target_accuracy: float = Field(default=0.95, gt=0.0, le=1.0)
    # With fewer items nothing is machine-labeled: all go to people.
    min_items: int = Field(default=GROUND_TRUTH_MIN_ITEMS, ge=1)
    # Random first batch for people: a fraction (0 < x < 1) or a whole count (>= 1). Small is
    # better: random items are mostly easy ones the machine could label, while the least
    # confident ones people get next are needed anyway. On the bench 5% beat 10% (75% vs 71%
    # machine-labeled, every seed at >= 95% accuracy); 3% labeled 77% but missed 95% once.
    initial_batch: int | float = 0.05
    # Items sent to people per iteration, least confident first.
    batch_size: int = Field(default=500, ge=1)
    # Share of each batch of people's labels kept for choosing the threshold, never for training.
    validation_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    # A threshold is only chosen from at least this many validation items at or above it. At
    # 95% the standard error of an accuracy measured on 500 items is 1 point; taking the lowest
    # threshold that passes favours lucky samples: on the bench (10% initial batch) the machine
    # labels were 0.941-0.965 accurate over 5 seeds with 100 items, 0.954-0.967 with 500.
    # Small jobs therefore get machine labels only once people have labeled enough validation
    # items, if ever.
    min_validation_items: int = Field(default=500, ge=1)
    # Machine labels are released only when a lower confidence bound on their validation
    # accuracy clears the target: `threshold_bound` is the method, `threshold_z` its level in
    # standard errors (one-sided confidence Φ(z): 1.0 is 84%, 1.645 is 95%); 0 compares the
    # point estimate, which is no guarantee at all (on the bench it missed 0.95 on 2 of 10 seeds).
    # A margin buys accuracy with machine-labeled share: on the bench with TF-IDF features at
    # error 0, 0.5 labeled 76.8% at 0.960 (seeds 0-4) and 1.0 labeled 76.0% at 0.963 (10 seeds);
    # at error 0.1 1.0 still labels two thirds. On a few dozen validation items (small jobs)
    # no margin can pass: set 0 there knowingly, never by default.
    threshold_z: float = Field(default=1.0, ge=0.0)
    threshold_bound: Literal["wilson", "clopper_pearson"] = "wilson"
    # Answers per validation item, consolidated with Dawid-Skene; the machine's accuracy is the
    # mean consensus posterior of its predicted class. Training items get `train_answers`.
    # The split: the threshold is a measurement, where one noisy answer caps the measured
    # accuracy at the annotators' own (90% at error 0.1: no threshold could ever pass 95%),
    # while the model averages label noise over thousands of items and loses little ranking;
    # validation is a fifth of the items, so 3 + 1 costs 1.4 answers per item people label.
    # Only workforces that can give several answers (`answers(items, classes, n)`) are asked
    # more than once; people in the labeling app are, through the labeling queue (an item
    # wanting n answers is handed to n different people), and a run uses what is in so far.
    validation_answers: int = Field(default=3, ge=1)
    train_answers: int = Field(default=1, ge=1)
    # Stop asking people when nothing has been machine-labeled after this many iterations, or
    # earlier when the validation consensus itself is less accurate than the target; the
    # reason says so with the numbers.
    give_up_after: int = Field(default=10, ge=1)
    # Validation items at or above an iteration's threshold stand for items the machine has
    # just labeled; retiring them keeps later thresholds judged on items like those still
    # unlabeled (the hard rest). Without it the easy ones inflate later accuracies: on the
    # bench later iterations' machine labels were mostly 0.82-0.91 accurate against 0.95.
    retire_validation: bool = True
    # Later batches: the validation share is drawn at random from the unlabeled items (so
    # validation stays a sample of what is left) and only the rest are the least confident.
    # False: every batch is least-confident items, split stratified like the first.
    random_validation: bool = True
    # Items sent to people in all (initial batch included); None: no limit.
    max_human_labels: int | None = Field(default=None, ge=1)
    max_iterations: int = Field(default=20, ge=1)
    # SGD (hinge) ranks too poorly on a thousand labels: its most confident validation items
    # were 88% right, and it machine-labeled nothing until people had labeled 8,400 reviews.
    classifier: Literal["sgd", "logistic_regression"] = "logistic_regression"
    # Word uni- and bigrams as sublinear TF-IDF ("tfidf") or raw counts ("counts", the loop before
    # issue 9). On the bench at error 0 (10 seeds, threshold_z 1.0) TF-IDF machine-labeled 76.0%
    # at 0.963 mean accuracy, where counts labeled 75.0% at 0.957 with no margin at all
    # (bench/results/labeling_efficiency.json), and fits in half the time.
    features: Literal["tfidf", "counts"] = "tfidf"
    # Isotonic ranked slightly better than sigmoid on the bench (more items above 95%).
    calibration: Literal["sigmoid", "isotonic"] = "isotonic"
    calibration_cv: int = Field(default=3, ge=2)
    seed: int = 42

    @field_validator("initial_batch")
    @classmethod
    def _fraction_or_count(cls, value: int | float) -> int | float:
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ValueError(
                f"initial_batch {value!r}: a fraction must be between 0 and 1 (exclusive); "
                "write a whole number such as 500 for a count"
            )
        if isinstance(value, int) and value < 1:
            raise ValueError(f"initial_batch {value!r}: a count must be at least 1")
        return value

    def initial_batch_size(self, n_items: int) -> int:
        """Items in the random first batch for `n_items` items (at least one)."""
        if isinstance(self.initial_batch, float):
            return min(n_items, max(1, round(self.initial_batch * n_items)))
        return min(n_items, self.initial_batch)


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
    """Likely label errors (cleanlab, out-of-sample probabilities) written as a review queue.
    The measured reasons for the defaults are in conf/base/parameters_labeling.yml."""

    enabled: bool = True
    cv_folds: int = Field(default=3, ge=2)
    seed: int = 42
    # Labels each fold's model learns from, a stratified sample (None: all of them).
    max_train_rows: int | None = Field(default=200_000, ge=1_000)
    # Hashed feature columns: bounds the models' memory whatever the vocabulary.
    n_features: int = Field(default=2**20, ge=2**10, le=2**24)
    epochs: int = Field(default=5, ge=1)


class LabelingParams(_Params):
    # star_rating: from the stars, no person; people: the labeling app; automated: a model labels
    # what it is confident about, people the rest; simulated: a pretend person (tests, benchmarks);
    # ground_truth: a SageMaker Ground Truth labeling job (review_sentiment.aws.ground_truth).
    workforce: Literal["star_rating", "people", "automated", "simulated", "ground_truth"] = "star_rating"
    job_name: str = "review-sentiment"
    label_attribute: str = "sentiment"
    star_rating: StarRatingParams = StarRatingParams()
    people: PeopleWorkforceParams = PeopleWorkforceParams()
    automated: AutomatedWorkforceParams = AutomatedWorkforceParams()
    simulated: SimulatedWorkforceParams = SimulatedWorkforceParams()
    ground_truth: GroundTruthParams = GroundTruthParams()
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
