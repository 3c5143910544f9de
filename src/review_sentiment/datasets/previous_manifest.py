"""The output manifest as the previous run left it, read before the run writes a new one."""

from __future__ import annotations

from review_sentiment.datasets.manifest import ManifestDataset, ManifestError


class PreviousManifestDataset(ManifestDataset):
    """A `ManifestDataset` that loads as no lines when the file does not exist yet (the first run).

    Points at the same file as the manifest a node writes, under another name, so that the node
    can read what is there before it replaces it; Kedro sees two datasets and no cycle.
    """

    def load(self) -> list[dict]:
        if not self._exists():
            return []
        try:
            return super().load()
        except ManifestError as error:
            # Its labels are read only to adopt those no label round holds (labeling.labeled_set).
            raise ManifestError(
                f"{error}; fix that line, or delete the file: the next labeling run writes it again "
                "from the label rounds (labels only in this file would be lost)"
            ) from None
