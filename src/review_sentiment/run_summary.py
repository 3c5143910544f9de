"""The last lines of `kedro run`: what the run produced (reviews kept, labels and who gave them,
each candidate's test macro-F1, the champion decision, where the endpoint answered), taken from
the outputs of the nodes that ran, so `kedro run --pipelines training` summarises training only.

Light to import: settings.py imports it for every `kedro` command.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

from review_sentiment.champion_decision import describe_decision
from review_sentiment.progress import format_seconds

logger = logging.getLogger(__name__)

# Outputs the summary reads, kept as small facts (counts, scores), never the data itself.
_COUNTED = {"input_manifest", "label_review_queue", "train_reviews", "test_reviews"}
_DICTS = {
    "cleaning_report", "labeling_summary", "manifest_report", "model_selection",
    "model_registration", "deployment_smoke_test",
}  # fmt: skip
_TEST_METRICS_SUFFIX = "_test_metrics"
# The chosen model's test metrics are `chosen_test_metrics` (pipelines/training).
_CHOSEN = "chosen"
_SLOWEST_SHOWN = 3


class RunSummaryHooks:
    """Collects what each node returned and logs the summary after the pipeline has run."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._facts: dict[str, Any] = {}
        self._params: dict[str, Any] = {}
        self._node_started: dict[str, float] = {}
        self._node_seconds: dict[str, float] = {}
        self._run_started = time.monotonic()
        self._mlflow_run: tuple[str, str] | None = None

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._reset()

    @hook_impl
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        self._node_started[node.name] = time.monotonic()
        for name in ("params:labeling", "params:training"):
            if name in inputs:
                self._params[name] = inputs[name]

    @hook_impl
    def after_node_run(self, node: Node, outputs: dict[str, Any]) -> None:
        started = self._node_started.pop(node.name, None)
        if started is not None:
            self._node_seconds[node.name] = time.monotonic() - started
        for name, value in outputs.items():
            fact = _fact(name, value)
            if fact is not None:
                self._facts[name] = fact
        # Only if MLflow is already loaded: a run that logs nothing to MLflow never imports it.
        mlflow = sys.modules.get("mlflow")
        run = mlflow.active_run() if mlflow is not None else None
        if run is not None:
            self._mlflow_run = (run.info.run_id, mlflow.get_tracking_uri())

    @hook_impl
    def after_pipeline_run(self) -> None:
        try:
            lines = summary_lines(
                self._facts,
                self._node_seconds,
                seconds=time.monotonic() - self._run_started,
                workforce=_field(self._params.get("params:labeling"), "workforce"),
                alias=_field(self._params.get("params:training"), "champion_alias") or "champion",
                mlflow_run=self._mlflow_run,
            )
        except Exception as error:  # the run's work is done and saved: a summary bug must not fail it
            logger.warning("No run summary: %s: %s", type(error).__name__, error)
            return
        for line in lines:
            logger.info("%s", line)


def summary_lines(
    facts: Mapping[str, Any],
    node_seconds: Mapping[str, float],
    *,
    seconds: float,
    workforce: str | None = None,
    alias: str = "champion",
    mlflow_run: tuple[str, str] | None = None,
) -> list[str]:
    """The summary, one string per line: a header with the nodes and time, then one line per
    part of the flow that ran (data, labels, features, models, champion, endpoint, MLflow)."""
    lines = [_header(node_seconds, seconds)]
    for part in (
        _data(facts),
        _labels(facts, workforce),
        _features(facts),
        _models(facts),
        _champion(facts, alias),
        _endpoint(facts),
        facts.get("refresh_summary", ""),
    ):
        if part:
            lines.append(f"  {part}")
    if mlflow_run is not None:
        run_id, tracking_uri = mlflow_run
        lines.append(f"  MLflow: run {run_id} in {tracking_uri}")
    return lines


def _fact(name: str, value: Any) -> Any:
    """What the summary keeps of one node output, or None when it does not use it."""
    if name in _COUNTED and hasattr(value, "__len__"):
        return len(value)
    if name in _DICTS and isinstance(value, Mapping):
        # Without the smoke test's predictions: only counts and names are summarised.
        return {key: item for key, item in value.items() if not isinstance(item, list | tuple)}
    if name == "refresh_summary" and isinstance(value, Mapping):
        return value.get("line")  # the refresh's one-line result (pipelines/refresh)
    if name.endswith(_TEST_METRICS_SUFFIX) and isinstance(value, Mapping) and "macro_f1" in value:
        return float(value["macro_f1"])
    return None


