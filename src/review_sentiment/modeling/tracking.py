"""The search in MLflow: one nested run per candidate under the active (parent) run, with its
parameters, CV mean and spread, fit time and model size. Called from one node tagged `mlflow`.

Each nested run has params `feature_set`, `classifier`, `kind`, `calibrated`, `original`,
`features.<field>` (the feature set) and `classifier.<argument>`; metrics `cv.macro_f1_mean`,
`cv.macro_f1_std`, `cv.accuracy_mean`, `cv.accuracy_std`, `fit_seconds`, `model_size_bytes`,
`coefficients`, and `cv.macro_f1_fold` once per fold (step = fold); tags `model_search.chosen` and
`model_search.within_noise` (true/false).
"""

from __future__ import annotations

from typing import Any

import mlflow

METRICS = (
    "cv.macro_f1_mean", "cv.macro_f1_std", "cv.accuracy_mean", "cv.accuracy_std",
    "fit_seconds", "model_size_bytes", "coefficients",
)  # fmt: skip


class SearchTrackingError(RuntimeError):
    """The candidates cannot be logged: no parent run."""


def log_candidate_runs(search: dict[str, Any]) -> dict[str, str]:
    """One nested run per candidate of `search` (what `search_models` returns) under the active
    run; returns each candidate's run id.

    Raises:
        SearchTrackingError: no active MLflow run to nest them under.
    """
    parent = mlflow.active_run()
    if parent is None:
        raise SearchTrackingError(
            "logging the model search needs an active MLflow run (kedro-mlflow starts one; "
            "elsewhere use `with mlflow.start_run():`)"
        )
    choice = search["choice"]
    run_ids = {}
    for result in search["candidates"]:
        name = result["name"]
        # In the parent's experiment: without it MLflow would use the default experiment.
        with mlflow.start_run(
            run_name=name[:250], nested=True, experiment_id=parent.info.experiment_id
        ) as run:
            mlflow.log_params(_params(result))
            mlflow.log_metrics(
                {
                    "cv.macro_f1_mean": result["macro_f1_mean"],
                    "cv.macro_f1_std": result["macro_f1_std"],
                    "cv.accuracy_mean": result["accuracy_mean"],
                    "cv.accuracy_std": result["accuracy_std"],
                    "fit_seconds": result["fit_seconds"],
                    "model_size_bytes": result["model_size_bytes"],
                    "coefficients": result["coefficients"],
                }
            )
            for fold, score in enumerate(result["cv_macro_f1"]):
                mlflow.log_metric("cv.macro_f1_fold", score, step=fold)
            mlflow.set_tags(
                {
                    "model_search.candidate": name,
                    "model_search.chosen": str(name == choice["chosen"]).lower(),
                    "model_search.within_noise": str(name in choice["within_noise"]).lower(),
                }
            )
            run_ids[name] = run.info.run_id
    return run_ids


def _params(result: dict[str, Any]) -> dict[str, str]:
    params = {
        "feature_set": result["feature_set"],
        "classifier": result["classifier"],
        "kind": result["kind"],
        "calibrated": result["calibrated"],
        "original": result["original"],
    }
    params.update({f"features.{key}": value for key, value in result["features"].items()})
    params.update({f"classifier.{key}": value for key, value in result["params"].items()})
    return {key: str(value) for key, value in params.items()}
