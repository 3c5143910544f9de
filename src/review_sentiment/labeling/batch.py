"""One batch labeled by the workforce chosen in parameters, as the labeled set's new lines: the labeling
pipeline's and the refresh's labeling step."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

import pandas as pd

from review_sentiment.ground_truth.categories import label_classes
from review_sentiment.ground_truth.records import Label, item_key
from review_sentiment.labeling.carry import (
    GivenLabel,
    labels_given_before,
    new_label_lines,
    newest_labels,
)
from review_sentiment.labeling.labeled_set import WORKFORCE_FIELD, LabeledSet
from review_sentiment.labeling.people import PeopleWorkforce, answers_for
from review_sentiment.labeling.queue import AskedButUnanswered, QueueEntry, next_step, queue_key
from review_sentiment.labeling.simulated import SimulatedAnnotator, simulated_job_name
from review_sentiment.labeling.workforces import LabelingError, StarRatingLabeler
from review_sentiment.params import LabelingParams

logger = logging.getLogger(__name__)


def label_reviews(
    input_manifest: list[dict],
    label_categories: dict,
    human_annotations: pd.DataFrame,
    labeled_set: LabeledSet,
    params: LabelingParams,
) -> tuple[list[dict], dict[str, float], dict[str, list[dict]], list[QueueEntry], list[dict]]:
    """Labels the input manifest's items with the chosen workforce, in Ground Truth's
    output-manifest format, and returns the labels that are new to the labeled set.

    Every item's label in the labeled set (same key, same text) stands unless the carry rule
    lets the new one replace it (a person's over a machine's; else a newer, different answer;
    see `labeling.carry`), so re-labeling a batch adds nothing and loses nothing.

    Returns:
        The new labeled lines (each with the workforce that gave it, `WORKFORCE_FIELD`), counts
        for the run's record, the automated loop's iterations as metric histories, what people
        should label next (the labeling page's queue: item keys, or `{"item": key, "answers": n}`
        for an item that wants n answers from distinct people, see `labeling.queue`), and the
        annotators' quality scores.

    Raises:
        LabelingError: an input line has no text, or the workforce cannot label it.
    """
    classes = label_classes(label_categories)
    _check_sources(input_manifest)
    before = labels_given_before(input_manifest, labeled_set.lines, classes, params.label_attribute)
    people = PeopleWorkforce(
        answers_for(human_annotations, input_manifest, params.job_name),
        per_item=params.people.per_item,
        method=params.people.consolidation,
    )
    job_name, given, queue, iterations = _label(input_manifest, classes, before, people, params)

    new = new_label_lines(
        input_manifest, before, given, attribute=params.label_attribute, classes=classes,
        job_name=job_name, created=datetime.now(UTC),
    )  # fmt: skip
    new = [{**line, WORKFORCE_FIELD: params.workforce} for line in new]
    labels = newest_labels(before, given)
    queue = _still_wanted(queue, input_manifest, labels)
    summary = _summary(input_manifest, labels, queue)
    counts = Counter(label.class_name for label in labels if label is not None)
    logger.info(
        "Workforce %s: %s; classes %s; %d new labels",
        params.workforce, summary, dict(sorted(counts.items())), len(new),
    )  # fmt: skip
    if queue:
        labeled = sum(label is not None for label in labels)
        logger.warning("%d of %d reviews are labeled; %s", labeled, len(input_manifest), next_step(queue))
    return new, summary, _histories(iterations), queue, _quality_rows(people.annotator_quality)


def _label(
    items: list[dict],
    classes: list[str],
    before: list[GivenLabel | None],
    people: PeopleWorkforce,
    params: LabelingParams,
) -> tuple[str, list[Label | GivenLabel | None], list[QueueEntry], list[dict]]:
    """Job name, one label or None per item, the queue for people, the loop's iterations."""
    job_name = params.job_name
    if params.workforce == "star_rating":
        return job_name, StarRatingLabeler(params.star_rating).label(items, classes), [], []
    if params.workforce == "ground_truth":
        return (*_label_with_ground_truth(items, classes, before, params), [], [])
    simulated = SimulatedAnnotator(params.simulated, params.star_rating)
    if params.workforce == "simulated":
        return simulated_job_name(job_name), simulated.label(items, classes), [], []
    answered = people.label(items, classes)
    if params.workforce == "people":
        queue = [item_key(item) for item, label in zip(items, answered, strict=True) if label is None]
        return job_name, answered, queue, []

    from review_sentiment.labeling.automated import run_automated_labeling

    # The simulated pool answers every item at once (nothing waits); people answer at their own
    # pace, through the queue, which asks several of them for each validation item.
    humans = simulated if params.automated.humans == "simulated" else AskedButUnanswered(people)
    if params.automated.humans == "simulated":
        job_name = simulated_job_name(job_name)
    # Where the loop starts: what people saved (newest) over what earlier runs issued.
    known = newest_labels(before, answered)
    result = run_automated_labeling(items, classes, humans, params.automated, known=known)
    logger.info("Automated labeling stopped: %s", result.stopped)
    if result.reason:
        logger.warning("Nothing was machine-labeled: %s", result.reason)
    return job_name, result.labels, getattr(humans, "queue", []), result.iterations


