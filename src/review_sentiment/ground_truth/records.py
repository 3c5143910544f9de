"""Manifest records: an item's key, one label, the output-manifest line Ground Truth writes for
single-label text classification, and the one check of an input or output line's fields
(`parse_input_line`, `parse_labeled_line`), whichever reader read the line."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from review_sentiment.ground_truth.limits import limit_problem

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
class InputRecord:
    """One line of an input manifest, read and checked: what Ground Truth will show a worker."""

    source: str
    review_id: str | None
    key: str


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


def parse_input_line(obj: dict) -> InputRecord:
    """The text and key of an input-manifest line, or `LineProblem` if Ground Truth (or this
    project's labeling) could not use it: no inline text, an odd review id, over the size limits."""
    record = InputRecord(_source(obj), _review_id(obj), item_key(obj))
    problem = limit_problem(obj)
    if problem:
        raise LineProblem(problem)
    return record


def parse_labeled_line(
    obj: dict,
    classes: list[str],
    *,
    attribute: str | None = None,
    multilabel: Literal["reject", "top"] = "reject",
) -> LabeledRecord:
    """The label of one output-manifest line, checked against the job's classes.

    Args:
        obj: the line's object, as `parse_manifest` returns it.
        classes: the label categories in class-index order.
        attribute: the label attribute to read; by default the one `<name>-metadata` key.
        multilabel: "top" reads a multi-label line as its most confident label; "reject"
            makes it a problem, for projects that train single-label models.

    A metadata `type` other than text classification (single or multi-label) is a problem; a
    line without one is read.

    Raises:
        LineProblem: naming the field, e.g. `sentiment: class index 7 is out of range ...`.
    """
    attribute = attribute or _only_label_attribute(obj)
    meta_key = f"{attribute}-metadata"
    metadata = obj.get(meta_key)
    if not isinstance(metadata, dict):
        what = "missing" if metadata is None else f"expected an object, got {type_name(metadata)}"
        raise LineProblem(f"{meta_key}: {what}")
    kind = metadata.get("type")
    # Lines written by hand or by a machine may leave the type out; any other task's label
    # (an image's, a bounding box's) would read as a class index that means something else.
    if kind is not None and kind not in (TEXT_CLASSIFICATION, TEXT_CLASSIFICATION_MULTILABEL):
        raise LineProblem(
            f"{meta_key}.type: {shown(kind)} is not a text-classification label "
            f"(expected {TEXT_CLASSIFICATION})"
        )
    value = obj.get(attribute)
    if value is None:
        raise LineProblem(f"{attribute}: missing")
    if isinstance(value, list) or kind == TEXT_CLASSIFICATION_MULTILABEL:
        if multilabel == "reject":
            raise LineProblem(
                f"{attribute}: a multi-label annotation; set feature_engineering.multilabel: top "
                "to read its most confident label"
            )
        index, named, confidence = _most_confident(attribute, value, metadata)
    else:
        index = _class_index(attribute, value)
        named = metadata.get("class-name")
        confidence = _confidence(f"{meta_key}.confidence", metadata.get("confidence"))
    class_name = _class_name(attribute, index, named, classes)
    return LabeledRecord(
        source=_source(obj),
        review_id=_review_id(obj),
        label_attribute=attribute,
        class_name=class_name,
        class_index=index,
        confidence=confidence,
        human_annotated=metadata.get("human-annotated") == "yes",
        job_name=_optional_text(f"{meta_key}.job-name", metadata.get("job-name")),
        creation_date=_optional_text(f"{meta_key}.creation-date", metadata.get("creation-date")),
    )


def _only_label_attribute(obj: dict) -> str:
    keys = [key for key in obj if key.endswith("-metadata")]
    if not keys:
        raise LineProblem("label attribute: no '<attribute>-metadata' key, so no label")
    if len(keys) > 1:
        raise LineProblem(
            f"label attribute: several ({', '.join(keys)}); set "
            "feature_engineering.label_attribute to the one to read"
        )
    return keys[0].removesuffix("-metadata")


def _class_index(field: str, value: object) -> int:
    # Real jobs write an int; the Developer Guide's example writes a digit string ("1").
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    # Python refuses to read more than 4,300 digits; no class list is that long anyway.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4300:
        return int(value)
    raise LineProblem(f"{field}: expected a class index (a whole number), got {shown(value)}")


def _class_name(attribute: str, index: int, named: object, classes: list[str]) -> str:
    """The class at `index`, which must agree with the name the line gives, if it gives one."""
    if not 0 <= index < len(classes):
        raise LineProblem(
            f"{attribute}: class index {shown(index)} is out of range for {len(classes)} classes "
            f"({', '.join(classes)})"
        )
    if named is None:
        # Machine labels may carry the index only (line 14 of the shared examples).
        return classes[index]
    if named not in classes:
        raise LineProblem(
            f"{attribute}-metadata.class-name: {shown(named)} is not one of {', '.join(classes)}"
        )
    if named != classes[index]:
        raise LineProblem(
            f"{attribute}: class index {index} is {classes[index]!r}, "
            f"but class-name is {named!r}"
        )
    return named


def _most_confident(attribute: str, value: object, metadata: dict) -> tuple[int, object, float]:
    """A multi-label line's most confident class (ties: the higher index), with its name."""
    if not isinstance(value, list) or not value:
        raise LineProblem(
            f"{attribute}: expected a non-empty list of class indices, got {shown(value)}"
        )
    indices = [_class_index(attribute, item) for item in value]
    scores = metadata.get("confidence-map") or {}
    names = metadata.get("class-map") or {}
    if not isinstance(scores, dict) or not isinstance(names, dict):
        raise LineProblem(f"{attribute}-metadata: class-map and confidence-map must be objects")
    field = f"{attribute}-metadata.confidence-map"
    scored = [(_confidence(field, scores.get(str(index))) or 0.0, index) for index in indices]
    confidence, index = max(scored)
    return index, names.get(str(index)), confidence


def _confidence(field: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        # Numbers written as text are read like the label index is.
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    raise LineProblem(f"{field}: expected a number from 0 to 1, got {shown(value)}")


def _source(obj: dict) -> str:
    source = obj.get("source")
    if source is None:
        if "source-ref" in obj:
            raise LineProblem(
                "source: missing; the text must be inline (source-ref is not fetched)"
            )
        raise LineProblem("source: missing")
    if not isinstance(source, str):
        raise LineProblem(f"source: expected text, got {type_name(source)}")
    if not source.strip():
        raise LineProblem("source: empty")
    return source


def _review_id(obj: dict) -> str | None:
    review_id = obj.get("review_id")
    if review_id is None or review_id == "":
        return None
    if isinstance(review_id, bool) or not isinstance(review_id, str | int):
        raise LineProblem(f"review_id: expected text or a whole number, got {shown(review_id)}")
    return str(review_id)


def _optional_text(field: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise LineProblem(f"{field}: expected text, got {type_name(value)}")


def type_name(value: object) -> str:
    """The JSON name of a value's type, for messages: null for None, else the Python type."""
    return "null" if value is None else type(value).__name__


def shown(value: object, limit: int = 60) -> str:
    """A value as a message quotes it: its repr, cut at `limit` characters."""
    # A whole review in an error is noise.
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."
