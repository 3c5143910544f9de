"""The raw review file as stored, locally or on S3: where it is and how to open it, read on
demand. `reviews.reading.parse_raw_reviews` reads it with pandas (its bytes through fsspec) or
has Spark read it natively (`reviews.spark_engine`), and chooses the separator
(`data_extraction.separator` or the name)."""

from __future__ import annotations

import io
import os
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from kedro.io.core import AbstractDataset, DatasetError, get_filepath_str, get_protocol_and_path

from review_sentiment.reviews.errors import ReviewDataError


@dataclass(frozen=True)
class RawFile:
    """A raw file: its display path (`s3://bucket/key` or a local path) and either its bytes as
    stored (still compressed if it is) or the filesystem that opens it. Nothing is read until
    `content` or `open()` asks: the Spark engine never reads the file into this process."""

    path: str
    content_: bytes | None = field(default=None, repr=False, compare=False)
    fs: fsspec.AbstractFileSystem | None = field(default=None, repr=False, compare=False)
    fs_path: str | None = field(default=None, repr=False, compare=False)
    open_args: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __init__(  # noqa: PLR0913
        self,
        path: str,
        content: bytes | None = None,
        *,
        fs: fsspec.AbstractFileSystem | None = None,
        fs_path: str | None = None,
        open_args: dict[str, Any] | None = None,
    ) -> None:
        # A dataclass for its repr and equality (by path); `content` keeps the old signature.
        if content is None and fs is None:
            raise ValueError(f"RawFile {path}: give its content or the filesystem that holds it")
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "content_", content)
        object.__setattr__(self, "fs", fs)
        object.__setattr__(self, "fs_path", fs_path or path)
        object.__setattr__(self, "open_args", dict(open_args or {}))

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @cached_property
    def content(self) -> bytes:
        """The whole file's bytes, read once on first use (the pandas engine, the refresh's hash)."""
        if self.content_ is not None:
            return self.content_
        with self.open() as stream:
            return stream.read()

    def open(self) -> IO[bytes]:
        """A binary stream of the file as stored."""
        if self.content_ is not None:
            return io.BytesIO(self.content_)
        return self.fs.open(self.fs_path, **{**self.open_args, "mode": "rb"})

    def head(self, size: int = 8) -> bytes:
        """The first `size` bytes (compression magic numbers), without reading the rest."""
        if self.content_ is not None:
            return self.content_[:size]
        with self.open() as stream:
            return stream.read(size)

    @property
    def size(self) -> int:
        """Bytes as stored."""
        if self.content_ is not None:
            return len(self.content_)
        return int(self.fs.size(self.fs_path))

    @property
    def local_path(self) -> str | None:
        """The path on this machine's filesystem, or None for a file elsewhere (S3) or in memory."""
        if isinstance(self.fs, LocalFileSystem):
            return self.fs_path
        return None


class RawFileDataset(AbstractDataset[RawFile, RawFile]):
    """Loads one file as a lazy `RawFile` (its location and filesystem; bytes on demand);
    read-only.

    The catalog keeps the file's location and credentials, as for any dataset; the table is
    parsed by a node because its separator and engine are parameters (`data_extraction.*`),
    which a catalog entry cannot read, and `kedro run --params` cannot carry a comma.

    Examples:
        ```yaml
        raw_reviews:
          type: review_sentiment.datasets.raw_file.RawFileDataset
          filepath: s3://my-bucket/01_raw/amazon_reviews_us_Electronics_v1_00.tsv.gz
          credentials: s3
        ```
    """

    def __init__(
        self,
        *,
        filepath: str | os.PathLike,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Args:
        filepath: a local path or a URL such as ``s3://bucket/key``.
        credentials, fs_args: passed to the fsspec filesystem (``open_args_load`` to ``open``).
        metadata: ignored by Kedro.
        """
        _fs_args = deepcopy(fs_args) or {}
        self._fs_open_args_load: dict[str, Any] = _fs_args.pop("open_args_load", {})
        protocol, path = get_protocol_and_path(str(filepath))
        self._protocol = protocol
        # `_fs` and `_filepath` are the names hooks.SourceNameHooks and the S3 access check read.
        self._filepath = PurePosixPath(path)
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **_fs_args)
        self.metadata = metadata

    @property
    def _display_path(self) -> str:
        path = get_filepath_str(self._filepath, self._protocol)
        return path if self._protocol == "file" else f"{self._protocol}://{self._filepath}"

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol}

    def load(self) -> RawFile:
        path = get_filepath_str(self._filepath, self._protocol)
        if not self._fs.exists(path):
            raise ReviewDataError(
                f"{self._display_path}: no such file (dataset raw_reviews); point it at your "
                "reviews with `kedro run --params raw_reviews_path=<path or s3:// URL>`"
            )
        return RawFile(
            self._display_path, fs=self._fs, fs_path=path, open_args=self._fs_open_args_load
        )

    def save(self, data: RawFile) -> None:
        raise DatasetError(
            f"{self._display_path}: raw_reviews is read-only (the reviews as delivered)"
        )

    def _exists(self) -> bool:
        return self._fs.exists(get_filepath_str(self._filepath, self._protocol))
