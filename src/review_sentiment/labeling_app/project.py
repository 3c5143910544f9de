"""What the labeling app serves when started in the project folder: the files of the Kedro catalog
entries it reads and writes, and the labeling job's name and people per item from the parameters,
so that the Makefile and the pipelines cannot disagree about them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# serve option -> catalog entry
CATALOG_ENTRIES = {
    "manifest": "input_manifest",
    "instructions": "worker_instructions",
    "categories": "label_categories",
    "store": "human_annotations",
    "priority": "labeling_queue",
}


class ProjectConfigError(ValueError):
    """The project's configuration does not give the labeling app what it needs."""


def read_project_config(project_path: Path, env: str | None) -> dict[str, Any]:
    """The app's inputs from the Kedro project at `project_path` in environment `env` (by default
    `KEDRO_ENV`, else Kedro's default run environment), read as `kedro run` would read them.

    Returns:
        `{"manifest", "instructions", "categories", "store": Path, "priority": Path | None,
        "job_name": str, "per_item": int}`; `priority` is `None` when its file does not exist
        (nothing queued yet). Relative catalog paths are taken from `project_path`.

    Raises:
        ProjectConfigError: not a Kedro project, an entry is missing or has no `filepath`, or a
            path is not local (the app reads and writes local files only).
    """
    from kedro.framework.project import settings
    from kedro.framework.startup import bootstrap_project

    from review_sentiment.params import LabelingParams

    project_path = project_path.resolve()
    env = env or os.environ.get("KEDRO_ENV")
    try:
        bootstrap_project(project_path)
    except RuntimeError as error:  # Kedro's "Could not find the project configuration file"
        raise ProjectConfigError(
            f"{project_path} is not a Kedro project ({error}): run in the project folder or pass "
            "--manifest, --instructions, --categories, --store, --job-name and --per-item"
        ) from error
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project_path / settings.CONF_SOURCE), env=env, **settings.CONFIG_LOADER_ARGS
    )
    where = f"the catalog of {project_path / settings.CONF_SOURCE} (env {env or 'default'})"
    catalog = loader["catalog"]
    config: dict[str, Any] = {
        option: _local_path(catalog, entry, option, project_path, where)
        for option, entry in CATALOG_ENTRIES.items()
    }
    _remove_leftover_temp_files(catalog, project_path)
    if not config["priority"].exists():
        config["priority"] = None
    labeling = LabelingParams.model_validate(loader["parameters"].get("labeling", {}))
    return {**config, "job_name": labeling.job_name, "per_item": labeling.people.per_item}


def _local_path(
    catalog: dict[str, Any], entry: str, option: str, project_path: Path, where: str
) -> Path:
    from kedro.io.core import get_protocol_and_path

    filepath = (catalog.get(entry) or {}).get("filepath")
    if not filepath:
        raise ProjectConfigError(f"{where} has no entry {entry!r} with a filepath: pass --{option}")
    protocol, path = get_protocol_and_path(str(filepath))
    if protocol != "file":
        raise ProjectConfigError(
            f"{where}: {entry} is {filepath}, but the labeling app reads and writes local files "
            f"only: copy it here and pass --{option} PATH"
        )
    return project_path / path


def check_priority_file(path: Path) -> None:
    """Reads the labeling queue at `path` as a run reads `labeling_queue`.

    Raises:
        CorruptFileError: it is cut off, empty or not JSON; the message, one line, names the file
            and what to do (in a project: the pipeline that rebuilds it).
    """
    from review_sentiment.files import ProjectDataCatalog

    entry = {"type": "review_sentiment.datasets.OptionalJSONDataset", "filepath": str(path)}
    ProjectDataCatalog.from_config({CATALOG_ENTRIES["priority"]: entry}).load(
        CATALOG_ENTRIES["priority"]
    )


def _remove_leftover_temp_files(catalog: dict[str, Any], project_path: Path) -> None:
    """As a run does before it starts (`hooks.LeftoverTempFileHooks`): killed writers' files."""
    from review_sentiment.files import catalog_folders, remove_leftover_temp_files

    removed = remove_leftover_temp_files(catalog_folders(catalog, project_path))
    if removed:
        logger.info("Removed %d temporary file(s) left by killed runs", len(removed))
