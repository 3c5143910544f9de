"""Helpers shared by the dataset tests."""

from __future__ import annotations

import errno

from review_sentiment.files import ReplacingFile


def disk_full_halfway(monkeypatch) -> None:
    """Every whole-file write (`files.ReplacingFile`) writes half of what it is given, then
    reports a full disk: a save that fails midway."""

    def write(self, data):
        ReplacingFile.__mro__[1].write(self, bytes(data)[: len(data) // 2])
        self.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ReplacingFile, "write", write)
