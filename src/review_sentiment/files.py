"""The catalog's local files: written whole or not at all, for every write the project makes (its
own datasets through `ReplacingFile`, kedro-datasets' file datasets through fsspec's "file"
protocol: `use_replacing_local_files`); the temporary files a killed writer leaves behind; and
the catalog (`ProjectDataCatalog`) whose loads stop on a file that cannot be read (cut off,
empty, from another version) with one line naming it and what to do.

Light to import: settings.py imports it for every `kedro` command.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import pickle
import re
import secrets
import shlex
import stat
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from kedro.io import DataCatalog
from kedro.io.core import DatasetError, get_filepath_str, get_protocol_and_path

logger = logging.getLogger(__name__)

# `.<name>.<pid>.<random>.tmp`: the PID tells a killed writer's file from a live one's.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{16}\.tmp$")
# Written before temporary names carried the PID: `.<name>.<random>.tmp`.
_OLD_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{16}\.tmp$")
# A writer keeps its temporary file's mtime fresh; one untouched this long was abandoned.
_OLD_TEMP_ABANDONED_AFTER_S = 3600.0


def temp_path(target: str) -> str:
    """Where a new version of `target` is written before it replaces it: beside it (a rename
    within one folder is atomic), hidden, named after it and the writer's PID."""
    directory, name = os.path.split(target)
    return os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")


class ReplacingFile(io.BufferedWriter):
    """A binary file that replaces `path` when closed: written to `temp_path(path)`, flushed to
    disk, given the old file's mode and renamed over it, then the folder flushed too.

    `discard()`, or an exception out of a `with` block, removes the temporary file and leaves the
    old file (or none); so does a failed close. A kill leaves the old file and a temporary file,
    which `remove_leftover_temp_files` removes later. Closing without an exception (also when
    the file is garbage-collected, as Python's own files do) commits.
    """

    def __init__(self, path: str | os.PathLike, *, make_dirs: bool = True) -> None:
        # Write through symlinks like a plain open would, and keep the rename in one folder.
        self.target = os.path.realpath(path)
        directory = os.path.dirname(self.target)
        if make_dirs:
            os.makedirs(directory, exist_ok=True)
        self.temp = temp_path(self.target)
        # "xb" honours the umask like a plain open (mkstemp would force 0o600).
        super().__init__(io.FileIO(self.temp, "xb"))

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.flush()
            os.fsync(self.raw.fileno())
            super().close()
            with contextlib.suppress(FileNotFoundError):
                os.chmod(self.temp, stat.S_IMODE(os.stat(self.target).st_mode))
            os.replace(self.temp, self.target)
        except BaseException:
            self._remove_temp()
            raise
        _fsync_directory(os.path.dirname(self.target))

    def discard(self) -> None:
        """Closes without replacing the target; the temporary file is removed."""
        if not self.closed:
            self._remove_temp()

    def _remove_temp(self) -> None:
        with contextlib.suppress(Exception):
            super().close()  # may fail flushing (disk full): the bytes are not wanted anyway
        self.raw.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


class _ReplacingText(io.TextIOWrapper):
    """Text over a `ReplacingFile`: an exception out of the `with` block, or writing the last
    buffered text, discards it (a plain TextIOWrapper would close, and so commit, the
    half-written file)."""

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.flush()
        except BaseException:
            self.buffer.discard()
            raise
        super().close()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.buffer.discard()  # the wrapper then reports closed; its pending text is dropped


def replace_file_atomically(path: str | os.PathLike, payload: bytes) -> None:
    """Writes `payload` to a temporary file next to `path` and renames it over `path`."""
    with ReplacingFile(path) as output:
        output.write(payload)


def _fsync_directory(directory: str) -> None:
    """Makes the rename itself durable; not possible on every platform (e.g. Windows)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _replaces(mode: str, autocommit: bool) -> bool:
    """Whether an open in `mode` writes a whole new file (not append, update or exclusive create);
    inside an fsspec transaction (`autocommit` false) fsspec's own temporary file does that."""
    return autocommit and mode in ("w", "wt", "wb")


