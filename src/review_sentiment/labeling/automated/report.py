"""What one automated-labeling run reports: a plain-dict record per iteration (the labeling node
turns each numeric field into an MLflow metric history) and the one line that says when the loop
cannot work with the people it has."""

from __future__ import annotations

import logging
from collections.abc import Sized
from typing import Protocol

import numpy as np
from scipy.stats import norm

from review_sentiment.labeling.automated.answers import Answers
from review_sentiment.labeling.automated.threshold import Threshold
from review_sentiment.params import AutomatedLabelingParams

logger = logging.getLogger(__name__)


class LoopProgress(Protocol):
    """What a report reads of a run's state: `state.LoopState`, which calls this module, is one,
    so that this module needs nothing of `state`."""

    params: AutomatedLabelingParams
    answers: Answers
    items: Sized
    sent: int
    train_size: int
    machine_total: int
    best_validation_accuracy: float | None
    consensus_accuracy: float | None

    def human_count(self) -> int: ...

    def pool(self) -> np.ndarray: ...


def iteration_record(
    loop: LoopProgress, iteration: int, threshold: Threshold | None, machine: int, validation_size: int
) -> dict:
    """The record of one iteration. Cost is answers: `human_answers` counts every answer people
    gave so far, `answers_per_machine_label` divides it by the machine labels so far and
    `answers_vs_three_each` by the 3 x items that three people labeling everything would need."""
    params = loop.params
    answers = loop.answers.count
    record = {
        "iteration": iteration,
        "human_labels": loop.human_count(),
        "human_sent": loop.sent,
        "human_answers": answers,
        "train_labels": loop.train_size,
        "validation_size": int(validation_size),
        "validation_items_above_threshold": threshold.items if threshold else 0,
        "validation_accuracy": threshold.accuracy if threshold else None,
        "validation_lower_bound": threshold.lower_bound if threshold else None,
        "best_validation_accuracy": loop.best_validation_accuracy,
        "consensus_accuracy": loop.consensus_accuracy,
        "annotator_accuracy": loop.answers.annotator_accuracy,
        "bound": params.threshold_bound if params.threshold_z > 0 else "point_estimate",
        "bound_z": params.threshold_z,
        "bound_confidence": float(norm.cdf(params.threshold_z)) if params.threshold_z > 0 else None,
        "threshold": threshold.threshold if threshold else None,
        "machine_labels": machine,
        "machine_total": loop.machine_total,
        "answers_per_machine_label": answers / loop.machine_total if loop.machine_total else None,
        "answers_vs_three_each": answers / (3 * len(loop.items)) if loop.items else None,
        "remaining": int(loop.pool().size),
    }
    logger.info(
        "Automated labeling iteration %d: %d human answers (%d items), threshold %s (validation "
        "accuracy %s, lower bound %s, on %d items), %d machine-labeled, %d remaining",
        iteration, answers, record["human_labels"],
        "none" if threshold is None else f"{threshold.threshold:.4f}",
        "n/a" if threshold is None else f"{threshold.accuracy:.4f}",
        "n/a" if threshold is None else f"{threshold.lower_bound:.4f}",
        record["validation_items_above_threshold"], machine, record["remaining"],
    )
    return record


def cannot_work(loop: LoopProgress, iteration: int) -> str:
    """One line with the numbers when asking people for more cannot lead to machine labels, or
    "": the validation consensus is less accurate than the target (judged once there are
    `min_validation_items` consolidated items), or `give_up_after` iterations gave none."""
    params = loop.params
    if loop.machine_total:
        return ""
    consolidated = len(loop.answers.posterior)
    consensus = loop.consensus_accuracy
    unreachable = (
        consensus is not None
        and consolidated >= params.min_validation_items
        and consensus < params.target_accuracy
    )
    if not unreachable and iteration < params.give_up_after:
        return ""
    annotators = loop.answers.annotator_accuracy
    best = loop.best_validation_accuracy
    why = (
        f"the {params.validation_answers}-answer consensus is only {consensus:.3f} sure"
        if unreachable else f"nothing machine-labeled in {iteration} iterations"
    )
    return (
        f"cannot reach target accuracy {params.target_accuracy} ({why}): annotator accuracy "
        f"{_number(annotators)}, consensus {_number(consensus)}, best validation accuracy "
        f"{_number(best)} on >= {params.min_validation_items} items, after "
        f"{loop.answers.count} answers; raise validation_answers, use more accurate annotators "
        f"or lower target_accuracy"
    )


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
