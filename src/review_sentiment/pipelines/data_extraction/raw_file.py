"""The raw review file as stored, locally or on S3: its bytes and its name, parsed by the
`parse_raw_reviews` node, which chooses the separator (`data_extraction.separator` or the name)."""

from __future__ import annotations

import os
from copy import deepcopy
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import AbstractDataset, DatasetError, get_filepath_str, get_protocol_and_path

from review_sentiment.pipelines.data_extraction.errors import ReviewDataError


@dataclass(frozen=True)
class RawFile:
    """A file's bytes as stored (still compressed if it is) and where they came from."""

    path: str
    content: bytes

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


class RawFileDataset(AbstractDataset[RawFile, RawFile]):
    """Loads one file whole as a `RawFile`; read-only.

    The catalog keeps the file's location and credentials, as for any dataset; the table is
    parsed by a node because its separator is a parameter (`data_extraction.separator`), which a
    catalog entry cannot read, and `kedro run --params` cannot carry a comma.

    Examples:
        ```yaml
        raw_reviews:
          type: review_sentiment.pipelines.data_extraction.raw_file.RawFileDataset
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
        with self._fs.open(path, **{**self._fs_open_args_load, "mode": "rb"}) as stream:
            return RawFile(path=self._display_path, content=stream.read())

    def save(self, data: RawFile) -> None:
        raise DatasetError(
            f"{self._display_path}: raw_reviews is read-only (the reviews as delivered)"
        )

    def _exists(self) -> bool:
        return self._fs.exists(get_filepath_str(self._filepath, self._protocol))
