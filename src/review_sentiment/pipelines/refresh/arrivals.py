"""The refresh's new reviews: the arrival files read (those an earlier round settled skipped),
only reviews with no label yet kept and cleaned, and labeled by the workforce with the file each
came from recorded in its line."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from review_sentiment.datasets.raw_file import RawFile
from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.ground_truth.records import item_key, source_sha1
from review_sentiment.labeling.batch import label_reviews
from review_sentiment.labeling.labeled_set import LabeledSet
from review_sentiment.params import ExtractionParams, LabelingParams
from review_sentiment.reviews import REVIEW_COLUMNS
from review_sentiment.reviews.cleaning import clean_reviews, clean_text, truncate_text
from review_sentiment.reviews.reading import parse_raw_reviews, select_review_fields

logger = logging.getLogger(__name__)

# The arrival file a label came from, also written in each label round's lines: {"file", "sha256"
# (of its content), "reviews" (its rows), "settled"}; settled means no review of that file was
# left waiting in that round, so an unchanged file is not read again (`read_arrivals`).
ARRIVAL_FIELD = "arrival"
ARRIVAL_COLUMNS = ["arrival", "arrival_sha256", "arrival_reviews"]


def read_arrivals(
    arrivals: Mapping[str, Callable[[], RawFile]],
    labeled_before: LabeledSet,
    params: ExtractionParams,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every arrival file's reviews (id, text, stars, category) with the file's name, content
    SHA-256 and row count (`ARRIVAL_COLUMNS`); files are parsed as `raw_reviews` is (columns and
    separator recognised).

    A file an earlier round settled (`settled_arrivals`: same name, same content) is not parsed
    again, so a refresh costs in proportion to what is new, not to every file so far; a file
    that grew or changed is read again (its labeled reviews are then dropped by key).

    Returns:
        The reviews of the files read, and `{name: rows}` of the files skipped as settled.
    """
    settled = settled_arrivals(labeled_before.lines)
    frames, skipped = [], {}
    for name in sorted(arrivals):
        raw = arrivals[name]()
        sha256 = hashlib.sha256(raw.content).hexdigest()
        if (name, sha256) in settled:
            skipped[name] = settled[name, sha256]
            continue
        # pandas: the refresh holds each arrival's bytes for its hash and works on pandas tables.
        in_pandas = params.model_copy(update={"engine": "pandas"})
        reviews = select_review_fields(parse_raw_reviews(raw, in_pandas), in_pandas)
        frames.append(reviews.assign(arrival=name, arrival_sha256=sha256, arrival_reviews=len(reviews)))
    if not frames:
        return pd.DataFrame(columns=[*REVIEW_COLUMNS, *ARRIVAL_COLUMNS]), skipped
    return pd.concat(frames, ignore_index=True), skipped


def settled_arrivals(labeled_set: Sequence[dict]) -> dict[tuple[str, str], int]:
    """`{(file name, content SHA-256): rows}` of the arrival files whose every review an earlier
    round settled (labeled, or dropped in cleaning), from the `arrival` field of its lines."""
    settled = {}
    for line in labeled_set:
        record = line.get(ARRIVAL_FIELD)
        if isinstance(record, dict) and record.get("settled"):
            settled[record["file"], record["sha256"]] = int(record["reviews"])
    return settled


