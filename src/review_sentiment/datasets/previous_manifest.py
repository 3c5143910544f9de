"""The output manifest as the previous run left it, read before the run writes a new one."""

from __future__ import annotations

from collections.abc import Iterator

from review_sentiment.datasets.manifest import ManifestDataset, ManifestError
from review_sentiment.ground_truth.manifest import iter_manifest
from review_sentiment.ground_truth.records import LineProblem


class PreviousManifestDataset(ManifestDataset):
    """A `ManifestDataset` loaded as its lines one at a time, and as no lines when the file does
    not exist yet (the first run).

    Points at the same file as the manifest a node writes, under another name, so that the node
    can read what is there before it replaces it; Kedro sees two datasets and no cycle. Its
    reader (`labeling.labeled_set.collect_labeled_set`) keeps only the lines no label round
    holds, so the lines are parsed as it asks for them, never all held at once.
    """

    def load(self) -> Iterator[dict]:
        if not self._exists():
            return iter(())
        return _lines(*self._read())


def _lines(content: bytes, path: str) -> Iterator[dict]:
    for number, value in iter_manifest(content):
        if isinstance(value, LineProblem):
            raise ManifestError(
                f"{ManifestError.at(path, number, value)}; fix that line, or delete the file: the "
                "next labeling run writes it again from the label rounds (labels only in this file "
                "would be lost)"
            )
        yield value
