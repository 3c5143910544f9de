"""A JSON file that keeps its previous version beside it, such as the refresh's frozen test set:
a file that must never be lost, even if it is cut off or edited into something unreadable."""

from __future__ import annotations

import json
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.json import JSONDataset as _KedroJSONDataset

from review_sentiment.files import replace_file_atomically


class JSONDataset(_KedroJSONDataset):
    """kedro-datasets' `JSONDataset`; with `keep_previous: true`, a save that changes the file
    first copies the file it replaces to `<name>.previous.json` beside it (whole or not at all).

    A save of the same content keeps the previous version as it is, so the file re-saved every
    run (the frozen test set) still has the version before its last change; nor does an
    unreadable file replace a good previous version. When the file cannot be read, the project's
    catalog (`files.ProjectDataCatalog`) says how to restore the previous version.

    Examples:
        ```yaml
        frozen_test_set:
          type: review_sentiment.datasets.JSONDataset
          filepath: data/05_model_input/refresh_test_set.json
          keep_previous: true
        ```
    """

    def __init__(self, *, keep_previous: bool = False, **kwargs: Any) -> None:
        """Args: `keep_previous`, whether saves keep the replaced version; the rest as
        kedro-datasets' `JSONDataset`'s.

        Raises:
            DatasetError: `keep_previous` on a versioned dataset, which keeps every version.
        """
        super().__init__(**kwargs)
        if keep_previous and self._version is not None:
            raise DatasetError(
                f"{type(self).__name__} '{self._filepath}': keep_previous and versioned together; "
                "a versioned dataset keeps every version already: choose one"
            )
        self._keep_previous = keep_previous

    @property
    def previous_path(self) -> str | None:
        """Where the previous version is kept (as the filesystem names it), or None."""
        if not self._keep_previous:
            return None
        path = self._filepath
        previous = path.with_name(f"{path.stem}.previous{path.suffix}")
        return get_filepath_str(previous, self._protocol)

    def save(self, data: Any) -> None:
        if self._keep_previous:
            self._keep_replaced_version(data)
        super().save(data)

    def _keep_replaced_version(self, data: Any) -> None:
        path = get_filepath_str(self._filepath, self._protocol)
        if not self._fs.exists(path):
            return
        current = self._fs.cat_file(path)
        try:
            unchanged = json.loads(current) == json.loads(json.dumps(data, **self._save_args))
        except ValueError:
            return  # unreadable: the previous version is the one worth keeping
        if unchanged:
            return
        if isinstance(self._fs, LocalFileSystem):
            replace_file_atomically(self.previous_path, current)
        else:
            # One PUT (or a multipart upload aborted on failure): the old object or the new one.
            self._fs.pipe_file(self.previous_path, current)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "keep_previous": self._keep_previous}
