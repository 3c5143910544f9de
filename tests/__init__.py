"""Helpers shared by the test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow

_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@contextmanager
def mlflow_store(database: Path) -> Iterator[str]:
    """MLflow tracking and registry in the SQLite file `database`; yields its URI.

    Afterwards MLflow takes its URIs from the environment again, as before: `set_tracking_uri`
    and `set_registry_uri` also write MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI, and
    `get_registry_uri()` answers the tracking URI when no registry was set, so saving and
    setting back what they read would leave the next test pointed at this store.
    """
    saved_env = {name: os.environ.get(name) for name in _URI_VARIABLES}
    uri = f"sqlite:///{database}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield uri
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def train_original_models_only(project: Path) -> None:
    """Empties `training.search`'s space in the project copy's conf/base, so training chooses
    between the original workflow's two models only (the two always in the space)."""
    import yaml

    path = project / "conf/base/parameters_training.yml"
    parameters = yaml.safe_load(path.read_text())
    parameters["training"]["search"].update(classifiers={}, candidates={})
    path.write_text(yaml.safe_dump(parameters))
