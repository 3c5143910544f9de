"""Labels the input manifest with the workforce chosen in parameters, and checks the labels."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from review_sentiment.ground_truth.categories import label_classes
from review_sentiment.ground_truth.records import Label, item_key, labeled_line
from review_sentiment.labeling.people import PeopleWorkforce
from review_sentiment.labeling.simulated import SimulatedAnnotator, simulated_job_name
from review_sentiment.labeling.workforces import LabelingError, StarRatingLabeler, Workforce
from review_sentiment.params import LabelingParams

logger = logging.getLogger(__name__)


class _AskedButUnanswered:
    """Wraps the people of an automated loop and remembers what they were asked and did not
    answer yet, in the order asked: the queue the labeling app shows first."""

    def __init__(self, people: Workforce) -> None:
        self._people = people
        self.name = people.name
        self.waiting: list[str] = []

    def label(self, items: Sequence[dict], classes: Sequence[str]) -> list[Label | None]:
        answers = self._people.label(items, classes)
        self.waiting += [item_key(item) for item, answer in zip(items, answers, strict=True) if answer is None]
        return answers


def _check_sources(input_manifest: list[dict]) -> None:
    for line, item in enumerate(input_manifest, start=1):
        source = item.get("source")
        if not isinstance(source, str) or not source.strip():
            raise LabelingError(f"line {line} of the input manifest: field 'source' is empty")


def label_reviews(
    input_manifest: list[dict],
    label_categories: dict,
    human_annotations: pd.DataFrame,
    params: LabelingParams,
) -> tuple[list[dict], dict[str, float], dict[str, list[dict]], list[str], list[dict]]:
    """Labels every item the chosen workforce can, in Ground Truth's output-manifest format.

    Returns:
        The output manifest (labeled items only), counts for the run's record, the automated
        loop's iterations as metric histories, the item keys people should label next (the
        labeling app's `--priority` file), and the annotators' quality scores.

    Raises:
        LabelingError: an input line has no text, or the workforce cannot label it.
    """
    classes = label_classes(label_categories)
    _check_sources(input_manifest)
    job_name = params.job_name
    iterations: list[dict] = []
    queue: list[str] = []
    people = PeopleWorkforce(
        human_annotations,
        per_item=params.people.per_item,
        method=params.people.consolidation,
    )
    workforce: Workforce
    if params.workforce == "star_rating":
        workforce = StarRatingLabeler(params.star_rating)
    elif params.workforce == "simulated":
        workforce = SimulatedAnnotator(params.simulated, params.star_rating)
        job_name = simulated_job_name(job_name)
    elif params.workforce == "people":
        workforce = people
    else:
        workforce = None  # the automated loop below

    if workforce is not None:
        labels = workforce.label(input_manifest, classes)
        if params.workforce == "people":
            queue = [item_key(item) for item, label in zip(input_manifest, labels, strict=True) if label is None]
    else:
        from review_sentiment.labeling.automated import run_automated_labeling

        if params.automated.humans == "simulated":
            humans = _AskedButUnanswered(SimulatedAnnotator(params.simulated, params.star_rating))
            job_name = simulated_job_name(job_name)
        else:
            humans = _AskedButUnanswered(people)
        result = run_automated_labeling(input_manifest, classes, humans, params.automated)
        labels, iterations, queue = result.labels, result.iterations, humans.waiting
        if params.automated.humans == "people":
            # Every label people saved goes in, also for items this run's loop did not ask
            # about (labeled from an earlier queue, or on the page beyond it); a person's label
            # wins over the machine's.
            answered = people.label(input_manifest, classes)
            labels = [mine if mine is not None else loops for mine, loops in zip(answered, labels, strict=True)]
            done = {item_key(item) for item, label in zip(input_manifest, answered, strict=True) if label}
            queue = [key for key in queue if key not in done]
        logger.info("Automated labeling stopped: %s", result.stopped)
        if result.reason:
            logger.warning("Nothing was machine-labeled: %s", result.reason)

    created = datetime.now(UTC)
    output = [
        labeled_line(item, label, attribute=params.label_attribute, classes=classes,
                     job_name=job_name, created=created)
        for item, label in zip(input_manifest, labels, strict=True)
        if label is not None
    ]
    by_people = sum(label is not None and label.human_annotated for label in labels)
    by_machine = sum(label is not None and not label.human_annotated for label in labels)
    summary = {
        "items": len(input_manifest),
        "labeled_by_people": by_people,
        "labeled_by_machine": by_machine,
        "unlabeled": len(input_manifest) - by_people - by_machine,
        "queued_for_people": len(queue),
    }
    counts = Counter(line[f"{params.label_attribute}-metadata"]["class-name"] for line in output)
    logger.info("Workforce %s: %s; classes %s", params.workforce, summary, dict(sorted(counts.items())))
    return output, summary, _histories(iterations), queue, _quality_rows(people.annotator_quality)


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


def find_label_issues(
    output_manifest: list[dict], label_categories: dict, params: LabelingParams
) -> list[dict]:
    """Likely label errors in the labeled set, worst first, for people to review.

    Empty when switched off or when a class has too few labels to cross-validate (logged).
    """
    settings = params.label_issues
    if not settings.enabled or not output_manifest:
        return []
    from review_sentiment.labeling.label_issues import find_label_issues as search, to_review_queue

    classes = label_classes(label_categories)
    metadata = f"{params.label_attribute}-metadata"
    texts = [line["source"] for line in output_manifest]
    labels = [line[metadata]["class-name"] for line in output_manifest]
    try:
        issues = search(texts, labels, classes, cv_folds=settings.cv_folds, seed=settings.seed)
    except ValueError as error:
        logger.warning("Label issues not searched: %s", error)
        return []
    queue = to_review_queue(issues)
    for row in queue:
        row["review_id"] = output_manifest[row["position"]].get("review_id")
    logger.info("%d likely label errors among %d labels", len(queue), len(labels))
    return queue
