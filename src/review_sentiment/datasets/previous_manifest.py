"""The output manifest as the previous run left it, read before the run writes a new one."""

from __future__ import annotations

from review_sentiment.datasets.manifest import ManifestDataset


class PreviousManifestDataset(ManifestDataset):
    """A `ManifestDataset` that loads as no lines when the file does not exist yet (the first run).

    Points at the same file as the manifest a node writes, under another name, so that the node
    can read what is there before it replaces it; Kedro sees two datasets and no cycle.
    """

    def load(self) -> list[dict]:
        if not self._exists():
            return []
        return super().load()
