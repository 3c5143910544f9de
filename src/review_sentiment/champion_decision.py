"""The champion decision in one line, for the training log and the run summary alike (kept free
of MLflow imports: the summary hook is loaded by every kedro command)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def describe_decision(registration: Mapping[str, Any], alias: str) -> str:
    """What registration decided and why, from `Registration`'s fields (as in
    model_registration.json), e.g. `review-sentiment v2 registered, not promoted: test macro-F1
    0.510 ≤ champion v1 0.520 on the same test set`."""
    if registration.get("registered") is False:
        champion = registration.get("champion_version")
        stays = f"{alias} stays v{champion}" if champion is not None else f"no {alias}"
        return (
            f"{registration['model_name']}: no new version, the same training (rows, parameters "
            f"and code) is v{registration['version']}; {stays}"
        )
    new = f"{registration['model_name']} v{registration['version']} registered"
    gate = registration.get("gate")
    if gate:  # the refresh's gate on the frozen test set (champion_gate)
        before = registration.get("previous_champion_version")
        verdict = f"promoted to {alias}" if registration["promoted"] else f"not promoted, {alias} stays v{before}"
        against = f" (vs {alias} v{before})" if before is not None else ""
        return f"{new}, {verdict} on the frozen test set{against}: {gate['reason']}"
    score = f"test macro-F1 {registration['macro_f1']:.3f}"
    before = registration.get("previous_champion_version")
    if before is None:
        return f"{new} and promoted to {alias}: {score}, no {alias} before"
    champion_score = registration["previous_champion_macro_f1"]
    champion = f"{alias} v{before} {champion_score:.3f} on the same test set"
    if registration["promoted"]:
        return f"{new} and promoted to {alias}: {score} > {champion}"
    return f"{new}, not promoted: {score} ≤ {champion}"
