"""Manifest files: JSON Lines bytes to dicts and back, with errors that name the file and line.

Ground Truth reads UTF-8 JSON Lines, one object per line, `\n` or `\r\n` separated. A byte-order
mark, CRLF line ends and blank lines at the end are accepted on reading; writing gives plain
`\n`-terminated UTF-8 with no BOM.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kedro.io.core import DatasetError


class ManifestError(DatasetError, ValueError):
    """A manifest line or an element to save is not a JSON object.

    Also a ``DatasetError`` so that Kedro passes it through unchanged instead of
    wrapping it in a generic "Failed while loading data" error.
    """


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
                f"expected a dict, got {_type_name(line)}"
            )
        try:
            # allow_nan=False: NaN/Infinity are not JSON and Ground Truth rejects them.
            text = json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            encoded.append(text.encode("utf-8"))
        except (TypeError, ValueError) as exc:
            raise ManifestError(
                f"element {index} of the manifest for {path}: not serialisable as JSON ({exc})"
            ) from exc
    return b"".join(line + b"\n" for line in encoded)


def parse_manifest(content: bytes, path: str) -> list[dict]:
    """Decodes JSON Lines bytes into dicts, or raises ``ManifestError`` naming the bad line."""
    raw_lines = content.split(b"\n")
    # Blank lines at the end of the file (including the final newline) carry nothing.
    while raw_lines and not raw_lines[-1].strip():
        raw_lines.pop()

    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ManifestError(f"line {number} of {path}: not valid UTF-8 ({exc})") from exc
        if not text.strip():
            raise ManifestError(
                f"line {number} of {path}: blank line (only the end of the file may be blank)"
            )
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise ManifestError(
                f"line {number} of {path}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        except ValueError as exc:
            raise ManifestError(f"line {number} of {path}: not valid JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise ManifestError(
                f"line {number} of {path}: expected a JSON object, got {_type_name(value)}"
            )
        lines.append(value)
    return lines


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__




def manifest_fingerprint(lines: list[dict]) -> str:
    """A short SHA-256 of the manifest's content as this project writes it: the same lines give the
    same fingerprint whatever file they were read from (BOM, CRLF or key spacing aside)."""
    return hashlib.sha256(serialise_manifest(lines, "the manifest")).hexdigest()[:16]
