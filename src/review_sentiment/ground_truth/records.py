"""Manifest records: an item's key, one label, and the output-manifest line Ground Truth writes
for single-label text classification."""

from __future__ import annotations

import hashlib
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


def item_key(line: dict) -> str:
    """The key of a manifest line: its `review_id` if it has one, else the SHA-1 of its `source`."""
    review_id = line.get("review_id")
    if review_id is not None and str(review_id) != "":
        return str(review_id)
    source = line.get("source")
    if not isinstance(source, str):
        raise ValueError(
            f"an item needs a 'review_id' or a text 'source', got keys {sorted(line)}"
        )
    return source_sha1(source)


def source_sha1(source: str) -> str:
    """The SHA-1 of a text, hex: tells whether two items with one key have the same text."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


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


class LineProblem(ValueError):
    """What is wrong with one manifest line, as `<field>: <what>`; readers add the file and line."""


@dataclass(frozen=True)
class LabeledRecord:
    """One labeled line of an output manifest, read and checked."""

    source: str
    review_id: str | None
    label_attribute: str
    class_name: str
    class_index: int
    confidence: float | None
    human_annotated: bool
    job_name: str | None
    creation_date: str | None

    @property
    def label(self) -> Label:
        return Label(self.class_name, self.confidence or 0.0, self.human_annotated)


def parse_labeled_line(
    obj: dict, classes: list[str], *, attribute: str | None = None
) -> LabeledRecord:
    """The label of one output-manifest line (provisional: single-label lines only)."""
    if attribute is None:
        keys = [key for key in obj if key.endswith("-metadata")]
        if len(keys) != 1:
            raise LineProblem("label attribute: expected one '<attribute>-metadata' key")
        attribute = keys[0].removesuffix("-metadata")
    metadata = obj.get(f"{attribute}-metadata")
    if not isinstance(metadata, dict):
        raise LineProblem(f"field '{attribute}-metadata': missing or not an object")
    index = int(obj[attribute])
    class_name = metadata.get("class-name", classes[index])
    return LabeledRecord(
        source=obj["source"],
        review_id=None if obj.get("review_id") is None else str(obj["review_id"]),
        label_attribute=attribute,
        class_name=class_name,
        class_index=index,
        confidence=metadata.get("confidence"),
        human_annotated=metadata.get("human-annotated") == "yes",
        job_name=metadata.get("job-name"),
        creation_date=metadata.get("creation-date"),
    )
