"""The labeling app's store, read by the labeling pipeline as a table of people's labels."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from review_sentiment.labeling_app.store import ANNOTATION_COLUMNS, LabelStore


class LabelStoreDataset(AbstractDataset[None, pd.DataFrame]):
    """Loads the standing labels of a `LabelStore` (SQLite file) as a DataFrame.

    Read-only: labels are written by the labeling app, one commit per answer, never by a run.
    A store that does not exist yet has no labels: an empty table, so a pipeline that can use
    people's labels still runs before anyone has labeled.
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        if not Path(self._filepath).exists():
            return pd.DataFrame(columns=ANNOTATION_COLUMNS)
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
