"""Manifest files: JSON Lines bytes to dicts and back, with errors that name the file and line.

Ground Truth reads UTF-8 JSON Lines, one object per line, `\\n` or `\\r\\n` separated. A byte-order
mark, CRLF line ends and blank lines at the end are accepted on reading; writing gives plain
`\\n`-terminated UTF-8 with no BOM. `read_line` is the one check of a line's text: the manifest
dataset, the labeling app and the Spark reader all call it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from kedro.io.core import DatasetError

from review_sentiment.ground_truth.limits import json_line, limit_problem
from review_sentiment.ground_truth.records import LineProblem, shown, type_name

BOM = "\ufeff"


class ManifestError(DatasetError, ValueError):
    """A manifest line that breaks the format, or an element that cannot be saved.

    Also a ``DatasetError`` so that Kedro passes it through unchanged instead of
    wrapping it in a generic "Failed while loading data" error.
    """

    @classmethod
    def at(cls, path: str, line: int, problem: LineProblem | str) -> ManifestError:
        """`line N of <path>: <field>: <what>`, the one shape of a bad line's error."""
        return cls(f"line {line} of {path}: {problem}")


def split_lines(content: bytes) -> Iterator[tuple[int, bytes]]:
    """Numbered lines of a file, as Spark's text source numbers them.

    A BOM at the start is dropped. Lines end at `\\n`, `\\r\\n` or a lone `\\r` (Hadoop's line
    reader does the same, so both readers count lines alike). Blank lines at the end are dropped.
    """
    if content.startswith(BOM.encode("utf-8")):
        content = content[len(BOM.encode("utf-8")) :]
    lines = content.splitlines()  # bytes.splitlines breaks at \n, \r\n and \r only
    while lines and is_blank(lines[-1]):
        lines.pop()
    return enumerate(lines, start=1)


def is_blank(line: bytes | str) -> bool:
    """Only spaces and tabs: JSON whitespace that is not a line break."""
    return not line.strip(b" \t" if isinstance(line, bytes) else " \t")


def decode_line(raw: bytes) -> str:
    """The text of one line, or `LineProblem` naming the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineProblem(
            f"encoding: not valid UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1}: "
            f"{exc.reason})"
        ) from None


def read_line(text: str) -> dict:
    """The JSON object on one line, or `LineProblem`: blank, not JSON, a key twice in one object
    (at any depth), not an object, too long."""
    if is_blank(text):
        raise LineProblem("json: blank line (only the end of a file may be blank)")
    try:
        if text.startswith(BOM):
            # what json.loads says; the decoder's own decode does not look
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise LineProblem(f"json: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except LineProblem:
        raise
    except (ValueError, RecursionError) as exc:
        # ValueError: NaN/Infinity, an overflowing number, an integer of over 4,300 digits.
        raise LineProblem(f"json: not valid JSON ({_first_sentence(exc)})") from None
    if not isinstance(value, dict):
        raise LineProblem(f"json: expected a JSON object, got {type_name(value)}")
    problem = limit_problem(value, text)
    if problem:
        raise LineProblem(problem)
    return value


def iter_manifest(content: bytes) -> Iterator[tuple[int, dict | LineProblem]]:
    """Each numbered line of a manifest as its object, or the `LineProblem` that stops it."""
    for number, raw in split_lines(content):
        try:
            yield number, read_line(decode_line(raw))
        except LineProblem as problem:
            yield number, problem


def parse_manifest(content: bytes, path: str) -> list[dict]:
    """Decodes JSON Lines bytes into dicts, or raises ``ManifestError`` naming the bad line."""
    lines = []
    for number, value in iter_manifest(content):
        if isinstance(value, LineProblem):
            raise ManifestError.at(path, number, value)
        lines.append(value)
    return lines


def serialise_manifest(lines: list[dict], path: str) -> bytes:
    """Encodes ``lines`` as UTF-8 JSON Lines, or raises ``ManifestError`` naming the bad element."""
    if not isinstance(lines, list | tuple):
        raise ManifestError(
            f"cannot save {type(lines).__name__} to {path}: expected a list of dicts"
        )
    encoded = []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ManifestError(
                f"element {index} of the manifest for {path}: "
                f"expected a dict, got {type_name(line)}"
            )
        try:
            encoded.append(json_line(line).encode("utf-8"))
        except (TypeError, ValueError) as exc:
            raise ManifestError(
                f"element {index} of the manifest for {path}: not serialisable as JSON ({exc})"
            ) from exc
    return b"".join(line + b"\n" for line in encoded)


def manifest_fingerprint(lines: list[dict]) -> str:
    """A short SHA-256 of the manifest's content as this project writes it: the same lines give the
    same fingerprint whatever file they were read from (BOM, CRLF or key spacing aside)."""
    return hashlib.sha256(serialise_manifest(lines, "the manifest")).hexdigest()[:16]


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    # json keeps the last of two equal keys without a word: Ground Truth, another reader or a
    # hand edit may keep the first, so such a line has no one meaning.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise LineProblem(f"json: duplicate key {shown(key)}")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _first_sentence(exc: BaseException) -> str:
    return str(exc).split(";")[0].split("\n")[0] or type(exc).__name__


class _LineDecoder(json.JSONDecoder):
    """The decoder of every line, built once: `json.loads` with options builds one per call."""

    def __init__(self) -> None:
        super().__init__(
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )

    def __reduce__(self) -> tuple[type, tuple]:
        # Its C scanner cannot be pickled, and the Spark reader ships this module by value.
        return type(self), ()


_DECODER = _LineDecoder()
