"""Flat metric dicts (`{"macro_f1": 0.91}`) logged as MLflow metrics."""

from __future__ import annotations

from kedro_mlflow.io.metrics import MlflowMetricsHistoryDataset


class MlflowFlatMetricsDataset(MlflowMetricsHistoryDataset):
    """kedro-mlflow's metrics dataset, taking the plain dict nodes return.

    The parent wants `{"name": {"value": v, "step": s}}`; nodes should not know that format,
    so each number is logged once at step 0 under `<prefix>.<name>`.
    """

    def _save(self, data: dict[str, float]) -> None:
        super()._save({name: {"value": float(value), "step": 0} for name, value in data.items()})