class ReplacingLocalFileSystem(LocalFileSystem):
    """fsspec's local filesystem, whose whole-file writes are `ReplacingFile`s.

    kedro-datasets' file datasets (JSON, pickle, pandas CSV and JSON, matplotlib, text) write
    with `self._fs.open(path, "w" or "wb")` on `fsspec.filesystem("file")`: registered under
    "file" and "local", this class makes each of those saves whole-or-nothing. Reads, appends and
    everything else are fsspec's, and so are writes through fsspec's `compression=` (its
    compressor never closes the file it writes into, so no close would say "complete").
    """

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, **kwargs: Any) -> Any:
        in_place = kwargs.pop("_in_place", False)
        if in_place or not _replaces(mode, kwargs.get("autocommit", True)):
            return super()._open(path, mode=mode, block_size=block_size, **kwargs)
        return ReplacingFile(self._strip_protocol(path), make_dirs=self.auto_mkdir)

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if kwargs.get("compression") is not None:
            return super().open(path, mode, **{**kwargs, "_in_place": True})
        if "b" in mode or not _replaces(mode, kwargs.get("autocommit", not self._intrans)):
            return super().open(path, mode, **kwargs)
        # fsspec wraps the binary file in a plain TextIOWrapper: the same, discarding on error.
        text = {key: kwargs.pop(key) for key in ("encoding", "errors", "newline") if key in kwargs}
        return _ReplacingText(self.open(path, "wb", **kwargs), **text)


def use_replacing_local_files() -> None:
    """Makes `fsspec.filesystem("file")` (and "local") a `ReplacingLocalFileSystem`, for every
    dataset created from now on. fsspec caches instances per class, so no instance of the plain
    class made earlier is handed out again."""
    for protocol in ReplacingLocalFileSystem.protocol:
        fsspec.register_implementation(protocol, ReplacingLocalFileSystem, clobber=True)


# --- temporary files left behind --------------------------------------------------------------


