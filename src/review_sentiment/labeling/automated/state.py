"""The state of one automated-labeling run: who labeled which item, which of people's labels are
for validation, and one iteration of train → threshold → machine-label → next batch."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.pipeline import Pipeline as SklearnPipeline

from review_sentiment.ground_truth.records import Label
from review_sentiment.labeling.automated.answers import Answers
from review_sentiment.labeling.automated.model import build_labeling_model, predict_confident
from review_sentiment.labeling.automated.report import cannot_work, iteration_record
from review_sentiment.labeling.automated.threshold import Threshold, best_accuracy, choose_threshold
from review_sentiment.labeling.workforces import LabelingError, Workforce
from review_sentiment.params import AutomatedLabelingParams

logger = logging.getLogger(__name__)

# States of an item in the loop.
_UNLABELED, _HUMAN, _MACHINE, _DECLINED = 0, 1, 2, 3


class LoopState:
    """The state of one run: who labeled what, which people's labels are for validation."""

    def __init__(
        self,
        items: list[dict],
        texts: list[str],
        classes: list[str],
        humans: Workforce,
        params: AutomatedLabelingParams,
        make_model: Callable[[AutomatedLabelingParams], SklearnPipeline] = build_labeling_model,
        *,
        known: Sequence[Label | None] | None = None,
    ) -> None:
        self.items, self.texts, self.classes = items, np.asarray(texts, dtype=object), classes
        self.humans, self.params, self.make_model = humans, params, make_model
        n = len(items)
        self.labels: list[Label | None] = [None] * n
        self.iteration = 0
        self.state = np.full(n, _UNLABELED, dtype=np.int8)
        self.validation = np.zeros(n, dtype=bool)
        # Validation items an earlier model would already have machine-labeled.
        self.retired = np.zeros(n, dtype=bool)
        # Confidence of the latest model for each item; NaN until a model has scored it.
        self.confidence = np.full(n, np.nan)
        self.rng = np.random.default_rng(params.seed)
        self.sent = 0
        self.batch_size_sent = 0  # items in the last batch sent to people
        self.unanswered = 0  # of them, those people gave no answer for
        self.train_size = 0
        self.machine_total = 0
        self.records: list[dict] = []
        self.last_note = ""
        self.answers = Answers(
            humans,
            classes,
            lambda i, label: self._check_class(i, label, f"workforce {humans.name!r} answered"),
        )
        self.best_validation_accuracy: float | None = None
        self.consensus_accuracy: float | None = None
        for i, label in enumerate(known or []):
            if label is None:
                continue
            self._check_class(i, label, "the label given before is")
            self.labels[i] = label
            self.state[i] = _HUMAN if label.human_annotated else _MACHINE
        # People's earlier labels count against max_human_labels like the ones asked for now.
        self.sent = self.human_count()

    def human_count(self) -> int:
        return int(np.sum(self.state == _HUMAN))

    def unlabeled_in_random_order(self) -> np.ndarray:
        order = self.rng.permutation(len(self.items))
        return order[self.state[order] == _UNLABELED]

    def _check_class(self, i: int, label: Label, source: str) -> None:
        if label.class_name not in self.classes:
            raise LabelingError(
                f"line {i + 1} of the input manifest: {source} {label.class_name!r}, "
                f"which is not one of {', '.join(self.classes)}"
            )

    # -- people ---------------------------------------------------------------------------
    def budget_left(self) -> int:
        limit = self.params.max_human_labels
        return len(self.items) - self.sent if limit is None else max(0, limit - self.sent)

    def start(self, indices: np.ndarray) -> None:
        """The initial batch: `indices` go to people; their answers and people's labels known
        before are split into train and validation together, stratified by class. Known items
        that already have several answers (an earlier run asked for them) are validation first,
        so the answers people gave for validation keep serving it run after run."""
        known = np.flatnonzero(self.state == _HUMAN)
        answered = self.ask_people(indices, validation=np.asarray([], dtype=int))
        together = np.concatenate([known, answered])
        several = np.zeros(len(self.items), dtype=bool)
        several[known] = self.answers.answered_before(self.items, known) > 1
        self._assign_validation(together, first=several)
        # Validation items get `validation_answers` answers; their consensus is their label.
        validation = together[self.validation[together]]
        self.answers.top_up(self.items, validation, self.params.validation_answers)

    def ask_people(self, indices: np.ndarray, validation: np.ndarray | None = None) -> np.ndarray:
        """Sends `indices` to people; `validation` (a subset) become validation labels, or, if
        None, a stratified share of the answers does. Returns the items people answered."""
        indices = np.asarray(indices, dtype=int)
        if indices.size == 0:
            return indices
        answers = self.answers.ask(
            [self.items[i] for i in indices], indices, self.params.train_answers
        )
        if len(answers) != indices.size:
            raise LabelingError(
                f"workforce {self.humans.name!r} returned {len(answers)} labels for "
                f"{indices.size} items"
            )
        self.sent += int(indices.size)
        self.unanswered = sum(answer is None for answer in answers)
        self.batch_size_sent = int(indices.size)
        labeled = []
        for i, answer in zip(indices, answers, strict=True):
            if answer is None:
                # Not sent again; the model may still label it.
                self.state[i] = _DECLINED
                continue
            self._check_class(i, answer, f"workforce {self.humans.name!r} answered")
            self.labels[i] = answer
            self.state[i] = _HUMAN
            labeled.append(i)
        labeled = np.asarray(labeled, dtype=int)
        if validation is None:
            self._assign_validation(labeled)
        else:
            self.validation[labeled[np.isin(labeled, validation)]] = True
        if validation is None or validation.size:
            validation = labeled[self.validation[labeled]]
            self.answers.top_up(self.items, validation, self.params.validation_answers)
        return labeled

    def _validation_count(self, size: int) -> int:
        # Rounded at random, so batches too small for a whole validation item still add some.
        exact = self.params.validation_fraction * size
        return math.floor(exact) + int(self.rng.random() < exact - math.floor(exact))

    def _assign_validation(self, labeled: np.ndarray, first: np.ndarray | None = None) -> None:
        """Stratified by class within each batch: floor(fraction x count) per class, plus one
        more with the probability of the remainder, so small classes are not always train-only.
        Items flagged in `first` (one flag per item) are drawn before the others."""
        names = np.asarray([self.labels[i].class_name for i in labeled], dtype=object)
        for class_name in sorted(set(names)):
            members = self.rng.permutation(labeled[names == class_name])
            if first is not None:
                members = members[np.argsort(~first[members], kind="stable")]
            self.validation[members[: self._validation_count(members.size)]] = True

    # -- one iteration --------------------------------------------------------------------
    def pool(self) -> np.ndarray:
        return np.flatnonzero((self.state == _UNLABELED) | (self.state == _DECLINED))

    def iterate(self, iteration: int) -> str:
        """Train, threshold, machine-label, record; then send the next batch to people.
        Returns why the loop stops, or "" to go on."""
        self.iteration = iteration
        pool = self.pool()
        threshold: Threshold | None = None
        machine = 0
        validation_size = 0
        self.train_size = 0
        if pool.size:
            model = self._fit()
            if model is not None:
                self._consolidate()
                validation = np.flatnonzero(
                    self.validation & (self.state == _HUMAN) & ~self.retired
                )
                validation_size = validation.size
                threshold = self._threshold(model, validation)
                machine = self._machine_label(model, pool, threshold)
        self.record(iteration, threshold, machine, validation_size)

        pool = self.pool()
        if pool.size == 0:
            return "all items labeled"
        why_not = cannot_work(self, iteration)
        if why_not:
            self.last_note = why_not
            return f"cannot work: {why_not}"
        if iteration >= self.params.max_iterations:
            return "max_iterations reached"
        if self.batch_size_sent and self.unanswered == self.batch_size_sent:
            # People label at their own pace (the labeling app): this run stops here and the
            # next one, after they have answered, goes on from their labels.
            return f"waiting for people: none of the {self.batch_size_sent} items last sent is answered yet"
        room = min(self.params.batch_size, self.budget_left())
        if room == 0:
            return "max_human_labels reached"
        candidates = pool[self.state[pool] == _UNLABELED]
        if candidates.size == 0:
            return "no items left to send to people"
        if not self.params.random_validation:
            self.ask_people(self._least_confident(candidates, room))
            return ""
        validation = self.rng.choice(
            candidates, size=min(candidates.size, self._validation_count(room)), replace=False
        )
        rest = candidates[~np.isin(candidates, validation)]
        train = self._least_confident(rest, room - validation.size)
        self.ask_people(np.concatenate([train, validation]), validation=validation)
        return ""

    def _fit(self) -> SklearnPipeline | None:
        train = np.flatnonzero((self.state == _HUMAN) & ~self.validation)
        names = np.asarray([self.labels[i].class_name for i in train], dtype=object)
        counts = Counter(names)
        # Calibration's stratified folds need every class in every fold.
        usable = {name for name, count in counts.items() if count >= self.params.calibration_cv}
        if len(usable) < 2:
            self.last_note = (
                f"people's training labels have fewer than 2 classes with at least "
                f"calibration_cv={self.params.calibration_cv} items ({dict(counts)})"
            )
            return None
        keep = np.isin(names, sorted(usable))
        self.train_size = int(keep.sum())
        model = self.make_model(self.params)
        return model.fit(list(self.texts[train[keep]]), list(names[keep]))

    def _threshold(self, model: SklearnPipeline, validation: np.ndarray) -> Threshold | None:
        if validation.size == 0:
            self.last_note = "no validation labels from people yet"
            return None
        confidence, predicted = predict_confident(model, self.texts[validation])
        # Against a consensus, each item counts by the posterior of the predicted class, so
        # the accuracy carries the consensus' own uncertainty (an unsure consensus counts for
        # less whichever way the model went); a single label counts 1 or 0.
        correct = self.answers.chance_right(validation, predicted, self.labels)
        best = best_accuracy(confidence, correct, self.params.min_validation_items)
        if best is not None:
            self.best_validation_accuracy = max(best, self.best_validation_accuracy or 0.0)
        threshold = choose_threshold(
            confidence,
            correct,
            self.params.target_accuracy,
            self.params.min_validation_items,
            z=self.params.threshold_z,
            bound=self.params.threshold_bound,
        )
        if threshold is None:
            self.last_note = (
                f"no confidence threshold reached target accuracy {self.params.target_accuracy} "
                f"on at least min_validation_items={self.params.min_validation_items} of "
                f"{validation.size} validation items (accuracy on all of them "
                f"{correct.mean():.3f})"
            )
        elif self.params.retire_validation:
            self.retired[validation[confidence >= threshold.threshold]] = True
        return threshold

    def _machine_label(
        self, model: SklearnPipeline, pool: np.ndarray, threshold: Threshold | None
    ) -> int:
        confidence, predicted = predict_confident(model, self.texts[pool])
        self.confidence[pool] = confidence
        if threshold is None:
            return 0
        chosen = np.flatnonzero(confidence >= threshold.threshold)
        if chosen.size == 0:
            self.last_note = (
                f"no unlabeled item reached the confidence threshold {threshold.threshold:.4f}"
            )
        for position in chosen:
            i = pool[position]
            self.labels[i] = Label(str(predicted[position]), float(confidence[position]), False)
            self.state[i] = _MACHINE
        self.machine_total += chosen.size
        return int(chosen.size)

    def _least_confident(self, candidates: np.ndarray, room: int) -> np.ndarray:
        """Uncertainty sampling: lowest max-probability first, ties in random order; items no
        model has scored yet (no model could be trained) come in random order."""
        confidence = self.confidence[candidates]
        confidence = np.where(np.isnan(confidence), -1.0, confidence)
        order = np.lexsort((self.rng.random(candidates.size), confidence))
        return candidates[order[:room]]

    def _consolidate(self) -> None:
        # Items with several answers (validation; training too if train_answers > 1).
        for i, label in self.answers.consolidate(np.flatnonzero(self.state == _HUMAN)).items():
            self.labels[i] = label
        validation = np.flatnonzero(self.validation & (self.state == _HUMAN))
        self.consensus_accuracy = self.answers.consensus_accuracy(validation)

    # -- reporting ------------------------------------------------------------------------
    def record(
        self, iteration: int, threshold: Threshold | None, machine: int, validation_size: int
    ) -> None:
        self.records.append(iteration_record(self, iteration, threshold, machine, validation_size))

    def why_no_machine_labels(self) -> str:
        if self.last_note.startswith("cannot reach"):
            return self.last_note
        note = self.last_note or "people labeled every item before a model was trained"
        return f"{note} (after {len(self.records)} iterations)"
