"""The labeled set: every label given so far, by any path (the labeling pipeline's workforces, the
refresh, people's answers, Ground Truth jobs), kept as append-only rounds of Ground Truth output
lines, and the output manifest as its view (one line per item, by the carry rule).

Rounds are never rewritten, so a label can be lost only by a removal round, which only
`kedro labels remove` writes. The view is derived from the rounds; labels found only in the view
(an output manifest written by an older version of the project, or edited by hand) are adopted
as a round of their own the next time the set is collected, so nothing a user has is dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from review_sentiment.ground_truth.categories import label_classes
from review_sentiment.ground_truth.manifest import ManifestError
from review_sentiment.ground_truth.records import Label, LineProblem, item_key, parse_labeled_line
from review_sentiment.labeling.carry import GivenLabel, kept_label
from review_sentiment.params import LabelingParams

logger = logging.getLogger(__name__)

# The workforce that gave a label, written next to Ground Truth's fields in each round's line: the
# refresh's frozen test set trusts star_rating labels (the reviewers' own stars) by it.
WORKFORCE_FIELD = "workforce"
# A removal line (`kedro labels remove`): the item's key fields and `{"at", "reason"}`, no label.
REMOVED_FIELD = "removed"
ROUND_PREFIX = "round-"
_ROUND = re.compile(rf"{ROUND_PREFIX}(\d+)$")


@dataclass(frozen=True)
class LabeledSet:
    """Every label so far: `lines`, one per labeled item (the output manifest's lines), and the
    rounds they come from, `{name: SHA-256 of its lines}`.

    `unwritten` holds the rounds this run adds that are not yet saved (labels adopted from the
    view, this run's new labels); `appended` names this run's new round, if any.
    """

    lines: list[dict]
    rounds: dict[str, str]
    unwritten: dict[str, list[dict]] = field(default_factory=dict)
    appended: str | None = None

    @property
    def version(self) -> dict:
        """`{"digest", "items", "rounds"}`: the digest is a SHA-256 over the rounds' names and
        content hashes, in name order. Rounds are never rewritten, so a new round is a new
        version and nothing else is."""
        return labeled_set_version(self.rounds, len(self.lines))


def collect_labeled_set(
    rounds: Mapping[str, Callable[[], list[dict]]],
    view: Iterable[dict],
    label_categories: dict,
    params: LabelingParams,
) -> LabeledSet:
    """The labeled set from its rounds (taken in name order, merged by the carry rule), plus
    any label of the current view (`output.manifest`) that no round holds, adopted as a new
    round so that nothing labeled before this version of the project is lost.

    Raises:
        ManifestError: a round's or the view's line that is not a valid labeled line, naming it.
    """
    classes = label_classes(label_categories)
    loaded = {name: rounds[name]() for name in sorted(rounds)}
    merged, removed = merge_rounds(loaded, classes, params.label_attribute)
    known = {item_key(line) for line in merged}
    adopted = []
    for number, line in enumerate(view, start=1):
        key = item_key(line)
        if key in known or key in removed:
            continue
        try:
            parse_labeled_line(line, classes, attribute=params.label_attribute)
        except LineProblem as problem:
            raise ManifestError(f"line {number} of the output manifest: {problem}") from None
        adopted.append(line)
        known.add(key)
    hashes = {name: round_sha256(lines) for name, lines in loaded.items()}
    if not adopted:
        return LabeledSet(merged, hashes)
    name = next_round_name(hashes)
    logger.warning(
        "%d labels of the output manifest were in no label round (written by an older version or "
        "by hand): kept as %s", len(adopted), name,
    )  # fmt: skip
    return LabeledSet([*merged, *adopted], {**hashes, name: round_sha256(adopted)}, {name: adopted})


def append_label_round(
    labeled_set: LabeledSet, new_lines: list[dict], label_categories: dict, params: LabelingParams
) -> tuple[dict[str, list[dict]], LabeledSet, list[dict]]:
    """The set with this run's labels as its next round.

    Returns:
        The rounds to write (`{name: lines}`: this run's, and any adopted by
        `collect_labeled_set`; empty when there is nothing new, so nothing is written), the set
        after, and its view: the output manifest, one line per labeled item.
    """
    unwritten = dict(labeled_set.unwritten)
    if not new_lines:
        after = LabeledSet(labeled_set.lines, labeled_set.rounds, unwritten)
        return unwritten, after, after.lines
    name = next_round_name(labeled_set.rounds)
    classes = label_classes(label_categories)
    # Only the new lines and the ones they meet are read: the set's own lines were checked when
    # it was collected, and a run's new labels are few next to the set.
    by_key = {item_key(line): line for line in labeled_set.lines}
    for number, line in enumerate(new_lines, start=1):
        key = item_key(line)
        given = GivenLabel(_read_label(line, classes, params.label_attribute, f"line {number} of {name}"), line)
        earlier = by_key.get(key)
        if earlier is not None:
            before = GivenLabel(_read_label(earlier, classes, params.label_attribute, key), earlier)
            given = kept_label(before, given)
        by_key[key] = given.fields
    merged = list(by_key.values())
    unwritten[name] = new_lines
    after = LabeledSet(merged, {**labeled_set.rounds, name: round_sha256(new_lines)}, unwritten, name)
    logger.info(
        "Labeled set: %d new or changed labels in %s, %d labels in all",
        len(new_lines), name, len(merged),
    )  # fmt: skip
    return unwritten, after, merged


def merge_rounds(
    rounds: Mapping[str, Sequence[dict]], classes: list[str], attribute: str
) -> tuple[list[dict], set[str]]:
    """One line per item over rounds taken in name order (oldest first): a later line for the
    same item replaces the earlier one by the carry rule (a person's label beats a machine's;
    otherwise the newer one wins), and a removal line removes it.

    Returns:
        The lines, and the keys whose last word was a removal.

    Raises:
        ManifestError: a line that is not a valid labeled line, naming its round and line.
    """
    kept: dict[str, GivenLabel] = {}
    removed: set[str] = set()
    for name in sorted(rounds):
        for number, line in enumerate(rounds[name], start=1):
            key = item_key(line)
            if REMOVED_FIELD in line:
                kept.pop(key, None)
                removed.add(key)
                continue
            given = GivenLabel(_read_label(line, classes, attribute, f"line {number} of label round {name}"), line)
            kept[key] = kept_label(kept.get(key), given)
            removed.discard(key)
    return [given.fields for given in kept.values()], removed


def _read_label(line: dict, classes: list[str], attribute: str, where: str) -> Label:
    try:
        return parse_labeled_line(line, classes, attribute=attribute).label
    except LineProblem as problem:
        raise ManifestError(f"{where}: {problem}") from None


def removal_round(
    labeled_set: LabeledSet, keys: Sequence[str], reason: str, now: datetime | None = None
) -> tuple[str, list[dict]]:
    """The round that removes the labels of `keys` on purpose: `(name, lines)`.

    Raises:
        KeyError: a key with no label in the set, naming it (nothing is written then).
    """
    by_key = {item_key(line): line for line in labeled_set.lines}
    missing = [key for key in keys if key not in by_key]
    if missing:
        raise KeyError(f"no label in the labeled set for {', '.join(map(repr, missing[:5]))}")
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    lines = []
    for key in dict.fromkeys(keys):
        line = by_key[key]
        kept = {name: line[name] for name in ("source", "review_id") if name in line}
        lines.append({**kept, REMOVED_FIELD: {"at": at, "reason": reason}})
    return next_round_name(labeled_set.rounds), lines


def round_sha256(lines: Sequence[dict]) -> str:
    """SHA-256 of a round's lines, each as canonical JSON: the same whether computed on the lines
    being written or on the lines read back."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(json.dumps(line, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def labeled_set_version(round_hashes: Mapping[str, str], items: int) -> dict:
    """The labeled set's version: SHA-256 over its rounds' names and content hashes, in order."""
    digest = hashlib.sha256()
    for name in sorted(round_hashes):
        digest.update(f"{name}\t{round_hashes[name]}\n".encode())
    return {"digest": digest.hexdigest(), "items": items, "rounds": dict(sorted(round_hashes.items()))}


def next_round_name(rounds: Sequence[str] | Mapping[str, object]) -> str:
    """`round-0001`, then one more than the highest round so far; names sort in time order."""
    numbers = [int(match.group(1)) for name in rounds if (match := _ROUND.match(name))]
    return f"{ROUND_PREFIX}{max(numbers, default=0) + 1:04d}"
