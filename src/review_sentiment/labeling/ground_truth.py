"""The Ground Truth output-manifest format for single-label text classification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

TEXT_CLASSIFICATION = "groundtruth/text-classification"
TEXT_CLASSIFICATION_MULTILABEL = "groundtruth/text-classification-multilabel"


@dataclass(frozen=True)
class Label:
    """One answer for one item, from a person or a machine."""

    class_name: str
    confidence: float
    human_annotated: bool


def label_classes(label_categories: dict) -> list[str]:
    """The class names of a label category configuration, in class-index order."""
    try:
        classes = [entry["label"] for entry in label_categories["labels"]]
    except (KeyError, TypeError) as error:
        raise ValueError(
            "label categories must look like {'labels': [{'label': 'positive'}, ...]}, "
            f"got {label_categories!r}"
        ) from error
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(f"label categories need two or more distinct labels, got {classes}")
    return classes


def labeled_line(
    item: dict,
    label: Label,
    *,
    attribute: str,
    classes: list[str],
    job_name: str,
    created: datetime | None = None,
) -> dict:
    """The item as Ground Truth writes it after labeling: the input keys plus label and metadata."""
    if label.class_name not in classes:
        raise ValueError(f"label {label.class_name!r} is not one of {', '.join(classes)}")
    created = created or datetime.now(UTC)
    return {
        **item,
        attribute: classes.index(label.class_name),
        f"{attribute}-metadata": {
            "class-name": label.class_name,
            "confidence": round(float(label.confidence), 4),
            "human-annotated": "yes" if label.human_annotated else "no",
            # Ground Truth writes naive UTC timestamps with microseconds.
            "creation-date": created.astimezone(UTC).replace(tzinfo=None).isoformat(
                timespec="microseconds"
            ),
            "type": TEXT_CLASSIFICATION,
            "job-name": f"labeling-job/{job_name}",
        },
    }
