"""The carry rule: a new label replaces an item's earlier one only if it is a person's over a
machine's, or, between two people or two machines, newer and different; the same answer again
keeps the earlier label as written (creation date and job included)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import (
    Label,
    LineProblem,
    item_key,
    labeled_line,
    parse_labeled_line,
)


@dataclass(frozen=True)
class GivenLabel:
    """A label as some manifest wrote it, and its fields as written (the label attribute and its
    metadata, or a round's whole line), so the creation date and job name stay what they were."""

    label: Label
    fields: dict


def labels_given_before(
    items: Sequence[dict], previous_lines: Sequence[dict], classes: list[str], attribute: str
) -> list[GivenLabel | None]:
    """For each item, the label `previous_lines` (the labeled set, or a job's output) give it, or None.

    An earlier line counts for an item only if it has the same key and the same `source` text: a
    review whose text changed is a new item. When several earlier lines have the item's key, the
    last one is the newest.

    Raises:
        ManifestError: an earlier line that is not a valid labeled line, naming it.
    """
    by_key: dict[str, tuple[str, GivenLabel]] = {}
    for number, line in enumerate(previous_lines, start=1):
        try:
            record = parse_labeled_line(line, classes, attribute=attribute)
        except LineProblem as problem:
            raise ManifestError(f"line {number} of the labeled lines: {problem}") from None
        fields = {attribute: line[attribute], f"{attribute}-metadata": line[f"{attribute}-metadata"]}
        by_key[item_key(line)] = (record.source, GivenLabel(record.label, fields))
    given = []
    for item in items:
        found = by_key.get(item_key(item))
        given.append(found[1] if found and found[0] == item.get("source") else None)
    return given


def newest_labels(
    before: Sequence[GivenLabel | None], now: Sequence[Label | GivenLabel | None]
) -> list[Label | None]:
    """The label each item ends up with: `now` unless it is None, or a machine's label where a
    person had answered before."""
    labels = []
    for earlier, label in zip(before, now, strict=True):
        kept = kept_label(earlier, label)
        labels.append(kept.label if isinstance(kept, GivenLabel) else kept)
    return labels


def kept_label(
    before: GivenLabel | None, now: Label | GivenLabel | None
) -> GivenLabel | Label | None:
    """The one of an item's earlier and new label that stands: a person's label beats a
    machine's; otherwise the newer one wins, and the same answer again keeps the earlier one
    (its line, creation date included)."""
    if now is None or before is None:
        return before if now is None else now
    label = now.label if isinstance(now, GivenLabel) else now
    if _same_answer(label, before.label) or (before.label.human_annotated and not label.human_annotated):
        return before
    return now


def _same_answer(a: Label, b: Label) -> bool:
    # Manifests keep confidences to 4 decimals, so a label read back differs below that.
    return (a.class_name, a.human_annotated, round(a.confidence, 4)) == (
        b.class_name, b.human_annotated, round(b.confidence, 4)
    )


def new_label_lines(
    items: Sequence[dict],
    before: Sequence[GivenLabel | None],
    now: Sequence[Label | GivenLabel | None],
    **line_args,
) -> list[dict]:
    """The labeled lines this run adds: one per item whose new label stands over the earlier
    one. A label read from a workforce's own output (a `GivenLabel`, e.g. Ground Truth's) keeps
    its fields as written; others go through `labeled_line(item, label, **line_args)`."""
    lines = []
    for item, earlier, label in zip(items, before, now, strict=True):
        kept = kept_label(earlier, label)
        if kept is None or kept is earlier:
            continue
        if isinstance(kept, GivenLabel):
            lines.append({**item, **kept.fields})
        else:
            lines.append(labeled_line(item, kept, **line_args))
    return lines
