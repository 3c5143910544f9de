"""What a refresh did, for data/08_reporting/refresh_summary.json and MLflow, and its one line."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath

from review_sentiment.labeling.labeled_set import LabeledSet
from review_sentiment.labeling.queue import next_step
from review_sentiment.params import LabelingParams, RefreshParams

logger = logging.getLogger(__name__)


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
        nothing = "no new version" if summary["candidate"].get("trained") else "no candidate"
        outcome = f"{nothing} ({decision.get('reason')})"
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
