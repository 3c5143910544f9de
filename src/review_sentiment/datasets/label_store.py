"""The labeling app's store, read by the labeling pipeline as a table of people's labels."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from review_sentiment.labeling_app.store import LabelStore, annotation_frame


class LabelStoreDataset(AbstractDataset[None, pd.DataFrame]):
    """Loads the standing labels of every labeling job in a `LabelStore` (SQLite file).

    Columns `ANNOTATION_COLUMNS` of `review_sentiment.labeling_app.store`: job_name,
    manifest_fingerprint, item_key, source_sha1, annotator, class_name, seconds, created_at. Each
    label appears once, under the job it was given in; a later job of the same name counts it
    for the same (item_key, source_sha1), so select a job's labels by name and those two.

    Read-only: labels are written by the labeling app, one commit per answer, never by a run.
    A store that does not exist yet has no labels: an empty table, so a pipeline that can use
    people's labels still runs before anyone has labeled. A store written before labeling jobs
    existed is migrated when first opened (its labels come under job "(before jobs)").
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        if not Path(self._filepath).exists():
            return annotation_frame([])
        with LabelStore(Path(self._filepath)) as store:
            return store.annotations()

    def save(self, data: Any) -> None:
        raise DatasetError(
            f"{self._filepath} is written by the labeling app "
            "(python -m review_sentiment.labeling_app serve), not by a pipeline run"
        )

    def _exists(self) -> bool:
        return Path(self._filepath).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