def _label_with_ground_truth(
    items: list[dict], classes: list[str], before: list[GivenLabel | None], params: LabelingParams
) -> tuple[str, list[GivenLabel | None]]:
    """Ground Truth's labels, as its output manifest wrote them, for the items that have none in
    the labeled set: a job is paid per review, so a review labeled before (by an earlier or a
    stopped job, or another workforce) is never sent again."""
    # Imported here: only this workforce needs boto3. A failed job raises before anything is
    # written, so every earlier output stays as it was.
    from review_sentiment.aws.ground_truth import label_with_ground_truth

    todo = [index for index, earlier in enumerate(before) if earlier is None]
    labels: list[GivenLabel | None] = [None] * len(items)
    if not todo:
        logger.info("Ground Truth: all %d reviews of the batch are labeled: no job needed", len(items))
        return params.job_name, labels
    if len(todo) < len(items):
        logger.info(
            "Ground Truth: %d of %d reviews are labeled already; sending the other %d",
            len(items) - len(todo), len(items), len(todo),
        )  # fmt: skip
    run = label_with_ground_truth(
        [items[index] for index in todo], classes, params.ground_truth,
        job_base=params.job_name, attribute=params.label_attribute,
    )  # fmt: skip
    for index, label in zip(todo, run.labels, strict=True):
        labels[index] = label
    return run.job_name, labels


def _check_sources(input_manifest: list[dict]) -> None:
    for line, item in enumerate(input_manifest, start=1):
        source = item.get("source")
        if not isinstance(source, str) or not source.strip():
            raise LabelingError(f"line {line} of the input manifest: field 'source' is empty")


def _still_wanted(
    queue: list[QueueEntry], items: list[dict], labels: list[Label | None]
) -> list[QueueEntry]:
    """The queue without the items nobody needs now: one the model labeled after it was sent to
    people, or one people labeled that wanted no more than that answer. An item people labeled
    that wants several answers (validation) stays until they are in."""
    by_key = {item_key(item): label for item, label in zip(items, labels, strict=True)}
    return [
        entry for entry in queue
        if (label := by_key[queue_key(entry)]) is None
        or (label.human_annotated and not isinstance(entry, str))
    ]


def _summary(items: list[dict], labels: list[Label | None], queue: list[QueueEntry]) -> dict[str, int]:
    """Counts of reviews. `queued_for_people` are in the queue: unlabeled ones, and those wanting
    several people's answers (`queued_for_more_answers`), which may be labeled by a first one."""
    by_people = sum(label is not None and label.human_annotated for label in labels)
    by_machine = sum(label is not None and not label.human_annotated for label in labels)
    return {
        "items": len(items),
        "labeled_by_people": by_people,
        "labeled_by_machine": by_machine,
        "unlabeled": len(items) - by_people - by_machine,
        "queued_for_people": len(queue),
        "queued_for_more_answers": sum(not isinstance(entry, str) for entry in queue),
    }


def _histories(iterations: list[dict]) -> dict[str, list[dict]]:
    """Each numeric field of the loop's records as a metric history, stepped by iteration."""
    histories: dict[str, list[dict]] = {}
    for record in iterations:
        for name, value in record.items():
            if name != "iteration" and isinstance(value, int | float) and not isinstance(value, bool):
                histories.setdefault(name, []).append({"value": float(value), "step": int(record["iteration"])})
    return histories


def _quality_rows(quality: pd.DataFrame) -> list[dict]:
    return [
        {"annotator": row.annotator, "quality": None if pd.isna(row.quality) else float(row.quality),
         "labels": int(row.labels)}
        for row in quality.itertuples(index=False)
    ]