def select_new_reviews(
    arrived: pd.DataFrame,
    labeled_set: LabeledSet,
    params: ExtractionParams,
    skipped: Mapping[str, int] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The arrived reviews whose key (review id, or the cleaned text's SHA-1 where there is none,
    as `item_key`) has no label yet, cleaned as `clean_reviews` does, and counts for the summary.

    Reviews with an id already labeled are dropped before anything else, so cleaning costs in
    proportion to the new ones; reviews without ids need their cleaned text for their key (one
    pass of `clean_text`), and duplicates are dropped among the new ones only. The reviews of
    arrival files skipped as settled (`skipped`, from `read_arrivals`) count as seen before.
    """
    skipped = skipped or {}
    seen = {item_key(line) for line in labeled_set.lines}
    ids = arrived["review_id"].astype(str)
    known_id = ids.ne("") & ids.isin(seen)
    unknown = arrived.loc[~known_id].reset_index(drop=True)
    # A review without an id is keyed by its text as cleaned (and cut, with too_long: truncate).
    keys = [
        review_id or source_sha1(_as_cleaned(text, params))
        for review_id, text in zip(unknown["review_id"].astype(str), unknown["text"], strict=True)
    ]
    known_text = pd.Series([key in seen for key in keys], index=unknown.index, dtype=bool)
    new, cleaning = clean_reviews(unknown.loc[~known_text].reset_index(drop=True), params)
    new = new[[column for column in [*REVIEW_COLUMNS, *ARRIVAL_COLUMNS] if column in new]]
    read = sorted(arrived["arrival"].unique().tolist()) if len(arrived) else []
    report = {
        "arrivals": sorted([*read, *skipped]),
        "arrivals_skipped": len(skipped),
        "reviews_arrived": len(arrived) + sum(skipped.values()),
        "seen_before": int(known_id.sum() + known_text.sum()) + sum(skipped.values()),
        "dropped_in_cleaning": int(len(arrived) - known_id.sum() - known_text.sum() - len(new)),
        "new_reviews": len(new),
        "cleaning": cleaning,
    }
    logger.info(
        "Refresh: %d new reviews of %d arrived (%d seen before, %d dropped in cleaning; %d of %d "
        "arrival files settled before, not read again)",
        report["new_reviews"], report["reviews_arrived"], report["seen_before"],
        report["dropped_in_cleaning"], len(skipped), len(report["arrivals"]),
    )  # fmt: skip
    return new, report


def _as_cleaned(text: str, params: ExtractionParams) -> str:
    cleaned = clean_text(text)
    if params.too_long == "truncate" and len(cleaned) > MAX_ATTRIBUTE_CHARS:
        return truncate_text(cleaned)
    return cleaned


def label_new_reviews(
    input_manifest: list[dict],
    label_categories: dict,
    human_annotations: pd.DataFrame,
    labeled_set: LabeledSet,
    params: LabelingParams,
    new_reviews: pd.DataFrame | None = None,
) -> tuple[list[dict], dict, dict[str, list[dict]], list, list[dict]]:
    """Labels this refresh's new reviews with the configured workforce (`label_reviews`, as
    the labeling pipeline does) and records, in each new line, its arrival file
    (`ARRIVAL_FIELD`) when `new_reviews` says where the reviews came from: settled when none
    of that file's new reviews was left unlabeled.

    Returns:
        As `label_reviews`: the new labeled lines (the labeled set's next round), the counts, the
        automated loop's histories, the queue for people and the annotators' quality.
    """
    if not input_manifest:
        empty = {"items": 0, "labeled_by_people": 0, "labeled_by_machine": 0, "unlabeled": 0,
                 "queued_for_people": 0, "queued_for_more_answers": 0}  # fmt: skip
        return [], empty, {}, [], []
    new, summary, histories, queue, quality = label_reviews(
        input_manifest, label_categories, human_annotations, labeled_set, params
    )
    arrivals = _arrival_records(new_reviews, new)
    lines = [
        {**line, **({ARRIVAL_FIELD: arrivals[key]} if (key := item_key(line)) in arrivals else {})}
        for line in new
    ]  # fmt: skip
    return lines, summary, histories, queue, quality


def _arrival_records(new_reviews: pd.DataFrame | None, labeled: Sequence[dict]) -> dict[str, dict]:
    """`{item key: arrival record}` for this round's new reviews; a file is settled when every
    one of its new reviews got a label (nothing left waiting for people or the loop)."""
    if new_reviews is None or not set(ARRIVAL_COLUMNS) <= set(new_reviews.columns):
        return {}
    done = {item_key(line) for line in labeled}
    keys = [
        review_id or source_sha1(text)
        for review_id, text in zip(new_reviews["review_id"].astype(str), new_reviews["text"], strict=True)
    ]
    files = list(zip(new_reviews["arrival"], new_reviews["arrival_sha256"], strict=True))
    waiting = {file for key, file in zip(keys, files, strict=True) if key not in done}
    return {
        key: {"file": name, "sha256": sha256, "reviews": int(rows), "settled": (name, sha256) not in waiting}
        for key, (name, sha256), rows in zip(keys, files, new_reviews["arrival_reviews"], strict=True)
    }
