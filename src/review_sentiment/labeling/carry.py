"""No label is ever lost: the labels of the previous output manifest are read back and carried into
the next one, and a new label replaces an earlier one only by this rule: a person's label wins over
a machine's; otherwise the newer one wins."""

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
    """A label of the previous output manifest, and its label and metadata fields as written
    (so the creation date and job name of a carried label stay what they were)."""

    label: Label
    fields: dict


def labels_given_before(
    items: Sequence[dict], previous_lines: Sequence[dict], classes: list[str], attribute: str
) -> list[GivenLabel | None]:
    """For each item, the label the previous output manifest gave it, or None.

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
            raise ManifestError(f"line {number} of the previous output manifest: {problem}") from None
        fields = {attribute: line[attribute], f"{attribute}-metadata": line[f"{attribute}-metadata"]}
        by_key[item_key(line)] = (record.source, GivenLabel(record.label, fields))
    given = []
    for item in items:
        found = by_key.get(item_key(item))
        given.append(found[1] if found and found[0] == item.get("source") else None)
    return given


def newest_labels(
    before: Sequence[GivenLabel | None], now: Sequence[Label | None]
) -> list[Label | None]:
    """The label each item ends up with: `now` unless it is None, or a machine's label where a
    person had answered before."""
    labels = []
    for earlier, label in zip(before, now, strict=True):
        kept = _keep(earlier, label)
        labels.append(kept.label if isinstance(kept, GivenLabel) else kept)
    return labels


def _keep(before: GivenLabel | None, now: Label | None) -> GivenLabel | Label | None:
    if now is None or before is None:
        return before if now is None else now
    if _same_answer(now, before.label) or (before.label.human_annotated and not now.human_annotated):
        return before  # the same answer again keeps the line, creation date included
    return now


def _same_answer(a: Label, b: Label) -> bool:
    # Manifests keep confidences to 4 decimals, so a label read back differs below that.
    return (a.class_name, a.human_annotated, round(a.confidence, 4)) == (
        b.class_name, b.human_annotated, round(b.confidence, 4)
    )


def output_lines(
    items: Sequence[dict],
    before: Sequence[GivenLabel | None],
    now: Sequence[Label | None],
    **line_args,
) -> list[dict]:
    """The output manifest: one line per item that has a label, earlier labels as they were
    written, new ones through `labeled_line(item, label, **line_args)`."""
    lines = []
    for item, earlier, label in zip(items, before, now, strict=True):
        kept = _keep(earlier, label)
        if isinstance(kept, GivenLabel):
            lines.append({**item, **kept.fields})
        elif kept is not None:
            lines.append(labeled_line(item, kept, **line_args))
    return lines


def merge_rounds(rounds: dict[str, Sequence[dict]], classes: list[str], attribute: str) -> list[dict]:
    """One line per item over labeling rounds taken in name order (oldest first): a later line
    for the same item replaces the earlier one by the rule above (a person's label wins over a
    machine's; otherwise the newer one wins).

    Raises:
        ManifestError: a line that is not a valid labeled line, naming its round and line.
    """
    kept: dict[str, tuple[dict, Label]] = {}
    for name in sorted(rounds):
        for number, line in enumerate(rounds[name], start=1):
            try:
                label = parse_labeled_line(line, classes, attribute=attribute).label
            except LineProblem as problem:
                raise ManifestError(f"line {number} of label round {name}: {problem}") from None
            key = item_key(line)
            earlier = kept.get(key)
            if earlier is None or not isinstance(_keep(GivenLabel(earlier[1], {}), label), GivenLabel):
                kept[key] = (line, label)
    return [line for line, _ in kept.values()]
