"""Automated data labeling as Ground Truth does it: people label a sample, a calibrated model labels
what it is confident about, and the items it is least sure of go to people next.

Every step is visible and set in `AutomatedLabelingParams`: one plain-dict record per iteration
says how many labels people had given, which confidence threshold was chosen and how accurate it
was on validation, how many items the machine labeled and how many remain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count

from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.ground_truth.records import Label
from review_sentiment.labeling.automated.model import build_labeling_model
from review_sentiment.labeling.automated.state import LoopState
from review_sentiment.labeling.workforces import LabelingError, Workforce
from review_sentiment.params import GROUND_TRUTH_MIN_ITEMS, AutomatedLabelingParams

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AutomatedResult:
    """One label per item (`None`: unlabeled), one plain-dict record per iteration, why nothing
    was machine-labeled (`reason`, None when something was) and why the loop stopped.

    Each record: `iteration`; `human_labels` people had given when its model was trained
    (`human_sent`: items sent, answered or not); `train_labels` it was trained on;
    `validation_size` validation labels it was judged on; `threshold`, `validation_accuracy`
    and `validation_items_above_threshold` (None, None, 0 when no threshold met the target);
    `validation_lower_bound` that cleared the target, with `bound`, `bound_z` and
    `bound_confidence` (method and level); `best_validation_accuracy` any threshold reached so
    far; `consensus_accuracy` (mean Dawid-Skene posterior of the validation consensus) and
    `annotator_accuracy` (None where people answer once); `human_answers` (every answer, not
    items), `answers_per_machine_label` and `answers_vs_three_each` (against 3 x items);
    `machine_labels` given in the iteration, `machine_total` so far; `remaining` unlabeled
    items after them.

    When asking people cannot lead to machine labels (the validation consensus is less sure
    than the target, or `give_up_after` iterations gave none) the loop stops: `stopped` is
    "cannot work: " + `reason`, one line with the numbers and what to change.
    """

    labels: list[Label | None]
    iterations: list[dict]
    reason: str | None
    stopped: str
    human_sent: int  # items sent to people, whether or not they answered

    @property
    def human_labeled(self) -> int:
        return sum(label is not None and label.human_annotated for label in self.labels)

    @property
    def machine_labeled(self) -> int:
        return sum(label is not None and not label.human_annotated for label in self.labels)

    @property
    def unlabeled(self) -> int:
        return sum(label is None for label in self.labels)


def run_automated_labeling(
    items: list[dict],
    classes: list[str],
    humans: Workforce,
    params: AutomatedLabelingParams,
    *,
    known: Sequence[Label | None] | None = None,
    make_model: Callable[[AutomatedLabelingParams], SklearnPipeline] = build_labeling_model,
) -> AutomatedResult:
    """Labels `items` (input-manifest lines with a `source` text) with people and a model.

    People label a random initial batch, split stratified into train and validation. Each
    iteration then:

    1. trains a fresh model on people's training labels only (machine labels never train the
       next model, as in Ground Truth);
    2. picks the threshold with `choose_threshold` on people's validation labels (those not
       retired, see `retire_validation`);
    3. machine-labels the unlabeled items at or above it, with the model's probability as
       confidence;
    4. sends the next `batch_size` items to people: the least confident (uncertainty
       sampling), with a `validation_fraction` share drawn at random for validation (see
       `random_validation`).

    Validation items get `validation_answers` answers where the workforce can give several
    (an `answers(items, classes, n)` method); their Dawid-Skene consensus is their label and the
    machine is judged by the consensus posterior of its prediction, released only when the
    lower confidence bound (`threshold_bound`, `threshold_z`) clears the target.

    It stops when every item is labeled, at `max_human_labels` or `max_iterations` (the rest stay
    None), when it cannot work (see AutomatedResult), when everything left has already been
    sent to people, or when people answered none
    of the last batch (they label at their own pace: the next run goes on from their answers).
    Items people return None for are not sent again; the model may still label them.

    With fewer than `min_items` items nothing is machine-labeled: items go to people, in random
    order, up to `max_human_labels`, and `reason` says why.

    Labels given before (`known`, e.g. by an earlier run or on the labeling page beyond its
    queue) are where the loop starts: people's count as answers already in (train or
    validation, split like the initial batch), machine labels stay as they are and are never
    asked again. The random initial batch only makes up what people's labels lack of
    `initial_batch`. The same items, known labels and answers always give the same result.

    Args:
        known: one label or None per item; None (default) means nothing is labeled yet.
        make_model: builds the unfitted text model of one iteration (fit on texts, then
            `predict_proba`); the default is `build_labeling_model`.

    Raises:
        LabelingError: an item has no text, or people answer with a class not in `classes`.
    """
    classes = list(classes)
    texts = _texts(items)
    loop = LoopState(items, texts, classes, humans, params, make_model, known=known)
    n = len(items)

    if n < params.min_items:
        loop.start(loop.unlabeled_in_random_order()[: loop.budget_left()])
        loop.record(iteration=1, threshold=None, machine=0, validation_size=0)
        reason = (
            f"{n} items is fewer than min_items={params.min_items} (Ground Truth's automated "
            f"labeling needs at least {GROUND_TRUTH_MIN_ITEMS}): nothing machine-labeled, "
            f"{loop.sent} items sent to people"
        )
        logger.info("Automated labeling skipped: %s", reason)
        return _result(loop, reason, stopped="below min_items: people only")

    shortfall = max(0, params.initial_batch_size(n) - loop.human_count())
    loop.start(loop.unlabeled_in_random_order()[: min(shortfall, loop.budget_left())])
    for iteration in count(1):
        stopped = loop.iterate(iteration)  # says when max_iterations is reached
        if stopped:
            break
    reason = None
    if loop.machine_total == 0:
        reason = loop.why_no_machine_labels()
        logger.info("Automated labeling machine-labeled nothing: %s", reason)
    return _result(loop, reason, stopped)


def _result(loop: LoopState, reason: str | None, stopped: str) -> AutomatedResult:
    return AutomatedResult(
        labels=list(loop.labels),
        iterations=list(loop.records),
        reason=reason,
        stopped=stopped,
        human_sent=loop.sent,
    )


def _texts(items: list[dict]) -> list[str]:
    texts = []
    for line, item in enumerate(items, start=1):
        source = item.get("source")
        if not isinstance(source, str) or not source.strip():
            raise LabelingError(f"line {line} of the input manifest: field 'source' is empty")
        texts.append(source)
    return texts
