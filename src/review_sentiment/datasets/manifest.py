"""Kedro dataset for SageMaker Ground Truth manifests (JSON Lines, one object per line).

Saves are whole-or-nothing: a temporary file renamed over the target locally, one
upload on object stores. Loads check each line with the format's one line reader
(`ground_truth.manifest.parse_manifest`) and name the file and line of the first bad one.
"""

from __future__ import annotations

import os
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)

from review_sentiment.files import replace_file_atomically
from review_sentiment.ground_truth.manifest import ManifestError, parse_manifest, serialise_manifest

__all__ = ["ManifestDataset", "ManifestError"]


class ManifestDataset(AbstractVersionedDataset[list[dict], list[dict]]):
    """Loads and saves a Ground Truth manifest as a list of dicts, locally or on S3.

    Examples:
        ```yaml
        input_manifest:
          type: review_sentiment.datasets.ManifestDataset
          filepath: s3://my-bucket/labeling/input.manifest
          credentials: s3_credentials
          versioned: true
        ```

        >>> dataset = ManifestDataset(filepath=tmp_path / "input.manifest")
        >>> dataset.save([{"source": "Great product"}])
        >>> dataset.load()
        [{'source': 'Great product'}]
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str | os.PathLike,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates a ``ManifestDataset`` for one manifest file.

        Args:
            filepath: Path to the manifest, optionally prefixed with a protocol
                such as ``s3://``; without one the local filesystem is used.
            version: Kedro version to load/save; ``None`` disables versioning.
            credentials: Passed to the fsspec filesystem, e.g.
                ``{"key": ..., "secret": ..., "client_kwargs": {"endpoint_url": ...}}`` for S3.
            fs_args: Passed to the fsspec filesystem constructor, except
                ``open_args_load``, which is passed to ``open`` when loading. There is
                no ``open_args_save``: the file is always written whole as UTF-8 bytes
                (use ``s3_additional_kwargs`` for S3 upload options such as encryption).
            metadata: Arbitrary metadata, ignored by Kedro.

        Raises:
            DatasetError: if ``fs_args`` contains ``open_args_save``.
        """
        _fs_args = deepcopy(fs_args) or {}
        self._fs_open_args_load: dict[str, Any] = _fs_args.pop("open_args_load", {})
        if "open_args_save" in _fs_args:
            # A streamed write would let a failed upload leave a partial object behind.
            raise DatasetError(
                f"ManifestDataset '{filepath}': 'open_args_save' is not supported; "
                "manifests are always written whole. Put S3 upload options in "
                "fs_args.s3_additional_kwargs instead."
            )
        _credentials = deepcopy(credentials) or {}

        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        if protocol == "file":
            _fs_args.setdefault("auto_mkdir", True)
        self._fs = fsspec.filesystem(self._protocol, **_credentials, **_fs_args)

        self.metadata = metadata

        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "version": self._version,
        }

    def load(self) -> list[dict]:
        return parse_manifest(*self._read())

    def _read(self) -> tuple[bytes, str]:
        """The file's bytes and the path to name it by in errors."""
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, **{**self._fs_open_args_load, "mode": "rb"}) as fs_file:
            return fs_file.read(), self._display_path(load_path)

    def save(self, data: list[dict]) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        # Serialise everything before touching the target, so bad data never replaces a good file.
        payload = serialise_manifest(data, self._display_path(save_path))

        if isinstance(self._fs, LocalFileSystem):
            replace_file_atomically(save_path, payload)
        else:
            # pipe_file is one PUT (or a multipart upload aborted on failure): the object
            # store shows the old object or the new one, never a partial one.
            self._fs.pipe_file(save_path, payload)

        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False

        return self._fs.exists(load_path)

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        """Invalidate underlying filesystem caches."""
        filepath = get_filepath_str(self._filepath, self._protocol)
        self._fs.invalidate_cache(filepath)

    def _display_path(self, path: str) -> str:
        if self._protocol == "file" or "://" in path:
            return path
        return f"{self._protocol}://{path}"