def _field(params: Any, name: str) -> Any:
    """A parameter from a typed parameter model or a plain dict (None when absent)."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        return params.get(name)
    return getattr(params, name, None)


def _header(node_seconds: Mapping[str, float], seconds: float) -> str:
    count = len(node_seconds)
    header = f"Run summary: {count} node{'' if count == 1 else 's'} in {format_seconds(seconds)}"
    slowest = sorted(node_seconds.items(), key=lambda item: item[1], reverse=True)[:_SLOWEST_SHOWN]
    if count > 1 and slowest:
        header += "; slowest " + ", ".join(f"{name} {format_seconds(s)}" for name, s in slowest)
    return header


def _data(facts: Mapping[str, Any]) -> str:
    report = facts.get("cleaning_report")
    manifest = facts.get("input_manifest")
    if report is None and manifest is None:
        return ""
    parts = []
    if report is not None:
        dropped = {
            "duplicate": report.get("duplicate_texts_dropped", 0),
            "empty": report.get("empty_texts_dropped", 0),
            "too long": report.get("too_long_texts_skipped", 0),
        }
        why = ", ".join(f"{n:,} {what}" for what, n in dropped.items() if n)
        parts.append(
            f"{report.get('rows_kept', 0):,} of {report.get('rows_read', 0):,} reviews kept"
            + (f" (dropped: {why})" if why else "")
        )
    if manifest is not None:
        parts.append(f"{manifest:,} in the input manifest")
    return "data: " + ", ".join(parts)


def _labels(facts: Mapping[str, Any], workforce: str | None) -> str:
    summary = facts.get("labeling_summary")
    issues = facts.get("label_review_queue")
    if summary is None and issues is None:
        return ""
    parts = []
    if summary is not None:
        people = summary.get("labeled_by_people", 0)
        machine = summary.get("labeled_by_machine", 0)
        by = f" ({workforce})" if workforce else ""
        parts.append(
            f"{people + machine:,} of {summary.get('items', 0):,} reviews labeled{by}: "
            f"{people:,} by people, {machine:,} by machine"
        )
        if summary.get("queued_for_people"):
            parts.append(f"{summary['queued_for_people']:,} waiting for people (labeling_queue.json)")
    if issues is not None:
        parts.append(f"{issues:,} likely label errors to check (label_review_queue.json)")
    return "labels: " + "; ".join(parts)


def _features(facts: Mapping[str, Any]) -> str:
    report = facts.get("manifest_report")
    train, test = facts.get("train_reviews"), facts.get("test_reviews")
    parts = []
    if report is not None:
        quarantined = report.get("lines_quarantined", 0)
        parts.append(
            f"{report.get('reviews_read', 0):,} labeled reviews read"
            + (f", {quarantined:,} lines quarantined" if quarantined else "")
        )
    if train is not None and test is not None:
        parts.append(f"{train:,} train / {test:,} test")
    return "features: " + ", ".join(parts) if parts else ""


def _models(facts: Mapping[str, Any]) -> str:
    """`models: test macro-F1 <chosen> 0.644 (chosen), tfidf 0.609, bigram 0.594`: the chosen
    candidate and the original two on the test split."""
    selection = facts.get("model_selection") or {}
    chosen = selection.get("feature_set")
    scores = {
        name.removesuffix(_TEST_METRICS_SUFFIX): score
        for name, score in facts.items()
        if name.endswith(_TEST_METRICS_SUFFIX)
    }
    if not scores:
        return ""
    shown = {
        (f"{chosen} (chosen)" if name == _CHOSEN and chosen else name): score
        for name, score in scores.items()
    }
    line = "models: test macro-F1 " + ", ".join(
        f"{name} {score:.3f}" for name, score in sorted(shown.items(), key=lambda item: -item[1])
    )
    if chosen and _CHOSEN not in scores:
        line += f"; {chosen} chosen"
    return line


def _champion(facts: Mapping[str, Any], alias: str) -> str:
    """`champion: review-sentiment v2 registered, not promoted: test macro-F1 0.510 ≤ champion v1
    0.520 on the same test set`, from model_registration.json's fields."""
    registration = facts.get("model_registration")
    if registration is None:
        return ""
    return f"champion: {describe_decision(registration, alias)}"


def _endpoint(facts: Mapping[str, Any]) -> str:
    smoke = facts.get("deployment_smoke_test")
    if smoke is None:
        return ""
    reviews = smoke.get("reviews", 0)
    agreeing = round(smoke.get("agreement", 0) * reviews)
    served = f"{smoke.get('model_uri')} (v{smoke.get('registered_version')})"
    answered = f"{agreeing} of {reviews} test reviews labeled as the test set says"
    if "macro_f1" in smoke:
        answered += f" (macro-F1 {smoke['macro_f1']:.3f}, chance {smoke['chance_macro_f1']:.3f})"
    if smoke.get("warnings"):
        answered += "; WARNING: " + "; ".join(smoke["warnings"])
    if "action" in smoke:  # SageMaker
        return (
            f"endpoint: SageMaker endpoint {smoke.get('endpoint')} ({smoke.get('region')}, "
            f"{smoke['action']}) serves {served}: {answered}"
        )
    return (
        f"endpoint: {smoke.get('endpoint')} served {served}: {answered} "
        "(a smoke test: stopped since, `make serve` serves the champion)"
    )
