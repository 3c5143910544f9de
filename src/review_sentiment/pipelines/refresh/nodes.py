"""New reviews in, a better model out: only reviews never labeled are labeled, labels accumulate
in append-only rounds, every candidate and the champion are scored on one frozen test set, and the
endpoint changes only when the champion does. Nothing new: nothing labeled, trained or deployed."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pandas as pd

from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS
from review_sentiment.ground_truth.records import item_key, source_sha1
from review_sentiment.labeling.batch import label_reviews
from review_sentiment.labeling.labeled_set import WORKFORCE_FIELD, LabeledSet
from review_sentiment.labeling.queue import next_step
from review_sentiment.params import (
    DeploymentParams,
    ExtractionParams,
    FeatureParams,
    LabelingParams,
    RefreshParams,
    TrainingParams,
)
from review_sentiment.pipelines.data_extraction.nodes import (
    REVIEW_COLUMNS,
    clean_reviews,
    clean_text,
    parse_raw_reviews,
    select_review_fields,
    truncate_text,
)
from review_sentiment.pipelines.data_extraction.raw_file import RawFile

logger = logging.getLogger(__name__)

# The arrival file a label came from, also written in each label round's lines: {"file", "sha256"
# (of its content), "reviews" (its rows), "settled"}; settled means no review of that file was
# left waiting in that round, so an unchanged file is not read again (`read_arrivals`).
ARRIVAL_FIELD = "arrival"
ARRIVAL_COLUMNS = ["arrival", "arrival_sha256", "arrival_reviews"]


# --- new reviews ------------------------------------------------------------------------------


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


# --- this round's labels ---------------------------------------------------------------------


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


# --- the frozen test set ------------------------------------------------------------------------


def freeze_test_set(
    labeled_set: LabeledSet,
    test_set_before: dict | None,
    extraction: ExtractionParams,
    labeling: LabelingParams,
    params: RefreshParams,
) -> dict:
    """The one test set every candidate and the champion are scored on: the one frozen before,
    unless `params.rotate_test_set`; else a stratified, seeded share of the trusted labels so
    far (`params.test_set.trusted`), with its fingerprint, when and how it was drawn.

    Empty (`items: []`) while nothing is labeled.

    Raises:
        ValueError: labels exist but too few are trusted to draw a stratified test set.
    """
    from sklearn.model_selection import train_test_split

    from review_sentiment.registry import test_set_fingerprint

    if test_set_before and test_set_before.get("items") and not params.rotate_test_set:
        before = test_set_before
        logger.info(
            "Frozen test set: %d reviews, fingerprint %s…, drawn %s",
            len(before["items"]), before["fingerprint"][:12], before["created"],
        )  # fmt: skip
        return test_set_before
    metadata = f"{labeling.label_attribute}-metadata"
    trusted = [line for line in labeled_set.lines if _trusted(line, metadata, params.test_set.trusted)]
    if not labeled_set.lines:
        return {"items": []}
    labels = [line[metadata]["class-name"] for line in trusted]
    counts = pd.Series(labels, dtype=object).value_counts()
    if len(counts) < 2 or (counts < 2).any():
        raise ValueError(
            f"cannot draw the frozen test set: {len(trusted)} of {len(labeled_set.lines)} labels are "
            f"trusted ({', '.join(params.test_set.trusted)}), by class {counts.to_dict()}; each class "
            "needs 2 or more: label more reviews with people, or change refresh.test_set.trusted"
        )
    _, chosen = train_test_split(
        trusted, test_size=params.test_set.size, random_state=params.test_set.seed, stratify=labels
    )
    items = [
        {"key": item_key(line), "text": line["source"], "label": line[metadata]["class-name"]}
        for line in chosen
    ]
    test_set = {
        "fingerprint": test_set_fingerprint([i["text"] for i in items], [i["label"] for i in items]),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "how": (
            f"stratified {params.test_set.size:.0%} of {len(trusted)} trusted labels "
            f"({', '.join(params.test_set.trusted)}), seed {params.test_set.seed}"
        ),
        "rotated_from": (test_set_before or {}).get("fingerprint") if params.rotate_test_set else None,
        "items": items,
    }
    if test_set["rotated_from"]:
        logger.warning(
            "Frozen test set rotated on purpose (refresh.rotate_test_set): %d reviews, fingerprint "
            "%s… replaces %s…",
            len(items), test_set["fingerprint"][:12], test_set["rotated_from"][:12],
        )  # fmt: skip
    else:
        logger.info("Frozen test set drawn: %d reviews (%s)", len(items), test_set["how"])
    return test_set


def _trusted(line: dict, metadata: str, trusted: Sequence[str]) -> bool:
    by_people = line[metadata].get("human-annotated") == "yes"
    by_stars = line.get(WORKFORCE_FIELD) == "star_rating"
    return ("human" in trusted and by_people) or ("star_rating" in trusted and by_stars)


def test_reviews_of(test_set: dict) -> pd.DataFrame:
    """The frozen test set as a `text`, `label` table."""
    return pd.DataFrame(test_set.get("items") or [], columns=["key", "text", "label"])[["text", "label"]]


# --- candidate, gate, deployment ------------------------------------------------------------------


def train_candidate(
    labeled_set: LabeledSet,
    new_labels: list[dict],
    test_set: dict,
    labeling: LabelingParams,
    features: FeatureParams,
    training: TrainingParams,
) -> dict:
    """Both feature sets trained on every label so far except the frozen test set's; the better
    by cross-validation on those training labels (`training.search`: folds, max_rows) is the
    candidate, as in the training pipeline: the frozen test set scores both and gates the
    champion, it does not choose. No new labels: no candidate."""
    from review_sentiment.pipelines.feature_engineering.nodes import (
        build_bigram_features,
        build_tfidf_features,
    )
    from review_sentiment.pipelines.training.nodes import (
        MODEL_NAMES,
        build_bigram_model,
        build_tfidf_model,
        cross_validate_classifier,
        evaluate_classifier,
        fit_classifier,
        select_better_model_by_cv,
    )

    if not new_labels:
        return {"trained": False, "reason": "no new labels"}
    metadata = f"{labeling.label_attribute}-metadata"
    held_out = {item["key"] for item in test_set["items"]}
    train = pd.DataFrame(
        [
            {"text": line["source"], "label": line[metadata]["class-name"]}
            for line in labeled_set.lines
            if item_key(line) not in held_out
        ],
        columns=["text", "label"],
    )
    test = test_reviews_of(test_set)
    if train["label"].nunique() < 2:
        return {"trained": False, "reason": f"{len(train)} training labels of fewer than 2 classes"}
    vectorizer, bigram_train, bigram_test = build_bigram_features(train, test, features)
    transformer, tfidf_train, tfidf_test = build_tfidf_features(bigram_train, bigram_test)
    metrics, cv_metrics, classifiers = {}, {}, {}
    feature_sets = {"bigram": (bigram_train, bigram_test), "tfidf": (tfidf_train, tfidf_test)}
    for name, (x_train, x_test) in feature_sets.items():
        cv_metrics[name] = cross_validate_classifier(
            x_train, train, training.classifier, training.search
        )
        classifiers[name] = fit_classifier(x_train, train, training.classifier)
        metrics[name], _ = evaluate_classifier(
            classifiers[name], x_test, test, model=MODEL_NAMES[name], split="frozen test"
        )
    model, selection = select_better_model_by_cv(
        build_bigram_model(vectorizer, classifiers["bigram"]), cv_metrics["bigram"],
        build_tfidf_model(vectorizer, transformer, classifiers["tfidf"]), cv_metrics["tfidf"],
    )  # fmt: skip
    return {"trained": True, "model": model, "selection": selection, "metrics": metrics,
            "train_size": len(train), "test_size": len(test), "train": train}  # fmt: skip


def decide_champion(
    candidate: dict,
    test_set: dict,
    labeled_set: LabeledSet,
    extraction: ExtractionParams,
    params: RefreshParams,
    training: TrainingParams,
) -> dict:
    """Registers the candidate as a new version, with the labeled set and the frozen test set as
    its run's dataset inputs, and promotes it only if the gate passes (`champion_gate`): better
    on the frozen test set by more than the noise, no class's recall down past the floor.
    No candidate: nothing registered."""
    if not candidate.get("trained"):
        logger.info("Refresh: no candidate (%s): nothing registered", candidate.get("reason"))
        return {"registered": False, "promoted": False, "reason": candidate.get("reason")}
    from review_sentiment.champion_gate import judge_candidate
    from review_sentiment.pipelines.training.nodes import describe_registration, register_model
    from review_sentiment.registry import log_dataset_input

    test = test_reviews_of(test_set)
    labeled_version = labeled_set.version
    log_dataset_input(
        candidate["train"], name="labeled_set", context="training",
        source=f"label_rounds:{','.join(labeled_version['rounds'])}", digest=labeled_version["digest"],
    )  # fmt: skip
    log_dataset_input(
        test, name="frozen_test_set", context="test", source="refresh_test_set",
        digest=test_set["fingerprint"],
    )  # fmt: skip

    def gate(truth, predicted, champion):
        return judge_candidate(
            truth, predicted, champion, list(extraction.labels),
            significance=params.gate.significance, max_recall_drop=params.gate.max_recall_drop,
        )  # fmt: skip

    registration = register_model(
        candidate["model"], candidate["selection"], test, training,
        gate=gate,
        tags={"labeled_set_sha256": labeled_version["digest"],
              "labeled_set_rounds": ",".join(labeled_version["rounds"])},
    )  # fmt: skip
    logger.info("Refresh: %s", describe_registration(registration, training.champion_alias))
    feature_set = candidate["selection"]["feature_set"]
    return {**registration.__dict__, "registered": True, "feature_set": feature_set}


def redeploy_if_promoted(decision: dict, test_set: dict, params: DeploymentParams) -> dict:
    """Deploys the champion (`deploy_champion`: the local scoring server or SageMaker) and
    smoke-tests it, only if this refresh moved the champion; otherwise deploys nothing."""
    if not decision.get("promoted"):
        logger.info("Refresh: the champion did not change: nothing deployed")
        return {"deployed": False}
    from review_sentiment.pipelines.deployment.nodes import deploy_champion

    result = deploy_champion(decision, test_reviews_of(test_set), params)
    return {**result, "deployed": True}


# --- summary --------------------------------------------------------------------------------------


def summarise_refresh(  # noqa: PLR0913
    new_reviews: dict,
    new_labels: list[dict],
    labeling_summary: dict,
    labeling_queue: list,
    labeled_set: LabeledSet,
    test_set: dict,
    candidate: dict,
    decision: dict,
    deployment: dict,
    labeling: LabelingParams,
    params: RefreshParams,
) -> dict:
    """What this refresh did, for data/08_reporting/refresh_summary.json and MLflow, and the one
    line that says it."""
    labeled = bool(new_labels)
    labeled_version = labeled_set.version
    rotated = bool(params.rotate_test_set and test_set.get("rotated_from"))
    summary = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "new_reviews": new_reviews,
        "labeling": {
            "workforce": labeling.workforce,
            "round": labeled_set.appended if labeled else None,
            **labeling_summary,
            "queue": len(labeling_queue),
        },
        "labeled_set": {
            "digest": labeled_version["digest"],
            "items": labeled_version["items"],
            "rounds": list(labeled_version["rounds"]),
        },
        "test_set": {
            "fingerprint": test_set.get("fingerprint"),
            "reviews": len(test_set.get("items") or []),
            "created": test_set.get("created"),
            "rotated": rotated,
        },
        "candidate": {key: value for key, value in candidate.items() if key in _CANDIDATE_FACTS},
        "decision": decision,
        # Without the smoke test's predictions: the endpoint, its version and agreement.
        "deployment": {
            key: value for key, value in deployment.items() if key not in ("predictions", "expected")
        },
    }
    summary["line"] = _one_line(summary, labeling_queue)
    logger.info("%s", summary["line"])
    return summary


_CANDIDATE_FACTS = ("trained", "reason", "selection", "metrics", "train_size", "test_size")


def _one_line(summary: dict, queue: list) -> str:
    new = summary["new_reviews"]
    where = _where(new["arrivals"])
    if not new["new_reviews"]:
        return (
            f"Refresh: no new reviews in {where} ({new['seen_before']:,} seen before): nothing "
            "labeled, trained or deployed"
        )
    labeled = summary["labeling"]
    given = labeled["labeled_by_people"] + labeled["labeled_by_machine"]
    if not given:
        wait = f": {next_step(queue)}" if queue else ""
        return (
            f"Refresh: {new['new_reviews']:,} new reviews in {where}, none labeled yet{wait}; "
            "nothing trained or deployed"
        )
    decision, deployment = summary["decision"], summary["deployment"]
    if not decision.get("registered"):
        outcome = f"no candidate ({decision.get('reason')})"
    elif decision["promoted"]:
        outcome = f"v{decision['version']} promoted"
    else:
        outcome = f"v{decision['version']} registered, champion stays v{decision['champion_version']}"
    deployed = (
        f"deployed to {deployment.get('endpoint')}" if deployment.get("deployed") else "nothing deployed"
    )
    return (
        f"Refresh: {new['new_reviews']:,} new reviews, {given:,} labeled "
        f"({labeled['labeled_by_people']:,} by people, {labeled['labeled_by_machine']:,} by machine, "
        f"{labeled['workforce']}) in {labeled['round']}; {summary['labeled_set']['items']:,} labels "
        f"in all; {outcome}; {deployed}"
    )


def _where(arrivals: Sequence[str]) -> str:
    if not arrivals:
        return "the arrivals folder (empty)"
    files = f"{len(arrivals)} arrival file{'s' if len(arrivals) != 1 else ''}"
    return f"{files} (newest {PurePosixPath(arrivals[-1]).name})"