def remove_leftover_temp_files(folders: Iterable[tuple[Path, bool]]) -> list[Path]:
    """Removes, from each `(folder, recursive)`, the temporary files of writers that are gone
    (their PID is no live process), so a live writer's, e.g. another run's, stays. Returns them."""
    removed = []
    for folder, recursive in sorted(set(folders)):
        for path in _candidates(folder, recursive):
            if _abandoned(path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed


def _candidates(folder: Path, recursive: bool) -> Iterable[Path]:
    if not folder.is_dir():
        return []
    paths = folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")
    return [path for path in paths if path.is_file()]


def _abandoned(path: Path) -> bool:
    match = _TEMP_NAME.match(path.name)
    if match is not None:
        return not _is_running(int(match["pid"]))
    if _OLD_TEMP_NAME.match(path.name) is not None:
        with contextlib.suppress(FileNotFoundError):
            return time.time() - path.stat().st_mtime > _OLD_TEMP_ABANDONED_AFTER_S
    return False


def _is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:
        return False
    return True


def catalog_folders(
    conf_catalog: Mapping[str, Any], root: Path | None = None
) -> list[tuple[Path, bool]]:
    """The local folders the catalog's file datasets write into, each with whether to look into
    its subfolders (a partitioned or versioned dataset's): from the catalog's configuration,
    so no dataset class is imported. Relative paths are taken from `root` (by default the
    working directory, as datasets take them)."""
    folders = []
    for entry in conf_catalog.values():
        folders.extend(_entry_folders(entry, root or Path.cwd()))
    return sorted(set(folders))


def _entry_folders(entry: Any, root: Path) -> list[tuple[Path, bool]]:
    if not isinstance(entry, Mapping):
        return []
    found = []
    for key, recursive in (("filepath", bool(entry.get("versioned"))), ("path", True)):
        location = entry.get(key)
        if not isinstance(location, str | os.PathLike):
            continue
        protocol, _, path = str(location).rpartition("://")
        if protocol not in ("", "file", "local"):
            continue
        folder = Path(path) if recursive else Path(path).parent
        # A pattern's placeholder in the folder itself: its literal part.
        while "{" in str(folder):
            folder, recursive = folder.parent, True
        found.append((root / folder, recursive))
    found.extend(_entry_folders(entry.get("dataset"), root))
    return found


# --- files whose content cannot be read -------------------------------------------------------


class CorruptFileError(DatasetError):
    """A file a run reads is cut off, empty, or not in its format: the message names it, what is
    wrong and what to do, in one line (`kedro run` prints it alone, see `cli.py`)."""


def content_problem(
    error: BaseException, *, size: int | None = None, kind: str | None = None
) -> str | None:
    """What is wrong with a file's content, from the error its reader raised (anywhere in the
    chain), e.g. "is not valid JSON (cut off at line 1, column 16384)", "is empty (0 bytes)";
    None when the error is not about the content (a missing file, a permission).

    Args:
        size: the file's size in bytes, if known: a failed read of an empty file is "is empty".
        kind: "pickle" or "json" when the reader only parses the file (an unpickler, pandas'
            JSON reader): then any error but a missing file is about the content; a pickled
            class that moved since shows as a ModuleNotFoundError, pandas' JSON errors as plain
            ValueErrors.
    """
    chain = _chain(error)
    if any(isinstance(e, FileNotFoundError | PermissionError | IsADirectoryError) for e in chain):
        return None
    if any(isinstance(e, DatasetError) and type(e) is not DatasetError for e in chain):
        return None  # the dataset's own error says it better (ManifestError names the line)
    if size == 0:
        return "is empty (0 bytes)"
    for cause in chain:
        if isinstance(cause, json.JSONDecodeError):
            return _json_problem(cause)
        if isinstance(cause, UnicodeDecodeError):
            byte = cause.object[cause.start]
            return f"is not valid UTF-8 (byte 0x{byte:02x} at offset {cause.start})"
        if type(cause).__name__ in ("EmptyDataError", "ParserError") and _from_pandas(cause):
            return f"is not valid CSV ({_first_line(cause)})"
    cause = next((e for e in chain if not isinstance(e, DatasetError)), None)
    if cause is None:
        return None
    if kind == "pickle" or isinstance(cause, pickle.UnpicklingError):
        return f"is not a readable pickle ({type(cause).__name__}: {_first_line(cause)})"
    if kind == "json" and isinstance(cause, ValueError):
        return f"is not valid JSON ({_first_line(cause)})"
    return None


def _json_problem(error: json.JSONDecodeError) -> str:
    doc = error.doc
    if not doc.strip():
        return "is empty (only blanks)"
    end = len(doc.rstrip())
    if error.pos >= end or error.msg.startswith("Unterminated string"):
        lines = doc[:end].split("\n")
        return f"is not valid JSON (cut off at line {len(lines)}, column {len(lines[-1])})"
    return f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"


def _chain(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def _from_pandas(error: BaseException) -> bool:
    return type(error).__module__.startswith("pandas")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0]


class ProjectDataCatalog(DataCatalog):
    """Kedro's `DataCatalog`, raising `CorruptFileError` for a file whose content cannot be read.

    The catalog of `kedro run` (settings.DATA_CATALOG_CLASS); `context.catalog` (notebooks,
    `kedro catalog`) stays Kedro's own.
    """

    def load(self, ds_name: str, version: str | None = None) -> Any:
        try:
            return super().load(ds_name, version)
        except DatasetError as error:
            corrupt = corrupt_file_error(ds_name, self.get(ds_name), error, self)
            if corrupt is None:
                raise
            raise corrupt from error


def corrupt_file_error(
    name: str, dataset: Any, error: BaseException, catalog: DataCatalog | None = None
) -> CorruptFileError | None:
    """The one-line error for `error`, raised loading `dataset` (catalog entry `name`), when it
    is about the file's content; else None.

    `catalog` finds the pipelines that write the file (under any entry name), for the advice
    "delete it and run `kedro run --pipelines …` again"; a dataset with a previous version
    (`keep_previous`) is restored from it instead.
    """
    file = _file_of(dataset)
    if file is None:
        return None
    fs, path = file
    try:
        size = fs.size(path)
    except Exception:  # noqa: BLE001 - whatever the store says, the reader's error still stands
        size = None
    problem = content_problem(error, size=size, kind=_kind(dataset))
    if problem is None:
        return None
    where = _display(dataset, path)
    previous = getattr(dataset, "previous_path", None)
    rebuild = _rebuild_command(name, dataset, catalog)
    if previous is not None and fs.exists(previous):
        copy = "cp" if _is_local(dataset) else "aws s3 cp"
        restore = f"{copy} {shlex.quote(_display(dataset, previous))} {shlex.quote(where)}"
        advice = (
            f"restore its previous version with `{restore}`, or delete it and run "
            f"{rebuild or 'the pipeline that writes it'} again to start a new one on purpose"
        )
    elif rebuild:
        advice = f"delete it and run {rebuild} again to rebuild it"
    elif rebuild == "":
        advice = "replace it with a good copy (no pipeline writes it)"
    else:
        advice = "delete it, or replace it with a good copy"
    return CorruptFileError(f"{where} {problem}: {advice}")


def _file_of(dataset: Any) -> tuple[Any, str] | None:
    """The filesystem and path a file dataset loads from, or None for anything else."""
    for _ in range(3):  # CachedDataset and the like wrap the file dataset
        fs = getattr(dataset, "_fs", None)
        if fs is not None and getattr(dataset, "_filepath", None) is not None:
            protocol = getattr(dataset, "_protocol", "file")
            try:
                load_path = dataset._get_load_path()
            except (AttributeError, DatasetError):
                load_path = dataset._filepath
            return fs, get_filepath_str(load_path, protocol)
        dataset = getattr(dataset, "_dataset", None)
    return None


def _kind(dataset: Any) -> str | None:
    modules = {f"{cls.__module__}.{cls.__name__}" for cls in type(dataset).__mro__}
    if "kedro_datasets.pickle.pickle_dataset.PickleDataset" in modules:
        return "pickle"
    if "kedro_datasets.pandas.json_dataset.JSONDataset" in modules:
        return "json"
    return None


def _is_local(dataset: Any) -> bool:
    return getattr(dataset, "_protocol", "file") in ("file", "local")


def _display(dataset: Any, path: str) -> str:
    """`path` as a user would type it: relative to the working directory when inside it."""
    if not _is_local(dataset):
        return f"{dataset._protocol}://{path}"
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


def _rebuild_command(name: str, dataset: Any, catalog: DataCatalog | None) -> str | None:
    """"`kedro run --pipelines X`" for the pipelines that write the file `name` loads from (and
    "(or `--pipelines Y`)" for each other one); "" when no pipeline of the project writes it,
    None outside a project (a bare catalog)."""
    names = {name, *(_entries_with_same_file(dataset, catalog) if catalog is not None else ())}
    try:
        from kedro.framework.project import pipelines

        # `kedro run --pipelines X` loads X alone; the writer may be another (Kedro does the
        # same to suggest names for a misspelt pipeline).
        pipelines.set_requested(None)
        registered = dict(pipelines.items())
    except Exception:  # noqa: BLE001 - a broken registry: no advice, the same error
        registered = {}
    if not registered:
        return None
    writers = sorted(
        pipeline_name
        for pipeline_name, pipeline in registered.items()
        if pipeline_name != "__default__" and names & pipeline.all_outputs()
    )
    if not writers:
        return ""
    others = "".join(f" (or `--pipelines {other}`)" for other in writers[1:])
    return f"`kedro run --pipelines {writers[0]}`{others}"


def _entries_with_same_file(dataset: Any, catalog: DataCatalog) -> set[str]:
    """Other catalog entries on the same file (`frozen_test_set_before` is read, `frozen_test_set`
    written), from the configuration, so nothing else is instantiated."""
    filepath = str(getattr(dataset, "_filepath", ""))
    config = getattr(getattr(catalog, "config_resolver", None), "config", None) or {}
    return {
        entry
        for entry, conf in config.items()
        if isinstance(conf, dict)
        and isinstance(conf.get("filepath"), str)
        and get_protocol_and_path(conf["filepath"])[1] == filepath
    }
