"""A JSON file that may not have been written yet, such as the labeling queue before any run."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from review_sentiment.datasets.json_file import JSONDataset


class OptionalJSONDataset(JSONDataset):
    """The project's `JSONDataset`, loading `default` instead of failing when the file is absent.

    A pipeline can then take another pipeline's output as an optional input: running it alone,
    before the other has ever run, is not an error.

    Examples:
        ```yaml
        # A JSON list of item keys, or {"item": key, "answers": n} (see labeling.queue).
        labeling_queue:
          type: review_sentiment.datasets.OptionalJSONDataset
          filepath: data/03_primary/labeling_queue.json
        ```
    """

    def __init__(self, *, default: Any = None, **kwargs: Any) -> None:
        """Args: `default`, loaded while the file does not exist; the rest as `JSONDataset`'s."""
        super().__init__(**kwargs)
        self._default = default

    def load(self) -> Any:
        if not self._exists():
            return deepcopy(self._default)
        return super().load()

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "default": self._default}
